//! The spec quirks, against a small loopback upstream that verifies
//! signatures the way the specs say and answers with canned bodies: the
//! documented shapes where the simulator uses the examples' ones, booleans
//! and numbers as strings, errors under either key, per-item rejections.

mod common;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, routing::post};
use common::*;
use qlink_facade::{
    config::Config,
    proto::{OrderStatus, SyncInventoryRequest, UpsertSkuRequest},
    upstream::sign::{qianyi_sign, qlink_sign},
};
use tonic::Code;
use tonic_types::StatusExt;

#[derive(Default)]
struct Canned {
    /// operation (or `syncInventory#page`) → answer body
    answers: HashMap<String, String>,
    /// (operation, body sent, signature valid)
    seen: Vec<(String, String, bool)>,
}

type Shared = Arc<Mutex<Canned>>;

async fn qlink_route(
    State(state): State<Shared>,
    axum::extract::Path(op): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> String {
    let body = String::from_utf8_lossy(&body).into_owned();
    let sign = headers
        .get("sign")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let valid = headers.get("appKey").and_then(|v| v.to_str().ok()) == Some("k")
        && sign == qlink_sign("k", &body, "s");
    answer(&state, op, body, valid)
}

async fn qianyi_route(State(state): State<Shared>, body: Bytes) -> String {
    let body = String::from_utf8_lossy(&body).into_owned();
    let envelope: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let content = envelope["content"].as_str().unwrap_or_default();
    let valid = envelope["accessId"] == "a"
        && envelope["sign"].as_str() == Some(&qianyi_sign("a", content, "s"));
    let op = envelope["method"].as_str().unwrap_or_default().to_owned();
    answer(&state, op, content.to_owned(), valid)
}

fn answer(state: &Shared, op: String, body: String, valid: bool) -> String {
    let mut canned = state.lock().expect("lock");
    let page = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["page"].as_u64());
    canned.seen.push((op.clone(), body, valid));
    if !valid {
        return r#"{"success":false,"errorMsg":"sign error"}"#.to_owned();
    }
    let key = match page {
        Some(page) if op == "syncInventory" => format!("{op}#{page}"),
        _ => op,
    };
    canned
        .answers
        .get(&key)
        .cloned()
        .unwrap_or_else(|| r#"{"success":false,"errorMsg":"no canned answer"}"#.to_owned())
}

async fn spawn_canned(answers: &[(&str, &str)]) -> (SocketAddr, Shared) {
    let state: Shared = Arc::new(Mutex::new(Canned {
        answers: answers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        seen: Vec::new(),
    }));
    let app = Router::new()
        .route("/global-api/v1/warehouse/{op}", post(qlink_route))
        .route("/qianyi", post(qianyi_route))
        .with_state(state.clone());
    (serve_router(app).await, state)
}

async fn facade_for(addr: SocketAddr) -> Facade {
    let toml = config_text::qlink_tenant("q", &format!("http://{addr}"), ["k", "s", "wk"], "")
        + &config_text::qianyi_tenant("y", &format!("http://{addr}/qianyi"), ["a", "s"], "");
    spawn_facade(Config::from_toml(&toml, &|_| None).expect("config")).await
}

#[tokio::test]
async fn documented_shapes_and_string_flags_are_read() {
    let (addr, state) = spawn_canned(&[
        (
            "initWarehouses",
            r#"{"errorMsg":null,"result":{"warehouseList":[{"warehouseCode":"W1","warehouseName":"一号仓"},{"warehouseCode":2,"warehouseName":"Two"}]},"success":"true","code":null}"#,
        ),
        (
            "warehouses",
            r#"{"success":"true","message":"","warehouseList":[{"warehouseCode":"CA1","warehouseName":"CA Warehouse"}]}"#,
        ),
        (
            "initChannels",
            r#"{"errorMsg":null,"result":{"channelList":[{"channelCode":"Service with the lowest price","channelName":"自动选取价格最低的渠道","carrierName":""}]},"success":true,"code":null}"#,
        ),
        (
            "getOrder",
            r#"{"success":"true","message":"","data":{"orderNumber":"S0000001","wmsStatus":"Shipped","status":"SUCCESS","carrierName":"FEDEX","trackingNumber":"TEST0001"}}"#,
        ),
    ])
    .await;
    let facade = facade_for(addr).await;

    let (q, y) = (facade.caller("q"), facade.caller("y"));
    let warehouses = q.list_warehouses().await.expect("qlink warehouses");
    assert_eq!(warehouses.len(), 2);
    assert_eq!(
        (warehouses[0].code.as_str(), warehouses[0].name.as_str()),
        ("W1", "一号仓")
    );
    assert_eq!(
        warehouses[1].code, "2",
        "a number where a string was promised"
    );

    let warehouses = y.list_warehouses().await.expect("qianyi warehouses");
    assert_eq!(warehouses[0].code, "CA1");

    let channels = q.list_channels("TU02").await.expect("channels");
    assert_eq!(channels[0].code, "Service with the lowest price");
    assert_eq!(
        channels[0].warehouse_code, "TU02",
        "filled in from the request"
    );

    let orders = y.get_orders("", &["S0000001"]).await;
    let orders = orders.expect("qianyi get order");
    assert_eq!(orders[0].status, OrderStatus::Success as i32);
    assert_eq!(orders[0].wms_status, "Shipped");
    assert_eq!(orders[0].tracking_number, "TEST0001");

    let seen = state.lock().expect("lock").seen.clone();
    assert!(seen.iter().all(|(_, _, valid)| *valid), "{seen:?}");
}

#[tokio::test]
async fn inventory_as_page_object_with_string_numbers_or_as_bare_array() {
    let item = |sku: &str| {
        format!(
            r#"{{"warehouseCode":"TU02","warehouseSku":"{sku}","onwayQuantity":"1","pendingQuantity":"0","sellableQuantity":"58","unsellableQuantity":"0","reservedQuantity":"0","useQuantity":"1","totalQuantity":"720"}}"#
        )
    };
    let page_object = |page: u32, last: bool, skus: &[&str]| {
        format!(
            r#"{{"errorMsg":null,"result":{{"isLastPage":{last},"currentPage":"{page}","pageCount":"2","data":[{}]}},"success":true}}"#,
            skus.iter().map(|s| item(s)).collect::<Vec<_>>().join(",")
        )
    };
    let qianyi_bare = |skus: &[&str]| {
        format!(
            r#"{{"success":"true","message":"","data":[{}]}}"#,
            skus.iter().map(|s| item(s)).collect::<Vec<_>>().join(",")
        )
    };
    let (addr, _state) = spawn_canned(&[]).await;
    {
        let mut canned = _state.lock().expect("lock");
        canned
            .answers
            .insert("syncInventory#1".into(), page_object(1, false, &["A", "B"]));
        canned
            .answers
            .insert("syncInventory#2".into(), page_object(2, true, &["C"]));
    }
    let facade = facade_for(addr).await;
    let pages = collect(&facade, "q", 2).await;
    assert_eq!(pages.len(), 2);
    assert_eq!(
        (pages[0].page, pages[0].page_count, pages[0].is_last_page),
        (1, 2, false)
    );
    assert!(pages[1].is_last_page);
    let first = &pages[0].items[0];
    assert_eq!(first.sku, "A");
    assert_eq!((first.sellable, first.total), (58, 720));
    assert_eq!((first.onway, first.used), (1, 1));

    // Bare arrays: a page shorter than page_size is the last.
    {
        let mut canned = _state.lock().expect("lock");
        canned
            .answers
            .insert("syncInventory#1".into(), qianyi_bare(&["A", "B"]));
        canned
            .answers
            .insert("syncInventory#2".into(), qianyi_bare(&["C"]));
    }
    let pages = collect(&facade, "y", 2).await;
    assert_eq!(pages.len(), 2);
    assert!(!pages[0].is_last_page && pages[1].is_last_page);
    assert_eq!(pages[1].items[0].sku, "C");
}

async fn collect(
    facade: &Facade,
    tenant: &str,
    page_size: i32,
) -> Vec<qlink_facade::proto::SyncInventoryResponse> {
    let query = SyncInventoryRequest {
        warehouse_code: "TU02".into(),
        page_size,
        ..Default::default()
    };
    facade.caller(tenant).inventory_pages(query).await
}

#[tokio::test]
async fn per_item_rejection_inside_a_transport_success_is_an_error() {
    let (addr, _state) = spawn_canned(&[
        (
            "insertSkuInfo",
            r#"{"errorMsg":null,"result":{"sku":"SKU1","operation":"CREATE","info":"sku【SKU1】已被使用;","success":false},"success":true,"code":null}"#,
        ),
        ("insert_sku_info", r#"{"success":"false","message":"SKU exists"}"#),
    ])
    .await;
    let facade = facade_for(addr).await;
    let sku = UpsertSkuRequest {
        sku: "SKU1".into(),
        erp_sku: "E1".into(),
        ..Default::default()
    };
    let status = facade.caller("q").upsert_sku(sku.clone()).await;
    let status = status.expect_err("rejected");
    assert_eq!(status.code(), Code::FailedPrecondition);
    let info = status.get_details_error_info().expect("error info");
    assert_eq!(info.metadata["warehouse_message"], "sku【SKU1】已被使用;");

    let status = facade.caller("y").upsert_sku(sku).await;
    let status = status.expect_err("rejected");
    assert_status(&status, Code::FailedPrecondition, &["SKU exists"]);
}

/// Answers as some .NET and Java gateways write them: a UTF-8 byte-order
/// mark before the JSON, under `Content-Type: text/plain`.
async fn spawn_bom_gateway() -> SocketAddr {
    use axum::http::{StatusCode, header::CONTENT_TYPE};

    fn text_plain(status: StatusCode, json: &str) -> axum::response::Response {
        use axum::response::IntoResponse;
        let body = format!("\u{feff}{json}");
        (status, [(CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
    }
    async fn qlink(
        axum::extract::Path(op): axum::extract::Path<String>,
    ) -> axum::response::Response {
        match op.as_str() {
            "initWarehouses" => text_plain(
                StatusCode::OK,
                r#"{"errorMsg":null,"result":{"warehouseInfoList":[{"warehouseCode":"TU01","warehouseName":"East"}]},"success":true,"code":null}"#,
            ),
            _ => text_plain(
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"success":false,"errorMsg":"down for maintenance"}"#,
            ),
        }
    }
    async fn qianyi() -> axum::response::Response {
        text_plain(
            StatusCode::OK,
            r#"{"success":"true","message":"","warehouseList":[{"warehouseCode":"CA1","warehouseName":"CA"}]}"#,
        )
    }
    serve_router(
        Router::new()
            .route("/global-api/v1/warehouse/{op}", post(qlink))
            .route("/qianyi", post(qianyi)),
    )
    .await
}

#[tokio::test]
async fn answers_with_a_byte_order_mark_under_text_plain_are_read() {
    let addr = spawn_bom_gateway().await;
    let answer = reqwest_answer(addr).await;
    assert!(answer.0.starts_with("text/plain"), "{answer:?}");
    assert!(answer.1.starts_with(b"\xEF\xBB\xBF{"), "{answer:?}");

    let facade = facade_for(addr).await;
    for (tenant, code) in [("q", "TU01"), ("y", "CA1")] {
        let warehouses = facade.caller(tenant).list_warehouses().await;
        let warehouses = warehouses.expect("warehouses despite the byte-order mark");
        assert_eq!(warehouses[0].code, code, "{tenant}");
    }
    let status = facade.caller("q").list_channels("").await;
    let status = status.expect_err("HTTP 503");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(
        status.message().contains("down for maintenance"),
        "the warehouse's words from an error body with a byte-order mark: {}",
        status.message()
    );
}

/// What the gateway answers a plain POST: its content type and body.
async fn reqwest_answer(addr: SocketAddr) -> (String, Vec<u8>) {
    qlink_facade::upstream::install_crypto_provider();
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/qianyi"))
        .send()
        .await
        .expect("gateway answers");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.bytes().await.expect("body").to_vec();
    (content_type, body)
}
