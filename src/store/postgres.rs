//! The shared engine: a PostgreSQL database every replica uses. Writes go
//! through the group commit on a pooled connection; a tenant's sequence row
//! is locked by the transaction that keeps its events, so replicas commit a
//! tenant's events in id order. Each commit with new events sends
//! `NOTIFY qlink_facade_events, '<tenant>'`; one `LISTEN`ing connection per
//! process wakes the local watchers, and wakes them all after it reconnects,
//! since notifications sent meanwhile are lost (the watchers then re-read).

use std::{collections::BTreeSet, str::FromStr, sync::Arc, time::Duration};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use sqlx::{
    PgConnection, PgPool, Postgres,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
};
use tokio::task::JoinHandle;

use super::{
    StoreConfig, StoreError, Wakers,
    commit::{Committer, Failed, Op, Outcome, Transact, tenants_with_new_events},
    location::redacted,
    sql::store_queries,
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The channel commits notify and every process listens on.
const CHANNEL: &str = "qlink_facade_events";
/// How long a call waits for a pooled connection before the store counts
/// as unreachable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A store in a PostgreSQL database.
#[derive(Debug)]
pub struct PostgresStore {
    describe: String,
    pool: PgPool,
    committer: Committer,
    wakers: Arc<Wakers>,
    listening: JoinHandle<()>,
}

store_queries!(PostgresStore, Postgres, PgConnection, PgPool);

impl PostgresStore {
    /// Connects and migrates; fails when the database cannot be reached.
    pub async fn open(
        url: &SecretString,
        config: &StoreConfig,
        replica: &str,
    ) -> Result<Self, StoreError> {
        let shown = redacted(url.expose_secret());
        let open_error = |source| StoreError::Open {
            location: shown.clone(),
            source,
        };
        let options = PgConnectOptions::from_str(url.expose_secret()).map_err(open_error)?;
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(2))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(open_error)?;
        // sqlx takes an advisory lock while migrating, so replicas starting
        // together apply each migration once.
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                location: shown.clone(),
                source,
            })?;
        let mut listener = PgListener::connect_with(&pool).await.map_err(open_error)?;
        listener.listen(CHANNEL).await.map_err(open_error)?;
        let wakers = Arc::new(Wakers::default());
        let listening = tokio::spawn(listen(listener, wakers.clone()));
        let committer = Committer::spawn(
            PostgresWriter {
                pool: pool.clone(),
                replica: replica.to_owned(),
            },
            wakers.clone(),
        );
        Ok(Self {
            describe: format!("postgres {shown}"),
            pool,
            committer,
            wakers,
            listening,
        })
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.listening.abort();
    }
}

/// Wakes the watchers of each tenant another process (or this one) kept
/// events for.
async fn listen(mut listener: PgListener, wakers: Arc<Wakers>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => wakers.wake(notification.payload()),
            // The connection was lost; the next call reconnects. What was
            // sent meanwhile is lost, so every watcher re-reads.
            Ok(None) => {
                tracing::warn!("lost the store's notification connection; reconnecting");
                wakers.wake_all();
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for the store's notifications; retrying");
                wakers.wake_all();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// The writer task's side: a pooled connection per transaction.
struct PostgresWriter {
    pool: PgPool,
    replica: String,
}

#[async_trait]
impl Transact for PostgresWriter {
    async fn transact(&mut self, ops: &[&Op]) -> Result<Vec<Outcome>, Failed> {
        let mut transaction = self.pool.begin().await.map_err(Failed::Transaction)?;
        let outcomes = match apply_ops(&mut transaction, ops, &self.replica).await {
            Ok(outcomes) => outcomes,
            Err(err) => {
                transaction.rollback().await.map_err(Failed::Transaction)?;
                return Err(Failed::Write(err));
            }
        };
        // Delivered to every listening process when the transaction commits.
        let tenants: BTreeSet<&str> = tenants_with_new_events(ops, &outcomes).collect();
        for tenant in tenants {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(tenant)
                .execute(&mut *transaction)
                .await
                .map_err(Failed::Transaction)?;
        }
        transaction.commit().await.map_err(Failed::Transaction)?;
        Ok(outcomes)
    }
}
