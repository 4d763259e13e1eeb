//! AsnService: create, follow and cancel inbound (ASN) orders.

use tonic::{Request, Response};

use super::{
    FacadeApi, convert,
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
        self.unary(request, async |tenant, ctx, request| {
            let batch = convert::Batch::try_from(request)?;
            let states = tenant
                .backend
                .get_asns(ctx, &batch.warehouse_code, &batch.items)
                .await?;
            Ok(GetAsnsResponse {
                asns: states.into_iter().map(Into::into).collect(),
            })
        })
        .await
    }

    async fn cancel_asns(&self, request: Request<CancelAsnsRequest>) -> Answer<CancelAsnsResponse> {
        self.unary(request, async |tenant, ctx, request| {
            let batch = convert::Batch::try_from(request)?;
            let outcomes = tenant
                .backend
                .cancel_asns(ctx, &batch.warehouse_code, &batch.items)
                .await?;
            Ok(CancelAsnsResponse {
                results: outcomes.into_iter().map(Into::into).collect(),
            })
        })
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
