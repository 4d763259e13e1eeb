//! OrderService: create, cancel and follow outbound orders.

use tonic::{Request, Response, Status};

use super::{FacadeApi, convert, events, receives_pushes, status};
use crate::{
    domain::NewOrder,
    proto::{self, order_service_server::OrderService},
};

#[tonic::async_trait]
impl OrderService for FacadeApi {
    async fn create_order(
        &self,
        request: Request<proto::CreateOrderRequest>,
    ) -> Result<Response<proto::CreateOrderResponse>, Status> {
        let (tenant, ctx) = self.begin(&request).map_err(status)?;
        let order = NewOrder::try_from(request.into_inner()).map_err(|err| status(err.into()))?;
        let created = self.create(&tenant, order, &ctx).await?;
        Ok(Response::new(proto::CreateOrderResponse {
            warehouse_order_number: created.warehouse_order_number,
            order_number: created.order_number,
        }))
    }

    async fn cancel_orders(
        &self,
        request: Request<proto::CancelOrdersRequest>,
    ) -> Result<Response<proto::CancelOrdersResponse>, Status> {
        let (tenant, ctx) = self.begin(&request).map_err(status)?;
        let batch =
            convert::Batch::try_from(request.into_inner()).map_err(|err| status(err.into()))?;
        let outcomes = tenant
            .backend
            .cancel_orders(&ctx, &batch.warehouse_code, &batch.items)
            .await
            .map_err(|err| status(err.into()))?;
        Ok(Response::new(proto::CancelOrdersResponse {
            results: outcomes.into_iter().map(Into::into).collect(),
        }))
    }

    async fn get_orders(
        &self,
        request: Request<proto::GetOrdersRequest>,
    ) -> Result<Response<proto::GetOrdersResponse>, Status> {
        let (tenant, ctx) = self.begin(&request).map_err(status)?;
        let batch =
            convert::Batch::try_from(request.into_inner()).map_err(|err| status(err.into()))?;
        let states = tenant
            .backend
            .get_orders(&ctx, &batch.warehouse_code, &batch.items)
            .await
            .map_err(|err| status(err.into()))?;
        Ok(Response::new(proto::GetOrdersResponse {
            orders: states.into_iter().map(Into::into).collect(),
        }))
    }

    type WatchOrderEventsStream = events::EventStream<proto::WatchOrderEventsResponse>;

    async fn watch_order_events(
        &self,
        request: Request<proto::WatchOrderEventsRequest>,
    ) -> Result<Response<Self::WatchOrderEventsStream>, Status> {
        let tenant = self.tenant(&request).map_err(status)?;
        receives_pushes(&tenant)?;
        let after = request.into_inner().after_event_id;
        let stream = events::follow(
            self.store.clone(),
            &self.watches,
            tenant.id.clone(),
            after,
            events::order_event,
        )
        .await?;
        Ok(Response::new(stream))
    }
}
