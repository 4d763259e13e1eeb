//! SIGTERM through the real binary: both listening sockets close at once, so
//! a new connection is refused (and a client fails over) instead of
//! hanging until its deadline, while a unary call already in flight still
//! completes within the drain.

mod common;

use std::time::{Duration, Instant};

use common::{
    config_text::{qlink_tenant, server_toml},
    eventually,
    process::{Running, client, free_port},
    req,
};
use qlink_facade::simulator::{Fault, FaultKind, SimulatorHandle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_refuses_new_connections_at_once_and_drains_the_call_in_flight() {
    let simulator_config = common::test_simulator_config();
    let account = simulator_config.qlink_accounts[0].clone();
    let simulator = SimulatorHandle::spawn(simulator_config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("simulator");
    let slow = Duration::from_secs(3);
    simulator.inject(Fault {
        operation: Some("initWarehouses".to_owned()),
        ..Fault::new(FaultKind::Delay(slow))
    });
    let dir = common::tls::temp_dir("shutdown");
    let (grpc, http) = (free_port(), free_port());
    let config = dir.join("facade.toml");
    let store_url = format!("sqlite://{}", dir.join("facade.db").display());
    let tenant = qlink_tenant(
        "slow",
        &simulator.qlink_base_url(),
        [
            &account.app_key,
            &account.app_secret,
            &account.warehouse_key,
        ],
        "",
    );
    std::fs::write(&config, server_toml(grpc, http, &store_url) + &tenant).expect("write config");
    let config = config.display().to_string();
    let mut running = Running::start(&["--config", &config], &[]);
    running.wait_for("qlink-facade ready");

    let mut warehouses = client(grpc).await;
    let in_flight = tokio::spawn(async move {
        warehouses
            .list_warehouses(req("slow", Default::default()))
            .await
            .map(|answer| answer.into_inner().warehouses.len())
    });
    let reached = eventually(Duration::from_secs(10), || async {
        (!simulator.requests().is_empty()).then_some(())
    })
    .await;
    assert!(reached.is_some(), "the slow call reached the warehouse");

    running.signal("TERM");
    let signalled = Instant::now();
    for (listener, port) in [("grpc", grpc), ("http", http)] {
        let refused = eventually(Duration::from_secs(2), || async {
            match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
                Err(err) if err.kind() == std::io::ErrorKind::ConnectionRefused => Some(()),
                _ => None,
            }
        })
        .await;
        assert!(
            refused.is_some(),
            "{listener}: new connections are refused once SIGTERM arrives"
        );
    }
    assert!(
        signalled.elapsed() < slow,
        "refused while the slow call is still in flight"
    );

    let answered = tokio::time::timeout(Duration::from_secs(10), in_flight)
        .await
        .expect("the call in flight finishes")
        .expect("task");
    assert_eq!(answered.expect("the call in flight is answered"), 3);
    running.stop();
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "the drain took only as long as the call in flight: {:?}",
        signalled.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
