//! What a rate limit shared through Redis costs per call (issue 20): the
//! same ListWarehouses calls, one after another and then 64 at a time,
//! through two facades side by side in one process against one instant
//! warehouse. One keeps the tenant's limit itself (governor); the other in
//! Redis (`[cluster]`, a GCRA script per call). The limit is far above what
//! the runs reach, so no call waits: the difference is the check alone.
//! Needs a Redis (`QLINK_TEST_REDIS_URL`, as `scripts/test-services` starts).

use std::time::Duration;

use qlink_facade::{
    app::App,
    config::Config,
    metrics::Metrics,
    proto::{ListWarehousesRequest, warehouse_service_client::WarehouseServiceClient},
    store::StoreConfig,
};
use tonic::transport::Channel;

use crate::{
    floor::{APP_KEY, APP_SECRET, WAREHOUSE_KEY, WAREHOUSE_TYPE},
    measure::{self, Run},
    report::micros,
    upstream::{Upstream, UpstreamConfig},
};

/// The tenant both facades serve.
const TENANT: &str = "bench-limited";

/// One facade's configuration: `TENANT` limited far above the load, its
/// limit in Redis when `redis_url` is given.
fn config(upstream: &Upstream, redis_url: Option<&str>) -> Result<Config, String> {
    let cluster = redis_url.map_or(String::new(), |url| {
        format!(
            "[cluster]\nredis_url = \"{url}\"\nkey_prefix = \"qlink-bench-{}\"\n\n",
            std::process::id()
        )
    });
    let text = format!(
        r#"{cluster}[[tenant]]
id = "{TENANT}"
protocol = "qlink"
base_url = "{base_url}"
app_key = "{APP_KEY}"
app_secret = "{APP_SECRET}"
warehouse_type = "{WAREHOUSE_TYPE}"
warehouse_key = "{WAREHOUSE_KEY}"
max_in_flight = 4096
rate_limit = {{ per_second = 1000000, burst = 1000000 }}
"#,
        base_url = upstream.qlink_base_url(),
    );
    let mut config = Config::from_toml(&text, &|_| None).map_err(|err| err.to_string())?;
    config.store = StoreConfig::temporary();
    Ok(config)
}

/// Starts a facade from `config` on this runtime; a channel to it.
async fn start(config: &Config) -> Result<Channel, String> {
    let app = App::open(config, Metrics::shared())
        .await
        .map_err(|err| err.to_string())?;
    let listener = crate::bind_facade(false)
        .await
        .map_err(|err| format!("cannot bind a facade: {err}"))?;
    let addr = listener.local_addr().map_err(|err| err.to_string())?;
    tokio::spawn(async move {
        if let Err(err) = app.serve(listener, None, std::future::pending()).await {
            eprintln!("qlink-bench: a facade stopped: {err}");
        }
    });
    Channel::from_shared(format!("http://{addr}"))
        .map_err(|err| err.to_string())?
        .connect()
        .await
        .map_err(|err| format!("cannot connect to a facade: {err}"))
}

async fn list_warehouses(channel: Channel) -> Result<(), String> {
    let mut request = tonic::Request::new(ListWarehousesRequest {});
    request.metadata_mut().insert(
        "x-tenant-id",
        tonic::metadata::MetadataValue::from_static(TENANT),
    );
    WarehouseServiceClient::new(channel)
        .list_warehouses(request)
        .await
        .map(drop)
        .map_err(|status| format!("{:?}: {}", status.code(), status.message()))
}

/// Runs the comparison and prints its table; `Ok(false)` when a call
/// failed. `duration` is each run's length.
pub async fn compare(redis_url: &str, duration: Duration) -> Result<bool, String> {
    let upstream = Upstream::spawn(UpstreamConfig {
        inventory_skus: 1,
        page_size: 1,
    })
    .await
    .map_err(|err| format!("cannot start the benchmark warehouse: {err}"))?;
    let local = start(&config(&upstream, None)?).await?;
    let shared = start(&config(&upstream, Some(redis_url))?).await?;
    let warmup = duration / 5;
    let mut ok = true;
    println!("## Rate limit kept locally vs in Redis (ListWarehouses, qlink)\n");
    println!("| callers | limiter | calls/s | p50 | p99 | p50 added by Redis |");
    println!("|---|---|---|---|---|---|");
    for concurrency in [1, 64] {
        // Alternated, so drift on a shared machine falls on both.
        let mut runs: Vec<(&str, Run)> = Vec::new();
        for (name, channel) in [("local", &local), ("Redis", &shared)] {
            let channel = channel.clone();
            let run = measure::load(concurrency, warmup, duration, move || {
                list_warehouses(channel.clone())
            })
            .await;
            if run.errors > 0 {
                ok = false;
                eprintln!(
                    "{name} x{concurrency}: {} errors, first: {:?}",
                    run.errors, run.first_error
                );
            }
            runs.push((name, run));
        }
        let local_p50 = runs[0].1.latencies.quantile(0.5);
        for (name, run) in &runs {
            let p50 = run.latencies.quantile(0.5);
            let added = if *name == "Redis" {
                format!(
                    "{:+.3} ms",
                    (p50.as_secs_f64() - local_p50.as_secs_f64()) * 1e3
                )
            } else {
                "—".to_owned()
            };
            println!(
                "| {concurrency} | {name} | {:.0} | {} | {} | {added} |",
                run.per_second(),
                micros(p50),
                micros(run.latencies.quantile(0.99)),
            );
        }
    }
    println!("\nTarget: at most 0.3 ms added at p50 per call (one caller).");
    Ok(ok)
}
