//! OrderService: create, cancel and follow outbound orders.

use tonic::{Request, Response};

use super::{
    FacadeApi,
    error::{Answer, failed},
    events, status,
};
use crate::{
    domain::NewOrder,
    proto::{
        CancelOrdersRequest, CancelOrdersResponse, CreateOrderRequest, CreateOrderResponse,
        GetOrdersRequest, GetOrdersResponse, WatchOrderEventsRequest, WatchOrderEventsResponse,
        order_service_server::OrderService,
    },
};

#[tonic::async_trait]
impl OrderService for FacadeApi {
    async fn create_order(
        &self,
        request: Request<CreateOrderRequest>,
    ) -> Answer<CreateOrderResponse> {
        let (tenant, ctx) = self.begin(&request).map_err(status)?;
        let order = NewOrder::try_from(request.into_inner()).map_err(failed)?;
        let created = self.create(&tenant, order, &ctx).await?;
        Ok(Response::new(CreateOrderResponse {
            warehouse_order_number: created.warehouse_order_number,
            order_number: created.order_number,
        }))
    }

    async fn cancel_orders(
        &self,
        request: Request<CancelOrdersRequest>,
    ) -> Answer<CancelOrdersResponse> {
        self.batch(
            request,
            |backend, ctx, warehouse, items| backend.cancel_orders(ctx, warehouse, items),
            |results| CancelOrdersResponse { results },
        )
        .await
    }

    async fn get_orders(&self, request: Request<GetOrdersRequest>) -> Answer<GetOrdersResponse> {
        self.batch(
            request,
            |backend, ctx, warehouse, items| backend.get_orders(ctx, warehouse, items),
            |orders| GetOrdersResponse { orders },
        )
        .await
    }

    type WatchOrderEventsStream = events::EventStream<WatchOrderEventsResponse>;

    async fn watch_order_events(
        &self,
        request: Request<WatchOrderEventsRequest>,
    ) -> Answer<Self::WatchOrderEventsStream> {
        let tenant = self.tenant(&request).map_err(status)?;
        let after = request.into_inner().after_event_id;
        self.follow_events(&tenant, after, events::order_event)
            .await
    }
}
