//! What the store scenarios read off the machine beside the facade: the
//! PostgreSQL backends' CPU, how long a sync to disk takes, which file
//! system a directory is on; and the scratch SQLite files they make.

use std::{
    collections::HashMap,
    fs,
    path::{Path as FsPath, PathBuf},
    time::Duration,
};

use sqlx::PgConnection;
use tokio::sync::Mutex;

use crate::measure;

pub(super) fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::process::id())
}

/// The server processes serving one database, found through
/// `pg_stat_activity`, whose CPU time `/proc` tells when the server runs
/// on this machine.
pub(super) struct PostgresBackends {
    pub(super) admin: Mutex<PgConnection>,
    pub(super) database: String,
}

impl PostgresBackends {
    /// CPU seconds so far per backend; `None` when none can be read.
    pub(super) async fn cpu_seconds(&self) -> Option<HashMap<i32, f64>> {
        let pids: Vec<i32> =
            sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE datname = $1")
                .bind(&self.database)
                .fetch_all(&mut *self.admin.lock().await)
                .await
                .ok()?;
        let seconds: HashMap<i32, f64> = pids
            .into_iter()
            .filter_map(|pid| {
                let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                Some((pid, measure::cpu_seconds_of_stat(&stat)?))
            })
            .collect();
        (!seconds.is_empty()).then_some(seconds)
    }

    /// Drops the benchmark's database, closing the facade's connections.
    pub(super) async fn drop_database(&self) {
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database);
        if let Err(err) = sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut *self.admin.lock().await)
            .await
        {
            eprintln!("qlink-bench: cannot drop {}: {err}", self.database);
        }
    }
}

/// A SQLite file the benchmark made, removed with its write-ahead log when
/// dropped.
pub(super) struct ScratchDb(pub(super) PathBuf);

impl ScratchDb {
    pub(super) fn in_dir(dir: &FsPath) -> Self {
        Self(dir.join(format!(
            "qlink-bench-{}-{:016x}.db",
            std::process::id(),
            rand_u64()
        )))
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.0.clone().into_os_string();
            name.push(suffix);
            let _ = fs::remove_file(name);
        }
    }
}

/// The file system type of the mount `dir` is on, from `/proc/mounts`.
pub(super) fn filesystem_of(dir: &FsPath) -> Option<String> {
    let dir = fs::canonicalize(dir).ok()?;
    let mounts = fs::read_to_string("/proc/mounts").ok()?;
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_device, point, fs) = (fields.next()?, fields.next()?, fields.next()?);
            dir.starts_with(point).then(|| (point.len(), fs.to_owned()))
        })
        .max_by_key(|(length, _)| *length)
        .map(|(_, fs)| fs)
}

/// Syncs probed per call of [`probe_disk_syncs`], at most.
pub const SYNC_PROBES: usize = 50;
/// How long one probe may take in all.
const SYNC_PROBE_BUDGET: Duration = Duration::from_millis(500);

/// How long a 4 KiB append and its sync to disk take in `dir`, in
/// nanoseconds: what every commit waits for, SQLite's with
/// synchronous=FULL as PostgreSQL's WAL flush. Empty when `dir` refuses.
pub(super) async fn probe_disk_syncs(dir: PathBuf) -> Vec<u64> {
    let probe = move || -> std::io::Result<Vec<u64>> {
        use std::io::Write as _;
        let path = dir.join(format!(
            "qlink-bench-sync-probe-{}-{:016x}",
            std::process::id(),
            rand_u64()
        ));
        let mut file = fs::File::create(&path)?;
        let started = std::time::Instant::now();
        let mut nanos = Vec::with_capacity(SYNC_PROBES);
        let outcome = (|| {
            while nanos.len() < SYNC_PROBES && started.elapsed() < SYNC_PROBE_BUDGET {
                file.write_all(&[0; 4096])?;
                let synced = std::time::Instant::now();
                file.sync_data()?;
                nanos.push(synced.elapsed().as_nanos() as u64);
            }
            Ok(())
        })();
        let _ = fs::remove_file(&path);
        outcome.map(|()| nanos)
    };
    tokio::task::spawn_blocking(probe)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default()
}
