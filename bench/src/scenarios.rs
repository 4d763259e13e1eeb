//! The scenarios, each two ways: the floor (a direct signed reqwest call to
//! the instant warehouse, with the very bytes the facade sends; see
//! [`crate::floor`]) and the same operation through the facade over gRPC
//! with the generated client.
//!
//! [`Bench::prepare`] drives each scenario once through the facade while the
//! warehouse records bodies, and checks that the floor's bodies are
//! byte-for-byte the facade's.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use bytes::Bytes;
use qlink_facade::proto::{
    self, inventory_service_client::InventoryServiceClient,
    order_service_client::OrderServiceClient, warehouse_service_client::WarehouseServiceClient,
};
use tonic::{Request, transport::Channel};

use crate::{
    floor::{
        self, ACCESS_ID, APP_KEY, APP_SECRET, Floor, QIANYI_WAREHOUSE, SECRET_KEY,
        UPSTREAM_TIMEOUT, WAREHOUSE_KEY, WAREHOUSE_TYPE, encode_order, inventory_body,
    },
    upstream::{MAIN_WAREHOUSE, Upstream},
};

pub const QLINK_TENANT: &str = "bench-qlink";
pub const QIANYI_TENANT: &str = "bench-qianyi";
/// Items of the realistic order.
pub const ORDER_ITEMS: usize = 20;

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

/// Whether the qlink tenant's CreateOrder goes through exactly-once writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writes {
    /// Straight to the warehouse, nothing kept: every call may send the same
    /// order, and the path measured is the warehouse call itself, as before
    /// exactly-once writes (the floor scenarios).
    Direct,
    /// The default: each number claimed and its outcome kept in the store.
    ExactlyOnce,
}

/// The Qianyi tenant's push webhook: `POST /sys/automatic/receiveOdo/BENCH`.
pub const PUSH_EXTRA_TYPE: &str = "BENCH";
pub const PUSH_ACCESS_ID: &str = "bench-push-access";
pub const PUSH_SECRET_KEY: &str = "bench-push-secret";

/// The facade's configuration: both tenants against the instant warehouse,
/// the Qianyi one receiving pushes. `max_in_flight` is raised so 64 callers
/// × 8-way fan-out are never shed.
pub fn facade_config(upstream: &Upstream, writes: Writes) -> String {
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
exactly_once_writes = {exactly_once}

[[tenant]]
id = "{QIANYI_TENANT}"
protocol = "qianyi"
base_url = "{qianyi}"
access_id = "{ACCESS_ID}"
secret_key = "{SECRET_KEY}"
timeout_ms = {timeout}
max_in_flight = 4096
push = {{ extra_type = "{PUSH_EXTRA_TYPE}", access_id = "{PUSH_ACCESS_ID}", secret_key = "{PUSH_SECRET_KEY}" }}
"#,
        qlink = upstream.qlink_base_url(),
        qianyi = upstream.qianyi_endpoint(),
        timeout = UPSTREAM_TIMEOUT.as_millis(),
        exactly_once = writes == Writes::ExactlyOnce,
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
    floor: Floor,
    order: proto::CreateOrderRequest,
    order_refs: Vec<proto::OrderRef>,
}

pub fn request<T>(tenant: &'static str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "x-tenant-id",
        tonic::metadata::MetadataValue::from_static(tenant),
    );
    request
}

pub fn status_text(status: tonic::Status) -> String {
    format!("{:?}: {}", status.code(), status.message())
}

/// CreateOrder of `order` as the qlink tenant, which must answer with the
/// warehouse's order number.
pub async fn create_order(
    channel: &Channel,
    order: proto::CreateOrderRequest,
) -> Result<(), String> {
    let answer = OrderServiceClient::new(channel.clone())
        .create_order(request(QLINK_TENANT, order))
        .await
        .map_err(status_text)?
        .into_inner();
    if answer.warehouse_order_number.is_empty() {
        return Err(format!("no warehouse order number in {answer:?}"));
    }
    Ok(())
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
            floor: Floor::new(&upstream.qlink_base_url(), upstream.qianyi_endpoint())?,
            order: realistic_order(),
            order_refs,
        };

        upstream.start_capture();
        inner.facade_list_warehouses().await?;
        inner.floor.bodies.list_warehouses = only_body(upstream.take_captured(), "initWarehouses")?;

        upstream.start_capture();
        inner.facade_create_order().await?;
        inner.floor.bodies.create_order = only_body(upstream.take_captured(), "createOrder")?;
        let encoded = encode_order(&inner.order)?;
        if encoded.as_bytes() != inner.floor.bodies.create_order.as_ref() {
            return Err(format!(
                "the floor encodes the order as {encoded:?}, the facade sent {:?}",
                String::from_utf8_lossy(&inner.floor.bodies.create_order)
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
        inner.floor.bodies.inventory = (format!("{prefix}\"page\":"), format!(",{suffix}"));
        if pages.len() != sizes.inventory_pages() as usize {
            return Err(format!(
                "the facade asked for {} inventory pages, expected {}",
                pages.len(),
                sizes.inventory_pages()
            ));
        }
        for (index, (operation, body)) in pages.iter().enumerate() {
            let ours = inventory_body(&inner.floor.bodies.inventory, index as u32 + 1);
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
            .map(|order| floor::qianyi_get_order_body(&order.order_number).map(Bytes::from))
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
        let floor = &inner.floor;
        match (scenario, path) {
            (Scenario::ListWarehouses, Path::Floor) => floor.list_warehouses().await,
            (Scenario::ListWarehouses, Path::Facade) => inner.facade_list_warehouses().await,
            (Scenario::CreateOrder, Path::Floor) => floor.create_order(None).await,
            (Scenario::CreateOrderEncoding, Path::Floor) => {
                floor.create_order(Some(&inner.order)).await
            }
            (Scenario::CreateOrder | Scenario::CreateOrderEncoding, Path::Facade) => {
                inner.facade_create_order().await
            }
            (Scenario::SyncInventory, Path::Floor) => {
                let skus = floor.sync_inventory().await?;
                expect_skus(skus, inner.sizes.inventory_skus)
            }
            (Scenario::SyncInventory, Path::Facade) => inner.facade_sync_inventory().await,
            (Scenario::GetOrders, Path::Floor) => floor.get_orders(&inner.order_refs).await,
            (Scenario::GetOrders, Path::Facade) => inner.facade_get_orders().await,
        }
    }

    /// The order the CreateOrder scenarios send.
    pub fn order(&self) -> &proto::CreateOrderRequest {
        &self.inner.order
    }

    /// The createOrder body the facade sends for [`realistic_order`].
    pub fn create_order_body(&self) -> Bytes {
        self.inner.floor.bodies.create_order.clone()
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
    /// The next connection to the facade, round robin.
    fn channel(&self) -> Channel {
        let turn = self.next_channel.fetch_add(1, Ordering::Relaxed);
        self.channels[turn % self.channels.len()].clone()
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
        create_order(&self.channel(), self.order.clone()).await
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

fn expect_skus(seen: u64, expected: u32) -> Result<(), String> {
    if seen == u64::from(expected) {
        Ok(())
    } else {
        Err(format!("streamed {seen} SKUs, expected {expected}"))
    }
}
