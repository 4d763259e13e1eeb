//! AsnService: create, follow and cancel inbound (ASN) orders.

use tonic::{Request, Response, Status};

use super::{FacadeApi, convert, events, receives_pushes, status};
use crate::{
    domain::NewAsn,
    proto::{self, asn_service_server::AsnService},
};

#[tonic::async_trait]
impl AsnService for FacadeApi {
    async fn create_asn(
        &self,
        request: Request<proto::CreateAsnRequest>,
    ) -> Result<Response<proto::CreateAsnResponse>, Status> {
        let (tenant, ctx) = self.begin(&request).map_err(status)?;
        let asn = NewAsn::try_from(request.into_inner()).map_err(|err| status(err.into()))?;
        let created = self.create(&tenant, asn, &ctx).await?;
        Ok(Response::new(proto::CreateAsnResponse {
            asn_number: created.asn_number,
            wms_asn_number: created.wms_asn_number,
        }))
    }

    async fn get_asns(
        &self,
        request: Request<proto::GetAsnsRequest>,
    ) -> Result<Response<proto::GetAsnsResponse>, Status> {
        let (tenant, ctx) = self.begin(&request).map_err(status)?;
        let batch =
            convert::Batch::try_from(request.into_inner()).map_err(|err| status(err.into()))?;
        let states = tenant
            .backend
            .get_asns(&ctx, &batch.warehouse_code, &batch.items)
            .await
            .map_err(|err| status(err.into()))?;
        Ok(Response::new(proto::GetAsnsResponse {
            asns: states.into_iter().map(Into::into).collect(),
        }))
    }

    async fn cancel_asns(
        &self,
        request: Request<proto::CancelAsnsRequest>,
    ) -> Result<Response<proto::CancelAsnsResponse>, Status> {
        let (tenant, ctx) = self.begin(&request).map_err(status)?;
        let batch =
            convert::Batch::try_from(request.into_inner()).map_err(|err| status(err.into()))?;
        let outcomes = tenant
            .backend
            .cancel_asns(&ctx, &batch.warehouse_code, &batch.items)
            .await
            .map_err(|err| status(err.into()))?;
        Ok(Response::new(proto::CancelAsnsResponse {
            results: outcomes.into_iter().map(Into::into).collect(),
        }))
    }

    type WatchAsnEventsStream = events::EventStream<proto::WatchAsnEventsResponse>;

    async fn watch_asn_events(
        &self,
        request: Request<proto::WatchAsnEventsRequest>,
    ) -> Result<Response<Self::WatchAsnEventsStream>, Status> {
        let tenant = self.tenant(&request).map_err(status)?;
        receives_pushes(&tenant)?;
        let after = request.into_inner().after_event_id;
        let stream = events::follow(
            self.store.clone(),
            &self.watches,
            tenant.id.clone(),
            after,
            events::asn_event,
        )
        .await?;
        Ok(Response::new(stream))
    }
}
