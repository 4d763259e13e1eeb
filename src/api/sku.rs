//! SkuService: create or update products in a warehouse.

use tonic::{Request, Response};

use super::{
    FacadeApi,
    error::{Answer, failed},
    status,
};
use crate::{
    domain::SkuInfo,
    proto::{UpsertSkuRequest, UpsertSkuResponse, sku_service_server::SkuService},
};

#[tonic::async_trait]
impl SkuService for FacadeApi {
    async fn upsert_sku(&self, request: Request<UpsertSkuRequest>) -> Answer<UpsertSkuResponse> {
        let (tenant, ctx) = self.begin(&request).map_err(status)?;
        let sku = SkuInfo::try_from(request.into_inner()).map_err(failed)?;
        let upserted = tenant
            .backend
            .upsert_sku(&ctx, &sku)
            .await
            .map_err(failed)?;
        Ok(Response::new(UpsertSkuResponse {
            sku: upserted.sku,
            operation: upserted.operation,
        }))
    }
}
