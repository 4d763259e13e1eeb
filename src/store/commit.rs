//! Group commit: every write to the store is queued to one task per store,
//! which takes what has queued up (at most [`MAX_BATCH`]), applies each in
//! a savepoint of one transaction, commits once, and then answers each
//! writer. Twenty webhooks wait on one sync to disk instead of twenty.
//!
//! Writes are applied in a fixed order (by tenant, then number) so that two
//! processes committing overlapping batches on PostgreSQL take row locks in
//! the same order and cannot deadlock. A write that fails alone is rolled
//! back to its savepoint and answered with its error; the others go on.

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use super::{Appended, NewPush, StoreError, Wakers};

/// Writes taken into one transaction at the most.
pub const MAX_BATCH: usize = 256;
/// Events one prune write removes at the most, so a large backlog never
/// holds the writer (and the webhooks behind it) for long.
pub const PRUNE_CHUNK: i64 = 1_000;
/// Writes waiting for the writer before submitters wait too.
const QUEUE: usize = 4096;

/// One write, with where its answer goes.
pub enum Write {
    Push {
        push: NewPush,
        answer: oneshot::Sender<Result<Appended, StoreError>>,
    },
    Prune {
        before_ms: i64,
        answer: oneshot::Sender<Result<u64, StoreError>>,
    },
    Heartbeat {
        at_ms: i64,
        answer: oneshot::Sender<Result<(), StoreError>>,
    },
}

impl Write {
    /// The order writes are applied in: pushes by tenant (each takes its
    /// tenant's sequence row), then the rest.
    fn lock_order(&self) -> (u8, &str, &str) {
        match self {
            Self::Push { push, .. } => (0, &push.tenant, &push.number),
            Self::Prune { .. } => (1, "", ""),
            Self::Heartbeat { .. } => (2, "", ""),
        }
    }
}

/// What one write did, answered once the transaction commits.
#[derive(Debug)]
pub enum Outcome {
    Push(Appended),
    Pruned(u64),
    Done,
}

/// An engine's writer: applies one sorted batch in one transaction and
/// answers every write in it (through [`Applied`] or [`fail_all`]).
#[async_trait]
pub trait ApplyBatch: Send + 'static {
    async fn apply(&mut self, writes: Vec<Write>);
}

/// The handle writers queue to.
#[derive(Debug, Clone)]
pub struct Committer {
    queue: mpsc::Sender<Write>,
}

impl Committer {
    /// Starts the writer task, which ends once every handle is dropped.
    pub fn spawn(mut writer: impl ApplyBatch) -> Self {
        let (queue, mut queued) = mpsc::channel::<Write>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while queued.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let mut writes = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
                writes.sort_by(|a, b| a.lock_order().cmp(&b.lock_order()));
                writer.apply(writes).await;
            }
        });
        Self { queue }
    }

    /// Keeps a push; answers once it is committed.
    pub async fn push(&self, push: NewPush) -> Result<Appended, StoreError> {
        let (answer, answered) = oneshot::channel();
        self.submit(Write::Push { push, answer }, answered).await
    }

    /// Prunes events received before `before_ms`, a chunk per transaction.
    pub async fn prune(&self, before_ms: i64) -> Result<u64, StoreError> {
        let mut removed = 0;
        loop {
            let (answer, answered) = oneshot::channel();
            let chunk = self
                .submit(Write::Prune { before_ms, answer }, answered)
                .await?;
            removed += chunk;
            if chunk < PRUNE_CHUNK as u64 {
                return Ok(removed);
            }
        }
    }

    /// Commits a heartbeat.
    pub async fn heartbeat(&self, at_ms: i64) -> Result<(), StoreError> {
        let (answer, answered) = oneshot::channel();
        self.submit(Write::Heartbeat { at_ms, answer }, answered)
            .await
    }

    async fn submit<T>(
        &self,
        write: Write,
        answered: oneshot::Receiver<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.queue
            .send(write)
            .await
            .map_err(|_| StoreError::Closed)?;
        answered.await.map_err(|_| StoreError::Closed)?
    }
}

/// Ends a savepoint: released when its write succeeded, rolled back when
/// it failed, so one bad write does not spoil the batch.
pub async fn end_savepoint<DB: sqlx::Database, T>(
    savepoint: sqlx::Transaction<'_, DB>,
    result: Result<T, StoreError>,
) -> Result<T, StoreError> {
    match result {
        Ok(value) => {
            savepoint.commit().await?;
            Ok(value)
        }
        Err(err) => {
            savepoint.rollback().await?;
            Err(err)
        }
    }
}

/// A batch's writes with their outcomes, waiting for the commit.
pub struct Applied {
    writes: Vec<(Write, Result<Outcome, StoreError>)>,
}

impl Applied {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            writes: Vec::with_capacity(capacity),
        }
    }

    pub fn push(&mut self, write: Write, outcome: Result<Outcome, StoreError>) {
        self.writes.push((write, outcome));
    }

    /// The tenants that got new events in this batch.
    pub fn tenants_with_new_events(&self) -> impl Iterator<Item = &str> {
        self.writes
            .iter()
            .filter_map(|(write, outcome)| match (write, outcome) {
                (Write::Push { push, .. }, Ok(Outcome::Push(Appended::Kept(_)))) => {
                    Some(&*push.tenant)
                }
                _ => None,
            })
    }

    /// The transaction committed: each write hears its own outcome, and
    /// the watchers of tenants with new events wake.
    pub fn answer(self, wakers: &Wakers) {
        for tenant in self.tenants_with_new_events() {
            wakers.wake(tenant);
        }
        for (write, outcome) in self.writes {
            match write {
                Write::Push { answer, .. } => {
                    let _ = answer.send(outcome.and_then(|outcome| match outcome {
                        Outcome::Push(appended) => Ok(appended),
                        other => Err(mismatch(other)),
                    }));
                }
                Write::Prune { answer, .. } => {
                    let _ = answer.send(outcome.and_then(|outcome| match outcome {
                        Outcome::Pruned(removed) => Ok(removed),
                        other => Err(mismatch(other)),
                    }));
                }
                Write::Heartbeat { answer, .. } => {
                    let _ = answer.send(outcome.map(|_| ()));
                }
            }
        }
    }

    /// The commit failed: nothing took effect, and every write hears so.
    pub fn fail(self, err: sqlx::Error) {
        fail_all(self.writes.into_iter().map(|(write, _)| write), err);
    }
}

fn mismatch(outcome: Outcome) -> StoreError {
    StoreError::Corrupt(format!("a write was answered with {outcome:?}"))
}

/// Answers every write of a batch that could not be applied or committed.
pub fn fail_all(writes: impl IntoIterator<Item = Write>, err: sqlx::Error) {
    tracing::error!(error = %err, "the store could not commit a batch of writes");
    let err = Arc::new(err);
    for write in writes {
        let failed = || StoreError::Commit(err.clone());
        match write {
            Write::Push { answer, .. } => drop(answer.send(Err(failed()))),
            Write::Prune { answer, .. } => drop(answer.send(Err(failed()))),
            Write::Heartbeat { answer, .. } => drop(answer.send(Err(failed()))),
        }
    }
}

/// The newest id per (tenant, kind) among removed events.
pub fn newest_per_stream(removed: &[(String, String, i64)]) -> BTreeMap<(&str, &str), i64> {
    let mut newest = BTreeMap::new();
    for (tenant, kind, id) in removed {
        let through = newest
            .entry((tenant.as_str(), kind.as_str()))
            .or_insert(*id);
        *through = (*through).max(*id);
    }
    newest
}
