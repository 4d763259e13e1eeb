//! qlink-bench: what the facade costs over calling the warehouse directly.
//!
//! One process, three tokio runtimes whose threads are named after them, so
//! CPU time can be split by reading `/proc/self/task/*/stat`:
//!
//! - `bench-upstream`: an instant loopback warehouse (canned JSON, no
//!   signature checks);
//! - `bench-facade`: the real facade (`server::serve`) with both tenants
//!   pointed at it;
//! - `bench-client`: the callers, either the direct signed reqwest call (the
//!   floor) or the generated tonic client through the facade.
//!
//! Every scenario runs both ways, first with one caller (latency), then with
//! `--concurrency` callers sharing one client (throughput, CPU, memory).
//! The store scenarios (pushes, exactly-once CreateOrder) run on a facade
//! per store engine instead; see [`stores`].
//! Prints markdown on stdout, progress on stderr; exits non-zero when any
//! call failed. See BENCHMARKS.md.

// The allocator the `qlink-facade` binary uses, for the floor as well,
// counting allocations when asked to.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: alloc::Counting<mimalloc::MiMalloc> = alloc::Counting(mimalloc::MiMalloc);
#[cfg(not(feature = "mimalloc"))]
#[global_allocator]
static GLOBAL: alloc::Counting<std::alloc::System> = alloc::Counting(std::alloc::System);

mod alloc;
mod floor;
mod loopback;
mod measure;
mod micro;
mod report;
mod scenarios;
mod shared_limits;
mod stores;
mod upstream;

use std::{
    io,
    net::SocketAddr,
    process::ExitCode,
    time::{Duration, Instant},
};

use clap::Parser;
use qlink_facade::{app::App, config::Config, metrics::Metrics, store::StoreConfig};
use tokio::{
    net::{TcpListener, TcpSocket},
    runtime::Runtime,
};
use tonic::transport::Channel;

use measure::{CLIENT_THREADS, FACADE_THREADS, Group, Run, UPSTREAM_THREADS};
use scenarios::{Bench, Path, Scenario, Sizes};
use stores::StoreScenario;
use upstream::{GENERATED_WAREHOUSE, Upstream, UpstreamConfig};

/// Measures the facade against direct calls to an instant warehouse.
#[derive(Debug, Parser)]
#[command(name = "qlink-bench", version)]
struct Args {
    /// Seconds each loaded run lasts (default 10, 0.5 with --smoke); the
    /// one-caller latency runs last half as long, at most 5 s.
    #[arg(long)]
    duration_secs: Option<f64>,
    /// Concurrent callers sharing one client in the loaded runs.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Every scenario briefly, with small sizes: for CI. Fails on any error.
    #[arg(long)]
    smoke: bool,
    /// HTTP/2 connections the callers share to reach the facade, taken in
    /// turn (one tonic `Channel` each).
    #[arg(long, default_value_t = 1)]
    channels: usize,
    /// Worker threads of each of the three runtimes (default: the CPUs, or
    /// with --facade-cpus the CPUs each side may use).
    #[arg(long)]
    workers: Option<usize>,
    /// Worker threads of the facade's runtime alone (default: as --workers).
    #[arg(long)]
    facade_workers: Option<usize>,
    /// Pin the facade's threads to these CPUs (e.g. `1`) and the warehouse's
    /// and the callers' to all the others, as if the facade had its own
    /// machine. Linux only.
    #[arg(long, value_delimiter = ',')]
    facade_cpus: Vec<usize>,
    /// Install the facade's production telemetry (`RUST_LOG`, default info:
    /// spans and W3C propagation; the OpenTelemetry layer only with
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` set) instead of none.
    #[arg(long)]
    telemetry: bool,
    /// Also set TCP_NODELAY on the facade's listener, which Linux passes on
    /// to accepted connections. `server::serve` has set it on every
    /// connection itself since 0457a4b; this only matters on older trees.
    #[arg(long)]
    facade_nodelay: bool,
    /// Only these scenarios (comma-separated names, e.g. CreateOrder,GetOrders
    /// or create-order,push; case, '-' and '_' ignored).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Only the rate limit's cost: kept locally vs in Redis, same run. Needs
    /// `QLINK_TEST_REDIS_URL` (scripts/test-services start).
    #[arg(long)]
    rate_limit_cost: bool,
}

/// Sizes, durations and budgets of one invocation.
#[derive(Debug, Clone)]
struct Plan {
    sizes: Sizes,
    concurrency: usize,
    loaded: Duration,
    unloaded: Duration,
    warmup: Duration,
    micro_budget: Duration,
    /// Pages of the two memory runs (small, large).
    flatness_pages: (u32, u32),
    scenarios: Vec<Scenario>,
    store_scenarios: Vec<StoreScenario>,
}

impl Plan {
    fn of(args: &Args) -> Result<Self, String> {
        let loaded = Duration::from_secs_f64(
            args.duration_secs
                .unwrap_or(if args.smoke { 0.5 } else { 10.0 })
                .max(0.05),
        );
        let (mut scenarios, mut store_scenarios) = (Vec::new(), Vec::new());
        if args.only.is_empty() {
            scenarios = Scenario::ALL.to_vec();
            store_scenarios = StoreScenario::ALL.to_vec();
        }
        for name in &args.only {
            let wanted = comparable(name);
            if let Some(scenario) = Scenario::ALL
                .into_iter()
                .find(|s| comparable(s.name()) == wanted)
            {
                scenarios.push(scenario);
            } else if let Some(scenario) = StoreScenario::ALL
                .into_iter()
                .find(|s| comparable(s.name()) == wanted)
            {
                store_scenarios.push(scenario);
            } else {
                return Err(format!("--only: no scenario named {name:?}"));
            }
        }
        Ok(Self {
            sizes: if args.smoke {
                Sizes {
                    inventory_skus: 1_000,
                    page_size: 100,
                    get_orders: 20,
                }
            } else {
                Sizes {
                    inventory_skus: 10_000,
                    page_size: 100,
                    get_orders: 100,
                }
            },
            concurrency: args.concurrency.max(1),
            loaded,
            unloaded: (loaded / 2).min(Duration::from_secs(5)),
            warmup: if args.smoke {
                Duration::from_millis(50)
            } else {
                Duration::from_secs(1)
            },
            micro_budget: if args.smoke {
                Duration::from_millis(20)
            } else {
                Duration::from_millis(500)
            },
            flatness_pages: if args.smoke { (10, 100) } else { (100, 1_000) },
            scenarios,
            store_scenarios,
        })
    }
}

/// A scenario's name as `--only` compares it: `create-order` is `CreateOrder`.
fn comparable(name: &str) -> String {
    name.trim()
        .chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn main() -> ExitCode {
    let args = Args::parse();
    let plan = match Plan::of(&args) {
        Ok(plan) => plan,
        Err(problem) => {
            eprintln!("qlink-bench: {problem}");
            return ExitCode::from(2);
        }
    };
    // As the server always does; `telemetry::init` does it too.
    qlink_facade::telemetry::install_propagator();
    // Without telemetry no subscriber is installed: spans are disabled and
    // logs cost nothing.
    let _telemetry = args
        .telemetry
        .then(|| qlink_facade::telemetry::init(&Default::default()));
    if args.rate_limit_cost {
        return rate_limit_cost(&plan);
    }
    let placement = match Placement::of(&args) {
        Ok(placement) => placement,
        Err(problem) => {
            eprintln!("qlink-bench: {problem}");
            return ExitCode::from(2);
        }
    };
    let code = match start_and_measure(&args, &plan, &placement) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(problem) => {
            eprintln!("qlink-bench: {problem}");
            ExitCode::FAILURE
        }
    };
    // The runtimes hold a server and pooled connections: leave without
    // waiting for them.
    std::process::exit(if code == ExitCode::SUCCESS { 0 } else { 1 })
}

/// `--rate-limit-cost`: see `shared_limits`.
fn rate_limit_cost(plan: &Plan) -> ExitCode {
    let Ok(redis_url) = std::env::var("QLINK_TEST_REDIS_URL") else {
        eprintln!(
            "qlink-bench: --rate-limit-cost needs QLINK_TEST_REDIS_URL (scripts/test-services start)"
        );
        return ExitCode::from(2);
    };
    let compared = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| err.to_string())
        .and_then(|runtime| {
            runtime.block_on(shared_limits::compare(
                &redis_url,
                plan.unloaded.max(plan.loaded / 2),
            ))
        });
    match compared {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(problem) => {
            eprintln!("qlink-bench: {problem}");
            ExitCode::FAILURE
        }
    }
}

/// Which CPUs the runtimes' threads may use, and how many workers each gets.
#[derive(Debug, Clone)]
struct Placement {
    /// CPUs the process may use, counted before any pinning.
    cpus: usize,
    /// `None`: any CPU.
    facade_cpus: Option<Vec<usize>>,
    other_cpus: Option<Vec<usize>>,
    facade_workers: usize,
    other_workers: usize,
}

impl Placement {
    fn of(args: &Args) -> Result<Self, String> {
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        if args.facade_cpus.is_empty() {
            let workers = args.workers.unwrap_or(cpus);
            return Ok(Self {
                cpus,
                facade_cpus: None,
                other_cpus: None,
                facade_workers: args.facade_workers.unwrap_or(workers),
                other_workers: workers,
            });
        }
        if !cfg!(target_os = "linux") {
            return Err("--facade-cpus needs Linux".to_owned());
        }
        if let Some(cpu) = args.facade_cpus.iter().find(|&&cpu| cpu >= cpus) {
            return Err(format!("--facade-cpus: there is no CPU {cpu} (0..{cpus})"));
        }
        let others: Vec<usize> = (0..cpus)
            .filter(|cpu| !args.facade_cpus.contains(cpu))
            .collect();
        if others.is_empty() {
            return Err("--facade-cpus leaves no CPU for the warehouse and the callers".to_owned());
        }
        Ok(Self {
            cpus,
            facade_workers: args
                .facade_workers
                .or(args.workers)
                .unwrap_or(args.facade_cpus.len()),
            other_workers: args.workers.unwrap_or(others.len()),
            facade_cpus: Some(args.facade_cpus.clone()),
            other_cpus: Some(others),
        })
    }

    fn describe(&self) -> String {
        match (&self.facade_cpus, &self.other_cpus) {
            (Some(facade), Some(others)) => format!(
                "facade pinned to CPU(s) {facade:?} with {} worker(s), warehouse and callers to {others:?} with {} each",
                self.facade_workers, self.other_workers
            ),
            _ if self.facade_workers != self.other_workers => format!(
                "{} worker thread(s) in the facade's runtime, {} in each of the upstream and client runtimes",
                self.facade_workers, self.other_workers
            ),
            _ => format!(
                "{} worker threads in each of the upstream, facade and client runtimes",
                self.facade_workers
            ),
        }
    }
}

fn runtime(name: &'static str, workers: usize, cpus: Option<Vec<usize>>) -> io::Result<Runtime> {
    let group = Group::of(name);
    tokio::runtime::Builder::new_multi_thread()
        .on_thread_start(move || {
            alloc::tag_thread(group);
            if let Some(cpus) = &cpus {
                pin_current_thread(cpus);
            }
        })
        .worker_threads(workers.max(1))
        .thread_name(name)
        .enable_all()
        .build()
}

/// Restricts the calling thread to `cpus`; a failure is reported, not fatal.
#[cfg(target_os = "linux")]
fn pin_current_thread(cpus: &[usize]) {
    // SAFETY: `cpu_set_t` is plain data, so all zeroes is a valid empty set;
    // CPU_SET is only given indices below CPU_SETSIZE; and pid 0 makes
    // sched_setaffinity act on the calling thread with a set that lives
    // across the call.
    let failed = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus.iter().filter(|&&cpu| cpu < libc::CPU_SETSIZE as usize) {
            libc::CPU_SET(cpu, &mut set);
        }
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0
    };
    if failed {
        eprintln!(
            "qlink-bench: cannot pin a thread to CPUs {cpus:?}: {}",
            io::Error::last_os_error()
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn pin_current_thread(_cpus: &[usize]) {}

/// Starts warehouse and facade, runs the plan, prints the report; true when
/// every call succeeded.
fn start_and_measure(args: &Args, plan: &Plan, placement: &Placement) -> Result<bool, String> {
    let io_problem = |what: &str| {
        let what = what.to_owned();
        move |err: io::Error| format!("{what}: {err}")
    };
    let others = placement.other_workers;
    let other_cpus = &placement.other_cpus;
    let upstream_rt = runtime(UPSTREAM_THREADS, others, other_cpus.clone())
        .map_err(io_problem("upstream runtime"))?;
    let facade_rt = runtime(
        FACADE_THREADS,
        placement.facade_workers,
        placement.facade_cpus.clone(),
    )
    .map_err(io_problem("facade runtime"))?;
    let client_rt = runtime(CLIENT_THREADS, others, other_cpus.clone())
        .map_err(io_problem("client runtime"))?;
    // The measuring loop runs on this thread, with the callers; so do the
    // calls whose allocations are counted.
    alloc::tag_thread(Group::Client);
    if let Some(cpus) = other_cpus {
        pin_current_thread(cpus);
    }

    let upstream = upstream_rt
        .block_on(Upstream::spawn(UpstreamConfig {
            inventory_skus: plan.sizes.inventory_skus,
            page_size: plan.sizes.page_size,
        }))
        .map_err(io_problem("cannot start the benchmark warehouse"))?;
    let echo = upstream_rt
        .block_on(loopback::spawn_echo())
        .map_err(io_problem("cannot start the echo server"))?;
    let loopback = loopback::Addrs {
        echo,
        relay: facade_rt
            .block_on(loopback::spawn_relay(echo))
            .map_err(io_problem("cannot start the relay"))?,
    };
    let mut config = Config::from_toml(
        &scenarios::facade_config(&upstream, scenarios::Writes::Direct),
        &|_| None,
    )
    .map_err(|err| format!("facade config: {err}"))?;
    config.store = StoreConfig::temporary();
    let app = facade_rt
        .block_on(App::open(&config, Metrics::shared()))
        .map_err(|err| err.to_string())?;
    let listener = facade_rt
        .block_on(bind_facade(args.facade_nodelay))
        .map_err(io_problem("cannot bind the facade"))?;
    let facade_addr = listener
        .local_addr()
        .map_err(io_problem("facade address"))?;
    facade_rt.spawn(async move {
        if let Err(err) = app.serve(listener, None, std::future::pending()).await {
            eprintln!("qlink-bench: the facade stopped: {err}");
        }
    });
    let store_facades = if plan.store_scenarios.is_empty() {
        Vec::new()
    } else {
        // --smoke leaves out the tmpfs row, a comparison that CI needs not.
        let engines: Vec<_> = stores::Engine::ALL
            .into_iter()
            .filter(|engine| !(args.smoke && *engine == stores::Engine::SqliteTmpfs))
            .collect();
        stores::start(&engines, &facade_rt, &client_rt, &upstream)?
    };

    client_rt.block_on(measure_all(
        args,
        plan,
        placement,
        upstream,
        facade_addr,
        loopback,
        &store_facades,
    ))
}

pub(crate) async fn bind_facade(nodelay: bool) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    if nodelay {
        socket.set_nodelay(true)?;
    }
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    socket.listen(1024)
}

/// Results of one scenario.
struct Measured {
    scenario: Scenario,
    floor_unloaded: Run,
    facade_unloaded: Run,
    /// Heap allocations per call, one call at a time.
    floor_allocations: alloc::PerCall,
    facade_allocations: alloc::PerCall,
    floor_loaded: Run,
    facade_loaded: Run,
}

impl Measured {
    /// What the facade adds to the floor's latency at `quantile`, one caller.
    fn added_latency(&self, quantile: f64) -> Duration {
        let facade = self.facade_unloaded.latencies.quantile(quantile);
        facade.saturating_sub(self.floor_unloaded.latencies.quantile(quantile))
    }

    fn runs(&self) -> [(&'static str, Path, &Run); 4] {
        [
            ("1 caller", Path::Floor, &self.floor_unloaded),
            ("1 caller", Path::Facade, &self.facade_unloaded),
            ("loaded", Path::Floor, &self.floor_loaded),
            ("loaded", Path::Facade, &self.facade_loaded),
        ]
    }
}

/// The gRPC hop alone: Health/Check, loaded and one at a time; and under
/// it, loopback TCP alone, one round trip at a time.
struct Hop {
    runs: Vec<(usize, Run)>,
    allocations: alloc::PerCall,
    /// Straight to the echo server, then through the relay.
    loopback: [Run; 2],
}

/// One memory run of the inventory stream through the facade.
struct MemoryRun {
    pages: u32,
    skus: u64,
    rss_before_kib: u64,
    peak_kib: u64,
    /// What buffering every page's JSON would take.
    json_kib: u64,
    elapsed: Duration,
}

impl MemoryRun {
    fn growth_kib(&self) -> u64 {
        self.peak_kib.saturating_sub(self.rss_before_kib)
    }
}

async fn measure_all(
    args: &Args,
    plan: &Plan,
    placement: &Placement,
    upstream: Upstream,
    facade_addr: SocketAddr,
    loopback: loopback::Addrs,
    store_facades: &[stores::EngineFacade],
) -> Result<bool, String> {
    let mut channels = Vec::new();
    for _ in 0..args.channels.max(1) {
        let channel = Channel::from_shared(format!("http://{facade_addr}"))
            .map_err(|err| err.to_string())?
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .map_err(|err| format!("cannot connect to the facade: {err}"))?;
        channels.push(channel);
    }
    let bench = Bench::prepare(plan.sizes, channels, &upstream)
        .await
        .map_err(|err| format!("preparing the scenarios: {err}"))?;
    eprintln!("the floor's request bodies are byte-for-byte the facade's");

    // Memory first, while the heap is still small and says the most.
    let memory = memory_runs(&bench, &upstream, plan).await?;
    let micro = micro::micro(&bench, plan.micro_budget);

    let mut measured = Vec::new();
    for &scenario in &plan.scenarios {
        let run = |concurrency: usize, duration: Duration, path: Path| {
            let bench = bench.clone();
            let warmup = plan.warmup;
            async move {
                let label = format!("{} {} x{concurrency}", scenario.name(), path.name());
                let run = measure::load(concurrency, warmup, duration, move || {
                    let bench = bench.clone();
                    async move { bench.call(scenario, path).await }
                })
                .await;
                print_progress(&label, &run);
                run
            }
        };
        let floor_unloaded = run(1, plan.unloaded, Path::Floor).await;
        let facade_unloaded = run(1, plan.unloaded, Path::Facade).await;
        let bench = &bench;
        let allocations = |path: Path| {
            alloc::PerCall::measure(plan.micro_budget, 3, move || bench.call(scenario, path))
        };
        let floor_allocations = allocations(Path::Floor)
            .await
            .map_err(|err| format!("{} floor: {err}", scenario.name()))?;
        let facade_allocations = allocations(Path::Facade)
            .await
            .map_err(|err| format!("{} facade: {err}", scenario.name()))?;
        let floor_loaded = run(plan.concurrency, plan.loaded, Path::Floor).await;
        let facade_loaded = run(plan.concurrency, plan.loaded, Path::Facade).await;
        measured.push(Measured {
            scenario,
            floor_unloaded,
            facade_unloaded,
            floor_allocations,
            facade_allocations,
            floor_loaded,
            facade_loaded,
        });
    }

    let store_results = stores::measure(
        &plan.store_scenarios,
        store_facades,
        &bench,
        &upstream,
        &stores::Timing {
            concurrency: plan.concurrency,
            warmup: plan.warmup,
            loaded: plan.loaded,
            unloaded: plan.unloaded,
            latency_runs: !args.smoke,
        },
    )
    .await?;

    let mut hop_runs = Vec::new();
    for concurrency in [1, plan.concurrency] {
        let bench = bench.clone();
        let run = measure::load(concurrency, plan.warmup, plan.unloaded, move || {
            let bench = bench.clone();
            async move { bench.facade_health_check().await }
        })
        .await;
        print_progress(&format!("Health/Check x{concurrency}"), &run);
        hop_runs.push((concurrency, run));
    }
    let mut loopback_runs = Vec::new();
    for (label, addr) in [
        ("loopback echo", loopback.echo),
        ("loopback echo via relay", loopback.relay),
    ] {
        let client = loopback::Client::connect(addr)
            .await
            .map_err(|err| format!("{label}: {err}"))?;
        let run = measure::load(1, plan.warmup, plan.unloaded, move || {
            let client = client.clone();
            async move { client.round_trip().await }
        })
        .await;
        print_progress(&format!("{label} x1"), &run);
        loopback_runs.push(run);
    }
    let hop = Hop {
        allocations: alloc::PerCall::measure(plan.micro_budget, 3, || bench.facade_health_check())
            .await
            .map_err(|err| format!("Health/Check: {err}"))?,
        runs: hop_runs,
        loopback: loopback_runs
            .try_into()
            .map_err(|_| "two loopback runs".to_owned())?,
    };

    let results = report::Results {
        measured: &measured,
        stores: &store_results,
        hop: &hop,
        memory: &memory,
        micro: &micro,
    };
    report::print(args, plan, placement, &results);
    let failed: u64 = measured
        .iter()
        .flat_map(|m| m.runs().map(|(_, _, run)| run.errors))
        .chain(hop.runs.iter().map(|(_, run)| run.errors))
        .chain(hop.loopback.iter().map(|run| run.errors))
        .sum::<u64>()
        + store_results.failures();
    if failed > 0 {
        eprintln!("qlink-bench: {failed} calls failed");
    }
    Ok(failed == 0)
}

/// Streams `small` then `large` then `small` pages again through the
/// facade, one stream at a time, recording how far RSS rises over where it
/// started.
async fn memory_runs(
    bench: &Bench,
    upstream: &Upstream,
    plan: &Plan,
) -> Result<Vec<MemoryRun>, String> {
    let page_size = plan.sizes.page_size;
    let (small, large) = plan.flatness_pages;
    let page_bytes = upstream::inventory_page(
        GENERATED_WAREHOUSE,
        page_size.saturating_mul(2),
        1,
        page_size,
    )
    .len() as u64;
    upstream.set_generated_skus(small * page_size);
    bench.facade_inventory_of(GENERATED_WAREHOUSE).await?;
    let mut runs = Vec::new();
    for pages in [small, large, small] {
        upstream.set_generated_skus(pages * page_size);
        let rss_before_kib = measure::rss_kib();
        measure::reset_peak_rss();
        let started = Instant::now();
        let skus = bench.facade_inventory_of(GENERATED_WAREHOUSE).await?;
        let elapsed = started.elapsed();
        if skus != u64::from(pages * page_size) {
            return Err(format!("streamed {skus} SKUs of {}", pages * page_size));
        }
        let run = MemoryRun {
            pages,
            skus,
            rss_before_kib,
            peak_kib: measure::peak_rss_kib(),
            json_kib: page_bytes * u64::from(pages) / 1024,
            elapsed,
        };
        eprintln!(
            "memory: {pages} pages streamed in {:.2} s, RSS {} KiB → peak {} KiB",
            elapsed.as_secs_f64(),
            run.rss_before_kib,
            run.peak_kib
        );
        runs.push(run);
    }
    Ok(runs)
}

/// One line on stderr per run, and the first error if there was one.
pub(crate) fn print_progress(label: &str, run: &Run) {
    eprintln!(
        "{label}: {:.0} calls/s, p50 {}, {} errors",
        run.per_second(),
        report::micros(run.latencies.quantile(0.5)),
        run.errors
    );
    if let Some(err) = &run.first_error {
        eprintln!("  first error: {err}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_takes_names_in_any_case_with_dashes_or_underscores() {
        let args = Args::parse_from([
            "qlink-bench",
            "--only",
            "create-order,ListWarehouses,push,create_order_exactly_once",
        ]);
        let plan = Plan::of(&args).expect("known names");
        assert_eq!(
            plan.scenarios,
            [Scenario::CreateOrder, Scenario::ListWarehouses]
        );
        assert_eq!(
            plan.store_scenarios,
            [StoreScenario::Push, StoreScenario::CreateOrderExactlyOnce]
        );
        let args = Args::parse_from(["qlink-bench", "--only", "nonsense"]);
        assert!(Plan::of(&args).is_err());
    }

    #[test]
    fn every_scenario_runs_without_only() {
        let plan = Plan::of(&Args::parse_from(["qlink-bench"])).expect("plan");
        assert_eq!(plan.scenarios, Scenario::ALL);
        assert_eq!(plan.store_scenarios, StoreScenario::ALL);
    }
}
