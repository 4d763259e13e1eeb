//! Per-tenant rate limiting with governor's GCRA. A call over the limit waits
//! its turn while the caller's deadline allows; otherwise it fails at once
//! with [`UpstreamErrorKind::RateLimited`] and the delay after which it
//! would pass.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter, clock::Clock};
use tokio::time::Instant;
use tower::ServiceExt;

use super::{Upstream, UpstreamCall};
use crate::{metrics::Metrics, upstream::UpstreamErrorKind};

/// `rate_limit = { per_second, burst }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_second: NonZeroU32,
    /// Calls allowed at once after a quiet period; at least 1.
    pub burst: NonZeroU32,
}

/// A tenant's limiter, shared by all its calls; `None` is unlimited.
pub fn limiter(rate: Option<Rate>) -> Option<Arc<DefaultDirectRateLimiter>> {
    rate.map(|rate| {
        Arc::new(RateLimiter::direct(
            Quota::per_second(rate.per_second).allow_burst(rate.burst),
        ))
    })
}

/// `inner`, each call waiting its turn under `limiter` first.
pub fn limit(
    inner: impl Upstream,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    metrics: Arc<Metrics>,
) -> impl Upstream {
    tower::service_fn(move |call: UpstreamCall| {
        let (inner, limiter, metrics) = (inner.clone(), limiter.clone(), metrics.clone());
        async move {
            if let Some(limiter) = limiter {
                wait_turn(&limiter, &metrics, &call.tenant, call.deadline).await?;
            }
            inner.oneshot(call).await
        }
    })
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
