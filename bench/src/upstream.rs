//! The instant warehouse: a loopback axum server answering canned, valid
//! JSON for the operations the benchmark drives, so that what is measured
//! is the caller's side. It never verifies signatures and never parses a
//! body beyond the page number it must echo: it is the floor.
//!
//! It can record the bodies it receives, so the benchmark proves that its
//! direct calls send the very bytes the facade sends.

use std::{
    io,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering},
    },
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{StatusCode, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
    routing::post,
    serve::ListenerExt,
};
use tokio::net::TcpListener;

/// The qlink warehouse whose inventory pages are rendered once, up front.
pub const MAIN_WAREHOUSE: &str = "TU01";
/// Any other warehouse code gets pages rendered per request, sized by
/// [`Upstream::set_generated_skus`]: its memory stays out of the picture.
pub const GENERATED_WAREHOUSE: &str = "GEN1";
/// The Qianyi endpoint's path.
pub const QIANYI_PATH: &str = "/qianyi";

const WAREHOUSES: &str = r#"{"errorMsg":null,"result":{"warehouseInfoList":[{"warehouseCode":"TU01","warehouseName":"US East"},{"warehouseCode":"TU02","warehouseName":"US West"},{"warehouseCode":"TU03","warehouseName":"US Central"}]},"success":true,"code":null}"#;
const ORDER_CREATED: &str = r#"{"errorMsg":null,"result":{"warehouseOrderNumber":"WO-20250101-000001","orderNumber":"","info":"","success":true},"success":true,"code":null}"#;
const QIANYI_ORDER: &str = r#"{"success":"true","message":"","data":{"wmsStatus":"SHIPPED","status":"SUCCESS","carrierName":"UPS","trackingNumber":"1Z999AA10123456784","failedReason":""}}"#;
const UNKNOWN: &str = r#"{"success":false,"errorMsg":"the benchmark warehouse does not serve this operation","code":"404"}"#;

/// What the warehouse serves.
#[derive(Debug, Clone, Copy)]
pub struct UpstreamConfig {
    /// SKUs of [`MAIN_WAREHOUSE`].
    pub inventory_skus: u32,
    /// The page size its pages are rendered for; other sizes are rendered
    /// per request.
    pub page_size: u32,
}

struct Warehouse {
    config: UpstreamConfig,
    /// [`MAIN_WAREHOUSE`]'s pages, page 1 first.
    pages: Vec<Bytes>,
    generated_skus: AtomicU32,
    /// Every `createOrder` received: the exactly-once scenarios check which
    /// calls reached the warehouse and which were answered from the store.
    create_orders: AtomicU64,
    capturing: AtomicBool,
    /// (operation or method, body) while capturing.
    captured: Mutex<Vec<(String, Bytes)>>,
}

impl Warehouse {
    fn capture(&self, operation: &str, body: &Bytes) {
        if self.capturing.load(Ordering::Relaxed)
            && let Ok(mut captured) = self.captured.lock()
        {
            captured.push((operation.to_owned(), body.clone()));
        }
    }

    fn inventory(&self, body: &[u8]) -> Bytes {
        let page = number_after(body, b"\"page\":").unwrap_or(1).max(1) as u32;
        let page_size = number_after(body, b"\"pageSize\":").unwrap_or(100).max(1) as u32;
        let warehouse = string_after(body, b"\"warehouseCode\":\"").unwrap_or_default();
        if warehouse == MAIN_WAREHOUSE.as_bytes()
            && page_size == self.config.page_size
            && let Some(rendered) = self.pages.get(page as usize - 1)
        {
            return rendered.clone();
        }
        let total = if warehouse == MAIN_WAREHOUSE.as_bytes() {
            self.config.inventory_skus
        } else {
            self.generated_skus.load(Ordering::Relaxed)
        };
        Bytes::from(inventory_page(
            &String::from_utf8_lossy(warehouse),
            total,
            page,
            page_size,
        ))
    }
}

/// A running warehouse on loopback.
#[derive(Clone)]
pub struct Upstream {
    pub addr: SocketAddr,
    warehouse: Arc<Warehouse>,
}

impl Upstream {
    /// Binds 127.0.0.1:0 and serves on the current runtime.
    pub async fn spawn(config: UpstreamConfig) -> io::Result<Self> {
        let page_count = config.inventory_skus.div_ceil(config.page_size).max(1);
        let pages = (1..=page_count)
            .map(|page| {
                Bytes::from(inventory_page(
                    MAIN_WAREHOUSE,
                    config.inventory_skus,
                    page,
                    config.page_size,
                ))
            })
            .collect();
        let warehouse = Arc::new(Warehouse {
            config,
            pages,
            generated_skus: AtomicU32::new(0),
            create_orders: AtomicU64::new(0),
            capturing: AtomicBool::new(false),
            captured: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/global-api/v1/warehouse/{operation}", post(qlink))
            .route(QIANYI_PATH, post(qianyi))
            .with_state(warehouse.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let listener = listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                eprintln!("benchmark warehouse stopped: {err}");
            }
        });
        Ok(Self { addr, warehouse })
    }

    /// The facade's qlink `base_url`.
    pub fn qlink_base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The facade's Qianyi endpoint.
    pub fn qianyi_endpoint(&self) -> String {
        format!("http://{}{QIANYI_PATH}", self.addr)
    }

    /// How many SKUs [`GENERATED_WAREHOUSE`] reports from now on.
    pub fn set_generated_skus(&self, skus: u32) {
        self.warehouse.generated_skus.store(skus, Ordering::Relaxed);
    }

    /// How many `createOrder` requests the warehouse has received.
    pub fn create_orders_received(&self) -> u64 {
        self.warehouse.create_orders.load(Ordering::Relaxed)
    }

    /// Records every body from now on, until [`Self::take_captured`].
    pub fn start_capture(&self) {
        if let Ok(mut captured) = self.warehouse.captured.lock() {
            captured.clear();
        }
        self.warehouse.capturing.store(true, Ordering::Relaxed);
    }

    /// Stops recording; the (operation, body) pairs recorded, in arrival order.
    pub fn take_captured(&self) -> Vec<(String, Bytes)> {
        self.warehouse.capturing.store(false, Ordering::Relaxed);
        self.warehouse
            .captured
            .lock()
            .map(|mut captured| std::mem::take(&mut *captured))
            .unwrap_or_default()
    }
}

async fn qlink(
    State(warehouse): State<Arc<Warehouse>>,
    Path(operation): Path<String>,
    body: Bytes,
) -> Response {
    warehouse.capture(&operation, &body);
    let answer = match operation.as_str() {
        "initWarehouses" => Bytes::from_static(WAREHOUSES.as_bytes()),
        "createOrder" => {
            warehouse.create_orders.fetch_add(1, Ordering::Relaxed);
            Bytes::from_static(ORDER_CREATED.as_bytes())
        }
        "syncInventory" => warehouse.inventory(&body),
        _ => {
            return json(
                StatusCode::NOT_FOUND,
                Bytes::from_static(UNKNOWN.as_bytes()),
            );
        }
    };
    json(StatusCode::OK, answer)
}

async fn qianyi(State(warehouse): State<Arc<Warehouse>>, body: Bytes) -> Response {
    let method = string_after(&body, b"\"method\":\"").unwrap_or_default();
    let method = String::from_utf8_lossy(method).into_owned();
    warehouse.capture(&method, &body);
    match method.as_str() {
        "getOrder" => json(StatusCode::OK, Bytes::from_static(QIANYI_ORDER.as_bytes())),
        _ => json(
            StatusCode::NOT_FOUND,
            Bytes::from_static(UNKNOWN.as_bytes()),
        ),
    }
}

fn json(status: StatusCode, body: Bytes) -> Response {
    (status, [(CONTENT_TYPE, "application/json")], body).into_response()
}

/// The unsigned integer right after `key` (e.g. `"page":`).
fn number_after(body: &[u8], key: &[u8]) -> Option<u64> {
    let start = find(body, key)? + key.len();
    let digits = body[start..]
        .iter()
        .skip_while(|byte| byte.is_ascii_whitespace())
        .take_while(|byte| byte.is_ascii_digit())
        .try_fold(0u64, |acc, digit| {
            acc.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
        })?;
    Some(digits)
}

/// The string right after `key` (which ends with the opening quote), up to
/// the next quote; escapes are not expected in the values looked up.
fn string_after<'b>(body: &'b [u8], key: &[u8]) -> Option<&'b [u8]> {
    let start = find(body, key)? + key.len();
    let len = body[start..].iter().position(|byte| *byte == b'"')?;
    Some(&body[start..start + len])
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// One qlink `syncInventory` answer: a page object with `isLastPage`, the
/// shape the simulator and the spec's table use. Quantities are strings,
/// as real warehouses send them.
pub fn inventory_page(warehouse: &str, total_skus: u32, page: u32, page_size: u32) -> String {
    use std::fmt::Write as _;
    let page_count = total_skus.div_ceil(page_size);
    let first = (page.saturating_sub(1)).saturating_mul(page_size);
    let last = first.saturating_add(page_size).min(total_skus);
    let mut out = String::with_capacity(256 * page_size as usize + 128);
    let _ = write!(
        out,
        r#"{{"errorMsg":null,"result":{{"isLastPage":{},"currentPage":{page},"pageCount":{page_count},"data":["#,
        page >= page_count
    );
    for index in first..last {
        if index > first {
            out.push(',');
        }
        let sellable = index % 97;
        let reserved = index % 5;
        let _ = write!(
            out,
            r#"{{"warehouseCode":"{warehouse}","warehouseSku":"SKU-{index:06}","onwayQuantity":"{}","pendingQuantity":"{}","sellableQuantity":"{sellable}","unsellableQuantity":"0","reservedQuantity":"{reserved}","useQuantity":"{reserved}","totalQuantity":"{}"}}"#,
            index % 13,
            index % 3,
            sellable + reserved,
        );
    }
    out.push_str(r#"]},"success":true,"code":null}"#);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_valid_json_and_the_last_one_says_so() {
        let first: serde_json::Value =
            serde_json::from_str(&inventory_page("TU01", 250, 1, 100)).expect("json");
        assert_eq!(first["result"]["data"].as_array().map(Vec::len), Some(100));
        assert_eq!(first["result"]["isLastPage"], false);
        assert_eq!(first["result"]["data"][0]["warehouseSku"], "SKU-000000");
        let last: serde_json::Value =
            serde_json::from_str(&inventory_page("TU01", 250, 3, 100)).expect("json");
        assert_eq!(last["result"]["data"].as_array().map(Vec::len), Some(50));
        assert_eq!(last["result"]["isLastPage"], true);
    }

    #[test]
    fn canned_answers_are_valid_json() {
        for text in [WAREHOUSES, ORDER_CREATED, QIANYI_ORDER, UNKNOWN] {
            serde_json::from_str::<serde_json::Value>(text).expect(text);
        }
    }

    #[test]
    fn the_page_number_and_warehouse_are_read_from_the_body() {
        let body = br#"{"warehouseKey":"wk","pageSize":100,"page":37,"warehouseCode":"TU01"}"#;
        assert_eq!(number_after(body, b"\"page\":"), Some(37));
        assert_eq!(number_after(body, b"\"pageSize\":"), Some(100));
        assert_eq!(
            string_after(body, b"\"warehouseCode\":\""),
            Some(&b"TU01"[..])
        );
        assert_eq!(number_after(body, b"\"missing\":"), None);
    }
}
