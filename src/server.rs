//! Assembles the gRPC server: the five services, health and reflection, on
//! a listener, until shutdown.

use std::{future::Future, sync::Arc, time::Duration};

use tokio::net::TcpListener;
use tokio_stream::{StreamExt, wrappers::TcpListenerStream};
use tonic::{service::Routes, transport::Server};

use crate::{
    api::FacadeApi,
    metrics::Metrics,
    middleware::grpc::GrpcCallLayer,
    proto::{
        self, asn_service_server::AsnServiceServer,
        inventory_service_server::InventoryServiceServer, order_service_server::OrderServiceServer,
        sku_service_server::SkuServiceServer, warehouse_service_server::WarehouseServiceServer,
    },
};

/// The server could not start or stopped on an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot build server reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// The `grpc.health.v1` service name whose status is the process's
/// readiness (`/readyz`): NOT_SERVING while the store cannot be reached
/// and once shutdown begins. The whole server (`""`) stays SERVING while
/// the process runs, for liveness: a database outage must not restart pods.
pub const READINESS_SERVICE: &str = "readiness";

/// How often [`READINESS_SERVICE`] follows `ready`.
const READINESS_EVERY: Duration = Duration::from_millis(500);

/// Serves the API on `listener` until `shutdown` completes, then drains
/// in-flight calls. `ready` says whether the process is ready (see
/// [`READINESS_SERVICE`]).
pub async fn serve(
    listener: TcpListener,
    api: FacadeApi,
    metrics: Arc<Metrics>,
    ready: impl Fn() -> bool + Send + 'static,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let call_layer = GrpcCallLayer::new(metrics, api.tenants().clone(), served_rpcs());

    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<WarehouseServiceServer<FacadeApi>>()
        .await;
    health.set_serving::<OrderServiceServer<FacadeApi>>().await;
    health.set_serving::<AsnServiceServer<FacadeApi>>().await;
    health
        .set_serving::<InventoryServiceServer<FacadeApi>>()
        .await;
    health.set_serving::<SkuServiceServer<FacadeApi>>().await;
    let readiness = AbortOnDrop(tokio::spawn(follow_readiness(health, ready)));

    // Both reflection versions: grpcurl and older tools still ask v1alpha.
    // `google.rpc`'s error details too, so `grpcurl -format-error` can show
    // a BadRequest's field violations and a rejection's ErrorInfo.
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    // Without TCP_NODELAY, Nagle holds back small HTTP/2 frames (trailers,
    // stream messages) for ~40 ms; the benchmark showed it on every stream.
    let incoming = TcpListenerStream::new(listener).map(|accepted| {
        if let Ok(stream) = &accepted {
            let _ = stream.set_nodelay(true);
        }
        accepted
    });

    let routes = Routes::new(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(WarehouseServiceServer::new(api.clone()))
        .add_service(OrderServiceServer::new(api.clone()))
        .add_service(AsnServiceServer::new(api.clone()))
        .add_service(InventoryServiceServer::new(api.clone()))
        .add_service(SkuServiceServer::new(api));

    Server::builder()
        // Outermost: the span and metrics of each call see its final status.
        .layer(call_layer)
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await?;
    drop(readiness);
    Ok(())
}

/// Sets [`READINESS_SERVICE`]'s status from `ready`, on every change.
async fn follow_readiness(health: tonic_health::server::HealthReporter, ready: impl Fn() -> bool) {
    let mut shown = None;
    let mut ticks = tokio::time::interval(READINESS_EVERY);
    loop {
        ticks.tick().await;
        let now = ready();
        if shown != Some(now) {
            let status = if now {
                tonic_health::ServingStatus::Serving
            } else {
                tonic_health::ServingStatus::NotServing
            };
            health.set_service_status(READINESS_SERVICE, status).await;
            shown = Some(now);
        }
    }
}

/// A task stopped when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The RPCs [`serve`] answers, `package.Service/Method`, read from the
/// descriptor sets it serves by reflection.
pub fn served_rpcs() -> Vec<String> {
    use prost::Message as _;

    [
        proto::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
    ]
    .into_iter()
    // Built into the binary; one that did not decode would only label its
    // calls `unknown`.
    .filter_map(|encoded| prost_types::FileDescriptorSet::decode(encoded).ok())
    .flat_map(|set| set.file)
    .flat_map(|file| {
        let package = file.package().to_owned();
        file.service.into_iter().flat_map(move |service| {
            let prefix = format!("{package}.{}", service.name());
            service
                .method
                .into_iter()
                .map(move |method| format!("{prefix}/{}", method.name()))
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::served_rpcs;

    #[test]
    fn served_rpcs_are_the_api_health_and_reflection() {
        let rpcs = served_rpcs();
        for rpc in [
            "qlink.v1.WarehouseService/ListWarehouses",
            "qlink.v1.OrderService/CreateOrder",
            "qlink.v1.InventoryService/SyncInventory",
            "grpc.health.v1.Health/Check",
            "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ] {
            assert!(rpcs.iter().any(|served| served == rpc), "{rpc} in {rpcs:?}");
        }
    }
}
