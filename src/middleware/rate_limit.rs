//! Per-tenant rate limiting, GCRA. A call over the limit waits its turn
//! while the caller's deadline allows; otherwise it fails at once with
//! [`UpstreamErrorKind::RateLimited`] and the delay after which it would
//! pass.
//!
//! Alone, a replica keeps the limit itself (governor). With `[cluster]`
//! the limit is kept in Redis for all replicas together ([`SharedLimits`]),
//! and the local limiter, at this replica's share of the limit, decides
//! only the calls Redis cannot answer in time. Every call Redis allows is
//! counted in the local limiter too, so when Redis goes away the local
//! share does not start with a fresh burst.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter, clock::Clock};
use tokio::time::Instant;
use tower::ServiceExt;

use super::{Upstream, UpstreamCall};
use crate::{
    cluster::{SharedLimits, Verdict},
    metrics::{Held, Metrics},
    upstream::UpstreamErrorKind,
};

/// `rate_limit = { per_second, burst }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_second: NonZeroU32,
    /// Calls allowed at once after a quiet period; at least 1.
    pub burst: NonZeroU32,
}

/// A tenant's limit, shared by all its calls.
#[derive(Debug)]
pub struct TenantLimiter {
    rate: Rate,
    /// The whole limit alone; this replica's share of it with `shared`.
    local: DefaultDirectRateLimiter,
    shared: Option<Arc<SharedLimits>>,
}

/// A tenant's limiter; `None` is unlimited. With `shared`, the limit is
/// kept in Redis for every replica.
pub fn limiter(
    rate: Option<Rate>,
    shared: Option<Arc<SharedLimits>>,
) -> Option<Arc<TenantLimiter>> {
    rate.map(|rate| {
        let local_rate = shared
            .as_ref()
            .map_or(rate, |shared| shared.local_share(rate));
        Arc::new(TenantLimiter {
            rate,
            local: RateLimiter::direct(
                Quota::per_second(local_rate.per_second).allow_burst(local_rate.burst),
            ),
            shared,
        })
    })
}

impl TenantLimiter {
    /// Whether a call may go now: Redis's word when it gives one in time,
    /// else the local limiter's.
    async fn check(&self, tenant: &str) -> Verdict {
        if let Some(shared) = &self.shared
            && let Some(verdict) = shared.check(tenant, self.rate).await
        {
            if matches!(verdict, Verdict::Allowed) {
                // The local share's bucket follows what this replica sent,
                // so a fallback starts from that, not from a full burst on
                // top of what Redis allowed.
                let _ = self.local.check();
            }
            return verdict;
        }
        match self.local.check() {
            Ok(()) => Verdict::Allowed,
            Err(not_until) => Verdict::NotBefore(
                not_until.wait_time_from(governor::clock::DefaultClock::default().now()),
            ),
        }
    }
}

/// `inner`, each call waiting its turn under `limiter` first.
pub fn limit(
    inner: impl Upstream,
    limiter: Option<Arc<TenantLimiter>>,
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
    limiter: &TenantLimiter,
    metrics: &Metrics,
    tenant: &str,
    deadline: Instant,
) -> Result<(), UpstreamErrorKind> {
    let mut waited = false;
    loop {
        let wait = match limiter.check(tenant).await {
            Verdict::Allowed => return Ok(()),
            Verdict::NotBefore(wait) => wait,
        };
        if Instant::now() + wait >= deadline {
            metrics.record_held(tenant, Held::RateLimitRejection);
            return Err(UpstreamErrorKind::RateLimited { retry_after: wait });
        }
        if !waited {
            waited = true;
            metrics.record_held(tenant, Held::RateLimitWait);
            tracing::debug!(
                tenant,
                wait_ms = wait.as_millis() as u64,
                "waiting for the tenant's rate limit"
            );
        }
        tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
    }
}
