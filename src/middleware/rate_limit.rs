//! Per-tenant rate limiting with governor's GCRA. A call over the limit waits
//! its turn while the caller's deadline allows; otherwise it fails at once
//! with [`UpstreamErrorKind::RateLimited`] and the delay after which it
//! would pass.

use std::{
    future::Future,
    num::NonZeroU32,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter, clock::Clock};
use tokio::time::Instant;
use tower::{Layer, Service};

use super::UpstreamCall;
use crate::{metrics::Metrics, upstream::UpstreamErrorKind};

/// `rate_limit = { per_second, burst }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_second: NonZeroU32,
    /// Calls allowed at once after a quiet period; at least 1.
    pub burst: NonZeroU32,
}

/// Adds a shared limiter in front of the inner service.
#[derive(Clone)]
pub struct RateLimitLayer {
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    metrics: Arc<Metrics>,
}

impl RateLimitLayer {
    /// `None` lets every call through.
    pub fn new(rate: Option<Rate>, metrics: Arc<Metrics>) -> Self {
        Self {
            metrics,
            limiter: rate.map(|rate| {
                Arc::new(RateLimiter::direct(
                    Quota::per_second(rate.per_second).allow_burst(rate.burst),
                ))
            }),
        }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit {
            inner,
            limiter: self.limiter.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

/// See [`RateLimitLayer`].
#[derive(Clone)]
pub struct RateLimit<S> {
    inner: S,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    metrics: Arc<Metrics>,
}

impl<S> Service<UpstreamCall> for RateLimit<S>
where
    S: Service<UpstreamCall, Error = UpstreamErrorKind> + Clone + Send + 'static,
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
        let Some(limiter) = self.limiter.clone() else {
            // Unlimited: straight through, without cloning the stack below
            // (each clone is a handful of shared reference counts).
            return Box::pin(self.inner.call(call));
        };
        // The inner service was made ready for this call; keep that one and
        // leave a fresh clone behind (tower's usual clone-and-swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let metrics = self.metrics.clone();
        Box::pin(async move {
            wait_turn(&limiter, &metrics, &call.tenant, call.deadline).await?;
            inner.call(call).await
        })
    }
}

async fn wait_turn(
    limiter: &DefaultDirectRateLimiter,
    metrics: &Metrics,
    tenant: &str,
    deadline: Instant,
) -> Result<(), UpstreamErrorKind> {
    let mut waited = false;
    loop {
        match limiter.check() {
            Ok(()) => return Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
                if Instant::now() + wait >= deadline {
                    metrics.record_rate_limit_rejection(tenant);
                    return Err(UpstreamErrorKind::RateLimited { retry_after: wait });
                }
                if !waited {
                    waited = true;
                    metrics.record_rate_limit_wait(tenant);
                    tracing::debug!(
                        tenant,
                        wait_ms = wait.as_millis() as u64,
                        "waiting for the tenant's rate limit"
                    );
                }
                tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
            }
        }
    }
}
