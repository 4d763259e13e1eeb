//! The embedded engine: one SQLite file in WAL mode with `synchronous=FULL`
//! (a commit is on disk before it is answered). One connection writes,
//! through the group commit; a small pool reads, which WAL lets run beside
//! the writer.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use async_trait::async_trait;
use sqlx::{
    Connection, Sqlite, SqliteConnection,
    migrate::Migrator,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};

use super::{
    StoreError, Wakers,
    commit::{ApplyBatch, Committer, Write, fail_all},
    location::TemporaryFile,
    sql::store_queries,
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a write waits for another process's lock on the file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections that read (replays, retention checks).
const READERS: u32 = 4;

/// A store in a SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    describe: String,
    /// The readers; the writer's connection is the committer's own.
    pool: SqlitePool,
    committer: Committer,
    wakers: Arc<Wakers>,
    /// Dropped last: removes a temporary store's file.
    _temporary: Option<TemporaryFile>,
}

store_queries!(SqliteStore, Sqlite, SqliteConnection, SqlitePool);

impl SqliteStore {
    /// Opens (creating if missing) and migrates the file at `path`.
    pub async fn open(
        path: &Path,
        replica: &str,
        temporary: Option<TemporaryFile>,
    ) -> Result<Self, StoreError> {
        let shown = absolute(path).display().to_string();
        let open_error = |source| StoreError::Open {
            location: shown.clone(),
            source,
        };
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT);
        let mut writer = SqliteConnection::connect_with(&options)
            .await
            .map_err(open_error)?;
        MIGRATOR
            .run(&mut writer)
            .await
            .map_err(|source| StoreError::Migrate {
                location: shown.clone(),
                source,
            })?;
        let pool = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options)
            .await
            .map_err(open_error)?;
        let wakers = Arc::new(Wakers::default());
        let committer = Committer::spawn(SqliteWriter {
            connection: Some(writer),
            options: pool.connect_options().as_ref().clone(),
            replica: replica.to_owned(),
            wakers: wakers.clone(),
        });
        Ok(Self {
            describe: format!("sqlite {shown}"),
            pool,
            committer,
            wakers,
            _temporary: temporary,
        })
    }
}

/// The path as the start-up log names it.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// The writer task's side: the one connection that writes.
struct SqliteWriter {
    /// `None` after a failed commit: the next batch opens a fresh one, so
    /// whatever state the failure left the old one in goes with it.
    connection: Option<SqliteConnection>,
    options: SqliteConnectOptions,
    replica: String,
    wakers: Arc<Wakers>,
}

#[async_trait]
impl ApplyBatch for SqliteWriter {
    async fn apply(&mut self, writes: Vec<Write>) {
        let connection = match &mut self.connection {
            Some(connection) => connection,
            None => match SqliteConnection::connect_with(&self.options).await {
                Ok(connection) => self.connection.insert(connection),
                Err(err) => return fail_all(writes, err),
            },
        };
        if !commit_batch(connection, writes, &self.replica, &self.wakers).await {
            self.connection = None;
        }
    }
}

/// Applies and commits one batch; `false` when the connection failed.
async fn commit_batch(
    connection: &mut SqliteConnection,
    writes: Vec<Write>,
    replica: &str,
    wakers: &Wakers,
) -> bool {
    // IMMEDIATE takes the write lock up front, so a batch never fails
    // halfway for want of it (another process on the same file).
    let mut transaction = match connection.begin_with("BEGIN IMMEDIATE").await {
        Ok(transaction) => transaction,
        Err(err) => {
            fail_all(writes, err);
            return false;
        }
    };
    let applied = apply_writes(&mut transaction, writes, replica).await;
    match transaction.commit().await {
        Ok(()) => {
            applied.answer(wakers);
            true
        }
        Err(err) => {
            applied.fail(err);
            false
        }
    }
}
