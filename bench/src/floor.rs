//! The floor: what a careful client calling the warehouse directly does for
//! each scenario, with reqwest built with the facade's settings. It signs
//! with the protocol crate's functions, sends the facade's headers and the
//! facade's very body bytes (checked by [`crate::scenarios::Bench::prepare`]),
//! and reads each answer into the least a careful client reads: `success`,
//! and for inventory every row's fields as text borrowed from the body.

use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream};
use qlink_facade::proto;
use reqwest::header::CONTENT_TYPE;
use serde::{Deserialize, Serialize};
use serde_json::{Value, value::RawValue};
use warehouse_protocol::{
    WAREHOUSE_TYPE_HEADER,
    qianyi::request_body,
    qlink::{APP_KEY_HEADER, PATH_PREFIX, SIGN_HEADER},
    sign::qlink_sign,
};

// The benchmark tenants' credentials, which the facade is configured with too.
pub(crate) const APP_KEY: &str = "bench-app-key";
pub(crate) const APP_SECRET: &str = "bench-app-secret";
pub(crate) const WAREHOUSE_TYPE: &str = "LINGXING";
pub(crate) const WAREHOUSE_KEY: &str = "afd1dd995b9e432c907d3f8237b3f69b";
pub(crate) const ACCESS_ID: &str = "3215435";
pub(crate) const SECRET_KEY: &str = "bench-secret-key";
pub(crate) const QIANYI_WAREHOUSE: &str = "CA1";
/// Upstream calls one Qianyi GetOrders batch runs at once, as the facade does.
const FAN_OUT: usize = 8;
/// The facade's per-call upstream timeout, and the floor client's.
pub(crate) const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

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

/// The direct client.
pub struct Floor {
    http: reqwest::Client,
    /// `http://…/global-api/v1/warehouse`
    qlink_endpoint: String,
    qianyi_endpoint: String,
    /// What the facade sent, recorded by `Bench::prepare`.
    pub bodies: Bodies,
}

/// The bodies the floor replays.
#[derive(Default)]
pub struct Bodies {
    pub list_warehouses: Bytes,
    pub create_order: Bytes,
    /// The page-1 `syncInventory` body split around the page number.
    pub inventory: (String, String),
}

impl Floor {
    pub fn new(qlink_base_url: &str, qianyi_endpoint: String) -> Result<Self, String> {
        Ok(Self {
            http: http_client().map_err(|err| format!("cannot build the HTTP client: {err}"))?,
            qlink_endpoint: format!("{qlink_base_url}{PATH_PREFIX}"),
            qianyi_endpoint,
            bodies: Bodies::default(),
        })
    }

    /// One signed qlink call: sign the exact bytes, POST them with the
    /// facade's headers, return the 2xx answer's bytes.
    async fn qlink(&self, operation: &str, body: Bytes) -> Result<Bytes, String> {
        let content = std::str::from_utf8(&body).map_err(|err| err.to_string())?;
        let sign = qlink_sign(APP_KEY, content, APP_SECRET);
        let response = self
            .http
            .post(format!("{}/{operation}", self.qlink_endpoint))
            .header(APP_KEY_HEADER, APP_KEY)
            .header(WAREHOUSE_TYPE_HEADER, WAREHOUSE_TYPE)
            .header(SIGN_HEADER, sign)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|err| format!("{operation}: {err}"))?;
        body_of(operation, response).await
    }

    /// A qlink call answered with `success: true`.
    async fn qlink_acknowledged(&self, operation: &str, body: Bytes) -> Result<(), String> {
        let bytes = self.qlink(operation, body).await?;
        answer_of::<Acknowledged>(operation, &bytes).map(drop)
    }

    pub async fn list_warehouses(&self) -> Result<(), String> {
        let body = self.bodies.list_warehouses.clone();
        self.qlink_acknowledged("initWarehouses", body).await
    }

    /// The facade's createOrder bytes, or, with `encode`, `order` encoded
    /// anew, as a client with an order to send must.
    pub async fn create_order(
        &self,
        order: Option<&proto::CreateOrderRequest>,
    ) -> Result<(), String> {
        let body = match order {
            Some(order) => Bytes::from(encode_order(order)?),
            None => self.bodies.create_order.clone(),
        };
        self.qlink_acknowledged("createOrder", body).await
    }

    /// Pages 1, 2, … until `isLastPage`; the SKUs seen.
    pub async fn sync_inventory(&self) -> Result<u64, String> {
        let mut skus = 0u64;
        for page in 1.. {
            let body = inventory_body(&self.bodies.inventory, page);
            let bytes = self.qlink("syncInventory", Bytes::from(body)).await?;
            let answer: InventoryAnswer<'_> = answer_of("syncInventory", &bytes)?;
            skus += answer.result.data.len() as u64;
            if answer.result.is_last_page {
                break;
            }
        }
        Ok(skus)
    }

    /// One Qianyi getOrder per order, [`FAN_OUT`] at a time, as the facade.
    pub async fn get_orders(&self, orders: &[proto::OrderRef]) -> Result<(), String> {
        // The futures are built up front, as the facade does: a closure in
        // the stream would not be `Send` for every lifetime.
        let calls: Vec<_> = orders
            .iter()
            .map(|order| self.get_order(&order.order_number))
            .collect();
        stream::iter(calls)
            .buffered(FAN_OUT)
            .try_collect::<Vec<()>>()
            .await
            .map(drop)
    }

    async fn get_order(&self, order_number: &str) -> Result<(), String> {
        let response = self
            .http
            .post(&self.qianyi_endpoint)
            .header(CONTENT_TYPE, "application/json")
            .body(qianyi_get_order_body(order_number)?)
            .send()
            .await
            .map_err(|err| format!("getOrder: {err}"))?;
        let bytes = body_of("getOrder", response).await?;
        answer_of::<Acknowledged>("getOrder", &bytes).map(drop)
    }
}

/// The floor's inventory body for `page`.
pub fn inventory_body(template: &(String, String), page: u32) -> String {
    format!("{}{page}{}", template.0, template.1)
}

/// The Qianyi getOrder body of one order, as the facade writes it.
pub fn qianyi_get_order_body(order_number: &str) -> Result<Vec<u8>, String> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Lookup<'a> {
        order_number: &'a str,
        warehouse_code: &'a str,
    }
    let content = serde_json::to_string(&Lookup {
        order_number,
        warehouse_code: QIANYI_WAREHOUSE,
    })
    .map_err(|err| err.to_string())?;
    Ok(request_body(ACCESS_ID, "getOrder", &content, SECRET_KEY))
}

/// The createOrder body of `order` as a direct client writes it from the
/// qlink table: the fields the benchmark's order fills, in the table's
/// order, money as JSON numbers with the exact text the caller gave.
pub fn encode_order(order: &proto::CreateOrderRequest) -> Result<String, String> {
    let money = |text| serde_json::from_str::<&RawValue>(text).map_err(|err| err.to_string());
    let to = order.receiver.as_ref().ok_or("the order has no receiver")?;
    let mut sku_list = Vec::with_capacity(order.items.len());
    for item in &order.items {
        sku_list.push(DirectLine {
            sku: &item.sku,
            erp_sku: &item.erp_sku,
            name: &item.name,
            quantity: item.quantity,
            amount: money(&item.amount)?,
            shipping_price: money(&item.shipping_price)?,
            hs_code: &item.hs_code,
            chinese_customs_declaration_name: &item.chinese_customs_declaration_name,
            english_customs_declaration_name: &item.english_customs_declaration_name,
        });
    }
    let body = DirectOrder {
        warehouse_key: WAREHOUSE_KEY,
        order_number: &order.order_number,
        online_order_id: &order.online_order_id,
        shop_name: &order.shop_name,
        warehouse_code: &order.warehouse_code,
        logistics_code: &order.logistics_code,
        platform: &order.platform,
        freight: money(&order.freight)?,
        package_type: "NORMAL",
        cod_enabled: 0,
        receiver: DirectReceiver {
            name: &to.name,
            phone: &to.phone,
            email: &to.email,
            country: &to.country,
            state: &to.state,
            city: &to.city,
            address1: &to.address1,
            address2: &to.address2,
            postal_code: &to.postal_code,
        },
        sku_list,
        total_price: money(&order.total_price)?,
        currency: &order.currency,
        is_insurance: 0,
        user_nick: &order.user_nick,
    };
    serde_json::to_string(&body).map_err(|err| err.to_string())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DirectOrder<'a> {
    warehouse_key: &'a str,
    order_number: &'a str,
    online_order_id: &'a str,
    shop_name: &'a str,
    warehouse_code: &'a str,
    logistics_code: &'a str,
    platform: &'a str,
    freight: &'a RawValue,
    package_type: &'a str,
    cod_enabled: u8,
    receiver: DirectReceiver<'a>,
    sku_list: Vec<DirectLine<'a>>,
    total_price: &'a RawValue,
    currency: &'a str,
    is_insurance: u8,
    user_nick: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DirectLine<'a> {
    sku: &'a str,
    erp_sku: &'a str,
    name: &'a str,
    quantity: i64,
    amount: &'a RawValue,
    shipping_price: &'a RawValue,
    hs_code: &'a str,
    chinese_customs_declaration_name: &'a str,
    english_customs_declaration_name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DirectReceiver<'a> {
    name: &'a str,
    phone: &'a str,
    email: &'a str,
    country: &'a str,
    state: &'a str,
    city: &'a str,
    address1: &'a str,
    address2: &'a str,
    postal_code: &'a str,
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
