//! SkuService: create or update products in a warehouse.

use tonic::Request;

use super::{FacadeApi, error::Answer};
use crate::{
    domain::SkuInfo,
    proto::{UpsertSkuRequest, UpsertSkuResponse, sku_service_server::SkuService},
};

#[tonic::async_trait]
impl SkuService for FacadeApi {
    async fn upsert_sku(&self, request: Request<UpsertSkuRequest>) -> Answer<UpsertSkuResponse> {
        self.unary(request, async |tenant, ctx, request| {
            let sku = SkuInfo::try_from(request)?;
            let upserted = tenant.backend.upsert_sku(ctx, &sku).await?;
            Ok(UpsertSkuResponse {
                sku: upserted.sku,
                operation: upserted.operation,
            })
        })
        .await
    }
}
