//! Exactly-once writes through the real server, against the simulator and a
//! proxy in front of it that loses replies: CreateOrder and CreateAsn reach
//! the warehouse once per number whatever the callers repeat, and a lost
//! reply is reconciled by asking the warehouse.

mod common;

use std::time::Duration;

use common::{
    lossy::{Loss, LossyUpstream},
    push::{ScratchDb, demo_with_store},
    *,
};
use qlink_facade::{
    demo,
    metrics::Metrics,
    proto::{AsnItem, CreateAsnRequest},
    simulator::{Fault, FaultKind, SimulatorHandle},
    store::StoreConfig,
};
use tonic::{Code, Status};
use tonic_types::StatusExt;

const SKU: &str = "SIM-SKU-00001";

/// The two exactly-once writes, driven alike.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Order,
    Asn,
}

const KINDS: [Kind; 2] = [Kind::Order, Kind::Asn];

impl Kind {
    /// The protocol operation both specs name it by.
    fn operation(self) -> &'static str {
        match self {
            Self::Order => "createOrder",
            Self::Asn => "createAsnOrder",
        }
    }

    /// A write of `number` that must succeed (`what` says why): answered
    /// for `number`, it gives the warehouse's own number.
    async fn created(
        self,
        api: &Caller,
        warehouse: &str,
        number: &str,
        quantity: i64,
        what: &str,
    ) -> String {
        let (answered, warehouse_number) = self
            .create(api, warehouse, number, quantity)
            .await
            .expect(what);
        assert_eq!(answered, number, "{what}");
        warehouse_number
    }

    /// Creates `number` as `api`'s tenant, with `quantity` of the one line
    /// (other quantities are other content); (number, the warehouse's
    /// number).
    async fn create(
        self,
        api: &Caller,
        warehouse: &str,
        number: &str,
        quantity: i64,
    ) -> Result<(String, String), Status> {
        match self {
            Self::Order => {
                let mut order = order(number, warehouse, SKU);
                order.items[0].quantity = quantity;
                let created = api.create_order(order).await?;
                Ok((created.order_number, created.warehouse_order_number))
            }
            Self::Asn => {
                let asn = CreateAsnRequest {
                    asn_number: number.to_owned(),
                    warehouse_code: warehouse.to_owned(),
                    items: vec![AsnItem {
                        sku: SKU.to_owned(),
                        name: "Side table".to_owned(),
                        quantity,
                    }],
                    r#type: "PURCHASE".to_owned(),
                    ..Default::default()
                };
                let created = api.create_asn(asn).await?;
                Ok((created.asn_number, created.wms_asn_number))
            }
        }
    }

    /// How many creates of `number` the simulator received.
    fn creates(self, simulator: &SimulatorHandle, number: &str) -> usize {
        simulator
            .requests()
            .iter()
            .filter(|request| {
                request.operation == self.operation() && request.content.contains(number)
            })
            .count()
    }
}

/// Each demo tenant's first warehouse, with each kind of write.
async fn cases(world: &World) -> Vec<(&'static str, Caller, String, Kind)> {
    let mut cases = Vec::new();
    for (tenant, api, warehouse) in tenants(world).await {
        cases.extend(KINDS.map(|kind| (tenant, api.clone(), warehouse.clone(), kind)));
    }
    cases
}

#[tokio::test]
async fn twenty_concurrent_duplicates_reach_the_warehouse_once_and_get_one_answer() {
    let world = world().await;
    for (tenant, api, warehouse, kind) in cases(&world).await {
        let number = format!("DUP20-{kind:?}-{tenant}");
        let calls = (0..20).map(|_| kind.create(&api, &warehouse, &number, 2));
        let answers = futures::future::join_all(calls).await;
        let answer = one_answer(answers, &format!("{tenant} {kind:?}"));
        assert_eq!(
            kind.creates(&world.simulator, &number),
            1,
            "{tenant} {kind:?}"
        );
        assert!(!answer.1.is_empty(), "{answer:?}");
    }
}

#[tokio::test]
async fn a_repeat_is_answered_from_the_store_and_other_content_is_already_exists() {
    let world = world().await;
    for (tenant, api, warehouse, kind) in cases(&world).await {
        let number = format!("REPEAT-{kind:?}-{tenant}");
        let first = kind
            .create(&api, &warehouse, &number, 2)
            .await
            .expect("first");
        let again = kind
            .create(&api, &warehouse, &number, 2)
            .await
            .expect("repeat");
        assert_eq!(again, first);
        let status = kind
            .create(&api, &warehouse, &number, 3)
            .await
            .expect_err("other content");
        assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
        let info = status.get_details_error_info().expect("ErrorInfo");
        assert_eq!(info.reason, "NUMBER_ALREADY_USED");
        assert_eq!(
            info.metadata.get("tenant").map(String::as_str),
            Some(tenant)
        );
        assert!(status.message().contains(&number), "{}", status.message());
        assert!(
            status.message().contains("different content"),
            "{}",
            status.message()
        );
        assert_eq!(
            kind.creates(&world.simulator, &number),
            1,
            "{tenant} {kind:?}"
        );
    }
    let metrics = text_at(&format!("http://{}/metrics", world.facade.http_addr)).await;
    for name in [
        r#"qlink_facade_write_replays_total{tenant="demo-qlink",kind="order"} 1"#,
        r#"qlink_facade_write_conflicts_total{tenant="demo-qianyi",kind="asn"} 1"#,
    ] {
        assert!(metrics.contains(name), "{name} in\n{metrics}");
    }
}

#[tokio::test]
async fn a_refused_write_holds_nothing_and_the_corrected_one_is_sent() {
    let world = world().await;
    for (tenant, api, warehouse, kind) in cases(&world).await {
        let number = format!("FIX-{kind:?}-{tenant}");
        world.simulator.inject(
            Fault::new(FaultKind::Reject("地址无效".to_owned()))
                .on(kind.operation())
                .times(1),
        );
        let status = kind
            .create(&api, &warehouse, &number, 2)
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        kind.created(&api, &warehouse, &number, 3, "the corrected write is sent")
            .await;
        assert_eq!(
            kind.creates(&world.simulator, &number),
            2,
            "{tenant} {kind:?}"
        );
    }
}

#[tokio::test]
async fn an_invalid_write_stores_nothing() {
    let world = world().await;
    let warehouse = first_warehouse(&world, QLINK).await;
    let status = Kind::Order
        .create(&world.facade.caller(QLINK), &warehouse, "INVALID-1", 0)
        .await
        .expect_err("quantity 0");
    assert_eq!(status.code(), Code::InvalidArgument);
    Kind::Order
        .create(&world.facade.caller(QLINK), &warehouse, "INVALID-1", 2)
        .await
        .expect("the valid one with the same number is sent");
    assert_eq!(Kind::Order.creates(&world.simulator, "INVALID-1"), 1);
}

/// A simulator, the lossy proxy in front of it, and a facade against the
/// proxy on `store`.
async fn lossy_world(store: StoreConfig) -> (SimulatorHandle, LossyUpstream, Facade) {
    let simulator_config = test_simulator_config();
    let simulator = spawn_simulator(simulator_config.clone()).await;
    let lossy = LossyUpstream::start(simulator.addr()).await;
    let mut config = demo::demo_config(
        &simulator_config,
        lossy.qlink_base_url(),
        lossy.qianyi_endpoint(),
    );
    config.store = store;
    let facade = spawn_facade(config).await;
    (simulator, lossy, facade)
}

#[tokio::test]
async fn a_lost_reply_is_reconciled_by_the_retry_and_sent_once() {
    let (simulator, lossy, facade) = lossy_world(StoreConfig::temporary()).await;
    for tenant in TENANTS {
        let api = facade.caller(tenant);
        let warehouse = first_warehouse_of(&facade, tenant).await;
        for kind in KINDS {
            // A held reply ends the call at its deadline: the facade's own
            // DEADLINE_EXCEEDED, or on a busy machine the caller's timer
            // first (CANCELLED). Either way the caller cannot know.
            for (loss, expected) in [
                (Loss::Status503, &[Code::Unavailable][..]),
                (
                    Loss::Hold(Duration::from_secs(3)),
                    &[Code::DeadlineExceeded, Code::Cancelled][..],
                ),
            ] {
                let number = format!("LOST-{kind:?}-{loss:?}-{tenant}")
                    .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "");
                lossy.lose(kind.operation(), 1, loss);
                // Only a held reply needs the caller's own timer; a 503
                // comes back at once, however busy the machine.
                let caller = match loss {
                    Loss::Hold(_) => api.clone().with_timeout(Some(Duration::from_millis(800))),
                    _ => api.clone(),
                };
                let status = kind.create(&caller, &warehouse, &number, 2).await;
                let status = status.expect_err("the reply was lost");
                assert!(
                    expected.contains(&status.code()),
                    "{tenant} {kind:?}: {status:?}"
                );
                let retried = kind
                    .created(
                        &api,
                        &warehouse,
                        &number,
                        2,
                        "the retry finds it at the warehouse",
                    )
                    .await;
                assert_eq!(
                    retried, "",
                    "neither spec's lookup carries the warehouse's number"
                );
                assert_eq!(
                    kind.creates(&simulator, &number),
                    1,
                    "{tenant} {kind:?} {loss:?}"
                );
                // From now on answered from the store.
                let again = kind
                    .create(&api, &warehouse, &number, 2)
                    .await
                    .expect("repeat");
                assert_eq!(again, (number.clone(), retried));
            }
        }
    }
    let metrics = text_at(&format!("http://{}/metrics", facade.http_addr)).await;
    assert!(
        metrics.contains(r#"qlink_facade_write_reconciliations_total{tenant="demo-qlink",kind="order",outcome="found"} 2"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_lost_reply_nobody_retries_is_reconciled_in_the_background() {
    let mut store = StoreConfig::temporary();
    store.reconcile_after = Duration::from_secs(1);
    let (simulator, lossy, facade) = lossy_world(store).await;
    let warehouse = first_warehouse_of(&facade, QIANYI).await;
    lossy.lose("createOrder", 1, Loss::Status503);
    let status = Kind::Order
        .create(&facade.caller(QIANYI), &warehouse, "BG-1", 2)
        .await
        .expect_err("lost");
    assert_eq!(status.code(), Code::Unavailable);
    let reconciled = eventually(Duration::from_secs(15), || async {
        let metrics = reqwest::get(format!("http://{}/metrics", facade.http_addr))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        metrics
            .contains(r#"qlink_facade_write_reconciliations_total{tenant="demo-qianyi",kind="order",outcome="found"} 1"#)
            .then_some(())
    })
    .await;
    assert!(
        reconciled.is_some(),
        "the background task asked the warehouse"
    );
    simulator.clear_requests();
    Kind::Order
        .create(&facade.caller(QIANYI), &warehouse, "BG-1", 2)
        .await
        .expect("answered from the store");
    assert!(
        simulator.requests().is_empty(),
        "no lookup and no create: {:?}",
        simulator.requests()
    );
}

#[tokio::test]
async fn a_repeat_after_a_restart_on_the_same_store_reaches_no_warehouse() {
    let db = ScratchDb::new("writes-restart");
    let (simulator, config) = demo_with_store(db.store()).await;
    let before = spawn_facade(config.clone()).await;
    let warehouse = first_warehouse_of(&before, QLINK).await;
    let first = Kind::Order
        .create(&before.caller(QLINK), &warehouse, "RESTART-1", 2)
        .await
        .expect("create");
    drop(before);
    let after = spawn_facade(config).await;
    let again = Kind::Order
        .create(&after.caller(QLINK), &warehouse, "RESTART-1", 2)
        .await
        .expect("repeat");
    assert_eq!(again, first);
    assert_eq!(Kind::Order.creates(&simulator, "RESTART-1"), 1);
}

#[tokio::test]
async fn a_repeat_of_a_write_recorded_with_the_earlier_fingerprint_reaches_no_warehouse() {
    use qlink_facade::domain::{
        NewOrder,
        fingerprint::{earlier_fingerprint, fingerprint},
    };
    use sqlx::Connection;

    let db = ScratchDb::new("writes-upgrade");
    let (simulator, config) = demo_with_store(db.store()).await;
    let before = spawn_facade(config.clone()).await;
    let warehouse = first_warehouse_of(&before, QLINK).await;
    let mut request = order("UPGRADE-1", &warehouse, SKU);
    let first = before
        .caller(QLINK)
        .create_order(request.clone())
        .await
        .expect("create");
    drop(before);
    // What a version before the fingerprint's current form kept for it.
    let domain = NewOrder::try_from(request.clone()).expect("a valid order");
    let earlier = earlier_fingerprint(&domain);
    assert_ne!(earlier, fingerprint(&domain), "the two forms differ");
    let url = format!("sqlite://{}", db.0.display());
    let mut connection = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("open the store's file");
    let rewritten = sqlx::query("UPDATE write_outcomes SET fingerprint = ? WHERE number = ?")
        .bind(&earlier[..])
        .bind("UPGRADE-1")
        .execute(&mut connection)
        .await
        .expect("rewrite the fingerprint");
    assert_eq!(rewritten.rows_affected(), 1);
    connection.close().await.expect("close");

    let after = spawn_facade(config).await;
    let again = after
        .caller(QLINK)
        .create_order(request.clone())
        .await
        .expect("the repeat, answered from the store");
    assert_eq!(again, first);
    assert_eq!(Kind::Order.creates(&simulator, "UPGRADE-1"), 1);
    request.items[0].quantity += 1;
    let other = after
        .caller(QLINK)
        .create_order(request)
        .await
        .expect_err("other content");
    assert_eq!(other.code(), Code::AlreadyExists);
    assert_eq!(Kind::Order.creates(&simulator, "UPGRADE-1"), 1);
}

#[tokio::test]
async fn duplicates_sent_to_two_facades_on_one_postgres_store_reach_the_warehouse_once() {
    let Some(url) = common::store::fresh_postgres("writes-two-facades").await else {
        return;
    };
    let (simulator, config) = demo_with_store(common::store::postgres_store(&url)).await;
    let a = spawn_facade(config.clone()).await;
    let b = spawn_facade_with_metrics(config, Metrics::shared()).await;
    for tenant in TENANTS {
        let warehouse = first_warehouse_of(&a, tenant).await;
        let callers = [a.caller(tenant), b.caller(tenant)];
        for kind in KINDS {
            let number = format!("TWO-{kind:?}-{tenant}");
            let calls = (0..10).map(|n| kind.create(&callers[n % 2], &warehouse, &number, 2));
            one_answer(futures::future::join_all(calls).await, tenant);
            assert_eq!(kind.creates(&simulator, &number), 1, "{tenant} {kind:?}");
        }
    }
}
