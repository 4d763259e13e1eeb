//! The report on stdout: every run, the facade against the floor, the store
//! scenarios, the gRPC hop and loopback TCP alone, heap allocations,
//! inventory memory, the per-call pieces and the targets, as markdown
//! tables.

use std::time::Duration;

use crate::{
    Args, Hop, Measured, MemoryRun, Placement, Plan, alloc, loopback,
    measure::{Group, Latencies, Run},
    scenarios::{self, Path},
    stores::{self, Engine, StoreResults, StoreScenario},
};

/// The latency target: added p50 per unary call.
const ADDED_P50_TARGET: Duration = Duration::from_micros(150);
/// The CPU target: facade CPU per call within this factor of the
/// direct call's client-side CPU.
const CPU_RATIO_TARGET: f64 = 2.0;
/// Issue 16: acknowledged pushes per second on SQLite with synchronous=FULL.
const PUSH_RATE_TARGET: f64 = 2_000.0;
/// Issue 17: CreateOrder with exactly-once writes, as a share of today's
/// calls/s in the same run.
const EXACTLY_ONCE_SHARE_TARGET: f64 = 0.7;
/// Issue 17: a repeat answered from the store, as a multiple of the rate
/// of a call that goes to the instant warehouse.
const REPLAY_MULTIPLE_TARGET: f64 = 5.0;

/// Everything one invocation measured.
pub struct Results<'a> {
    pub measured: &'a [Measured],
    pub stores: &'a StoreResults,
    pub hop: &'a Hop,
    pub memory: &'a [MemoryRun],
    pub micro: &'a [(String, f64, u64)],
}

/// Calls per second, p50, p99 and process CPU per 1,000 calls.
fn pace(run: &Run) -> String {
    let (p50, p99) = (run.latencies.quantile(0.5), run.latencies.quantile(0.99));
    let cpu = run.cpu_ms_per_call(None);
    format!(
        "{:.0} | {} | {} | {cpu:.3}",
        run.per_second(),
        micros(p50),
        micros(p99)
    )
}

pub fn micros(duration: Duration) -> String {
    let us = duration.as_secs_f64() * 1e6;
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

pub fn print(args: &Args, plan: &Plan, placement: &Placement, results: &Results) {
    let Results {
        measured,
        stores,
        hop,
        memory,
        micro,
    } = *results;
    let cpu_name = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|line| {
                line.strip_prefix("model name")
                    .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cpus = placement.cpus;
    println!("## qlink-bench results\n");
    println!(
        "{cpus} CPUs ({cpu_name}); {}; \
         {} callers over {} HTTP/2 connection(s) to the facade for {:.1} s per loaded run, 1 caller for {:.1} s per latency run, {:.1} s warm-up; \
         telemetry {}; facade TCP_NODELAY {}; {} build.\n",
        placement.describe(),
        plan.concurrency,
        args.channels.max(1),
        plan.loaded.as_secs_f64(),
        plan.unloaded.as_secs_f64(),
        plan.warmup.as_secs_f64(),
        if args.telemetry {
            "on (production subscriber)"
        } else {
            "off"
        },
        if args.facade_nodelay {
            "also forced on the listener"
        } else {
            "as the server sets it"
        },
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    );
    println!(
        "Sizes: CreateOrder of {} items; SyncInventory of {} SKUs in pages of {} ({} pages per call); \
         GetOrders of {} Qianyi orders (one upstream call each, 8 at a time).\n",
        scenarios::ORDER_ITEMS,
        plan.sizes.inventory_skus,
        plan.sizes.page_size,
        plan.sizes.inventory_pages(),
        plan.sizes.get_orders,
    );

    println!("### Every run\n");
    println!(
        "CPU columns are CPU seconds per 1,000 calls (= CPU ms per call): the whole process, then split by the runtime the threads belong to. \
         \"callers\" is the direct reqwest client in floor runs and the tonic client in facade runs. \
         \"other load\" is the CPUs' worth of time other processes (and the hypervisor's steal) took during the run: above ~0.1 the run shared the machine. \
         Peak RSS is the whole process (warehouse, earlier runs' pooled connections and allocator caches included); growth is how far it rose during the run.\n"
    );
    println!(
        "| scenario | path | callers | calls/s | p50 | p99 | process | upstream | callers' | facade | peak RSS MiB | RSS growth MiB | other load | errors |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for m in measured {
        for (label, path, run) in m.runs() {
            let callers = if label == "1 caller" {
                1
            } else {
                plan.concurrency
            };
            println!(
                "| {} | {} | {callers} | {:.0} | {} | {} | {:.3} | {:.3} | {:.3} | {} | {} | {} | {} | {} |",
                m.scenario.name(),
                path.name(),
                run.per_second(),
                micros(run.latencies.quantile(0.5)),
                micros(run.latencies.quantile(0.99)),
                run.cpu_ms_per_call(None),
                run.cpu_ms_per_call(Some(Group::Upstream)),
                run.cpu_ms_per_call(Some(Group::Client)),
                match path {
                    Path::Floor => "–".to_owned(),
                    Path::Facade => format!("{:.3}", run.cpu_ms_per_call(Some(Group::Facade))),
                },
                mib(run.peak_rss_kib),
                mib(run.rss_growth_kib()),
                load_text(run),
                run.errors,
            );
        }
    }

    println!("\n### The facade against the floor\n");
    println!(
        "Latency from the 1-caller runs. Throughput and CPU from the {}-caller runs. \
         \"added CPU\" is (facade run − floor run) process CPU per call: the facade's threads plus the tonic client, minus the direct reqwest client. \
         \"facade ÷ direct client\" divides the facade runtime's CPU per call by the floor's client-side CPU per call (the upstream excluded from both).\n",
        plan.concurrency
    );
    println!(
        "| scenario | p50 floor | p50 facade | added p50 | p50 ratio | added p99 | throughput ratio | added CPU s/1k calls | facade ÷ direct client CPU |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for m in measured {
        let (floor_p50, facade_p50) = (
            m.floor_unloaded.latencies.quantile(0.5),
            m.facade_unloaded.latencies.quantile(0.5),
        );
        let added_p99 = m.added_latency(0.99);
        println!(
            "| {} | {} | {} | {} | {:.2}× | {} | {:.2}× | {:.3} | {:.2}× |",
            m.scenario.name(),
            micros(floor_p50),
            micros(facade_p50),
            micros(facade_p50.saturating_sub(floor_p50)),
            ratio(facade_p50.as_secs_f64(), floor_p50.as_secs_f64()),
            micros(added_p99),
            ratio(m.facade_loaded.per_second(), m.floor_loaded.per_second()),
            m.facade_loaded.cpu_ms_per_call(None) - m.floor_loaded.cpu_ms_per_call(None),
            cpu_ratio(m),
        );
    }

    print_stores(stores);

    println!("\n### The gRPC hop alone\n");
    println!(
        "`grpc.health.v1.Health/Check` crosses the same client, connection, server and call layer as the API but calls no warehouse: \
         the part of the added latency and CPU that any gRPC front end on this machine would cost.\n"
    );
    println!(
        "| callers | calls/s | p50 | p99 | process CPU s/1k calls | facade | callers' | errors |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (concurrency, run) in &hop.runs {
        let (facade, callers) = (Group::Facade, Group::Client);
        println!(
            "| {concurrency} | {} | {:.3} | {:.3} | {} |",
            pace(run),
            run.cpu_ms_per_call(Some(facade)),
            run.cpu_ms_per_call(Some(callers)),
            run.errors,
        );
    }

    let [echo, relayed] = &hop.loopback;
    println!("\n### Loopback TCP alone\n");
    println!(
        "A {}-byte message and its echo over loopback TCP, one round trip at a time, with no HTTP: straight from the callers' runtime \
         to an echo server on the warehouse's, then through a relay on the facade's runtime that reads each message and writes it on. \
         The relay's added p50 is what any process in the middle costs on this machine before it does any work.\n",
        loopback::MESSAGE_BYTES
    );
    println!(
        "| path | round trips/s | p50 | p99 | process CPU s/1k | relay (facade runtime) | errors |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (path, run) in [
        ("callers → echo", echo),
        ("callers → relay → echo", relayed),
    ] {
        let relay = run.cpu_ms_per_call(Some(Group::Facade));
        println!("| {path} | {} | {relay:.3} | {} |", pace(run), run.errors);
    }
    println!(
        "\nAdded by the relay: {} p50.",
        micros(
            relayed
                .latencies
                .quantile(0.5)
                .saturating_sub(echo.latencies.quantile(0.5))
        )
    );

    println!("\n### Heap allocations per call\n");
    println!(
        "Counted by the global allocator over calls made one at a time ({:.1} s or at least 3 calls per row), split by the runtime that allocated: \
         \"direct client\" is the floor's reqwest client, \"facade\" the facade runtime (gRPC server, handler and its reqwest client), \
         \"tonic client\" the callers' side of a facade call. Reallocations count as allocations.\n",
        plan.micro_budget.as_secs_f64()
    );
    println!(
        "| scenario | direct client allocations | facade allocations | tonic client allocations | facade ÷ direct client | direct client KiB | facade KiB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let allocation_row = |name: &str, floor: Option<&alloc::PerCall>, facade: &alloc::PerCall| {
        let floor_allocations = floor.map(|floor| floor.allocations(Group::Client));
        println!(
            "| {name} | {} | {:.0} | {:.0} | {} | {} | {:.1} |",
            floor_allocations.map_or("–".to_owned(), |n| format!("{n:.0}")),
            facade.allocations(Group::Facade),
            facade.allocations(Group::Client),
            floor_allocations.map_or("–".to_owned(), |n| format!(
                "{:.2}×",
                ratio(facade.allocations(Group::Facade), n)
            )),
            floor.map_or("–".to_owned(), |floor| format!(
                "{:.1}",
                floor.bytes(Group::Client) / 1024.0
            )),
            facade.bytes(Group::Facade) / 1024.0,
        );
    };
    for m in measured {
        allocation_row(
            m.scenario.name(),
            Some(&m.floor_allocations),
            &m.facade_allocations,
        );
    }
    allocation_row("Health/Check (the hop alone)", None, &hop.allocations);

    println!("\n### SyncInventory memory, one stream at a time through the facade\n");
    println!(
        "| pages | SKUs | RSS before MiB | peak RSS MiB | growth MiB | all pages' JSON MiB | time |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for run in memory {
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.2} s |",
            run.pages,
            run.skus,
            mib(run.rss_before_kib),
            mib(run.peak_kib),
            mib(run.growth_kib()),
            mib(run.json_kib),
            run.elapsed.as_secs_f64(),
        );
    }

    println!("\n### Per-call pieces, one thread\n");
    println!("| operation | ns per call | allocations per call |");
    println!("|---|---:|---:|");
    for (name, nanos, allocations) in micro {
        println!("| {name} | {nanos:.0} | {allocations} |");
    }

    println!("\n### Targets\n");
    for m in measured.iter().filter(|m| m.scenario.is_single_call()) {
        let added = m.added_latency(0.5);
        let met = verdict(added < ADDED_P50_TARGET);
        let (added, target) = (micros(added), micros(ADDED_P50_TARGET));
        println!(
            "- {}: added p50 {added} (target < {target}): {met}",
            m.scenario.name()
        );
    }
    for m in measured {
        let ratio = cpu_ratio(m);
        println!(
            "- {}: facade CPU per call {:.2}× the direct client's (target ≤ {CPU_RATIO_TARGET}×): {}",
            m.scenario.name(),
            ratio,
            verdict(ratio <= CPU_RATIO_TARGET)
        );
    }
    if let (Some(small), Some(large)) = (memory.first(), memory.get(1)) {
        // Flat: the larger stream grows RSS by less than a tenth of what
        // keeping its pages would take.
        let extra = large.growth_kib().saturating_sub(small.growth_kib());
        let flat = extra * 10 < large.json_kib.max(1);
        println!(
            "- SyncInventory memory: {} pages grew RSS {} MiB, {} pages {} MiB (all its JSON: {} MiB): {}",
            small.pages,
            mib(small.growth_kib()),
            large.pages,
            mib(large.growth_kib()),
            mib(large.json_kib),
            verdict(flat)
        );
    }
    print_store_targets(stores, hop);
    println!(
        "- Throughput scaling with cores: compare runs under `taskset -c 0` and on all CPUs (BENCHMARKS.md)."
    );
}

/// The store scenarios' table, and the engines that were not tried.
fn print_stores(stores: &StoreResults) {
    if stores.runs.is_empty() && stores.baseline.is_none() {
        return;
    }
    println!("\n### The store: pushes and exactly-once CreateOrder\n");
    println!(
        "Each engine has a facade of its own with exactly-once writes on; \"today's path\" is CreateOrder on the main facade (exactly-once off, nothing stored), \
         measured before and after the store runs. Push: {} senders posting signed `pushOrderInfo` pushes, each a new order (never a repeat), counted when answered `success:true` (after the commit). \
         CreateOrderExactlyOnce: each call a new order number, every one checked to reach the warehouse once. CreateOrderReplayed: one order already sent, again and again, checked to reach it never. \
         Facade CPU is its runtime plus sqlx's SQLite threads (\"SQLite threads\"); the PostgreSQL column is the server's backends serving the facade's database, read from `/proc`, not part of the process. \
         \"disk sync\" is how long a 4 KiB append and its `fdatasync` took in the store's directory (the temp dir for PostgreSQL), probed {} times at most just before and after the run: what each group commit waits for.\n",
        stores::PUSH_SENDERS,
        stores::SYNC_PROBES,
    );
    for engine in Engine::ALL {
        if let Some(location) = stores.runs_location(engine) {
            println!("- {}: {location}", engine.name());
        }
    }
    for (engine, reason) in &stores.skipped {
        println!("- {}: skipped: {reason}", engine.name());
    }
    println!();
    println!(
        "| scenario | store | callers | calls/s | p50 | p99 | facade CPU ms/call | of which SQLite threads | PostgreSQL backends ms/call | callers' CPU ms/call | disk sync p50 / p99 | other load | errors |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let row = |name: &str, store: &str, callers: usize, run: &Run, rest: &StoreColumns| {
        println!(
            "| {name} | {store} | {callers} | {:.0} | {} | {} | {:.3} | {:.3} | {} | {:.3} | {} | {} | {} |",
            run.per_second(),
            micros(run.latencies.quantile(0.5)),
            micros(run.latencies.quantile(0.99)),
            stores::facade_cpu_ms(run),
            run.cpu_ms_per_call(Some(Group::Store)),
            rest.postgres_ms
                .map_or("–".to_owned(), |ms| format!("{ms:.3}")),
            run.cpu_ms_per_call(Some(Group::Client)),
            rest.disk_syncs.map_or("–".to_owned(), |syncs| format!(
                "{} / {}",
                micros(syncs.quantile(0.5)),
                micros(syncs.quantile(0.99))
            )),
            load_text(run),
            rest.errors,
        );
    };
    let baseline_rows = |when: &str, runs: &[(usize, Run)]| {
        for (callers, run) in runs {
            let name = format!("CreateOrder, today's path ({when})");
            let rest = StoreColumns {
                postgres_ms: None,
                disk_syncs: None,
                errors: run.errors,
            };
            row(&name, "none", *callers, run, &rest);
        }
    };
    if let Some(baseline) = &stores.baseline {
        baseline_rows("before", &baseline.before);
    }
    for run in &stores.runs {
        let rest = StoreColumns {
            postgres_ms: run.postgres_cpu_ms(),
            disk_syncs: Some(&run.disk_syncs),
            errors: run.failures(),
        };
        row(
            run.scenario.name(),
            run.engine.name(),
            run.callers,
            &run.run,
            &rest,
        );
    }
    if let Some(baseline) = &stores.baseline {
        baseline_rows("after", &baseline.after);
    }
    for run in stores.runs.iter().filter(|run| run.check_failure.is_some()) {
        if let Some(failure) = &run.check_failure {
            println!(
                "\n{} on {} x{}: {failure}",
                run.scenario.name(),
                run.engine.name(),
                run.callers
            );
        }
    }
}

/// The store table's columns that not every row has.
struct StoreColumns<'a> {
    postgres_ms: Option<f64>,
    disk_syncs: Option<&'a Latencies>,
    errors: u64,
}

/// Issues 16 and 17's targets, from the store scenarios' loaded runs.
fn print_store_targets(stores: &StoreResults, hop: &Hop) {
    if let Some(push) = stores.loaded(StoreScenario::Push, Engine::Sqlite) {
        println!(
            "- Push on SQLite (synchronous=FULL): {:.0} acknowledged pushes/s from {} senders, p50 {}, p99 {} (target ≥ {PUSH_RATE_TARGET:.0}/s): {}",
            push.run.per_second(),
            push.callers,
            micros(push.run.latencies.quantile(0.5)),
            micros(push.run.latencies.quantile(0.99)),
            verdict(push.run.per_second() >= PUSH_RATE_TARGET)
        );
    }
    let Some(baseline) = &stores.baseline else {
        return;
    };
    let today = baseline.loaded_per_second();
    for engine in Engine::ALL {
        if let Some(once) = stores.loaded(StoreScenario::CreateOrderExactlyOnce, engine) {
            let share = ratio(once.run.per_second(), today);
            println!(
                "- CreateOrderExactlyOnce on {}: {:.0} calls/s, {share:.2}× today's {today:.0} (target ≥ {EXACTLY_ONCE_SHARE_TARGET}×): {}",
                engine.name(),
                once.run.per_second(),
                verdict(share >= EXACTLY_ONCE_SHARE_TARGET)
            );
        }
        if let Some(replayed) = stores.loaded(StoreScenario::CreateOrderReplayed, engine) {
            let multiple = ratio(replayed.run.per_second(), today);
            let over_sent = stores
                .loaded(StoreScenario::CreateOrderExactlyOnce, engine)
                .map_or("–".to_owned(), |once| {
                    format!(
                        "{:.2}×",
                        ratio(replayed.run.per_second(), once.run.per_second())
                    )
                });
            println!(
                "- CreateOrderReplayed on {}: {:.0} calls/s, {multiple:.2}× today's CreateOrder to the instant warehouse and {over_sent} an exactly-once call that is sent (target ≥ {REPLAY_MULTIPLE_TARGET}×): {}",
                engine.name(),
                replayed.run.per_second(),
                verdict(multiple >= REPLAY_MULTIPLE_TARGET)
            );
        }
    }
    if let Some((_, health)) = hop.runs.iter().find(|(callers, _)| *callers != 1) {
        println!(
            "  - the ceiling for any answer over this gRPC hop: Health/Check, which does nothing, ran at {:.0} calls/s = {:.2}× today's CreateOrder",
            health.per_second(),
            ratio(health.per_second(), today)
        );
    }
}

/// Other processes' CPUs' worth during a run, plus steal when there was any.
fn load_text(run: &Run) -> String {
    let (others, steal) = run.others_and_steal();
    if steal >= 0.01 {
        format!("{others:.2} (+{steal:.2} steal)")
    } else {
        format!("{others:.2}")
    }
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 {
        numerator / denominator
    } else {
        f64::NAN
    }
}

/// The facade runtime's CPU per call over the floor's client-side CPU per call.
fn cpu_ratio(m: &Measured) -> f64 {
    ratio(
        m.facade_loaded.cpu_ms_per_call(Some(Group::Facade)),
        m.floor_loaded.cpu_ms_per_call(Some(Group::Client)),
    )
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}
