//! Rate limits shared through a real Redis (`[cluster]`): two facades on
//! one Redis send no more than the tenant's limit together, and a facade
//! that loses Redis keeps serving at its share of the limit, counted and
//! shown in its metrics, ready all along. Needs `QLINK_TEST_REDIS_URL`
//! (`scripts/test-services start`); without it the tests say so on stderr
//! and pass without running.

mod common;

use std::{io::Write as _, num::NonZeroU32, sync::Arc, time::Duration};

use common::{Facade, eventually, req, spawn_facade_with_metrics, store::TcpProxy};
use qlink_facade::{
    cluster::ClusterConfig,
    config::Config,
    demo::{self, DEMO_QLINK_TENANT},
    metrics::Metrics,
    middleware::rate_limit::Rate,
    simulator::{SimulatorConfig, SimulatorHandle},
};
use secrecy::SecretString;

fn redis_url(test: &str) -> Option<String> {
    let url = std::env::var("QLINK_TEST_REDIS_URL").ok();
    if url.is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "{test}: skipped, QLINK_TEST_REDIS_URL is not set (scripts/test-services start)"
        );
    }
    url
}

async fn simulator() -> SimulatorHandle {
    SimulatorHandle::spawn(
        SimulatorConfig::default(),
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("spawn simulator")
}

/// The demo tenants against `simulator`, the qlink one limited to
/// `per_second` (burst as much), shared through Redis at `redis_url`.
fn limited_config(
    simulator: &SimulatorHandle,
    redis_url: &str,
    per_second: u32,
    replicas: u32,
) -> Config {
    let mut config = demo::demo_config(
        &SimulatorConfig::default(),
        simulator.qlink_base_url(),
        simulator.qianyi_endpoint(),
    );
    let rate = NonZeroU32::new(per_second).expect("a rate");
    for tenant in &mut config.tenants {
        if tenant.id == DEMO_QLINK_TENANT {
            tenant.policy.rate_limit = Some(Rate {
                per_second: rate,
                burst: rate,
            });
        }
    }
    config.cluster = Some(ClusterConfig {
        redis_url: SecretString::from(redis_url.to_owned()),
        replicas,
        // Each run its own keys, so runs never share a limit.
        key_prefix: format!("qlink-test-{:016x}", fastrand::u64(..)),
    });
    config
}

/// `calls` ListWarehouses calls at once through each of `facades`; the
/// number that succeeded.
async fn burst(facades: &[&Facade], calls: usize) -> usize {
    let mut running = Vec::new();
    for facade in facades {
        for _ in 0..calls {
            let mut client = facade.warehouses();
            running.push(tokio::spawn(async move {
                let mut request = req(DEMO_QLINK_TENANT, Default::default());
                request.set_timeout(Duration::from_secs(20));
                client.list_warehouses(request).await
            }));
        }
    }
    let mut ok = 0;
    for call in running {
        match call.await.expect("the call's task") {
            Ok(_) => ok += 1,
            Err(status) => eprintln!("a call failed: {status:?}"),
        }
    }
    ok
}

/// When each `initWarehouses` reached the simulator, in ms after the first.
fn arrivals(simulator: &SimulatorHandle) -> Vec<u64> {
    let mut at: Vec<_> = simulator
        .requests()
        .into_iter()
        .filter(|request| request.operation == "initWarehouses")
        .map(|request| request.at)
        .collect();
    at.sort();
    let first = at[0];
    at.iter()
        .map(|arrival| arrival.duration_since(first).as_millis() as u64)
        .collect()
}

/// Asserts `count` calls of `initWarehouses` reached `simulator`, and that
/// they never ran ahead of `per_second` after a first burst of `burst`:
/// the k-th arrival is at least k + 1 - burst intervals after the first
/// (less a little for timers).
fn assert_arrived_within_rate(
    simulator: &SimulatorHandle,
    count: usize,
    per_second: f64,
    burst: usize,
) {
    let at = arrivals(simulator);
    assert_eq!(at.len(), count, "{at:?}");
    let interval = 1000.0 / per_second;
    for (k, arrival) in at.iter().enumerate().skip(burst) {
        let earliest = (k + 1 - burst) as f64 * interval - 60.0;
        assert!(
            *arrival as f64 >= earliest,
            "arrival {k} at +{arrival} ms, before +{earliest} ms: {at:?}"
        );
    }
}

async fn metrics_text(facade: &Facade) -> String {
    reqwest::get(format!("http://{}/metrics", facade.http_addr))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_facades_on_one_redis_send_no_more_than_the_limit_together() {
    let Some(redis_url) = redis_url("two_facades_on_one_redis") else {
        return;
    };
    let simulator = simulator().await;
    let config = limited_config(&simulator, &redis_url, 5, 2);
    let first = spawn_facade_with_metrics(config.clone(), Arc::new(Metrics::new())).await;
    let second = spawn_facade_with_metrics(config, Arc::new(Metrics::new())).await;

    // 2 × 8 calls at a shared 5/s (burst 5): the last reaches the
    // warehouse no sooner than 11 intervals (2.2 s) after the first. Each
    // facade alone would have let its 8 through in 0.6 s.
    assert_eq!(
        burst(&[&first, &second], 8).await,
        16,
        "every call waits its turn"
    );
    assert_arrived_within_rate(&simulator, 16, 5.0, 5);

    let metrics = metrics_text(&first).await;
    assert!(metrics.contains("qlink_facade_redis_up 1"), "{metrics}");
    assert!(
        !metrics.contains("qlink_facade_rate_limit_fallbacks_total{"),
        "no call needed the local share: {metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_a_facade_limits_at_its_share_and_stays_ready() {
    let Some(redis_url) = redis_url("without_redis") else {
        return;
    };
    let proxy = TcpProxy::start(&redis_url).await;
    let simulator = simulator().await;
    // 10/s over 2 replicas: 5/s (burst 5) each while Redis is away.
    let config = limited_config(&simulator, &proxy.url, 10, 2);
    let facade = spawn_facade_with_metrics(config, Arc::new(Metrics::new())).await;
    assert_eq!(burst(&[&facade], 1).await, 1);
    assert!(
        metrics_text(&facade)
            .await
            .contains("qlink_facade_redis_up 1")
    );

    proxy.cut();
    simulator.clear_requests();
    assert_eq!(burst(&[&facade], 12).await, 12, "served without Redis");
    assert_arrived_within_rate(&simulator, 12, 5.0, 5);
    let metrics = metrics_text(&facade).await;
    assert!(metrics.contains("qlink_facade_redis_up 0"), "{metrics}");
    assert!(
        metrics.contains(&format!(
            "qlink_facade_rate_limit_fallbacks_total{{tenant=\"{DEMO_QLINK_TENANT}\"}}"
        )),
        "{metrics}"
    );
    let ready = reqwest::get(format!("http://{}/readyz", facade.http_addr))
        .await
        .expect("GET /readyz");
    assert_eq!(ready.status(), 200, "Redis is not needed to be ready");

    // Back: the next ping finds it, and calls are shared again.
    proxy.restore();
    let back = eventually(Duration::from_secs(10), || async {
        metrics_text(&facade)
            .await
            .contains("qlink_facade_redis_up 1")
            .then_some(())
    })
    .await;
    assert!(back.is_some(), "redis_up comes back once Redis does");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_redis_goes_away_the_local_share_starts_from_what_was_sent_not_a_fresh_burst() {
    let Some(redis_url) = redis_url("local_share_after_redis") else {
        return;
    };
    let proxy = TcpProxy::start(&redis_url).await;
    let simulator = simulator().await;
    // 10/s (burst 10) over 2 replicas: 5/s (burst 5) each without Redis.
    let config = limited_config(&simulator, &proxy.url, 10, 2);
    let facade = spawn_facade_with_metrics(config, Arc::new(Metrics::new())).await;
    // Redis lets the whole burst through this one replica.
    assert_eq!(burst(&[&facade], 10).await, 10);

    // Redis goes away: the local share has been spent by those ten, so the
    // next calls wait their turn at 5/s instead of 5 more going at once,
    // which would be 15 at once against a limit of 10.
    proxy.cut();
    assert_eq!(burst(&[&facade], 5).await, 5, "served without Redis");
    assert_arrived_within_rate(&simulator, 15, 10.0, 10);
}
