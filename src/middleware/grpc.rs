//! The outermost server layer: a span per gRPC call (child of the caller's
//! W3C trace context when it sends one) and the request metrics, which see
//! the final status code of every call.

use std::{
    collections::HashSet,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use opentelemetry::propagation::Extractor;
use tower::{Layer, Service};
use tracing::{Instrument, field::Empty};

use crate::{metrics::Metrics, tenant::Tenants};

/// See the module docs.
#[derive(Debug, Clone)]
pub struct GrpcCallLayer {
    metrics: Arc<Metrics>,
    labels: Arc<Labels>,
}

/// What a call may be labelled with. Callers choose the tenant header and
/// the path, so anything outside these sets gets a fixed stand-in, and the
/// metrics cannot grow without bound.
#[derive(Debug)]
struct Labels {
    /// The tenants in force (a reload may add some).
    tenants: Arc<Tenants>,
    /// Served RPCs, `package.Service/Method`.
    methods: HashSet<Arc<str>>,
    /// For a tenant or method outside the sets.
    unknown: Arc<str>,
    /// For a call without `x-tenant-id`.
    no_tenant: Arc<str>,
}

impl GrpcCallLayer {
    /// `tenants`: the tenants in force; `methods`: the served RPCs as
    /// `package.Service/Method`.
    pub fn new(
        metrics: Arc<Metrics>,
        tenants: Arc<Tenants>,
        methods: impl IntoIterator<Item = String>,
    ) -> Self {
        Self {
            metrics,
            labels: Arc::new(Labels {
                tenants,
                methods: methods.into_iter().map(Arc::from).collect(),
                unknown: Arc::from("unknown"),
                no_tenant: Arc::from("none"),
            }),
        }
    }
}

impl<S> Layer<S> for GrpcCallLayer {
    type Service = GrpcCall<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcCall {
            inner,
            layer: self.clone(),
        }
    }
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct GrpcCall<S> {
    inner: S,
    layer: GrpcCallLayer,
}

impl<S, B, ResBody> Service<http::Request<B>> for GrpcCall<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let labels = &self.layer.labels;
        let path = request.uri().path().trim_start_matches('/');
        let method = labels.methods.get(path).unwrap_or(&labels.unknown).clone();
        // As the API reads it: blank is no tenant; anything else names a
        // configured one, or is `unknown`.
        let tenant = match request.headers().get("x-tenant-id").map(|id| id.to_str()) {
            None => labels.no_tenant.clone(),
            Some(Ok(id)) if id.trim().is_empty() => labels.no_tenant.clone(),
            Some(Ok(id)) => labels
                .tenants
                .load()
                .label(id.trim())
                .unwrap_or_else(|| labels.unknown.clone()),
            Some(Err(_)) => labels.unknown.clone(),
        };
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(request.headers()))
        });
        // The span names the path as sent, unknown or not: spans are not
        // series, and an operator wants to see what was called.
        let span = tracing::info_span!("grpc", rpc = %path, tenant = %tenant, grpc.code = Empty);
        crate::telemetry::continue_trace(&span, parent);
        let metrics = self.layer.metrics.clone();
        let started = Instant::now();
        let future = self.inner.call(request);
        let recorded = span.clone();
        Box::pin(
            async move {
                let response = future.await;
                // An error status travels in the headers (trailers-only); a
                // success has none there and sends OK in the trailers.
                let code = match &response {
                    Ok(response) => response
                        .headers()
                        .get("grpc-status")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<i32>().ok())
                        .map_or(tonic::Code::Ok, tonic::Code::from_i32),
                    Err(_) => tonic::Code::Unknown,
                };
                let code = code_name(code);
                recorded.record("grpc.code", code);
                metrics.record_request(tenant, method, code, started.elapsed().as_secs_f64());
                response
            }
            .instrument(span),
        )
    }
}

/// The canonical upper-case name of a gRPC code.
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}
