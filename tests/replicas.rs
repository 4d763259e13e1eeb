//! Two facade processes (the real binary) on one PostgreSQL database, as
//! replicas behind a load balancer: a push received by one reaches a
//! watcher on the other within a second, and the same push sent to both is
//! kept once. Runs when `QLINK_TEST_POSTGRES_URL` names a server.

mod common;

use std::time::{Duration, Instant};

use common::{
    next_within,
    process::{Running, TempDir, channel, free_port, push_receiver_config},
    push::{assert_taken, drain, odo_path, order_push, order_stream, send_push, signed_push},
    store::fresh_postgres,
};
use qlink_facade::demo::DEMO_PUSH_SECRET_KEY;

struct Replica {
    running: Running,
    grpc: u16,
    http: std::net::SocketAddr,
}

fn start_replica(dir: &std::path::Path, name: &str, url: &str) -> Replica {
    let (grpc, http) = (free_port(), free_port());
    let dir = dir.join(name);
    std::fs::create_dir_all(&dir).expect("dir");
    let config = push_receiver_config(&dir, grpc, http, url);
    let running = Running::ready_on(&config, &[("RUST_LOG", "info")]);
    Replica {
        running,
        grpc,
        http: format!("127.0.0.1:{http}").parse().expect("addr"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_one_postgres_share_pushes_and_keep_each_once() {
    let Some(url) = fresh_postgres("replicas").await else {
        return;
    };
    qlink_facade::upstream::install_crypto_provider();
    let dir = TempDir::new("replicas");
    let (a, b) = (
        start_replica(&dir, "a", &url),
        start_replica(&dir, "b", &url),
    );
    let client = reqwest::Client::new();

    let mut on_b = order_stream(channel(b.grpc).await, 0)
        .await
        .expect("watch on B");
    let pushed = Instant::now();
    let body = signed_push(
        "pushOrderInfo",
        &order_push("REP-1", "SUCCESS"),
        DEMO_PUSH_SECRET_KEY,
    );
    let answer = send_push(&client, a.http, &odo_path(), body).await;
    assert_taken(&answer.expect("push to A"));
    let event = next_within(&mut on_b, Duration::from_secs(5), "the push reaches B").await;
    let took = pushed.elapsed();
    assert_eq!(event.order_number, "REP-1");
    assert!(took < Duration::from_secs(1), "reached B in {took:?}");

    // The same push to both at once: kept once.
    let same = signed_push(
        "pushOrderInfo",
        &order_push("REP-2", "SUCCESS"),
        DEMO_PUSH_SECRET_KEY,
    );
    let path = odo_path();
    let (to_a, to_b) = tokio::join!(
        send_push(&client, a.http, &path, same.clone()),
        send_push(&client, b.http, &path, same)
    );
    for answer in [to_a.expect("A"), to_b.expect("B")] {
        assert_taken(&answer);
    }
    for replica in [&a, &b] {
        let kept = drain(
            order_stream(channel(replica.grpc).await, 0)
                .await
                .expect("watch"),
            |event| event.order_number,
        )
        .await;
        assert_eq!(kept, ["REP-1", "REP-2"]);
    }
    drop(on_b);
    a.running.stop_when_idle().await;
    b.running.stop();
}
