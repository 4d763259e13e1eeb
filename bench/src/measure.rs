//! What a run costs: CPU time per thread group read from `/proc` (each
//! runtime's threads are named after it), peak RSS, and latency percentiles
//! of a fixed-duration closed-loop load.
//!
//! Linux only; std file reads, no libc.

use std::{
    collections::HashMap,
    fs,
    future::Future,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

/// The runtimes of the process, told apart by their thread names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// The instant warehouse.
    Upstream,
    /// The facade: gRPC server, handlers and its own HTTP client.
    Facade,
    /// The callers: the gRPC client, or the direct reqwest client of the floor.
    Client,
    /// sqlx's SQLite threads, one per connection, which run the statements
    /// and the syncs to disk for the facades' stores: the facade's too.
    Store,
    /// The main thread and anything unnamed.
    Other,
}

pub const UPSTREAM_THREADS: &str = "bench-upstream";
pub const FACADE_THREADS: &str = "bench-facade";
pub const CLIENT_THREADS: &str = "bench-client";
/// How sqlx names a SQLite connection's thread (`sqlx-sqlite-worker-N`),
/// as far as `comm`'s 15 bytes keep it.
const SQLITE_THREADS: &str = "sqlx-sqlite-wor";

impl Group {
    pub fn of(thread_name: &str) -> Self {
        // `comm` is cut at 15 bytes; the names are shorter.
        match thread_name.trim() {
            UPSTREAM_THREADS => Self::Upstream,
            FACADE_THREADS => Self::Facade,
            CLIENT_THREADS => Self::Client,
            name if name.starts_with(SQLITE_THREADS) => Self::Store,
            _ => Self::Other,
        }
    }
}

/// Clock ticks per second of `/proc/*/stat` CPU times (`getconf CLK_TCK`).
fn clock_ticks() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse::<f64>().ok())
            .filter(|ticks| *ticks > 0.0)
            .unwrap_or(100.0)
    })
}

/// `utime + stime` in seconds from the text of a `stat` file.
pub fn cpu_seconds_of_stat(stat: &str) -> Option<f64> {
    // The command name may hold spaces and parentheses: fields start after
    // the last `)`. utime and stime are fields 14 and 15; the state (field
    // 3) is the first after the `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

/// CPU seconds used so far: the whole process (exited threads included)
/// and per live thread group.
#[derive(Debug, Clone, Default)]
pub struct Cpu {
    pub process: f64,
    pub groups: HashMap<Group, f64>,
}

impl Cpu {
    pub fn now() -> Self {
        let process = fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|stat| cpu_seconds_of_stat(&stat))
            .unwrap_or(0.0);
        let mut groups = HashMap::new();
        if let Ok(tasks) = fs::read_dir("/proc/self/task") {
            for task in tasks.flatten() {
                let path = task.path();
                let (Ok(name), Ok(stat)) = (
                    fs::read_to_string(path.join("comm")),
                    fs::read_to_string(path.join("stat")),
                ) else {
                    continue;
                };
                if let Some(seconds) = cpu_seconds_of_stat(&stat) {
                    *groups.entry(Group::of(&name)).or_insert(0.0) += seconds;
                }
            }
        }
        Self { process, groups }
    }

    /// CPU used since `earlier`.
    pub fn since(&self, earlier: &Cpu) -> Cpu {
        let groups = self
            .groups
            .iter()
            .map(|(group, seconds)| {
                let before = earlier.groups.get(group).copied().unwrap_or(0.0);
                (*group, (seconds - before).max(0.0))
            })
            .collect();
        Cpu {
            process: (self.process - earlier.process).max(0.0),
            groups,
        }
    }

    pub fn group(&self, group: Group) -> f64 {
        self.groups.get(&group).copied().unwrap_or(0.0)
    }
}

/// Machine-wide CPU seconds from `/proc/stat`: busy (all processes, kernel
/// included) and stolen by the hypervisor. Other processes' share of a run
/// is its busy time minus this process's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Machine {
    pub busy: f64,
    pub steal: f64,
}

impl Machine {
    pub fn now() -> Self {
        let Some(fields) = fs::read_to_string("/proc/stat").ok().and_then(|stat| {
            let line = stat.lines().next()?.strip_prefix("cpu ")?.to_owned();
            Some(
                line.split_whitespace()
                    .map(|field| field.parse::<f64>().unwrap_or(0.0))
                    .collect::<Vec<_>>(),
            )
        }) else {
            return Self::default();
        };
        let field = |index: usize| fields.get(index).copied().unwrap_or(0.0);
        // user nice system idle iowait irq softirq steal …
        let busy = field(0) + field(1) + field(2) + field(5) + field(6);
        Self {
            busy: busy / clock_ticks(),
            steal: field(7) / clock_ticks(),
        }
    }

    pub fn since(&self, earlier: &Machine) -> Machine {
        Machine {
            busy: (self.busy - earlier.busy).max(0.0),
            steal: (self.steal - earlier.steal).max(0.0),
        }
    }
}

/// A `kB` line of `/proc/self/status`, in KiB.
fn status_kib(key: &str) -> u64 {
    fs::read_to_string("/proc/self/status")
        .map(|status| kib_in(&status, key))
        .unwrap_or(0)
}

/// The `key: N kB` line of a `/proc/<pid>/status` text, in KiB (0 if none).
fn kib_in(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find_map(|line| {
            let value = line.strip_prefix(key)?.strip_prefix(':')?;
            value.trim().trim_end_matches("kB").trim().parse().ok()
        })
        .unwrap_or(0)
}

/// Peak resident set size (`VmHWM`) in KiB.
pub fn peak_rss_kib() -> u64 {
    status_kib("VmHWM")
}

/// Current resident set size (`VmRSS`) in KiB.
pub fn rss_kib() -> u64 {
    status_kib("VmRSS")
}

/// Resets `VmHWM` to the current RSS (Linux ≥ 4.0), so the next peak is
/// this run's own; false when the kernel refuses.
pub fn reset_peak_rss() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Sorted latencies of one run.
#[derive(Debug, Clone, Default)]
pub struct Latencies(Vec<u64>);

impl Latencies {
    pub fn from_nanos(mut nanos: Vec<u64>) -> Self {
        nanos.sort_unstable();
        Self(nanos)
    }

    /// Nearest-rank percentile, `q` in 0..=1.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let rank = (q * self.0.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.0.len()) - 1;
        Duration::from_nanos(self.0[index])
    }
}

/// What one fixed-duration load run measured.
#[derive(Debug, Clone)]
pub struct Run {
    pub calls: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    pub latencies: Latencies,
    pub cpu: Cpu,
    /// Machine-wide CPU during the run.
    pub machine: Machine,
    /// RSS when the measured part of the run started.
    pub rss_before_kib: u64,
    /// Peak RSS during the run (the whole run when the kernel lets the peak
    /// be reset, else since the process started).
    pub peak_rss_kib: u64,
}

impl Run {
    /// CPUs' worth of time other processes used during the run (their
    /// busy time over the run's length), and the hypervisor's steal.
    pub fn others_and_steal(&self) -> (f64, f64) {
        let seconds = self.elapsed.as_secs_f64().max(1e-9);
        (
            (self.machine.busy - self.cpu.process).max(0.0) / seconds,
            self.machine.steal / seconds,
        )
    }

    /// How far RSS rose above where the run started.
    pub fn rss_growth_kib(&self) -> u64 {
        self.peak_rss_kib.saturating_sub(self.rss_before_kib)
    }

    pub fn per_second(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// CPU milliseconds per call of a thread group, or of the whole process.
    pub fn cpu_ms_per_call(&self, group: Option<Group>) -> f64 {
        let seconds = match group {
            Some(group) => self.cpu.group(group),
            None => self.cpu.process,
        };
        seconds * 1000.0 / (self.calls.max(1) as f64)
    }
}

/// Calls `call` from `concurrency` tasks in a closed loop: first for
/// `warmup` (not measured), then for `duration`. A task finishes the call it
/// is in when time is up; those calls count.
pub async fn load<F, Fut>(concurrency: usize, warmup: Duration, duration: Duration, call: F) -> Run
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let call = Arc::new(call);
    if !warmup.is_zero() {
        let _ = phase(concurrency, warmup, call.clone()).await;
    }
    let rss_before_kib = rss_kib();
    reset_peak_rss();
    let cpu_before = Cpu::now();
    let machine_before = Machine::now();
    let started = Instant::now();
    let outcomes = phase(concurrency, duration, call).await;
    let elapsed = started.elapsed();
    let cpu = Cpu::now().since(&cpu_before);
    let machine = Machine::now().since(&machine_before);
    let peak_rss_kib = peak_rss_kib();
    let mut nanos = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for outcome in outcomes {
        nanos.extend(outcome.nanos);
        errors += outcome.errors;
        if first_error.is_none() {
            first_error = outcome.first_error;
        }
    }
    Run {
        calls: nanos.len() as u64,
        errors,
        first_error,
        elapsed,
        latencies: Latencies::from_nanos(nanos),
        cpu,
        machine,
        rss_before_kib,
        peak_rss_kib,
    }
}

#[derive(Default)]
struct TaskOutcome {
    /// Latency of every call, successful or not.
    nanos: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

async fn phase<F, Fut>(concurrency: usize, duration: Duration, call: Arc<F>) -> Vec<TaskOutcome>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let until = Instant::now() + duration;
    let tasks: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let call = call.clone();
            tokio::spawn(async move {
                let mut outcome = TaskOutcome {
                    nanos: Vec::with_capacity(4096),
                    ..TaskOutcome::default()
                };
                while Instant::now() < until {
                    let started = Instant::now();
                    let result = call().await;
                    outcome.nanos.push(started.elapsed().as_nanos() as u64);
                    if let Err(err) = result {
                        outcome.errors += 1;
                        outcome.first_error.get_or_insert(err);
                    }
                }
                outcome
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok(outcome) => outcomes.push(outcome),
            Err(err) => outcomes.push(TaskOutcome {
                errors: 1,
                first_error: Some(format!("a caller task failed: {err}")),
                ..TaskOutcome::default()
            }),
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_after_a_command_with_spaces_and_parentheses() {
        let stat = "42 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0";
        let seconds = cpu_seconds_of_stat(stat).expect("parsed");
        assert!((seconds - 300.0 / clock_ticks()).abs() < 1e-9);
    }

    #[test]
    fn sqlx_sqlite_threads_count_as_the_store() {
        assert_eq!(Group::of("sqlx-sqlite-wor\n"), Group::Store);
        assert_eq!(Group::of(FACADE_THREADS), Group::Facade);
        assert_eq!(Group::of("tokio-runtime-w"), Group::Other);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let latencies = Latencies::from_nanos((1..=100).rev().collect());
        assert_eq!(latencies.quantile(0.5), Duration::from_nanos(50));
        assert_eq!(latencies.quantile(0.99), Duration::from_nanos(99));
        assert_eq!(latencies.quantile(1.0), Duration::from_nanos(100));
        assert_eq!(Latencies::default().quantile(0.5), Duration::ZERO);
    }

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        // Spin until the kernel has counted a tick of CPU time (10 ms), which
        // on a busy machine can take much longer than 10 ms of wall time.
        let mut spin = 0u64;
        let started = Instant::now();
        loop {
            for _ in 0..100_000 {
                spin = spin.wrapping_add(std::hint::black_box(1));
            }
            if Cpu::now().process > 0.0 || started.elapsed() > Duration::from_secs(30) {
                break;
            }
        }
        assert!(spin > 0);
        assert!(Cpu::now().process > 0.0);
        // One reading: the kernel reports the peak as at least the RSS it
        // reports beside it; two readings race other tests' allocations.
        let status = fs::read_to_string("/proc/self/status").expect("/proc/self/status");
        let (rss, peak) = (kib_in(&status, "VmRSS"), kib_in(&status, "VmHWM"));
        assert!(rss > 0 && peak >= rss, "VmRSS {rss} kB, VmHWM {peak} kB");
    }
}
