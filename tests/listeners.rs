//! Hostile clients at both listeners, through the real server and real
//! sockets: thousands of idle connections leave `/healthz` and gRPC calls
//! answering, a slow-loris connection is closed after the header-read
//! timeout and counted, the connection cap refuses and counts, and an
//! oversized request header list is refused on its own.

mod common;

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use common::{QLINK, Served, req, serve};
use qlink_facade::{
    config::Config,
    metrics::Metrics,
    proto::{ListWarehousesRequest, warehouse_service_client::WarehouseServiceClient},
    simulator::SimulatorHandle,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tonic::transport::Channel;

/// The demo tenants against a simulator, served with `change` applied.
async fn world(change: impl FnOnce(&mut Config)) -> (SimulatorHandle, Served) {
    let (simulator, mut config) = common::demo_against(common::test_simulator_config()).await;
    change(&mut config);
    let facade = serve(config, Metrics::shared()).await;
    (simulator, facade)
}

/// A gRPC call on a connection of its own.
async fn grpc_call(addr: SocketAddr) -> Result<usize, String> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .connect()
        .await
        .map_err(|err| err.to_string())?;
    WarehouseServiceClient::new(channel)
        .list_warehouses(req(QLINK, ListWarehousesRequest::default()))
        .await
        .map(|answer| answer.into_inner().warehouses.len())
        .map_err(|status| status.to_string())
}

/// `/healthz` on a connection of its own.
async fn healthz(http_addr: SocketAddr) -> Result<u16, String> {
    qlink_facade::upstream::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|err| err.to_string())?
        .get(format!("http://{http_addr}/healthz"))
        .send()
        .await
        .map(|answer| answer.status().as_u16())
        .map_err(|err| err.to_string())
}

/// The value of a metric line that starts with `series`.
fn metric(served: &Served, series: &str) -> Option<f64> {
    served
        .metrics
        .encode()
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

/// Reads until the peer closes; how long that took (at most `limit`).
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    closed.ok().map(|()| started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_idle_connections_on_each_listener_leave_health_and_grpc_answering() {
    // Every connection is a descriptor on both ends, in this one process.
    let limit = qlink_facade::listener::raise_open_file_limit().expect("RLIMIT_NOFILE");
    assert!(
        limit >= 9_000,
        "the test needs ~8,100 descriptors, the hard limit is {limit}"
    );
    let (_simulator, facade) = world(|config| {
        // Held open for the whole test, not closed after 10 s.
        config.server.limits.header_read_timeout = Duration::from_secs(120);
    })
    .await;
    let mut idle = Vec::with_capacity(4_000);
    for addr in [facade.addr, facade.http_addr] {
        for _ in 0..2_000 {
            idle.push(TcpStream::connect(addr).await.expect("idle connection"));
        }
    }
    let open = common::eventually(Duration::from_secs(10), || async {
        let grpc = metric(&facade, r#"qlink_facade_connections_open{listener="grpc"}"#)?;
        let http = metric(&facade, r#"qlink_facade_connections_open{listener="http"}"#)?;
        (grpc >= 2_000.0 && http >= 2_000.0).then_some((grpc, http))
    })
    .await;
    assert!(open.is_some(), "both listeners hold 2,000 idle connections");

    assert_eq!(healthz(facade.http_addr).await, Ok(200));
    assert_eq!(grpc_call(facade.addr).await, Ok(3));
    // Nobody was refused, and the idle ones are all still there.
    assert_eq!(
        metric(
            &facade,
            r#"qlink_facade_connections_refused_total{listener="grpc"}"#
        ),
        Some(0.0)
    );
    assert!(metric(&facade, r#"qlink_facade_connections_open{listener="http"}"#) >= Some(2_000.0));
    drop(idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_loris_is_closed_after_the_header_read_timeout_and_counted() {
    let (_simulator, facade) = world(|config| {
        config.server.limits.header_read_timeout = Duration::from_secs(2);
    })
    .await;
    let grpc_head = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    let http_head = b"GET /healthz HTTP/1.1\r\nHost: facade\r\n\r\n".to_vec();
    for (listener, addr, head) in [
        ("grpc", facade.addr, grpc_head),
        ("http", facade.http_addr, http_head),
    ] {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (mut reader, mut writer) = stream.into_split();
        // One byte a second: a request head that would take 24+ s.
        let dripping = tokio::spawn(async move {
            for byte in head {
                if writer.write_all(&[byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        let started = Instant::now();
        let mut buf = [0u8; 1024];
        let closed = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match reader.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        let took = started.elapsed();
        dripping.abort();
        assert!(closed.is_ok(), "{listener}: still open after 10 s");
        assert!(
            (Duration::from_millis(1_500)..Duration::from_secs(6)).contains(&took),
            "{listener}: closed after {took:?}, the timeout is 2 s"
        );
        let counted = common::eventually(Duration::from_secs(2), || async {
            metric(
                &facade,
                &format!(r#"qlink_facade_connections_timed_out_total{{listener="{listener}"}}"#),
            )
            .filter(|count| *count >= 1.0)
        })
        .await;
        assert_eq!(counted, Some(1.0), "{listener}: counted once");
    }
    // A prompt caller is not affected.
    assert_eq!(healthz(facade.http_addr).await, Ok(200));
    assert_eq!(grpc_call(facade.addr).await, Ok(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_refuses_and_counts_on_each_listener() {
    let (_simulator, facade) = world(|config| {
        config.server.limits.max_connections = 3;
        config.server.limits.header_read_timeout = Duration::from_secs(60);
    })
    .await;
    for (listener, addr) in [("grpc", facade.addr), ("http", facade.http_addr)] {
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(TcpStream::connect(addr).await.expect("connect"));
        }
        let open = common::eventually(Duration::from_secs(5), || async {
            metric(
                &facade,
                &format!(r#"qlink_facade_connections_open{{listener="{listener}"}}"#),
            )
            .filter(|open| *open == 3.0)
        })
        .await;
        assert_eq!(open, Some(3.0), "{listener}");
        // The kernel accepts the fourth; the listener closes it at once.
        let mut fourth = TcpStream::connect(addr).await.expect("connect");
        let closed = closed_within(&mut fourth, Duration::from_secs(5)).await;
        assert!(
            closed.is_some(),
            "{listener}: the fourth connection is closed"
        );
        assert_eq!(
            metric(
                &facade,
                &format!(r#"qlink_facade_connections_refused_total{{listener="{listener}"}}"#)
            ),
            Some(1.0),
            "{listener}"
        );
        // One gone, and there is room again.
        held.pop();
        let answered = common::eventually(Duration::from_secs(5), || async {
            match listener {
                "grpc" => grpc_call(addr).await.ok().map(|_| ()),
                _ => healthz(addr).await.ok().map(|_| ()),
            }
        })
        .await;
        assert!(answered.is_some(), "{listener}: answers once under the cap");
    }
}

#[tokio::test]
async fn an_oversized_header_list_is_refused_and_the_connection_keeps_serving() {
    let (_simulator, facade) = world(|_| {}).await;
    let channel = facade.plaintext_channel().await;
    let mut client = WarehouseServiceClient::new(channel);
    let mut oversized = req(QLINK, ListWarehousesRequest::default());
    oversized
        .metadata_mut()
        .insert("x-padding", "x".repeat(20 * 1024).parse().expect("ascii"));
    let refused = client.list_warehouses(oversized).await;
    assert!(refused.is_err(), "20 KiB of headers over the 16 KiB limit");
    let answered = client
        .list_warehouses(req(QLINK, ListWarehousesRequest::default()))
        .await
        .expect("a normal call on the same channel");
    assert_eq!(answered.into_inner().warehouses.len(), 3);
}
