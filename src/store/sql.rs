//! The SQL both engines run, written once. Every statement here means the
//! same on SQLite and PostgreSQL (`$N` placeholders, upserts, `RETURNING`,
//! row values). sqlx's bounds for code generic over its `Database` trait
//! would be longer than the code itself, so [`store_queries!`] stamps these
//! functions out for each engine's connection and pool types instead.

/// Defines, in the invoking module, the queries of one engine and its
/// [`Store`](crate::store::Store) impl for `$store`, a struct with the
/// fields `describe: String`, `pool: $pool`, `committer: Committer` and
/// `wakers: Arc<Wakers>`.
macro_rules! store_queries {
    ($store:ty, $database:ty, $connection:ty, $pool:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn describe(&self) -> &str {
                &self.describe
            }

            async fn append_push(
                &self,
                push: $crate::store::NewPush,
            ) -> Result<$crate::store::Appended, $crate::store::StoreError> {
                self.committer.push(push).await
            }

            async fn events_after(
                &self,
                tenant: &str,
                kind: $crate::store::EventKind,
                after: u64,
                limit: u32,
            ) -> Result<Vec<$crate::store::StoredEvent>, $crate::store::StoreError> {
                events_after(&self.pool, tenant, kind, after, limit).await
            }

            async fn kept(
                &self,
                tenant: &str,
                kind: $crate::store::EventKind,
            ) -> Result<$crate::store::Kept, $crate::store::StoreError> {
                kept(&self.pool, tenant, kind).await
            }

            async fn prune_events(&self, before_ms: i64) -> Result<u64, $crate::store::StoreError> {
                self.committer.prune(before_ms).await
            }

            async fn heartbeat(&self) -> Result<(), $crate::store::StoreError> {
                self.committer
                    .heartbeat($crate::store::millis(std::time::SystemTime::now()))
                    .await
            }

            fn changes(&self, tenant: &str) -> tokio::sync::watch::Receiver<()> {
                self.wakers.subscribe(tenant)
            }
        }

        /// Applies each write of a batch in its own savepoint of
        /// `transaction`; the caller commits and answers them.
        async fn apply_writes(
            transaction: &mut sqlx::Transaction<'_, $database>,
            writes: Vec<$crate::store::commit::Write>,
            replica: &str,
        ) -> $crate::store::commit::Applied {
            use $crate::store::commit::{Applied, Outcome, Write, end_savepoint};

            // One time for the batch, so ids and receive times rise together.
            let now = std::time::SystemTime::now();
            let mut applied = Applied::with_capacity(writes.len());
            for write in writes {
                let outcome = match sqlx::Connection::begin(&mut **transaction).await {
                    Ok(mut savepoint) => {
                        let outcome = match &write {
                            Write::Push { push, .. } => keep_push(&mut savepoint, push, now)
                                .await
                                .map(Outcome::Push),
                            Write::Prune { before_ms, .. } => {
                                prune_chunk(&mut savepoint, *before_ms)
                                    .await
                                    .map(Outcome::Pruned)
                            }
                            Write::Heartbeat { at_ms, .. } => {
                                beat(&mut savepoint, replica, *at_ms).await
                            }
                        };
                        end_savepoint(savepoint, outcome).await
                    }
                    Err(err) => Err(err.into()),
                };
                applied.push(write, outcome);
            }
            applied
        }

        /// Keeps one push unless it repeats a kept one.
        async fn keep_push(
            connection: &mut $connection,
            push: &$crate::store::NewPush,
            now: std::time::SystemTime,
        ) -> Result<$crate::store::Appended, $crate::store::StoreError> {
            use $crate::store::{Appended, event_id, first_event_id, millis};

            // The sequence row first: updating it (here to itself) locks it
            // until commit on PostgreSQL (SQLite has one writer), so
            // processes keeping the same tenant's pushes take turns, commit
            // its ids in order, and the repeat check below sees what the
            // other committed.
            sqlx::query(
                "INSERT INTO push_sequences (tenant, last_id) VALUES ($1, $2)
                 ON CONFLICT (tenant) DO UPDATE SET last_id = push_sequences.last_id",
            )
            .bind(&*push.tenant)
            .bind(first_event_id(now) - 1)
            .execute(&mut *connection)
            .await?;
            let repeat = if push.is_batch() {
                sqlx::query_scalar::<_, i64>(
                    "SELECT id FROM push_events
                     WHERE tenant = $1 AND kind = 'asn' AND number = $2 AND batch_no = $3",
                )
                .bind(&*push.tenant)
                .bind(&push.number)
                .bind(&push.batch_no)
                .fetch_optional(&mut *connection)
                .await?
                .is_some()
            } else {
                let latest: Option<Vec<u8>> = sqlx::query_scalar(
                    "SELECT fingerprint FROM push_events
                     WHERE tenant = $1 AND kind = $2 AND number = $3 ORDER BY id DESC LIMIT 1",
                )
                .bind(&*push.tenant)
                .bind(push.kind.as_str())
                .bind(&push.number)
                .fetch_optional(&mut *connection)
                .await?;
                latest.is_some_and(|latest| latest == push.fingerprint)
            };
            if repeat {
                return Ok(Appended::Duplicate);
            }
            let (id,): (i64,) = sqlx::query_as(
                "UPDATE push_sequences SET last_id = last_id + 1 WHERE tenant = $1
                 RETURNING last_id",
            )
            .bind(&*push.tenant)
            .fetch_one(&mut *connection)
            .await?;
            sqlx::query(
                "INSERT INTO push_events
                 (tenant, kind, id, number, batch_no, fingerprint, received_at_ms, content)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&*push.tenant)
            .bind(push.kind.as_str())
            .bind(id)
            .bind(&push.number)
            .bind(&push.batch_no)
            .bind(&push.fingerprint[..])
            .bind(millis(now))
            .bind(&push.content)
            .execute(&mut *connection)
            .await?;
            Ok(Appended::Kept(event_id(id)?))
        }

        /// Removes up to `PRUNE_CHUNK` events received before `before_ms`,
        /// moving each stream's pruned-through mark past them.
        async fn prune_chunk(
            connection: &mut $connection,
            before_ms: i64,
        ) -> Result<u64, $crate::store::StoreError> {
            use $crate::store::commit::{PRUNE_CHUNK, newest_per_stream};

            let removed: Vec<(String, String, i64)> = sqlx::query_as(
                "DELETE FROM push_events WHERE (tenant, kind, id) IN
                   (SELECT tenant, kind, id FROM push_events WHERE received_at_ms < $1 LIMIT $2)
                 RETURNING tenant, kind, id",
            )
            .bind(before_ms)
            .bind(PRUNE_CHUNK)
            .fetch_all(&mut *connection)
            .await?;
            for ((tenant, kind), through) in newest_per_stream(&removed) {
                sqlx::query(
                    "INSERT INTO push_pruned (tenant, kind, through_id) VALUES ($1, $2, $3)
                     ON CONFLICT (tenant, kind) DO UPDATE SET through_id =
                       CASE WHEN excluded.through_id > push_pruned.through_id
                            THEN excluded.through_id ELSE push_pruned.through_id END",
                )
                .bind(tenant)
                .bind(kind)
                .bind(through)
                .execute(&mut *connection)
                .await?;
            }
            Ok(removed.len() as u64)
        }

        /// Records this process's heartbeat.
        async fn beat(
            connection: &mut $connection,
            replica: &str,
            at_ms: i64,
        ) -> Result<$crate::store::commit::Outcome, $crate::store::StoreError> {
            sqlx::query(
                "INSERT INTO store_heartbeats (replica, beat_at_ms) VALUES ($1, $2)
                 ON CONFLICT (replica) DO UPDATE SET beat_at_ms = excluded.beat_at_ms",
            )
            .bind(replica)
            .bind(at_ms)
            .execute(&mut *connection)
            .await?;
            Ok($crate::store::commit::Outcome::Done)
        }

        /// Up to `limit` events of a stream after `after`, oldest first.
        async fn events_after(
            pool: &$pool,
            tenant: &str,
            kind: $crate::store::EventKind,
            after: u64,
            limit: u32,
        ) -> Result<Vec<$crate::store::StoredEvent>, $crate::store::StoreError> {
            use $crate::store::{StoredEvent, event_id, raw_event_id};

            let rows: Vec<(i64, i64, String)> = sqlx::query_as(
                "SELECT id, received_at_ms, content FROM push_events
                 WHERE tenant = $1 AND kind = $2 AND id > $3 ORDER BY id LIMIT $4",
            )
            .bind(tenant)
            .bind(kind.as_str())
            .bind(raw_event_id(after))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?;
            rows.into_iter()
                .map(|(id, received_at_ms, content)| {
                    Ok(StoredEvent {
                        id: event_id(id)?,
                        received_at_ms,
                        content,
                    })
                })
                .collect()
        }

        /// What retention has left of a stream.
        async fn kept(
            pool: &$pool,
            tenant: &str,
            kind: $crate::store::EventKind,
        ) -> Result<$crate::store::Kept, $crate::store::StoreError> {
            use $crate::store::{Kept, event_id};

            let (oldest, pruned_through): (Option<i64>, Option<i64>) = sqlx::query_as(
                "SELECT (SELECT MIN(id) FROM push_events WHERE tenant = $1 AND kind = $2),
                        (SELECT through_id FROM push_pruned WHERE tenant = $1 AND kind = $2)",
            )
            .bind(tenant)
            .bind(kind.as_str())
            .fetch_one(pool)
            .await?;
            Ok(Kept {
                oldest: oldest.map(event_id).transpose()?,
                pruned_through: pruned_through.map(event_id).transpose()?.unwrap_or(0),
            })
        }
    };
}

pub(super) use store_queries;
