//! The HTTP listener (`[server] http_addr`): Prometheus `/metrics`,
//! `/healthz` (the process is up), `/readyz` (it serves gRPC and its store
//! takes commits), and the Qianyi push webhooks.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use axum::{Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use tokio::net::TcpListener;

use crate::{metrics::Metrics, push::webhook::Webhooks};

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

/// Serves the HTTP routes on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    state: AdminState,
    webhooks: Webhooks,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state, webhooks))
        .with_graceful_shutdown(shutdown)
        .await
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
