//! The Qianyi protocol client: one endpoint taking `{accessId, method,
//! content, sign}`, the signature over the exact `content` string, flat
//! answers with `success` and `message`. Owns the method names, the
//! one-call-per-order fan-out and the inventory pager; [`wire`] owns the
//! JSON shapes. Knows nothing of gRPC, and never logs bodies, headers or
//! secrets.

mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream};
use reqwest::{
    Url,
    header::{HeaderMap, HeaderName, HeaderValue},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{
    HttpTransport, QianyiCredentials, UpstreamError, UpstreamErrorKind,
    content::{Content, write_json_string},
    lenient::Envelope,
    sign::qianyi_sign_content,
};
use crate::domain::{
    AsnCancelOutcome, AsnRef, AsnState, Channel, CreatedAsn, CreatedOrder, InventoryPage,
    InventoryQuery, InventoryStream, ItemOutcome, NewAsn, NewOrder, OrderRef, OrderState, SkuInfo,
    SkuUpserted, Warehouse, WarehouseBackend,
};

/// Per-order calls (cancelOrder, getOrder) in flight at once for one batch.
const MAX_IN_FLIGHT_PER_BATCH: usize = 8;

/// Inventory pages one stream fetches at most, in case a warehouse never
/// says it is done.
const MAX_INVENTORY_PAGES: u32 = 100_000;

/// Page size when the query leaves it at 0.
const DEFAULT_PAGE_SIZE: u32 = 100;

/// Methods that only read, so the transport may retry them.
const READ_METHODS: [&str; 5] = [
    "warehouses",
    "channels",
    "getOrder",
    "syncInventory",
    "getAsnList",
];

/// A tenant's Qianyi warehouse.
pub struct QianyiBackend {
    tenant: Arc<str>,
    /// The configured URL, used as is (Qianyi has one endpoint) and parsed
    /// once; `None` when it is not a URL (config validation rejects such a
    /// `base_url`).
    endpoint_url: Option<Url>,
    access_id: String,
    secret_key: SecretString,
    /// `warehouseType` and `secret`, built once; the name of a configured
    /// header whose value cannot be sent.
    headers: Result<HeaderMap, &'static str>,
    transport: HttpTransport,
}

impl std::fmt::Debug for QianyiBackend {
    // The endpoint may carry credentials in its query; the rest are secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QianyiBackend")
            .field("tenant", &self.tenant)
            .field("access_id", &self.access_id)
            .finish_non_exhaustive()
    }
}

/// "No business parameters": the content is the empty string.
const NO_CONTENT: Option<&()> = None;

impl QianyiBackend {
    pub fn new(
        tenant: Arc<str>,
        endpoint: String,
        credentials: QianyiCredentials,
        transport: HttpTransport,
    ) -> Self {
        let headers = build_headers(&credentials);
        let endpoint_url = Url::parse(&endpoint).ok();
        Self {
            tenant,
            endpoint_url,
            access_id: credentials.access_id,
            secret_key: credentials.secret_key,
            headers,
            transport,
        }
    }

    fn error(&self, method: &'static str, kind: UpstreamErrorKind) -> UpstreamError {
        UpstreamError::new(self.tenant.clone(), method, kind)
    }

    /// The exact body bytes for `method` with `content`, signed.
    /// `{"accessId":…,"method":…,"content":"…","sign":…}`, keys in the
    /// spec's order, the content as the JSON string it was signed as.
    fn body(&self, method: &str, content: &Content) -> Vec<u8> {
        let sign = qianyi_sign_content(&self.access_id, content, self.secret_key.expose_secret());
        let mut body = Vec::with_capacity(
            content.escaped().len() + self.access_id.len() + method.len() + sign.len() + 48,
        );
        body.extend_from_slice(br#"{"accessId":"#);
        write_json_string(&mut body, &self.access_id);
        body.extend_from_slice(br#","method":"#);
        write_json_string(&mut body, method);
        body.extend_from_slice(br#","content":""#);
        body.extend_from_slice(content.escaped());
        body.extend_from_slice(br#"","sign":"#);
        write_json_string(&mut body, &sign);
        body.push(b'}');
        body
    }

    /// One call that must succeed: `success: false` is `Rejected`.
    async fn send(
        &self,
        method: &'static str,
        content: Option<&(impl Serialize + Sync)>,
    ) -> Result<Envelope, UpstreamError> {
        let content = self.content(method, content)?;
        self.send_content(method, &content).await
    }

    /// One call, with the answer's envelope as it came (`success` may be
    /// false): signs, POSTs and parses.
    async fn exchange(
        &self,
        method: &'static str,
        content: Option<&(impl Serialize + Sync)>,
    ) -> Result<Envelope, UpstreamError> {
        let content = self.content(method, content)?;
        self.exchange_content(method, &content).await
    }

    /// One call's answer as it came, unparsed.
    async fn exchange_raw(
        &self,
        method: &'static str,
        content: Option<&(impl Serialize + Sync)>,
    ) -> Result<Bytes, UpstreamError> {
        let content = self.content(method, content)?;
        self.post(method, &content)
            .await
            .map_err(|kind| self.error(method, kind))
    }

    /// A call's content as it is sent and signed; none is empty content.
    fn content(
        &self,
        method: &'static str,
        params: Option<&impl Serialize>,
    ) -> Result<Content, UpstreamError> {
        match params {
            Some(params) => self.encode(method, params),
            None => Ok(Content::empty()),
        }
    }

    /// The content of `params`.
    fn encode(
        &self,
        method: &'static str,
        params: &impl Serialize,
    ) -> Result<Content, UpstreamError> {
        Content::encode_request(params).map_err(|kind| self.error(method, kind))
    }

    /// [`send`](Self::send) of content already encoded.
    async fn send_content(
        &self,
        method: &'static str,
        content: &Content,
    ) -> Result<Envelope, UpstreamError> {
        self.exchange_content(method, content)
            .await?
            .into_success()
            .map_err(|kind| self.error(method, kind))
    }

    /// [`exchange`](Self::exchange) of content already encoded.
    async fn exchange_content(
        &self,
        method: &'static str,
        content: &Content,
    ) -> Result<Envelope, UpstreamError> {
        let answer = self
            .post(method, content)
            .await
            .map_err(|kind| self.error(method, kind))?;
        Envelope::parse(&answer).map_err(|kind| self.error(method, kind))
    }

    async fn post(
        &self,
        method: &'static str,
        content: &Content,
    ) -> Result<Bytes, UpstreamErrorKind> {
        let headers = self.headers.clone().map_err(|name| {
            // Config validation rejects such values; never quote them.
            UpstreamErrorKind::Connect(format!(
                "the configured {name} header is not a valid HTTP header value; nothing was sent"
            ))
        })?;
        let url = self.endpoint_url.clone().ok_or_else(|| {
            UpstreamErrorKind::Connect(
                "the tenant's base_url is not a URL; nothing was sent".to_owned(),
            )
        })?;
        let body = self.body(method, content);
        let request_bytes = body.len();
        let answer = if READ_METHODS.contains(&method) {
            self.transport
                .post_json_read(method, url, headers, body)
                .await
        } else {
            self.transport.post_json(method, url, headers, body).await
        };
        match &answer {
            Ok(answer) => tracing::debug!(
                tenant = %self.tenant,
                method,
                request_bytes,
                response_bytes = answer.len(),
                "qianyi call answered"
            ),
            Err(kind) => {
                tracing::debug!(tenant = %self.tenant, method, request_bytes, error = %kind, "qianyi call failed");
            }
        }
        answer
    }

    /// One `cancelOrder` or `getOrder` call: one order.
    async fn order_call(
        &self,
        method: &'static str,
        warehouse_code: &str,
        order: &OrderRef,
    ) -> Result<Envelope, UpstreamError> {
        let content = wire::OrderRefContent::new(
            &order.order_number,
            warehouse_code,
            &order.warehouse_order_number,
        );
        self.send(method, Some(&content)).await
    }

    /// One inventory page of one (or every) warehouse SKU: typed straight
    /// from the bytes when the answer has a usual shape, else through the
    /// tolerant reader.
    async fn inventory_page(
        &self,
        content: &wire::InventoryContent<'_>,
    ) -> Result<wire::InventoryAnswer, UpstreamError> {
        const METHOD: &str = "syncInventory";
        let answer = self.exchange_raw(METHOD, Some(content)).await?;
        if let Some(page) = wire::typed_inventory_page(&answer) {
            return Ok(page);
        }
        let envelope = Envelope::parse(&answer)
            .and_then(Envelope::into_success)
            .map_err(|kind| self.error(METHOD, kind))?;
        wire::inventory_page(&root(envelope)).map_err(|kind| self.error(METHOD, kind))
    }
}

fn build_headers(credentials: &QianyiCredentials) -> Result<HeaderMap, &'static str> {
    let mut headers = HeaderMap::new();
    // (spec name, the lowercase name `http` stores, value, sensitive)
    let configured = [
        (
            "warehouseType",
            "warehousetype",
            credentials.warehouse_type.as_deref(),
            false,
        ),
        (
            "secret",
            "secret",
            credentials.secret.as_ref().map(ExposeSecret::expose_secret),
            true,
        ),
    ];
    for (spec_name, name, value, sensitive) in configured {
        let Some(value) = value else { continue };
        let mut value = HeaderValue::from_bytes(value.as_bytes()).map_err(|_| spec_name)?;
        value.set_sensitive(sensitive);
        headers.insert(HeaderName::from_static(name), value);
    }
    Ok(headers)
}

/// The answer's fields as one JSON object.
fn root(envelope: Envelope) -> Value {
    Value::Object(envelope.fields)
}

/// The rejection a batch-level or item-level `success: false` means.
fn rejected(message: &str, fallback: &str, code: String) -> UpstreamErrorKind {
    let message = [message, fallback]
        .into_iter()
        .find(|words| !words.is_empty())
        .unwrap_or("the warehouse answered success=false without a message");
    UpstreamErrorKind::Rejected {
        message: message.to_owned(),
        code,
    }
}

/// Whether the top level of the answer carried a `success` flag at all.
fn has_success_flag(fields: &Map<String, Value>) -> bool {
    fields.get("success").is_some_and(|flag| !flag.is_null())
}

/// The item-level verdict of a `results` entry, for single-item writes:
/// `success: false`, or failure words where the top level says nothing.
fn item_rejection(item: &wire::ResultItem, top_level_flag: bool) -> bool {
    item.success == Some(false)
        || (item.success.is_none() && !top_level_flag && !item.info.is_empty())
}

#[async_trait]
impl WarehouseBackend for QianyiBackend {
    fn protocol(&self) -> &'static str {
        "qianyi"
    }

    async fn list_warehouses(&self) -> Result<Vec<Warehouse>, UpstreamError> {
        const METHOD: &str = "warehouses";
        let envelope = self.send(METHOD, NO_CONTENT).await?;
        wire::warehouses(&root(envelope)).map_err(|kind| self.error(METHOD, kind))
    }

    async fn list_channels(&self, warehouse_code: &str) -> Result<Vec<Channel>, UpstreamError> {
        const METHOD: &str = "channels";
        let filter = wire::WarehouseFilter { warehouse_code };
        let envelope = if warehouse_code.is_empty() {
            self.send(METHOD, NO_CONTENT).await?
        } else {
            self.send(METHOD, Some(&filter)).await?
        };
        wire::channels(&root(envelope), warehouse_code).map_err(|kind| self.error(METHOD, kind))
    }

    async fn create_order(&self, mut order: NewOrder) -> Result<CreatedOrder, UpstreamError> {
        const METHOD: &str = "createOrder";
        let content = self.encode(METHOD, &wire::OrderContent::new(&order))?;
        let order_number = std::mem::take(&mut order.order_number);
        // Freed now, on the thread that decoded it, not after the answer.
        drop(order);
        let envelope = self.send_content(METHOD, &content).await?;
        Ok(CreatedOrder {
            order_number,
            warehouse_order_number: wire::warehouse_order_number(&root(envelope)),
        })
    }

    async fn cancel_orders(
        &self,
        warehouse_code: &str,
        orders: &[OrderRef],
    ) -> Result<Vec<ItemOutcome>, UpstreamError> {
        // One call per order (Qianyi has no batch cancel); a write, so every
        // order gets its outcome, whatever happened to the others.
        // The futures are built up front (lazy until polled): a closure in
        // the stream would not be `Send` for every lifetime async_trait needs.
        let calls: Vec<_> = orders
            .iter()
            .map(|order| self.order_call("cancelOrder", warehouse_code, order))
            .collect();
        let answers: Vec<Result<Envelope, UpstreamError>> = stream::iter(calls)
            .buffered(MAX_IN_FLIGHT_PER_BATCH)
            .collect()
            .await;
        let mut outcomes = Vec::with_capacity(orders.len());
        let mut first_unreached = None;
        let mut any_decided = false;
        for (order, answer) in orders.iter().zip(answers) {
            let (success, message) = match answer {
                Ok(_) => {
                    any_decided = true;
                    (true, String::new())
                }
                Err(UpstreamError {
                    kind: UpstreamErrorKind::Rejected { message, .. },
                    ..
                }) => {
                    any_decided = true;
                    (false, message)
                }
                Err(err) => {
                    let message = err.to_string();
                    first_unreached.get_or_insert(err);
                    (false, message)
                }
            };
            outcomes.push(ItemOutcome {
                id: order.order_number.clone(),
                success,
                message,
            });
        }
        // No order reached a verdict: the warehouse is down, say so.
        match first_unreached {
            Some(err) if !any_decided => Err(err),
            _ => Ok(outcomes),
        }
    }

    async fn get_orders(
        &self,
        warehouse_code: &str,
        orders: &[OrderRef],
    ) -> Result<Vec<OrderState>, UpstreamError> {
        const METHOD: &str = "getOrder";
        // One call per order; a read, so any failure but a rejection fails
        // the whole batch and the caller may retry it as a whole.
        let calls: Vec<_> = orders
            .iter()
            .map(|order| async move {
                match self.order_call(METHOD, warehouse_code, order).await {
                    Ok(envelope) => wire::order_state(&root(envelope), &order.order_number)
                        .map_err(|kind| self.error(METHOD, kind)),
                    Err(UpstreamError {
                        kind: UpstreamErrorKind::Rejected { message, .. },
                        ..
                    }) => Ok(OrderState::unreported(&order.order_number, message)),
                    Err(err) => Err(err),
                }
            })
            .collect();
        stream::iter(calls)
            .buffered(MAX_IN_FLIGHT_PER_BATCH)
            .try_collect()
            .await
    }

    async fn create_asn(&self, mut asn: NewAsn) -> Result<CreatedAsn, UpstreamError> {
        const METHOD: &str = "createAsnOrder";
        let content = self.encode(METHOD, &wire::AsnContent::new(&asn))?;
        let asn_number = std::mem::take(&mut asn.asn_number);
        // Freed now, on the thread that decoded it, not after the answer.
        drop(asn);
        let envelope = self.exchange_content(METHOD, &content).await?;
        let flagged = has_success_flag(&envelope.fields);
        let (success, message, code) = (
            envelope.success,
            envelope.message.clone(),
            envelope.code.clone(),
        );
        let root = root(envelope);
        let results = wire::results(&root).map_err(|kind| self.error(METHOD, kind))?;
        let first = results.first().cloned().unwrap_or_default();
        if !success {
            return Err(self.error(METHOD, rejected(&message, &first.info, code)));
        }
        if item_rejection(&first, flagged) {
            return Err(self.error(METHOD, rejected(&first.info, &message, code)));
        }
        Ok(CreatedAsn {
            asn_number,
            wms_asn_number: wire::wms_asn_number(&root, &results),
        })
    }

    async fn get_asns(
        &self,
        warehouse_code: &str,
        asns: &[AsnRef],
    ) -> Result<Vec<AsnState>, UpstreamError> {
        const METHOD: &str = "getAsnList";
        let numbers = asns.iter().map(|asn| asn.asn_number.as_str()).collect();
        let content = wire::AsnNumbersContent::new(numbers, warehouse_code);
        let envelope = self.send(METHOD, Some(&content)).await?;
        wire::asn_states(&root(envelope)).map_err(|kind| self.error(METHOD, kind))
    }

    async fn cancel_asns(
        &self,
        warehouse_code: &str,
        asn_numbers: &[String],
    ) -> Result<Vec<AsnCancelOutcome>, UpstreamError> {
        const METHOD: &str = "cancelAsnOrder";
        let numbers = asn_numbers.iter().map(String::as_str).collect();
        let content = wire::AsnNumbersContent::new(numbers, warehouse_code);
        // A batch: `success: false` at the top is every unlisted ASN's
        // outcome, not an error of the call.
        let envelope = self.exchange(METHOD, Some(&content)).await?;
        let success = envelope.success;
        let message = if envelope.message.is_empty() {
            "the warehouse answered success=false without a message".to_owned()
        } else {
            envelope.message.clone()
        };
        let results = wire::results(&root(envelope)).map_err(|kind| self.error(METHOD, kind))?;
        // `success: false` with an item that says why is a partial batch:
        // the listed ASNs with nothing to say were cancelled. With no item
        // saying why, the failure is the whole call's, listed ASNs included.
        let failure_explained = results.iter().any(|item| match item.success {
            Some(ok) => !ok,
            None => !item.info.is_empty(),
        });
        let silent_item_cancelled = success || failure_explained;
        Ok(asn_numbers
            .iter()
            .map(|asn_number| {
                let listed = results
                    .iter()
                    .find(|item| item.asn_number.trim() == asn_number.trim());
                match listed {
                    Some(item) => {
                        let ok = item
                            .success
                            .unwrap_or(item.info.is_empty() && silent_item_cancelled);
                        AsnCancelOutcome {
                            asn_number: asn_number.clone(),
                            success: ok,
                            message: if ok {
                                String::new()
                            } else if item.info.is_empty() {
                                message.clone()
                            } else {
                                item.info.clone()
                            },
                            operation: item.operation.clone(),
                        }
                    }
                    None => AsnCancelOutcome {
                        asn_number: asn_number.clone(),
                        success,
                        message: if success {
                            String::new()
                        } else {
                            message.clone()
                        },
                        operation: String::new(),
                    },
                }
            })
            .collect())
    }

    fn sync_inventory(self: Arc<Self>, query: InventoryQuery) -> InventoryStream {
        let pager = InventoryPager::new(self, query);
        stream::unfold(Some(pager), |state| async move {
            let mut pager = state?;
            match pager.next_page().await {
                Ok(page) => {
                    let more = !page.is_last_page;
                    Some((Ok(page), more.then_some(pager)))
                }
                // One error, then the stream ends.
                Err(err) => Some((Err(err), None)),
            }
        })
        .boxed()
    }

    async fn upsert_sku(&self, sku: &SkuInfo) -> Result<SkuUpserted, UpstreamError> {
        const METHOD: &str = "insert_sku_info";
        let envelope = self
            .exchange(METHOD, Some(&wire::SkuContent::new(sku)))
            .await?;
        let flagged = has_success_flag(&envelope.fields);
        let (success, message, code) = (
            envelope.success,
            envelope.message.clone(),
            envelope.code.clone(),
        );
        let results = wire::results(&root(envelope)).map_err(|kind| self.error(METHOD, kind))?;
        let first = results
            .iter()
            .find(|item| item.sku == sku.sku)
            .or(results.first())
            .cloned()
            .unwrap_or_default();
        if !success {
            return Err(self.error(METHOD, rejected(&message, &first.info, code)));
        }
        if item_rejection(&first, flagged) {
            return Err(self.error(METHOD, rejected(&first.info, &message, code)));
        }
        Ok(SkuUpserted {
            sku: sku.sku.clone(),
            // `results` is the spec's failure set and may be absent on
            // success; CREATE is the only operation the spec names here.
            operation: if first.operation.is_empty() {
                "CREATE".to_owned()
            } else {
                first.operation
            },
        })
    }
}

/// Pages through `syncInventory` one upstream page per poll. Qianyi filters
/// by at most one `warehouseSku`, so several SKUs are paged one after the
/// other, with a running page number.
struct InventoryPager {
    backend: Arc<QianyiBackend>,
    warehouse_code: String,
    page_size: u32,
    /// Empty: everything, unfiltered.
    skus: Vec<String>,
    /// The SKU being paged (index into `skus`).
    sku_index: usize,
    /// The next upstream page to ask for.
    page: u32,
    /// Pages handed out so far.
    emitted: u32,
}

impl InventoryPager {
    fn new(backend: Arc<QianyiBackend>, query: InventoryQuery) -> Self {
        Self {
            backend,
            warehouse_code: query.warehouse_code,
            page_size: if query.page_size == 0 {
                DEFAULT_PAGE_SIZE
            } else {
                query.page_size
            },
            // Qianyi has no `updated_since` filter: every matching row comes.
            skus: query.skus,
            sku_index: 0,
            page: 1,
            emitted: 0,
        }
    }

    async fn next_page(&mut self) -> Result<InventoryPage, UpstreamError> {
        if self.emitted >= MAX_INVENTORY_PAGES {
            return Err(self.backend.error(
                "syncInventory",
                UpstreamErrorKind::Malformed(format!(
                    "the warehouse kept reporting more pages after {MAX_INVENTORY_PAGES}"
                )),
            ));
        }
        let content = wire::InventoryContent {
            page_size: self.page_size,
            page: self.page,
            warehouse_code: &self.warehouse_code,
            warehouse_sku: self.skus.get(self.sku_index).map(String::as_str),
        };
        let answer = self.backend.inventory_page(&content).await?;
        self.emitted += 1;

        let current_page = answer
            .current_page
            .filter(|page| *page > 0)
            .unwrap_or(i64::from(self.page));
        let page_count = answer.page_count.filter(|count| *count > 0).unwrap_or(0);
        let sku_done = answer.is_last_page == Some(true)
            || (page_count > 0 && current_page >= page_count)
            || answer.items.is_empty()
            // With neither flag, a short page is the last, and so is a long
            // one: more rows than asked for means paging is ignored.
            || (answer.is_last_page.is_none()
                && page_count == 0
                && answer.items.len() != self.page_size as usize);
        let last_sku = self.sku_index + 1 >= self.skus.len();
        let is_last_page = sku_done && last_sku;
        let several_skus = self.skus.len() > 1;
        let page = InventoryPage {
            page: if several_skus {
                self.emitted
            } else {
                u32::try_from(current_page).unwrap_or(self.page)
            },
            page_count: if several_skus {
                0
            } else {
                u32::try_from(page_count).unwrap_or(0)
            },
            is_last_page,
            items: answer.items,
        };
        if sku_done {
            self.sku_index += 1;
            self.page = 1;
        } else {
            self.page += 1;
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use std::{
        str::FromStr,
        sync::{
            Mutex,
            atomic::{AtomicUsize, Ordering},
        },
        time::Duration,
    };

    use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
    use bytes::Bytes;
    use futures::StreamExt;
    use rust_decimal::Decimal;
    use serde_json::json;

    use super::*;
    use crate::domain::{
        AsnBox, AsnItem, AsnStatus, Cod, OrderItem, OrderStatus, Package, Receiver,
    };
    use crate::upstream::sign::qianyi_sign;

    const ACCESS_ID: &str = "3215435";
    const SECRET_KEY: &str = "s3cret";

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn credentials() -> QianyiCredentials {
        QianyiCredentials {
            access_id: ACCESS_ID.to_owned(),
            secret_key: SecretString::from(SECRET_KEY),
            warehouse_type: Some("QIANYI_WMS".to_owned()),
            secret: Some(SecretString::from("wh-token")),
        }
    }

    fn backend(endpoint: &str) -> Arc<QianyiBackend> {
        Arc::new(QianyiBackend::new(
            Arc::from("acme-eu"),
            endpoint.to_owned(),
            credentials(),
            HttpTransport::new(Duration::from_secs(5)).unwrap(),
        ))
    }

    fn content_of(params: &impl Serialize) -> String {
        serde_json::to_string(params).unwrap()
    }

    fn order() -> NewOrder {
        NewOrder {
            order_number: "CESH210204147401".to_owned(),
            online_order_id: "113195753779".to_owned(),
            shop_name: "测试".to_owned(),
            warehouse_code: "QY_01".to_owned(),
            logistics_code: "FedexGround".to_owned(),
            platform: "tiktok".to_owned(),
            freight: dec("20.0"),
            receiver: Receiver {
                name: "Kimberly White".to_owned(),
                phone: "1889838055188".to_owned(),
                email: String::new(),
                country: "US".to_owned(),
                state: "AR".to_owned(),
                city: "Harrison".to_owned(),
                district: String::new(),
                address1: "TestStreet1".to_owned(),
                address2: String::new(),
                postal_code: "72601".to_owned(),
            },
            items: vec![OrderItem {
                sku: "CL0000000000001".to_owned(),
                erp_sku: "ERP-1".to_owned(),
                name: "Cup".to_owned(),
                quantity: 1,
                amount: dec("120.00"),
                shipping_price: Some(dec("20.0")),
                hs_code: "CL0000000000001".to_owned(),
                chinese_customs_declaration_name: "测试商品".to_owned(),
                english_customs_declaration_name: String::new(),
            }],
            package: Package::Normal,
            cod: None,
            order_created_at_ms: Some(1_700_000_000_000),
            delivery_time_ms: None,
            online_shop_id: String::new(),
            // qlink-only: must never reach a Qianyi warehouse.
            house_number: "12B".to_owned(),
            total_price: Some(dec("140.00")),
            currency: "USD".to_owned(),
            pay_time_ms: Some(1_700_000_000_001),
            insurance: true,
            insurance_value: Some(dec("9.99")),
            user_nick: "kim".to_owned(),
        }
    }

    // ---- request bodies and content ------------------------------------

    #[test]
    fn warehouses_body_has_empty_content_and_keys_in_spec_order() {
        let backend = backend("http://127.0.0.1:1/qianyi");
        let body = String::from_utf8(backend.body("warehouses", &Content::empty())).unwrap();
        let sign = qianyi_sign(ACCESS_ID, "", SECRET_KEY);
        assert_eq!(
            body,
            format!(
                r#"{{"accessId":"3215435","method":"warehouses","content":"","sign":"{sign}"}}"#
            )
        );
    }

    #[test]
    fn content_is_a_json_string_and_the_sign_covers_exactly_it() {
        let backend = backend("http://127.0.0.1:1/qianyi");
        let content = content_of(&wire::InventoryContent {
            page_size: 1000,
            page: 1,
            warehouse_code: "WH000005",
            warehouse_sku: None,
        });
        assert_eq!(
            content,
            r#"{"pageSize":1000,"page":1,"warehouseCode":"WH000005"}"#
        );
        let encoded = Content::encode(&wire::InventoryContent {
            page_size: 1000,
            page: 1,
            warehouse_code: "WH000005",
            warehouse_sku: None,
        })
        .unwrap();
        let body = String::from_utf8(backend.body("syncInventory", &encoded)).unwrap();
        let sign = qianyi_sign(ACCESS_ID, &content, SECRET_KEY);
        assert_eq!(
            body,
            format!(
                r#"{{"accessId":"3215435","method":"syncInventory","content":"{{\"pageSize\":1000,\"page\":1,\"warehouseCode\":\"WH000005\"}}","sign":"{sign}"}}"#
            )
        );
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["content"].as_str(), Some(content.as_str()));
    }

    #[test]
    fn sync_inventory_content_uses_the_table_names_and_integers() {
        let content = content_of(&wire::InventoryContent {
            page_size: 50,
            page: 3,
            warehouse_code: "wms",
            warehouse_sku: Some("sku"),
        });
        assert_eq!(
            content,
            r#"{"pageSize":50,"page":3,"warehouseCode":"wms","warehouseSku":"sku"}"#
        );
    }

    #[test]
    fn create_order_content_is_the_qianyi_table_with_exact_money() {
        let order = order();
        let content = content_of(&wire::OrderContent::new(&order));
        assert_eq!(
            content,
            concat!(
                r#"{"orderNumber":"CESH210204147401","onlineOrderId":"113195753779","shopName":"测试","#,
                r#""warehouseCode":"QY_01","logisticsCode":"FedexGround","platform":"tiktok","#,
                r#""freight":20.0,"packageType":"NORMAL","codEnabled":0,"orderCreate":1700000000000,"#,
                r#""receiver":{"name":"Kimberly White","phone":"1889838055188","email":"","country":"US","#,
                r#""state":"AR","city":"Harrison","address1":"TestStreet1","postalCode":"72601"},"#,
                r#""skuList":[{"sku":"CL0000000000001","erpSku":"ERP-1","name":"Cup","quantity":1,"#,
                r#""amount":120.00,"shippingPrice":20.0,"hsCode":"CL0000000000001","#,
                r#""chineseCustomsDeclarationName":"测试商品"}]}"#
            )
        );
        for qlink_only in [
            "\"ext\"",
            "\"houseNumber\"",
            "\"totalPrice\"",
            "\"currency\"",
            "\"payTimeLocal\"",
            "\"isInsurance\"",
            "\"insuranceValue\"",
            "\"userNick\"",
        ] {
            assert!(!content.contains(qlink_only), "{qlink_only} in {content}");
        }
    }

    #[test]
    fn self_shipped_cod_order_sends_own_package_label_and_cod() {
        let mut order = order();
        order.package = Package::SelfShipped {
            tracking_number: "1Z999".to_owned(),
            label_pdf: b"%PDF-1.4".to_vec(),
        };
        order.cod = Some(Cod {
            amount: dec("12.50"),
            currency: "USD".to_owned(),
        });
        let content: Value =
            serde_json::from_str(&content_of(&wire::OrderContent::new(&order))).unwrap();
        assert_eq!(content["packageType"], "OWN_PACKAGE");
        assert_eq!(content["trackingNumber"], "1Z999");
        assert_eq!(content["labelData"], "JVBERi0xLjQ=");
        assert_eq!(content["codEnabled"], 1);
        assert_eq!(content["codCurrency"], "USD");
        assert!(content["codPayAmount"].is_number());
        let text = content_of(&wire::OrderContent::new(&order));
        assert!(text.contains(r#""codPayAmount":12.50,"#), "{text}");
    }

    #[test]
    fn order_ref_content_omits_what_is_not_given() {
        assert_eq!(
            content_of(&wire::OrderRefContent::new("O1", "QY_01", "")),
            r#"{"orderNumber":"O1","warehouseCode":"QY_01"}"#
        );
        assert_eq!(
            content_of(&wire::OrderRefContent::new("O1", "", "W1")),
            r#"{"orderNumber":"O1","warehouseOrderNumber":"W1"}"#
        );
    }

    #[test]
    fn asn_content_has_only_the_qianyi_fields() {
        let asn = NewAsn {
            asn_number: "A240925139551".to_owned(),
            warehouse_code: "53".to_owned(),
            items: vec![AsnItem {
                sku: "CLO-CNQM5069BL".to_owned(),
                name: String::new(),
                quantity: 2,
            }],
            custom_number: String::new(),
            estimated_arrival_ms: None,
            track_number: "A240925139551".to_owned(),
            asn_type: String::new(),
            order_number: String::new(),
            online_order_id: String::new(),
            sale_return_reason: String::new(),
            boxes: vec![AsnBox {
                box_number: Some(1),
                mark_code: "QY556553-A240925139551-1".to_owned(),
                quantity: Some(2),
                sku: "CLO-CNQM5069BL".to_owned(),
                name: String::new(),
                length: Some(dec("1.0")),
                width: Some(dec("1.0")),
                height: Some(dec("1.0")),
                length_unit: "cm".to_owned(),
            }],
            goods_type: Some(1),
            container_type: Some(2),
            bulk_cargo_by_pallet: true,
            pallet_count: Some(3),
            bulk_cargo_by_piece: false,
            container_model: "x".to_owned(),
        };
        assert_eq!(
            content_of(&wire::AsnContent::new(&asn)),
            concat!(
                r#"{"asnNumber":"A240925139551","warehouseCode":"53","trackNumber":"A240925139551","#,
                r#""skuList":[{"sku":"CLO-CNQM5069BL","quantity":2}],"#,
                r#""asnMarkSku":[{"boxNumber":1,"markCode":"QY556553-A240925139551-1","quantity":2,"#,
                r#""sku":"CLO-CNQM5069BL","length":1.0,"width":1.0,"height":1.0}]}"#
            )
        );
        assert_eq!(
            content_of(&wire::AsnNumbersContent::new(vec!["A1", "A2"], "")),
            r#"{"asnNumbers":["A1","A2"]}"#
        );
        assert_eq!(
            content_of(&wire::AsnNumbersContent::new(vec!["A1"], "warehouse1")),
            r#"{"asnNumbers":["A1"],"warehouseCode":"warehouse1"}"#
        );
    }

    #[test]
    fn sku_content_has_only_the_qianyi_fields() {
        let sku = SkuInfo {
            warehouse_code: "53".to_owned(),
            sku: "A1234".to_owned(),
            erp_sku: "E1234".to_owned(),
            title: "A1234名称".to_owned(),
            weight: Some(dec("1.250")),
            dimension_unit: "cm".to_owned(),
            item_package: Some(4),
            brand: "qlink-only".to_owned(),
            customs_declaration_price: Some(dec("3.5")),
            ..SkuInfo::default()
        };
        assert_eq!(
            content_of(&wire::SkuContent::new(&sku)),
            r#"{"warehouseCode":"53","sku":"A1234","erpSku":"E1234","title":"A1234名称","weight":1.250,"dimensionUnit":"cm","itemPackage":4}"#
        );
    }

    // ---- answers ----------------------------------------------------------

    #[test]
    fn typed_inventory_pages_agree_with_the_tolerant_reader() {
        let row = r#"{"warehouseCode":"wms","warehouseSku":"sku","onwayQuantity":"11","pendingQuantity":22,"sellableQuantity":"33","unsellableQuantity":null,"reservedQuantity":"22","useQuantity":11.0,"totalQuantity":"99"}"#;
        let usual = [
            // The spec: paging at the top, rows in `data`.
            format!(
                r#"{{"success":"true","message":"","isLastPage":true,"currentPage":1,"pageCount":1,"data":[{row}]}}"#
            ),
            // A page object in `data`, flags as strings.
            format!(
                r#"{{"success":true,"data":{{"isLastPage":"false","currentPage":"2","pageCount":"5","data":[{row},{row}]}}}}"#
            ),
            // A page object under another item key, paging split between levels.
            format!(
                r#"{{"success":1,"pageCount":7,"data":{{"currentPage":3,"isLastPage":null,"records":[{row}],"total":1}}}}"#
            ),
            // A bare list, `sku` for `warehouseSku`, no paging.
            r#"{"success":true,"code":"0","data":[{"sku":"a"},{"warehouseSku":"b","sellableQuantity":"5"}]}"#
                .to_owned(),
            // An empty page.
            r#"{"success":true,"isLastPage":"Y","data":[]}"#.to_owned(),
        ];
        for answer in &usual {
            let typed = wire::typed_inventory_page(answer.as_bytes())
                .unwrap_or_else(|| panic!("typed: {answer}"));
            let tolerant = wire::inventory_page(&envelope_root(answer)).unwrap();
            assert_eq!(typed, tolerant, "{answer}");
        }
        // Shapes left to the tolerant reader.
        for odd in [
            r#"{"success":false,"message":"no such warehouse","data":[]}"#,
            r#"{"message":"","data":[]}"#,
            r#"{"success":true,"data":{"warehouseSku":"one row"}}"#,
            r#"{"success":true,"data":{"list":[],"records":[]}}"#,
            r#"{"success":true,"data":{"isLastPage":true}}"#,
            r#"{"success":true,"list":[{"warehouseSku":"a"}]}"#,
            r#"{"success":true,"data":[{"warehouseSku":"a"},"not a row"]}"#,
            r#"{"success":true,"data":null}"#,
            "not json",
        ] {
            assert!(
                wire::typed_inventory_page(odd.as_bytes()).is_none(),
                "{odd}"
            );
        }
    }

    fn envelope_root(body: &str) -> Value {
        root(
            Envelope::parse(body.as_bytes())
                .unwrap()
                .into_success()
                .unwrap(),
        )
    }

    #[test]
    fn spec_example_answers_parse() {
        let warehouses = wire::warehouses(&envelope_root(
            r#"{"success":"true","message":"","warehouseList":[{"warehouseCode":"CA1","warehouseName":"CA Warehouse"},{"warehouseCode":"CA2","warehouseName":" CA Warehouse 2"}]}"#,
        ))
        .unwrap();
        assert_eq!(warehouses.len(), 2);
        assert_eq!(
            (warehouses[1].code.as_str(), warehouses[1].name.as_str()),
            ("CA2", " CA Warehouse 2")
        );

        let channels = wire::channels(
            &envelope_root(
                r#"{"success":"true","message":"","channelList":[{"channelCode":"FedexGround","channelName":"FedEx Ground","carrierName":"FEDEX"}]}"#,
            ),
            "CA1",
        )
        .unwrap();
        assert_eq!(
            channels,
            vec![Channel {
                code: "FedexGround".to_owned(),
                name: "FedEx Ground".to_owned(),
                warehouse_code: "CA1".to_owned(),
                carrier_name: "FEDEX".to_owned(),
            }]
        );

        assert_eq!(
            wire::warehouse_order_number(&envelope_root(
                r#"{"success":"true","message":"","data":{"warehouseOrderNumber":"S111111-09987666"}}"#
            )),
            "S111111-09987666"
        );

        let state = wire::order_state(
            &envelope_root(
                r#"{"success":"true","message":"","data":{"orderNumber":"S0000001","wmsStatus":"Shipped","status":"SUCCESS","carrierName":"FEDEX","trackingNumber":"TEST0001"}}"#,
            ),
            "S0000001",
        )
        .unwrap();
        assert_eq!(state.status, OrderStatus::Success);
        assert_eq!(state.wms_status, "Shipped");
        assert_eq!(state.tracking_number, "TEST0001");
        assert_eq!(state.error_message, "");

        let page = wire::inventory_page(&envelope_root(
            r#"{"success":"true","message":"","isLastPage":true,"currentPage":1,"pageCount":1,"data":[{"warehouseCode":"wms","warehouseSku":"sku","onwayQuantity":"11","pendingQuantity":"22","sellableQuantity":"33","unsellableQuantity":"0","reservedQuantity":"22","useQuantity":"11","totalQuantity":"99"}]}"#,
        ))
        .unwrap();
        assert_eq!(page.is_last_page, Some(true));
        assert_eq!((page.current_page, page.page_count), (Some(1), Some(1)));
        assert_eq!(
            page.items,
            vec![crate::domain::InventoryItem {
                sku: "sku".to_owned(),
                warehouse_code: "wms".to_owned(),
                sellable: 33,
                total: 99,
                onway: 11,
                pending: 22,
                unsellable: 0,
                reserved: 22,
                used: 11,
            }]
        );

        let asns = wire::asn_states(&envelope_root(
            r#"{"success":"true","message":"","asnList":[{"asnNumber":"sja11122","wmsStatus":"NEW","finishTime":"2024-10-26 12:23:34","referenceNumber":"A123445","skuList":[{"sku":"acs","name":"Cup","estimatedQuantity":12,"receivedQuantity":"12","goodQuantity":5,"badQuantity":"7"}]}]}"#,
        ))
        .unwrap();
        assert_eq!(asns.len(), 1);
        assert_eq!(asns[0].status, AsnStatus::New);
        assert_eq!(asns[0].reference_number, "A123445");
        assert_eq!(
            (
                asns[0].items[0].received_quantity,
                asns[0].items[0].bad_quantity
            ),
            (12, 7)
        );
    }

    #[test]
    fn tolerated_answer_shapes() {
        // Paging inside `data`, numbers as strings.
        let page = wire::inventory_page(&envelope_root(
            r#"{"success":true,"data":{"isLastPage":"false","currentPage":"2","pageCount":"5","data":[{"warehouseSku":"a","sellableQuantity":1}]}}"#,
        ))
        .unwrap();
        assert_eq!(
            (
                page.is_last_page,
                page.current_page,
                page.page_count,
                page.items.len()
            ),
            (Some(false), Some(2), Some(5), 1)
        );
        // `data` as a bare list, no paging fields.
        let page = wire::inventory_page(&envelope_root(
            r#"{"success":true,"data":[{"warehouseSku":"a"},{"warehouseSku":"b"}]}"#,
        ))
        .unwrap();
        assert_eq!((page.is_last_page, page.items.len()), (None, 2));
        // getOrder fields at the top, and as a list.
        let state = wire::order_state(
            &envelope_root(r#"{"success":true,"wmsStatus":"x","status":"cancelled"}"#),
            "O1",
        )
        .unwrap();
        assert_eq!(
            (state.order_number.as_str(), state.status),
            ("O1", OrderStatus::Cancel)
        );
        let state = wire::order_state(
            &envelope_root(
                r#"{"success":true,"data":[{"orderNumber":"O0","status":"FAILED"},{"orderNumber":"O1","status":"SENDING"}]}"#,
            ),
            "O1",
        )
        .unwrap();
        assert_eq!(state.status, OrderStatus::Sending);
        let state = wire::order_state(&envelope_root(r#"{"success":true}"#), "O1").unwrap();
        assert!(!state.error_message.is_empty());
        // `results` as one object.
        let results = wire::results(&envelope_root(
            r#"{"success":true,"results":{"asnNumber":"A1","operation":"CANCEL","info":"","success":"true"}}"#,
        ))
        .unwrap();
        assert_eq!(results[0].success, Some(true));
        assert_eq!(
            wire::wms_asn_number(
                &envelope_root(r#"{"success":true,"data":{"wmsAsnNumber":"W-1"}}"#),
                &[]
            ),
            "W-1"
        );
    }

    #[test]
    fn lists_wrapped_in_a_data_object_are_read() {
        let warehouses = wire::warehouses(&envelope_root(
            r#"{"success":"true","data":{"warehouseList":[{"warehouseCode":"CA1","warehouseName":"CA Warehouse"},{"warehouseCode":"CA2","warehouseName":"CA Warehouse 2"}]}}"#,
        ))
        .unwrap();
        let codes: Vec<&str> = warehouses.iter().map(|wh| wh.code.as_str()).collect();
        assert_eq!(codes, ["CA1", "CA2"]);

        let channels = wire::channels(
            &envelope_root(
                r#"{"success":"true","data":{"total":2,"channelList":[{"channelCode":"FedexGround","carrierName":"FEDEX"},{"channelCode":"UPSGround","carrierName":"UPS"}]}}"#,
            ),
            "CA1",
        )
        .unwrap();
        let codes: Vec<&str> = channels.iter().map(|ch| ch.code.as_str()).collect();
        assert_eq!(codes, ["FedexGround", "UPSGround"]);
        assert!(channels.iter().all(|ch| ch.warehouse_code == "CA1"));

        let asns = wire::asn_states(&envelope_root(
            r#"{"success":"true","data":{"asnList":[{"asnNumber":"A1","wmsStatus":"NEW"},{"asnNumber":"A2","wmsStatus":"FINISHED"}]}}"#,
        ))
        .unwrap();
        let numbers: Vec<&str> = asns.iter().map(|asn| asn.asn_number.as_str()).collect();
        assert_eq!(numbers, ["A1", "A2"]);
        assert_eq!(asns[1].status, AsnStatus::Finished);

        // A wrapped empty list is no record at all, not one empty record.
        let warehouses = wire::warehouses(&envelope_root(
            r#"{"success":true,"data":{"warehouseList":[]}}"#,
        ))
        .unwrap();
        assert!(warehouses.is_empty(), "{warehouses:?}");
        // A `data` object holding no list is still one record, its own
        // lists (an ASN's skuList) left alone.
        let asns = wire::asn_states(&envelope_root(
            r#"{"success":true,"data":{"asnNumber":"A1","wmsStatus":"NEW","skuList":[{"sku":"S1"},{"sku":"S2"}]}}"#,
        ))
        .unwrap();
        assert_eq!(asns.len(), 1);
        assert_eq!(
            (asns[0].asn_number.as_str(), asns[0].items.len()),
            ("A1", 2)
        );
    }

    // ---- against a tiny warehouse ----------------------------------------

    /// What the fake warehouse saw of one call.
    #[derive(Debug, Clone)]
    struct Seen {
        method: String,
        content: String,
        sign_valid: bool,
        warehouse_type: Option<String>,
        secret: Option<String>,
    }

    type Answer = Arc<dyn Fn(&str, &Value) -> (u64, u16, Value) + Send + Sync>;

    #[derive(Clone)]
    struct Fake {
        answer: Answer,
        seen: Arc<Mutex<Vec<Seen>>>,
        in_flight: Arc<AtomicUsize>,
        max_in_flight: Arc<AtomicUsize>,
    }

    async fn fake_handler(
        State(fake): State<Fake>,
        headers: axum::http::HeaderMap,
        body: Bytes,
    ) -> (StatusCode, Json<Value>) {
        let now = fake.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        fake.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let body: Value = serde_json::from_slice(&body).unwrap();
        let method = body["method"].as_str().unwrap().to_owned();
        let content = body["content"].as_str().unwrap().to_owned();
        let header = |name: &str| {
            headers
                .get(name)
                .map(|value| value.to_str().unwrap().to_owned())
        };
        fake.seen.lock().unwrap().push(Seen {
            method: method.clone(),
            sign_valid: body["sign"].as_str()
                == Some(&qianyi_sign(ACCESS_ID, &content, SECRET_KEY)),
            content: content.clone(),
            warehouse_type: header("warehouseType"),
            secret: header("secret"),
        });
        let business = if content.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&content).unwrap()
        };
        let (delay_ms, status, answer) = (fake.answer)(&method, &business);
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        fake.in_flight.fetch_sub(1, Ordering::SeqCst);
        (StatusCode::from_u16(status).unwrap(), Json(answer))
    }

    async fn spawn_fake(
        answer: impl Fn(&str, &Value) -> (u64, u16, Value) + Send + Sync + 'static,
    ) -> (String, Fake) {
        let fake = Fake {
            answer: Arc::new(answer),
            seen: Arc::default(),
            in_flight: Arc::default(),
            max_in_flight: Arc::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/qianyi", post(fake_handler))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}/qianyi"), fake)
    }

    fn seen(fake: &Fake) -> Vec<Seen> {
        fake.seen.lock().unwrap().clone()
    }

    #[tokio::test]
    async fn list_warehouses_round_trip_with_headers() {
        let (url, fake) = spawn_fake(|_, _| {
            (0, 200, json!({"success":"true","message":"","warehouseList":[{"warehouseCode":"CA1","warehouseName":"CA"}]}))
        })
        .await;
        let warehouses = backend(&url).list_warehouses().await.unwrap();
        assert_eq!(warehouses[0].code, "CA1");
        let seen = seen(&fake);
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].method, "warehouses");
        assert_eq!(seen[0].content, "");
        assert!(seen[0].sign_valid);
        assert_eq!(seen[0].warehouse_type.as_deref(), Some("QIANYI_WMS"));
        assert_eq!(seen[0].secret.as_deref(), Some("wh-token"));
    }

    #[tokio::test]
    async fn channels_filter_and_rejection() {
        let (url, fake) = spawn_fake(|_, content| {
            if content["warehouseCode"] == "NOPE" {
                (0, 200, json!({"success":"false","message":"unknown warehouse NOPE"}))
            } else {
                (0, 200, json!({"success":"true","channelList":[{"channelCode":"C","channelName":"c","warehouseCode":"CA1","carrierName":"UPS"}]}))
            }
        })
        .await;
        let backend = backend(&url);
        assert_eq!(backend.list_channels("").await.unwrap().len(), 1);
        let err = backend.list_channels("NOPE").await.unwrap_err();
        assert_eq!(err.operation, "channels");
        assert!(
            matches!(&err.kind, UpstreamErrorKind::Rejected { message, .. } if message == "unknown warehouse NOPE")
        );
        let seen = seen(&fake);
        assert_eq!(seen[0].content, "");
        assert_eq!(seen[1].content, r#"{"warehouseCode":"NOPE"}"#);
    }

    fn refs(numbers: &[&str]) -> Vec<OrderRef> {
        numbers
            .iter()
            .map(|number| OrderRef {
                order_number: (*number).to_owned(),
                ..OrderRef::default()
            })
            .collect()
    }

    #[tokio::test]
    async fn get_orders_fans_out_bounded_and_keeps_input_order() {
        let (url, fake) = spawn_fake(|_, content| {
            let number = content["orderNumber"].as_str().unwrap().to_owned();
            let index: u64 = number.trim_start_matches('O').parse().unwrap();
            // Later orders answer sooner, so completion order is reversed.
            let delay = 200 - index * 10;
            if number == "O3" {
                (
                    delay,
                    200,
                    json!({"success":"false","message":"order O3 not found"}),
                )
            } else {
                (
                    delay,
                    200,
                    json!({"success":"true","data":{"wmsStatus":"Shipped","status":"SUCCESS"}}),
                )
            }
        })
        .await;
        let numbers: Vec<String> = (0..12).map(|i| format!("O{i}")).collect();
        let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
        let states = backend(&url)
            .get_orders("QY_01", &refs(&numbers))
            .await
            .unwrap();
        let got: Vec<&str> = states.iter().map(|s| s.order_number.as_str()).collect();
        assert_eq!(got, numbers);
        assert_eq!(states[3].error_message, "order O3 not found");
        assert_eq!(states[3].status, OrderStatus::Unspecified);
        assert_eq!(states[4].status, OrderStatus::Success);
        let max = fake.max_in_flight.load(Ordering::SeqCst);
        assert!(
            max > 1 && max <= MAX_IN_FLIGHT_PER_BATCH,
            "max in flight {max}"
        );
        assert!(
            seen(&fake)
                .iter()
                .all(|s| s.method == "getOrder" && s.sign_valid)
        );
    }

    #[tokio::test]
    async fn get_orders_maps_the_wms_status_when_status_says_nothing() {
        let (url, _fake) = spawn_fake(|_, content| {
            let data = match content["orderNumber"].as_str() {
                Some("O1") => json!({"wmsStatus":"Exception","status":"EXCEPTION","failedReason":"bad address"}),
                Some("O2") => json!({"wmsStatus":"Outbound completed","status":"","trackingNumber":"T2"}),
                Some("O3") => json!({"wmsStatus":"Outbound in progress"}),
                _ => json!({"wmsStatus":"error","status":"SENDING"}),
            };
            (0, 200, json!({"success":"true","message":"","data":data}))
        })
        .await;
        let states = backend(&url)
            .get_orders("", &refs(&["O1", "O2", "O3", "O4"]))
            .await
            .unwrap();
        let statuses: Vec<OrderStatus> = states.iter().map(|state| state.status).collect();
        assert_eq!(
            statuses,
            [
                OrderStatus::Failed,
                OrderStatus::Success,
                OrderStatus::Sending,
                // A known `status` wins over the warehouse's own words.
                OrderStatus::Sending,
            ]
        );
        assert_eq!(states[1].wms_status, "Outbound completed");
    }

    #[tokio::test]
    async fn get_orders_reports_the_order_asked_about() {
        // The spec's own example: asked for CESH210204147401, the answer
        // names S0000001. One call asks about one order, so it is that one.
        let (url, _fake) = spawn_fake(|_, _| {
            (0, 200, json!({"success":"true","message":"","data":{"orderNumber":"S0000001","wmsStatus":"Shipped","status":"SUCCESS","carrierName":"FEDEX","trackingNumber":"TEST0001"}}))
        })
        .await;
        let states = backend(&url)
            .get_orders("", &refs(&["CESH210204147401"]))
            .await
            .unwrap();
        assert_eq!(states.len(), 1);
        assert_eq!(states[0].order_number, "CESH210204147401");
        assert_eq!(states[0].status, OrderStatus::Success);
        assert_eq!(states[0].tracking_number, "TEST0001");
    }

    #[tokio::test]
    async fn get_orders_reads_the_push_spelling_of_carrier_and_tracking_too() {
        let (url, _fake) = spawn_fake(|_, content| {
            let data = match content["orderNumber"].as_str() {
                // The push's names, as some warehouses answer getOrder.
                Some("O1") => json!({"status":"SUCCESS","carrier":"UPS","trackNumber":"1Z999"}),
                // Both spellings, one of them empty.
                Some("O2") => json!({"status":"SUCCESS","carrierName":"","carrier":"DHL","trackingNumber":"T2","trackNumber":""}),
                _ => json!({"status":"SUCCESS","carrierName":"FEDEX","trackingNumber":"TEST0001"}),
            };
            (0, 200, json!({"success":"true","message":"","data":data}))
        })
        .await;
        let states = backend(&url)
            .get_orders("", &refs(&["O1", "O2", "O3"]))
            .await
            .unwrap();
        let shipped: Vec<(&str, &str)> = states
            .iter()
            .map(|state| (state.carrier_name.as_str(), state.tracking_number.as_str()))
            .collect();
        assert_eq!(
            shipped,
            [("UPS", "1Z999"), ("DHL", "T2"), ("FEDEX", "TEST0001")]
        );
    }

    #[tokio::test]
    async fn get_orders_fails_whole_on_a_malformed_answer() {
        let (url, _fake) = spawn_fake(|_, content| {
            if content["orderNumber"] == "O2" {
                (0, 200, json!(["not", "an", "object"]))
            } else {
                (
                    0,
                    200,
                    json!({"success":"true","data":{"status":"SENDING"}}),
                )
            }
        })
        .await;
        let err = backend(&url)
            .get_orders("", &refs(&["O1", "O2", "O3"]))
            .await
            .unwrap_err();
        assert_eq!(err.operation, "getOrder");
        assert!(matches!(err.kind, UpstreamErrorKind::Malformed(_)));
    }

    #[tokio::test]
    async fn cancel_orders_reports_each_order() {
        let (url, fake) = spawn_fake(
            |_, content| match content["orderNumber"].as_str().unwrap() {
                "O1" => (30, 200, json!({"success":"true","message":""})),
                "O2" => (
                    0,
                    200,
                    json!({"success":"false","message":"already shipped"}),
                ),
                _ => (0, 503, json!({"message":"maintenance"})),
            },
        )
        .await;
        let mut orders = refs(&["O1", "O2", "O3"]);
        orders[0].warehouse_order_number = "W1".to_owned();
        let outcomes = backend(&url).cancel_orders("QY_01", &orders).await.unwrap();
        assert_eq!(
            outcomes[..2],
            [
                ItemOutcome {
                    id: "O1".to_owned(),
                    success: true,
                    message: String::new()
                },
                ItemOutcome {
                    id: "O2".to_owned(),
                    success: false,
                    message: "already shipped".to_owned()
                },
            ]
        );
        assert_eq!(outcomes[2].id, "O3");
        assert!(!outcomes[2].success);
        assert!(
            outcomes[2].message.contains("HTTP 503"),
            "{}",
            outcomes[2].message
        );
        let mut contents: Vec<String> = seen(&fake)
            .into_iter()
            .filter(|s| s.method == "cancelOrder")
            .map(|s| s.content)
            .collect();
        contents.sort();
        assert_eq!(
            contents[0],
            r#"{"orderNumber":"O1","warehouseCode":"QY_01","warehouseOrderNumber":"W1"}"#
        );
    }

    #[tokio::test]
    async fn cancel_orders_with_the_warehouse_down_is_an_error() {
        let (url, _fake) = spawn_fake(|_, _| (0, 502, json!({"message":"bad gateway"}))).await;
        let err = backend(&url)
            .cancel_orders("", &refs(&["O1", "O2"]))
            .await
            .unwrap_err();
        assert_eq!(err.operation, "cancelOrder");
        assert!(matches!(
            err.kind,
            UpstreamErrorKind::Http { status: 502, .. }
        ));
        assert!(
            backend(&url)
                .cancel_orders("", &[])
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn inventory_pages_lazily_through_each_sku() {
        let (url, fake) = spawn_fake(|_, content| {
            let page = content["page"].as_u64().unwrap();
            let pages = if content["warehouseSku"] == "A" { 2 } else { 1 };
            let sku = content["warehouseSku"].clone();
            (
                0,
                200,
                json!({"success":"true","isLastPage": page >= pages, "currentPage": page, "pageCount": pages,
                       "data":[{"warehouseCode":"wms","warehouseSku":sku,"sellableQuantity":"3","totalQuantity":"4"}]}),
            )
        })
        .await;
        let query = InventoryQuery {
            warehouse_code: "wms".to_owned(),
            page_size: 50,
            skus: vec!["A".to_owned(), "B".to_owned()],
            updated_since_ms: None,
        };
        let mut stream = backend(&url).sync_inventory(query);
        let first = stream.next().await.unwrap().unwrap();
        assert_eq!(
            (first.page, first.page_count, first.is_last_page),
            (1, 0, false)
        );
        // Lazy: nothing more was asked for yet.
        assert_eq!(seen(&fake).len(), 1);
        let rest: Vec<InventoryPage> = stream.map(Result::unwrap).collect().await;
        let pages: Vec<(u32, bool, &str)> = rest
            .iter()
            .map(|p| (p.page, p.is_last_page, p.items[0].sku.as_str()))
            .collect();
        assert_eq!(pages, vec![(2, false, "A"), (3, true, "B")]);
        let contents: Vec<String> = seen(&fake).into_iter().map(|s| s.content).collect();
        assert_eq!(
            contents,
            vec![
                r#"{"pageSize":50,"page":1,"warehouseCode":"wms","warehouseSku":"A"}"#,
                r#"{"pageSize":50,"page":2,"warehouseCode":"wms","warehouseSku":"A"}"#,
                r#"{"pageSize":50,"page":1,"warehouseCode":"wms","warehouseSku":"B"}"#,
            ]
        );
    }

    #[tokio::test]
    async fn inventory_stops_after_an_error_or_a_short_bare_page() {
        let (url, _fake) = spawn_fake(|_, content| match content["page"].as_u64().unwrap() {
            1 => (0, 200, json!({"success":"true","isLastPage":false,"currentPage":1,"pageCount":3,"data":[{"warehouseSku":"a"}]})),
            _ => (0, 200, json!({"success":"false","message":"page out of range"})),
        })
        .await;
        let query = InventoryQuery {
            warehouse_code: "wms".to_owned(),
            page_size: 1,
            skus: Vec::new(),
            updated_since_ms: None,
        };
        let answers: Vec<_> = backend(&url).sync_inventory(query.clone()).collect().await;
        assert_eq!(answers.len(), 2);
        let first = answers[0].as_ref().unwrap();
        assert_eq!(
            (first.page, first.page_count, first.is_last_page),
            (1, 3, false)
        );
        assert!(
            matches!(&answers[1], Err(err) if matches!(err.kind, UpstreamErrorKind::Rejected { .. }))
        );

        // A bare list shorter than the page size is the last page.
        let (url, fake) = spawn_fake(|_, _| {
            (
                0,
                200,
                json!({"success":"true","data":[{"warehouseSku":"a"}]}),
            )
        })
        .await;
        let query = InventoryQuery {
            page_size: 10,
            ..query
        };
        let pages: Vec<_> = backend(&url).sync_inventory(query.clone()).collect().await;
        assert_eq!(pages.len(), 1);
        assert!(pages[0].as_ref().unwrap().is_last_page);
        assert_eq!(seen(&fake).len(), 1);

        // So is a bare list longer than the page size: paging is ignored,
        // and asking for page 2 would bring the same rows again.
        let (url, fake) = spawn_fake(|_, _| {
            (
                0,
                200,
                json!({"success":"true","data":[{"warehouseSku":"a"},{"warehouseSku":"b"},{"warehouseSku":"c"}]}),
            )
        })
        .await;
        let query = InventoryQuery {
            page_size: 2,
            ..query
        };
        let pages: Vec<_> = backend(&url).sync_inventory(query).collect().await;
        assert_eq!(pages.len(), 1);
        let only = pages[0].as_ref().unwrap();
        assert!(only.is_last_page);
        assert_eq!(only.items.len(), 3);
        assert_eq!(seen(&fake).len(), 1);
    }

    #[tokio::test]
    async fn cancel_asns_gives_one_outcome_per_input() {
        let (url, fake) = spawn_fake(|_, _| {
            (
                0,
                200,
                json!({"success":"false","message":"A2: already receiving","results":[
                    {"asnNumber":"A2","operation":"CANCEL","info":"already receiving","success":"false"},
                    {"asnNumber":"A1","operation":"CANCEL","info":""}
                ]}),
            )
        })
        .await;
        let asns = ["A1", "A2", "A3"].map(str::to_owned);
        let outcomes = backend(&url)
            .cancel_asns("warehouse1", &asns)
            .await
            .unwrap();
        let got: Vec<(&str, bool, &str)> = outcomes
            .iter()
            .map(|o| (o.asn_number.as_str(), o.success, o.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("A1", true, ""),
                ("A2", false, "already receiving"),
                ("A3", false, "A2: already receiving"),
            ]
        );
        assert_eq!(outcomes[0].operation, "CANCEL");
        assert_eq!(
            seen(&fake)[0].content,
            r#"{"asnNumbers":["A1","A2","A3"],"warehouseCode":"warehouse1"}"#
        );

        let (url, _fake) = spawn_fake(|_, _| {
            (
                0,
                200,
                json!({"success":"false","message":"sign verification failed"}),
            )
        })
        .await;
        let outcomes = backend(&url).cancel_asns("", &asns).await.unwrap();
        assert!(
            outcomes
                .iter()
                .all(|o| !o.success && o.message == "sign verification failed")
        );

        // No item says why the call failed: a listed ASN was not cancelled.
        let (url, _fake) = spawn_fake(|_, _| {
            (
                0,
                200,
                json!({"success":false,"message":"warehouse closed","results":[
                    {"asnNumber":"A1","operation":"CANCEL","info":""}
                ]}),
            )
        })
        .await;
        let outcomes = backend(&url).cancel_asns("", &asns[..1]).await.unwrap();
        assert_eq!(outcomes.len(), 1);
        assert!(!outcomes[0].success);
        assert_eq!(outcomes[0].message, "warehouse closed");
    }

    #[tokio::test]
    async fn create_asn_and_upsert_sku_read_results() {
        let (url, _fake) = spawn_fake(|method, content| match (method, content["asnNumber"].as_str()) {
            ("createAsnOrder", Some("BAD")) => (
                0,
                200,
                json!({"results":[{"asnNumber":"BAD","operation":"CREATE","info":"sku X unknown"}]}),
            ),
            ("createAsnOrder", _) => (
                0,
                200,
                json!({"success":true,"message":"","results":[{"asnNumber":"A1","operation":"CREATE","info":""}],"data":{"wmsAsnNumber":"W-9"}}),
            ),
            (_, _) if content["sku"] == "BAD" => (
                0,
                200,
                json!({"success":false,"message":"","results":[{"sku":"BAD","operation":"CREATE","info":"barcode taken"}]}),
            ),
            _ => (
                0,
                200,
                json!({"success":true,"message":"","results":[{"sku":"S1","operation":"UPDATE","info":""}]}),
            ),
        })
        .await;
        let backend = backend(&url);
        let mut asn = NewAsn {
            asn_number: "A1".to_owned(),
            warehouse_code: "53".to_owned(),
            items: vec![AsnItem {
                sku: "S1".to_owned(),
                name: String::new(),
                quantity: 1,
            }],
            custom_number: String::new(),
            estimated_arrival_ms: None,
            track_number: String::new(),
            asn_type: String::new(),
            order_number: String::new(),
            online_order_id: String::new(),
            sale_return_reason: String::new(),
            boxes: Vec::new(),
            goods_type: None,
            container_type: None,
            bulk_cargo_by_pallet: false,
            pallet_count: None,
            bulk_cargo_by_piece: false,
            container_model: String::new(),
        };
        let created = backend.create_asn(asn.clone()).await.unwrap();
        assert_eq!(
            (created.asn_number.as_str(), created.wms_asn_number.as_str()),
            ("A1", "W-9")
        );
        asn.asn_number = "BAD".to_owned();
        let err = backend.create_asn(asn.clone()).await.unwrap_err();
        assert!(
            matches!(&err.kind, UpstreamErrorKind::Rejected { message, .. } if message == "sku X unknown"),
            "{err}"
        );

        let mut sku = SkuInfo {
            sku: "S1".to_owned(),
            erp_sku: "E1".to_owned(),
            ..SkuInfo::default()
        };
        let upserted = backend.upsert_sku(&sku).await.unwrap();
        assert_eq!(
            (upserted.sku.as_str(), upserted.operation.as_str()),
            ("S1", "UPDATE")
        );
        sku.sku = "BAD".to_owned();
        let err = backend.upsert_sku(&sku).await.unwrap_err();
        assert_eq!(err.operation, "insert_sku_info");
        assert!(
            matches!(&err.kind, UpstreamErrorKind::Rejected { message, .. } if message == "barcode taken"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn upsert_sku_without_results_reports_the_specs_create() {
        // `results` is the spec's failure set, so a success may come without
        // it; insert_sku_info's only operation in the spec is CREATE.
        let (url, _fake) = spawn_fake(|_, content| {
            if content["sku"] == "EMPTY-OP" {
                (0, 200, json!({"success":"true","message":"","results":[{"sku":"EMPTY-OP","operation":"","info":""}]}))
            } else {
                (0, 200, json!({"success":"true","message":""}))
            }
        })
        .await;
        let backend = backend(&url);
        for sku in ["S1", "EMPTY-OP"] {
            let upserted = backend
                .upsert_sku(&SkuInfo {
                    sku: sku.to_owned(),
                    erp_sku: "E1".to_owned(),
                    ..SkuInfo::default()
                })
                .await
                .unwrap();
            assert_eq!(
                (upserted.sku.as_str(), upserted.operation.as_str()),
                (sku, "CREATE")
            );
        }
    }

    #[tokio::test]
    async fn create_order_sends_the_content_and_reads_the_number() {
        let (url, fake) = spawn_fake(|_, _| {
            (0, 200, json!({"success":"true","message":"","data":{"warehouseOrderNumber":"S111111-09987666"}}))
        })
        .await;
        let order = order();
        let created = backend(&url).create_order(order.clone()).await.unwrap();
        assert_eq!(created.warehouse_order_number, "S111111-09987666");
        assert_eq!(created.order_number, order.order_number);
        let seen = seen(&fake);
        assert_eq!(seen[0].method, "createOrder");
        assert!(seen[0].sign_valid);
        assert_eq!(
            seen[0].content,
            content_of(&wire::OrderContent::new(&order))
        );
    }
}
