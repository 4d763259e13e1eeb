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
use futures::{StreamExt, stream};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::ExposeSecret;
use serde::Serialize;

use super::{QlinkCredentials, UpstreamError, UpstreamErrorKind, http::HttpTransport, lenient::Envelope, sign::qlink_sign};
use crate::{
    domain::{
        AsnCancelOutcome, AsnRef, AsnState, Channel, CreatedAsn, CreatedOrder, InventoryPage, InventoryQuery,
        InventoryStream, ItemOutcome, NewAsn, NewOrder, OrderRef, OrderState, SkuInfo, SkuUpserted, Warehouse,
        WarehouseBackend,
    },
    middleware::CallKind,
};

/// Where every operation's path starts.
const PATH_PREFIX: &str = "/global-api/v1/warehouse";

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
    pub fn new(tenant: Arc<str>, base_url: String, credentials: QlinkCredentials, transport: HttpTransport) -> Self {
        let endpoint = format!("{}{PATH_PREFIX}", base_url.trim_end_matches('/'));
        let headers = fixed_headers(&credentials);
        Self {
            tenant,
            endpoint,
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
    async fn send(&self, operation: &'static str, kind: CallKind, body: &impl Serialize) -> Result<Envelope, UpstreamError> {
        let content = serde_json::to_string(body)
            .map_err(|err| self.error(operation, UpstreamErrorKind::Malformed(format!("cannot encode the request: {err}"))))?;
        let sign = qlink_sign(
            &self.credentials.app_key,
            &content,
            self.credentials.app_secret.expose_secret(),
        );
        let mut headers = self.headers.clone().map_err(|header| self.error(operation, invalid_header(header)))?;
        headers.insert(
            SIGN,
            HeaderValue::from_str(&sign).map_err(|_| self.error(operation, invalid_header("sign")))?,
        );
        let url = format!("{}/{operation}", self.endpoint);
        tracing::debug!(tenant = %self.tenant, operation, bytes = content.len(), "sending qlink request");
        let answer = self
            .transport
            .post(kind, operation, &url, headers, content.into_bytes())
            .await
            .map_err(|kind| self.error(operation, kind))?;
        Envelope::parse(&answer)
            .and_then(Envelope::into_success)
            .map_err(|kind| self.error(operation, kind))
    }

    /// One inventory page.
    async fn inventory_page(&self, query: &InventoryQuery, page: u32) -> Result<InventoryPage, UpstreamError> {
        const OP: &str = "syncInventory";
        let body = wire::SyncInventory::new(self.warehouse_key(), query, page);
        let envelope = self.send(OP, CallKind::Read, &body).await?;
        wire::inventory_page(&wire::result_of(&envelope), page, query.page_size).map_err(|kind| self.error(OP, kind))
    }
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
        headers.insert(WAREHOUSE_TYPE, value(warehouse_type, "warehouseType", false)?);
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
        wire::channels(&wire::result_of(&envelope), warehouse_code).map_err(|kind| self.error(OP, kind))
    }

    async fn create_order(&self, order: &NewOrder) -> Result<CreatedOrder, UpstreamError> {
        const OP: &str = "createOrder";
        let body = wire::CreateOrder::new(self.warehouse_key(), order);
        let envelope = self.send(OP, CallKind::Write, &body).await?;
        wire::created_order(&wire::result_of(&envelope), &envelope.code, &order.order_number)
            .map_err(|kind| self.error(OP, kind))
    }

    async fn cancel_orders(&self, warehouse_code: &str, orders: &[OrderRef]) -> Result<Vec<ItemOutcome>, UpstreamError> {
        const OP: &str = "cancelOrder";
        let body = wire::CancelOrder::new(self.warehouse_key(), warehouse_code, orders);
        let envelope = self.send(OP, CallKind::Write, &body).await?;
        wire::cancelled_orders(&wire::result_of(&envelope), orders).map_err(|kind| self.error(OP, kind))
    }

    async fn get_orders(&self, warehouse_code: &str, orders: &[OrderRef]) -> Result<Vec<OrderState>, UpstreamError> {
        const OP: &str = "getOrder";
        let body = wire::GetOrder::new(self.warehouse_key(), warehouse_code, orders);
        let envelope = self.send(OP, CallKind::Read, &body).await?;
        wire::order_states(&wire::result_of(&envelope), orders).map_err(|kind| self.error(OP, kind))
    }

    async fn create_asn(&self, asn: &NewAsn) -> Result<CreatedAsn, UpstreamError> {
        const OP: &str = "createAsnOrder";
        let body = wire::CreateAsnOrder::new(self.warehouse_key(), asn);
        let envelope = self.send(OP, CallKind::Write, &body).await?;
        wire::created_asn(&wire::result_of(&envelope), &envelope.code, &asn.asn_number)
            .map_err(|kind| self.error(OP, kind))
    }

    async fn get_asns(&self, warehouse_code: &str, asns: &[AsnRef]) -> Result<Vec<AsnState>, UpstreamError> {
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
        wire::cancelled_asns(&wire::result_of(&envelope), asn_numbers).map_err(|kind| self.error(OP, kind))
    }

    /// Asks for page 1, 2, … only as the stream is polled, holding at most
    /// one page; ends after the last page or the first error.
    fn sync_inventory(self: Arc<Self>, query: InventoryQuery) -> InventoryStream {
        let pager = Pager {
            backend: self,
            query,
            next: Some(1),
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
            if let Ok(current) = &answer {
                if !current.is_last_page {
                    pager.next = Some(page + 1);
                }
            }
            Some((answer, pager))
        })
        .boxed()
    }

    async fn upsert_sku(&self, sku: &SkuInfo) -> Result<SkuUpserted, UpstreamError> {
        const OP: &str = "insertSkuInfo";
        let body = wire::InsertSkuInfo::new(self.warehouse_key(), sku);
        let envelope = self.send(OP, CallKind::Write, &body).await?;
        wire::sku_upserted(&wire::result_of(&envelope), &envelope.code, &sku.sku).map_err(|kind| self.error(OP, kind))
    }
}
