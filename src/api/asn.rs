//! AsnService: create, follow and cancel inbound (ASN) orders.

use tonic::{Request, Response};

use super::{
    FacadeApi,
    error::{Answer, failed},
    events, status,
};
use crate::{
    domain::NewAsn,
    proto::{
        CancelAsnsRequest, CancelAsnsResponse, CreateAsnRequest, CreateAsnResponse, GetAsnsRequest,
        GetAsnsResponse, WatchAsnEventsRequest, WatchAsnEventsResponse,
        asn_service_server::AsnService,
    },
};

#[tonic::async_trait]
impl AsnService for FacadeApi {
    async fn create_asn(&self, request: Request<CreateAsnRequest>) -> Answer<CreateAsnResponse> {
        let (tenant, ctx) = self.begin(&request).map_err(status)?;
        let asn = NewAsn::try_from(request.into_inner()).map_err(failed)?;
        let created = self.create(&tenant, asn, &ctx).await?;
        Ok(Response::new(CreateAsnResponse {
            asn_number: created.asn_number,
            wms_asn_number: created.wms_asn_number,
        }))
    }

    async fn get_asns(&self, request: Request<GetAsnsRequest>) -> Answer<GetAsnsResponse> {
        self.batch(
            request,
            |backend, ctx, warehouse, items| backend.get_asns(ctx, warehouse, items),
            |asns| GetAsnsResponse { asns },
        )
        .await
    }

    async fn cancel_asns(&self, request: Request<CancelAsnsRequest>) -> Answer<CancelAsnsResponse> {
        self.batch(
            request,
            |backend, ctx, warehouse, items| backend.cancel_asns(ctx, warehouse, items),
            |results| CancelAsnsResponse { results },
        )
        .await
    }

    type WatchAsnEventsStream = events::EventStream<WatchAsnEventsResponse>;

    async fn watch_asn_events(
        &self,
        request: Request<WatchAsnEventsRequest>,
    ) -> Answer<Self::WatchAsnEventsStream> {
        let tenant = self.tenant(&request).map_err(status)?;
        let after = request.into_inner().after_event_id;
        self.follow_events(&tenant, after, events::asn_event).await
    }
}
