//! WarehouseService: warehouses and logistics channels.

use tonic::Request;

use super::{FacadeApi, convert, error::Answer};
use crate::proto::{
    ListChannelsRequest, ListChannelsResponse, ListWarehousesRequest, ListWarehousesResponse,
    warehouse_service_server::WarehouseService,
};

#[tonic::async_trait]
impl WarehouseService for FacadeApi {
    async fn list_warehouses(
        &self,
        request: Request<ListWarehousesRequest>,
    ) -> Answer<ListWarehousesResponse> {
        self.unary(request, async |tenant, ctx, _| {
            let warehouses = tenant.backend.list_warehouses(ctx).await?;
            Ok(ListWarehousesResponse {
                warehouses: warehouses.into_iter().map(Into::into).collect(),
            })
        })
        .await
    }

    async fn list_channels(
        &self,
        request: Request<ListChannelsRequest>,
    ) -> Answer<ListChannelsResponse> {
        self.unary(request, async |tenant, ctx, request| {
            let warehouse = convert::channels_warehouse(request)?;
            let channels = tenant.backend.list_channels(ctx, &warehouse).await?;
            Ok(ListChannelsResponse {
                channels: channels.into_iter().map(Into::into).collect(),
            })
        })
        .await
    }
}
