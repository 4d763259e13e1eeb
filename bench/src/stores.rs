//! The scenarios that go through the store, on every engine this machine
//! has: signed Qianyi order pushes to the webhook from 20 senders, and
//! CreateOrder with exactly-once writes (each call a new order number, so
//! each is really sent; and one order sent again and again, answered from
//! the store), beside today's CreateOrder path (exactly-once off, on the
//! main facade) measured before and after them in the same run.
//!
//! Each engine gets a facade of its own: an `App` on the facade runtime
//! with the main facade's tenants, exactly-once writes on, and both
//! listeners (gRPC, and HTTP for the webhook). The warehouse counts the
//! `createOrder` requests it receives, so each run checks that every new
//! number reached it and that no repeat did.

use std::{
    net::SocketAddr,
    path::{Path as FsPath, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use qlink_facade::{
    app::App,
    config::Config,
    metrics::Metrics,
    proto,
    store::{StoreConfig, StoreLocation},
};
use serde::Deserialize;
use sqlx::{Connection, PgConnection};
use tokio::{net::TcpListener, runtime::Runtime, sync::Mutex};
use tonic::transport::Channel;

mod probes;
pub use self::probes::SYNC_PROBES;
use warehouse_protocol::sign::qianyi_sign;

use self::probes::{PostgresBackends, ScratchDb, filesystem_of, probe_disk_syncs, rand_u64};
use crate::{
    floor,
    measure::{self, Group, Latencies, Run},
    scenarios::{
        self, Bench, PUSH_ACCESS_ID, PUSH_EXTRA_TYPE, PUSH_SECRET_KEY, Path, Scenario, Writes,
        create_order,
    },
    upstream::Upstream,
};

/// Senders pushing at once in the push scenario (issue 16's figure).
pub const PUSH_SENDERS: usize = 20;
/// The variable naming a PostgreSQL server the benchmark may create a
/// database on (the tests' variable; `scripts/test-services start` runs one).
pub const POSTGRES_URL_VAR: &str = "QLINK_TEST_POSTGRES_URL";
/// Where the SQLite file of the nearest-to-memory row goes.
const TMPFS_DIR: &str = "/dev/shm";

/// Where a store facade keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// SQLite as shipped (WAL, `synchronous=FULL`), a file in the temp dir.
    Sqlite,
    /// The same on tmpfs, where a sync to disk costs nothing: the nearest
    /// to the in-memory push log the store replaced, which no longer exists.
    SqliteTmpfs,
    /// A fresh database on the server `QLINK_TEST_POSTGRES_URL` names.
    Postgres,
}

impl Engine {
    pub const ALL: [Engine; 3] = [Self::Sqlite, Self::SqliteTmpfs, Self::Postgres];

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::SqliteTmpfs => "SQLite on tmpfs",
            Self::Postgres => "PostgreSQL",
        }
    }
}

/// What the store scenarios measure; `--only` takes these names too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreScenario {
    /// Acknowledged pushes from [`PUSH_SENDERS`] senders, each push a new
    /// order's status.
    Push,
    /// CreateOrder with exactly-once writes, each call a new order number.
    CreateOrderExactlyOnce,
    /// CreateOrder of one order already sent, again and again: answered
    /// from the store without the warehouse.
    CreateOrderReplayed,
}

impl StoreScenario {
    pub const ALL: [StoreScenario; 3] = [
        Self::Push,
        Self::CreateOrderExactlyOnce,
        Self::CreateOrderReplayed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Push => "Push",
            Self::CreateOrderExactlyOnce => "CreateOrderExactlyOnce",
            Self::CreateOrderReplayed => "CreateOrderReplayed",
        }
    }

    fn is_create_order(self) -> bool {
        matches!(
            self,
            Self::CreateOrderExactlyOnce | Self::CreateOrderReplayed
        )
    }
}

/// A facade on one engine, or why the engine was not tried.
pub enum EngineFacade {
    Running(StoreFacade),
    Skipped { engine: Engine, reason: String },
}

/// A running facade whose store is on one engine.
pub struct StoreFacade {
    pub engine: Engine,
    /// Where the data is and how durable its commits are, for the report.
    pub location: String,
    channel: Channel,
    http_addr: SocketAddr,
    /// The PostgreSQL server's processes that serve this facade.
    postgres: Option<Arc<PostgresBackends>>,
    /// Where the disk's sync latency is probed: the SQLite file's
    /// directory, or for PostgreSQL the temp dir (the same disk as the
    /// server's data when it runs here, as `scripts/test-services`' does).
    sync_dir: PathBuf,
    /// Removes a SQLite file the benchmark made, once the run is over.
    _scratch: Option<ScratchDb>,
}

/// Starts a facade per engine of `engines` on `facade_rt`; the PostgreSQL
/// database is made (and later watched) from `client_rt`, where the
/// measuring runs.
pub fn start(
    engines: &[Engine],
    facade_rt: &Runtime,
    client_rt: &Runtime,
    upstream: &Upstream,
) -> Result<Vec<EngineFacade>, String> {
    let mut facades = Vec::new();
    for &engine in engines {
        let prepared = match engine {
            Engine::Sqlite => Ok(sqlite_in(&std::env::temp_dir(), "a file in the temp dir")),
            Engine::SqliteTmpfs => {
                let dir = FsPath::new(TMPFS_DIR);
                match filesystem_of(dir) {
                    Some(fs) if fs == "tmpfs" => Ok(sqlite_in(dir, "tmpfs")),
                    Some(fs) => Err(format!("{TMPFS_DIR} is {fs}, not tmpfs")),
                    None => Err(format!("no {TMPFS_DIR} on this machine")),
                }
            }
            Engine::Postgres => match std::env::var(POSTGRES_URL_VAR) {
                Ok(admin_url) => client_rt.block_on(fresh_postgres(&admin_url)),
                Err(_) => Err(format!(
                    "{POSTGRES_URL_VAR} is not set (scripts/test-services start runs a server)"
                )),
            },
        };
        let prepared = match prepared {
            Ok(prepared) => prepared,
            Err(reason) => {
                eprintln!("store scenarios on {}: skipped: {reason}", engine.name());
                facades.push(EngineFacade::Skipped { engine, reason });
                continue;
            }
        };
        let facade = spawn_facade(facade_rt, client_rt, upstream, engine, prepared)
            .map_err(|err| format!("the facade on {}: {err}", engine.name()))?;
        eprintln!("store scenarios on {}: {}", engine.name(), facade.location);
        facades.push(EngineFacade::Running(facade));
    }
    Ok(facades)
}

/// A store to open, and what the report says about it.
struct Prepared {
    store: StoreConfig,
    location: String,
    scratch: Option<ScratchDb>,
    postgres: Option<PostgresBackends>,
}

fn sqlite_in(dir: &FsPath, what: &str) -> Prepared {
    let scratch = ScratchDb::in_dir(dir);
    let fs = filesystem_of(dir).unwrap_or_else(|| "an unknown file system".to_owned());
    Prepared {
        store: StoreConfig::at(StoreLocation::Sqlite(scratch.0.clone())),
        location: format!(
            "WAL, synchronous=FULL (the store's only setting), {what} ({}, {fs})",
            dir.display()
        ),
        scratch: Some(scratch),
        postgres: None,
    }
}

fn spawn_facade(
    facade_rt: &Runtime,
    client_rt: &Runtime,
    upstream: &Upstream,
    engine: Engine,
    prepared: Prepared,
) -> Result<StoreFacade, String> {
    let mut config = Config::from_toml(
        &scenarios::facade_config(upstream, Writes::ExactlyOnce),
        &|_| None,
    )
    .map_err(|err| format!("config: {err}"))?;
    config.store = prepared.store;
    let app = facade_rt
        .block_on(App::open(&config, Metrics::shared()))
        .map_err(|err| err.to_string())?;
    let (grpc, http) = facade_rt
        .block_on(async {
            let grpc = crate::bind_facade(false).await?;
            let http = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
            Ok::<_, std::io::Error>((grpc, http))
        })
        .map_err(|err| format!("cannot bind its listeners: {err}"))?;
    let grpc_addr = grpc.local_addr().map_err(|err| err.to_string())?;
    let http_addr = http.local_addr().map_err(|err| err.to_string())?;
    let name = engine.name();
    facade_rt.spawn(async move {
        if let Err(err) = app.serve(grpc, Some(http), std::future::pending()).await {
            eprintln!("qlink-bench: the facade on {name} stopped: {err}");
        }
    });
    let channel = client_rt
        .block_on(
            Channel::from_shared(format!("http://{grpc_addr}"))
                .map_err(|err| err.to_string())?
                .connect_timeout(Duration::from_secs(5))
                .connect(),
        )
        .map_err(|err| format!("cannot connect to it: {err}"))?;
    Ok(StoreFacade {
        engine,
        location: prepared.location,
        channel,
        http_addr,
        postgres: prepared.postgres.map(Arc::new),
        sync_dir: prepared
            .scratch
            .as_ref()
            .and_then(|scratch| scratch.0.parent().map(FsPath::to_owned))
            .unwrap_or_else(std::env::temp_dir),
        _scratch: prepared.scratch,
    })
}

/// A fresh database on the server `admin_url` names, and a connection to
/// watch the backends that serve it.
async fn fresh_postgres(admin_url: &str) -> Result<Prepared, String> {
    let mut admin = PgConnection::connect(admin_url)
        .await
        .map_err(|err| format!("cannot connect to {POSTGRES_URL_VAR}: {err}"))?;
    let database = format!("qlink_bench_{:016x}", rand_u64());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut admin)
        .await
        .map_err(|err| format!("cannot create a database: {err}"))?;
    let mut setting = async |name: &str| -> String {
        sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!("SHOW {name}")))
            .fetch_one(&mut admin)
            .await
            .unwrap_or_else(|_| "?".to_owned())
    };
    let version = setting("server_version").await;
    let synchronous_commit = setting("synchronous_commit").await;
    let fsync = setting("fsync").await;
    let mut url = reqwest::Url::parse(admin_url).map_err(|err| err.to_string())?;
    url.set_path(&database);
    let host = format!(
        "{}:{}",
        url.host_str().unwrap_or("?"),
        url.port().unwrap_or(5432)
    );
    Ok(Prepared {
        store: StoreConfig::at(StoreLocation::parse(url.as_str())?),
        location: format!(
            "PostgreSQL {version} on {host}, a fresh database, synchronous_commit={synchronous_commit}, fsync={fsync}"
        ),
        scratch: None,
        postgres: Some(PostgresBackends {
            admin: Mutex::new(admin),
            database,
        }),
    })
}

/// One measured run of a store scenario.
pub struct StoreRun {
    pub scenario: StoreScenario,
    pub engine: Engine,
    pub callers: usize,
    pub run: Run,
    /// CPU seconds of the PostgreSQL backends serving the facade, when
    /// they could be read.
    pub postgres_cpu: Option<f64>,
    /// A check of what reached the warehouse that failed.
    pub check_failure: Option<String>,
    /// Sync-to-disk latencies probed just before and just after the run.
    pub disk_syncs: Latencies,
}

/// A store facade's CPU ms per call: its runtime and sqlx's SQLite threads.
pub fn facade_cpu_ms(run: &Run) -> f64 {
    run.cpu_ms_per_call(Some(Group::Facade)) + run.cpu_ms_per_call(Some(Group::Store))
}

impl StoreRun {
    pub fn postgres_cpu_ms(&self) -> Option<f64> {
        self.postgres_cpu
            .map(|seconds| seconds * 1000.0 / self.run.calls.max(1) as f64)
    }

    pub fn failures(&self) -> u64 {
        self.run.errors + u64::from(self.check_failure.is_some())
    }
}

/// Today's CreateOrder (exactly-once off) on the main facade, before and
/// after the store runs: (callers, run) as [`Timing::create_order_runs`].
pub struct Baseline {
    pub before: Vec<(usize, Run)>,
    pub after: Vec<(usize, Run)>,
}

impl Baseline {
    /// Mean calls/s of the loaded runs before and after.
    pub fn loaded_per_second(&self) -> f64 {
        let loaded: Vec<f64> = self
            .before
            .iter()
            .chain(&self.after)
            .filter(|(callers, _)| *callers != 1)
            .map(|(_, run)| run.per_second())
            .collect();
        loaded.iter().sum::<f64>() / loaded.len().max(1) as f64
    }
}

/// Everything the store scenarios measured.
pub struct StoreResults {
    pub runs: Vec<StoreRun>,
    /// Where each running engine keeps its data.
    pub locations: Vec<(Engine, String)>,
    pub baseline: Option<Baseline>,
    pub skipped: Vec<(Engine, String)>,
}

impl StoreResults {
    pub fn failures(&self) -> u64 {
        let baseline = self
            .baseline
            .iter()
            .flat_map(|b| b.before.iter().chain(&b.after));
        self.runs.iter().map(StoreRun::failures).sum::<u64>()
            + baseline.map(|(_, run)| run.errors).sum::<u64>()
    }

    pub fn runs_location(&self, engine: Engine) -> Option<&str> {
        self.locations
            .iter()
            .find(|(running, _)| *running == engine)
            .map(|(_, location)| location.as_str())
    }

    /// The loaded run of `scenario` on `engine`.
    pub fn loaded(&self, scenario: StoreScenario, engine: Engine) -> Option<&StoreRun> {
        self.runs
            .iter()
            .find(|run| run.scenario == scenario && run.engine == engine && run.callers != 1)
    }
}

/// How long each kind of run lasts.
pub struct Timing {
    pub concurrency: usize,
    pub warmup: Duration,
    pub loaded: Duration,
    pub unloaded: Duration,
    /// Whether CreateOrder also runs with one caller (not in `--smoke`).
    pub latency_runs: bool,
}

impl Timing {
    /// (callers, duration) of each CreateOrder run.
    fn create_order_runs(&self) -> Vec<(usize, Duration)> {
        let latency = self.latency_runs.then_some((1, self.unloaded));
        latency
            .into_iter()
            .chain([(self.concurrency, self.loaded)])
            .collect()
    }
}

/// Runs `scenarios` on every running engine facade, with today's
/// CreateOrder before and after when a CreateOrder scenario is among them.
pub async fn measure(
    scenarios: &[StoreScenario],
    facades: &[EngineFacade],
    bench: &Bench,
    upstream: &Upstream,
    timing: &Timing,
) -> Result<StoreResults, String> {
    let skipped = facades
        .iter()
        .filter_map(|facade| match facade {
            EngineFacade::Skipped { engine, reason } => Some((*engine, reason.clone())),
            EngineFacade::Running(_) => None,
        })
        .collect();
    let running: Vec<&StoreFacade> = facades
        .iter()
        .filter_map(|facade| match facade {
            EngineFacade::Running(facade) => Some(facade),
            EngineFacade::Skipped { .. } => None,
        })
        .collect();
    let mut runs = Vec::new();
    if scenarios.contains(&StoreScenario::Push) {
        let http = floor::http_client().map_err(|err| format!("push client: {err}"))?;
        for facade in &running {
            let sender = PushSender {
                http: http.clone(),
                url: Arc::from(format!(
                    "http://{}/sys/automatic/receiveOdo/{PUSH_EXTRA_TYPE}",
                    facade.http_addr
                )),
            };
            let run = timed(
                facade,
                PUSH_SENDERS,
                timing.warmup,
                timing.loaded,
                move || {
                    let sender = sender.clone();
                    async move { sender.push_new_order_status().await }
                },
            )
            .await;
            runs.push(finish(StoreScenario::Push, facade, PUSH_SENDERS, run, None));
        }
    }
    let create_orders: Vec<StoreScenario> = scenarios
        .iter()
        .copied()
        .filter(|scenario| scenario.is_create_order())
        .collect();
    let mut baseline = None;
    if !create_orders.is_empty() {
        let before = baseline_runs(bench, timing).await;
        for facade in &running {
            for &scenario in &create_orders {
                for (callers, duration) in timing.create_order_runs() {
                    let run = create_order_run(
                        scenario, facade, bench, upstream, callers, timing, duration,
                    )
                    .await?;
                    runs.push(run);
                }
            }
        }
        let after = baseline_runs(bench, timing).await;
        baseline = Some(Baseline { before, after });
    }
    for facade in &running {
        if let Some(postgres) = &facade.postgres {
            postgres.drop_database().await;
        }
    }
    Ok(StoreResults {
        runs,
        locations: running
            .iter()
            .map(|facade| (facade.engine, facade.location.clone()))
            .collect(),
        baseline,
        skipped,
    })
}

/// Today's CreateOrder through the main facade, as the store runs are.
async fn baseline_runs(bench: &Bench, timing: &Timing) -> Vec<(usize, Run)> {
    let mut runs = Vec::new();
    for (callers, duration) in timing.create_order_runs() {
        let bench = bench.clone();
        let run = measure::load(callers, timing.warmup, duration, move || {
            let bench = bench.clone();
            async move { bench.call(Scenario::CreateOrder, Path::Facade).await }
        })
        .await;
        crate::print_progress(&format!("CreateOrder, today's path x{callers}"), &run);
        runs.push((callers, run));
    }
    runs
}

/// What [`timed`] measured.
struct Timed {
    run: Run,
    postgres_cpu: Option<f64>,
    disk_syncs: Latencies,
}

/// Runs `call` from `callers` tasks after a warm-up of its own, so that the
/// PostgreSQL backends' CPU is read around the measured part alone; probes
/// the disk's sync latency before and after.
async fn timed<F, Fut>(
    facade: &StoreFacade,
    callers: usize,
    warmup: Duration,
    duration: Duration,
    call: F,
) -> Timed
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let _ = measure::load(callers, Duration::ZERO, warmup, call.clone()).await;
    let postgres_cpu = async || match &facade.postgres {
        Some(postgres) => postgres.cpu_seconds().await,
        None => None,
    };
    let mut syncs = probe_disk_syncs(facade.sync_dir.clone()).await;
    let before = postgres_cpu().await;
    let run = measure::load(callers, Duration::ZERO, duration, call).await;
    let after = postgres_cpu().await;
    syncs.extend(probe_disk_syncs(facade.sync_dir.clone()).await);
    let postgres_cpu = before.zip(after).map(|(before, after)| {
        after
            .iter()
            .map(|(pid, seconds)| (seconds - before.get(pid).copied().unwrap_or(0.0)).max(0.0))
            .sum()
    });
    Timed {
        run,
        postgres_cpu,
        disk_syncs: Latencies::from_nanos(syncs),
    }
}

fn finish(
    scenario: StoreScenario,
    facade: &StoreFacade,
    callers: usize,
    Timed {
        run,
        postgres_cpu,
        disk_syncs,
    }: Timed,
    check_failure: Option<String>,
) -> StoreRun {
    crate::print_progress(
        &format!("{} on {} x{callers}", scenario.name(), facade.engine.name()),
        &run,
    );
    if let Some(failure) = &check_failure {
        eprintln!("  check failed: {failure}");
    }
    StoreRun {
        scenario,
        engine: facade.engine,
        callers,
        run,
        postgres_cpu,
        check_failure,
        disk_syncs,
    }
}

/// Order and push numbers never used before in this process.
fn next_number() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// One CreateOrder scenario on one engine, checking afterwards that each
/// new number reached the warehouse once and that no repeat reached it.
async fn create_order_run(
    scenario: StoreScenario,
    facade: &StoreFacade,
    bench: &Bench,
    upstream: &Upstream,
    callers: usize,
    timing: &Timing,
    duration: Duration,
) -> Result<StoreRun, String> {
    let template = bench.order().clone();
    let replayed = proto::CreateOrderRequest {
        order_number: format!("REPLAYED-{}", next_number()),
        ..template.clone()
    };
    if scenario == StoreScenario::CreateOrderReplayed {
        // The first call sends it; every one after is a repeat.
        create_order(&facade.channel, replayed.clone())
            .await
            .map_err(|err| format!("{} on {}: {err}", scenario.name(), facade.engine.name()))?;
    }
    let succeeded = Arc::new(AtomicU64::new(0));
    let received_before = upstream.create_orders_received();
    let channel = facade.channel.clone();
    let counted = succeeded.clone();
    let call = move || {
        let order = match scenario {
            StoreScenario::CreateOrderReplayed => replayed.clone(),
            _ => proto::CreateOrderRequest {
                order_number: format!("ONCE-{}", next_number()),
                ..template.clone()
            },
        };
        let (channel, counted) = (channel.clone(), counted.clone());
        async move {
            create_order(&channel, order).await?;
            counted.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    };
    let measured = timed(facade, callers, timing.warmup, duration, call).await;
    let reached = upstream.create_orders_received() - received_before;
    let succeeded = succeeded.load(Ordering::Relaxed);
    let check_failure = match scenario {
        StoreScenario::CreateOrderReplayed if reached > 0 => Some(format!(
            "{reached} of {succeeded} repeats reached the warehouse"
        )),
        StoreScenario::CreateOrderReplayed => None,
        _ if reached != succeeded => Some(format!(
            "{succeeded} new orders answered OK, {reached} createOrder requests reached the warehouse"
        )),
        _ => None,
    };
    Ok(finish(scenario, facade, callers, measured, check_failure))
}

/// A Qianyi warehouse pushing order statuses to the facade's webhook.
#[derive(Clone)]
struct PushSender {
    http: reqwest::Client,
    url: Arc<str>,
}

/// The webhook's answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PushAnswer {
    success: bool,
    #[serde(default)]
    error_msg: String,
}

impl PushSender {
    /// Pushes the status of an order never pushed before (so never a
    /// repeat), signed as the spec's section 12 says; `Ok` once the facade
    /// acknowledged it, which it does only after the commit.
    async fn push_new_order_status(&self) -> Result<(), String> {
        let content = order_status(&format!("PUSH-{}", next_number()));
        let body = serde_json::json!({
            "accessId": PUSH_ACCESS_ID,
            "method": "pushOrderInfo",
            "content": content,
            "sign": qianyi_sign(PUSH_ACCESS_ID, &content, PUSH_SECRET_KEY),
        })
        .to_string();
        let response = self
            .http
            .post(&*self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|err| err.to_string())?;
        let status = response.status();
        let text = response.bytes().await.map_err(|err| err.to_string())?;
        let answer: PushAnswer = serde_json::from_slice(&text)
            .map_err(|err| format!("HTTP {status}: {err}: {}", String::from_utf8_lossy(&text)))?;
        if status != reqwest::StatusCode::OK || !answer.success {
            return Err(format!("HTTP {status}: {}", answer.error_msg));
        }
        Ok(())
    }
}

/// A `pushOrderInfo` content: the spec's example for order `number`.
fn order_status(number: &str) -> String {
    format!(
        r#"{{"orderNumber":"{number}","onlineOrderId":"","warehouseCode":"CA1","carrier":"UPS","trackNumber":"1Z999AA10123456784","warehouseOrderNumber":"W-{number}","wmsStatus":"Shipped","status":"SUCCESS","shippingTime":1744098883894,"skuList":[{{"sku":"SKU-000001","quantity":4}}],"errorMsg":""}}"#
    )
}

#[cfg(test)]
mod tests;
