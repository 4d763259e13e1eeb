//! Replicas that behave as one: each tenant's rate limit is kept in Redis
//! (`[cluster] redis_url`), so three replicas together send no more than
//! the warehouse's limit. The limit is GCRA, decided in one round trip per
//! call by a Lua script (`EVALSHA`) against Redis's own clock.
//!
//! When Redis cannot be reached (or answers late) the call is not held up:
//! it is limited by a local limiter at this replica's share of the limit
//! (limit ÷ `replicas`), and Redis is left alone for a moment before it is
//! tried again. Both are logged when they change and counted.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, SystemTime},
};

use redis::aio::ConnectionManager;
use secrecy::{ExposeSecret, SecretString};

use crate::{metrics::Metrics, middleware::rate_limit::Rate, store::redacted};

/// How long a call waits for Redis before it is limited locally.
const ANSWER_WITHIN: Duration = Duration::from_millis(50);
/// After Redis failed, calls are limited locally this long before Redis is
/// tried again (a background ping may bring it back sooner).
const BACK_OFF: Duration = Duration::from_secs(1);
/// How often Redis is pinged, for `qlink_facade_redis_up`.
const PING_EVERY: Duration = Duration::from_secs(2);

/// GCRA: a call is allowed when the theoretical arrival time, less the
/// burst's worth of intervals, is not in the future; it then moves the
/// arrival time on by one interval. Times are Redis's, in microseconds.
/// Returns 0 when allowed, else how many microseconds until it would be.
const GCRA: &str = r"
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local allowed_at = tat + interval - capacity
if allowed_at > now then
  return allowed_at - now
end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1)
return 0
";

/// `[cluster]`.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// `redis://` or `rediss://`, a password through `${…}`.
    pub redis_url: SecretString,
    /// Replicas sharing the limits: when Redis is down, each limits at its
    /// share, the limit divided by this.
    pub replicas: u32,
    /// Prefix of the keys in Redis, so deployments can share one.
    pub key_prefix: String,
}

/// The cluster could not be set up (a bad URL: a Redis that is down is no
/// error, calls are then limited locally).
#[derive(Debug, thiserror::Error)]
#[error("[cluster] redis_url {url}: {source}")]
pub struct ClusterError {
    url: String,
    source: redis::RedisError,
}

/// What the shared limit says of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Over the limit: the call would be allowed after this long.
    NotBefore(Duration),
}

/// The limits shared through Redis; one per process.
pub struct SharedLimits {
    connection: ConnectionManager,
    script: redis::Script,
    key_prefix: String,
    replicas: u32,
    shown: String,
    metrics: Arc<Metrics>,
    up: AtomicBool,
    /// Until when (ms since the epoch) calls skip Redis after it failed.
    skip_until_ms: AtomicU64,
}

crate::debug::debug_showing!(SharedLimits {
    redis = |this| &this.shown,
    replicas,
});

impl SharedLimits {
    /// Sets up the connection, which is made lazily and remade when lost.
    pub fn new(config: &ClusterConfig, metrics: Arc<Metrics>) -> Result<Arc<Self>, ClusterError> {
        let shown = redacted(config.redis_url.expose_secret());
        let client = redis::Client::open(config.redis_url.expose_secret()).map_err(|source| {
            ClusterError {
                url: shown.clone(),
                source,
            }
        })?;
        let connection = ConnectionManager::new_lazy_with_config(
            client,
            redis::aio::ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_millis(500)))
                .set_response_timeout(Some(ANSWER_WITHIN))
                .set_number_of_retries(2)
                .set_max_delay(Duration::from_millis(500)),
        )
        .map_err(|source| ClusterError {
            url: shown.clone(),
            source,
        })?;
        metrics.set_redis_up(false);
        Ok(Arc::new(Self {
            connection,
            script: redis::Script::new(GCRA),
            key_prefix: config.key_prefix.clone(),
            replicas: config.replicas.max(1),
            shown,
            metrics,
            up: AtomicBool::new(false),
            skip_until_ms: AtomicU64::new(0),
        }))
    }

    /// Redis, password redacted, for logs.
    pub fn describe(&self) -> &str {
        &self.shown
    }

    /// This replica's share of `rate`, for when Redis cannot be reached.
    pub fn local_share(&self, rate: Rate) -> Rate {
        let share = |value: std::num::NonZeroU32| {
            std::num::NonZeroU32::new(value.get().div_ceil(self.replicas)).unwrap_or(value)
        };
        Rate {
            per_second: share(rate.per_second),
            burst: share(rate.burst),
        }
    }

    /// Asks Redis whether `tenant` may make a call now under `rate`; `None`
    /// when Redis cannot say in time (limit locally then).
    pub async fn check(&self, tenant: &str, rate: Rate) -> Option<Verdict> {
        let verdict = self.ask(tenant, rate).await;
        if verdict.is_none() {
            self.metrics.record_rate_limit_fallback(tenant);
        }
        verdict
    }

    async fn ask(&self, tenant: &str, rate: Rate) -> Option<Verdict> {
        if now_ms() < self.skip_until_ms.load(Ordering::Relaxed) {
            return None;
        }
        let interval_us = 1_000_000 / u64::from(rate.per_second.get());
        let capacity_us = interval_us * u64::from(rate.burst.get());
        let key = format!("{}:rate:{tenant}", self.key_prefix);
        let mut connection = self.connection.clone();
        let mut invocation = self.script.key(key);
        invocation.arg(interval_us).arg(capacity_us);
        let asked = invocation.invoke_async::<u64>(&mut connection);
        match tokio::time::timeout(ANSWER_WITHIN, asked).await {
            Ok(Ok(0)) => {
                self.mark_up();
                Some(Verdict::Allowed)
            }
            Ok(Ok(wait_us)) => {
                self.mark_up();
                Some(Verdict::NotBefore(Duration::from_micros(wait_us)))
            }
            Ok(Err(err)) => {
                self.mark_down(&err.to_string());
                None
            }
            Err(_) => {
                self.mark_down("no answer in time");
                None
            }
        }
    }

    fn mark_up(&self) {
        if !self.up.swap(true, Ordering::Relaxed) {
            tracing::info!(redis = %self.shown, "rate limits are shared through Redis");
            self.metrics.set_redis_up(true);
        }
    }

    fn mark_down(&self, why: &str) {
        self.skip_until_ms
            .store(now_ms() + BACK_OFF.as_millis() as u64, Ordering::Relaxed);
        if self.up.swap(false, Ordering::Relaxed) {
            tracing::warn!(redis = %self.shown, error = why, replicas = self.replicas, "Redis cannot be reached: each replica limits at its share of the limit until it is back");
            self.metrics.set_redis_up(false);
        }
    }

    /// Pings Redis every [`PING_EVERY`], so `qlink_facade_redis_up` is true
    /// between calls too and a Redis that is back is used again at once.
    pub async fn watch(self: Arc<Self>) {
        let mut ticks = tokio::time::interval(PING_EVERY);
        loop {
            ticks.tick().await;
            let mut connection = self.connection.clone();
            let pinged = tokio::time::timeout(
                Duration::from_millis(500),
                redis::cmd("PING").query_async::<String>(&mut connection),
            )
            .await;
            match pinged {
                Ok(Ok(_)) => {
                    self.skip_until_ms.store(0, Ordering::Relaxed);
                    self.mark_up();
                }
                Ok(Err(err)) => self.mark_down(&err.to_string()),
                Err(_) => self.mark_down("no answer to PING in time"),
            }
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}
