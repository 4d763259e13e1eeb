//! The four scenarios, each two ways: the floor (a direct signed reqwest call
//! to the instant warehouse, with the very bytes the facade sends) and the
//! same operation through the facade over gRPC with the generated client.
//!
//! [`Bench::prepare`] drives each scenario once through the facade while the
//! warehouse records bodies, and checks that the floor's bodies are
//! byte-for-byte the facade's.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream};
use qlink_facade::{
    domain::NewOrder,
    proto::{
        self, inventory_service_client::InventoryServiceClient,
        order_service_client::OrderServiceClient, warehouse_service_client::WarehouseServiceClient,
    },
    upstream::sign::{qianyi_sign, qlink_sign, qlink_sign_content},
};
use reqwest::header::CONTENT_TYPE;
use serde::Deserialize;
use serde::Serialize;
use serde_json::Value;
use tonic::{Request, transport::Channel};

use crate::upstream::{MAIN_WAREHOUSE, Upstream};

pub const QLINK_TENANT: &str = "bench-qlink";
pub const QIANYI_TENANT: &str = "bench-qianyi";
const APP_KEY: &str = "bench-app-key";
const APP_SECRET: &str = "bench-app-secret";
const WAREHOUSE_TYPE: &str = "LINGXING";
const WAREHOUSE_KEY: &str = "afd1dd995b9e432c907d3f8237b3f69b";
const ACCESS_ID: &str = "3215435";
const SECRET_KEY: &str = "bench-secret-key";
const QIANYI_WAREHOUSE: &str = "CA1";
/// Upstream calls one Qianyi GetOrders batch runs at once, as the facade does.
const FAN_OUT: usize = 8;
/// Items of the realistic order.
pub const ORDER_ITEMS: usize = 20;
/// The facade's per-call upstream timeout, and the floor client's.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

/// What the benchmark measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    ListWarehouses,
    CreateOrder,
    /// CreateOrder again, against a floor that encodes the order's JSON on
    /// every call, as a client with an order to send must, instead of
    /// replaying the facade's bytes.
    CreateOrderEncoding,
    SyncInventory,
    GetOrders,
}

impl Scenario {
    pub const ALL: [Scenario; 5] = [
        Self::ListWarehouses,
        Self::CreateOrder,
        Self::CreateOrderEncoding,
        Self::SyncInventory,
        Self::GetOrders,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::ListWarehouses => "ListWarehouses",
            Self::CreateOrder => "CreateOrder",
            Self::CreateOrderEncoding => "CreateOrderEncoding",
            Self::SyncInventory => "SyncInventory",
            Self::GetOrders => "GetOrders",
        }
    }

    /// One facade call is one upstream HTTP call.
    pub fn is_single_call(self) -> bool {
        matches!(
            self,
            Self::ListWarehouses | Self::CreateOrder | Self::CreateOrderEncoding
        )
    }
}

/// The two ways of doing a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    Floor,
    Facade,
}

impl Path {
    pub fn name(self) -> &'static str {
        match self {
            Self::Floor => "floor (direct reqwest)",
            Self::Facade => "facade (gRPC)",
        }
    }
}

/// Sizes of the scenarios.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub inventory_skus: u32,
    pub page_size: u32,
    pub get_orders: usize,
}

impl Sizes {
    pub fn inventory_pages(&self) -> u32 {
        self.inventory_skus.div_ceil(self.page_size)
    }
}

/// The facade's configuration: both tenants against the instant warehouse.
/// `max_in_flight` is raised so 64 callers × 8-way fan-out are never shed.
pub fn facade_config(upstream: &Upstream) -> String {
    format!(
        r#"
[[tenant]]
id = "{QLINK_TENANT}"
protocol = "qlink"
base_url = "{qlink}"
app_key = "{APP_KEY}"
app_secret = "{APP_SECRET}"
warehouse_type = "{WAREHOUSE_TYPE}"
warehouse_key = "{WAREHOUSE_KEY}"
timeout_ms = {timeout}
max_in_flight = 4096

[[tenant]]
id = "{QIANYI_TENANT}"
protocol = "qianyi"
base_url = "{qianyi}"
access_id = "{ACCESS_ID}"
secret_key = "{SECRET_KEY}"
timeout_ms = {timeout}
max_in_flight = 4096
"#,
        qlink = upstream.qlink_base_url(),
        qianyi = upstream.qianyi_endpoint(),
        timeout = UPSTREAM_TIMEOUT.as_millis(),
    )
}

/// A realistic order: 20 lines, Chinese shop name, a full address.
pub fn realistic_order() -> proto::CreateOrderRequest {
    proto::CreateOrderRequest {
        order_number: "ORD-2025-000123".to_owned(),
        online_order_id: "PO-8832-1123-4471".to_owned(),
        shop_name: "测试店铺 Home & Garden".to_owned(),
        warehouse_code: MAIN_WAREHOUSE.to_owned(),
        logistics_code: "UPS-GROUND".to_owned(),
        platform: "SHEIN".to_owned(),
        freight: "12.50".to_owned(),
        receiver: Some(proto::Receiver {
            name: "Kimberly White".to_owned(),
            phone: "1889838055188".to_owned(),
            email: "kim.white@example.com".to_owned(),
            country: "US".to_owned(),
            state: "AR".to_owned(),
            city: "Harrison".to_owned(),
            district: String::new(),
            address1: "1 Test Street".to_owned(),
            address2: "Suite 200".to_owned(),
            postal_code: "72601".to_owned(),
        }),
        items: (1..=ORDER_ITEMS)
            .map(|line| proto::OrderItem {
                sku: format!("SKU-{line:06}"),
                erp_sku: format!("ERP-{line:06}"),
                name: format!("Outdoor side table, walnut, model {line}"),
                quantity: (line % 4 + 1) as i64,
                amount: format!("{}.{:02}", 10 + line * 3, line % 100),
                shipping_price: "1.25".to_owned(),
                hs_code: "9403600000".to_owned(),
                chinese_customs_declaration_name: "木制桌子".to_owned(),
                english_customs_declaration_name: "Wooden table".to_owned(),
            })
            .collect(),
        currency: "USD".to_owned(),
        total_price: "842.50".to_owned(),
        user_nick: "kimw".to_owned(),
        ..Default::default()
    }
}

/// Both ways of calling, with the requests and bodies they send.
#[derive(Clone)]
pub struct Bench {
    inner: Arc<Inner>,
}

struct Inner {
    sizes: Sizes,
    /// Connections to the facade; calls take them in turn.
    channels: Vec<Channel>,
    next_channel: AtomicUsize,
    http: reqwest::Client,
    /// `http://…/global-api/v1/warehouse`
    qlink_endpoint: String,
    qianyi_endpoint: String,
    order: proto::CreateOrderRequest,
    /// `order` validated, as a direct client would hold it.
    new_order: NewOrder,
    order_refs: Vec<proto::OrderRef>,
    /// Filled by [`Bench::prepare`] from what the facade sent.
    bodies: Bodies,
}

#[derive(Default)]
struct Bodies {
    list_warehouses: Bytes,
    create_order: Bytes,
    /// The page-1 `syncInventory` body split around the page number.
    inventory: (String, String),
}

/// The floor's inventory body for `page`.
fn inventory_body(template: &(String, String), page: u32) -> String {
    format!("{}{page}{}", template.0, template.1)
}

/// The Qianyi `content` of one order lookup, as the facade writes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderRefContent<'a> {
    order_number: &'a str,
    warehouse_code: &'a str,
}

/// A Qianyi request body, keys in the spec's order, as the facade writes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QianyiBody<'a> {
    access_id: &'a str,
    method: &'a str,
    content: &'a str,
    sign: &'a str,
}

fn qianyi_get_order_body(order_number: &str) -> Result<Vec<u8>, String> {
    let content = serde_json::to_string(&OrderRefContent {
        order_number,
        warehouse_code: QIANYI_WAREHOUSE,
    })
    .map_err(|err| err.to_string())?;
    let sign = qianyi_sign(ACCESS_ID, &content, SECRET_KEY);
    serde_json::to_vec(&QianyiBody {
        access_id: ACCESS_ID,
        method: "getOrder",
        content: &content,
        sign: &sign,
    })
    .map_err(|err| err.to_string())
}

fn request<T>(tenant: &'static str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "x-tenant-id",
        tonic::metadata::MetadataValue::from_static(tenant),
    );
    request
}

fn status_text(status: tonic::Status) -> String {
    format!("{:?}: {}", status.code(), status.message())
}

/// The HTTP client both the facade and the floor use: the facade's settings.
pub fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    qlink_facade::upstream::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(UPSTREAM_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(60))
        .user_agent(concat!("qlink-facade/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

impl Bench {
    /// Drives each scenario once through the facade, recording what the
    /// warehouse received, and checks the floor sends the same bytes.
    pub async fn prepare(
        sizes: Sizes,
        channels: Vec<Channel>,
        upstream: &Upstream,
    ) -> Result<Self, String> {
        if channels.is_empty() {
            return Err("no connection to the facade".to_owned());
        }
        let order_refs = (1..=sizes.get_orders)
            .map(|index| proto::OrderRef {
                order_number: format!("ORD-{index:06}"),
                ..Default::default()
            })
            .collect();
        let mut inner = Inner {
            sizes,
            channels,
            next_channel: AtomicUsize::new(0),
            http: http_client().map_err(|err| format!("cannot build the HTTP client: {err}"))?,
            qlink_endpoint: format!("{}/global-api/v1/warehouse", upstream.qlink_base_url()),
            qianyi_endpoint: upstream.qianyi_endpoint(),
            order: realistic_order(),
            new_order: NewOrder::try_from(realistic_order())
                .map_err(|err| format!("the realistic order is invalid: {err:?}"))?,
            order_refs,
            bodies: Bodies::default(),
        };

        upstream.start_capture();
        inner.facade_list_warehouses().await?;
        inner.bodies.list_warehouses = only_body(upstream.take_captured(), "initWarehouses")?;

        upstream.start_capture();
        inner.facade_create_order().await?;
        inner.bodies.create_order = only_body(upstream.take_captured(), "createOrder")?;
        let encoded = inner.encode_order()?;
        if encoded.as_bytes() != inner.bodies.create_order.as_ref() {
            return Err(format!(
                "the floor encodes the order as {encoded:?}, the facade sent {:?}",
                String::from_utf8_lossy(&inner.bodies.create_order)
            ));
        }

        upstream.start_capture();
        inner.facade_sync_inventory().await?;
        let pages = upstream.take_captured();
        let first = pages
            .first()
            .map(|(_, body)| String::from_utf8_lossy(body).into_owned())
            .ok_or("the facade sent no syncInventory request")?;
        let (prefix, suffix) = first
            .split_once("\"page\":1,")
            .ok_or_else(|| format!("no \"page\":1, in the first inventory body {first}"))?;
        inner.bodies.inventory = (format!("{prefix}\"page\":"), format!(",{suffix}"));
        if pages.len() != sizes.inventory_pages() as usize {
            return Err(format!(
                "the facade asked for {} inventory pages, expected {}",
                pages.len(),
                sizes.inventory_pages()
            ));
        }
        for (index, (operation, body)) in pages.iter().enumerate() {
            let ours = inventory_body(&inner.bodies.inventory, index as u32 + 1);
            if operation != "syncInventory" || body.as_ref() != ours.as_bytes() {
                return Err(format!(
                    "inventory page {}: the facade sent {operation} {:?}, the floor would send {ours:?}",
                    index + 1,
                    String::from_utf8_lossy(body)
                ));
            }
        }

        upstream.start_capture();
        inner.facade_get_orders().await?;
        let mut theirs: Vec<Bytes> = upstream
            .take_captured()
            .into_iter()
            .map(|(_, body)| body)
            .collect();
        let mut ours = inner
            .order_refs
            .iter()
            .map(|order| qianyi_get_order_body(&order.order_number).map(Bytes::from))
            .collect::<Result<Vec<_>, _>>()?;
        theirs.sort();
        ours.sort();
        if theirs != ours {
            return Err(format!(
                "Qianyi getOrder bodies differ; the facade's first: {:?}, the floor's first: {:?}",
                theirs
                    .first()
                    .map(|b| String::from_utf8_lossy(b).into_owned()),
                ours.first()
                    .map(|b| String::from_utf8_lossy(b).into_owned()),
            ));
        }

        let bench = Self {
            inner: Arc::new(inner),
        };
        for scenario in Scenario::ALL {
            bench.call(scenario, Path::Floor).await?;
        }
        Ok(bench)
    }

    /// One call of `scenario` along `path`; `Err` says what went wrong.
    pub async fn call(&self, scenario: Scenario, path: Path) -> Result<(), String> {
        let inner = &self.inner;
        match (scenario, path) {
            (Scenario::ListWarehouses, Path::Floor) => inner
                .qlink_direct("initWarehouses", inner.bodies.list_warehouses.clone())
                .await
                .and_then(|bytes| answer_of::<Acknowledged>("initWarehouses", &bytes))
                .map(drop),
            (Scenario::ListWarehouses, Path::Facade) => inner.facade_list_warehouses().await,
            (Scenario::CreateOrder, Path::Floor) => inner
                .qlink_direct("createOrder", inner.bodies.create_order.clone())
                .await
                .and_then(|bytes| answer_of::<Acknowledged>("createOrder", &bytes))
                .map(drop),
            (Scenario::CreateOrderEncoding, Path::Floor) => {
                let body = Bytes::from(inner.encode_order()?);
                inner
                    .qlink_direct("createOrder", body)
                    .await
                    .and_then(|bytes| answer_of::<Acknowledged>("createOrder", &bytes))
                    .map(drop)
            }
            (Scenario::CreateOrder | Scenario::CreateOrderEncoding, Path::Facade) => {
                inner.facade_create_order().await
            }
            (Scenario::SyncInventory, Path::Floor) => inner.floor_sync_inventory().await,
            (Scenario::SyncInventory, Path::Facade) => inner.facade_sync_inventory().await,
            (Scenario::GetOrders, Path::Floor) => inner.floor_get_orders().await,
            (Scenario::GetOrders, Path::Facade) => inner.facade_get_orders().await,
        }
    }

    /// The createOrder body the facade sends for [`realistic_order`].
    pub fn create_order_body(&self) -> Bytes {
        self.inner.bodies.create_order.clone()
    }

    /// A gRPC call to the facade that goes no further: the standard health
    /// check, through the same server and call layer as the API.
    pub async fn facade_health_check(&self) -> Result<(), String> {
        use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
        HealthClient::new(self.inner.channel())
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .map(drop)
            .map_err(status_text)
    }

    /// Streams the inventory of `warehouse` through the facade; the SKUs seen.
    pub async fn facade_inventory_of(&self, warehouse: &str) -> Result<u64, String> {
        self.inner.facade_inventory(warehouse).await
    }
}

fn only_body(captured: Vec<(String, Bytes)>, operation: &str) -> Result<Bytes, String> {
    match captured.as_slice() {
        [(seen, body)] if seen == operation => Ok(body.clone()),
        other => Err(format!(
            "expected one {operation} request, the warehouse saw {:?}",
            other.iter().map(|(op, _)| op).collect::<Vec<_>>()
        )),
    }
}

impl Inner {
    /// The createOrder content of the realistic order, encoded now, as a
    /// client calling the warehouse directly encodes each order it sends.
    fn encode_order(&self) -> Result<String, String> {
        qlink_facade::upstream::qlink::create_order_content(WAREHOUSE_KEY, &self.new_order)
            .map_err(|err| format!("cannot encode the order: {err}"))
    }

    /// The next connection to the facade, round robin.
    fn channel(&self) -> Channel {
        let turn = self.next_channel.fetch_add(1, Ordering::Relaxed);
        self.channels[turn % self.channels.len()].clone()
    }

    /// The floor of one qlink call: sign the exact bytes, POST them with
    /// the facade's headers and return the 2xx answer's bytes.
    async fn qlink_direct(&self, operation: &str, body: Bytes) -> Result<Bytes, String> {
        let content = std::str::from_utf8(&body).map_err(|err| err.to_string())?;
        let sign = qlink_sign(APP_KEY, content, APP_SECRET);
        let response = self
            .http
            .post(format!("{}/{operation}", self.qlink_endpoint))
            .header("appkey", APP_KEY)
            .header("warehousetype", WAREHOUSE_TYPE)
            .header("sign", sign)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|err| format!("{operation}: {err}"))?;
        body_of(operation, response).await
    }

    async fn floor_sync_inventory(&self) -> Result<(), String> {
        let mut skus = 0u64;
        for page in 1.. {
            let body = inventory_body(&self.bodies.inventory, page);
            let bytes = self
                .qlink_direct("syncInventory", Bytes::from(body))
                .await?;
            let answer: InventoryAnswer<'_> = answer_of("syncInventory", &bytes)?;
            skus += answer.result.data.len() as u64;
            if answer.result.is_last_page {
                break;
            }
        }
        expect_skus(skus, self.sizes.inventory_skus)
    }

    async fn floor_get_orders(&self) -> Result<(), String> {
        // The futures are built up front, as the facade does: a closure in
        // the stream would not be `Send` for every lifetime.
        let calls: Vec<_> = self
            .order_refs
            .iter()
            .map(|order| self.floor_get_order(&order.order_number))
            .collect();
        stream::iter(calls)
            .buffered(FAN_OUT)
            .try_collect::<Vec<()>>()
            .await
            .map(drop)
    }

    async fn floor_get_order(&self, order_number: &str) -> Result<(), String> {
        let body = qianyi_get_order_body(order_number)?;
        let response = self
            .http
            .post(&self.qianyi_endpoint)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|err| format!("getOrder: {err}"))?;
        let bytes = body_of("getOrder", response).await?;
        answer_of::<Acknowledged>("getOrder", &bytes).map(drop)
    }

    async fn facade_list_warehouses(&self) -> Result<(), String> {
        let answer = WarehouseServiceClient::new(self.channel())
            .list_warehouses(request(QLINK_TENANT, proto::ListWarehousesRequest {}))
            .await
            .map_err(status_text)?
            .into_inner();
        if answer.warehouses.len() != 3 {
            return Err(format!("expected 3 warehouses, got {answer:?}"));
        }
        Ok(())
    }

    async fn facade_create_order(&self) -> Result<(), String> {
        let answer = OrderServiceClient::new(self.channel())
            .create_order(request(QLINK_TENANT, self.order.clone()))
            .await
            .map_err(status_text)?
            .into_inner();
        if answer.warehouse_order_number.is_empty() {
            return Err(format!("no warehouse order number in {answer:?}"));
        }
        Ok(())
    }

    async fn facade_sync_inventory(&self) -> Result<(), String> {
        let skus = self.facade_inventory(MAIN_WAREHOUSE).await?;
        expect_skus(skus, self.sizes.inventory_skus)
    }

    async fn facade_inventory(&self, warehouse: &str) -> Result<u64, String> {
        let mut pages = InventoryServiceClient::new(self.channel())
            .sync_inventory(request(
                QLINK_TENANT,
                proto::SyncInventoryRequest {
                    warehouse_code: warehouse.to_owned(),
                    page_size: self.sizes.page_size as i32,
                    ..Default::default()
                },
            ))
            .await
            .map_err(status_text)?
            .into_inner();
        let mut skus = 0u64;
        let mut last = false;
        while let Some(page) = pages.message().await.map_err(status_text)? {
            skus += page.items.len() as u64;
            last = page.is_last_page;
        }
        if !last {
            return Err("the inventory stream ended without its last page".to_owned());
        }
        Ok(skus)
    }

    async fn facade_get_orders(&self) -> Result<(), String> {
        let answer = OrderServiceClient::new(self.channel())
            .get_orders(request(
                QIANYI_TENANT,
                proto::GetOrdersRequest {
                    warehouse_code: QIANYI_WAREHOUSE.to_owned(),
                    orders: self.order_refs.clone(),
                },
            ))
            .await
            .map_err(status_text)?
            .into_inner();
        if answer.orders.len() != self.order_refs.len() {
            return Err(format!(
                "asked for {} orders, got {}",
                self.order_refs.len(),
                answer.orders.len()
            ));
        }
        if let Some(order) = answer.orders.iter().find(|o| !o.error_message.is_empty()) {
            return Err(format!(
                "order {}: {}",
                order.order_number, order.error_message
            ));
        }
        Ok(())
    }
}

/// An answer the floor checks: `success` must be true (or "true").
trait Answer {
    fn success(&self) -> &Value;
}

/// The least any client reads from a unary answer: `success`, with every
/// other field skipped by the parser, not built.
#[derive(Deserialize)]
struct Acknowledged {
    success: Value,
}

impl Answer for Acknowledged {
    fn success(&self) -> &Value {
        &self.success
    }
}

/// An inventory page as a careful direct client reads it: `success`,
/// `isLastPage` and every row's nine fields as text borrowed from the body
/// (no allocation per field, no number parsing).
#[derive(Deserialize)]
struct InventoryAnswer<'a> {
    success: Value,
    #[serde(borrow)]
    result: InventoryResult<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InventoryResult<'a> {
    is_last_page: bool,
    #[serde(borrow)]
    data: Vec<FloorInventoryRow<'a>>,
}

/// The bench warehouse writes every field as a string without escapes.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // read by the parser: that is what is measured
struct FloorInventoryRow<'a> {
    warehouse_code: &'a str,
    warehouse_sku: &'a str,
    onway_quantity: &'a str,
    pending_quantity: &'a str,
    sellable_quantity: &'a str,
    unsellable_quantity: &'a str,
    reserved_quantity: &'a str,
    use_quantity: &'a str,
    total_quantity: &'a str,
}

impl Answer for InventoryAnswer<'_> {
    fn success(&self) -> &Value {
        &self.success
    }
}

/// The body of a 2xx answer.
async fn body_of(operation: &str, response: reqwest::Response) -> Result<Bytes, String> {
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|err| format!("{operation}: {err}"))?;
    if !status.is_success() {
        return Err(format!("{operation}: HTTP {status}"));
    }
    Ok(body)
}

/// Reads an answer whose `success` is true (or "true") into `T`.
fn answer_of<'a, T: Deserialize<'a> + Answer>(
    operation: &str,
    body: &'a [u8],
) -> Result<T, String> {
    let answer: T = serde_json::from_slice(body).map_err(|err| format!("{operation}: {err}"))?;
    match answer.success() {
        Value::Bool(true) => Ok(answer),
        Value::String(flag) if flag == "true" => Ok(answer),
        other => Err(format!("{operation}: success is {other}")),
    }
}

fn expect_skus(seen: u64, expected: u32) -> Result<(), String> {
    if seen == u64::from(expected) {
        Ok(())
    } else {
        Err(format!("streamed {seen} SKUs, expected {expected}"))
    }
}

/// The per-call costs both paths share or the facade adds, timed alone on
/// one thread: nanoseconds per operation.
/// Per piece: its name, nanoseconds per call and allocations per call.
pub fn micro(bench: &Bench, budget: Duration) -> Vec<(String, f64, u64)> {
    use std::hint::black_box;

    let order = &bench.inner.order;
    let body = bench.create_order_body();
    let body_text = String::from_utf8_lossy(&body).into_owned();
    let page = crate::upstream::inventory_page(MAIN_WAREHOUSE, 10_000, 1, 100);
    let mut results = Vec::new();
    let mut time = |name: String, f: &mut dyn FnMut()| {
        let (nanos, allocations) = nanos_per_op(budget, f);
        results.push((name, nanos, allocations));
    };
    time(
        format!("qlink_sign over the {}-byte createOrder body", body.len()),
        &mut || {
            black_box(qlink_sign(
                black_box(APP_KEY),
                black_box(&body_text),
                black_box(APP_SECRET),
            ));
        },
    );
    time(
        format!("clone of the {ORDER_ITEMS}-item CreateOrderRequest (baseline of the next)"),
        &mut || {
            black_box(black_box(order).clone());
        },
    );
    time(
        format!("NewOrder::try_from(CreateOrderRequest), {ORDER_ITEMS} items, clone included"),
        &mut || {
            let _ = black_box(qlink_facade::domain::NewOrder::try_from(
                black_box(order).clone(),
            ));
        },
    );
    if let Ok(new_order) = qlink_facade::domain::NewOrder::try_from(order.clone()) {
        time(
            format!(
                "createOrder content of the {ORDER_ITEMS}-item NewOrder encoded and signed, as the facade does it (one pass makes the text and its escaped copy)"
            ),
            &mut || {
                if let Ok(content) = qlink_facade::upstream::qlink::create_order_encoded(
                    black_box(WAREHOUSE_KEY),
                    black_box(&new_order),
                ) {
                    black_box(qlink_sign_content(APP_KEY, &content, APP_SECRET));
                }
            },
        );
        time(
            "the same the plain way, as the CreateOrderEncoding floor does: serde_json::to_string, then qlink_sign"
                .to_owned(),
            &mut || {
                if let Ok(content) = qlink_facade::upstream::qlink::create_order_content(
                    black_box(WAREHOUSE_KEY),
                    black_box(&new_order),
                ) {
                    black_box(qlink_sign(APP_KEY, &content, APP_SECRET));
                }
            },
        );
    }
    time(
        format!(
            "Envelope::parse of one 100-SKU inventory page ({} KiB JSON)",
            page.len() / 1024
        ),
        &mut || {
            let _ = black_box(qlink_facade::upstream::lenient::Envelope::parse(black_box(
                page.as_bytes(),
            )));
        },
    );
    let mut layers = call_layers();
    // No subscriber even under --telemetry, which installs a global one.
    tracing::dispatcher::with_default(&tracing::Dispatch::none(), || {
        time(
            "call layer + attempt layer around services that answer at once, no subscriber"
                .to_owned(),
            &mut || layers(),
        );
    });
    let telemetry = qlink_facade::telemetry::Telemetry::new(&Default::default());
    tracing::dispatcher::with_default(&telemetry.dispatch, || {
        time(
            "the same under the production subscriber without an exporter (info: two spans, no OpenTelemetry layer)"
                .to_owned(),
            &mut || layers(),
        );
    });
    results
}

/// One unary call's trip through the facade's own layers, with a caller's
/// `traceparent`: the gRPC call layer (span, trace context, request metrics)
/// around an attempt layer (span, `traceparent` injection, attempt metrics),
/// the inner services answering at once. Runs on the current thread.
fn call_layers() -> impl FnMut() {
    use qlink_facade::{
        metrics::Metrics,
        middleware::{CallKind, UpstreamCall, attempt::AttemptLayer, grpc::GrpcCallLayer},
        upstream::UpstreamErrorKind,
    };
    use tower::{Layer, ServiceExt, service_fn};

    let metrics = Metrics::shared();
    let attempt = AttemptLayer::new(metrics.clone()).layer(service_fn(|call: UpstreamCall| {
        std::future::ready(Ok::<_, UpstreamErrorKind>(Bytes::from(
            call.body.len().to_string(),
        )))
    }));
    let upstream_call = UpstreamCall {
        tenant: Arc::from(QLINK_TENANT),
        operation: "initWarehouses",
        attempt: 1,
        url: "http://127.0.0.1:9/initWarehouses"
            .parse()
            .expect("static URL"),
        headers: Default::default(),
        body: Bytes::from_static(b"{}"),
        kind: CallKind::Read,
    };
    let grpc = GrpcCallLayer::new(
        metrics,
        [QLINK_TENANT.to_owned()],
        qlink_facade::server::served_rpcs(),
    )
    .layer(service_fn(move |_: http::Request<()>| {
        let attempt = attempt.clone().oneshot(upstream_call.clone());
        async move {
            let _ = attempt.await;
            Ok::<_, std::convert::Infallible>(http::Response::new(()))
        }
    }));
    move || {
        let request = http::Request::builder()
            .uri("/qlink.v1.WarehouseService/ListWarehouses")
            .header("x-tenant-id", QLINK_TENANT)
            .header(
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            )
            .body(())
            .unwrap_or_default();
        let _ = std::hint::black_box(futures::executor::block_on(grpc.clone().oneshot(request)));
    }
}

/// Runs `f` in batches until `budget` has passed; nanoseconds per call.
/// Nanoseconds per call of `f`, and the heap allocations of one call.
fn nanos_per_op(budget: Duration, f: &mut dyn FnMut()) -> (f64, u64) {
    // Warm caches and the allocator first.
    for _ in 0..16 {
        f();
    }
    let ((), counts) = crate::alloc::count(&mut *f);
    let started = std::time::Instant::now();
    let mut runs = 0u64;
    while started.elapsed() < budget {
        for _ in 0..64 {
            f();
        }
        runs += 64;
    }
    (
        started.elapsed().as_nanos() as f64 / runs as f64,
        counts.all_allocations(),
    )
}
