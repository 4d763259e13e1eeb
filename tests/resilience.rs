//! The upstream middleware through the real server: retries, rate limits,
//! deadlines, load shedding, trace context, metrics and secret-free logs.

mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use common::*;
use futures::StreamExt;
use qlink_facade::{
    config::Config,
    metrics::Metrics,
    simulator::{Fault, FaultKind, SimulatorHandle},
};
use tonic::Code;
use tonic_types::StatusExt;

async fn simulator() -> SimulatorHandle {
    SimulatorHandle::spawn(
        test_simulator_config(),
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("simulator")
}

/// A qlink tenant `id` against `simulator`, with extra TOML lines.
fn qlink_tenant(id: &str, simulator: &SimulatorHandle, extra: &str) -> String {
    format!(
        r#"
[[tenant]]
id = "{id}"
protocol = "qlink"
base_url = "{base}"
app_key = "demo-app-key"
app_secret = "demo-app-secret"
warehouse_key = "demo-warehouse-key"
{extra}
"#,
        base = simulator.qlink_base_url()
    )
}

fn config(toml: &str) -> Config {
    Config::from_toml(toml, &|_| None).expect("config")
}

fn fault(kind: FaultKind, operation: &str, times: Option<u32>) -> Fault {
    let fault = Fault::new(kind).on(operation);
    match times {
        Some(times) => fault.times(times),
        None => fault,
    }
}

fn calls_to(
    simulator: &SimulatorHandle,
    operation: &str,
) -> Vec<qlink_facade::simulator::RecordedRequest> {
    simulator
        .requests()
        .into_iter()
        .filter(|r| r.operation == operation)
        .collect()
}

#[tokio::test]
async fn a_read_survives_two_5xx_answers_and_metrics_count_the_retries() {
    let simulator = simulator().await;
    let metrics = Metrics::shared();
    let facade = spawn_facade_with_metrics(
        config(&qlink_tenant(
            "retrying",
            &simulator,
            "retry = { base_delay_ms = 10 }",
        )),
        metrics.clone(),
    )
    .await;
    simulator.inject(fault(FaultKind::HttpStatus(503), "initWarehouses", Some(2)));
    let warehouses = facade
        .warehouses()
        .list_warehouses(req("retrying", Default::default()))
        .await
        .expect("third attempt succeeds")
        .into_inner()
        .warehouses;
    assert!(!warehouses.is_empty());
    assert_eq!(calls_to(&simulator, "initWarehouses").len(), 3);

    let text = metrics.encode();
    assert!(
        text.contains(
            r#"qlink_facade_upstream_retries_total{tenant="retrying",operation="initWarehouses"} 2"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"qlink_facade_upstream_attempts_total{tenant="retrying",operation="initWarehouses",outcome="503"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"qlink_facade_upstream_attempts_total{tenant="retrying",operation="initWarehouses",outcome="ok"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"qlink_facade_grpc_requests_total{tenant="retrying",method="qlink.v1.WarehouseService/ListWarehouses",code="OK"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn callers_cannot_add_metric_series_with_made_up_paths_or_tenants() {
    let simulator = simulator().await;
    let metrics = Metrics::shared();
    let facade = spawn_facade_with_metrics(
        config(&qlink_tenant("known", &simulator, "")),
        metrics.clone(),
    )
    .await;
    let mut grpc = tonic::client::Grpc::new(facade.channel());
    // Made-up services, and made-up or missing methods of served ones.
    let paths = [
        "/made.up.Service0/Call0".to_owned(),
        "/made.up.Service1/Call1".to_owned(),
        "/qlink.v1.OrderService/MadeUpCall".to_owned(),
        "/qlink.v1.OrderService/".to_owned(),
        "/qlink.v1.OrderService".to_owned(),
        "/".to_owned(),
    ];
    for path in &paths {
        grpc.ready().await.expect("ready");
        let status = grpc
            .unary::<_, (), _>(
                req("known", ()),
                path.parse().expect("path"),
                tonic_prost::ProstCodec::default(),
            )
            .await
            .expect_err("no such RPC");
        assert_eq!(status.code(), Code::Unimplemented, "{path}: {status:?}");
    }
    let status = facade
        .warehouses()
        .list_warehouses(req("made-up-tenant", Default::default()))
        .await
        .expect_err("no such tenant");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");

    let text = metrics.encode();
    assert!(!text.contains("made"), "{text}");
    assert!(
        text.contains(
            r#"qlink_facade_grpc_requests_total{tenant="known",method="unknown",code="UNIMPLEMENTED"} 6"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"qlink_facade_grpc_requests_total{tenant="unknown",method="qlink.v1.WarehouseService/ListWarehouses",code="NOT_FOUND"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn a_write_is_not_retried_once_it_was_sent() {
    let simulator = simulator().await;
    let facade = spawn_facade(config(&qlink_tenant(
        "writer",
        &simulator,
        "retry = { base_delay_ms = 10 }",
    )))
    .await;
    simulator.inject(fault(FaultKind::HttpStatus(503), "createOrder", Some(1)));
    let status = facade
        .orders()
        .create_order(req("writer", order("ORD-ONCE", "TU01", "SIM-SKU-00001")))
        .await
        .expect_err("the 503 is reported, not retried");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(
        calls_to(&simulator, "createOrder").len(),
        1,
        "sent exactly once"
    );
}

#[tokio::test]
async fn a_write_is_retried_when_the_warehouse_refused_the_connection() {
    // Nothing listens on this port yet: the first attempt is refused.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let toml = format!(
        r#"
[[tenant]]
id = "late"
protocol = "qlink"
base_url = "http://127.0.0.1:{port}"
app_key = "demo-app-key"
app_secret = "demo-app-secret"
warehouse_key = "demo-warehouse-key"
retry = {{ max_attempts = 10, base_delay_ms = 200, max_delay_ms = 400 }}
"#
    );
    let facade = spawn_facade(config(&toml)).await;
    let call = tokio::spawn({
        let mut client = facade.orders();
        async move {
            client
                .create_order(req("late", order("ORD-LATE", "TU01", "SIM-SKU-00001")))
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let simulator = SimulatorHandle::spawn(
        test_simulator_config(),
        format!("127.0.0.1:{port}").parse().expect("addr"),
    )
    .await
    .expect("simulator on the refused port");
    let created = call
        .await
        .expect("join")
        .expect("created after the warehouse came up");
    assert!(!created.into_inner().warehouse_order_number.is_empty());
    assert_eq!(calls_to(&simulator, "createOrder").len(), 1);
}

#[tokio::test]
async fn a_burst_of_twenty_never_reaches_the_upstream_faster_than_five_per_second() {
    let simulator = simulator().await;
    let facade = spawn_facade(config(&qlink_tenant(
        "throttled",
        &simulator,
        "rate_limit = { per_second = 5, burst = 5 }",
    )))
    .await;
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let mut client = facade.warehouses();
            tokio::spawn(async move {
                client
                    .list_warehouses(req("throttled", Default::default()))
                    .await
            })
        })
        .collect();
    for call in calls {
        call.await
            .expect("join")
            .expect("every call gets through in time");
    }
    let mut arrivals: Vec<Instant> = calls_to(&simulator, "initWarehouses")
        .iter()
        .map(|r| r.at)
        .collect();
    arrivals.sort();
    assert_eq!(arrivals.len(), 20);
    // GCRA: 5 at once, then one every 200 ms; allow 50 ms of timer slack.
    for (index, arrival) in arrivals.iter().enumerate().skip(5) {
        let earliest = Duration::from_millis(200 * (index as u64 - 4))
            .saturating_sub(Duration::from_millis(50));
        assert!(
            arrival.duration_since(arrivals[0]) >= earliest,
            "call {index} arrived after {:?}, limit allows it after {earliest:?}",
            arrival.duration_since(arrivals[0])
        );
    }
}

#[tokio::test]
async fn over_the_rate_limit_without_time_to_wait_is_resource_exhausted_with_a_retry_delay() {
    let simulator = simulator().await;
    let facade = spawn_facade(config(&qlink_tenant(
        "strict",
        &simulator,
        "rate_limit = { per_second = 1, burst = 1 }",
    )))
    .await;
    facade
        .warehouses()
        .list_warehouses(req("strict", Default::default()))
        .await
        .expect("first call");
    let mut hurried = req("strict", Default::default());
    hurried.set_timeout(Duration::from_millis(300));
    let status = facade
        .warehouses()
        .list_warehouses(hurried)
        .await
        .expect_err("over the limit");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let retry = status.get_details_retry_info().expect("RetryInfo");
    assert!(
        retry
            .retry_delay
            .is_some_and(|d| d > Duration::ZERO && d <= Duration::from_secs(1))
    );
    assert_eq!(calls_to(&simulator, "initWarehouses").len(), 1);
}

#[tokio::test]
async fn a_caller_deadline_of_one_second_against_a_three_second_upstream_fails_in_about_one_second()
{
    let simulator = simulator().await;
    let facade = spawn_facade(config(&qlink_tenant(
        "patient",
        &simulator,
        "timeout_ms = 10000",
    )))
    .await;
    simulator.inject(fault(
        FaultKind::Delay(Duration::from_secs(3)),
        "initWarehouses",
        None,
    ));
    let mut request = req("patient", Default::default());
    request.set_timeout(Duration::from_secs(1));
    let started = Instant::now();
    let status = facade
        .warehouses()
        .list_warehouses(request)
        .await
        .expect_err("deadline");
    let took = started.elapsed();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(2500),
        "took {took:?}"
    );
    assert_eq!(
        calls_to(&simulator, "initWarehouses").len(),
        1,
        "no retry past the deadline"
    );
}

#[tokio::test]
async fn one_slow_tenant_does_not_delay_another_and_excess_load_is_shed() {
    let slow_simulator = simulator().await;
    let fast_simulator = simulator().await;
    let toml = qlink_tenant(
        "slow",
        &slow_simulator,
        "max_in_flight = 4\nretry = { max_attempts = 1 }",
    ) + &qlink_tenant("fast", &fast_simulator, "");
    let facade = spawn_facade(config(&toml)).await;
    slow_simulator.inject(fault(
        FaultKind::Delay(Duration::from_secs(2)),
        "initWarehouses",
        None,
    ));
    let slow_calls: Vec<_> = (0..4)
        .map(|_| {
            let mut client = facade.warehouses();
            tokio::spawn(async move {
                client
                    .list_warehouses(req("slow", Default::default()))
                    .await
            })
        })
        .collect();
    // Wait until all four hold their permits at the warehouse.
    let in_flight = eventually(Duration::from_secs(10), || {
        let arrived = calls_to(&slow_simulator, "initWarehouses").len();
        async move { (arrived >= 4).then_some(()) }
    })
    .await;
    assert!(in_flight.is_some(), "the slow calls reached the warehouse");

    let shed = facade
        .warehouses()
        .list_warehouses(req("slow", Default::default()))
        .await
        .expect_err("a fifth call is shed");
    assert_eq!(shed.code(), Code::Unavailable, "{shed:?}");
    assert!(shed.message().contains("in flight"), "{}", shed.message());

    let started = Instant::now();
    facade
        .warehouses()
        .list_warehouses(req("fast", Default::default()))
        .await
        .expect("the fast tenant answers");
    assert!(
        slow_calls.iter().all(|call| !call.is_finished()),
        "the fast tenant answered ({:?}) while the slow one was still busy",
        started.elapsed()
    );
    for call in slow_calls {
        call.await.expect("join").expect("slow calls finish");
    }
}

#[tokio::test]
async fn the_callers_trace_context_arrives_at_the_upstream() {
    let world = world().await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut request = req(QLINK, Default::default());
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-00f067aa0ba902b7-01")
            .parse()
            .expect("ascii"),
    );
    world
        .facade
        .warehouses()
        .list_warehouses(request)
        .await
        .expect("list");
    let call = calls_to(&world.simulator, "initWarehouses")
        .pop()
        .expect("a call");
    let traceparent = call
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("traceparent"))
        .map(|(_, value)| value.clone())
        .expect("traceparent header sent upstream");
    assert!(
        traceparent.starts_with(&format!("00-{trace_id}-")),
        "{traceparent}"
    );
    assert!(
        !traceparent.contains("00f067aa0ba902b7"),
        "a new span id for the upstream attempt: {traceparent}"
    );
}

/// (trace id, span id) of the `traceparent` each call to `operation` carried.
fn trace_parents(simulator: &SimulatorHandle, operation: &str) -> Vec<(String, String)> {
    calls_to(simulator, operation)
        .into_iter()
        .map(|call| {
            let traceparent = call
                .headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("traceparent"))
                .map(|(_, value)| value.clone())
                .expect("traceparent header sent upstream");
            let parts: Vec<&str> = traceparent.split('-').collect();
            assert_eq!(parts.len(), 4, "{traceparent}");
            assert_eq!((parts[0], parts[3]), ("00", "01"), "{traceparent}");
            (parts[1].to_owned(), parts[2].to_owned())
        })
        .collect()
}

#[tokio::test]
async fn without_a_callers_trace_each_call_starts_one_that_its_attempts_and_pages_share() {
    let world = world().await;
    let simulator = &world.simulator;
    simulator.inject(fault(FaultKind::HttpStatus(503), "initWarehouses", Some(2)));
    world
        .facade
        .warehouses()
        .list_warehouses(req(QLINK, Default::default()))
        .await
        .expect("the third attempt succeeds");
    let attempts = trace_parents(simulator, "initWarehouses");
    assert_eq!(attempts.len(), 3);
    assert!(
        attempts.iter().all(|(trace, _)| *trace == attempts[0].0),
        "one trace for the call: {attempts:?}"
    );
    let mut span_ids: Vec<&String> = attempts.iter().map(|(_, span)| span).collect();
    span_ids.sort();
    span_ids.dedup();
    assert_eq!(span_ids.len(), 3, "a span id per attempt: {attempts:?}");

    let warehouse = first_warehouse(&world, QLINK).await;
    let pages: Vec<_> = world
        .facade
        .inventory()
        .sync_inventory(req(
            QLINK,
            qlink_facade::proto::SyncInventoryRequest {
                warehouse_code: warehouse,
                page_size: 10,
                ..Default::default()
            },
        ))
        .await
        .expect("stream")
        .into_inner()
        .collect()
        .await;
    assert!(
        pages.len() > 1 && pages.iter().all(Result::is_ok),
        "{pages:?}"
    );
    let page_calls = trace_parents(simulator, "syncInventory");
    assert_eq!(page_calls.len(), pages.len());
    assert!(
        page_calls
            .iter()
            .all(|(trace, _)| *trace == page_calls[0].0),
        "every page in the stream's trace: {page_calls:?}"
    );
    assert_ne!(page_calls[0].0, attempts[0].0, "a new trace per call");
}

#[tokio::test]
async fn metrics_and_health_are_served_over_http() {
    let metrics = Metrics::shared();
    metrics.record_request(
        "t".into(),
        "qlink.v1.WarehouseService/ListWarehouses".into(),
        "OK",
        0.001,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let ready = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let store_up = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let state = qlink_facade::admin::AdminState {
        metrics: metrics.clone(),
        ready: ready.clone(),
        store_up: store_up.clone(),
    };
    let store = qlink_facade::store::open(&qlink_facade::store::StoreConfig::temporary(), "test")
        .await
        .expect("store");
    let tenants = qlink_facade::tenant::Tenants::new(Default::default());
    let webhooks = qlink_facade::push::webhook::Webhooks::new(tenants, store, metrics);
    tokio::spawn(qlink_facade::admin::serve(
        listener,
        state,
        webhooks,
        std::future::pending(),
    ));
    qlink_facade::upstream::install_crypto_provider();
    let client = reqwest::Client::new();
    let text = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    assert!(text.contains("qlink_facade_grpc_requests_total"), "{text}");
    let health = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let readiness = client
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(readiness.status(), 200);
    store_up.store(false, std::sync::atomic::Ordering::Relaxed);
    let readiness = client
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(readiness.status(), 503, "not ready while the store is down");
    store_up.store(true, std::sync::atomic::Ordering::Relaxed);
    ready.store(false, std::sync::atomic::Ordering::Relaxed);
    let readiness = client
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(readiness.status(), 503);
}
