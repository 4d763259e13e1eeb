//! Calls over a tenant's `max_in_flight` queue before they are shed,
//! through the real server against the simulator: a burst of 1,000 at the
//! defaults completes, a full queue and a wait past the deadline are
//! refused `RESOURCE_EXHAUSTED` with `RetryInfo`, and nothing refused
//! reaches the warehouse.

mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use common::{
    config_text::{DEMO_QLINK, qlink_tenant},
    *,
};
use qlink_facade::{
    config::Config,
    metrics::Metrics,
    proto::ListWarehousesResponse,
    simulator::{Fault, FaultKind, SimulatorHandle},
};
use tokio::task::JoinHandle;
use tonic::Code;
use tonic_types::StatusExt;

/// A qlink tenant `limited` against `simulator`, with these limit lines.
fn limited_tenant(simulator: &SimulatorHandle, limits: &str) -> Config {
    let extra = format!("retry = {{ max_attempts = 1 }}\n{limits}");
    let toml = qlink_tenant("limited", &simulator.qlink_base_url(), DEMO_QLINK, &extra);
    Config::from_toml(&toml, &|_| None).expect("config")
}

/// Every initWarehouses call waits `delay` at the warehouse.
fn slow_warehouses(simulator: &SimulatorHandle, delay: Duration) {
    simulator.inject(Fault {
        kind: FaultKind::Delay(delay),
        operation: Some("initWarehouses".to_owned()),
        warehouse_code: None,
        times: None,
    });
}

fn arrived(simulator: &SimulatorHandle) -> usize {
    simulator
        .requests()
        .iter()
        .filter(|request| request.operation == "initWarehouses")
        .count()
}

/// A ListWarehouses call, spawned.
type InFlightCall = JoinHandle<Answer<tonic::Response<ListWarehousesResponse>>>;

/// A simulator whose initWarehouses answers after `delay_ms`, a facade
/// serving the tenant `limited` against it with these limit lines, and a
/// first call that reached the warehouse: it holds the only slot.
struct SlotHeld {
    simulator: SimulatorHandle,
    facade: Facade,
    metrics: Arc<Metrics>,
    first: InFlightCall,
}

async fn slot_held_by_a_slow_call(limits: &str, delay_ms: u64) -> SlotHeld {
    let simulator = spawn_simulator(test_simulator_config()).await;
    let metrics = Metrics::shared();
    let facade =
        spawn_facade_with_metrics(limited_tenant(&simulator, limits), metrics.clone()).await;
    slow_warehouses(&simulator, Duration::from_millis(delay_ms));
    let first = spawn_list_warehouses(&facade);
    let reached = eventually(Duration::from_secs(5), || {
        let count = arrived(&simulator);
        async move { (count == 1).then_some(()) }
    })
    .await;
    assert!(reached.is_some(), "the first call holds the only slot");
    SlotHeld {
        simulator,
        facade,
        metrics,
        first,
    }
}

impl SlotHeld {
    /// `refused` is RESOURCE_EXHAUSTED with `words` and a delay to retry
    /// after, and the only call shed.
    fn assert_shed(&self, refused: &tonic::Status, words: &[&str]) {
        assert_status(refused, Code::ResourceExhausted, words);
        let retry = refused.get_details_retry_info().expect("RetryInfo");
        assert!(
            retry
                .retry_delay
                .is_some_and(|delay| delay > Duration::ZERO),
            "{retry:?}"
        );
        assert_eq!(
            tenant_series(&self.metrics, "qlink_facade_load_shed_total", "limited"),
            1.0
        );
    }

    /// Once the first call answers (and every call in `others`), `arrivals`
    /// calls reached the warehouse: none refused.
    async fn assert_refused_never_sent(self, others: Vec<InFlightCall>, arrivals: usize) {
        self.first
            .await
            .expect("join")
            .expect("the first call answers");
        for other in others {
            other
                .await
                .expect("join")
                .expect("the queued call answers after it");
        }
        assert_eq!(
            arrived(&self.simulator),
            arrivals,
            "the refused call never reached the warehouse"
        );
    }
}

/// A ListWarehouses call of `limited`, in flight until it answers.
fn spawn_list_warehouses(facade: &Facade) -> InFlightCall {
    let mut client = facade.warehouses();
    tokio::spawn(async move {
        client
            .list_warehouses(req("limited", Default::default()))
            .await
    })
}

/// The value of the series `name{tenant="…"}` in the metrics text, 0 if absent.
fn tenant_series(metrics: &Metrics, name: &str, tenant: &str) -> f64 {
    let prefix = format!("{name}{{tenant=\"{tenant}\"}} ");
    metrics
        .encode()
        .lines()
        .find_map(|line| line.strip_prefix(&prefix)?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn a_burst_of_1000_concurrent_calls_for_one_tenant_queues_and_none_is_refused() {
    let simulator = spawn_simulator(test_simulator_config()).await;
    // The default limits (64 in flight, 1,024 queued); the warehouse is
    // near instant, but slow enough that the burst must queue.
    let config = qlink_facade::demo::demo_config(
        &test_simulator_config(),
        simulator.qlink_base_url(),
        simulator.qianyi_endpoint(),
    );
    let metrics = Metrics::shared();
    let facade = spawn_facade_with_metrics(config, metrics.clone()).await;
    slow_warehouses(&simulator, Duration::from_millis(20));

    // Several connections, as many callers would open.
    let channels: Vec<_> = (0..4)
        .map(|_| {
            tonic::transport::Channel::from_shared(format!("http://{}", facade.addr))
                .expect("uri")
                .connect_lazy()
        })
        .collect();
    let calls: Vec<_> = (0..1000)
        .map(|index| {
            let mut client =
                qlink_facade::proto::warehouse_service_client::WarehouseServiceClient::new(
                    channels[index % channels.len()].clone(),
                );
            tokio::spawn(
                async move { client.list_warehouses(req(QLINK, Default::default())).await },
            )
        })
        .collect();
    let mut refused = Vec::new();
    for call in calls {
        if let Err(status) = call.await.expect("join") {
            refused.push(status);
        }
    }
    assert!(
        refused.is_empty(),
        "{} refused, the first: {:?}",
        refused.len(),
        refused.first()
    );
    assert_eq!(
        arrived(&simulator),
        1000,
        "every call reached the warehouse once"
    );
    assert_eq!(
        tenant_series(&metrics, "qlink_facade_load_shed_total", QLINK),
        0.0,
        "nothing was shed"
    );
    let queued = tenant_series(&metrics, "qlink_facade_queue_wait_seconds_count", QLINK);
    assert!(
        queued > 0.0,
        "the burst went through the queue: {queued} calls waited"
    );
}

#[tokio::test]
async fn a_call_finding_the_queue_full_is_refused_at_once_with_retry_info() {
    let held = slot_held_by_a_slow_call("max_in_flight = 1\nmax_queued = 1", 800).await;
    let queued = spawn_list_warehouses(&held.facade);
    tokio::time::sleep(Duration::from_millis(100)).await;

    let started = Instant::now();
    let refused = held
        .facade
        .warehouses()
        .list_warehouses(req("limited", Default::default()))
        .await
        .expect_err("the queue is full");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "refused at once: {:?}",
        started.elapsed()
    );
    held.assert_shed(&refused, &["1 queued already", "tenant limited"]);
    assert_eq!(
        arrived(&held.simulator),
        1,
        "neither the queued nor the refused call was sent yet"
    );
    held.assert_refused_never_sent(vec![queued], 2).await;
}

#[tokio::test]
async fn a_queued_call_whose_deadline_passes_before_a_slot_frees_is_refused_with_retry_info() {
    let held = slot_held_by_a_slow_call("max_in_flight = 1", 3000).await;

    let mut hurried = req("limited", Default::default());
    // The facade answers 50 ms before the caller gives up: room enough
    // on a busy machine.
    hurried.set_timeout(Duration::from_millis(1000));
    let started = Instant::now();
    let refused = held
        .facade
        .warehouses()
        .list_warehouses(hurried)
        .await
        .expect_err("no slot in time");
    let waited = started.elapsed();
    held.assert_shed(&refused, &["none of the 1 in flight finished"]);
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_millis(2500),
        "it waited in the queue until its deadline: {waited:?}"
    );
    assert_eq!(
        tenant_series(
            &held.metrics,
            "qlink_facade_queue_wait_seconds_count",
            "limited"
        ),
        1.0
    );
    held.assert_refused_never_sent(Vec::new(), 1).await;
}
