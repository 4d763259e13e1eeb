//! SkuService: create or update products in a warehouse.

use tonic::{Request, Response, Status};

use super::{FacadeApi, status};
use crate::{
    domain::SkuInfo,
    proto::{self, sku_service_server::SkuService},
};

#[tonic::async_trait]
impl SkuService for FacadeApi {
    async fn upsert_sku(
        &self,
        request: Request<proto::UpsertSkuRequest>,
    ) -> Result<Response<proto::UpsertSkuResponse>, Status> {
        let (tenant, ctx) = self.begin(&request).map_err(status)?;
        let sku = SkuInfo::try_from(request.into_inner()).map_err(|err| status(err.into()))?;
        let upserted = tenant
            .backend
            .upsert_sku(&ctx, &sku)
            .await
            .map_err(|err| status(err.into()))?;
        Ok(Response::new(proto::UpsertSkuResponse {
            sku: upserted.sku,
            operation: upserted.operation,
        }))
    }
}
