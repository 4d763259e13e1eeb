//! A bounded number of upstream calls in flight per tenant. When all permits
//! are taken a call fails at once ([`UpstreamErrorKind::Overloaded`]) rather
//! than queueing without bound: one slow warehouse cannot pile up memory or
//! starve the others, which have their own permits.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use tokio::sync::Semaphore;
use tower::{Layer, Service};

use super::UpstreamCall;
use crate::{metrics::Metrics, upstream::UpstreamErrorKind};

/// Adds a per-tenant in-flight limit.
#[derive(Debug, Clone)]
pub struct ConcurrencyLayer {
    permits: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

impl ConcurrencyLayer {
    pub fn new(max_in_flight: usize, metrics: Arc<Metrics>) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max_in_flight.max(1))),
            metrics,
        }
    }
}

impl<S> Layer<S> for ConcurrencyLayer {
    type Service = Concurrency<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Concurrency {
            inner,
            permits: self.permits.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

/// See [`ConcurrencyLayer`].
#[derive(Debug, Clone)]
pub struct Concurrency<S> {
    inner: S,
    permits: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

impl<S> Service<UpstreamCall> for Concurrency<S>
where
    S: Service<UpstreamCall, Error = UpstreamErrorKind>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
{
    type Response = S::Response;
    type Error = UpstreamErrorKind;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, UpstreamErrorKind>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, call: UpstreamCall) -> Self::Future {
        let permit = self.permits.clone().try_acquire_owned();
        if permit.is_err() {
            self.metrics.record_load_shed(&call.tenant);
            tracing::warn!(tenant = %call.tenant, operation = call.operation, "too many upstream calls in flight; shedding");
        }
        let future = permit.is_ok().then(|| self.inner.call(call));
        Box::pin(async move {
            let (Ok(_permit), Some(future)) = (permit, future) else {
                return Err(UpstreamErrorKind::Overloaded);
            };
            future.await
        })
    }
}
