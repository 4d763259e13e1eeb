//! Exactly-once writes: `CreateOrder` and `CreateAsn` keyed by (tenant,
//! number), with the outcome kept in the store. Callers change nothing:
//!
//! - the first call claims the key, sends, and records the outcome;
//! - a repeat while it is in flight waits for that outcome (within its own
//!   deadline), across processes too, and returns it;
//! - a repeat after success with the same request is answered from the
//!   store; with another request it is a conflict; neither reaches the
//!   warehouse;
//! - a refusal holds nothing: a corrected request is sent;
//! - after an outcome that is unknown (the request may have reached the
//!   warehouse) the next attempt asks the warehouse first, and so does a
//!   background task for unknown outcomes nobody retries.
//!
//! The send runs in a task of its own, so a caller that goes away does not
//! leave an outcome unrecorded. A process remembers the successes it has
//! settled or read ([`KeptAnswers`]): a settled success never changes within
//! its window, so a repeat is answered from that copy without a round trip
//! to the store. Nothing here knows gRPC or HTTP.

mod kept;
mod reconcile;
mod request;

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use serde::Serialize;
use tokio::{sync::oneshot, time::Instant};
use tokio_util::task::TaskTracker;

pub use self::request::WriteRequest;
use self::{
    kept::{KeptAnswer, KeptAnswers, Settled},
    reconcile::Reconciled,
};
use crate::{
    domain::{
        CallContext, WarehouseBackend,
        fingerprint::{Fingerprint, fingerprint, same_as_stored},
    },
    metrics::Metrics,
    store::{
        Attempt, Claim, NewClaim, Settle, Store, StoreConfig, StoreError, WriteKey, WriteRecord,
        WriteState, millis,
    },
    upstream::{UpstreamError, UpstreamErrorKind},
};

/// How long a claim holds without renewal: a process that dies mid-call
/// gives its key up this long after its last renewal.
const LEASE: Duration = Duration::from_secs(10);
/// How often the owner of a claim renews it while the warehouse works.
const RENEW_EVERY: Duration = Duration::from_secs(3);
/// How often a waiting duplicate reads the key again (a process's own
/// calls also wake it at once).
const POLL_EVERY: Duration = Duration::from_millis(50);
/// Settled successes a process remembers for repeats (a few hundred bytes
/// each); the oldest remembered goes first.
pub const KEPT_ANSWERS: usize = 10_000;

/// Why an exactly-once write did not return the warehouse's answer.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The number was used already, for a request with other content.
    #[error(
        "tenant {tenant}: {field} {number:?} was already used for {what} with different content; nothing was sent"
    )]
    Conflict {
        tenant: Arc<str>,
        field: &'static str,
        what: &'static str,
        number: String,
    },
    /// The outcome could not be recorded, so nothing was sent.
    #[error("tenant {tenant}: cannot record the write, so it was not sent: {source}")]
    Store {
        tenant: Arc<str>,
        source: StoreError,
    },
    /// A call with the same number was in flight, and its outcome did not
    /// come before this call's deadline.
    #[error(
        "tenant {tenant}: another call with {field} {number:?} is in flight; its outcome did not come before the deadline"
    )]
    StillInFlight {
        tenant: Arc<str>,
        field: &'static str,
        number: String,
    },
}

/// A refusal as kept for the calls that waited on it.
#[derive(Debug, Serialize, serde::Deserialize)]
struct KeptRefusal {
    message: String,
    code: String,
}

/// The writes of every tenant, over the store.
#[derive(Debug, Clone)]
pub struct Writes {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    /// This process, in claims' owners.
    replica: Arc<str>,
    /// How long a success is replayed.
    window: Duration,
    /// How long an unknown outcome is left to the caller's own retry before
    /// the background task asks the warehouse about it.
    reconcile_after: Duration,
    settled: Arc<Settled>,
    kept: Arc<KeptAnswers>,
    /// The tasks sending and recording writes.
    recording: TaskTracker,
}

impl Writes {
    pub fn new(
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
        replica: &str,
        config: &StoreConfig,
    ) -> Self {
        Self {
            store,
            metrics,
            replica: Arc::from(replica),
            window: config.write_window,
            reconcile_after: config.reconcile_after,
            settled: Arc::default(),
            kept: Arc::default(),
            recording: TaskTracker::new(),
        }
    }

    /// Sends `request` for `tenant` at most once per number: see the module
    /// documentation. `ctx`'s deadline bounds the call, a wait for a
    /// duplicate's outcome included.
    pub async fn create<W: WriteRequest>(
        &self,
        tenant: &Arc<str>,
        backend: &Arc<dyn WarehouseBackend>,
        request: W,
        ctx: &CallContext,
    ) -> Result<W::Created, WriteError> {
        let key = WriteKey {
            tenant: tenant.clone(),
            kind: W::KIND,
            number: request.number().to_owned(),
        };
        let fingerprint = fingerprint(&request);
        let store_error = |source| WriteError::Store {
            tenant: tenant.clone(),
            source,
        };
        // A caller's retry is the common repeat.
        if let Some(kept) = self.kept.get(&key, millis(SystemTime::now())) {
            return self.replay::<W>(
                &key,
                same_as_stored(&kept.fingerprint, &fingerprint, &request),
                &kept.answer,
            );
        }
        loop {
            let owner = format!("{}/{:016x}", self.replica, fastrand::u64(..));
            let claim = NewClaim {
                key: key.clone(),
                fingerprint,
                warehouse_code: request.warehouse_code().to_owned(),
                owner: owner.clone(),
                lease: LEASE,
            };
            let claimed = self.store.claim_write(claim).await.map_err(store_error)?;
            match claimed {
                Claim::Owned => {
                    return self
                        .send_owned(key, owner, request, fingerprint, backend, ctx, None)
                        .await;
                }
                Claim::Reconcile(previous) => {
                    let previous = Some(previous);
                    return self
                        .send_owned(key, owner, request, fingerprint, backend, ctx, previous)
                        .await;
                }
                Claim::Succeeded {
                    fingerprint: kept,
                    answer,
                    expires_at_ms,
                } => {
                    let answer = Arc::from(answer);
                    self.remember(&key, kept, &answer, expires_at_ms);
                    let same_request = same_as_stored(&kept, &fingerprint, &request);
                    return self.replay::<W>(&key, same_request, &answer);
                }
                Claim::InFlight {
                    fingerprint: theirs,
                } => {
                    self.metrics
                        .record_write_wait(&key.tenant, W::KIND.as_str());
                    if let Some(outcome) = self
                        .wait_for::<W>(
                            &key,
                            same_as_stored(&theirs, &fingerprint, &request),
                            ctx.deadline,
                        )
                        .await?
                    {
                        return outcome;
                    }
                }
            }
        }
    }

    fn remember(
        &self,
        key: &WriteKey,
        fingerprint: Fingerprint,
        answer: &Arc<str>,
        expires_at_ms: i64,
    ) {
        let kept = KeptAnswer {
            fingerprint,
            answer: answer.clone(),
            expires_at_ms,
        };
        self.kept.remember(key, kept);
    }

    /// The kept answer of a settled write, or a conflict.
    fn replay<W: WriteRequest>(
        &self,
        key: &WriteKey,
        same_request: bool,
        answer: &str,
    ) -> Result<W::Created, WriteError> {
        let kind = W::KIND.as_str();
        if !same_request {
            self.metrics.record_write_conflict(&key.tenant, kind);
            return Err(conflict::<W>(key));
        }
        match serde_json::from_str(answer) {
            Ok(created) => {
                self.metrics.record_write_replay(&key.tenant, kind);
                tracing::debug!(tenant = %key.tenant, kind, number = %key.number, "a repeated write answered from the store");
                Ok(created)
            }
            Err(err) => Err(WriteError::Store {
                tenant: key.tenant.clone(),
                source: StoreError::Corrupt(format!("a kept answer: {err}")),
            }),
        }
    }

    /// Waits for another call's claim on `key` to settle. `Some` is this
    /// call's outcome (the other's, for the same request); `None` means
    /// claim again.
    async fn wait_for<W: WriteRequest>(
        &self,
        key: &WriteKey,
        same_request: bool,
        deadline: Instant,
    ) -> Result<Option<Result<W::Created, WriteError>>, WriteError> {
        let still_in_flight = || WriteError::StillInFlight {
            tenant: key.tenant.clone(),
            field: W::FIELD,
            number: key.number.clone(),
        };
        loop {
            let settled = self.settled.notify_for(key);
            let woken = settled.notified();
            let record =
                self.store
                    .write_record(key)
                    .await
                    .map_err(|source| WriteError::Store {
                        tenant: key.tenant.clone(),
                        source,
                    })?;
            let now_ms = millis(SystemTime::now());
            match record {
                Some(WriteRecord {
                    state: WriteState::InFlight,
                    lease_until_ms,
                    ..
                }) if lease_until_ms > now_ms => {}
                // The call waited on was refused: so is this one, the same.
                Some(WriteRecord {
                    state: WriteState::Rejected,
                    answer,
                    ..
                }) if same_request => return Ok(Some(Err(refusal::<W>(key, &answer)))),
                Some(WriteRecord {
                    state: WriteState::Succeeded,
                    answer,
                    ..
                }) => return Ok(Some(self.replay::<W>(key, same_request, &answer))),
                // Released, refused (for other content), unknown or
                // abandoned: claim again.
                _ => return Ok(None),
            }
            if Instant::now() >= deadline {
                return Err(still_in_flight());
            }
            tokio::select! {
                () = woken => {}
                () = tokio::time::sleep(POLL_EVERY) => {}
                () = tokio::time::sleep_until(deadline) => return Err(still_in_flight()),
            }
        }
    }

    /// Sends a claimed write and records its outcome, in a task of its own.
    /// With `previous` (an attempt whose outcome is unknown) the warehouse
    /// is asked about it first. The caller hears the warehouse's answer as
    /// soon as it comes; its record commits just after (a crash in between
    /// leaves the claim to run out, and the write is then reconciled).
    #[allow(clippy::too_many_arguments)]
    async fn send_owned<W: WriteRequest>(
        &self,
        key: WriteKey,
        owner: String,
        request: W,
        fingerprint: Fingerprint,
        backend: &Arc<dyn WarehouseBackend>,
        ctx: &CallContext,
        previous: Option<Attempt>,
    ) -> Result<W::Created, WriteError> {
        let writes = self.clone();
        let backend = backend.clone();
        let ctx = ctx.clone();
        let tenant = key.tenant.clone();
        let (tell, told) = oneshot::channel();
        let owned = async move {
            let renewing = writes.keep_renewing(key.clone(), owner.clone());
            let work = async {
                if let Some(previous) = previous {
                    let attempted = previous.fingerprint;
                    match writes
                        .reconcile::<W>(&key, &owner, previous, &backend, &ctx)
                        .await
                    {
                        Reconciled::Found(created) => {
                            let _ =
                                tell.send(if same_as_stored(&attempted, &fingerprint, &request) {
                                    Ok(created)
                                } else {
                                    Err(conflict::<W>(&key))
                                });
                            return;
                        }
                        Reconciled::Failed(err) => {
                            let _ = tell.send(Err(err.into()));
                            return;
                        }
                        Reconciled::NotFound => {
                            let sending = Settle::Sending(Attempt {
                                fingerprint,
                                warehouse_code: request.warehouse_code().to_owned(),
                            });
                            writes.settle(&key, &owner, sending).await;
                        }
                    }
                }
                let sent = request.send(backend.as_ref(), &ctx).await;
                let settle = writes.outcome_of::<W>(&key, fingerprint, &sent);
                if let Settle::Succeeded {
                    answer,
                    expires_at_ms,
                    ..
                } = &settle
                {
                    writes.remember(
                        &key,
                        fingerprint,
                        &Arc::from(answer.as_str()),
                        *expires_at_ms,
                    );
                }
                let _ = tell.send(sent.map_err(WriteError::from));
                writes.settle(&key, &owner, settle).await;
            };
            tokio::select! {
                () = work => {},
                never = renewing => match never {},
            }
        };
        // Tracked, so that shutdown waits for the records of answered writes.
        self.recording.spawn(owned);
        match told.await {
            Ok(outcome) => outcome,
            Err(_) => Err(WriteError::Store {
                tenant,
                source: StoreError::Corrupt("the write's task ended without an answer".to_owned()),
            }),
        }
    }

    /// Waits, `within` at most, for the outcomes of writes already answered
    /// to be recorded: at shutdown, after the last call has drained.
    pub async fn finish_recording(&self, within: Duration) {
        self.recording.close();
        if tokio::time::timeout(within, self.recording.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                writes = self.recording.len(),
                "shutting down before every write's outcome was recorded; those are reconciled with the warehouse later"
            );
        }
    }

    /// What to record of what the warehouse said to a send.
    fn outcome_of<W: WriteRequest>(
        &self,
        key: &WriteKey,
        fingerprint: Fingerprint,
        sent: &Result<W::Created, UpstreamError>,
    ) -> Settle {
        let expires_at_ms = millis(SystemTime::now() + self.window);
        match sent {
            Ok(created) => match serde_json::to_string(created) {
                Ok(answer) => Settle::Succeeded {
                    fingerprint,
                    answer,
                    expires_at_ms,
                },
                // Cannot happen for these plain structs; if it did, the
                // next attempt would ask the warehouse.
                Err(_) => Settle::Unknown { fingerprint },
            },
            Err(UpstreamError {
                kind: UpstreamErrorKind::Rejected { message, code },
                ..
            }) => Settle::Rejected {
                fingerprint,
                answer: serde_json::to_string(&KeptRefusal {
                    message: message.clone(),
                    code: code.clone(),
                })
                .unwrap_or_default(),
                expires_at_ms,
            },
            Err(err) if !err.may_have_reached_warehouse() => Settle::Released,
            Err(_) => {
                tracing::warn!(tenant = %key.tenant, kind = W::KIND.as_str(), number = %key.number, "a write's outcome is unknown: the next attempt asks the warehouse first");
                Settle::Unknown { fingerprint }
            }
        }
    }

    /// Settles `owner`'s claim and wakes this process's waiters. A settle
    /// that fails leaves the claim to run out: it is then reconciled.
    async fn settle(&self, key: &WriteKey, owner: &str, settle: Settle) {
        let ends = !matches!(settle, Settle::Sending(_));
        let success = match &settle {
            Settle::Succeeded {
                fingerprint,
                answer,
                expires_at_ms,
            } => Some((
                *fingerprint,
                Arc::<str>::from(answer.as_str()),
                *expires_at_ms,
            )),
            _ => None,
        };
        match self.store.settle_write(key, owner, settle).await {
            Ok(true) => {
                if let Some((fingerprint, answer, expires_at_ms)) = success {
                    self.remember(key, fingerprint, &answer, expires_at_ms);
                }
            }
            Ok(false) => {
                tracing::warn!(tenant = %key.tenant, number = %key.number, "a write's claim was taken over before it settled")
            }
            Err(err) => {
                tracing::warn!(tenant = %key.tenant, number = %key.number, error = %err, "cannot record a write's outcome; its claim runs out and it is then reconciled")
            }
        }
        if ends {
            self.settled.wake(key);
        }
    }

    /// Renews `owner`'s claim until dropped.
    async fn keep_renewing(&self, key: WriteKey, owner: String) -> std::convert::Infallible {
        let mut ticks = tokio::time::interval(RENEW_EVERY);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let until = millis(SystemTime::now() + LEASE);
            if let Err(err) = self.store.renew_write(&key, &owner, until).await {
                tracing::warn!(tenant = %key.tenant, number = %key.number, error = %err, "cannot renew a write's claim");
            }
        }
    }
}

fn conflict<W: WriteRequest>(key: &WriteKey) -> WriteError {
    WriteError::Conflict {
        tenant: key.tenant.clone(),
        field: W::FIELD,
        what: W::WHAT,
        number: key.number.clone(),
    }
}

/// The kept refusal of the call another one waited on.
fn refusal<W: WriteRequest>(key: &WriteKey, answer: &str) -> WriteError {
    let kept: KeptRefusal = serde_json::from_str(answer).unwrap_or(KeptRefusal {
        message: answer.to_owned(),
        code: String::new(),
    });
    WriteError::Upstream(UpstreamError::new(
        key.tenant.clone(),
        W::OPERATION,
        UpstreamErrorKind::Rejected {
            message: kept.message,
            code: kept.code,
        },
    ))
}
