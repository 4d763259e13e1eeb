//! Tower layers around every upstream HTTP call, composed in one place
//! ([`upstream_stack`]). Each layer is a small service of its own, testable
//! alone. Nothing here knows gRPC or either protocol's JSON.

pub mod attempt;
pub mod concurrency;
pub mod deadline;
pub mod grpc;
pub mod rate_limit;
pub mod retry;

use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use tokio::time::Instant;
use tower::{ServiceBuilder, util::BoxCloneSyncService};
use warehouse_protocol::Access;

use crate::{metrics::Metrics, upstream::UpstreamErrorKind};

/// One upstream HTTP call, ready to send (signed, exact body bytes).
#[derive(Debug, Clone)]
pub struct UpstreamCall {
    /// The tenant the call is for (labels, spans).
    pub tenant: Arc<str>,
    /// When the caller stops waiting (from its [`CallContext`](crate::domain::CallContext)).
    pub deadline: Instant,
    /// The caller's span, each attempt's parent.
    pub span: tracing::Span,
    /// The protocol operation, e.g. `createOrder` (labels, spans).
    pub operation: &'static str,
    /// 1 for the first attempt; the retry layer counts up.
    pub attempt: u32,
    /// Parsed once per tenant and cloned per call: parsing on every call
    /// showed in the profile.
    pub url: reqwest::Url,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Reads are retried on transient faults; writes only when the request
    /// provably never left, so goods are never shipped twice.
    pub access: Access,
}

/// The service every protocol client sends through.
pub type UpstreamService = BoxCloneSyncService<UpstreamCall, Bytes, UpstreamErrorKind>;

/// A tenant's resilience settings.
#[derive(Debug, Clone)]
pub struct UpstreamPolicy {
    /// Calls per second and burst; `None` is unlimited.
    pub rate_limit: Option<rate_limit::Rate>,
    /// Retry attempts and backoff.
    pub retry: retry::RetryConfig,
    /// Upstream calls in flight at once; more fail fast.
    pub max_in_flight: usize,
}

impl Default for UpstreamPolicy {
    fn default() -> Self {
        Self {
            rate_limit: None,
            retry: retry::RetryConfig::default(),
            max_in_flight: 64,
        }
    }
}

/// Builds a tenant's stack around `transport`. Outermost first:
///
/// - deadline: the call's own deadline bounds everything below, retries
///   and rate-limit waits included, so an expired deadline fails at once;
/// - retry: reads on transient faults, writes only when never sent, with a
///   budget so a failing warehouse is not hammered; each attempt goes through
///   the limits below again;
/// - rate limit: per tenant, nearest the upstream so retries count too;
/// - concurrency: a bounded number in flight per tenant; excess fails fast;
/// - attempt: a span, metrics and W3C trace context per HTTP attempt,
///   innermost so it sees every attempt as sent.
pub fn upstream_stack<S>(
    transport: S,
    policy: &UpstreamPolicy,
    metrics: Arc<Metrics>,
) -> UpstreamService
where
    S: tower::Service<UpstreamCall, Response = Bytes, Error = UpstreamErrorKind>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    let service = ServiceBuilder::new()
        .layer_fn(deadline::enforce)
        .layer(tower::retry::RetryLayer::new(retry::RetryPolicy::new(
            &policy.retry,
            metrics.clone(),
        )))
        .layer(rate_limit::RateLimitLayer::new(
            policy.rate_limit,
            metrics.clone(),
        ))
        .layer(concurrency::ConcurrencyLayer::new(
            policy.max_in_flight,
            metrics.clone(),
        ))
        .layer(attempt::AttemptLayer::new(metrics))
        .service(transport);
    BoxCloneSyncService::new(service)
}
