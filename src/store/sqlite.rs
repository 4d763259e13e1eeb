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
    commit::{Committer, Failed, Op, Outcome, Transact},
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
        let committer = Committer::spawn(
            SqliteWriter {
                connection: Some(writer),
                options: pool.connect_options().as_ref().clone(),
                replica: replica.to_owned(),
            },
            wakers.clone(),
        );
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
    /// `None` after a failed transaction: the next one opens a fresh
    /// connection, so whatever state the failure left the old one in goes
    /// with it.
    connection: Option<SqliteConnection>,
    options: SqliteConnectOptions,
    replica: String,
}

#[async_trait]
impl Transact for SqliteWriter {
    async fn transact(&mut self, ops: &[&Op]) -> Result<Vec<Outcome>, Failed> {
        let mut connection = match self.connection.take() {
            Some(connection) => connection,
            None => SqliteConnection::connect_with(&self.options)
                .await
                .map_err(Failed::Transaction)?,
        };
        let transacted = transact_on(&mut connection, ops, &self.replica).await;
        if !matches!(transacted, Err(Failed::Transaction(_))) {
            self.connection = Some(connection);
        }
        transacted
    }
}

async fn transact_on(
    connection: &mut SqliteConnection,
    ops: &[&Op],
    replica: &str,
) -> Result<Vec<Outcome>, Failed> {
    // IMMEDIATE takes the write lock up front, so a batch never fails
    // halfway for want of it (another process on the same file).
    let mut transaction = connection
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(Failed::Transaction)?;
    match apply_ops(&mut transaction, ops, replica).await {
        Ok(outcomes) => {
            transaction.commit().await.map_err(Failed::Transaction)?;
            Ok(outcomes)
        }
        Err(err) => {
            transaction.rollback().await.map_err(Failed::Transaction)?;
            Err(Failed::Write(err))
        }
    }
}
