//! The HTTP listener (`[server] http_addr`): Prometheus `/metrics`,
//! `/healthz` (the process is up), `/readyz` (it serves gRPC and its store
//! takes commits), and the Qianyi push webhooks; over TLS with `[server.tls]
//! http_tls = true`.
//!
//! Each connection is served by hyper's HTTP/1 server itself rather than
//! `axum::serve`, which sets no timer and so has no header-read timeout: a
//! client sending its request head one byte a second held a connection for
//! as long as it liked.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use axum::{Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpListener,
    sync::watch,
};

use crate::{
    listener::{Admitted, Listener, ListenerLimits, ListenerName, OpenSlot},
    metrics::Metrics,
    push::webhook::Webhooks,
    tls::ServerTls,
};

/// What the admin endpoints read.
#[derive(Debug, Clone)]
pub struct AdminState {
    pub metrics: Arc<Metrics>,
    /// Set once the gRPC listener accepts calls; cleared on shutdown.
    pub ready: Arc<AtomicBool>,
    /// Whether the store's last health check committed in time.
    pub store_up: Arc<AtomicBool>,
}

/// The admin routes plus the webhooks.
pub fn router(state: AdminState, webhooks: Webhooks) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .with_state(state)
        .merge(webhooks.routes())
}

/// Serves the HTTP routes on `listener`, plaintext with the default
/// limits, until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    state: AdminState,
    webhooks: Webhooks,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let metrics = state.metrics.clone();
    let listener = Listener::new(
        listener,
        ListenerName::Http,
        ListenerLimits::default(),
        metrics,
    );
    serve_on(listener, None, state, webhooks, shutdown).await;
    Ok(())
}

/// Serves the HTTP routes on `listener` (over TLS when `tls` is given)
/// until `shutdown`: then the socket is closed at once, requests in flight
/// finish and idle connections are closed.
pub async fn serve_on(
    listener: Listener,
    tls: Option<Arc<ServerTls>>,
    state: AdminState,
    webhooks: Webhooks,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let routes = router(state, webhooks);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(listener.limits().header_read_timeout);
    let graceful = GracefulShutdown::new();
    let (stopping, stop) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        stopping.send_replace(true);
    });
    listener
        .run(stop, |admitted| {
            let Admitted {
                stream,
                deadline,
                slot,
            } = admitted;
            let connection = Connection {
                http: http.clone(),
                routes: routes.clone(),
                watcher: graceful.watcher(),
                slot,
            };
            match &tls {
                None => {
                    tokio::spawn(connection.serve(stream));
                }
                Some(tls) => {
                    let acceptor = tls.http_acceptor();
                    tokio::spawn(async move {
                        match tokio::time::timeout_at(deadline, acceptor.accept(stream)).await {
                            Ok(Ok(stream)) => connection.serve(stream).await,
                            Ok(Err(err)) => connection.slot.record_handshake_failed(&err),
                            Err(_) => connection.slot.record_timed_out(),
                        }
                    });
                }
            }
        })
        .await;
    graceful.shutdown().await;
}

/// What serving one HTTP connection needs.
struct Connection {
    http: hyper::server::conn::http1::Builder,
    routes: Router,
    watcher: hyper_util::server::graceful::Watcher,
    slot: OpenSlot,
}

impl Connection {
    async fn serve(self, stream: impl AsyncRead + AsyncWrite + Unpin + Send + 'static) {
        let service = TowerToHyperService::new(self.routes);
        let served = self
            .watcher
            .watch(self.http.serve_connection(TokioIo::new(stream), service))
            .await;
        match served {
            Ok(()) => {}
            Err(err) if err.is_timeout() => self.slot.record_timed_out(),
            Err(err) => tracing::debug!(error = %err, "HTTP connection ended with an error"),
        }
    }
}

async fn metrics(State(state): State<AdminState>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

async fn readyz(State(state): State<AdminState>) -> impl IntoResponse {
    if !state.ready.load(Ordering::Relaxed) {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    } else if !state.store_up.load(Ordering::Relaxed) {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the store is down\n",
        )
    } else {
        (StatusCode::OK, "ready\n")
    }
}
