//! One test suite for the `Store` trait, run on every engine: SQLite
//! always, PostgreSQL when `QLINK_TEST_POSTGRES_URL` names a server (see
//! `tests/common/store.rs`). Each case opens its own database.

mod common;

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use common::{push::ScratchDb, store::*};
use qlink_facade::{
    domain::fingerprint::{earlier_fingerprint, fingerprint},
    store::{self, Appended, EventKind, NewPush, Store, StoreConfig},
};

async fn open(config: &StoreConfig) -> Arc<dyn Store> {
    store::open(config, "suite").await.expect("open the store")
}

fn push(tenant: &str, kind: EventKind, number: &str, batch_no: &str, body: &str) -> NewPush {
    NewPush {
        tenant: Arc::from(tenant),
        kind,
        number: number.to_owned(),
        batch_no: batch_no.to_owned(),
        fingerprint: fingerprint(&(number, batch_no, body)),
        earlier_fingerprint: earlier_fingerprint(&(number, batch_no, body)),
        content: format!(r#"{{"number":"{number}","body":"{body}"}}"#),
    }
}

fn kept(appended: Appended) -> u64 {
    match appended {
        Appended::Kept(id) => id,
        Appended::Duplicate => panic!("kept, not a repeat"),
    }
}

/// Waits, a second at most, for `changes` to wake; `what` says what
/// should have woken it.
async fn woken(changes: &mut tokio::sync::watch::Receiver<()>, what: &str) {
    let changed = tokio::time::timeout(Duration::from_secs(1), changes.changed()).await;
    changed.expect(what).expect("store alive");
}

/// Appends `push`, which must be kept; its id.
async fn keep(store: &Arc<dyn Store>, push: NewPush) -> u64 {
    kept(store.append_push(push).await.expect("append"))
}

#[tokio::test]
async fn ids_rise_per_tenant_across_both_kinds() {
    for (config, _guard) in engines("store-ids").await {
        let store = open(&config).await;
        let mut ids = Vec::new();
        for n in 0..4 {
            let kind = if n % 2 == 0 {
                EventKind::Order
            } else {
                EventKind::Asn
            };
            ids.push(keep(&store, push("t1", kind, &format!("N-{n}"), "", "x")).await);
        }
        assert!(ids.windows(2).all(|pair| pair[1] == pair[0] + 1), "{ids:?}");
        // Ids start at the clock, so a fresh store's exceed an old one's.
        assert!(ids[0] > 1_700_000_000_000_000, "{}", ids[0]);
        let other = keep(&store, push("t2", EventKind::Order, "N-0", "", "x")).await;
        assert!(other > 1_700_000_000_000_000);

        let orders = store
            .events_after("t1", EventKind::Order, 0, 10)
            .await
            .expect("read");
        assert_eq!(
            orders.iter().map(|e| e.id).collect::<Vec<_>>(),
            [ids[0], ids[2]],
            "{}",
            store.describe()
        );
        assert_eq!(orders[0].content, r#"{"number":"N-0","body":"x"}"#);
        let asns = store
            .events_after("t1", EventKind::Asn, ids[1], 10)
            .await
            .expect("read");
        assert_eq!(asns.iter().map(|e| e.id).collect::<Vec<_>>(), [ids[3]]);
        let first = store
            .events_after("t1", EventKind::Order, 0, 1)
            .await
            .expect("read");
        assert_eq!(first.len(), 1, "a page holds at most the limit");
    }
}

#[tokio::test]
async fn repeats_are_decided_by_the_store() {
    for (config, _guard) in engines("store-repeats").await {
        let store = open(&config).await;
        let (order, asn) = (EventKind::Order, EventKind::Asn);
        // (tenant, kind, number, batch, body), and whether it is a repeat.
        let pushes = [
            // The latest of an order, again: a repeat. An older one: news.
            (("t", order, "O-1", "", "SENDING"), false),
            (("t", order, "O-1", "", "SENDING"), true),
            (("t", order, "O-1", "", "FAILED"), false),
            (("t", order, "O-1", "", "SENDING"), false),
            // An ASN batch is kept once, whatever came in between.
            (("t", asn, "A-1", "B-1", "2"), false),
            (("t", asn, "A-1", "B-2", "5"), false),
            (("t", asn, "A-1", "B-1", "2"), true),
            // The same numbers for another tenant are its own.
            (("u", order, "O-1", "", "SENDING"), false),
            (("u", asn, "A-1", "B-1", "2"), false),
        ];
        for ((tenant, kind, number, batch, body), repeat) in pushes {
            let appended = store.append_push(push(tenant, kind, number, batch, body));
            let appended = appended.await.expect("append");
            if repeat {
                assert_eq!(appended, Appended::Duplicate, "{tenant} {number} {batch}");
            } else {
                kept(appended);
            }
        }
        let orders = store
            .events_after("t", EventKind::Order, 0, 100)
            .await
            .expect("read");
        assert_eq!(orders.len(), 3, "{}", store.describe());

        // The latest one kept by a version before the fingerprint's current
        // form (its fingerprint in the earlier form), again: a repeat.
        let mut earlier = push("t", order, "O-2", "", "SENDING");
        earlier.fingerprint = earlier.earlier_fingerprint;
        kept(store.append_push(earlier).await.expect("append"));
        let again = store.append_push(push("t", order, "O-2", "", "SENDING"));
        assert_eq!(again.await.expect("append"), Appended::Duplicate);
    }
}

#[tokio::test]
async fn concurrent_pushes_are_all_kept_with_distinct_rising_ids() {
    for (config, _guard) in engines("store-concurrent").await {
        let store = open(&config).await;
        let senders: Vec<_> = (0..20)
            .map(|sender| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut ids = Vec::new();
                    for n in 0..25 {
                        let number = format!("S{sender}-{n}");
                        ids.push(keep(&store, push("t", EventKind::Order, &number, "", "x")).await);
                    }
                    ids
                })
            })
            .collect();
        let mut all = BTreeSet::new();
        for sender in senders {
            let ids = sender.await.expect("sender");
            assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
            all.extend(ids);
        }
        assert_eq!(all.len(), 500);
        let mut read = Vec::new();
        let mut cursor = 0;
        loop {
            let page = store
                .events_after("t", EventKind::Order, cursor, 64)
                .await
                .expect("read");
            let Some(last) = page.last() else { break };
            cursor = last.id;
            read.extend(page.into_iter().map(|event| event.id));
        }
        assert_eq!(
            read,
            all.into_iter().collect::<Vec<_>>(),
            "{}",
            store.describe()
        );
    }
}

#[tokio::test]
async fn pruning_removes_old_events_and_remembers_how_far() {
    for (config, _guard) in engines("store-prune").await {
        let store = open(&config).await;
        let old: Vec<u64> = {
            let mut ids = Vec::new();
            for n in 0..3 {
                ids.push(
                    keep(
                        &store,
                        push("t", EventKind::Order, &format!("O-{n}"), "", "x"),
                    )
                    .await,
                );
            }
            ids
        };
        let asn = keep(&store, push("t", EventKind::Asn, "A-0", "B", "x")).await;
        assert_eq!(
            store.kept("t", EventKind::Order).await.expect("kept"),
            store::Kept {
                oldest: Some(old[0]),
                pruned_through: 0
            }
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        let cutoff = store::millis(std::time::SystemTime::now());
        tokio::time::sleep(Duration::from_millis(20)).await;
        let new = keep(&store, push("t", EventKind::Order, "O-new", "", "x")).await;
        assert_eq!(store.prune_events(cutoff).await.expect("prune"), 4);
        assert_eq!(
            store.kept("t", EventKind::Order).await.expect("kept"),
            store::Kept {
                oldest: Some(new),
                pruned_through: old[2]
            },
            "{}",
            store.describe()
        );
        assert_eq!(
            store.kept("t", EventKind::Asn).await.expect("kept"),
            store::Kept {
                oldest: None,
                pruned_through: asn
            }
        );
        let left = store
            .events_after("t", EventKind::Order, 0, 10)
            .await
            .expect("read");
        assert_eq!(left.iter().map(|e| e.id).collect::<Vec<_>>(), [new]);
        // A pruned ASN batch may come again and is news then.
        keep(&store, push("t", EventKind::Asn, "A-0", "B", "x")).await;
        assert_eq!(store.prune_events(cutoff).await.expect("prune again"), 0);
    }
}

#[tokio::test]
async fn watchers_are_woken_by_their_tenants_pushes() {
    for (config, _guard) in engines("store-wake").await {
        let store = open(&config).await;
        let mut mine = store.changes("t");
        let mut others = store.changes("u");
        mine.borrow_and_update();
        others.borrow_and_update();
        keep(&store, push("t", EventKind::Order, "O-1", "", "x")).await;
        woken(&mut mine, "woken within a second").await;
        assert!(
            !others.has_changed().expect("alive"),
            "another tenant's watchers sleep on"
        );
    }
}

#[tokio::test]
async fn two_processes_on_one_store_keep_a_push_once_and_wake_each_other() {
    for (config, _guard) in engines("store-two").await {
        let (a, b) = (open(&config).await, open(&config).await);
        let mut on_b = b.changes("t");
        on_b.borrow_and_update();
        // The same push at once through both: an ASN batch, then an order.
        for same in [
            push("t", EventKind::Asn, "A-1", "B-1", "x"),
            push("t", EventKind::Order, "O-1", "", "x"),
        ] {
            let (first, second) = tokio::join!(a.append_push(same.clone()), b.append_push(same));
            let outcomes = [first.expect("a"), second.expect("b")];
            assert_eq!(
                outcomes
                    .iter()
                    .filter(|outcome| **outcome == Appended::Duplicate)
                    .count(),
                1,
                "{outcomes:?} on {}",
                a.describe()
            );
        }
        if a.describe().starts_with("postgres") {
            // A push kept by A wakes B's watchers (LISTEN/NOTIFY).
            on_b.borrow_and_update();
            keep(&a, push("t", EventKind::Order, "O-2", "", "x")).await;
            woken(&mut on_b, "B woken within a second").await;
        }
        let seen_by_b = b
            .events_after("t", EventKind::Order, 0, 10)
            .await
            .expect("read");
        assert!(!seen_by_b.is_empty());
    }
}

#[tokio::test]
async fn a_store_reopened_keeps_its_events_and_continues_their_ids() {
    for (config, _guard) in engines("store-reopen").await {
        let before = {
            let store = open(&config).await;
            keep(&store, push("t", EventKind::Order, "O-1", "", "x")).await
        };
        let store = open(&config).await;
        let events = store
            .events_after("t", EventKind::Order, 0, 10)
            .await
            .expect("read");
        assert_eq!(events.iter().map(|e| e.id).collect::<Vec<_>>(), [before]);
        assert_eq!(
            store
                .append_push(push("t", EventKind::Order, "O-1", "", "x"))
                .await
                .expect("append"),
            Appended::Duplicate,
            "the repeat rule holds across a restart"
        );
        let next = keep(&store, push("t", EventKind::Order, "O-2", "", "x")).await;
        assert_eq!(next, before + 1);
        store.heartbeat().await.expect("heartbeat");
    }
}

#[tokio::test]
async fn a_store_that_cannot_be_opened_names_it_without_its_password() {
    let config = postgres_store("postgres://facade:hunter2@127.0.0.1:1/qlink");
    let err = store::open(&config, "suite")
        .await
        .expect_err("nothing listens on port 1");
    let message = err.to_string();
    assert!(
        message.contains("postgres://facade:***@127.0.0.1:1/qlink"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");

    let not_a_dir = ScratchDb::new("store-not-a-dir");
    std::fs::write(&not_a_dir.0, b"x").expect("a plain file");
    let config = StoreConfig::at(qlink_facade::store::StoreLocation::Sqlite(
        not_a_dir.0.join("store.db"),
    ));
    let err = store::open(&config, "suite")
        .await
        .expect_err("a file is in the way");
    assert!(err.to_string().contains("store.db"), "{err}");
}

/// Applies to `url` every migration of `engine` but the newest: a database
/// as the previous release left it.
async fn migrate_to_the_previous_set(engine: &str, url: &str) {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(engine);
    let mut files: Vec<_> = std::fs::read_dir(&source)
        .expect("migrations")
        .map(|entry| entry.expect("entry").path())
        .collect();
    files.sort();
    assert!(files.len() >= 2, "a previous set exists");
    let previous = std::env::temp_dir().join(format!(
        "qlink-facade-previous-migrations-{engine}-{:016x}",
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&previous).expect("dir");
    for file in &files[..files.len() - 1] {
        std::fs::copy(file, previous.join(file.file_name().expect("name"))).expect("copy");
    }
    let migrator = sqlx::migrate::Migrator::new(previous.as_path())
        .await
        .expect("the previous set");
    if engine == "sqlite" {
        keep_an_event_the_old_way::<sqlx::Sqlite>(&migrator, url).await;
    } else {
        keep_an_event_the_old_way::<sqlx::Postgres>(&migrator, url).await;
    }
    let _ = std::fs::remove_dir_all(&previous);
}

/// Applies `migrator` to the database at `url`, and keeps an event there
/// as the previous release kept it.
async fn keep_an_event_the_old_way<DB: sqlx::Database>(
    migrator: &sqlx::migrate::Migrator,
    url: &str,
) where
    DB::Connection: sqlx::migrate::Migrate,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> &'q [u8]: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    const SEQUENCE: &str = "INSERT INTO push_sequences (tenant, last_id) VALUES ('t', 41)";
    const EVENT: &str = "INSERT INTO push_events
        (tenant, kind, id, number, batch_no, fingerprint, received_at_ms, content)
        VALUES ('t', 'order', 41, 'OLD-1', '', $1, 1744098883894, '{\"orderNumber\":\"OLD-1\"}')";
    let pool = sqlx::Pool::<DB>::connect(url).await.expect("connect");
    migrator.run(&pool).await.expect("apply the previous set");
    sqlx::query(SEQUENCE)
        .execute(&pool)
        .await
        .expect("a sequence");
    sqlx::query(EVENT)
        .bind(&[0u8][..])
        .execute(&pool)
        .await
        .expect("an old event");
    pool.close().await;
}

#[tokio::test]
async fn a_database_made_by_the_previous_migrations_upgrades_and_keeps_its_events() {
    for (config, guard) in engines("store-upgrade").await {
        let (engine, url) = match &guard {
            Some(db) => ("sqlite", format!("sqlite://{}?mode=rwc", db.0.display())),
            None => {
                let qlink_facade::store::StoreLocation::Postgres(url) = &config.location else {
                    unreachable!("engines gives SQLite files or PostgreSQL URLs")
                };
                (
                    "postgres",
                    secrecy::ExposeSecret::expose_secret(url).to_owned(),
                )
            }
        };
        migrate_to_the_previous_set(engine, &url).await;
        let store = open(&config).await;
        let events = store
            .events_after("t", EventKind::Order, 0, 10)
            .await
            .expect("read");
        assert_eq!(events.len(), 1, "{engine}");
        assert_eq!(events[0].id, 41);
        assert_eq!(events[0].content, r#"{"orderNumber":"OLD-1"}"#);
        let next = keep(&store, push("t", EventKind::Order, "NEW-1", "", "x")).await;
        assert_eq!(next, 42, "ids continue after the old ones");
        // What the newest migrations added works too.
        let claim = store::NewClaim {
            key: store::WriteKey {
                tenant: Arc::from("t"),
                kind: store::WriteKind::Order,
                number: "W-1".to_owned(),
            },
            fingerprint: [7; 32],
            warehouse_code: "TU01".to_owned(),
            owner: "suite/1".to_owned(),
            lease: Duration::from_secs(10),
        };
        assert_eq!(
            store.claim_write(claim).await.expect("claim"),
            store::Claim::Owned
        );
    }
}

fn claim(number: &str, owner: &str, fingerprint: u8, lease: Duration) -> store::NewClaim {
    store::NewClaim {
        key: write_key(number),
        fingerprint: [fingerprint; 32],
        warehouse_code: "TU01".to_owned(),
        owner: owner.to_owned(),
        lease,
    }
}

fn write_key(number: &str) -> store::WriteKey {
    store::WriteKey {
        tenant: Arc::from("t"),
        kind: store::WriteKind::Order,
        number: number.to_owned(),
    }
}

#[tokio::test]
async fn a_write_key_is_claimed_once_and_only_its_owner_settles_it() {
    use store::{Claim, Settle};
    for (config, _guard) in engines("store-claims").await {
        let (a, b) = (open(&config).await, open(&config).await);
        let lease = Duration::from_secs(10);
        // Two processes at once: one owns it, the other sees it in flight.
        let (first, second) = tokio::join!(
            a.claim_write(claim("W-1", "a/1", 1, lease)),
            b.claim_write(claim("W-1", "b/1", 1, lease))
        );
        let (first, second) = (first.expect("a"), second.expect("b"));
        let (owner, other) = if first == Claim::Owned {
            (("a/1", &a), second)
        } else {
            (("b/1", &b), first)
        };
        assert_eq!(
            other,
            Claim::InFlight {
                fingerprint: [1; 32]
            },
            "{}",
            a.describe()
        );
        let stranger = if owner.0 == "a/1" { "b/1" } else { "a/1" };
        assert!(
            !owner
                .1
                .settle_write(&write_key("W-1"), stranger, Settle::Released)
                .await
                .expect("settle"),
            "only the owner settles"
        );
        assert!(
            owner
                .1
                .settle_write(&write_key("W-1"), owner.0, Settle::Released)
                .await
                .expect("settle")
        );
        assert_eq!(
            a.write_record(&write_key("W-1")).await.expect("read"),
            None,
            "released"
        );

        // Succeeded: replayed with its answer, and a stranger cannot touch it.
        assert_eq!(
            a.claim_write(claim("W-2", "a/2", 2, lease))
                .await
                .expect("claim"),
            Claim::Owned
        );
        let expires_at_ms = store::millis(std::time::SystemTime::now()) + 60_000;
        let success = Settle::Succeeded {
            fingerprint: [2; 32],
            answer: "{\"n\":1}".to_owned(),
            expires_at_ms,
        };
        assert!(
            !b.settle_write(&write_key("W-2"), "b/x", success.clone())
                .await
                .expect("settle")
        );
        assert!(
            a.settle_write(&write_key("W-2"), "a/2", success)
                .await
                .expect("settle")
        );
        assert_eq!(
            b.claim_write(claim("W-2", "b/2", 3, lease))
                .await
                .expect("claim"),
            Claim::Succeeded {
                fingerprint: [2; 32],
                answer: "{\"n\":1}".to_owned(),
                expires_at_ms,
            }
        );

        // A claim whose holder went away, and an unknown outcome: taken over
        // for reconciliation, with the attempt's fingerprint.
        assert_eq!(
            a.claim_write(claim("W-3", "a/3", 4, Duration::from_millis(1)))
                .await
                .expect("claim"),
            Claim::Owned
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            b.claim_write(claim("W-3", "b/3", 5, lease))
                .await
                .expect("claim"),
            Claim::Reconcile(store::Attempt {
                fingerprint: [4; 32],
                warehouse_code: "TU01".to_owned()
            })
        );
        assert!(
            !a.settle_write(
                &write_key("W-3"),
                "a/3",
                Settle::Unknown {
                    fingerprint: [4; 32]
                }
            )
            .await
            .expect("settle"),
            "the old holder lost it"
        );
        assert!(
            b.settle_write(
                &write_key("W-3"),
                "b/3",
                Settle::Unknown {
                    fingerprint: [5; 32]
                }
            )
            .await
            .expect("settle")
        );
        let now = store::millis(std::time::SystemTime::now());
        let abandoned = a
            .abandoned_writes(now, now + 1, 10)
            .await
            .expect("abandoned");
        assert_eq!(
            abandoned
                .iter()
                .map(|record| record.key.number.as_str())
                .collect::<Vec<_>>(),
            ["W-3"]
        );
        let taken = a
            .take_over_write(&write_key("W-3"), "a/4", now + 10_000)
            .await
            .expect("take over")
            .expect("it was unknown");
        assert_eq!(taken.fingerprint, [5; 32]);
        assert_eq!(
            a.take_over_write(&write_key("W-3"), "b/4", now + 10_000)
                .await
                .expect("take over"),
            None,
            "held now"
        );

        // Past its window a success is pruned and the number is free again.
        assert_eq!(a.prune_writes(expires_at_ms + 1).await.expect("prune"), 1);
        assert_eq!(
            a.claim_write(claim("W-2", "a/5", 6, lease))
                .await
                .expect("claim"),
            Claim::Owned
        );
    }
}

#[tokio::test]
async fn a_page_of_large_events_stays_small() {
    for (config, _guard) in engines("store-large").await {
        let store = open(&config).await;
        let large = "x".repeat(400 * 1024);
        for n in 0..6 {
            let mut event = push("t", EventKind::Order, &format!("BIG-{n}"), "", "x");
            event.content = format!(r#"{{"n":{n},"pad":"{large}"}}"#);
            keep(&store, event).await;
        }
        let page = store
            .events_after("t", EventKind::Order, 0, 32)
            .await
            .expect("read");
        // 1 MiB past the first: the first three of 400 KiB each.
        assert_eq!(page.len(), 3, "{}", store.describe());
        let rest = store
            .events_after("t", EventKind::Order, page[2].id, 32)
            .await
            .expect("read");
        assert_eq!(rest.len(), 3);
        let one = "y".repeat(3 * 1024 * 1024);
        let mut huge = push("t", EventKind::Order, "HUGE", "", "y");
        huge.content = format!(r#"{{"pad":"{one}"}}"#);
        let id = keep(&store, huge).await;
        let alone = store
            .events_after("t", EventKind::Order, rest[2].id, 32)
            .await
            .expect("read");
        assert_eq!(
            alone.iter().map(|e| e.id).collect::<Vec<_>>(),
            [id],
            "one larger than a page still comes"
        );
    }
}

/// Runs `sql` on a test store's database, beside the store: what the store
/// would never write itself.
async fn execute_directly(config: &StoreConfig, guard: &Option<ScratchDb>, sql: &'static str) {
    use sqlx::Connection;
    match (guard, &config.location) {
        (Some(db), _) => {
            let url = format!("sqlite://{}?mode=rwc", db.0.display());
            let mut connection = sqlx::SqliteConnection::connect(&url)
                .await
                .expect("connect");
            sqlx::query(sql)
                .execute(&mut connection)
                .await
                .expect("run");
        }
        (None, store::StoreLocation::Postgres(url)) => {
            let url = secrecy::ExposeSecret::expose_secret(url);
            let mut connection = sqlx::PgConnection::connect(url).await.expect("connect");
            sqlx::query(sql)
                .execute(&mut connection)
                .await
                .expect("run");
        }
        (None, _) => unreachable!("engines gives SQLite files or PostgreSQL URLs"),
    }
}

#[tokio::test]
async fn a_write_that_fails_fails_alone_and_the_rest_of_its_batch_commits() {
    for (config, guard) in engines("store-batch-failure").await {
        let store = open(&config).await;
        // A row the store cannot read (a fingerprint of three bytes): a claim
        // on it fails inside the group commit.
        execute_directly(
            &config,
            &guard,
            "INSERT INTO write_outcomes (tenant, kind, number, fingerprint, state,
               warehouse_code, created_at_ms, updated_at_ms, expires_at_ms)
             VALUES ('t', 'order', 'W-BAD', 'abc', 'succeeded', 'TU01', 1, 1, 9223372036854775807)",
        )
        .await;
        let lease = Duration::from_secs(10);
        // Sent together, so they share batches with the failing claim.
        let pushes = (0..20).map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .append_push(push("t", EventKind::Order, &format!("B-{n}"), "", "x"))
                    .await
            })
        });
        let pushes: Vec<_> = pushes.collect();
        let (bad, good) = tokio::join!(
            store.claim_write(claim("W-BAD", "a/1", 1, lease)),
            store.claim_write(claim("W-GOOD", "a/2", 2, lease)),
        );
        assert!(
            matches!(bad, Err(store::StoreError::Corrupt(_))),
            "{bad:?} ({})",
            store.describe()
        );
        assert_eq!(good.expect("the other claim commits"), store::Claim::Owned);
        for pushed in pushes {
            kept(pushed.await.expect("task").expect("the pushes commit"));
        }
        let events = store
            .events_after("t", EventKind::Order, 0, 100)
            .await
            .expect("read");
        assert_eq!(events.len(), 20, "{}", store.describe());
    }
}

#[tokio::test]
async fn claims_and_settles_sent_together_each_get_their_own_answer() {
    use store::{Claim, Settle};
    for (config, _guard) in engines("store-batched-claims").await {
        let store = open(&config).await;
        let lease = Duration::from_secs(10);
        // Three claimants for each of ten numbers, all at once: the group
        // commit inserts them in one statement.
        let claims = (0..30).map(|n| {
            let store = store.clone();
            let (number, owner) = (format!("K-{}", n % 10), format!("o/{n}"));
            tokio::spawn(async move {
                let claimed = store
                    .claim_write(claim(&number, &owner, (n % 10) as u8, lease))
                    .await;
                (number, owner, claimed.expect("claim"))
            })
        });
        let claims: Vec<_> = claims.collect();
        let mut owners = std::collections::BTreeMap::new();
        for claimed in claims {
            let (number, owner, claimed) = claimed.await.expect("task");
            match claimed {
                Claim::Owned => assert!(
                    owners.insert(number.clone(), owner).is_none(),
                    "{number} owned twice ({})",
                    store.describe()
                ),
                Claim::InFlight { .. } => {}
                other => panic!("{number}: {other:?}"),
            }
        }
        assert_eq!(owners.len(), 10, "each number owned once");
        // Every claimant settles at once: only the owners' settles count.
        let expires_at_ms = store::millis(std::time::SystemTime::now()) + 60_000;
        let settles = (0..30).map(|n| {
            let store = store.clone();
            let number = format!("K-{}", n % 10);
            let owner = format!("o/{n}");
            let owns = owners.get(&number) == Some(&owner);
            tokio::spawn(async move {
                let success = Settle::Succeeded {
                    fingerprint: [(n % 10) as u8; 32],
                    answer: format!("{{\"by\":\"{owner}\"}}"),
                    expires_at_ms,
                };
                let settled = store
                    .settle_write(&write_key(&number), &owner, success)
                    .await;
                (owns, settled.expect("settle"))
            })
        });
        let settles: Vec<_> = settles.collect();
        for settled in settles {
            let (owns, settled) = settled.await.expect("task");
            assert_eq!(owns, settled, "only an owner settles");
        }
        for (number, owner) in &owners {
            let record = store
                .write_record(&write_key(number))
                .await
                .expect("read")
                .expect("kept");
            assert_eq!(record.state, store::WriteState::Succeeded);
            assert_eq!(record.answer, format!("{{\"by\":\"{owner}\"}}"));
            assert_eq!(record.expires_at_ms, expires_at_ms);
        }
    }
}
