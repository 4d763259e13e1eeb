//! Qianyi push webhooks through the real HTTP listener, and the
//! `Watch*Events` streams that deliver them through the real gRPC server.

mod common;

use std::time::Duration;

use common::{push::*, *};
use futures::StreamExt;
use qlink_facade::{
    demo::DEMO_PUSH_SECRET_KEY,
    proto::{AsnStatus, OrderStatus},
    server::READINESS_SERVICE,
};
use serde_json::{Value, json};
use tonic::Code;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// POSTs a push signed as the spec says; returns (HTTP status, answer).
async fn push(
    world: &World,
    path: &str,
    method: &str,
    content: &str,
    secret: &str,
) -> (u16, Value) {
    push_to(&world.facade, path, method, content, secret).await
}

#[tokio::test]
async fn an_order_push_is_verified_kept_and_streamed() {
    let world = world().await;
    assert_taken(
        &push(
            &world,
            &odo_path(),
            "pushOrderInfo",
            ORDER_PUSH,
            DEMO_PUSH_SECRET_KEY,
        )
        .await,
    );

    let mut stream = order_stream(world.facade.channel(), 0)
        .await
        .expect("watch");
    let event = next_ok(&mut stream).await;
    // Ids start at the clock (microseconds), so they grow across restarts.
    assert!(event.event_id > 1_700_000_000_000_000, "{}", event.event_id);
    assert_eq!(event.order_number, "DA250117100074");
    assert_eq!(event.status, OrderStatus::Success as i32);
    assert_eq!(event.wms_status, "Shipped");
    assert_eq!(event.track_number, "1Z999");
    assert_eq!(event.items.len(), 1);
    assert_eq!(
        (event.items[0].sku.as_str(), event.items[0].quantity),
        ("60000-test02", 4)
    );
    assert_eq!(event.shipping_time.map(|t| t.seconds), Some(1_744_098_883));
    assert!(event.received_at.is_some());

    // A live push reaches the open stream.
    let later = ORDER_PUSH
        .replace("DA250117100074", "DA-LIVE")
        .replace("SUCCESS", "FAILED");
    let (status, _) = push(
        &world,
        &odo_path(),
        "pushOrderInfo",
        &later,
        DEMO_PUSH_SECRET_KEY,
    )
    .await;
    assert_eq!(status, 200);
    let live = next_within(
        &mut stream,
        Duration::from_secs(5),
        "the live event arrives",
    )
    .await;
    assert_eq!(
        (live.event_id, live.order_number.as_str()),
        (event.event_id + 1, "DA-LIVE")
    );
    assert_eq!(live.status, OrderStatus::Failed as i32);

    // Resuming after the first event gives only the second.
    let mut resumed = order_stream(world.facade.channel(), event.event_id)
        .await
        .expect("watch");
    let next = next_ok(&mut resumed).await;
    assert_eq!(next.event_id, live.event_id);
}

#[tokio::test]
async fn an_order_push_status_is_read_as_the_spec_maps_it() {
    let world = world().await;
    // (orderNumber, status, wmsStatus, the status delivered)
    let pushes = [
        (
            "DA-EXCEPTION",
            "EXCEPTION",
            "Exception",
            OrderStatus::Failed,
        ),
        (
            "DA-WMS-ONLY",
            "",
            "Outbound completed",
            OrderStatus::Success,
        ),
        ("DA-BOTH", "SENDING", "error", OrderStatus::Sending),
    ];
    for (number, status, wms_status, _) in pushes {
        let content = ORDER_PUSH
            .replace("DA250117100074", number)
            .replace(r#""status":"SUCCESS""#, &format!(r#""status":"{status}""#))
            .replace(
                r#""wmsStatus":"Shipped""#,
                &format!(r#""wmsStatus":"{wms_status}""#),
            );
        assert_taken(&push_order(&world.facade, &content).await);
    }

    let mut stream = order_stream(world.facade.channel(), 0)
        .await
        .expect("watch");
    for (number, _, wms_status, expected) in pushes {
        let event = next_ok(&mut stream).await;
        assert_eq!(event.order_number, number);
        assert_eq!(event.status, expected as i32, "{number}");
        assert_eq!(event.wms_status, wms_status);
    }
}

#[tokio::test]
async fn an_order_push_may_name_carrier_and_tracking_as_get_order_does() {
    let world = world().await;
    let content = ORDER_PUSH
        .replace(r#""carrier":"UPS""#, r#""carrierName":"DHL""#)
        .replace(r#""trackNumber":"1Z999""#, r#""trackingNumber":"JD0001""#);
    assert_taken(&push_order(&world.facade, &content).await);
    let event = first_order_event(&world.facade).await;
    assert_eq!(
        (event.carrier.as_str(), event.track_number.as_str()),
        ("DHL", "JD0001")
    );
}

#[tokio::test]
async fn refused_pushes_answer_success_false_and_are_not_kept() {
    let world = world().await;
    let unknown_type = "/sys/automatic/receiveOdo/NOPE".to_owned();
    // (path, method, content, secret, words the refusal must contain)
    let refusals = [
        (
            odo_path(),
            "pushOrderInfo",
            ORDER_PUSH,
            "wrong-key",
            &["sign"][..],
        ),
        (
            unknown_type,
            "pushOrderInfo",
            ORDER_PUSH,
            DEMO_PUSH_SECRET_KEY,
            &["NOPE"],
        ),
        // An order's status sent as an inbound push.
        (
            odo_path(),
            "pushAsnInfo",
            ORDER_PUSH,
            DEMO_PUSH_SECRET_KEY,
            &["pushAsnInfo", "pushOrderInfo"],
        ),
        (
            odo_path(),
            "pushOrderInfo",
            r#"{"status":"SUCCESS"}"#,
            DEMO_PUSH_SECRET_KEY,
            &["orderNumber"],
        ),
    ];
    for (path, method, content, secret, words) in refusals {
        let answer = push(&world, &path, method, content, secret).await;
        assert_refused(&answer);
        let message = answer.1["errorMsg"].as_str().unwrap_or_default();
        assert!(
            words.iter().all(|word| message.contains(word)),
            "{}",
            answer.1
        );
    }

    // Nothing was kept: a watcher from the start sees no event.
    let mut stream = order_stream(world.facade.channel(), 0)
        .await
        .expect("watch");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), stream.next())
            .await
            .is_err(),
        "no event was kept"
    );
}

#[tokio::test]
async fn an_asn_batch_pushed_twice_is_delivered_once() {
    let world = world().await;
    // Section 12.2's example content.
    let content = r#"{"customerCode":null,"asnNumber":"A241022159999","warehouseCode":"Test-bin","wmsStatus":"RECEIVING","referenceNumber":"A241022159999","finishTime":null,"updateTime":1744098883894,"skuList":{"sku":"V-012B-R","name":"V-012B-R","estimatedQuantity":121,"receivedQuantity":2,"goodQuantity":2,"badQuantity":0},"batchNo":"222222-1"}"#;
    // The second time as a sloppy pusher names the method.
    for method in ["pushAsnInfo", " pushAsnInfo "] {
        assert_taken(&push(&world, &asn_path(), method, content, DEMO_PUSH_SECRET_KEY).await);
    }
    let next_batch = content
        .replace("222222-1", "222222-2")
        .replace("RECEIVING", "FINISHED");
    push(
        &world,
        &asn_path(),
        "pushAsnInfo",
        &next_batch,
        DEMO_PUSH_SECRET_KEY,
    )
    .await;

    let mut stream = asn_stream(world.facade.channel(), 0).await.expect("watch");
    let first = stream.next().await.expect("event").expect("ok");
    let second = stream.next().await.expect("event").expect("ok");
    assert_eq!(first.batch_no, "222222-1");
    assert_eq!(first.status, AsnStatus::Receiving as i32);
    assert_eq!(first.items[0].received_quantity, 2);
    assert_eq!(
        (second.event_id, second.batch_no.as_str()),
        (first.event_id + 1, "222222-2")
    );
    assert_eq!(second.status, AsnStatus::Finished as i32);
}

#[tokio::test]
async fn a_status_that_comes_back_is_delivered_again_and_only_a_repeat_of_the_latest_is_not() {
    let world = world().await;
    let pushes = [
        ("DA-1", "SENDING"),
        ("DA-1", "FAILED"),
        // Back to SENDING: it equals an older push, not the latest.
        ("DA-1", "SENDING"),
        ("DA-2", "SENDING"),
        // The latest of DA-1, pushed again after another order's push.
        ("DA-1", "SENDING"),
        ("DA-END", "SUCCESS"),
    ];
    for (number, status) in pushes {
        // A repeat is acknowledged like any kept push.
        assert_taken(&push_order(&world.facade, &order_push(number, status)).await);
    }
    let mut stream = order_stream(world.facade.channel(), 0)
        .await
        .expect("watch");
    let mut delivered = Vec::new();
    loop {
        let event = next_ok(&mut stream).await;
        delivered.push((event.order_number.clone(), event.status));
        if event.order_number == "DA-END" {
            break;
        }
    }
    let (sending, failed, success) = (
        OrderStatus::Sending as i32,
        OrderStatus::Failed as i32,
        OrderStatus::Success as i32,
    );
    let expected: Vec<(String, i32)> = [
        ("DA-1", sending),
        ("DA-1", failed),
        ("DA-1", sending),
        ("DA-2", sending),
        ("DA-END", success),
    ]
    .into_iter()
    .map(|(number, status)| (number.to_owned(), status))
    .collect();
    assert_eq!(delivered, expected);

    // ASN pushes without a batchNo: the same, per asnNumber.
    let asn = |number: &str, received: u32| {
        format!(
            r#"{{"asnNumber":"{number}","warehouseCode":"Test-bin","wmsStatus":"RECEIVING","referenceNumber":"R1","updateTime":1744098883894,"skuList":{{"sku":"V-012B-R","estimatedQuantity":121,"receivedQuantity":{received},"goodQuantity":{received},"badQuantity":0}}}}"#
        )
    };
    let pushes = [
        ("A-1", 2),
        ("A-1", 5),
        // A correction back to 2: equals an older push, not the latest.
        ("A-1", 2),
        ("A-2", 1),
        ("A-1", 2),
        ("A-END", 0),
    ];
    for (number, received) in pushes {
        assert_taken(
            &push(
                &world,
                &asn_path(),
                "pushAsnInfo",
                &asn(number, received),
                DEMO_PUSH_SECRET_KEY,
            )
            .await,
        );
    }
    let mut stream = asn_stream(world.facade.channel(), 0).await.expect("watch");
    let mut delivered = Vec::new();
    loop {
        let event = next_ok(&mut stream).await;
        delivered.push((event.asn_number.clone(), event.items[0].received_quantity));
        if event.asn_number == "A-END" {
            break;
        }
    }
    let expected: Vec<(String, i64)> =
        [("A-1", 2), ("A-1", 5), ("A-1", 2), ("A-2", 1), ("A-END", 0)]
            .into_iter()
            .map(|(number, received)| (number.to_owned(), received))
            .collect();
    assert_eq!(delivered, expected);
}

#[tokio::test]
async fn watching_a_tenant_without_push_is_failed_precondition() {
    let world = world().await;
    let status = world
        .facade
        .caller(QLINK)
        .watch_orders(0)
        .await
        .expect_err("no push configured");
    assert_eq!(status.code(), Code::FailedPrecondition);
    let status = world
        .facade
        .caller("nobody")
        .watch_asns(0)
        .await
        .expect_err("unknown tenant");
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn pushes_survive_a_restart_on_the_same_store() {
    let db = ScratchDb::new("push-store");
    let (_simulator, config) = demo_with_store(db.store()).await;

    let before = spawn_facade(config.clone()).await;
    let (status, _) = push_order(&before, ORDER_PUSH).await;
    assert_eq!(status, 200);
    let kept = first_order_event(&before).await;
    drop(before);

    // A new server on the same store: the push is there, with its id, and
    // the next one continues after it.
    let after = spawn_facade(config).await;
    let mut stream = order_stream(after.channel(), 0).await.expect("watch");
    let first = stream.next().await.expect("the kept event").expect("ok");
    assert_eq!(first, kept);
    assert_eq!(first.order_number, "DA250117100074");
    assert_eq!(first.track_number, "1Z999");

    let (status, answer) = push_order(&after, ORDER_PUSH).await;
    assert_eq!(status, 200, "{answer}");
    let later = ORDER_PUSH.replace("DA250117100074", "DA-AFTER");
    let (status, _) = push_order(&after, &later).await;
    assert_eq!(status, 200);
    let next = next_within(&mut stream, Duration::from_secs(5), "the new event arrives").await;
    assert_eq!(
        next.order_number, "DA-AFTER",
        "the repeat of the kept push was recognised and not delivered again"
    );
    assert!(next.event_id > kept.event_id);
}

/// Each stream's ids rise, and no id is in both streams.
fn assert_ids_distinct_and_rising(orders: &[(u64, String)], asns: &[(u64, String)]) {
    for stream in [orders, asns] {
        let ids: Vec<u64> = stream.iter().map(|(id, _)| *id).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
    }
    let mut all: Vec<u64> = orders.iter().chain(asns).map(|(id, _)| *id).collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(
        all.len(),
        orders.len() + asns.len(),
        "an id in both streams: {orders:?} {asns:?}"
    );
}

/// Pushes `count` orders and ASNs, alternating; the numbers are `tag`-N.
async fn push_interleaved(facade: &Facade, tag: &str, count: usize) {
    for n in 0..count {
        let number = format!("{tag}-{n}");
        assert_taken(&push_order(facade, &order_push(&number, "SUCCESS")).await);
        assert_taken(&push_asn(facade, &asn_push(&number, "B1")).await);
    }
}

fn numbers(events: &[(u64, String)]) -> Vec<&str> {
    events.iter().map(|(_, number)| number.as_str()).collect()
}

#[tokio::test]
async fn a_tenants_order_and_asn_events_never_share_an_event_id() {
    let world = world().await;
    push_interleaved(&world.facade, "MIX", 5).await;
    let orders = watched_orders(&world.facade).await;
    let asns = watched_asns(&world.facade).await;
    let expected = ["MIX-0", "MIX-1", "MIX-2", "MIX-3", "MIX-4"];
    assert_eq!(numbers(&orders), expected);
    assert_eq!(numbers(&asns), expected);
    assert_ids_distinct_and_rising(&orders, &asns);

    // Resuming a stream after an id the other stream holds still works.
    let mut resumed = order_stream(world.facade.channel(), asns[2].0)
        .await
        .expect("watch");
    let next = next_within(
        &mut resumed,
        Duration::from_secs(5),
        "the next order event arrives",
    )
    .await;
    assert_eq!(next.order_number, "MIX-3");
}

#[tokio::test]
async fn event_ids_stay_unique_across_both_streams_after_a_restart() {
    let db = ScratchDb::new("push-shared-ids");
    let (_simulator, config) = demo_with_store(db.store()).await;

    let before = spawn_facade(config.clone()).await;
    push_interleaved(&before, "OLD", 3).await;
    // The ASN log ends with the newest id of both.
    let (status, _) = push_asn(&before, &asn_push("OLD-LAST", "B1")).await;
    assert_eq!(status, 200);
    let kept_asns = watched_asns(&before).await;
    let newest_kept = kept_asns.last().expect("kept ASN events").0;
    drop(before);

    let after = spawn_facade(config).await;
    push_interleaved(&after, "NEW", 3).await;
    let orders = watched_orders(&after).await;
    let asns = watched_asns(&after).await;
    assert_eq!(
        numbers(&orders),
        ["OLD-0", "OLD-1", "OLD-2", "NEW-0", "NEW-1", "NEW-2"]
    );
    assert_eq!(
        asns[..kept_asns.len()],
        kept_asns[..],
        "kept with their ids"
    );
    assert_eq!(
        numbers(&asns[kept_asns.len()..]),
        ["NEW-0", "NEW-1", "NEW-2"]
    );
    assert_ids_distinct_and_rising(&orders, &asns);
    // The first order after the restart comes after the last ASN before it.
    assert!(orders[3].0 > newest_kept, "{orders:?} {newest_kept}");
}

#[tokio::test]
async fn a_push_over_the_body_limit_is_refused_in_json_and_not_kept() {
    let world = world().await;
    // A signed push of 3 MiB, over the 2 MiB the webhooks read.
    let padding = "x".repeat(3 * 1024 * 1024);
    let content = ORDER_PUSH.replace(r#""errorMsg":"""#, &format!(r#""errorMsg":"{padding}""#));
    let (status, answer) = push_order(&world.facade, &content).await;
    assert_eq!(
        (status, &answer["success"]),
        (200, &json!(false)),
        "{answer}"
    );
    let message = answer["errorMsg"].as_str().unwrap_or_default();
    assert!(
        message.contains("larger than") && message.contains("2097152 bytes"),
        "{answer}"
    );
    assert!(
        watched_orders(&world.facade).await.is_empty(),
        "nothing was kept"
    );

    // The listener goes on taking pushes of a sane size.
    assert_taken(&push_order(&world.facade, ORDER_PUSH).await);
}

/// The order numbers and ids `stream` yields until it is quiet.
async fn numbers_and_ids(
    stream: tonic::Streaming<qlink_facade::proto::WatchOrderEventsResponse>,
) -> Vec<(u64, String)> {
    drain(stream, |event| (event.event_id, event.order_number)).await
}

#[tokio::test]
async fn a_watcher_that_reconnects_with_its_cursor_gets_exactly_the_events_it_missed() {
    for (store, _guard) in common::store::engines("push-reconnect").await {
        let (_simulator, config) = demo_with_store(store).await;
        let facade = spawn_facade(config).await;
        for n in 0..3 {
            let (status, _) = push_order(&facade, &order_push(&format!("R-{n}"), "SUCCESS")).await;
            assert_eq!(status, 200);
        }
        let mut first = order_stream(facade.channel(), 0).await.expect("watch");
        let mut seen = Vec::new();
        for _ in 0..3 {
            let event = next_ok(&mut first).await;
            seen.push((event.event_id, event.order_number));
        }
        let cursor = seen[2].0;
        drop(first);

        // While it is away: four new pushes and a repeat of the latest.
        for n in 3..7 {
            let (status, _) = push_order(&facade, &order_push(&format!("R-{n}"), "SUCCESS")).await;
            assert_eq!(status, 200);
        }
        let (status, _) = push_order(&facade, &order_push("R-6", "SUCCESS")).await;
        assert_eq!(status, 200);

        let mut resumed = order_stream(facade.channel(), cursor).await.expect("watch");
        let mut missed = Vec::new();
        for _ in 3..7 {
            let event = next_within(&mut resumed, Duration::from_secs(5), "a missed event").await;
            missed.push((event.event_id, event.order_number));
        }
        assert_eq!(
            missed.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(),
            ["R-3", "R-4", "R-5", "R-6"]
        );
        assert!(missed[0].0 > cursor && missed.windows(2).all(|p| p[0].0 < p[1].0));
        // Then live, on the same stream, with nothing in between.
        let (status, _) = push_order(&facade, &order_push("R-7", "SUCCESS")).await;
        assert_eq!(status, 200);
        let live = next_within(&mut resumed, Duration::from_secs(5), "the live event").await;
        assert_eq!(
            (live.order_number.as_str(), live.event_id),
            ("R-7", missed[3].0 + 1)
        );
    }
}

#[tokio::test]
async fn events_past_retention_are_pruned_and_a_cursor_before_them_is_out_of_range() {
    for (mut store, _guard) in common::store::engines("push-prune").await {
        store.push_retention = Duration::from_secs(3);
        let (_simulator, config) = demo_with_store(store).await;
        let facade = spawn_facade(config).await;
        for number in ["OLD-1", "OLD-2"] {
            let (status, _) = push_order(&facade, &order_push(number, "SUCCESS")).await;
            assert_eq!(status, 200);
        }
        let old = numbers_and_ids(order_stream(facade.channel(), 0).await.expect("watch")).await;
        assert_eq!(old.len(), 2);
        let pruned = eventually(Duration::from_secs(10), || async {
            let kept = numbers_and_ids(order_stream(facade.channel(), 0).await.ok()?).await;
            kept.is_empty().then_some(())
        })
        .await;
        assert!(pruned.is_some(), "the old events were pruned");
        let (status, _) = push_order(&facade, &order_push("NEW-1", "SUCCESS")).await;
        assert_eq!(status, 200);
        let new = numbers_and_ids(order_stream(facade.channel(), 0).await.expect("watch")).await;
        assert_eq!(new.len(), 1);
        let new_id = new[0].0;

        // After the first old event: the second was missed, and it says so.
        let status = order_stream(facade.channel(), old[0].0)
            .await
            .expect_err("out of range");
        assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
        assert!(
            status
                .message()
                .contains(&format!("the oldest kept is {new_id}")),
            "{}",
            status.message()
        );
        // After the newest pruned one nothing was missed.
        let resumed = numbers_and_ids(
            order_stream(facade.channel(), old[1].0)
                .await
                .expect("watch"),
        )
        .await;
        assert_eq!(resumed, new);
    }
}

#[tokio::test]
async fn a_store_that_goes_down_makes_the_facade_unready_refuses_pushes_and_ends_watches() {
    let Some(url) = common::store::fresh_postgres("push-store-down").await else {
        return;
    };
    // The facade reaches PostgreSQL through a proxy the test can cut.
    let proxy = common::store::TcpProxy::start(&url).await;
    let (_simulator, config) = demo_with_store(common::store::postgres_store(&proxy.url)).await;
    let facade = spawn_facade(config).await;
    let (status, _) = push_order(&facade, &order_push("UP-1", "SUCCESS")).await;
    assert_eq!(status, 200);
    assert_eq!(readyz(&facade).await, 200);
    assert_eq!(
        health(&facade, READINESS_SERVICE).await,
        ServingStatus::Serving
    );
    let mut watching = order_stream(facade.channel(), 0).await.expect("watch");
    assert_eq!(next_ok(&mut watching).await.order_number, "UP-1");

    proxy.cut();
    assert_readiness_becomes(&facade, false, "while the store is down").await;
    assert_eq!(
        health(&facade, "").await,
        ServingStatus::Serving,
        "the process is alive: liveness must not restart it for the store"
    );
    let (status, answer) = push_order(&facade, &order_push("DOWN-1", "SUCCESS")).await;
    assert_eq!(
        status, 503,
        "the warehouse is told to send it again: {answer}"
    );
    let ended = tokio::time::timeout(Duration::from_secs(15), watching.next())
        .await
        .expect("the watch ends")
        .expect("with a status");
    assert_eq!(
        ended.expect_err("an error").code(),
        Code::Unavailable,
        "a watch whose store fails ends UNAVAILABLE"
    );

    proxy.restore();
    assert_readiness_becomes(&facade, true, "once the store is back").await;
    let (status, answer) = push_order(&facade, &order_push("DOWN-1", "SUCCESS")).await;
    assert_eq!(status, 200, "{answer}");
    let kept = numbers_and_ids(order_stream(facade.channel(), 0).await.expect("watch")).await;
    assert_eq!(
        kept.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(),
        ["UP-1", "DOWN-1"]
    );
}

/// The gRPC health status of `service` on `facade`.
async fn health(facade: &Facade, service: &str) -> ServingStatus {
    let mut client = HealthClient::new(facade.channel());
    let answer = client
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .expect("Health/Check");
    answer.into_inner().status()
}

async fn readyz(facade: &Facade) -> u16 {
    reqwest::get(format!("http://{}/readyz", facade.http_addr))
        .await
        .map_or(0, |response| response.status().as_u16())
}

/// `/readyz` comes to answer 200 (`ready`) or 503 within 15 s, and then
/// gRPC health's readiness service follows it within 5 s; `when` names
/// the moment.
async fn assert_readiness_becomes(facade: &Facade, ready: bool, when: &str) {
    let (status, serving) = if ready {
        (200, ServingStatus::Serving)
    } else {
        (503, ServingStatus::NotServing)
    };
    let answered = eventually(Duration::from_secs(15), || async {
        (readyz(facade).await == status).then_some(())
    });
    assert!(answered.await.is_some(), "/readyz is {status} {when}");
    let followed = eventually(Duration::from_secs(5), || async {
        (health(facade, READINESS_SERVICE).await == serving).then_some(())
    });
    assert!(
        followed.await.is_some(),
        "gRPC readiness follows /readyz {when}"
    );
}

#[tokio::test]
async fn a_tenant_has_at_most_max_watch_streams_open() {
    let world = world_where(|config| config.server.max_watch_streams = 2).await;
    let first = order_stream(world.facade.channel(), 0)
        .await
        .expect("first");
    let _second = order_stream(world.facade.channel(), 0)
        .await
        .expect("second");
    let status = order_stream(world.facade.channel(), 0)
        .await
        .expect_err("a third is one too many");
    assert_status(&status, Code::ResourceExhausted, &["max_watch_streams"]);
    drop(first);
    let reopened = eventually(Duration::from_secs(5), || async {
        order_stream(world.facade.channel(), 0).await.ok()
    })
    .await;
    assert!(reopened.is_some(), "a closed stream's place is free again");
}
