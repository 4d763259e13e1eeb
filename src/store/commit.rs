//! Group commit: every write to the store is queued to one task per store,
//! which takes what has queued up (at most [`MAX_BATCH`]), applies it all in
//! one transaction, commits once, and then answers each writer. Twenty
//! webhooks wait on one sync to disk instead of twenty.
//!
//! Writes are applied in a fixed order (by table, tenant, then key) so that
//! two processes committing overlapping batches on PostgreSQL take row
//! locks in the same order and cannot deadlock. A write that fails takes
//! its batch's transaction with it; the batch is then applied again one
//! write per transaction, so only that write hears its error. (A savepoint
//! per write did the same at two more round trips per write, every time.)

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use super::{
    Appended, Claim, NewClaim, NewPush, Settle, StoreError, Wakers, WriteKey, WriteRecord,
};

/// Writes taken into one transaction at the most.
pub const MAX_BATCH: usize = 256;
/// Rows one prune write removes at the most, so a large backlog never holds
/// the writer (and the webhooks behind it) for long.
pub const PRUNE_CHUNK: i64 = 1_000;
/// Writes waiting for the writer before submitters wait too.
const QUEUE: usize = 4096;

/// What one write does.
#[derive(Debug)]
pub enum Op {
    Push(NewPush),
    PruneEvents {
        before_ms: i64,
    },
    Heartbeat {
        at_ms: i64,
    },
    Claim(NewClaim),
    Settle {
        key: WriteKey,
        owner: String,
        settle: Settle,
    },
    Renew {
        key: WriteKey,
        owner: String,
        lease_until_ms: i64,
    },
    TakeOver {
        key: WriteKey,
        owner: String,
        lease_until_ms: i64,
    },
    PruneWrites {
        now_ms: i64,
    },
}

impl Op {
    /// The order writes are applied in: pushes by tenant (each locks its
    /// tenant's sequence row), then writes by key (each locks its row),
    /// then the rest.
    fn lock_order(&self) -> (u8, &str, &str, &str) {
        match self {
            Self::Push(push) => (0, &push.tenant, push.kind.as_str(), &push.number),
            Self::Claim(NewClaim { key, .. })
            | Self::Settle { key, .. }
            | Self::Renew { key, .. }
            | Self::TakeOver { key, .. } => (1, &key.tenant, key.kind.as_str(), &key.number),
            Self::PruneEvents { .. } => (2, "", "", ""),
            Self::PruneWrites { .. } => (3, "", "", ""),
            Self::Heartbeat { .. } => (4, "", "", ""),
        }
    }
}

/// What one write did, answered once the transaction commits.
#[derive(Debug)]
pub enum Outcome {
    Push(Appended),
    Removed(u64),
    Done,
    Claimed(Claim),
    Changed(bool),
    /// Boxed: a record is far larger than the other outcomes.
    Record(Option<Box<WriteRecord>>),
}

type Respond = Box<dyn FnOnce(Result<Outcome, StoreError>) + Send>;

/// One write, with where its answer goes.
pub struct Write {
    pub op: Op,
    respond: Respond,
}

/// An engine's writer: applies writes in one transaction and commits it,
/// all or nothing.
#[async_trait]
pub trait Transact: Send + 'static {
    /// Each op's outcome, in order, once committed.
    async fn transact(&mut self, ops: &[&Op]) -> Result<Vec<Outcome>, Failed>;
}

/// Why a transaction did not commit.
#[derive(Debug)]
pub enum Failed {
    /// A write failed: the transaction was rolled back, nothing took effect.
    Write(StoreError),
    /// The transaction could not begin, roll back or commit. Nothing took
    /// effect, unless a commit's answer was lost.
    Transaction(sqlx::Error),
}

/// The handle writers queue to.
#[derive(Debug, Clone)]
pub struct Committer {
    queue: mpsc::Sender<Write>,
}

impl Committer {
    /// Starts the writer task, which ends once every handle is dropped.
    /// `wakers` hear of the tenants that got new events.
    pub fn spawn(mut writer: impl Transact, wakers: Arc<Wakers>) -> Self {
        let (queue, mut queued) = mpsc::channel::<Write>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while queued.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let mut writes = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
                writes.sort_by(|a, b| a.op.lock_order().cmp(&b.op.lock_order()));
                commit(&mut writer, writes, &wakers).await;
            }
        });
        Self { queue }
    }

    /// Queues `op` and waits for its commit; `expect` picks its answer out
    /// of the outcome.
    pub async fn submit<T: Send + 'static>(
        &self,
        op: Op,
        expect: fn(Outcome) -> Result<T, Outcome>,
    ) -> Result<T, StoreError> {
        let (answer, answered) = oneshot::channel();
        let respond: Respond = Box::new(move |outcome| {
            let _ = answer.send(outcome.and_then(|outcome| {
                expect(outcome).map_err(|other| {
                    StoreError::Corrupt(format!("a write was answered with {other:?}"))
                })
            }));
        });
        self.queue
            .send(Write { op, respond })
            .await
            .map_err(|_| StoreError::Closed)?;
        answered.await.map_err(|_| StoreError::Closed)?
    }

    /// Prunes a chunk at a time until a chunk comes back short.
    pub async fn prune_chunks(&self, op: impl Fn() -> Op) -> Result<u64, StoreError> {
        let mut removed = 0;
        loop {
            let chunk = self.submit(op(), Outcome::removed).await?;
            removed += chunk;
            if chunk < PRUNE_CHUNK as u64 {
                return Ok(removed);
            }
        }
    }
}

impl Outcome {
    pub fn push(self) -> Result<Appended, Self> {
        match self {
            Self::Push(appended) => Ok(appended),
            other => Err(other),
        }
    }

    pub fn removed(self) -> Result<u64, Self> {
        match self {
            Self::Removed(removed) => Ok(removed),
            other => Err(other),
        }
    }

    pub fn done(self) -> Result<(), Self> {
        match self {
            Self::Done => Ok(()),
            other => Err(other),
        }
    }

    pub fn claimed(self) -> Result<Claim, Self> {
        match self {
            Self::Claimed(claim) => Ok(claim),
            other => Err(other),
        }
    }

    pub fn changed(self) -> Result<bool, Self> {
        match self {
            Self::Changed(changed) => Ok(changed),
            other => Err(other),
        }
    }

    pub fn record(self) -> Result<Option<WriteRecord>, Self> {
        match self {
            Self::Record(record) => Ok(record.map(|record| *record)),
            other => Err(other),
        }
    }
}

/// Commits `writes` in one transaction and answers each; when one of them
/// fails, applies them again one per transaction.
async fn commit(writer: &mut impl Transact, writes: Vec<Write>, wakers: &Wakers) {
    let ops: Vec<&Op> = writes.iter().map(|write| &write.op).collect();
    let committed = writer.transact(&ops).await;
    drop(ops);
    match committed {
        Ok(outcomes) => answer(writes.into_iter().zip(outcomes.into_iter().map(Ok)), wakers),
        Err(Failed::Write(err)) if writes.len() == 1 => {
            answer(writes.into_iter().zip([Err(err)]), wakers)
        }
        Err(Failed::Write(err)) => {
            tracing::debug!(error = %err, writes = writes.len(), "a write failed its batch; applying the batch one write at a time");
            for write in writes {
                let outcome = match writer.transact(&[&write.op]).await {
                    Ok(mut outcomes) => outcomes.pop().ok_or_else(|| {
                        StoreError::Corrupt("a committed write without an outcome".to_owned())
                    }),
                    Err(Failed::Write(err)) => Err(err),
                    Err(Failed::Transaction(err)) => Err(StoreError::Commit(failed_commit(err))),
                };
                answer([(write, outcome)], wakers);
            }
        }
        Err(Failed::Transaction(err)) => {
            let err = failed_commit(err);
            for write in writes {
                (write.respond)(Err(StoreError::Commit(err.clone())));
            }
        }
    }
}

fn failed_commit(err: sqlx::Error) -> Arc<sqlx::Error> {
    tracing::error!(error = %err, "the store could not commit a batch of writes");
    Arc::new(err)
}

/// The writes have committed: the watchers of tenants with new events wake,
/// then each write hears its own outcome.
fn answer(writes: impl IntoIterator<Item = (Write, Result<Outcome, StoreError>)>, wakers: &Wakers) {
    let answered: Vec<_> = writes.into_iter().collect();
    for (write, outcome) in &answered {
        if let (Op::Push(push), Ok(Outcome::Push(Appended::Kept(_)))) = (&write.op, outcome) {
            wakers.wake(&push.tenant);
        }
    }
    for (write, outcome) in answered {
        (write.respond)(outcome);
    }
}

/// The tenants that get new events when `ops`, with these `outcomes`,
/// commit.
pub fn tenants_with_new_events<'a>(
    ops: &'a [&'a Op],
    outcomes: &'a [Outcome],
) -> impl Iterator<Item = &'a str> {
    ops.iter()
        .zip(outcomes)
        .filter_map(|(op, outcome)| match (op, outcome) {
            (Op::Push(push), Outcome::Push(Appended::Kept(_))) => Some(&*push.tenant),
            _ => None,
        })
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
