//! Assembles the gRPC server: the five services, health and reflection, on
//! a listener (with TLS when configured), until shutdown.

use std::{future::Future, sync::Arc, time::Duration};

use tokio::{
    io::{AsyncRead, AsyncWrite},
    sync::{mpsc, watch},
};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{
    service::Routes,
    transport::{Server, server::Connected},
};

use crate::{
    api::FacadeApi,
    listener::{Admitted, Http2Connection, Listener},
    metrics::Metrics,
    middleware::grpc::GrpcCallLayer,
    proto::{
        self, asn_service_server::AsnServiceServer,
        inventory_service_server::InventoryServiceServer, order_service_server::OrderServiceServer,
        sku_service_server::SkuServiceServer, warehouse_service_server::WarehouseServiceServer,
    },
    tls::ServerTls,
};

/// Default of `[server] http2_max_concurrent_streams`: a burst of 1,000
/// concurrent calls on one channel fits; tonic's own default is unlimited.
pub const DEFAULT_HTTP2_MAX_CONCURRENT_STREAMS: u32 = 1024;
/// Default of `[server] http2_max_header_list_size`, in bytes (decoded):
/// hyper's default, and what gRPC C-core clients accept themselves. A
/// call's own metadata (tenant, token, trace context) is well under 1 KiB.
pub const DEFAULT_HTTP2_MAX_HEADER_LIST_SIZE: u32 = 16 * 1024;
/// How often an idle gRPC connection is pinged, and how long the answer may
/// take before the connection is closed: a peer that stopped speaking
/// HTTP/2 (gone, or holding the connection open on purpose) is let go.
const HTTP2_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(60);
const HTTP2_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Handshaken connections waiting for tonic to take them.
const HANDED_OVER_BACKLOG: usize = 64;

/// `[server]`'s HTTP/2 limits on the gRPC listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Http2Limits {
    /// Streams (calls) one connection may have open at once.
    pub max_concurrent_streams: u32,
    /// The largest request header list accepted, in bytes.
    pub max_header_list_size: u32,
}

impl Default for Http2Limits {
    fn default() -> Self {
        Self {
            max_concurrent_streams: DEFAULT_HTTP2_MAX_CONCURRENT_STREAMS,
            max_header_list_size: DEFAULT_HTTP2_MAX_HEADER_LIST_SIZE,
        }
    }
}

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

/// Serves the API on `listener` (over TLS when `tls` is given) until
/// `shutdown` completes. Then the listening socket is closed at once, so
/// new connections are refused and clients fail over, open connections are
/// sent GOAWAY, and in-flight calls drain.
/// `ready` says whether the process is ready (see [`READINESS_SERVICE`]).
pub async fn serve(
    listener: Listener,
    tls: Option<Arc<ServerTls>>,
    http2: Http2Limits,
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

    let routes = Routes::new(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(WarehouseServiceServer::new(api.clone()))
        .add_service(OrderServiceServer::new(api.clone()))
        .add_service(AsnServiceServer::new(api.clone()))
        .add_service(InventoryServiceServer::new(api.clone()))
        .add_service(SkuServiceServer::new(api));

    let router = Server::builder()
        .max_concurrent_streams(http2.max_concurrent_streams)
        .http2_max_header_list_size(http2.max_header_list_size)
        .http2_keepalive_interval(Some(HTTP2_KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(HTTP2_KEEPALIVE_TIMEOUT))
        // Outermost: the span and metrics of each call see its final status.
        .layer(call_layer)
        .add_routes(routes);

    // Accepting stops as soon as shutdown begins, tonic's drain or not.
    let (stopping, stop) = watch::channel(false);
    let shutdown = async move {
        shutdown.await;
        stopping.send_replace(true);
    };
    match tls {
        None => {
            let incoming = hand_over(listener, stop, |admitted| async move {
                Some(Http2Connection::new(
                    admitted.stream,
                    admitted.deadline,
                    admitted.slot,
                ))
            });
            router
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await?;
        }
        Some(tls) => {
            let incoming = hand_over(listener, stop, move |admitted| {
                let acceptor = tls.grpc_acceptor();
                async move {
                    let Admitted {
                        stream,
                        deadline,
                        slot,
                    } = admitted;
                    match tokio::time::timeout_at(deadline, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => Some(Http2Connection::new(stream, deadline, slot)),
                        Ok(Err(err)) => {
                            slot.record_handshake_failed(&err);
                            None
                        }
                        Err(_) => {
                            slot.record_timed_out();
                            None
                        }
                    }
                }
            });
            router
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await?;
        }
    }
    drop(readiness);
    Ok(())
}

/// Runs `listener` and gives tonic each admitted connection once `set_up`
/// (the TLS handshake, if any) has made it ready, each on its own task so a
/// slow handshake holds up nobody else.
fn hand_over<IO, SetUp, Ready>(
    listener: Listener,
    stop: watch::Receiver<bool>,
    set_up: SetUp,
) -> ReceiverStream<Result<Http2Connection<IO>, std::io::Error>>
where
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
    SetUp: Fn(Admitted) -> Ready + Send + 'static,
    Ready: Future<Output = Option<Http2Connection<IO>>> + Send + 'static,
{
    let (ready, incoming) = mpsc::channel(HANDED_OVER_BACKLOG);
    let accepting_stop = stop.clone();
    tokio::spawn(listener.run(accepting_stop, move |admitted| {
        let ready = ready.clone();
        let mut stop = stop.clone();
        let connection = set_up(admitted);
        tokio::spawn(async move {
            let Some(connection) = connection.await else {
                return;
            };
            // Past shutdown tonic takes no more: drop it rather than wait.
            tokio::select! {
                _ = ready.send(Ok(connection)) => {}
                _ = stop.wait_for(|stopping| *stopping) => {}
            }
        });
    }));
    ReceiverStream::new(incoming)
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
