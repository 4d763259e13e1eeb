//! An acknowledged push survives a crash: the real binary is killed with
//! SIGKILL while twenty senders push, and after a restart on the same store
//! every push that was answered `success:true` is there, exactly once.

mod common;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use common::{
    Caller,
    config_text::{DEMO_QLINK, qlink_tenant, server_toml},
    process::{Running, TempDir, channel, free_port, push_receiver_config},
    push::{ScratchDb, drain, odo_path, order_push, order_stream, send_push, signed_push},
    spawn_simulator,
};
use qlink_facade::demo::DEMO_PUSH_SECRET_KEY;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_push_is_there_exactly_once_after_sigkill() {
    qlink_facade::upstream::install_crypto_provider();
    let dir = TempDir::new("crash");
    let db = ScratchDb::new("crash");
    let store_url = format!("sqlite://{}", db.0.display());
    let (grpc, http) = (free_port(), free_port());
    let config = push_receiver_config(&dir, grpc, http, &store_url);
    let env = [("RUST_LOG", "info")];
    let facade = Running::ready_on(&config, &env);
    let http_addr = format!("127.0.0.1:{http}").parse().expect("addr");

    // number -> answered success:true
    let acknowledged = Arc::new(Mutex::new(HashMap::new()));
    let senders: Vec<_> = (0..20)
        .map(|sender| {
            let acknowledged = acknowledged.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                for n in 0..50 {
                    let number = format!("K{sender:02}-{n:02}");
                    let body = signed_push(
                        "pushOrderInfo",
                        &order_push(&number, "SUCCESS"),
                        DEMO_PUSH_SECRET_KEY,
                    );
                    match send_push(&client, http_addr, &odo_path(), body).await {
                        Ok((200, answer)) if answer["success"] == true => {
                            acknowledged.lock().expect("lock").insert(number, true);
                        }
                        // The facade is gone: this push was not acknowledged.
                        _ => return,
                    }
                }
            })
        })
        .collect();
    // Kill it in the middle of the pushing.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().expect("lock").len() < 300 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    facade.kill();
    for sender in senders {
        sender.await.expect("sender");
    }
    let acknowledged: Vec<String> = acknowledged.lock().expect("lock").keys().cloned().collect();
    assert!(
        acknowledged.len() >= 300 && acknowledged.len() < 1000,
        "killed mid-way: {} acknowledged",
        acknowledged.len()
    );

    let restarted = Running::ready_on(&config, &env);
    let kept = drain(
        order_stream(channel(grpc).await, 0).await.expect("watch"),
        |event| event.order_number,
    )
    .await;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for number in &kept {
        *counts.entry(number).or_default() += 1;
    }
    for number in &acknowledged {
        assert_eq!(
            counts.get(number.as_str()),
            Some(&1),
            "{number} was acknowledged, so it is kept exactly once"
        );
    }
    assert!(
        counts.values().all(|count| *count == 1),
        "no push kept twice"
    );
    restarted.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_in_flight_when_the_facade_is_killed_is_reconciled_not_sent_again() {
    qlink_facade::upstream::install_crypto_provider();
    let simulator = spawn_simulator(common::test_simulator_config()).await;
    // The warehouse takes the order; its reply is held until long after.
    let lossy = common::lossy::LossyUpstream::start(simulator.addr()).await;
    lossy.lose(
        "createOrder",
        1,
        common::lossy::Loss::Hold(Duration::from_secs(60)),
    );
    let dir = TempDir::new("killed");
    let db = ScratchDb::new("killed-mid-call");
    let grpc = free_port();
    let tenant = qlink_tenant("q", &lossy.qlink_base_url(), DEMO_QLINK, "");
    let store_url = format!("sqlite://{}", db.0.display());
    let config = dir.write("facade.toml", &(server_toml(grpc, 0, &store_url) + &tenant));
    let env = [("RUST_LOG", "info")];
    let facade = Running::ready_on(&config, &env);
    let create = |timeout: Duration| async move {
        let q = Caller::new(channel(grpc).await, "q").with_timeout(Some(timeout));
        q.create_order(common::order("KILLED-1", "TU01", "SIM-SKU-00001"))
            .await
    };
    let in_flight = tokio::spawn(create(Duration::from_secs(30)));
    let reached = common::eventually(Duration::from_secs(10), || async {
        simulator
            .requests()
            .iter()
            .any(|request| request.operation == "createOrder")
            .then_some(())
    })
    .await;
    assert!(reached.is_some(), "the order reached the warehouse");
    facade.kill();
    assert!(
        in_flight.await.expect("task").is_err(),
        "the caller heard nothing"
    );

    let restarted = Running::ready_on(&config, &env);
    let created = create(Duration::from_secs(30))
        .await
        .expect("the retry finds the order at the warehouse");
    assert_eq!(created.order_number, "KILLED-1");
    let creates = simulator
        .requests()
        .iter()
        .filter(|request| request.operation == "createOrder")
        .count();
    assert_eq!(creates, 1, "the order was not sent again");
    restarted.stop();
}
