//! WarehouseService: warehouses and logistics channels.

use tonic::{Request, Response};

use super::{
    FacadeApi,
    error::{Answer, failed},
    status,
};
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
        let (tenant, ctx) = self.begin(&request).map_err(status)?;
        let warehouses = tenant.backend.list_warehouses(&ctx).await.map_err(failed)?;
        let warehouses = warehouses.into_iter().map(Into::into).collect();
        Ok(Response::new(ListWarehousesResponse { warehouses }))
    }

    async fn list_channels(
        &self,
        request: Request<ListChannelsRequest>,
    ) -> Answer<ListChannelsResponse> {
        let (tenant, ctx) = self.begin(&request).map_err(status)?;
        let warehouse = request.into_inner().warehouse_code;
        let channels = tenant.backend.list_channels(&ctx, warehouse.trim()).await;
        let channels = channels
            .map_err(failed)?
            .into_iter()
            .map(Into::into)
            .collect();
        Ok(Response::new(ListChannelsResponse { channels }))
    }
}
