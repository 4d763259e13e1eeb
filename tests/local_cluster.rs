//! The checks `deploy/local-cluster.sh` runs against three running
//! replicas sharing PostgreSQL and Redis (see that script). Without the
//! addresses it exports this test says so on stderr and passes without
//! running: `cargo test` alone starts no cluster.

mod common;

use std::{io::Write as _, net::SocketAddr, time::Duration};

use common::{
    Caller, next_within, one_answer,
    push::{assert_taken, drain, odo_path, order_push, send_push, signed_push},
    text_at,
};
use serde_json::Value;
use tonic::transport::Channel;

/// The replicas and the simulator, from the script's environment.
struct Cluster {
    grpc: Vec<Channel>,
    http: Vec<SocketAddr>,
    simulator: SocketAddr,
    redis_url: String,
}

async fn cluster() -> Option<Cluster> {
    let var = |name: &str| std::env::var(name).ok();
    let (Some(grpc), Some(http), Some(simulator), Some(redis_url)) = (
        var("QLINK_CLUSTER_GRPC"),
        var("QLINK_CLUSTER_HTTP"),
        var("QLINK_CLUSTER_SIMULATOR"),
        var("QLINK_TEST_REDIS_URL"),
    ) else {
        let _ = writeln!(
            std::io::stderr(),
            "local_cluster: skipped, no cluster running (deploy/local-cluster.sh runs one)"
        );
        return None;
    };
    qlink_facade::upstream::install_crypto_provider();
    let mut channels = Vec::new();
    for addr in grpc.split(',') {
        channels.push(
            Channel::from_shared(format!("http://{addr}"))
                .expect("uri")
                .connect()
                .await
                .expect("connect to a replica"),
        );
    }
    Some(Cluster {
        grpc: channels,
        http: http
            .split(',')
            .map(|addr| addr.parse().expect("addr"))
            .collect(),
        simulator: simulator.parse().expect("addr"),
        redis_url,
    })
}

impl Cluster {
    /// Arrival times (ms) of the simulator's requests for `operation`.
    async fn arrivals(&self, operation: &str) -> Vec<u64> {
        let text = text_at(&format!("http://{}/_simulator/requests", self.simulator)).await;
        let requests: Value = serde_json::from_str(&text).expect("json");
        let mut at: Vec<u64> = requests
            .as_array()
            .expect("a list")
            .iter()
            .filter(|request| request["operation"] == operation)
            .filter_map(|request| request["at_ms"].as_u64())
            .collect();
        at.sort_unstable();
        at
    }

    async fn clear_requests(&self) {
        reqwest::Client::new()
            .delete(format!("http://{}/_simulator/requests", self.simulator))
            .send()
            .await
            .expect("clear the request log");
    }

    /// `calls` ListWarehouses for tenant `limited`, spread over the replicas
    /// at once; how many succeeded.
    async fn burst(&self, calls: usize) -> usize {
        let answers = futures::future::join_all((0..calls).map(|n| {
            let replica = self.grpc[n % self.grpc.len()].clone();
            let limited =
                Caller::new(replica, "limited").with_timeout(Some(Duration::from_secs(30)));
            async move { limited.list_warehouses().await }
        }))
        .await;
        answers.iter().filter(|answer| answer.is_ok()).count()
    }

    async fn metrics(&self, replica: usize) -> String {
        text_at(&format!("http://{}/metrics", self.http[replica])).await
    }

    /// The calls tenant `pushed` makes to replica `replica`.
    fn pushed(&self, replica: usize) -> Caller {
        Caller::new(self.grpc[replica].clone(), "pushed")
    }
}

/// Asserts `at` (sorted, ms) never runs ahead of `per_second` after a
/// first burst of `burst`: the k-th arrival is at least k + 1 - burst
/// intervals after the first.
fn assert_within_rate(at: &[u64], per_second: f64, burst: usize) {
    let interval = 1000.0 / per_second;
    let first = at[0];
    for (k, arrival) in at.iter().enumerate().skip(burst) {
        let earliest = (k + 1 - burst) as f64 * interval - 60.0;
        assert!(
            (arrival - first) as f64 >= earliest,
            "arrival {k} at +{} ms, before +{earliest} ms: {at:?}",
            arrival - first
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_behave_as_one() {
    let Some(cluster) = cluster().await else {
        return;
    };

    // 1. A burst at all three replicas reaches the warehouse at the
    //    tenant's limit (5/s, burst 5), not three times it.
    cluster.clear_requests().await;
    assert_eq!(cluster.burst(30).await, 30, "every call waits its turn");
    let at = cluster.arrivals("initWarehouses").await;
    assert_eq!(at.len(), 30, "{at:?}");
    assert_within_rate(&at, 5.0, 5);
    eprintln!(
        "local_cluster: 30 calls at 3 replicas reached the warehouse over {} ms (5/s)",
        at[29] - at[0]
    );

    // 2. Duplicate CreateOrder calls sent to different replicas reach the
    //    warehouse once, and each gets the one answer.
    let answers = futures::future::join_all((0..9).map(|n| {
        let replica = cluster.grpc[n % 3].clone();
        let limited = Caller::new(replica, "limited").with_timeout(Some(Duration::from_secs(30)));
        async move {
            let order = common::order("CLUSTER-ORDER-1", "TU01", "SIM-SKU-00001");
            limited.create_order(order).await
        }
    }))
    .await;
    one_answer(answers, "CreateOrder at three replicas");
    assert_eq!(cluster.arrivals("createOrder").await.len(), 1, "sent once");

    // 3. A push received by one replica reaches a watcher on another.
    let watcher = cluster.pushed(1).watch_orders(0).await;
    let mut watcher = watcher.expect("watch on replica b");
    let body = signed_push(
        "pushOrderInfo",
        &order_push("CLUSTER-PUSH-1", "SUCCESS"),
        "cluster-push-secret",
    );
    let path = odo_path().replace("DEMO", "CLUSTER");
    let answer = send_push(&reqwest::Client::new(), cluster.http[0], &path, body).await;
    assert_taken(&answer.expect("push to replica a"));
    let event = next_within(&mut watcher, Duration::from_secs(1), "within a second").await;
    assert_eq!(event.order_number, "CLUSTER-PUSH-1");
    let on_c = cluster.pushed(2).watch_orders(0).await;
    let on_c = on_c.expect("watch on replica c");
    assert_eq!(
        drain(on_c, |event| event.order_number).await,
        ["CLUSTER-PUSH-1"]
    );

    // 4. Redis stops: the replicas keep serving, each within its share of
    //    the limit (5/s ÷ 3 replicas: 2/s and a burst of 2 each, 6/s in all).
    let client = redis::Client::open(cluster.redis_url.as_str()).expect("redis url");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let _: Result<(), _> = redis::cmd("SHUTDOWN")
        .arg("NOSAVE")
        .query_async(&mut connection)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.clear_requests().await;
    assert_eq!(cluster.burst(24).await, 24, "served without Redis");
    let at = cluster.arrivals("initWarehouses").await;
    assert_eq!(at.len(), 24);
    assert_within_rate(&at, 6.0, 6);
    for replica in 0..3 {
        let metrics = cluster.metrics(replica).await;
        assert!(metrics.contains("qlink_facade_redis_up 0"), "{metrics}");
        assert!(
            metrics.contains(r#"qlink_facade_rate_limit_fallbacks_total{tenant="limited"}"#),
            "{metrics}"
        );
        let ready = reqwest::get(format!("http://{}/readyz", cluster.http[replica]))
            .await
            .expect("readyz");
        assert_eq!(ready.status(), 200, "ready without Redis");
    }
    eprintln!(
        "local_cluster: without Redis, 24 calls reached the warehouse over {} ms (each replica at its share)",
        at[23] - at[0]
    );
}
