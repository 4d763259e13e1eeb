//! The built-in warehouse simulator: a fake warehouse gateway speaking both
//! protocols over real HTTP, exactly as the specs describe (quirks of their
//! examples included), for the facade's demo mode, its integration tests and
//! other teams running it standalone.
//!
//! It owns its own memory (`state.rs`), the two wire dialects (`qlink.rs`,
//! `qianyi.rs`) and injected faults (`faults.rs`). It shares only the signing
//! and tolerant-JSON helpers with the protocol clients, and knows nothing of
//! gRPC or of the facade.
//!
//! Routes on one listener:
//! - `POST /global-api/v1/warehouse/{op}`: qlink.
//! - `POST /qianyi` and `POST /`: Qianyi (one endpoint, `method` in the body).
//! - `/_simulator/…`: the control API, for tests in other processes:
//!   - `POST /_simulator/faults` with one fault or an array, flat JSON:
//!     `{"kind":"http_status"|"delay"|"malformed_json"|"bad_signature"|"reject",
//!     "status":503, "delay_ms":500, "message":"…", "operation":"createOrder",
//!     "warehouse_code":"TU01", "times":1}` (only `kind` and what it needs
//!     are required); `GET` lists the active rules, `DELETE` clears them.
//!   - `GET /_simulator/requests`: every recorded request, bodies included;
//!     `DELETE` forgets them.
//!   - `POST /_simulator/inventory_style` with
//!     `{"style":"bare_array"|"page_object"}`.
//!
//! The qlink accounts share one world (warehouses TU01–TU03) and the Qianyi
//! accounts another (CA1, CA2). Order and ASN lifecycles advance lazily,
//! from timestamps, whenever a request reads or writes the world.

mod faults;
mod qianyi;
mod qlink;
mod serve;
mod state;

#[cfg(test)]
mod tests;

use std::{
    collections::{BTreeMap, VecDeque},
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use faults::FaultRules;
pub use faults::{Fault, FaultKind};
use state::{Flavor, World};
/// Which protocol a request spoke.
pub use warehouse_protocol::Protocol;
use warehouse_protocol::tolerant::{int_of, string_of};

/// How many requests are remembered; the oldest are forgotten first, so a
/// long-running standalone simulator does not grow without bound.
const MAX_RECORDED_REQUESTS: usize = 10_000;

/// Bodies up to this size are accepted (labels are base64 PDFs).
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// How long `shutdown` waits for requests in flight (e.g. delayed by a fault).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A qlink account the simulator accepts.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QlinkAccount {
    /// The `appKey` header.
    pub app_key: String,
    /// The secret signatures are verified with.
    pub app_secret: String,
    /// The `warehouseKey` every body must carry (as a string or in an array).
    pub warehouse_key: String,
}

/// A Qianyi account the simulator accepts.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QianyiAccount {
    /// The `accessId` of the body.
    pub access_id: String,
    /// The secret signatures are verified with.
    pub secret_key: String,
}

// Secrets stay out of Debug output, here as in the facade.
impl std::fmt::Debug for QlinkAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QlinkAccount")
            .field("app_key", &self.app_key)
            .field("app_secret", &"[REDACTED]")
            .field("warehouse_key", &self.warehouse_key)
            .finish()
    }
}

impl std::fmt::Debug for QianyiAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QianyiAccount")
            .field("access_id", &self.access_id)
            .field("secret_key", &"[REDACTED]")
            .finish()
    }
}

/// The accounts of a standalone simulator, from a TOML file:
/// `[[qlink]] app_key, app_secret, warehouse_key` and
/// `[[qianyi]] access_id, secret_key`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsFile {
    #[serde(default)]
    pub qlink: Vec<QlinkAccount>,
    #[serde(default)]
    pub qianyi: Vec<QianyiAccount>,
}

/// What the simulator accepts and how fast its warehouses work.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// Accepted qlink accounts; all share the qlink world.
    pub qlink_accounts: Vec<QlinkAccount>,
    /// Accepted Qianyi accounts; all share the Qianyi world.
    pub qianyi_accounts: Vec<QianyiAccount>,
    /// An order goes SENDING → SUCCESS this long after it was created.
    pub ship_after: Duration,
    /// An ASN goes NEW → RECEIVING after this, → FINISHED after twice this.
    pub receive_after: Duration,
    /// Generated SKUs (`SIM-SKU-00001`…) in each warehouse's stock, besides
    /// the SKUs of the specs' examples.
    pub inventory_skus: usize,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            qlink_accounts: vec![QlinkAccount {
                app_key: "demo-app-key".to_owned(),
                app_secret: "demo-app-secret".to_owned(),
                warehouse_key: "demo-warehouse-key".to_owned(),
            }],
            qianyi_accounts: vec![QianyiAccount {
                access_id: "demo-access-id".to_owned(),
                secret_key: "demo-secret-key".to_owned(),
            }],
            ship_after: Duration::from_secs(2),
            receive_after: Duration::from_secs(3),
            inventory_skus: 250,
        }
    }
}

/// The shape of the qlink `syncInventory` answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InventoryStyle {
    /// `result` is a bare array of items, as the spec's example shows; the
    /// last page is the one with fewer than `pageSize` items.
    #[default]
    BareArray,
    /// `result` is `{isLastPage, currentPage, pageCount, data}`, as the
    /// spec's table documents.
    PageObject,
}

/// One request the simulator received (accepted or not).
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub protocol: Protocol,
    /// The qlink path operation, or the Qianyi `method` (trimmed).
    pub operation: String,
    /// Header names are lowercase, as HTTP/1 servers see them.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: String,
    /// Qianyi: the `content` string; qlink: the body.
    pub content: String,
    /// The credentials were known and the signature matched.
    pub signature_valid: bool,
    pub at: Instant,
}

impl RecordedRequest {
    /// A request as it arrived, for `operation` (trimmed), not yet known to
    /// be signed; its content is the body until the protocol says otherwise.
    fn new(protocol: Protocol, operation: &str, headers: &HeaderMap, body: &[u8]) -> Self {
        let body = String::from_utf8_lossy(body).into_owned();
        Self {
            protocol,
            operation: operation.trim().to_owned(),
            headers: header_pairs(headers),
            content: body.clone(),
            body,
            signature_valid: false,
            at: Instant::now(),
        }
    }

    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The business JSON (qlink body, Qianyi content), `Null` when not JSON.
    pub fn content_json(&self) -> Value {
        serde_json::from_str(self.content.trim()).unwrap_or(Value::Null)
    }
}

/// A running simulator. Dropping it stops the server too; `shutdown` also
/// waits for it.
#[derive(Debug)]
pub struct SimulatorHandle {
    addr: SocketAddr,
    /// `http` or `https`.
    scheme: &'static str,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SimulatorHandle {
    /// Binds `listen` (port 0 picks a free port) and serves in a tokio task.
    pub async fn spawn(
        config: SimulatorConfig,
        listen: SocketAddr,
    ) -> std::io::Result<SimulatorHandle> {
        Self::spawn_serving(config, listen, None).await
    }

    /// As [`Self::spawn`], over HTTPS with `cert_pem` (chain, leaf first)
    /// and `key_pem`: a warehouse behind a private CA.
    pub async fn spawn_tls(
        config: SimulatorConfig,
        listen: SocketAddr,
        cert_pem: &[u8],
        key_pem: &[u8],
    ) -> std::io::Result<SimulatorHandle> {
        let acceptor = serve::acceptor(cert_pem, key_pem)?;
        Self::spawn_serving(config, listen, Some(acceptor)).await
    }

    async fn spawn_serving(
        config: SimulatorConfig,
        listen: SocketAddr,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> std::io::Result<SimulatorHandle> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let app = router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let scheme = if tls.is_some() { "https" } else { "http" };
        // A dropped handle stops the server as well.
        let task = tokio::spawn(serve::serve(listener, app, tls, async {
            let _ = stopped.await;
        }));
        tracing::debug!(%addr, "warehouse simulator listening");
        Ok(SimulatorHandle {
            addr,
            scheme,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` (`https://` over TLS); qlink clients append
    /// `/global-api/v1/warehouse/{op}`.
    pub fn qlink_base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// `http://ADDR/qianyi` (`https://` over TLS), the single Qianyi endpoint.
    pub fn qianyi_endpoint(&self) -> String {
        format!("{}://{}/qianyi", self.scheme, self.addr)
    }

    /// Every request received, oldest first (rejected ones included).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).iter().cloned().collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// Adds a fault rule after the existing ones.
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared.faults).add(fault);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// The active fault rules.
    pub fn faults(&self) -> Vec<Fault> {
        lock(&self.shared.faults).list()
    }

    /// Chooses the shape of qlink `syncInventory` answers.
    pub fn set_inventory_style(&self, style: InventoryStyle) {
        *lock(&self.shared.inventory_style) = style;
    }

    /// Stops serving and waits (briefly) for requests in flight.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(SHUTDOWN_GRACE, task).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for SimulatorHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Everything the handlers share.
#[derive(Debug)]
struct Shared {
    config: SimulatorConfig,
    started: Instant,
    requests: Mutex<VecDeque<RecordedRequest>>,
    faults: Mutex<FaultRules>,
    inventory_style: Mutex<InventoryStyle>,
    qlink: Mutex<World>,
    qianyi: Mutex<World>,
}

impl Shared {
    fn new(config: SimulatorConfig) -> Self {
        let world = |flavor| {
            Mutex::new(World::new(
                flavor,
                config.ship_after,
                config.receive_after,
                config.inventory_skus,
            ))
        };
        Self {
            qlink: world(Flavor::Qlink),
            qianyi: world(Flavor::Qianyi),
            config,
            started: Instant::now(),
            requests: Mutex::new(VecDeque::new()),
            faults: Mutex::new(FaultRules::default()),
            inventory_style: Mutex::new(InventoryStyle::default()),
        }
    }

    /// Records a request, then fires the fault rule that matches it, if any.
    async fn receive(
        &self,
        request: RecordedRequest,
        business: Option<&Value>,
    ) -> Option<Intercept> {
        let operation = request.operation.clone();
        self.record(request);
        self.fault(&operation, warehouse_code_of(business).as_deref())
            .await
    }

    fn record(&self, request: RecordedRequest) {
        tracing::debug!(
            protocol = request.protocol.name(),
            operation = %request.operation,
            signature_valid = request.signature_valid,
            "simulator received a request"
        );
        let mut requests = lock(&self.requests);
        if requests.len() >= MAX_RECORDED_REQUESTS {
            requests.pop_front();
        }
        requests.push_back(request);
    }

    /// Fires the matching fault, if any: sleeps for a delay, answers for an
    /// HTTP status or garbage, and tells the protocol to answer a bad
    /// signature or a rejection.
    async fn fault(&self, operation: &str, warehouse_code: Option<&str>) -> Option<Intercept> {
        let kind = lock(&self.faults).fire(operation, warehouse_code)?;
        tracing::debug!(operation, fault = ?kind, "simulator fault fired");
        match kind {
            FaultKind::Delay(delay) => {
                tokio::time::sleep(delay).await;
                None
            }
            FaultKind::HttpStatus(status) => Some(Intercept::Respond(outage(status))),
            FaultKind::MalformedJson => Some(Intercept::Respond(
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "text/html")],
                    "<html>oops",
                )
                    .into_response(),
            )),
            FaultKind::BadSignature => Some(Intercept::BadSignature),
            FaultKind::Reject(message) => Some(Intercept::Reject(message)),
        }
    }
}

/// What a fired fault asks of the protocol handler.
enum Intercept {
    /// Send this answer as it is.
    Respond(Response),
    /// Answer as if the signature were wrong.
    BadSignature,
    /// Answer the protocol's business rejection with these words.
    Reject(String),
}

fn outage(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut response = json_response(
        status,
        &json!({"success": false, "errorMsg": "simulated outage"}),
    );
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            &format!("{}/{{op}}", warehouse_protocol::qlink::PATH_PREFIX),
            post(qlink::handle),
        )
        .route("/qianyi", post(qianyi::handle))
        .route("/", post(qianyi::handle))
        .route(
            "/_simulator/faults",
            post(add_faults).delete(clear_faults).get(list_faults),
        )
        .route(
            "/_simulator/requests",
            axum::routing::get(list_requests).delete(clear_requests),
        )
        .route("/_simulator/inventory_style", post(set_inventory_style))
        .fallback(|| async {
            json_response(
                StatusCode::NOT_FOUND,
                &json!({
                    "success": false,
                    "errorMsg": "no such endpoint: qlink is POST /global-api/v1/warehouse/{op}, Qianyi is POST /qianyi",
                }),
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
}

/// `POST /_simulator/faults`: one fault object or an array of them.
async fn add_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let parsed: Result<Vec<Fault>, serde_json::Error> = match serde_json::from_slice::<Value>(&body)
    {
        Ok(Value::Array(items)) => items.into_iter().map(serde_json::from_value).collect(),
        Ok(one) => serde_json::from_value(one).map(|fault| vec![fault]),
        Err(err) => Err(err),
    };
    match parsed {
        Ok(added) => {
            let mut rules = lock(&shared.faults);
            for fault in added {
                rules.add(fault);
            }
            json_response(
                StatusCode::OK,
                &json!({"success": true, "faults": rules.list()}),
            )
        }
        Err(err) => control_error(&format!("invalid fault: {err}")),
    }
}

async fn list_faults(State(shared): State<Arc<Shared>>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"success": true, "faults": lock(&shared.faults).list()}),
    )
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    lock(&shared.faults).clear();
    json_response(StatusCode::OK, &json!({"success": true}))
}

/// `GET /_simulator/requests`: every recorded request, bodies included;
/// `at_ms` counts from the simulator's start.
async fn list_requests(State(shared): State<Arc<Shared>>) -> Response {
    let requests: Vec<Value> = lock(&shared.requests)
        .iter()
        .map(|request| {
            let headers: BTreeMap<&str, &str> = request
                .headers
                .iter()
                .map(|(key, value)| (key.as_str(), value.as_str()))
                .collect();
            json!({
                "protocol": request.protocol.name(),
                "operation": request.operation,
                "headers": headers,
                "body": request.body,
                "content": request.content,
                "signature_valid": request.signature_valid,
                "at_ms": request.at.saturating_duration_since(shared.started).as_millis() as u64,
            })
        })
        .collect();
    json_response(StatusCode::OK, &Value::Array(requests))
}

async fn clear_requests(State(shared): State<Arc<Shared>>) -> Response {
    lock(&shared.requests).clear();
    json_response(StatusCode::OK, &json!({"success": true}))
}

/// `POST /_simulator/inventory_style`: `{"style":"bare_array"|"page_object"}`.
async fn set_inventory_style(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    #[derive(Deserialize)]
    struct Body {
        style: InventoryStyle,
    }
    match serde_json::from_slice::<Body>(&body) {
        Ok(Body { style }) => {
            *lock(&shared.inventory_style) = style;
            json_response(StatusCode::OK, &json!({"success": true, "style": style}))
        }
        Err(err) => control_error(&format!(
            "invalid inventory style (expected {{\"style\":\"bare_array\"|\"page_object\"}}): {err}"
        )),
    }
}

fn control_error(message: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"success": false, "errorMsg": message}),
    )
}

/// A JSON answer with exactly these bytes.
fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        bytes,
    )
        .into_response()
}

/// The request's headers as (lowercase name, lossy text) pairs.
fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// A header's text, trimmed ("" when absent).
fn header_text(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).trim().to_owned())
        .unwrap_or_default()
}

/// Parses business JSON tolerantly: object keys are trimmed (a spec example
/// sends `"pageSize "`), and empty text is an empty object.
fn parse_business(text: &str) -> Result<Value, serde_json::Error> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_str::<Value>(text.trim()).map(trim_keys)
}

fn trim_keys(value: Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(key, value)| (key.trim().to_owned(), trim_keys(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(trim_keys).collect()),
        other => other,
    }
}

/// The business JSON's `warehouseCode`, for fault matching.
fn warehouse_code_of(business: Option<&Value>) -> Option<String> {
    business
        .map(|value| state::text(value, "warehouseCode"))
        .filter(|code| !code.is_empty())
}

/// Items of a list field given as strings or as objects carrying `key`
/// (qlink sends `[{"asnNumber":…}]`, Qianyi `["…"]`; both are accepted).
fn numbers_of(value: &Value, list: &str, key: &str) -> Option<Vec<String>> {
    let items = match value.get(list)? {
        Value::Array(items) => items.clone(),
        Value::Null => return None,
        one => vec![one.clone()],
    };
    Some(
        items
            .iter()
            .map(|item| match item {
                Value::Object(_) => state::text(item, key),
                other => string_of(other).trim().to_owned(),
            })
            .filter(|number| !number.is_empty())
            .collect(),
    )
}

/// Locks, carrying on after a panic elsewhere (the data stays usable).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One `syncInventory` page for `request`, as the page object of both
/// specs' tables: `{isLastPage, currentPage, pageCount, data}`.
///
/// Reads `warehouseCode`, `page`, `pageSize` (all required) and the optional
/// `warehouseSku` / `warehouseSkuList` filters; `updateTimeFrom` is ignored.
fn inventory_page(world: &mut World, request: &Value, now: Instant) -> Result<Value, String> {
    let warehouse_code = state::required(request, "warehouseCode")?;
    let positive = |key: &str| -> Result<u64, String> {
        match request.get(key) {
            None | Some(Value::Null) => Err(format!("missing required field {key}")),
            Some(value) => int_of(value)
                .and_then(|number| u64::try_from(number).ok())
                .filter(|number| *number > 0)
                .ok_or_else(|| format!("{key} must be a positive integer, got {value}")),
        }
    };
    let page = positive("page")?;
    let page_size = positive("pageSize")?;
    let mut skus = numbers_of(request, "warehouseSkuList", "warehouseSku").unwrap_or_default();
    let single = state::text(request, "warehouseSku");
    if !single.is_empty() {
        skus.push(single);
    }
    let page = world.inventory(&warehouse_code, &skus, page, page_size, now)?;
    let data: Vec<Value> = page.rows.iter().map(inventory_item).collect();
    Ok(json!({
        "isLastPage": page.is_last_page,
        "currentPage": page.current_page,
        "pageCount": page.page_count,
        "data": data,
    }))
}

/// The warehouses, as both dialects list them.
fn warehouse_list(world: &World) -> Vec<Value> {
    world
        .warehouses()
        .iter()
        .map(|wh| json!({"warehouseCode": wh.code, "warehouseName": wh.name}))
        .collect()
}

/// The channels of one warehouse (or all), as both dialects list them.
fn channel_list(world: &World, request: &Value) -> Result<Vec<Value>, String> {
    let channels = world.channels(&state::text(request, "warehouseCode"))?;
    Ok(channels
        .iter()
        .map(|(warehouse_code, channel)| {
            json!({
                "channelCode": channel.code,
                "channelName": channel.name,
                "warehouseCode": warehouse_code,
                "carrierName": channel.carrier,
            })
        })
        .collect())
}

/// What getOrder reports of one order, in both dialects.
fn order_json(view: &state::OrderView) -> Value {
    json!({
        "orderNumber": view.order_number,
        "wmsStatus": view.wms_status,
        "status": view.status,
        "carrierName": view.carrier_name,
        "trackingNumber": view.tracking_number,
        "failedReason": view.failed_reason,
    })
}

/// One inventory item; every quantity is a string, as both specs show.
fn inventory_item(row: &state::InventoryRow) -> Value {
    let stock = &row.stock;
    json!({
        "warehouseCode": row.warehouse_code,
        "warehouseSku": row.sku,
        "onwayQuantity": stock.onway.to_string(),
        "pendingQuantity": stock.pending.to_string(),
        "sellableQuantity": stock.sellable.to_string(),
        "unsellableQuantity": stock.unsellable.to_string(),
        "reservedQuantity": stock.reserved.to_string(),
        "useQuantity": stock.used.to_string(),
        "totalQuantity": stock.total.to_string(),
    })
}

/// The ASN numbers of a getAsnList or cancelAsnOrder request, at least one.
fn asn_numbers(request: &Value) -> Result<Vec<String>, String> {
    numbers_of(request, "asnNumbers", "asnNumber")
        .filter(|numbers| !numbers.is_empty())
        .ok_or_else(|| "missing required field asnNumbers".to_owned())
}

/// getAsnList's `asnList`: the ASNs asked for that the warehouse knows.
fn asn_list(world: &mut World, request: &Value, now: Instant) -> Result<Vec<Value>, String> {
    Ok(asn_numbers(request)?
        .iter()
        .filter_map(|number| world.asn(number, now))
        .map(|view| asn_json(&view))
        .collect())
}

/// One `asnList` entry; quantities are numbers, as both specs show.
fn asn_json(view: &state::AsnView) -> Value {
    let lines: Vec<Value> = view
        .lines
        .iter()
        .map(|line| {
            json!({
                "sku": line.sku,
                "name": line.name,
                "estimatedQuantity": line.estimated,
                "receivedQuantity": line.received,
                "goodQuantity": line.good,
                "badQuantity": line.bad,
            })
        })
        .collect();
    json!({
        "asnNumber": view.asn_number,
        "wmsStatus": view.wms_status,
        "referenceNumber": view.reference_number,
        "finishTime": view.finish_time,
        "skuList": lines,
    })
}
