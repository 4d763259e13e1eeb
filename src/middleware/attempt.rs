//! The innermost upstream layer: one span and one metrics sample per HTTP
//! attempt, and the W3C trace context of that span in the outgoing headers.

use std::{
    borrow::Cow,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use bytes::Bytes;
use opentelemetry::propagation::Injector;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tower::{Layer, Service};
use tracing::{Instrument, field::Empty};

use super::UpstreamCall;
use crate::{metrics::Metrics, upstream::UpstreamErrorKind};

/// See the module docs.
#[derive(Debug, Clone)]
pub struct AttemptLayer {
    metrics: Arc<Metrics>,
}

impl AttemptLayer {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for AttemptLayer {
    type Service = Attempt<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Attempt {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct Attempt<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S> Service<UpstreamCall> for Attempt<S>
where
    S: Service<UpstreamCall, Response = Bytes, Error = UpstreamErrorKind>,
    S::Future: Send + 'static,
{
    type Response = Bytes;
    type Error = UpstreamErrorKind;
    type Future = Pin<Box<dyn Future<Output = Result<Bytes, UpstreamErrorKind>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut call: UpstreamCall) -> Self::Future {
        let span = tracing::info_span!(
            parent: &call.span,
            "upstream",
            tenant = %call.tenant,
            operation = call.operation,
            attempt = call.attempt,
            http.status = Empty,
            outcome = Empty,
        );
        inject_trace_context(&span, &mut call.headers);
        let tenant = call.tenant.clone();
        let operation = call.operation;
        let metrics = self.metrics.clone();
        let future = self.inner.call(call);
        let recorded = span.clone();
        Box::pin(
            async move {
                let started = Instant::now();
                let result = future.await;
                let outcome = outcome_label(&result);
                if let Err(UpstreamErrorKind::Http { status, .. }) = &result {
                    recorded.record("http.status", status);
                } else if result.is_ok() {
                    recorded.record("http.status", 200);
                }
                recorded.record("outcome", &*outcome);
                metrics.record_attempt(tenant, operation, outcome, started.elapsed().as_secs_f64());
                result
            }
            .instrument(span),
        )
    }
}

/// `ok`, the HTTP status, or the error kind: a small, fixed set of labels.
fn outcome_label(result: &Result<Bytes, UpstreamErrorKind>) -> Cow<'static, str> {
    Cow::Borrowed(match result {
        Ok(_) => "ok",
        Err(UpstreamErrorKind::Http { status, .. }) => return Cow::Owned(status.to_string()),
        Err(UpstreamErrorKind::Connect(_)) => "connect_error",
        Err(UpstreamErrorKind::Timeout) => "timeout",
        Err(UpstreamErrorKind::Transport(_)) => "transport_error",
        Err(UpstreamErrorKind::DeadlineExceeded) => "deadline_exceeded",
        Err(UpstreamErrorKind::Malformed(_)) => "malformed",
        Err(UpstreamErrorKind::Rejected { .. }) => "rejected",
        Err(UpstreamErrorKind::RateLimited { .. }) => "rate_limited",
        Err(UpstreamErrorKind::Overloaded) => "overloaded",
    })
}

/// Writes `traceparent` (and `tracestate`) for `span` into `headers`.
fn inject_trace_context(span: &tracing::Span, headers: &mut HeaderMap) {
    let context = crate::telemetry::upstream_trace_context(span);
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut HeaderInjector(headers));
    });
}

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}
