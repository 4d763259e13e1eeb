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
                use $crate::store::commit::{Op, Outcome};
                self.committer.submit(Op::Push(push), Outcome::push).await
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
                use $crate::store::commit::Op;
                self.committer
                    .prune_chunks(|| Op::PruneEvents { before_ms })
                    .await
            }

            async fn heartbeat(&self) -> Result<(), $crate::store::StoreError> {
                use $crate::store::commit::{Op, Outcome};
                let at_ms = $crate::store::millis(std::time::SystemTime::now());
                self.committer
                    .submit(Op::Heartbeat { at_ms }, Outcome::done)
                    .await
            }

            async fn claim_write(
                &self,
                claim: $crate::store::NewClaim,
            ) -> Result<$crate::store::Claim, $crate::store::StoreError> {
                use $crate::store::commit::{Op, Outcome};
                self.committer.submit(Op::Claim(claim), Outcome::claimed).await
            }

            async fn settle_write(
                &self,
                key: &$crate::store::WriteKey,
                owner: &str,
                settle: $crate::store::Settle,
            ) -> Result<bool, $crate::store::StoreError> {
                use $crate::store::commit::{Op, Outcome};
                let op = Op::Settle {
                    key: key.clone(),
                    owner: owner.to_owned(),
                    settle,
                };
                self.committer.submit(op, Outcome::changed).await
            }

            async fn renew_write(
                &self,
                key: &$crate::store::WriteKey,
                owner: &str,
                lease_until_ms: i64,
            ) -> Result<bool, $crate::store::StoreError> {
                use $crate::store::commit::{Op, Outcome};
                let op = Op::Renew {
                    key: key.clone(),
                    owner: owner.to_owned(),
                    lease_until_ms,
                };
                self.committer.submit(op, Outcome::changed).await
            }

            async fn take_over_write(
                &self,
                key: &$crate::store::WriteKey,
                owner: &str,
                lease_until_ms: i64,
            ) -> Result<Option<$crate::store::WriteRecord>, $crate::store::StoreError> {
                use $crate::store::commit::{Op, Outcome};
                let op = Op::TakeOver {
                    key: key.clone(),
                    owner: owner.to_owned(),
                    lease_until_ms,
                };
                self.committer.submit(op, Outcome::record).await
            }

            async fn write_record(
                &self,
                key: &$crate::store::WriteKey,
            ) -> Result<Option<$crate::store::WriteRecord>, $crate::store::StoreError> {
                write_record(&self.pool, key).await
            }

            async fn abandoned_writes(
                &self,
                now_ms: i64,
                unknown_before_ms: i64,
                limit: u32,
            ) -> Result<Vec<$crate::store::WriteRecord>, $crate::store::StoreError> {
                abandoned_writes(&self.pool, now_ms, unknown_before_ms, limit).await
            }

            async fn prune_writes(&self, now_ms: i64) -> Result<u64, $crate::store::StoreError> {
                use $crate::store::commit::Op;
                self.committer
                    .prune_chunks(|| Op::PruneWrites { now_ms })
                    .await
            }

            fn changes(&self, tenant: &str) -> tokio::sync::watch::Receiver<()> {
                self.wakers.subscribe(tenant)
            }
        }

        /// Applies `ops` on `connection` (a transaction the caller commits),
        /// stopping at the first that fails. Every claim of the batch is
        /// inserted by one statement, and every success or refusal settled by
        /// one more: most of an exactly-once write's cost is its round trips
        /// to the database, not the work in it. The rest go one by one, in
        /// order. Any order is right: the batch commits as one.
        async fn apply_ops(
            connection: &mut $connection,
            ops: &[&$crate::store::commit::Op],
            replica: &str,
        ) -> Result<Vec<$crate::store::commit::Outcome>, $crate::store::StoreError> {
            use $crate::store::{
                Claim, StoreError,
                commit::{Op, Outcome},
            };

            // One time for the batch, so ids and receive times rise together.
            let now = std::time::SystemTime::now();
            let now_ms = $crate::store::millis(now);
            let mut outcomes: Vec<Option<Outcome>> = ops.iter().map(|_| None).collect();

            let claims: Vec<(usize, &$crate::store::NewClaim)> = ops
                .iter()
                .enumerate()
                .filter_map(|(at, op)| match op {
                    Op::Claim(claim) => Some((at, claim)),
                    _ => None,
                })
                .collect();
            if !claims.is_empty() {
                let inserted = insert_claims(connection, &claims, now_ms).await?;
                for (at, claim) in claims {
                    let claimed = if inserted.contains(claim.owner.as_str()) {
                        Claim::Owned
                    } else {
                        claim_held(connection, claim, now_ms).await?
                    };
                    outcomes[at] = Some(Outcome::Claimed(claimed));
                }
            }

            let finals: Vec<(usize, Final<'_>)> = ops
                .iter()
                .enumerate()
                .filter_map(|(at, op)| match op {
                    Op::Settle { key, owner, settle } => {
                        final_of(key, owner, settle).map(|one| (at, one))
                    }
                    _ => None,
                })
                .collect();
            if !finals.is_empty() {
                let settled = settle_finals(connection, &finals, now_ms).await?;
                for (at, settle) in finals {
                    outcomes[at] = Some(Outcome::Changed(settled.contains(settle.owner)));
                }
            }

            for (op, outcome) in ops.iter().zip(&mut outcomes) {
                if outcome.is_some() {
                    continue;
                }
                *outcome = Some(match op {
                    Op::Push(push) => Outcome::Push(keep_push(connection, push, now).await?),
                    Op::PruneEvents { before_ms } => {
                        Outcome::Removed(prune_events(connection, *before_ms).await?)
                    }
                    Op::Heartbeat { at_ms } => {
                        beat(connection, replica, *at_ms).await?;
                        Outcome::Done
                    }
                    // Every claim has its outcome from above.
                    Op::Claim(claim) => {
                        Outcome::Claimed(claim_held(connection, claim, now_ms).await?)
                    }
                    Op::Settle { key, owner, settle } => {
                        Outcome::Changed(settle_write(connection, key, owner, settle, now_ms).await?)
                    }
                    Op::Renew {
                        key,
                        owner,
                        lease_until_ms,
                    } => Outcome::Changed(renew_write(connection, key, owner, *lease_until_ms).await?),
                    Op::TakeOver {
                        key,
                        owner,
                        lease_until_ms,
                    } => Outcome::Record(
                        take_over_write(connection, key, owner, *lease_until_ms, now_ms)
                            .await?
                            .map(Box::new),
                    ),
                    Op::PruneWrites { now_ms } => {
                        Outcome::Removed(prune_writes(connection, *now_ms).await?)
                    }
                });
            }
            outcomes
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| StoreError::Corrupt("a write of a batch went unapplied".to_owned()))
        }

        /// A success or a refusal to record, as [`settle_finals`] binds it.
        struct Final<'a> {
            key: &'a $crate::store::WriteKey,
            owner: &'a str,
            state: &'static str,
            fingerprint: &'a [u8; 32],
            answer: &'a str,
            expires_at_ms: i64,
        }

        /// `settle` as a [`Final`] when it is a success or a refusal.
        fn final_of<'a>(
            key: &'a $crate::store::WriteKey,
            owner: &'a str,
            settle: &'a $crate::store::Settle,
        ) -> Option<Final<'a>> {
            use $crate::store::Settle;
            let (state, fingerprint, answer, expires_at_ms) = match settle {
                Settle::Succeeded {
                    fingerprint,
                    answer,
                    expires_at_ms,
                } => ("succeeded", fingerprint, answer, expires_at_ms),
                Settle::Rejected {
                    fingerprint,
                    answer,
                    expires_at_ms,
                } => ("rejected", fingerprint, answer, expires_at_ms),
                Settle::Sending(_) | Settle::Released | Settle::Unknown { .. } => return None,
            };
            Some(Final {
                key,
                owner,
                state,
                fingerprint,
                answer,
                expires_at_ms: *expires_at_ms,
            })
        }

        /// Records each success or refusal whose claim its owner still
        /// holds; the owners whose claims it recorded. The owner stays in
        /// the row, saying who settled it (nothing reads it once settled).
        async fn settle_finals(
            connection: &mut $connection,
            finals: &[(usize, Final<'_>)],
            now_ms: i64,
        ) -> Result<std::collections::HashSet<String>, $crate::store::StoreError> {
            // VALUES' columns are column1, column2, … on both engines.
            let mut update = sqlx::QueryBuilder::<$database>::new(
                "UPDATE write_outcomes SET state = settled.column5, fingerprint = settled.column6,
                 answer = settled.column7, expires_at_ms = settled.column8, lease_until_ms = 0,
                 updated_at_ms = ",
            );
            update.push_bind(now_ms).push(" FROM (");
            update.push_values(finals, |mut row, (_, settle)| {
                row.push_bind(&*settle.key.tenant)
                    .push_bind(settle.key.kind.as_str())
                    .push_bind(&settle.key.number)
                    .push_bind(settle.owner)
                    .push_bind(settle.state)
                    .push_bind(&settle.fingerprint[..])
                    .push_bind(settle.answer)
                    .push_bind(settle.expires_at_ms);
            });
            update.push(
                ") AS settled
                 WHERE write_outcomes.tenant = settled.column1
                   AND write_outcomes.kind = settled.column2
                   AND write_outcomes.number = settled.column3
                   AND write_outcomes.owner = settled.column4
                   AND write_outcomes.state = 'in_flight'
                 RETURNING owner",
            );
            let owners: Vec<String> = update
                .build_query_scalar()
                .fetch_all(&mut *connection)
                .await?;
            Ok(owners.into_iter().collect())
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
                latest.is_some_and(|latest| {
                    latest == push.fingerprint || latest == push.earlier_fingerprint
                })
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
        async fn prune_events(
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
        ) -> Result<(), $crate::store::StoreError> {
            sqlx::query(
                "INSERT INTO store_heartbeats (replica, beat_at_ms) VALUES ($1, $2)
                 ON CONFLICT (replica) DO UPDATE SET beat_at_ms = excluded.beat_at_ms",
            )
            .bind(replica)
            .bind(at_ms)
            .execute(&mut *connection)
            .await?;
            Ok(())
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

            // At most `limit` events, and no more content than
            // `PAGE_BYTES` past the first: a page of large pushes stays
            // small in memory.
            let rows: Vec<(i64, i64, String)> = sqlx::query_as(
                "SELECT id, received_at_ms, content FROM (
                   SELECT id, received_at_ms, content,
                          SUM(LENGTH(content)) OVER (ORDER BY id) - LENGTH(content) AS before
                   FROM push_events
                   WHERE tenant = $1 AND kind = $2 AND id > $3 ORDER BY id LIMIT $4
                 ) AS page WHERE before < $5 ORDER BY id",
            )
            .bind(tenant)
            .bind(kind.as_str())
            .bind(raw_event_id(after))
            .bind(i64::from(limit))
            .bind($crate::store::PAGE_BYTES)
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

        /// `sql` with a write's key bound: `$1` tenant, `$2` kind, `$3` number.
        fn keyed<'q>(
            sql: &'static str,
            key: &'q $crate::store::WriteKey,
        ) -> sqlx::query::Query<'q, $database, <$database as sqlx::Database>::Arguments> {
            sqlx::query(sql)
                .bind(&*key.tenant)
                .bind(key.kind.as_str())
                .bind(&key.number)
        }

        /// [`keyed`], reading rows as `O`.
        fn keyed_as<'q, O: for<'r> sqlx::FromRow<'r, <$database as sqlx::Database>::Row>>(
            sql: &'static str,
            key: &'q $crate::store::WriteKey,
        ) -> sqlx::query::QueryAs<'q, $database, O, <$database as sqlx::Database>::Arguments>
        {
            sqlx::query_as(sql)
                .bind(&*key.tenant)
                .bind(key.kind.as_str())
                .bind(&key.number)
        }

        /// Inserts a claim for each key nobody holds yet; the owners of the
        /// claims inserted. Of two claims of one key only the first is.
        async fn insert_claims(
            connection: &mut $connection,
            claims: &[(usize, &$crate::store::NewClaim)],
            now_ms: i64,
        ) -> Result<std::collections::HashSet<String>, $crate::store::StoreError> {
            let mut insert = sqlx::QueryBuilder::<$database>::new(
                "INSERT INTO write_outcomes
                 (tenant, kind, number, fingerprint, state, warehouse_code, owner,
                  lease_until_ms, created_at_ms, updated_at_ms) ",
            );
            insert.push_values(claims, |mut row, (_, claim)| {
                row.push_bind(&*claim.key.tenant)
                    .push_bind(claim.key.kind.as_str())
                    .push_bind(&claim.key.number)
                    .push_bind(&claim.fingerprint[..])
                    .push_bind("in_flight")
                    .push_bind(&claim.warehouse_code)
                    .push_bind(&claim.owner)
                    .push_bind(lease_until(claim, now_ms))
                    .push_bind(now_ms)
                    .push_bind(now_ms);
            });
            insert.push(" ON CONFLICT (tenant, kind, number) DO NOTHING RETURNING owner");
            let owners: Vec<String> = insert
                .build_query_scalar()
                .fetch_all(&mut *connection)
                .await?;
            Ok(owners.into_iter().collect())
        }

        /// When a claim made at `now_ms` runs out unless renewed.
        fn lease_until(claim: &$crate::store::NewClaim, now_ms: i64) -> i64 {
            now_ms.saturating_add(i64::try_from(claim.lease.as_millis()).unwrap_or(i64::MAX))
        }

        /// How a key that was held already stands for `claim`, taking it
        /// when it holds nothing. The touching update locks the row
        /// (PostgreSQL) until the batch commits, so the decision below
        /// cannot race another process's.
        async fn claim_held(
            connection: &mut $connection,
            claim: &$crate::store::NewClaim,
            now_ms: i64,
        ) -> Result<$crate::store::Claim, $crate::store::StoreError> {
            use $crate::store::{Claim, WriteState};

            let key = &claim.key;
            let lease_until_ms = lease_until(claim, now_ms);
            let row: $crate::store::RecordRow = keyed_as(
                "UPDATE write_outcomes SET updated_at_ms = updated_at_ms
                 WHERE tenant = $1 AND kind = $2 AND number = $3
                 RETURNING tenant, kind, number, state, fingerprint, warehouse_code, answer,
                           lease_until_ms, updated_at_ms, expires_at_ms",
                key,
            )
            .fetch_one(&mut *connection)
            .await?;
            let held = $crate::store::record_of(row)?;
            let fingerprint = held.fingerprint;
            match held.state {
                WriteState::Succeeded if held.expires_at_ms > now_ms => Ok(Claim::Succeeded {
                    fingerprint,
                    answer: held.answer,
                    expires_at_ms: held.expires_at_ms,
                }),
                WriteState::InFlight if held.lease_until_ms > now_ms => {
                    Ok(Claim::InFlight { fingerprint })
                }
                // A refusal holds nothing, nor does a success past its window.
                WriteState::Succeeded | WriteState::Rejected => {
                    keyed(
                        "UPDATE write_outcomes SET fingerprint = $4, state = 'in_flight',
                         warehouse_code = $5, owner = $6, lease_until_ms = $7, answer = '',
                         attempts = attempts + 1, updated_at_ms = $8, expires_at_ms = 0
                         WHERE tenant = $1 AND kind = $2 AND number = $3",
                        key,
                    )
                    .bind(&claim.fingerprint[..])
                    .bind(&claim.warehouse_code)
                    .bind(&claim.owner)
                    .bind(lease_until_ms)
                    .bind(now_ms)
                    .execute(&mut *connection)
                    .await?;
                    Ok(Claim::Owned)
                }
                // Unknown, or a claim whose holder went away: ours, but the
                // warehouse is asked about the recorded attempt first.
                WriteState::Unknown | WriteState::InFlight => {
                    take_over_write(connection, key, &claim.owner, lease_until_ms, now_ms).await?;
                    Ok(Claim::Reconcile($crate::store::Attempt {
                        fingerprint,
                        warehouse_code: held.warehouse_code,
                    }))
                }
            }
        }

        /// Ends or updates `owner`'s claim; whether it was still theirs.
        async fn settle_write(
            connection: &mut $connection,
            key: &$crate::store::WriteKey,
            owner: &str,
            settle: &$crate::store::Settle,
            now_ms: i64,
        ) -> Result<bool, $crate::store::StoreError> {
            use $crate::store::Settle;

            let query = match settle {
                Settle::Sending($crate::store::Attempt {
                    fingerprint,
                    warehouse_code,
                }) => keyed(
                    "UPDATE write_outcomes SET fingerprint = $5, warehouse_code = $6,
                     updated_at_ms = $7
                     WHERE tenant = $1 AND kind = $2 AND number = $3 AND owner = $4
                       AND state = 'in_flight'",
                    key,
                )
                .bind(owner)
                .bind(&fingerprint[..])
                .bind(warehouse_code)
                .bind(now_ms),
                Settle::Succeeded { .. } | Settle::Rejected { .. } => {
                    let one = final_of(key, owner, settle).into_iter().map(|one| (0, one));
                    let settled = settle_finals(connection, &one.collect::<Vec<_>>(), now_ms).await?;
                    return Ok(settled.contains(owner));
                }
                Settle::Released => keyed(
                    "DELETE FROM write_outcomes
                     WHERE tenant = $1 AND kind = $2 AND number = $3 AND owner = $4
                       AND state = 'in_flight'",
                    key,
                )
                .bind(owner),
                Settle::Unknown { fingerprint } => keyed(
                    "UPDATE write_outcomes SET state = 'unknown', fingerprint = $5, owner = '',
                     lease_until_ms = 0, updated_at_ms = $6
                     WHERE tenant = $1 AND kind = $2 AND number = $3 AND owner = $4
                       AND state = 'in_flight'",
                    key,
                )
                .bind(owner)
                .bind(&fingerprint[..])
                .bind(now_ms),
            };
            Ok(query.execute(&mut *connection).await?.rows_affected() == 1)
        }

        /// Extends `owner`'s claim; whether it was still theirs.
        async fn renew_write(
            connection: &mut $connection,
            key: &$crate::store::WriteKey,
            owner: &str,
            lease_until_ms: i64,
        ) -> Result<bool, $crate::store::StoreError> {
            let renewed = keyed(
                "UPDATE write_outcomes SET lease_until_ms = $5
                 WHERE tenant = $1 AND kind = $2 AND number = $3 AND owner = $4
                   AND state = 'in_flight'",
                key,
            )
            .bind(owner)
            .bind(lease_until_ms)
            .execute(&mut *connection)
            .await?;
            Ok(renewed.rows_affected() == 1)
        }

        /// Takes over an unknown write or an abandoned claim for `owner`.
        async fn take_over_write(
            connection: &mut $connection,
            key: &$crate::store::WriteKey,
            owner: &str,
            lease_until_ms: i64,
            now_ms: i64,
        ) -> Result<Option<$crate::store::WriteRecord>, $crate::store::StoreError> {
            let row: Option<$crate::store::RecordRow> = keyed_as(
                "UPDATE write_outcomes SET state = 'in_flight', owner = $4, lease_until_ms = $5,
                 attempts = attempts + 1, updated_at_ms = $6
                 WHERE tenant = $1 AND kind = $2 AND number = $3
                   AND (state = 'unknown' OR (state = 'in_flight' AND lease_until_ms <= $6))
                 RETURNING tenant, kind, number, state, fingerprint, warehouse_code, answer,
                           lease_until_ms, updated_at_ms, expires_at_ms",
                key,
            )
            .bind(owner)
            .bind(lease_until_ms)
            .bind(now_ms)
            .fetch_optional(&mut *connection)
            .await?;
            row.map($crate::store::record_of).transpose()
        }

        /// Removes up to `PRUNE_CHUNK` settled writes past their window.
        async fn prune_writes(
            connection: &mut $connection,
            now_ms: i64,
        ) -> Result<u64, $crate::store::StoreError> {
            let removed = sqlx::query(
                "DELETE FROM write_outcomes WHERE (tenant, kind, number) IN
                   (SELECT tenant, kind, number FROM write_outcomes
                    WHERE state IN ('succeeded', 'rejected') AND expires_at_ms <= $1 LIMIT $2)",
            )
            .bind(now_ms)
            .bind($crate::store::commit::PRUNE_CHUNK)
            .execute(&mut *connection)
            .await?;
            Ok(removed.rows_affected())
        }

        /// A write's row.
        async fn write_record(
            pool: &$pool,
            key: &$crate::store::WriteKey,
        ) -> Result<Option<$crate::store::WriteRecord>, $crate::store::StoreError> {
            let row: Option<$crate::store::RecordRow> = keyed_as(
                "SELECT tenant, kind, number, state, fingerprint, warehouse_code, answer,
                        lease_until_ms, updated_at_ms, expires_at_ms
                 FROM write_outcomes WHERE tenant = $1 AND kind = $2 AND number = $3",
                key,
            )
            .fetch_optional(pool)
            .await?;
            row.map($crate::store::record_of).transpose()
        }

        /// Writes nobody is settling.
        async fn abandoned_writes(
            pool: &$pool,
            now_ms: i64,
            unknown_before_ms: i64,
            limit: u32,
        ) -> Result<Vec<$crate::store::WriteRecord>, $crate::store::StoreError> {
            let rows: Vec<$crate::store::RecordRow> = sqlx::query_as(
                "SELECT tenant, kind, number, state, fingerprint, warehouse_code, answer,
                        lease_until_ms, updated_at_ms, expires_at_ms
                 FROM write_outcomes
                 WHERE (state = 'unknown' AND updated_at_ms < $2)
                    OR (state = 'in_flight' AND lease_until_ms <= $1)
                 ORDER BY updated_at_ms LIMIT $3",
            )
            .bind(now_ms)
            .bind(unknown_before_ms)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?;
            rows.into_iter().map($crate::store::record_of).collect()
        }
    };
}

pub(super) use store_queries;
