//! WarehouseService: warehouses and logistics channels.

use tonic::{Request, Response, Status};

use super::{FacadeApi, status, within};
use crate::proto::{self, warehouse_service_server::WarehouseService};

#[tonic::async_trait]
impl WarehouseService for FacadeApi {
    async fn list_warehouses(
        &self,
        request: Request<proto::ListWarehousesRequest>,
    ) -> Result<Response<proto::ListWarehousesResponse>, Status> {
        let (tenant, deadline) = self.begin(&request).map_err(status)?;
        let warehouses = within(deadline, tenant.backend.list_warehouses())
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
        let (tenant, deadline) = self.begin(&request).map_err(status)?;
        let warehouse_code = request.into_inner().warehouse_code;
        let channels = within(
            deadline,
            tenant.backend.list_channels(warehouse_code.trim()),
        )
        .await
        .map_err(|err| status(err.into()))?;
        Ok(Response::new(proto::ListChannelsResponse {
            channels: channels.into_iter().map(Into::into).collect(),
        }))
    }
}
