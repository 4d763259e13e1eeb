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
    rate_limit_waits: Family<TenantLabels, Counter>,
    rate_limit_rejections: Family<TenantLabels, Counter>,
    load_shed: Family<TenantLabels, Counter>,
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
    rate_limit_fallbacks: Family<TenantLabels, Counter>,
    connections_open: Family<ListenerLabels, Gauge>,
    connections_refused: Family<ListenerLabels, Counter>,
    connections_timed_out: Family<ListenerLabels, Counter>,
    tls_reloads: Family<OutcomeLabels, Counter>,
    tls_handshake_failures: Family<ListenerLabels, Counter>,
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

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// What each metric counts, as `# HELP` says it.
mod help {
    pub const REQUESTS: &str = "gRPC calls handled, by tenant, method and gRPC status code";
    pub const REQUEST_SECONDS: &str =
        "Time from a gRPC call's arrival to its response headers, by tenant and method";
    pub const ATTEMPTS: &str = "HTTP attempts to warehouses, by tenant, protocol operation and outcome (HTTP status or error kind)";
    pub const ATTEMPT_SECONDS: &str =
        "Duration of one HTTP attempt to a warehouse, by tenant and operation";
    pub const RETRIES: &str = "Upstream attempts that were retries, by tenant and operation";
    pub const RATE_LIMIT_WAITS: &str = "Upstream calls that waited for the tenant's rate limit";
    pub const RATE_LIMIT_REJECTIONS: &str =
        "Upstream calls refused because the rate limit would not allow them before the deadline";
    pub const LOAD_SHED: &str = "Upstream calls refused because the tenant's max_in_flight were busy and its queue was full, or no slot freed before the call's deadline";
    pub const QUEUE_WAITS: &str = "Time upstream calls waited in the tenant's queue for one of its max_in_flight slots (calls that found one free at once are not counted)";
    pub const PUSHES: &str = "Warehouse pushes to the webhooks, by tenant, kind (order, asn) and outcome (accepted, duplicate, refused, not_stored)";
    pub const STORE_UP: &str =
        "1 while the store commits this process's heartbeats in time, else 0";
    pub const EVENTS_PRUNED: &str = "Push events removed by retention";
    pub const WRITE_REPLAYS: &str = "Repeated CreateOrder / CreateAsn calls answered from the store, by tenant and kind (order, asn)";
    pub const WRITE_CONFLICTS: &str =
        "CreateOrder / CreateAsn calls refused because their number was used for other content";
    pub const WRITE_WAITS: &str =
        "CreateOrder / CreateAsn calls that waited for an in-flight call with the same number";
    pub const WRITE_RECONCILIATIONS: &str = "Writes whose outcome was unknown, looked up at the warehouse, by outcome (found, not_found, failed)";
    pub const RELOADS: &str =
        "Configuration reloads (SIGHUP or a changed file), by outcome (ok, refused)";
    pub const REDIS_UP: &str =
        "1 while the rate limits are shared through Redis ([cluster]), else 0";
    pub const RATE_LIMIT_FALLBACKS: &str =
        "Upstream calls limited by this replica's local share because Redis could not be reached";
    pub const CONNECTIONS_OPEN: &str =
        "Connections open on a listener (grpc, http), counted against [server] max_connections";
    pub const CONNECTIONS_REFUSED: &str =
        "Connections closed on accept because the listener had [server] max_connections open";
    pub const CONNECTIONS_TIMED_OUT: &str = "Connections closed because their TLS handshake or first request head took longer than [server] header_read_timeout";
    pub const TLS_HANDSHAKE_FAILURES: &str = "TLS handshakes that failed on a listener (plaintext clients, missing or untrusted client certificates)";
    pub const TLS_RELOADS: &str = "Reloads of the [server.tls] certificate, key and client CA (SIGHUP or a changed file), by outcome (ok, refused)";
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
    fn counters<L: Labels>(&mut self, name: &str, help: &str) -> Family<L, Counter> {
        let family = Family::default();
        self.0.register(name, help, family.clone());
        family
    }

    fn counter(&mut self, name: &str, help: &str) -> Counter {
        let counter = Counter::default();
        self.0.register(name, help, counter.clone());
        counter
    }

    fn gauge(&mut self, name: &str, help: &str) -> Gauge {
        let gauge = Gauge::default();
        self.0.register(name, help, gauge.clone());
        gauge
    }

    fn gauges<L: Labels>(&mut self, name: &str, help: &str) -> Family<L, Gauge> {
        let family = Family::default();
        self.0.register(name, help, family.clone());
        family
    }

    fn latencies<L: Labels>(&mut self, name: &str, help: &str) -> HistogramFamily<L> {
        let family: HistogramFamily<L> = Family::new_with_constructor(latency_histogram);
        self.0.register(name, help, family.clone());
        family
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("qlink_facade");
        let mut add = Register(&mut registry);
        let requests = add.counters("grpc_requests", help::REQUESTS);
        let request_seconds = add.latencies("grpc_request_duration_seconds", help::REQUEST_SECONDS);
        let upstream_attempts = add.counters("upstream_attempts", help::ATTEMPTS);
        let upstream_seconds =
            add.latencies("upstream_attempt_duration_seconds", help::ATTEMPT_SECONDS);
        let upstream_retries = add.counters("upstream_retries", help::RETRIES);
        let rate_limit_waits = add.counters("rate_limit_waits", help::RATE_LIMIT_WAITS);
        let rate_limit_rejections =
            add.counters("rate_limit_rejections", help::RATE_LIMIT_REJECTIONS);
        let load_shed = add.counters("load_shed", help::LOAD_SHED);
        let queue_waits = add.latencies("queue_wait_seconds", help::QUEUE_WAITS);
        let pushes = add.counters("push_events", help::PUSHES);
        let store_up = add.gauge("store_up", help::STORE_UP);
        let events_pruned = add.counter("events_pruned", help::EVENTS_PRUNED);
        let write_replays = add.counters("write_replays", help::WRITE_REPLAYS);
        let write_conflicts = add.counters("write_conflicts", help::WRITE_CONFLICTS);
        let write_waits = add.counters("write_waits", help::WRITE_WAITS);
        let write_reconciliations =
            add.counters("write_reconciliations", help::WRITE_RECONCILIATIONS);
        let reloads = add.counters("config_reloads", help::RELOADS);
        let redis_up = add.gauge("redis_up", help::REDIS_UP);
        let rate_limit_fallbacks = add.counters("rate_limit_fallbacks", help::RATE_LIMIT_FALLBACKS);
        let connections_open = add.gauges("connections_open", help::CONNECTIONS_OPEN);
        let connections_refused = add.counters("connections_refused", help::CONNECTIONS_REFUSED);
        let connections_timed_out =
            add.counters("connections_timed_out", help::CONNECTIONS_TIMED_OUT);
        let tls_reloads = add.counters("tls_reloads", help::TLS_RELOADS);
        let tls_handshake_failures =
            add.counters("tls_handshake_failures", help::TLS_HANDSHAKE_FAILURES);
        Self {
            tls_handshake_failures,
            connections_open,
            connections_refused,
            connections_timed_out,
            tls_reloads,
            redis_up,
            rate_limit_fallbacks,
            reloads,
            pushes,
            store_up,
            events_pruned,
            write_replays,
            write_conflicts,
            write_waits,
            write_reconciliations,
            registry,
            requests,
            request_seconds,
            upstream_attempts,
            upstream_seconds,
            upstream_retries,
            rate_limit_waits,
            rate_limit_rejections,
            load_shed,
            queue_waits,
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

    pub fn record_rate_limit_wait(&self, tenant: &str) {
        self.rate_limit_waits
            .get_or_create(&TenantLabels {
                tenant: tenant.to_owned(),
            })
            .inc();
    }

    pub fn record_rate_limit_rejection(&self, tenant: &str) {
        self.rate_limit_rejections
            .get_or_create(&TenantLabels {
                tenant: tenant.to_owned(),
            })
            .inc();
    }

    pub fn record_load_shed(&self, tenant: &str) {
        self.load_shed
            .get_or_create(&TenantLabels {
                tenant: tenant.to_owned(),
            })
            .inc();
    }

    /// A call that waited `seconds` in the tenant's queue, for a slot or
    /// until its deadline.
    pub fn record_queue_wait(&self, tenant: &str, seconds: f64) {
        self.queue_waits
            .get_or_create(&TenantLabels {
                tenant: tenant.to_owned(),
            })
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
        self.rate_limit_fallbacks
            .get_or_create(&TenantLabels {
                tenant: tenant.to_owned(),
            })
            .inc();
    }

    /// Makes `listener`'s series, at zero, so they are there before
    /// anything happens.
    pub fn listener_started(&self, listener: &'static str) {
        let labels = ListenerLabels { listener };
        let _ = self.connections_open.get_or_create(&labels);
        let _ = self.connections_refused.get_or_create(&labels);
        let _ = self.connections_timed_out.get_or_create(&labels);
    }

    /// A connection let in on `listener` (`grpc` or `http`).
    pub fn connection_opened(&self, listener: &'static str) {
        self.connections_open
            .get_or_create(&ListenerLabels { listener })
            .inc();
    }

    /// A connection on `listener` closed.
    pub fn connection_closed(&self, listener: &'static str) {
        self.connections_open
            .get_or_create(&ListenerLabels { listener })
            .dec();
    }

    pub fn record_connection_refused(&self, listener: &'static str) {
        self.connections_refused
            .get_or_create(&ListenerLabels { listener })
            .inc();
    }

    pub fn record_connection_timed_out(&self, listener: &'static str) {
        self.connections_timed_out
            .get_or_create(&ListenerLabels { listener })
            .inc();
    }

    pub fn record_tls_handshake_failure(&self, listener: &'static str) {
        self.tls_handshake_failures
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

fn write_labels(tenant: &str, kind: &'static str) -> WriteLabels {
    WriteLabels {
        tenant: tenant.to_owned(),
        kind,
    }
}
