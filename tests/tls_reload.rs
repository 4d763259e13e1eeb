//! Certificate reload through the real binary: new files (written as a
//! Kubernetes Secret update or an operator would) are served to the next
//! handshake while a long `WatchOrderEvents` stream opened before stays
//! open and keeps delivering; a broken key is refused and logged and the
//! certificate in force stays; SIGHUP reloads too. No key ever reaches the
//! log.

mod common;

use std::{path::Path, time::Duration};

use common::{
    eventually,
    process::{Running, free_port, push_receiver_config},
    push::{odo_path, order_push, order_stream, send_push, signed_push},
    tls::{Leaf, TestCa, served_certificate, temp_dir, tls_channel, write_server_files},
};
use qlink_facade::demo::DEMO_PUSH_SECRET_KEY;

/// Puts `leaf` in place the way a careful operator does: each file written
/// beside and renamed over the old one.
fn install(dir: &Path, leaf: &Leaf) {
    for (name, content) in [("tls.crt", &leaf.cert_pem), ("tls.key", &leaf.key_pem)] {
        let next = dir.join(format!(".{name}.next"));
        std::fs::write(&next, content).expect("write");
        std::fs::rename(&next, dir.join(name)).expect("rename");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_certificates_reach_new_handshakes_without_dropping_a_watch_stream() {
    let dir = temp_dir("tls-reload");
    let tls_dir = dir.join("tls");
    let ca = TestCa::new("reload CA");
    let first = ca.server(1);
    let tls_table = write_server_files(&tls_dir, &first, None);
    let (grpc, http) = (free_port(), free_port());
    let store = format!("sqlite://{}", dir.join("facade.db").display());
    let config = push_receiver_config(&dir, grpc, http, &store);
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str(&tls_table);
    std::fs::write(&config, text).expect("config");
    let config = config.display().to_string();
    let mut running = Running::start(&["--config", &config], &[]);
    running.wait_for("qlink-facade ready");
    let addr = format!("127.0.0.1:{grpc}").parse().expect("addr");

    assert!(served_certificate(addr, &ca.pem(), b"h2").await == first.der);
    let channel = tls_channel(addr, &ca.pem(), None)
        .await
        .expect("TLS channel");
    let mut events = order_stream(channel, 0).await.expect("watch stream");

    // A new certificate, by file change: the next handshake gets it.
    let second = ca.server(2);
    install(&tls_dir, &second);
    let served = eventually(Duration::from_secs(10), || async {
        (served_certificate(addr, &ca.pem(), b"h2").await == second.der).then_some(())
    })
    .await;
    assert!(served.is_some(), "new handshakes see the new certificate");
    running.wait_for("TLS certificate reloaded");

    // A broken key: refused, logged, and the certificate in force stays.
    std::fs::write(
        tls_dir.join("tls.key"),
        "-----BEGIN PRIVATE KEY-----\nbroken\n",
    )
    .expect("write");
    let refused = running.wait_for("TLS reload refused");
    assert!(refused.contains("tls.key"), "{refused}");
    assert!(served_certificate(addr, &ca.pem(), b"h2").await == second.der);

    // SIGHUP reads the files again: the third certificate, complete now.
    let third = ca.server(3);
    install(&tls_dir, &third);
    running.signal("HUP");
    let served = eventually(Duration::from_secs(10), || async {
        (served_certificate(addr, &ca.pem(), b"h2").await == third.der).then_some(())
    })
    .await;
    assert!(
        served.is_some(),
        "SIGHUP (or the change) put the third in force"
    );
    running.signal("HUP");
    let unchanged = running.wait_for("TLS files unchanged");
    assert!(unchanged.contains("SIGHUP"), "{unchanged}");

    // The stream opened on the first certificate is still open and delivers.
    let body = signed_push(
        "pushOrderInfo",
        &order_push("RELOAD-1", "SUCCESS"),
        DEMO_PUSH_SECRET_KEY,
    );
    let http_addr = format!("127.0.0.1:{http}").parse().expect("addr");
    let (status, _) = send_push(&reqwest::Client::new(), http_addr, &odo_path(), body)
        .await
        .expect("push");
    assert_eq!(status, 200);
    let event = tokio::time::timeout(Duration::from_secs(10), events.message())
        .await
        .expect("an event in time")
        .expect("the stream is still open")
        .expect("an event");
    assert_eq!(event.order_number, "RELOAD-1");

    let metrics = reqwest::get(format!("http://127.0.0.1:{http}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    assert!(
        metrics.contains(r#"qlink_facade_tls_reloads_total{outcome="refused"}"#),
        "{metrics}"
    );
    let lines = running.stop();
    // The keys' base64 never reaches the log.
    for leaf in [&first, &second, &third] {
        let body_line = leaf
            .key_pem
            .lines()
            .nth(1)
            .expect("a base64 line in the key");
        assert!(
            lines.iter().all(|line| !line.contains(body_line)),
            "a private key line was logged"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
