//! Retries with exponential backoff, full jitter and `Retry-After`, bounded
//! by the caller's deadline and by a retry budget shared per tenant.
//!
//! Reads retry on connect errors, timeouts, 429 and 5xx. Writes retry only
//! when the request provably never left (connection refused), so an order or
//! ASN is never sent twice.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use tokio::time::{Instant, Sleep};
use tower::retry::budget::{Budget, TpsBudget};

use warehouse_protocol::Access;

use super::UpstreamCall;
use crate::{metrics::Metrics, upstream::UpstreamErrorKind};

/// A tenant's retry settings.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Attempts in all, the first included; 1 disables retries.
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles each time.
    pub base_delay: Duration,
    /// Longest backoff (and longest `Retry-After` honoured).
    pub max_delay: Duration,
    /// Retries allowed per call made, over a 10 s window (0.2 = one in five),
    /// on top of a floor of one retry per second.
    pub budget_ratio: f32,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            budget_ratio: 0.2,
        }
    }
}

/// The tower retry policy; one clone per call carries that call's attempt count.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    config: Arc<RetryConfig>,
    budget: Arc<TpsBudget>,
    metrics: Arc<Metrics>,
    attempts: u32,
}

impl RetryPolicy {
    pub fn new(config: &RetryConfig, metrics: Arc<Metrics>) -> Self {
        Self {
            config: Arc::new(config.clone()),
            metrics,
            budget: Arc::new(TpsBudget::new(
                Duration::from_secs(10),
                1,
                config.budget_ratio.clamp(0.0, 1000.0),
            )),
            attempts: 1,
        }
    }

    /// Exponential backoff with full jitter: uniform in `[0, base * 2^n]`,
    /// capped; a `Retry-After` from the warehouse wins when longer.
    fn delay(&self, err: &UpstreamErrorKind) -> Duration {
        let exponent = self.attempts.saturating_sub(1).min(16);
        let ceiling = self
            .config
            .base_delay
            .saturating_mul(1 << exponent)
            .min(self.config.max_delay);
        let jittered = ceiling.mul_f64(fastrand::f64());
        match err {
            UpstreamErrorKind::Http {
                retry_after: Some(wait),
                ..
            } => (*wait).min(self.config.max_delay).max(jittered),
            _ => jittered,
        }
    }
}

/// Whether `err` may go away on a second try of a call of `access`.
pub fn worth_retrying(access: Access, err: &UpstreamErrorKind) -> bool {
    match access {
        Access::Read => err.is_transient(),
        Access::Write => err.provably_not_sent(),
    }
}

impl tower::retry::Policy<UpstreamCall, Bytes, UpstreamErrorKind> for RetryPolicy {
    type Future = Sleep;

    fn retry(
        &mut self,
        call: &mut UpstreamCall,
        result: &mut Result<Bytes, UpstreamErrorKind>,
    ) -> Option<Sleep> {
        if self.attempts == 1 {
            self.budget.deposit();
        }
        let err = result.as_ref().err()?;
        if !worth_retrying(call.access, err) || self.attempts >= self.config.max_attempts {
            return None;
        }
        let delay = self.delay(err);
        if Instant::now() + delay >= call.deadline {
            return None;
        }
        if !self.budget.withdraw() {
            tracing::debug!("retry budget exhausted; not retrying");
            return None;
        }
        self.attempts += 1;
        call.attempt = self.attempts;
        self.metrics.record_retry(&call.tenant, call.operation);
        tracing::debug!(attempt = self.attempts, delay_ms = delay.as_millis() as u64, error = %err, "retrying upstream call");
        Some(tokio::time::sleep(delay))
    }

    fn clone_request(&mut self, call: &UpstreamCall) -> Option<UpstreamCall> {
        Some(call.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_retry_transient_faults_writes_only_unsent_ones() {
        let refused = UpstreamErrorKind::Connect("connection refused".into());
        let unavailable = UpstreamErrorKind::Http {
            status: 503,
            message: String::new(),
            retry_after: None,
        };
        let rejected = UpstreamErrorKind::Rejected {
            message: "no".into(),
            code: String::new(),
        };
        assert!(worth_retrying(Access::Read, &refused));
        assert!(worth_retrying(Access::Read, &unavailable));
        assert!(worth_retrying(Access::Read, &UpstreamErrorKind::Timeout));
        assert!(!worth_retrying(Access::Read, &rejected));
        assert!(worth_retrying(Access::Write, &refused));
        assert!(!worth_retrying(Access::Write, &unavailable));
        assert!(!worth_retrying(Access::Write, &UpstreamErrorKind::Timeout));
    }

    #[test]
    fn backoff_is_capped_and_retry_after_is_honoured() {
        let mut policy = RetryPolicy::new(&RetryConfig::default(), Metrics::shared());
        policy.attempts = 10;
        let plain = UpstreamErrorKind::Timeout;
        for _ in 0..100 {
            assert!(policy.delay(&plain) <= Duration::from_secs(2));
        }
        let asked = UpstreamErrorKind::Http {
            status: 429,
            message: String::new(),
            retry_after: Some(Duration::from_secs(1)),
        };
        assert!(policy.delay(&asked) >= Duration::from_secs(1));
    }
}
