//! One running facade: the store opened, the tenants built, the background
//! work started (store health, retention), and both listeners served until
//! shutdown. The binary and the tests assemble the service through here, so
//! they run the same thing.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, SystemTime},
};

use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

use crate::{
    admin::{self, AdminState},
    api::FacadeApi,
    cluster::{ClusterError, SharedLimits},
    config::{Config, ServerConfig},
    listener::{Listener, ListenerName},
    metrics::Metrics,
    push::{watch::Watches, webhook::Webhooks},
    reload::ConfigSource,
    server::{self, ServeError},
    store::{self, Store, StoreError},
    tenant::{BuildError, TenantRegistry, Tenants},
    tls::{self, ServerTls, TlsError},
    writes::Writes,
};

/// How often the store's health is checked (a heartbeat committed).
const HEALTH_EVERY: Duration = Duration::from_secs(2);
/// How long a heartbeat may take before the store counts as down.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(1);
/// How long shutdown waits for answered writes to record their outcomes.
const RECORDING_DRAIN: Duration = Duration::from_secs(5);

/// The facade could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tenants(#[from] BuildError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// A facade ready to serve.
#[derive(Debug)]
pub struct App {
    metrics: Arc<Metrics>,
    store: Arc<dyn Store>,
    tenants: Arc<Tenants>,
    /// `[cluster]`: the rate limits kept in Redis.
    shared_limits: Option<Arc<SharedLimits>>,
    writes: Writes,
    /// `[server]`: the listeners' limits, `max_watch_streams`.
    server: ServerConfig,
    /// `[server.tls]`, loaded; reloaded in place by a background task.
    tls: Option<Arc<ServerTls>>,
    /// Whether the last health check committed; `/readyz` needs it.
    store_up: Arc<AtomicBool>,
    background: Background,
}

impl App {
    /// Opens the store (creating and migrating it) and builds every tenant.
    pub async fn open(config: &Config, metrics: Arc<Metrics>) -> Result<Self, StartError> {
        let replica = store::replica_name();
        let tls = match &config.server.tls {
            Some(tls_config) => {
                let tls = Arc::new(ServerTls::load(tls_config.clone())?);
                tracing::info!(
                    cert = %tls_config.cert.display(),
                    client_certificates = tls_config.client_ca.is_some(),
                    http_tls = tls_config.http_tls,
                    "TLS on the gRPC listener"
                );
                Some(tls)
            }
            None => None,
        };
        let store = store::open(&config.store, &replica).await?;
        tracing::info!(store = store.describe(), "store open");
        let shared_limits = config
            .cluster
            .as_ref()
            .map(|cluster| SharedLimits::new(cluster, metrics.clone()))
            .transpose()?;
        if let Some(shared) = &shared_limits {
            tracing::info!(
                redis = shared.describe(),
                "rate limits shared through Redis"
            );
        }
        let tenants = Tenants::new(TenantRegistry::build(
            &config.tenants,
            shared_limits.as_ref(),
            metrics.clone(),
        )?);
        let writes = Writes::new(store.clone(), metrics.clone(), &replica, &config.store);
        // Up until a health check says otherwise: it has just opened.
        let store_up = Arc::new(AtomicBool::new(true));
        metrics.set_store_up(true);
        let mut background = Background(vec![
            tokio::spawn(watch_health(
                store.clone(),
                store_up.clone(),
                metrics.clone(),
            )),
            tokio::spawn(prune(
                store.clone(),
                config.store.push_retention,
                metrics.clone(),
            )),
            tokio::spawn(writes.clone().reconcile_abandoned(tenants.clone())),
        ]);
        if let Some(shared) = &shared_limits {
            background.0.push(tokio::spawn(shared.clone().watch()));
        }
        if let Some(tls) = &tls {
            background
                .0
                .push(tokio::spawn(tls::watch(tls.clone(), metrics.clone())));
        }
        Ok(Self {
            metrics,
            store,
            tenants,
            shared_limits,
            writes,
            server: config.server.clone(),
            tls,
            store_up,
            background,
        })
    }

    pub fn tenants(&self) -> &Arc<Tenants> {
        &self.tenants
    }

    /// Reloads the configuration from `source` on SIGHUP and when its file
    /// changes (see `reload`); `running` is the one in force.
    pub fn reload_from(&mut self, source: ConfigSource, running: Config) {
        self.background.0.push(tokio::spawn(crate::reload::watch(
            source,
            running,
            self.tenants.clone(),
            self.shared_limits.clone(),
            self.metrics.clone(),
        )));
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Serves gRPC on `grpc` and, when given, metrics, health and the push
    /// webhooks on `http`, until `shutdown` completes and in-flight calls
    /// have drained. `/readyz` is ready from now until shutdown begins,
    /// while the store is up.
    pub async fn serve(
        self,
        grpc: TcpListener,
        http: Option<TcpListener>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let ready = Arc::new(AtomicBool::new(true));
        // Both listeners stop accepting as soon as shutdown begins; the
        // HTTP one also when this future is dropped (the sender with it).
        let (stopping, http_stop) = watch::channel(false);
        let limits = self.server.limits;
        if let Some(http) = http {
            let http = Listener::new(http, ListenerName::Http, limits, self.metrics.clone());
            let http_tls = self.tls.clone().filter(|tls| tls.config().http_tls);
            let state = AdminState {
                metrics: self.metrics.clone(),
                ready: ready.clone(),
                store_up: self.store_up.clone(),
            };
            let webhooks = Webhooks::new(
                self.tenants.clone(),
                self.store.clone(),
                self.metrics.clone(),
            );
            let mut http_stop = http_stop;
            tokio::spawn(async move {
                let stopped = async move {
                    let _ = http_stop.wait_for(|stopping| *stopping).await;
                };
                admin::serve_on(http, http_tls, state, webhooks, stopped).await;
            });
        }
        // Event streams end as soon as shutdown begins, so that only unary
        // calls use the drain time.
        let (draining, drain_started) = watch::channel(false);
        let api = FacadeApi::new(
            self.tenants.clone(),
            self.store.clone(),
            self.writes.clone(),
            Watches::new(self.server.max_watch_streams, drain_started),
        );
        let readiness = {
            let (ready, store_up) = (ready.clone(), self.store_up.clone());
            move || ready.load(Ordering::Relaxed) && store_up.load(Ordering::Relaxed)
        };
        let grpc = Listener::new(grpc, ListenerName::Grpc, limits, self.metrics.clone());
        let result = server::serve(
            grpc,
            self.tls.clone(),
            self.server.http2,
            api,
            self.metrics.clone(),
            readiness,
            async move {
                shutdown.await;
                ready.store(false, Ordering::Relaxed);
                draining.send_replace(true);
                stopping.send_replace(true);
            },
        )
        .await;
        // Writes answered already may still be recording their outcomes.
        self.writes.finish_recording(RECORDING_DRAIN).await;
        drop(self.background);
        result
    }
}

/// Background tasks, stopped with the app.
#[derive(Debug)]
struct Background(Vec<JoinHandle<()>>);

impl Drop for Background {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Commits a heartbeat every [`HEALTH_EVERY`]; the store is up while they
/// commit in time. Logs each change.
async fn watch_health(store: Arc<dyn Store>, up: Arc<AtomicBool>, metrics: Arc<Metrics>) {
    let mut ticks = tokio::time::interval(HEALTH_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let checked = match tokio::time::timeout(HEALTH_TIMEOUT, store.heartbeat()).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::TimedOut(HEALTH_TIMEOUT)),
        };
        let now_up = checked.is_ok();
        if up.swap(now_up, Ordering::Relaxed) != now_up {
            match &checked {
                Ok(()) => tracing::info!(store = store.describe(), "the store is reachable again"),
                Err(err) => {
                    tracing::error!(store = store.describe(), error = %err, "the store is down: not ready, pushes answered 503")
                }
            }
        }
        metrics.set_store_up(now_up);
    }
}

/// Removes push events older than `retention`, checking a few dozen times
/// per retention period (at most every 10 minutes, at least every second).
async fn prune(store: Arc<dyn Store>, retention: Duration, metrics: Arc<Metrics>) {
    let every = (retention / 24).clamp(Duration::from_secs(1), Duration::from_secs(600));
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(cutoff) = SystemTime::now().checked_sub(retention) else {
            continue;
        };
        match store.prune_events(store::millis(cutoff)).await {
            Ok(0) => {}
            Ok(removed) => {
                metrics.record_pruned(removed);
                tracing::info!(
                    removed,
                    retention_secs = retention.as_secs(),
                    "pruned push events past retention"
                );
            }
            Err(err) => tracing::warn!(error = %err, "cannot prune push events; will try again"),
        }
    }
}
