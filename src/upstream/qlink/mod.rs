//! The qlink protocol (800best qlink ISV API): one REST path per operation
//! under `/global-api/v1/warehouse/`, credentials in headers, the exact body
//! signed. Owns [`QlinkBackend`]; the JSON shapes live in [`wire`].
//!
//! Protocol quirks kept here and nowhere else: `warehouseKey` is an array
//! for initWarehouses, initChannels and cancelOrder and a string elsewhere;
//! batches (cancel, lookup) are one call; answers are read tolerantly.
//! This module must not know gRPC, and never logs headers, bodies or secrets.

mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, stream};
use reqwest::{
    Url,
    header::{HeaderMap, HeaderName, HeaderValue},
};
use secrecy::ExposeSecret;
use serde::Serialize;

use super::{
    QlinkCredentials, UpstreamError, UpstreamErrorKind, content::Content, http::HttpTransport,
    lenient::Envelope, sign::qlink_sign_content,
};
use crate::{
    domain::{
        AsnCancelOutcome, AsnRef, AsnState, Channel, CreatedAsn, CreatedOrder, InventoryPage,
        InventoryQuery, InventoryStream, ItemOutcome, NewAsn, NewOrder, OrderRef, OrderState,
        SkuInfo, SkuUpserted, Warehouse, WarehouseBackend,
    },
    middleware::CallKind,
};

/// Where every operation's path starts.
const PATH_PREFIX: &str = "/global-api/v1/warehouse";

/// Every operation [`QlinkBackend`] calls, whose URLs it builds once.
const OPERATIONS: [&str; 10] = [
    "initWarehouses",
    "initChannels",
    "createOrder",
    "cancelOrder",
    "getOrder",
    "createAsnOrder",
    "getAsnList",
    "cancelAsnOrder",
    "syncInventory",
    "insertSkuInfo",
];

/// The most inventory pages one stream asks for, against a warehouse that
/// never says "last page".
const MAX_INVENTORY_PAGES: u32 = 100_000;

// Header names. HTTP header names are case-insensitive; the `http` crate
// keeps them lowercase, so `appKey` goes out as `appkey`.
const APP_KEY: HeaderName = HeaderName::from_static("appkey");
const SIGN: HeaderName = HeaderName::from_static("sign");
const WAREHOUSE_TYPE: HeaderName = HeaderName::from_static("warehousetype");
const SECRET: HeaderName = HeaderName::from_static("secret");
const ACCESS_TOKEN: HeaderName = HeaderName::from_static("accesstoken");
const REFRESH_TOKEN: HeaderName = HeaderName::from_static("refreshtoken");
const AUTH_INFO: HeaderName = HeaderName::from_static("authinfo");
const API_URL: HeaderName = HeaderName::from_static("apiurl");

/// A tenant's warehouse behind qlink.
pub struct QlinkBackend {
    tenant: Arc<str>,
    /// `{base_url}/global-api/v1/warehouse`, without a trailing `/`.
    endpoint: String,
    /// `endpoint` parsed, once; `None` when it is not a URL (config
    /// validation rejects such a `base_url`).
    endpoint_url: Option<Url>,
    /// `{endpoint}/{operation}` for each of [`OPERATIONS`], built once.
    operation_urls: Vec<(&'static str, Url)>,
    credentials: QlinkCredentials,
    /// Every header but `sign`, built once; `Err` names the configured
    /// header whose value cannot be sent.
    headers: Result<HeaderMap, &'static str>,
    transport: HttpTransport,
}

impl std::fmt::Debug for QlinkBackend {
    // Credentials and headers stay out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QlinkBackend")
            .field("tenant", &self.tenant)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl QlinkBackend {
    pub fn new(
        tenant: Arc<str>,
        base_url: String,
        credentials: QlinkCredentials,
        transport: HttpTransport,
    ) -> Self {
        let endpoint = format!("{}{PATH_PREFIX}", base_url.trim_end_matches('/'));
        let headers = fixed_headers(&credentials);
        let endpoint_url = Url::parse(&endpoint)
            .ok()
            .filter(|url| !url.cannot_be_a_base());
        let operation_urls = OPERATIONS
            .iter()
            .filter_map(|&operation| {
                let url = join_operation(endpoint_url.as_ref()?, operation)?;
                Some((operation, url))
            })
            .collect();
        Self {
            tenant,
            endpoint,
            endpoint_url,
            operation_urls,
            credentials,
            headers,
            transport,
        }
    }

    fn warehouse_key(&self) -> &str {
        &self.credentials.warehouse_key
    }

    fn error(&self, operation: &'static str, kind: UpstreamErrorKind) -> UpstreamError {
        UpstreamError::new(self.tenant.clone(), operation, kind)
    }

    /// Everything protocol-level: serializes `body` once, signs exactly those
    /// bytes, POSTs them to the operation's path with the credential headers,
    /// and reads the envelope (`success: false` is a rejection).
    async fn send(
        &self,
        operation: &'static str,
        kind: CallKind,
        body: &impl Serialize,
    ) -> Result<Envelope, UpstreamError> {
        let answer = self.send_raw(operation, kind, body).await?;
        self.envelope(operation, &answer)
    }

    /// [`send`](Self::send) up to the answer's bytes.
    async fn send_raw(
        &self,
        operation: &'static str,
        kind: CallKind,
        body: &impl Serialize,
    ) -> Result<Bytes, UpstreamError> {
        let content = self.encode(operation, body)?;
        self.send_content(operation, kind, content).await
    }

    /// The request's content as it is sent and signed.
    fn encode(
        &self,
        operation: &'static str,
        body: &impl Serialize,
    ) -> Result<Content, UpstreamError> {
        Content::encode_request(body).map_err(|kind| self.error(operation, kind))
    }

    /// Signs `content` and POSTs it; the answer's bytes.
    async fn send_content(
        &self,
        operation: &'static str,
        kind: CallKind,
        content: Content,
    ) -> Result<Bytes, UpstreamError> {
        let sign = qlink_sign_content(
            &self.credentials.app_key,
            &content,
            self.credentials.app_secret.expose_secret(),
        );
        let mut headers = self
            .headers
            .clone()
            .map_err(|header| self.error(operation, invalid_header(header)))?;
        headers.insert(
            SIGN,
            HeaderValue::from_str(&sign)
                .map_err(|_| self.error(operation, invalid_header("sign")))?,
        );
        let url = self
            .operation_url(operation)
            .map_err(|kind| self.error(operation, kind))?;
        tracing::debug!(tenant = %self.tenant, operation, bytes = content.len(), "sending qlink request");
        self.transport
            .post(kind, operation, url, headers, content.into_json())
            .await
            .map_err(|kind| self.error(operation, kind))
    }

    /// `{endpoint}/{operation}`, built when the backend was.
    fn operation_url(&self, operation: &str) -> Result<Url, UpstreamErrorKind> {
        self.operation_urls
            .iter()
            .find(|(known, _)| *known == operation)
            .map(|(_, url)| url.clone())
            .or_else(|| join_operation(self.endpoint_url.as_ref()?, operation))
            .ok_or_else(|| {
                UpstreamErrorKind::Connect(
                    "the tenant's base_url is not a URL; nothing was sent".to_owned(),
                )
            })
    }

    fn envelope(&self, operation: &'static str, answer: &[u8]) -> Result<Envelope, UpstreamError> {
        Envelope::parse(answer)
            .and_then(Envelope::into_success)
            .map_err(|kind| self.error(operation, kind))
    }

    /// One inventory page: typed straight from the bytes when the answer has
    /// a usual shape, else through the tolerant reader.
    async fn inventory_page(
        &self,
        query: &InventoryQuery,
        page: u32,
    ) -> Result<InventoryPage, UpstreamError> {
        const OP: &str = "syncInventory";
        let body = wire::SyncInventory::new(self.warehouse_key(), query, page);
        let answer = self.send_raw(OP, CallKind::Read, &body).await?;
        if let Some(typed) = wire::typed_inventory_page(&answer, page, query.page_size) {
            return Ok(typed);
        }
        let envelope = self.envelope(OP, &answer)?;
        wire::inventory_page(&wire::result_of(&envelope), page, query.page_size)
            .map_err(|kind| self.error(OP, kind))
    }
}

/// `{endpoint}/{operation}`, without parsing a URL again.
fn join_operation(endpoint: &Url, operation: &str) -> Option<Url> {
    let mut url = endpoint.clone();
    url.path_segments_mut().ok()?.pop_if_empty().push(operation);
    Some(url)
}

/// A configured header value that HTTP cannot carry (a control character,
/// say). The value itself is never quoted: it may be a secret.
fn invalid_header(header: &'static str) -> UpstreamErrorKind {
    // No request was sent; `Connect` is the kind that says so.
    UpstreamErrorKind::Connect(format!(
        "the tenant's configured `{header}` header value is not a valid HTTP header value"
    ))
}

/// The credential headers of every request (all but `sign`).
fn fixed_headers(credentials: &QlinkCredentials) -> Result<HeaderMap, &'static str> {
    fn value(text: &str, name: &'static str, sensitive: bool) -> Result<HeaderValue, &'static str> {
        // `from_bytes` takes UTF-8 text beyond ASCII; only control characters fail.
        let mut value = HeaderValue::from_bytes(text.as_bytes()).map_err(|_| name)?;
        value.set_sensitive(sensitive);
        Ok(value)
    }

    let mut headers = HeaderMap::new();
    headers.insert(APP_KEY, value(&credentials.app_key, "appKey", false)?);
    if let Some(warehouse_type) = &credentials.warehouse_type {
        headers.insert(
            WAREHOUSE_TYPE,
            value(warehouse_type, "warehouseType", false)?,
        );
    }
    for (name, label, secret) in [
        (SECRET, "secret", &credentials.secret),
        (ACCESS_TOKEN, "accessToken", &credentials.access_token),
        (REFRESH_TOKEN, "refreshToken", &credentials.refresh_token),
    ] {
        if let Some(secret) = secret {
            headers.insert(name, value(secret.expose_secret(), label, true)?);
        }
    }
    if !credentials.auth_info.is_empty() {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Entry<'a> {
            auth_info_key: &'a str,
            value: &'a str,
        }
        let entries: Vec<Entry<'_>> = credentials
            .auth_info
            .iter()
            .map(|entry| Entry {
                auth_info_key: &entry.key,
                value: entry.value.expose_secret(),
            })
            .collect();
        let json = serde_json::to_string(&entries).map_err(|_| "authInfo")?;
        headers.insert(AUTH_INFO, value(&json, "authInfo", true)?);
    }
    if let Some(api_url) = &credentials.api_url {
        headers.insert(API_URL, value(api_url, "apiUrl", false)?);
    }
    Ok(headers)
}

/// Where an inventory stream stands between polls.
struct Pager {
    backend: Arc<QlinkBackend>,
    query: InventoryQuery,
    /// The page to ask for next; `None` once done.
    next: Option<u32>,
    /// What the last page held, to notice a warehouse that ignores `page`.
    previous: Option<PageMark>,
}

/// A page's row count and first and last SKU: pages of one listing never
/// share a first SKU, so an equal mark means the same page again.
#[derive(PartialEq, Eq)]
struct PageMark {
    rows: usize,
    first: String,
    last: String,
}

impl PageMark {
    fn of(page: &InventoryPage) -> Option<Self> {
        Some(Self {
            rows: page.items.len(),
            first: page.items.first()?.sku.clone(),
            last: page.items.last()?.sku.clone(),
        })
    }
}

#[async_trait]
impl WarehouseBackend for QlinkBackend {
    fn protocol(&self) -> &'static str {
        "qlink"
    }

    async fn list_warehouses(&self) -> Result<Vec<Warehouse>, UpstreamError> {
        const OP: &str = "initWarehouses";
        let body = wire::InitWarehouses {
            warehouse_key: [self.warehouse_key()],
        };
        let envelope = self.send(OP, CallKind::Read, &body).await?;
        wire::warehouses(&wire::result_of(&envelope)).map_err(|kind| self.error(OP, kind))
    }

    async fn list_channels(&self, warehouse_code: &str) -> Result<Vec<Channel>, UpstreamError> {
        const OP: &str = "initChannels";
        let body = wire::InitChannels {
            warehouse_key: [self.warehouse_key()],
            warehouse_code,
        };
        let envelope = self.send(OP, CallKind::Read, &body).await?;
        wire::channels(&wire::result_of(&envelope), warehouse_code)
            .map_err(|kind| self.error(OP, kind))
    }

    async fn create_order(&self, mut order: NewOrder) -> Result<CreatedOrder, UpstreamError> {
        const OP: &str = "createOrder";
        let content = self.encode(OP, &wire::CreateOrder::new(self.warehouse_key(), &order))?;
        let order_number = std::mem::take(&mut order.order_number);
        // Freed now, on the thread that decoded it, not after the answer.
        drop(order);
        let answer = self.send_content(OP, CallKind::Write, content).await?;
        let envelope = self.envelope(OP, &answer)?;
        wire::created_order(&wire::result_of(&envelope), &envelope.code, &order_number)
            .map_err(|kind| self.error(OP, kind))
    }

    async fn cancel_orders(
        &self,
        warehouse_code: &str,
        orders: &[OrderRef],
    ) -> Result<Vec<ItemOutcome>, UpstreamError> {
        const OP: &str = "cancelOrder";
        let body = wire::CancelOrder::new(self.warehouse_key(), warehouse_code, orders);
        let envelope = self.send(OP, CallKind::Write, &body).await?;
        wire::cancelled_orders(&wire::result_of(&envelope), orders)
            .map_err(|kind| self.error(OP, kind))
    }

    async fn get_orders(
        &self,
        warehouse_code: &str,
        orders: &[OrderRef],
    ) -> Result<Vec<OrderState>, UpstreamError> {
        const OP: &str = "getOrder";
        let body = wire::GetOrder::new(self.warehouse_key(), warehouse_code, orders);
        let envelope = self.send(OP, CallKind::Read, &body).await?;
        wire::order_states(&wire::result_of(&envelope), orders).map_err(|kind| self.error(OP, kind))
    }

    async fn create_asn(&self, mut asn: NewAsn) -> Result<CreatedAsn, UpstreamError> {
        const OP: &str = "createAsnOrder";
        let content = self.encode(OP, &wire::CreateAsnOrder::new(self.warehouse_key(), &asn))?;
        let asn_number = std::mem::take(&mut asn.asn_number);
        // Freed now, on the thread that decoded it, not after the answer.
        drop(asn);
        let answer = self.send_content(OP, CallKind::Write, content).await?;
        let envelope = self.envelope(OP, &answer)?;
        wire::created_asn(&wire::result_of(&envelope), &envelope.code, &asn_number)
            .map_err(|kind| self.error(OP, kind))
    }

    async fn get_asns(
        &self,
        warehouse_code: &str,
        asns: &[AsnRef],
    ) -> Result<Vec<AsnState>, UpstreamError> {
        const OP: &str = "getAsnList";
        let body = wire::GetAsnList::new(self.warehouse_key(), warehouse_code, asns);
        let envelope = self.send(OP, CallKind::Read, &body).await?;
        wire::asn_states(&wire::result_of(&envelope)).map_err(|kind| self.error(OP, kind))
    }

    async fn cancel_asns(
        &self,
        warehouse_code: &str,
        asn_numbers: &[String],
    ) -> Result<Vec<AsnCancelOutcome>, UpstreamError> {
        const OP: &str = "cancelAsnOrder";
        let body = wire::CancelAsnOrder {
            warehouse_key: self.warehouse_key(),
            warehouse_code,
            asn_numbers,
        };
        let envelope = self.send(OP, CallKind::Write, &body).await?;
        wire::cancelled_asns(&wire::result_of(&envelope), asn_numbers)
            .map_err(|kind| self.error(OP, kind))
    }

    /// Asks for page 1, 2, … only as the stream is polled, holding at most
    /// one page; ends after the last page or the first error.
    fn sync_inventory(self: Arc<Self>, query: InventoryQuery) -> InventoryStream {
        let pager = Pager {
            backend: self,
            query,
            next: Some(1),
            previous: None,
        };
        stream::unfold(pager, |mut pager| async move {
            let page = pager.next.take()?;
            if page > MAX_INVENTORY_PAGES {
                let kind = UpstreamErrorKind::Malformed(format!(
                    "the warehouse still reported more inventory after {MAX_INVENTORY_PAGES} pages"
                ));
                return Some((Err(pager.backend.error("syncInventory", kind)), pager));
            }
            let answer = pager.backend.inventory_page(&pager.query, page).await;
            let Ok(current) = answer else {
                return Some((answer, pager));
            };
            let mark = PageMark::of(&current);
            if mark.is_some() && mark == pager.previous {
                let kind = UpstreamErrorKind::Malformed(format!(
                    "the warehouse answered page {page} with the rows of page {}: it ignores paging",
                    page - 1
                ));
                return Some((Err(pager.backend.error("syncInventory", kind)), pager));
            }
            if !current.is_last_page {
                pager.next = Some(page + 1);
            }
            pager.previous = mark;
            Some((Ok(current), pager))
        })
        .boxed()
    }

    async fn upsert_sku(&self, sku: &SkuInfo) -> Result<SkuUpserted, UpstreamError> {
        const OP: &str = "insertSkuInfo";
        let body = wire::InsertSkuInfo::new(self.warehouse_key(), sku);
        let envelope = self.send(OP, CallKind::Write, &body).await?;
        wire::sku_upserted(&wire::result_of(&envelope), &envelope.code, &sku.sku)
            .map_err(|kind| self.error(OP, kind))
    }
}

/// The `createOrder` content for `order`, byte for byte as
/// [`QlinkBackend`] sends it, encoded the plain way, as a client calling
/// the warehouse directly would; for benchmarks.
pub fn create_order_content(
    warehouse_key: &str,
    order: &NewOrder,
) -> Result<String, serde_json::Error> {
    serde_json::to_string(&wire::CreateOrder::new(warehouse_key, order))
}

/// [`create_order_content`] as [`QlinkBackend`] encodes it, with the
/// escaped text it signs; for benchmarks.
pub fn create_order_encoded(
    warehouse_key: &str,
    order: &NewOrder,
) -> Result<Content, serde_json::Error> {
    Content::encode(&wire::CreateOrder::new(warehouse_key, order))
}

#[cfg(test)]
mod tests {
    use std::{net::SocketAddr, sync::Mutex, time::Duration};

    use axum::{Router, body::Bytes, extract::State, http::HeaderMap as Headers, routing::post};
    use futures::StreamExt;
    use secrecy::SecretString;

    use super::*;
    use crate::upstream::{
        AuthInfo,
        sign::{qlink_sign, signatures_match},
    };

    /// What the loopback warehouse saw, and what it answers.
    #[derive(Default)]
    struct Seen {
        /// (path, headers, body)
        requests: Vec<(String, Headers, String)>,
        answer: String,
        /// syncInventory: answers per page, page 1 first.
        pages: Vec<String>,
    }

    type Shared = Arc<Mutex<Seen>>;

    async fn warehouse(
        State(state): State<Shared>,
        uri: axum::http::Uri,
        headers: Headers,
        body: Bytes,
    ) -> String {
        let body = String::from_utf8(body.to_vec()).expect("utf-8 body");
        let page = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|value| value["page"].as_u64());
        let mut seen = state.lock().expect("lock");
        seen.requests.push((uri.path().to_owned(), headers, body));
        match page {
            Some(page) if !seen.pages.is_empty() => seen
                .pages
                .get(page as usize - 1)
                .cloned()
                .unwrap_or_else(|| r#"{"success":false,"errorMsg":"no such page"}"#.to_owned()),
            _ => seen.answer.clone(),
        }
    }

    async fn spawn(state: Shared) -> SocketAddr {
        let app = Router::new()
            .route("/global-api/v1/warehouse/{op}", post(warehouse))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        addr
    }

    #[test]
    fn operation_urls_extend_the_base_url_without_reparsing_it() {
        let backend = |base: &str| {
            QlinkBackend::new(
                Arc::from("t"),
                base.to_owned(),
                credentials(),
                HttpTransport::new(Duration::from_secs(1)).expect("transport"),
            )
        };
        for base in ["http://127.0.0.1:8080", "http://127.0.0.1:8080/"] {
            assert_eq!(
                backend(base)
                    .operation_url("createOrder")
                    .expect("url")
                    .as_str(),
                "http://127.0.0.1:8080/global-api/v1/warehouse/createOrder"
            );
        }
        assert_eq!(
            backend("https://gw.example.com/qlink/")
                .operation_url("syncInventory")
                .expect("url")
                .as_str(),
            "https://gw.example.com/qlink/global-api/v1/warehouse/syncInventory"
        );
        assert!(matches!(
            backend("not a url").operation_url("createOrder"),
            Err(UpstreamErrorKind::Connect(_))
        ));
    }

    fn credentials() -> QlinkCredentials {
        QlinkCredentials {
            app_key: "1".into(),
            app_secret: SecretString::from("app-secret"),
            warehouse_type: Some("LINGXING".into()),
            warehouse_key: "wk".into(),
            secret: Some(SecretString::from("third-party-secret")),
            access_token: None,
            refresh_token: Some(SecretString::from("refresh")),
            api_url: Some("https://wms.example.com/接口".into()),
            auth_info: vec![
                AuthInfo {
                    key: "MERCHANT_ID".into(),
                    value: SecretString::from("BG2447"),
                },
                AuthInfo {
                    key: "PRINT_SIZE".into(),
                    value: SecretString::from(""),
                },
            ],
        }
    }

    async fn loopback(answer: &str) -> (Arc<QlinkBackend>, Shared) {
        let state = Shared::default();
        state.lock().expect("lock").answer = answer.to_owned();
        let addr = spawn(state.clone()).await;
        let transport = HttpTransport::new(Duration::from_secs(5)).expect("transport");
        let backend = QlinkBackend::new(
            Arc::from("acme"),
            format!("http://{addr}/"),
            credentials(),
            transport,
        );
        (Arc::new(backend), state)
    }

    fn header<'h>(headers: &'h Headers, name: &str) -> Option<&'h [u8]> {
        headers.get(name).map(|value| value.as_bytes())
    }

    #[tokio::test]
    async fn send_signs_the_exact_body_and_sends_the_credential_headers() {
        let (backend, state) = loopback(
            r#"{"errorMsg":null,"result":{"warehouseInfoList":[{"warehouseCode":"TU美东代理仓","warehouseName":"TU01"}]},"success":true,"code":null}"#,
        )
        .await;
        let list = backend.list_warehouses().await.expect("warehouses");
        assert_eq!(list[0].code, "TU美东代理仓");

        let seen = state.lock().expect("lock");
        let (path, headers, body) = &seen.requests[0];
        assert_eq!(
            path, "/global-api/v1/warehouse/initWarehouses",
            "no double slash"
        );
        assert_eq!(body, r#"{"warehouseKey":["wk"]}"#);
        let sign = headers
            .get("sign")
            .and_then(|v| v.to_str().ok())
            .expect("sign");
        assert!(signatures_match(&qlink_sign("1", body, "app-secret"), sign));
        assert_eq!(header(headers, "appKey"), Some(&b"1"[..]));
        assert_eq!(header(headers, "warehouseType"), Some(&b"LINGXING"[..]));
        assert_eq!(header(headers, "secret"), Some(&b"third-party-secret"[..]));
        assert_eq!(header(headers, "refreshToken"), Some(&b"refresh"[..]));
        assert_eq!(
            header(headers, "accessToken"),
            None,
            "not configured, not sent"
        );
        assert_eq!(
            header(headers, "apiUrl"),
            Some("https://wms.example.com/接口".as_bytes())
        );
        assert_eq!(
            header(headers, "authInfo"),
            Some(&br#"[{"authInfoKey":"MERCHANT_ID","value":"BG2447"},{"authInfoKey":"PRINT_SIZE","value":""}]"#[..])
        );
        assert_eq!(
            header(headers, "content-type"),
            Some(&b"application/json"[..])
        );
    }

    #[tokio::test]
    async fn an_envelope_failure_is_a_rejection_naming_tenant_and_operation() {
        let (backend, _state) =
            loopback(r#"{"success":false,"errorMsg":"sign error","code":"401"}"#).await;
        let err = backend.list_channels("TU02").await.expect_err("rejected");
        assert_eq!((&*err.tenant, err.operation), ("acme", "initChannels"));
        match err.kind {
            UpstreamErrorKind::Rejected { message, code } => {
                assert_eq!((message.as_str(), code.as_str()), ("sign error", "401"))
            }
            other => panic!("expected a rejection, got {other:?}"),
        }

        let (backend, _state) = loopback("<html>gateway</html>").await;
        let err = backend
            .get_orders("", &[OrderRef::default()])
            .await
            .expect_err("malformed");
        assert!(matches!(err.kind, UpstreamErrorKind::Malformed(_)), "{err}");
        assert_eq!(err.operation, "getOrder");
    }

    #[tokio::test]
    async fn a_per_item_rejection_is_an_error_with_the_warehouses_words() {
        let (backend, _state) = loopback(
            r#"{"errorMsg":null,"result":{"sku":"SKU1","operation":"CREATE","info":"sku【SKU1】已被使用;","success":false},"success":true,"code":null}"#,
        )
        .await;
        let sku = SkuInfo {
            sku: "SKU1".into(),
            erp_sku: "E1".into(),
            ..Default::default()
        };
        let err = backend.upsert_sku(&sku).await.expect_err("rejected");
        assert_eq!(err.operation, "insertSkuInfo");
        assert!(err.to_string().contains("sku【SKU1】已被使用;"), "{err}");
    }

    #[tokio::test]
    async fn a_header_value_http_cannot_carry_fails_without_sending_or_quoting_it() {
        let state = Shared::default();
        let addr = spawn(state.clone()).await;
        let mut credentials = credentials();
        credentials.secret = Some(SecretString::from("line\nbreak-secret"));
        let transport = HttpTransport::new(Duration::from_secs(5)).expect("transport");
        let backend = QlinkBackend::new(
            Arc::from("acme"),
            format!("http://{addr}"),
            credentials,
            transport,
        );
        let err = backend.list_warehouses().await.expect_err("bad header");
        let text = err.to_string();
        assert!(
            text.contains("`secret`") && !text.contains("break-secret"),
            "{text}"
        );
        assert!(err.provably_not_sent());
        assert!(state.lock().expect("lock").requests.is_empty());
    }

    fn inventory_page(skus: &[&str], last: bool) -> String {
        let items: Vec<String> = skus
            .iter()
            .map(|sku| format!(r#"{{"warehouseCode":"TU02","warehouseSku":"{sku}","sellableQuantity":"1","totalQuantity":"2"}}"#))
            .collect();
        format!(
            r#"{{"success":true,"result":{{"isLastPage":{last},"pageCount":0,"data":[{}]}}}}"#,
            items.join(",")
        )
    }

    fn query() -> InventoryQuery {
        InventoryQuery {
            warehouse_code: "TU02".into(),
            page_size: 2,
            skus: Vec::new(),
            updated_since_ms: None,
        }
    }

    #[tokio::test]
    async fn inventory_pages_are_fetched_only_as_the_stream_is_polled() {
        let (backend, state) = loopback("").await;
        state.lock().expect("lock").pages = vec![
            inventory_page(&["A", "B"], false),
            inventory_page(&["C", "D"], false),
            inventory_page(&["E"], true),
        ];
        let requests = || state.lock().expect("lock").requests.len();

        let mut stream = backend.clone().sync_inventory(query());
        assert_eq!(requests(), 0, "nothing before the first poll");
        let first = stream.next().await.expect("page 1").expect("ok");
        assert_eq!(
            (first.page, first.is_last_page, first.items.len()),
            (1, false, 2)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(requests(), 1, "no read-ahead");
        drop(stream);

        let pages: Vec<_> = backend.clone().sync_inventory(query()).collect().await;
        let pages: Vec<InventoryPage> = pages.into_iter().map(|page| page.expect("page")).collect();
        assert_eq!(
            pages.iter().map(|page| page.page).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert!(pages[2].is_last_page);
        assert_eq!(requests(), 1 + 3);
        let bodies: Vec<String> = state
            .lock()
            .expect("lock")
            .requests
            .iter()
            .map(|r| r.2.clone())
            .collect();
        assert_eq!(
            bodies[3],
            r#"{"warehouseKey":"wk","pageSize":2,"page":3,"warehouseCode":"TU02"}"#
        );
    }

    /// The spec's own syncInventory example: a bare array of 11 rows for
    /// `pageSize` 10, no paging fields.
    fn unpaged_answer(rows: usize) -> String {
        let items: Vec<String> = (0..rows)
            .map(|n| format!(r#"{{"warehouseCode":"TU02","warehouseSku":"S{n}","sellableQuantity":"1","totalQuantity":"2"}}"#))
            .collect();
        format!(r#"{{"success":true,"result":[{}]}}"#, items.join(","))
    }

    #[tokio::test]
    async fn a_warehouse_that_ignores_paging_is_asked_once_or_twice_not_forever() {
        // More rows than asked for: everything at once, the last page.
        let (backend, state) = loopback(&unpaged_answer(11)).await;
        let paged = InventoryQuery {
            page_size: 10,
            ..query()
        };
        let pages: Vec<_> = backend
            .clone()
            .sync_inventory(paged.clone())
            .collect()
            .await;
        assert_eq!(pages.len(), 1);
        let only = pages[0].as_ref().expect("page 1");
        assert!(only.is_last_page);
        assert_eq!(only.items.len(), 11);
        assert_eq!(state.lock().expect("lock").requests.len(), 1);

        // Exactly a page's worth, every time: the repeat ends the stream.
        state.lock().expect("lock").answer = unpaged_answer(10);
        let pages: Vec<_> = backend.sync_inventory(paged).collect().await;
        assert_eq!(pages.len(), 2);
        assert!(!pages[0].as_ref().expect("page 1").is_last_page);
        let err = pages[1].as_ref().expect_err("page 2 repeats page 1");
        assert!(err.to_string().contains("ignores paging"), "{err}");
        assert_eq!(state.lock().expect("lock").requests.len(), 1 + 2);
    }

    #[tokio::test]
    async fn an_inventory_failure_ends_the_stream_after_yielding_it() {
        let (backend, state) = loopback("").await;
        state.lock().expect("lock").pages = vec![inventory_page(&["A", "B"], false)];
        let pages: Vec<_> = backend.sync_inventory(query()).collect().await;
        assert_eq!(pages.len(), 2);
        assert!(pages[0].is_ok());
        let err = pages[1].as_ref().expect_err("page 2 fails");
        assert_eq!(err.operation, "syncInventory");
        assert_eq!(state.lock().expect("lock").requests.len(), 2);
    }

    #[tokio::test]
    async fn batches_are_one_call() {
        let (backend, state) = loopback(
            r#"{"success":true,"result":{"results":[{"orderNumber":"B","success":false,"info":"已出库"}]}}"#,
        )
        .await;
        let orders: Vec<OrderRef> = ["A", "B"]
            .into_iter()
            .map(|number| OrderRef {
                order_number: number.into(),
                ..Default::default()
            })
            .collect();
        let outcomes = backend
            .cancel_orders("TU02", &orders)
            .await
            .expect("cancel");
        assert_eq!(
            outcomes.iter().map(|o| o.success).collect::<Vec<_>>(),
            [true, false]
        );
        let seen = state.lock().expect("lock");
        assert_eq!(seen.requests.len(), 1);
        assert_eq!(
            seen.requests[0].2,
            r#"{"warehouseKey":["wk"],"warehouseCode":"TU02","cancelOrderList":[{"orderNumber":"A"},{"orderNumber":"B"}]}"#
        );
    }
}
