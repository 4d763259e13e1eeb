//! Prometheus metrics, served as text at `/metrics` on the HTTP listener.
//! One [`Metrics`] per server, passed explicitly to the layers that record.
//! Labels are tenant ids, RPC / operation names and outcome codes only:
//! never anything a caller or warehouse sent. The per-call label sets hold
//! shared or static strings, so recording a call allocates nothing once its
//! series exists.

use std::{borrow::Cow, sync::Arc};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    tenant: Arc<str>,
    method: Arc<str>,
    code: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    tenant: Arc<str>,
    method: Arc<str>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    tenant: Arc<str>,
    operation: &'static str,
    outcome: Cow<'static, str>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    tenant: Arc<str>,
    operation: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PushLabels {
    tenant: String,
    kind: String,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TenantLabels {
    tenant: String,
}

/// What happened to a tenant's upstream call on its way, each counted in
/// a family of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// It waited for the tenant's rate limit.
    RateLimitWait,
    /// The rate limit would not let it through before its deadline.
    RateLimitRejection,
    /// It found the tenant's slots and queue full, or no slot freed in time.
    LoadShed,
    /// It was limited by this replica's share: Redis could not be reached.
    RateLimitFallback,
}

/// Why a connection was closed before it was served, each counted in a
/// family of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// The listener had `max_connections` open.
    Refused,
    /// No TLS handshake or first request head within `header_read_timeout`.
    TimedOut,
    /// Its TLS handshake failed.
    HandshakeFailed,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 100 µs … ~6.5 s
    Histogram::new(exponential_buckets(0.0001, 2.0, 17))
}

/// Every metric the facade exports.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: HistogramFamily<MethodLabels>,
    upstream_attempts: Family<AttemptLabels, Counter>,
    upstream_seconds: HistogramFamily<OperationLabels>,
    upstream_retries: Family<OperationLabels, Counter>,
    /// By [`Held`] variant.
    held: [Family<TenantLabels, Counter>; 4],
    queue_waits: HistogramFamily<TenantLabels>,
    pushes: Family<PushLabels, Counter>,
    store_up: Gauge,
    events_pruned: Counter,
    write_replays: Family<WriteLabels, Counter>,
    write_conflicts: Family<WriteLabels, Counter>,
    write_waits: Family<WriteLabels, Counter>,
    write_reconciliations: Family<ReconciliationLabels, Counter>,
    reloads: Family<OutcomeLabels, Counter>,
    redis_up: Gauge,
    connections_open: Family<ListenerLabels, Gauge>,
    /// By [`Dropped`] variant.
    dropped: [Family<ListenerLabels, Counter>; 3],
    tls_reloads: Family<OutcomeLabels, Counter>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListenerLabels {
    listener: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WriteLabels {
    tenant: String,
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReconciliationLabels {
    tenant: String,
    kind: &'static str,
    outcome: &'static str,
}

crate::debug::debug_showing!(Metrics {});

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// A metric's name and help text.
struct Def {
    name: &'static str,
    help: &'static str,
}

/// Each metric's name (after the `qlink_facade_` prefix) and what it
/// counts, as `# HELP` says it.
mod metric {
    use super::Def;

    pub const REQUESTS: Def = Def {
        name: "grpc_requests",
        help: "gRPC calls handled, by tenant, method and gRPC status code",
    };
    pub const REQUEST_SECONDS: Def = Def {
        name: "grpc_request_duration_seconds",
        help: "Time from a gRPC call's arrival to its response headers, by tenant and method",
    };
    pub const UPSTREAM_ATTEMPTS: Def = Def {
        name: "upstream_attempts",
        help: "HTTP attempts to warehouses, by tenant, protocol operation and outcome (HTTP status or error kind)",
    };
    pub const UPSTREAM_SECONDS: Def = Def {
        name: "upstream_attempt_duration_seconds",
        help: "Duration of one HTTP attempt to a warehouse, by tenant and operation",
    };
    pub const UPSTREAM_RETRIES: Def = Def {
        name: "upstream_retries",
        help: "Upstream attempts that were retries, by tenant and operation",
    };
    pub const RATE_LIMIT_WAITS: Def = Def {
        name: "rate_limit_waits",
        help: "Upstream calls that waited for the tenant's rate limit",
    };
    pub const RATE_LIMIT_REJECTIONS: Def = Def {
        name: "rate_limit_rejections",
        help: "Upstream calls refused because the rate limit would not allow them before the deadline",
    };
    pub const LOAD_SHED: Def = Def {
        name: "load_shed",
        help: "Upstream calls refused because the tenant's max_in_flight were busy and its queue was full, or no slot freed before the call's deadline",
    };
    pub const RATE_LIMIT_FALLBACKS: Def = Def {
        name: "rate_limit_fallbacks",
        help: "Upstream calls limited by this replica's local share because Redis could not be reached",
    };
    pub const QUEUE_WAITS: Def = Def {
        name: "queue_wait_seconds",
        help: "Time upstream calls waited in the tenant's queue for one of its max_in_flight slots (calls that found one free at once are not counted)",
    };
    pub const PUSHES: Def = Def {
        name: "push_events",
        help: "Warehouse pushes to the webhooks, by tenant, kind (order, asn) and outcome (accepted, duplicate, refused, not_stored)",
    };
    pub const STORE_UP: Def = Def {
        name: "store_up",
        help: "1 while the store commits this process's heartbeats in time, else 0",
    };
    pub const EVENTS_PRUNED: Def = Def {
        name: "events_pruned",
        help: "Push events removed by retention",
    };
    pub const WRITE_REPLAYS: Def = Def {
        name: "write_replays",
        help: "Repeated CreateOrder / CreateAsn calls answered from the store, by tenant and kind (order, asn)",
    };
    pub const WRITE_CONFLICTS: Def = Def {
        name: "write_conflicts",
        help: "CreateOrder / CreateAsn calls refused because their number was used for other content",
    };
    pub const WRITE_WAITS: Def = Def {
        name: "write_waits",
        help: "CreateOrder / CreateAsn calls that waited for an in-flight call with the same number",
    };
    pub const WRITE_RECONCILIATIONS: Def = Def {
        name: "write_reconciliations",
        help: "Writes whose outcome was unknown, looked up at the warehouse, by outcome (found, not_found, failed)",
    };
    pub const RELOADS: Def = Def {
        name: "config_reloads",
        help: "Configuration reloads (SIGHUP or a changed file), by outcome (ok, refused)",
    };
    pub const REDIS_UP: Def = Def {
        name: "redis_up",
        help: "1 while the rate limits are shared through Redis ([cluster]), else 0",
    };
    pub const CONNECTIONS_OPEN: Def = Def {
        name: "connections_open",
        help: "Connections open on a listener (grpc, http), counted against [server] max_connections",
    };
    pub const CONNECTIONS_REFUSED: Def = Def {
        name: "connections_refused",
        help: "Connections closed on accept because the listener had [server] max_connections open",
    };
    pub const CONNECTIONS_TIMED_OUT: Def = Def {
        name: "connections_timed_out",
        help: "Connections closed because their TLS handshake or first request head took longer than [server] header_read_timeout",
    };
    pub const TLS_HANDSHAKE_FAILURES: Def = Def {
        name: "tls_handshake_failures",
        help: "TLS handshakes that failed on a listener (plaintext clients, missing or untrusted client certificates)",
    };
    pub const TLS_RELOADS: Def = Def {
        name: "tls_reloads",
        help: "Reloads of the [server.tls] certificate, key and client CA (SIGHUP or a changed file), by outcome (ok, refused)",
    };
}

/// Label sets a family can be keyed by.
trait Labels:
    EncodeLabelSet + Clone + std::hash::Hash + Eq + std::fmt::Debug + Send + Sync + 'static
{
}

impl<L> Labels for L where
    L: EncodeLabelSet + Clone + std::hash::Hash + Eq + std::fmt::Debug + Send + Sync + 'static
{
}

/// Makes metric families, each registered as it is made.
struct Register<'a>(&'a mut Registry);

impl Register<'_> {
    fn counters<L: Labels>(&mut self, metric: &Def) -> Family<L, Counter> {
        let family = Family::default();
        self.0.register(metric.name, metric.help, family.clone());
        family
    }

    fn counter(&mut self, metric: &Def) -> Counter {
        let counter = Counter::default();
        self.0.register(metric.name, metric.help, counter.clone());
        counter
    }

    fn gauge(&mut self, metric: &Def) -> Gauge {
        let gauge = Gauge::default();
        self.0.register(metric.name, metric.help, gauge.clone());
        gauge
    }

    fn gauges<L: Labels>(&mut self, metric: &Def) -> Family<L, Gauge> {
        let family = Family::default();
        self.0.register(metric.name, metric.help, family.clone());
        family
    }

    fn latencies<L: Labels>(&mut self, metric: &Def) -> HistogramFamily<L> {
        let family: HistogramFamily<L> = Family::new_with_constructor(latency_histogram);
        self.0.register(metric.name, metric.help, family.clone());
        family
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("qlink_facade");
        let mut add = Register(&mut registry);
        // In the order of `Held`'s variants.
        let held = [
            &metric::RATE_LIMIT_WAITS,
            &metric::RATE_LIMIT_REJECTIONS,
            &metric::LOAD_SHED,
            &metric::RATE_LIMIT_FALLBACKS,
        ]
        .map(|def| add.counters(def));
        // In the order of `Dropped`'s variants.
        let dropped = [
            &metric::CONNECTIONS_REFUSED,
            &metric::CONNECTIONS_TIMED_OUT,
            &metric::TLS_HANDSHAKE_FAILURES,
        ]
        .map(|def| add.counters(def));
        Self {
            requests: add.counters(&metric::REQUESTS),
            request_seconds: add.latencies(&metric::REQUEST_SECONDS),
            upstream_attempts: add.counters(&metric::UPSTREAM_ATTEMPTS),
            upstream_seconds: add.latencies(&metric::UPSTREAM_SECONDS),
            upstream_retries: add.counters(&metric::UPSTREAM_RETRIES),
            queue_waits: add.latencies(&metric::QUEUE_WAITS),
            pushes: add.counters(&metric::PUSHES),
            store_up: add.gauge(&metric::STORE_UP),
            events_pruned: add.counter(&metric::EVENTS_PRUNED),
            write_replays: add.counters(&metric::WRITE_REPLAYS),
            write_conflicts: add.counters(&metric::WRITE_CONFLICTS),
            write_waits: add.counters(&metric::WRITE_WAITS),
            write_reconciliations: add.counters(&metric::WRITE_RECONCILIATIONS),
            reloads: add.counters(&metric::RELOADS),
            redis_up: add.gauge(&metric::REDIS_UP),
            connections_open: add.gauges(&metric::CONNECTIONS_OPEN),
            tls_reloads: add.counters(&metric::TLS_RELOADS),
            held,
            dropped,
            registry,
        }
    }

    /// A shared handle.
    pub fn shared() -> Arc<Self> {
        Arc::new(Self::new())
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }

    /// One gRPC call. `tenant` and `method` must come from a bounded set:
    /// configured tenants and served RPCs, or a fixed stand-in.
    ///
    /// The labels are taken by value and moved from one series' key to the
    /// next: every call shares these `Arc`s, and each clone and drop is an
    /// atomic write that the two cores take turns owning.
    pub fn record_request(
        &self,
        tenant: Arc<str>,
        method: Arc<str>,
        code: &'static str,
        seconds: f64,
    ) {
        let labels = RequestLabels {
            tenant,
            method,
            code,
        };
        self.requests.get_or_create(&labels).inc();
        let RequestLabels { tenant, method, .. } = labels;
        self.request_seconds
            .get_or_create(&MethodLabels { tenant, method })
            .observe(seconds);
    }

    /// One HTTP attempt to a warehouse; `outcome` is `ok`, an HTTP status or
    /// an error kind. Labels by value, as in [`Metrics::record_request`].
    pub fn record_attempt(
        &self,
        tenant: Arc<str>,
        operation: &'static str,
        outcome: Cow<'static, str>,
        seconds: f64,
    ) {
        let key = OperationLabels { tenant, operation };
        self.upstream_seconds.get_or_create(&key).observe(seconds);
        let OperationLabels { tenant, .. } = key;
        let attempts = AttemptLabels {
            tenant,
            operation,
            outcome,
        };
        self.upstream_attempts.get_or_create(&attempts).inc();
    }

    pub fn record_retry(&self, tenant: &Arc<str>, operation: &'static str) {
        self.upstream_retries
            .get_or_create(&OperationLabels {
                tenant: tenant.clone(),
                operation,
            })
            .inc();
    }

    /// `what` happened to one of `tenant`'s upstream calls.
    pub fn record_held(&self, tenant: &str, what: Held) {
        self.held[what as usize]
            .get_or_create(&tenant_labels(tenant))
            .inc();
    }

    /// A call that waited `seconds` in the tenant's queue, for a slot or
    /// until its deadline.
    pub fn record_queue_wait(&self, tenant: &str, seconds: f64) {
        self.queue_waits
            .get_or_create(&tenant_labels(tenant))
            .observe(seconds);
    }

    pub fn record_push(&self, tenant: &str, kind: &str, outcome: &str) {
        self.pushes
            .get_or_create(&PushLabels {
                tenant: tenant.to_owned(),
                kind: kind.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub fn set_store_up(&self, up: bool) {
        self.store_up.set(i64::from(up));
    }

    pub fn record_pruned(&self, events: u64) {
        self.events_pruned.inc_by(events);
    }

    pub fn record_write_replay(&self, tenant: &str, kind: &'static str) {
        self.write_replays
            .get_or_create(&write_labels(tenant, kind))
            .inc();
    }

    pub fn record_write_conflict(&self, tenant: &str, kind: &'static str) {
        self.write_conflicts
            .get_or_create(&write_labels(tenant, kind))
            .inc();
    }

    pub fn record_write_wait(&self, tenant: &str, kind: &'static str) {
        self.write_waits
            .get_or_create(&write_labels(tenant, kind))
            .inc();
    }

    pub fn set_redis_up(&self, up: bool) {
        self.redis_up.set(i64::from(up));
    }

    pub fn record_rate_limit_fallback(&self, tenant: &str) {
        self.record_held(tenant, Held::RateLimitFallback);
    }

    /// Makes `listener`'s series, at zero, so they are there before
    /// anything happens.
    pub fn listener_started(&self, listener: &'static str) {
        let labels = ListenerLabels { listener };
        let _ = self.connections_open.get_or_create(&labels);
        let _ = self.dropped[Dropped::Refused as usize].get_or_create(&labels);
        let _ = self.dropped[Dropped::TimedOut as usize].get_or_create(&labels);
    }

    /// The connections open on `listener` (`grpc` or `http`) change by
    /// `change`: 1 when one is let in, -1 when it closes.
    pub fn add_open_connections(&self, listener: &'static str, change: i64) {
        self.connections_open
            .get_or_create(&ListenerLabels { listener })
            .inc_by(change);
    }

    /// A connection on `listener` closed for `why`.
    pub fn record_dropped(&self, listener: &'static str, why: Dropped) {
        self.dropped[why as usize]
            .get_or_create(&ListenerLabels { listener })
            .inc();
    }

    pub fn record_tls_reload(&self, outcome: &'static str) {
        self.tls_reloads
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    pub fn record_reload(&self, outcome: &'static str) {
        self.reloads.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    pub fn record_reconciliation(&self, tenant: &str, kind: &'static str, outcome: &'static str) {
        self.write_reconciliations
            .get_or_create(&ReconciliationLabels {
                tenant: tenant.to_owned(),
                kind,
                outcome,
            })
            .inc();
    }
}

fn tenant_labels(tenant: &str) -> TenantLabels {
    TenantLabels {
        tenant: tenant.to_owned(),
    }
}

fn write_labels(tenant: &str, kind: &'static str) -> WriteLabels {
    WriteLabels {
        tenant: tenant.to_owned(),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The families indexed by variant are registered in the variants' order.
    #[test]
    fn each_held_and_dropped_variant_counts_in_its_own_series() {
        let metrics = Metrics::new();
        let held = |what| metrics.record_held("t", what);
        let dropped = |why| metrics.record_dropped("grpc", why);
        let steps: [(&dyn Fn(), &str); 7] = [
            (
                &|| held(Held::RateLimitWait),
                "rate_limit_waits_total{tenant=\"t\"}",
            ),
            (
                &|| held(Held::RateLimitRejection),
                "rate_limit_rejections_total{tenant=\"t\"}",
            ),
            (&|| held(Held::LoadShed), "load_shed_total{tenant=\"t\"}"),
            (
                &|| held(Held::RateLimitFallback),
                "rate_limit_fallbacks_total{tenant=\"t\"}",
            ),
            (
                &|| dropped(Dropped::Refused),
                "connections_refused_total{listener=\"grpc\"}",
            ),
            (
                &|| dropped(Dropped::TimedOut),
                "connections_timed_out_total{listener=\"grpc\"}",
            ),
            (
                &|| dropped(Dropped::HandshakeFailed),
                "tls_handshake_failures_total{listener=\"grpc\"}",
            ),
        ];
        for (record, series) in steps {
            record();
            let text = metrics.encode();
            assert!(
                text.contains(&format!("qlink_facade_{series} 1\n")),
                "{series} in\n{text}"
            );
        }
    }
}
