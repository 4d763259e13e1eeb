//! Two facade processes (the real binary) on one PostgreSQL database, as
//! replicas behind a load balancer: a push received by one reaches a
//! watcher on the other within a second, and the same push sent to both is
//! kept once. Runs when `QLINK_TEST_POSTGRES_URL` names a server.

mod common;

use std::time::{Duration, Instant};

use common::{
    process::{Running, free_port, push_receiver_config},
    push::{drain, odo_path, order_push, order_stream, send_push, signed_push},
    store::fresh_postgres,
};
use futures::StreamExt;
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
    let mut running = Running::start(
        &["--config", &config.to_string_lossy()],
        &[("RUST_LOG", "info")],
    );
    running.wait_for("qlink-facade ready");
    Replica {
        running,
        grpc,
        http: format!("127.0.0.1:{http}").parse().expect("addr"),
    }
}

async fn channel(replica: &Replica) -> tonic::transport::Channel {
    tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{}", replica.grpc))
        .expect("uri")
        .connect()
        .await
        .expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_one_postgres_share_pushes_and_keep_each_once() {
    let Some(url) = fresh_postgres("replicas").await else {
        return;
    };
    qlink_facade::upstream::install_crypto_provider();
    let dir = std::env::temp_dir().join(format!("qlink-facade-replicas-{}", std::process::id()));
    let (a, b) = (
        start_replica(&dir, "a", &url),
        start_replica(&dir, "b", &url),
    );
    let client = reqwest::Client::new();

    let mut on_b = order_stream(channel(&b).await, 0)
        .await
        .expect("watch on B");
    let pushed = Instant::now();
    let body = signed_push(
        "pushOrderInfo",
        &order_push("REP-1", "SUCCESS"),
        DEMO_PUSH_SECRET_KEY,
    );
    let (status, answer) = send_push(&client, a.http, &odo_path(), body)
        .await
        .expect("push to A");
    assert_eq!(
        (status, &answer["success"]),
        (200, &serde_json::json!(true)),
        "{answer}"
    );
    let event = tokio::time::timeout(Duration::from_secs(5), on_b.next())
        .await
        .expect("the push reaches B")
        .expect("an event")
        .expect("ok");
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
    for (status, answer) in [to_a.expect("A"), to_b.expect("B")] {
        assert_eq!(
            (status, &answer["success"]),
            (200, &serde_json::json!(true)),
            "{answer}"
        );
    }
    for replica in [&a, &b] {
        let kept = drain(
            order_stream(channel(replica).await, 0)
                .await
                .expect("watch"),
            |event| event.order_number,
        )
        .await;
        assert_eq!(kept, ["REP-1", "REP-2"]);
    }
    drop(on_b);
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.running.stop();
    b.running.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
