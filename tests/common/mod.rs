//! Shared test fixtures: a real simulator on loopback, the real facade
//! server on an ephemeral port, and generated gRPC clients.

#![allow(dead_code)]

pub mod calls;
pub mod config_text;
pub mod lossy;
pub mod process;
pub mod push;
pub mod store;
pub mod tls;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use qlink_facade::{
    app::App,
    config::Config,
    demo,
    metrics::Metrics,
    proto::{
        asn_service_client::AsnServiceClient, inventory_service_client::InventoryServiceClient,
        order_service_client::OrderServiceClient, sku_service_client::SkuServiceClient,
        warehouse_service_client::WarehouseServiceClient,
    },
    simulator::{QianyiAccount, QlinkAccount, SimulatorConfig, SimulatorHandle},
    store::StoreLocation,
};
use tokio::{net::TcpListener, sync::watch};
use tonic::{Request, transport::Channel};

// Not every test binary uses each of these.
#[allow(unused_imports)]
pub use calls::{Answer, Caller, next_ok, next_within, order_refs};
pub use qlink_facade::demo::{DEMO_QIANYI_TENANT as QIANYI, DEMO_QLINK_TENANT as QLINK};

/// Both demo tenants: every protocol-independent test runs on each.
pub const TENANTS: [&str; 2] = [QLINK, QIANYI];

/// The real facade served in this process from a config, as the binary
/// serves it (TLS and listener limits included), both listeners on
/// 127.0.0.1:0; stops when dropped.
pub struct Served {
    pub addr: SocketAddr,
    /// The HTTP listener: metrics, health, push webhooks.
    pub http_addr: SocketAddr,
    pub metrics: Arc<Metrics>,
    _stop: watch::Sender<()>,
}

impl Served {
    /// A gRPC channel to the facade over plaintext.
    pub async fn plaintext_channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .expect("uri")
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .expect("connect to facade")
    }
}

/// A running facade and a plaintext channel to it; stops when dropped.
pub struct Facade {
    pub addr: SocketAddr,
    /// The HTTP listener: metrics, health, push webhooks.
    pub http_addr: SocketAddr,
    channel: Channel,
    _served: Served,
}

impl Facade {
    pub fn warehouses(&self) -> WarehouseServiceClient<Channel> {
        WarehouseServiceClient::new(self.channel.clone())
    }
    pub fn orders(&self) -> OrderServiceClient<Channel> {
        OrderServiceClient::new(self.channel.clone())
    }
    pub fn asns(&self) -> AsnServiceClient<Channel> {
        AsnServiceClient::new(self.channel.clone())
    }
    pub fn inventory(&self) -> InventoryServiceClient<Channel> {
        InventoryServiceClient::new(self.channel.clone())
    }
    pub fn skus(&self) -> SkuServiceClient<Channel> {
        SkuServiceClient::new(self.channel.clone())
    }
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }
}

/// Starts the real facade server with `config` on 127.0.0.1:0.
pub async fn spawn_facade(config: Config) -> Facade {
    spawn_facade_with_metrics(config, Metrics::shared()).await
}

/// Starts the real facade server, recording into `metrics`, and connects
/// to it over plaintext.
pub async fn spawn_facade_with_metrics(config: Config, metrics: Arc<Metrics>) -> Facade {
    let served = serve(config, metrics).await;
    Facade {
        addr: served.addr,
        http_addr: served.http_addr,
        channel: served.plaintext_channel().await,
        _served: served,
    }
}

/// Serves `config` in this process, recording into `metrics`. A config
/// that names no store (so the default file in the working directory) gets
/// a temporary one instead: tests never share a store by accident.
pub async fn serve(mut config: Config, metrics: Arc<Metrics>) -> Served {
    if matches!(
        &config.store.location,
        StoreLocation::Sqlite(path) if path.as_path() == std::path::Path::new("qlink-facade.db")
    ) {
        config.store.location = StoreLocation::Temporary;
    }
    // Once per test binary; the guard keeps the tracer provider alive.
    static TELEMETRY: std::sync::OnceLock<qlink_facade::telemetry::TelemetryGuard> =
        std::sync::OnceLock::new();
    TELEMETRY.get_or_init(|| {
        qlink_facade::telemetry::init(&qlink_facade::telemetry::TelemetryConfig {
            test_writer: true,
            ..Default::default()
        })
    });
    let app = App::open(&config, metrics.clone())
        .await
        .expect("the facade starts");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind facade");
    let addr = listener.local_addr().expect("facade addr");
    let http_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind http");
    let http_addr = http_listener.local_addr().expect("http addr");
    // Both servers stop when the `Served` is dropped (the sender with it).
    let (stop, mut stopped) = watch::channel(());
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.changed().await;
        };
        if let Err(err) = app.serve(listener, Some(http_listener), shutdown).await {
            panic!("facade server failed: {err}");
        }
    });
    Served {
        addr,
        http_addr,
        metrics,
        _stop: stop,
    }
}

/// Serves `app` on 127.0.0.1:0 until the test ends: a small stand-in
/// warehouse (or anything else a test needs to reach over HTTP).
pub async fn serve_router(app: axum::Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// The simulator settings the tests use: quick lifecycles, a few pages of stock.
pub fn test_simulator_config() -> SimulatorConfig {
    SimulatorConfig {
        ship_after: Duration::from_millis(300),
        receive_after: Duration::from_millis(300),
        inventory_skus: 45,
        ..SimulatorConfig::default()
    }
}

/// A simulator and a facade serving the demo tenants against it.
pub struct World {
    pub simulator: SimulatorHandle,
    pub facade: Facade,
}

pub async fn world() -> World {
    world_with(test_simulator_config()).await
}

/// A world whose demo config `change` adjusts first.
pub async fn world_where(change: impl FnOnce(&mut Config)) -> World {
    world_of(test_simulator_config(), change).await
}

pub async fn world_with(simulator_config: SimulatorConfig) -> World {
    world_of(simulator_config, |_| {}).await
}

async fn world_of(simulator_config: SimulatorConfig, change: impl FnOnce(&mut Config)) -> World {
    let (simulator, mut config) = demo_against(simulator_config).await;
    change(&mut config);
    let facade = spawn_facade(config).await;
    World { simulator, facade }
}

/// A simulator on 127.0.0.1:0.
pub async fn spawn_simulator(config: SimulatorConfig) -> SimulatorHandle {
    let addr = "127.0.0.1:0".parse().expect("addr");
    SimulatorHandle::spawn(config, addr)
        .await
        .expect("spawn simulator")
}

/// A simulator that takes only one qlink account (app key, app secret,
/// warehouse key) and one Qianyi account (access id, secret key).
pub async fn simulator_for(qlink: [&str; 3], qianyi: [&str; 2]) -> SimulatorHandle {
    let [app_key, app_secret, warehouse_key] = qlink.map(str::to_owned);
    let [access_id, secret_key] = qianyi.map(str::to_owned);
    spawn_simulator(SimulatorConfig {
        qlink_accounts: vec![QlinkAccount {
            app_key,
            app_secret,
            warehouse_key,
        }],
        qianyi_accounts: vec![QianyiAccount {
            access_id,
            secret_key,
        }],
        ..test_simulator_config()
    })
    .await
}

/// A simulator, and the demo config against it.
pub async fn demo_against(simulator_config: SimulatorConfig) -> (SimulatorHandle, Config) {
    let simulator = spawn_simulator(simulator_config.clone()).await;
    let config = demo::demo_config(
        &simulator_config,
        simulator.qlink_base_url(),
        simulator.qianyi_endpoint(),
    );
    (simulator, config)
}

/// A request for `tenant`.
pub fn req<T>(tenant: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("x-tenant-id", tenant.parse().expect("tenant id is ascii"));
    request
}

/// Each demo tenant with its calls and its first warehouse.
pub async fn tenants(world: &World) -> Vec<(&'static str, Caller, String)> {
    let mut tenants = Vec::new();
    for tenant in TENANTS {
        let warehouse = first_warehouse(world, tenant).await;
        tenants.push((tenant, world.facade.caller(tenant), warehouse));
    }
    tenants
}

/// Every one of `wanted` is in `found`; `context` says where, when not.
pub fn assert_all_in(found: &[String], wanted: &[&str], context: &str) {
    for one in wanted {
        assert!(
            found.iter().any(|item| item == one),
            "{context}: {one} not in {found:?}"
        );
    }
}

/// `status` has `code`, and its message holds each of `words`.
pub fn assert_status(status: &tonic::Status, code: tonic::Code, words: &[&str]) {
    assert_eq!(status.code(), code, "{status:?}");
    for word in words {
        let message = status.message();
        assert!(message.contains(word), "{word} not in {message}");
    }
}

/// The one message calls that must all succeed, alike, answered.
pub fn one_answer<T: PartialEq + std::fmt::Debug>(answers: Vec<Answer<T>>, context: &str) -> T {
    let answers: Vec<T> = answers
        .into_iter()
        .map(|answer| answer.expect("every call is answered"))
        .collect();
    assert!(
        answers.iter().all(|answer| *answer == answers[0]),
        "{context}: {answers:?}"
    );
    answers.into_iter().next().expect("an answer")
}

/// Every one of `wanted` is in `text`.
pub fn assert_text_has(text: &str, wanted: &[&str]) {
    for one in wanted {
        assert!(text.contains(one), "{one} in\n{text}");
    }
}

/// The first warehouse code of a tenant, as ListWarehouses reports it.
pub async fn first_warehouse(world: &World, tenant: &str) -> String {
    first_warehouse_of(&world.facade, tenant).await
}

/// The first warehouse a tenant lists through `facade`.
pub async fn first_warehouse_of(facade: &Facade, tenant: &str) -> String {
    let warehouses = facade.caller(tenant).list_warehouses().await;
    let warehouses = warehouses.expect("list warehouses");
    warehouses
        .first()
        .expect("at least one warehouse")
        .code
        .clone()
}

/// The body of a GET to `url`, which must answer.
pub async fn text_at(url: &str) -> String {
    qlink_facade::upstream::install_crypto_provider();
    let response = reqwest::get(url).await.expect(url);
    response.text().await.expect("text")
}

/// A valid order for `warehouse_code`, as a caller would fill it in.
pub fn order(
    order_number: &str,
    warehouse_code: &str,
    sku: &str,
) -> qlink_facade::proto::CreateOrderRequest {
    use qlink_facade::proto::{CreateOrderRequest, OrderItem, Receiver};
    CreateOrderRequest {
        order_number: order_number.to_owned(),
        online_order_id: format!("PO-{order_number}"),
        shop_name: "测试店铺".to_owned(),
        warehouse_code: warehouse_code.to_owned(),
        logistics_code: "UPS-1".to_owned(),
        platform: "SHEIN".to_owned(),
        freight: "12.50".to_owned(),
        receiver: Some(Receiver {
            name: "Kimberly White".to_owned(),
            phone: "1889838055188".to_owned(),
            email: "kim@example.com".to_owned(),
            country: "US".to_owned(),
            state: "AR".to_owned(),
            city: "Harrison".to_owned(),
            district: String::new(),
            address1: "1 Test Street".to_owned(),
            address2: String::new(),
            postal_code: "72601".to_owned(),
        }),
        items: vec![OrderItem {
            sku: sku.to_owned(),
            erp_sku: format!("ERP-{sku}"),
            name: "Side table".to_owned(),
            quantity: 2,
            amount: "120.00".to_owned(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Polls `check` every 50 ms until it returns `Some`, for at most `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The field paths of an INVALID_ARGUMENT status's BadRequest details.
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}
