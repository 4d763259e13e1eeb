//! WarehouseService: warehouses and logistics channels.

use tonic::{Request, Response, Status};

use super::{FacadeApi, convert, status};
use crate::proto::{self, warehouse_service_server::WarehouseService};

#[tonic::async_trait]
impl WarehouseService for FacadeApi {
    async fn list_warehouses(
        &self,
        request: Request<proto::ListWarehousesRequest>,
    ) -> Result<Response<proto::ListWarehousesResponse>, Status> {
        let (tenant, ctx) = self.begin(&request).map_err(status)?;
        let warehouses = tenant
            .backend
            .list_warehouses(&ctx)
            .await
            .map_err(|err| status(err.into()))?;
        Ok(Response::new(proto::ListWarehousesResponse {
            warehouses: warehouses.into_iter().map(Into::into).collect(),
        }))
    }

    async fn list_channels(
        &self,
        request: Request<proto::ListChannelsRequest>,
    ) -> Result<Response<proto::ListChannelsResponse>, Status> {
        let (tenant, ctx) = self.begin(&request).map_err(status)?;
        let warehouse_code =
            convert::channels_warehouse(request.into_inner()).map_err(|err| status(err.into()))?;
        let channels = tenant
            .backend
            .list_channels(&ctx, &warehouse_code)
            .await
            .map_err(|err| status(err.into()))?;
        Ok(Response::new(proto::ListChannelsResponse {
            channels: channels.into_iter().map(Into::into).collect(),
        }))
    }
}
