//! Reconciliation: asking the warehouse about a write whose outcome is
//! unknown, on the next attempt and in a background task for the ones
//! nobody retries.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use super::{LEASE, WriteRequest, Writes};
use crate::{
    domain::{CallContext, DEFAULT_CALL_TIMEOUT, NewAsn, NewOrder, WarehouseBackend},
    store::{Attempt, Settle, WriteKey, WriteKind, WriteRecord, millis},
    tenant::Tenants,
    upstream::UpstreamError,
};

impl Writes {
    /// Asks the warehouse whether an attempt with an unknown outcome
    /// arrived, and records it when it did.
    pub(super) async fn reconcile<W: WriteRequest>(
        &self,
        key: &WriteKey,
        owner: &str,
        attempt: Attempt,
        backend: &Arc<dyn WarehouseBackend>,
        ctx: &CallContext,
    ) -> Reconciled<W::Created> {
        let kind = W::KIND.as_str();
        let attempted = attempt.fingerprint;
        let number = key.number.clone();
        match W::look_up(backend.as_ref(), ctx, attempt.warehouse_code, number).await {
            Ok(Some(created)) => {
                self.metrics
                    .record_reconciliation(&key.tenant, kind, "found");
                tracing::info!(tenant = %key.tenant, kind, number = %key.number, outcome = "found", "reconciled a write whose outcome was unknown: the warehouse has it");
                let answer = serde_json::to_string(&created).unwrap_or_default();
                let settle = Settle::Succeeded {
                    fingerprint: attempted,
                    answer,
                    expires_at_ms: millis(SystemTime::now() + self.window),
                };
                self.settle(key, owner, settle).await;
                Reconciled::Found(created)
            }
            Ok(None) => {
                self.metrics
                    .record_reconciliation(&key.tenant, kind, "not_found");
                tracing::info!(tenant = %key.tenant, kind, number = %key.number, outcome = "not_found", "reconciled a write whose outcome was unknown: the warehouse does not have it");
                Reconciled::NotFound
            }
            Err(err) => {
                self.metrics
                    .record_reconciliation(&key.tenant, kind, "failed");
                tracing::warn!(tenant = %key.tenant, kind, number = %key.number, error = %err, "cannot ask the warehouse about a write whose outcome is unknown; it stays unknown");
                self.settle(
                    key,
                    owner,
                    Settle::Unknown {
                        fingerprint: attempted,
                    },
                )
                .await;
                Reconciled::Failed(err)
            }
        }
    }

    /// Reconciles the writes nobody is settling: unknown for
    /// `reconcile_after`, or claimed by a process that went away, looking
    /// every third of that (1 to 10 s). Found ones are recorded; ones the
    /// warehouse does not have are released, so a later repeat is sent.
    /// Settled writes past their window are pruned on the way.
    pub async fn reconcile_abandoned(self, tenants: Arc<Tenants>) {
        let every =
            (self.reconcile_after / 3).clamp(Duration::from_secs(1), Duration::from_secs(10));
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = SystemTime::now();
            let unknown_before = now.checked_sub(self.reconcile_after).unwrap_or(now);
            let abandoned = match self
                .store
                .abandoned_writes(millis(now), millis(unknown_before), 50)
                .await
            {
                Ok(abandoned) => abandoned,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot look for abandoned writes; will try again");
                    continue;
                }
            };
            for record in abandoned {
                let Some(tenant) = tenants.load().get(&record.key.tenant) else {
                    continue;
                };
                match record.key.kind {
                    WriteKind::Order => {
                        self.reconcile_one::<NewOrder>(record, &tenant.backend)
                            .await;
                    }
                    WriteKind::Asn => self.reconcile_one::<NewAsn>(record, &tenant.backend).await,
                }
            }
            if let Err(err) = self.store.prune_writes(millis(SystemTime::now())).await {
                tracing::warn!(error = %err, "cannot prune settled writes; will try again");
            }
        }
    }

    async fn reconcile_one<W: WriteRequest>(
        &self,
        record: WriteRecord,
        backend: &Arc<dyn WarehouseBackend>,
    ) {
        let owner = format!("{}/{:016x}", self.replica, fastrand::u64(..));
        let until = millis(SystemTime::now() + LEASE);
        let taken = match self.store.take_over_write(&record.key, &owner, until).await {
            Ok(Some(taken)) => taken,
            // Someone settled or took it meanwhile.
            Ok(None) => return,
            Err(err) => {
                tracing::warn!(error = %err, "cannot take over an abandoned write; will try again");
                return;
            }
        };
        let ctx = CallContext::within(DEFAULT_CALL_TIMEOUT);
        let reconciled = self
            .reconcile::<W>(&taken.key, &owner, taken.attempt(), backend, &ctx)
            .await;
        if let Reconciled::NotFound = reconciled {
            // It never arrived: the key is free, and a repeat is sent.
            self.settle(&taken.key, &owner, Settle::Released).await;
        }
    }
}

/// What the warehouse said about an attempt whose outcome was unknown.
pub(super) enum Reconciled<Created> {
    /// It has the write: this is its answer.
    Found(Created),
    NotFound,
    Failed(UpstreamError),
}
