//! The innermost upstream layer: one span and one metrics sample per HTTP
//! attempt, and the W3C trace context of that span in the outgoing headers.

use std::{borrow::Cow, sync::Arc, time::Instant};

use bytes::Bytes;
use opentelemetry::propagation::Injector;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tower::ServiceExt;
use tracing::{Instrument, field::Empty};

use super::{Upstream, UpstreamCall};
use crate::{metrics::Metrics, upstream::UpstreamErrorKind};

/// `inner`, each call of it an attempt with its span and metrics.
pub fn record(inner: impl Upstream, metrics: Arc<Metrics>) -> impl Upstream {
    tower::service_fn(move |mut call: UpstreamCall| {
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
        let (tenant, operation) = (call.tenant.clone(), call.operation);
        let (metrics, recorded) = (metrics.clone(), span.clone());
        let attempt = inner.clone().oneshot(call);
        async move {
            let started = Instant::now();
            let result = attempt.await;
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
        .instrument(span)
    })
}

/// `ok`, the HTTP status, or the error kind: a small, fixed set of labels.
fn outcome_label(result: &Result<Bytes, UpstreamErrorKind>) -> Cow<'static, str> {
    Cow::Borrowed(match result {
        Ok(_) => "ok",
        Err(UpstreamErrorKind::Http { status, .. }) => return Cow::Owned(status.to_string()),
        Err(UpstreamErrorKind::Connect(_)) => "connect_error",
        Err(UpstreamErrorKind::UntrustedCertificate(_)) => "untrusted_certificate",
        Err(UpstreamErrorKind::Timeout) => "timeout",
        Err(UpstreamErrorKind::Transport(_)) => "transport_error",
        Err(UpstreamErrorKind::DeadlineExceeded) => "deadline_exceeded",
        Err(UpstreamErrorKind::Malformed(_)) => "malformed",
        Err(UpstreamErrorKind::Rejected { .. }) => "rejected",
        Err(UpstreamErrorKind::RateLimited { .. }) => "rate_limited",
        Err(UpstreamErrorKind::Overloaded { .. }) => "overloaded",
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
