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
    spawn_simulator(test_simulator_config()).await
}

/// A qlink tenant `id` of the demo account against `simulator`, with
/// extra TOML lines.
fn qlink_tenant(id: &str, simulator: &SimulatorHandle, extra: &str) -> String {
    qlink_tenant_at(id, &simulator.qlink_base_url(), extra)
}

/// A qlink tenant `id` of the demo account at `base_url`, with extra TOML
/// lines.
fn qlink_tenant_at(id: &str, base_url: &str, extra: &str) -> String {
    config_text::qlink_tenant(id, base_url, config_text::DEMO_QLINK, extra)
}

/// A simulator, and a facade serving the qlink tenant `id` against it,
/// with extra TOML lines.
async fn one_tenant(id: &str, extra: &str) -> (SimulatorHandle, Facade) {
    let simulator = simulator().await;
    let facade = spawn_facade(config(&qlink_tenant(id, &simulator, extra))).await;
    (simulator, facade)
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
    let warehouses = facade.caller("retrying").list_warehouses().await;
    let warehouses = warehouses.expect("third attempt succeeds");
    assert!(!warehouses.is_empty());
    assert_eq!(calls_to(&simulator, "initWarehouses").len(), 3);

    assert_text_has(
        &metrics.encode(),
        &[
            r#"qlink_facade_upstream_retries_total{tenant="retrying",operation="initWarehouses"} 2"#,
            r#"qlink_facade_upstream_attempts_total{tenant="retrying",operation="initWarehouses",outcome="503"} 2"#,
            r#"qlink_facade_upstream_attempts_total{tenant="retrying",operation="initWarehouses",outcome="ok"} 1"#,
            r#"qlink_facade_grpc_requests_total{tenant="retrying",method="qlink.v1.WarehouseService/ListWarehouses",code="OK"} 1"#,
        ],
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
    let status = facade.caller("made-up-tenant").list_warehouses().await;
    let status = status.expect_err("no such tenant");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");

    let text = metrics.encode();
    assert!(!text.contains("made"), "{text}");
    assert_text_has(
        &text,
        &[
            r#"qlink_facade_grpc_requests_total{tenant="known",method="unknown",code="UNIMPLEMENTED"} 6"#,
            r#"qlink_facade_grpc_requests_total{tenant="unknown",method="qlink.v1.WarehouseService/ListWarehouses",code="NOT_FOUND"} 1"#,
        ],
    );
}

#[tokio::test]
async fn a_write_is_not_retried_once_it_was_sent() {
    let (simulator, facade) = one_tenant("writer", "retry = { base_delay_ms = 10 }").await;
    simulator.inject(fault(FaultKind::HttpStatus(503), "createOrder", Some(1)));
    let writer = facade.caller("writer");
    let status = writer.create_order(order("ORD-ONCE", "TU01", "SIM-SKU-00001"));
    let status = status.await.expect_err("the 503 is reported, not retried");
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
    let port = common::process::free_port();
    let toml = qlink_tenant_at(
        "late",
        &format!("http://127.0.0.1:{port}"),
        "retry = { max_attempts = 10, base_delay_ms = 200, max_delay_ms = 400 }",
    );
    let facade = spawn_facade(config(&toml)).await;
    let late = facade.caller("late");
    let call = tokio::spawn(async move {
        late.create_order(order("ORD-LATE", "TU01", "SIM-SKU-00001"))
            .await
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
    assert!(!created.warehouse_order_number.is_empty());
    assert_eq!(calls_to(&simulator, "createOrder").len(), 1);
}

#[tokio::test]
async fn a_burst_of_twenty_never_reaches_the_upstream_faster_than_five_per_second() {
    let limit = "rate_limit = { per_second = 5, burst = 5 }";
    let (simulator, facade) = one_tenant("throttled", limit).await;
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let throttled = facade.caller("throttled");
            tokio::spawn(async move { throttled.list_warehouses().await })
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
    let limit = "rate_limit = { per_second = 1, burst = 1 }";
    let (simulator, facade) = one_tenant("strict", limit).await;
    let strict = facade.caller("strict");
    strict.list_warehouses().await.expect("first call");
    let hurried = strict.with_timeout(Some(Duration::from_millis(300)));
    let status = hurried.list_warehouses().await.expect_err("over the limit");
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
    let (simulator, facade) = one_tenant("patient", "timeout_ms = 10000").await;
    simulator.inject(fault(
        FaultKind::Delay(Duration::from_secs(3)),
        "initWarehouses",
        None,
    ));
    let patient = facade.caller("patient");
    let patient = patient.with_timeout(Some(Duration::from_secs(1)));
    let started = Instant::now();
    let status = patient.list_warehouses().await.expect_err("deadline");
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
        "max_in_flight = 4\nmax_queued = 0\nretry = { max_attempts = 1 }",
    ) + &qlink_tenant("fast", &fast_simulator, "");
    let facade = spawn_facade(config(&toml)).await;
    slow_simulator.inject(fault(
        FaultKind::Delay(Duration::from_secs(2)),
        "initWarehouses",
        None,
    ));
    let slow = facade.caller("slow");
    let slow_calls: Vec<_> = (0..4)
        .map(|_| {
            let slow = slow.clone();
            tokio::spawn(async move { slow.list_warehouses().await })
        })
        .collect();
    // Wait until all four hold their permits at the warehouse.
    let in_flight = eventually(Duration::from_secs(10), || {
        let arrived = calls_to(&slow_simulator, "initWarehouses").len();
        async move { (arrived >= 4).then_some(()) }
    })
    .await;
    assert!(in_flight.is_some(), "the slow calls reached the warehouse");

    let shed = slow
        .list_warehouses()
        .await
        .expect_err("a fifth call is shed");
    assert_status(&shed, Code::ResourceExhausted, &["in flight"]);

    let started = Instant::now();
    let fast = facade.caller("fast").list_warehouses().await;
    fast.expect("the fast tenant answers");
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
    let mut warehouses = world.facade.warehouses();
    warehouses.list_warehouses(request).await.expect("list");
    let call = calls_to(&world.simulator, "initWarehouses")
        .pop()
        .expect("a call");
    let traceparent = traceparent(&call);
    assert!(
        traceparent.starts_with(&format!("00-{trace_id}-")),
        "{traceparent}"
    );
    assert!(
        !traceparent.contains("00f067aa0ba902b7"),
        "a new span id for the upstream attempt: {traceparent}"
    );
}

/// The `traceparent` header `call` carried.
fn traceparent(call: &qlink_facade::simulator::RecordedRequest) -> String {
    call.headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("traceparent"))
        .map(|(_, value)| value.clone())
        .expect("traceparent header sent upstream")
}

/// (trace id, span id) of the `traceparent` each call to `operation` carried.
fn trace_parents(simulator: &SimulatorHandle, operation: &str) -> Vec<(String, String)> {
    calls_to(simulator, operation)
        .into_iter()
        .map(|call| {
            let traceparent = traceparent(&call);
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
    let api = world.facade.caller(QLINK);
    api.list_warehouses()
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
    let query = qlink_facade::proto::SyncInventoryRequest {
        warehouse_code: warehouse,
        page_size: 10,
        ..Default::default()
    };
    let pages: Vec<_> = api.inventory(query).await.expect("stream").collect().await;
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
    let text = text_at(&format!("http://{addr}/metrics")).await;
    assert!(text.contains("qlink_facade_grpc_requests_total"), "{text}");
    let client = reqwest::Client::new();
    let status_of = |path: &'static str| {
        let request = client.get(format!("http://{addr}/{path}"));
        async move { request.send().await.expect(path).status() }
    };
    assert_eq!(status_of("healthz").await, 200);
    assert_eq!(status_of("readyz").await, 200);
    store_up.store(false, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        status_of("readyz").await,
        503,
        "not ready while the store is down"
    );
    store_up.store(true, std::sync::atomic::Ordering::Relaxed);
    ready.store(false, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(status_of("readyz").await, 503);
}
