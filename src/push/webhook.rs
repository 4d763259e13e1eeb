//! The Qianyi push webhooks (spec section 12), served on the HTTP listener:
//! `POST /sys/automatic/receiveOdo/{warehouseExtraType}` (`pushOrderInfo`)
//! and `POST /sys/automatic/receiveAsn/{warehouseExtraType}` (`pushAsnInfo`).
//! The body is the Qianyi envelope `{accessId, method, content, sign}`; the
//! signature is verified like any Qianyi request, with the tenant's `push`
//! key. Accepted pushes become events in the tenant's log. A body over
//! [`PUSH_BODY_LIMIT`] is refused like any other bad push.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{
        DefaultBodyLimit, Path, State,
        rejection::{BytesRejection, FailedToBufferBody},
    },
    http::StatusCode,
    routing::{MethodRouter, post},
};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::Value;
use warehouse_protocol::{qianyi::ReceivedRequest, tolerant::string_of};

use super::{AsnEvent, OrderEvent, PushConfig};
use crate::{
    domain::{
        AsnReceipt, AsnStatus, OrderStatus,
        fingerprint::{earlier_fingerprint, fingerprint},
    },
    metrics::Metrics,
    store::{Appended, EventKind, NewPush, Store, StoreError},
    tenant::Tenants,
};

/// The largest push body read, in bytes. A push carries one order's or one
/// ASN batch's status, a few kilobytes; the bound keeps a runaway pusher
/// from making us buffer without end.
pub const PUSH_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// A tenant that receives pushes.
#[derive(Debug, Clone)]
pub struct PushTarget {
    pub tenant: Arc<str>,
    pub config: PushConfig,
}

/// The webhook routes' state: the tenants in force (each push finds its
/// tenant by `warehouseExtraType`), and the store pushes are kept in.
#[derive(Debug, Clone)]
pub struct Webhooks {
    tenants: Arc<Tenants>,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl Webhooks {
    pub fn new(tenants: Arc<Tenants>, store: Arc<dyn Store>, metrics: Arc<Metrics>) -> Self {
        Self {
            tenants,
            store,
            metrics,
        }
    }

    /// The two webhook routes.
    pub fn routes(self) -> Router {
        Router::new()
            .route(
                "/sys/automatic/receiveOdo/{extra_type}",
                webhook(ORDER_PUSH),
            )
            .route("/sys/automatic/receiveAsn/{extra_type}", webhook(ASN_PUSH))
            // Set here rather than left to axum's default so the bound the
            // handlers name in their refusal is the one in force.
            .layer(DefaultBodyLimit::max(PUSH_BODY_LIMIT))
            .with_state(self)
    }
}

/// Why a push was refused; the pusher gets `{"success":false,"errorMsg":…}`.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("unknown warehouseExtraType {0:?}")]
    UnknownExtraType(String),
    #[error("the body is not a Qianyi push: {0}")]
    Malformed(String),
    #[error("the push is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("sign verification failed")]
    BadSignature,
    #[error("content lacks the required {0}")]
    Missing(&'static str),
    #[error("method {got:?} is not {expected}")]
    WrongMethod { expected: &'static str, got: String },
    /// A number or time the streams could not carry as pushed.
    #[error("{field}: {value} is not {wanted}")]
    OutOfRange {
        field: String,
        value: String,
        wanted: &'static str,
    },
    /// The store could not commit it; the pusher should send it again.
    #[error("cannot keep the push now; send it again later")]
    NotStored,
}

impl PushError {
    /// Qianyi answers a refusal in the body with HTTP 200, as its own API
    /// does; only a push we failed to keep is a server fault worth an HTTP
    /// retry.
    fn status(&self) -> StatusCode {
        match self {
            Self::NotStored => StatusCode::SERVICE_UNAVAILABLE,
            Self::UnknownExtraType(_)
            | Self::Malformed(_)
            | Self::TooLarge { .. }
            | Self::BadSignature
            | Self::Missing(_)
            | Self::WrongMethod { .. }
            | Self::OutOfRange { .. } => StatusCode::OK,
        }
    }
}

/// The spec's return information, its fields in the spec's order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PushAnswer {
    success: bool,
    error_msg: String,
}

type Answer = (StatusCode, Json<PushAnswer>);

/// What a webhook receives: the stream it feeds and the envelope's `method`.
#[derive(Debug, Clone, Copy)]
struct PushKind {
    kind: EventKind,
    method: &'static str,
}

const ORDER_PUSH: PushKind = PushKind {
    kind: EventKind::Order,
    method: "pushOrderInfo",
};
const ASN_PUSH: PushKind = PushKind {
    kind: EventKind::Asn,
    method: "pushAsnInfo",
};

fn accepted() -> Answer {
    let answer = PushAnswer {
        success: true,
        error_msg: String::new(),
    };
    (StatusCode::OK, Json(answer))
}

fn refused(err: &PushError) -> Answer {
    let answer = PushAnswer {
        success: false,
        error_msg: err.to_string(),
    };
    (err.status(), Json(answer))
}

/// The body as read; a rejection (too large, say) becomes the refusal
/// answered in JSON, where axum would answer it in plain text.
type PushBody = Result<Bytes, BytesRejection>;

/// The webhook that receives `push`.
fn webhook(push: PushKind) -> MethodRouter<Webhooks> {
    post(
        move |hooks: State<Webhooks>, extra_type: Path<String>, body: PushBody| async move {
            hooks.receive(push, &extra_type, body).await
        },
    )
}

/// Why the body could not be read, as the pusher hears it.
fn unread(rejection: BytesRejection) -> PushError {
    match rejection {
        BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
            PushError::TooLarge {
                limit: PUSH_BODY_LIMIT,
            }
        }
        // The pusher went away mid-body, most likely; it hears nothing.
        other => PushError::Malformed(other.body_text()),
    }
}

/// Logs why a push could not be kept; the pusher only hears to retry.
fn not_stored(err: StoreError) -> PushError {
    tracing::error!(error = %err, "cannot keep a push in the store");
    PushError::NotStored
}

impl Webhooks {
    /// Verifies the envelope, reads the content and keeps the event.
    async fn receive(&self, push: PushKind, extra_type: &str, body: PushBody) -> Answer {
        let kind = push.kind.as_str();
        let target = self.tenants.load().push_target(extra_type);
        let tenant = target.as_ref().map_or("unknown", |target| &*target.tenant);
        let outcome = match &target {
            Some(target) => self.keep(target, &push, body).await,
            None => Err(PushError::UnknownExtraType(quoted(extra_type))),
        };
        match outcome {
            Ok((Appended::Kept(event_id), number)) => {
                self.metrics.record_push(tenant, kind, "accepted");
                tracing::info!(tenant, kind, event_id, number = %number, "push received");
                accepted()
            }
            Ok((Appended::Duplicate, number)) => {
                self.metrics.record_push(tenant, kind, "duplicate");
                tracing::info!(tenant, kind, number = %number, "repeated push ignored");
                accepted()
            }
            Err(err) => {
                let outcome = match err {
                    PushError::NotStored => "not_stored",
                    _ => "refused",
                };
                self.metrics.record_push(tenant, kind, outcome);
                tracing::warn!(tenant, kind, error = %err, "push refused");
                refused(&err)
            }
        }
    }

    /// Keeps a verified push in the store; answers with its fate and number.
    async fn keep(
        &self,
        target: &PushTarget,
        push: &PushKind,
        body: PushBody,
    ) -> Result<(Appended, String), PushError> {
        let body = body.map_err(unread)?;
        let (text, content) = verified_content(&target.config, push.method, &body)?;
        // What the store tells repeats by, read from the event.
        let (fingerprints, number, batch_no) = match push.kind {
            EventKind::Order => {
                let event = order_event(&content)?;
                let fingerprints = (fingerprint(&event), earlier_fingerprint(&event));
                (fingerprints, event.order_number, String::new())
            }
            EventKind::Asn => {
                let event = asn_event(&content)?;
                let fingerprints = (fingerprint(&event), earlier_fingerprint(&event));
                (fingerprints, event.asn_number, event.batch_no)
            }
        };
        let (fingerprint, earlier_fingerprint) = fingerprints;
        let new = NewPush {
            tenant: target.tenant.clone(),
            kind: push.kind,
            fingerprint,
            earlier_fingerprint,
            number: number.clone(),
            batch_no,
            content: text,
        };
        let appended = self.store.append_push(new).await.map_err(not_stored)?;
        Ok((appended, number))
    }
}

/// The envelope's content, as pushed and parsed, once `accessId` and
/// `sign` check out. A missing `method` is let pass; one naming another
/// push is refused.
fn verified_content(
    config: &PushConfig,
    method: &'static str,
    body: &[u8],
) -> Result<(String, Value), PushError> {
    let push = ReceivedRequest::parse(body).map_err(|err| PushError::Malformed(err.0))?;
    if !push.is_signed_by(&config.access_id, config.secret_key.expose_secret()) {
        return Err(PushError::BadSignature);
    }
    if !push.method.is_empty() && !push.method.eq_ignore_ascii_case(method) {
        return Err(PushError::WrongMethod {
            expected: method,
            got: quoted(&push.method),
        });
    }
    match serde_json::from_str::<Value>(&push.content) {
        Ok(value @ Value::Object(_)) => Ok((push.content, value)),
        Ok(_) => Err(PushError::Malformed("content is not a JSON object".into())),
        Err(err) => Err(PushError::Malformed(format!("content is not JSON: {err}"))),
    }
}

/// How much of a pusher's own text a refusal quotes back (and logs).
const QUOTED_CHARS: usize = 64;

/// The start of a pusher's text, to quote in a refusal.
fn quoted(text: &str) -> String {
    let mut chars = text.chars();
    let start: String = chars.by_ref().take(QUOTED_CHARS).collect();
    if chars.next().is_some() {
        format!("{start}…")
    } else {
        start
    }
}

/// The earliest and latest times a `google.protobuf.Timestamp` holds
/// (0001-01-01 and 9999-12-31), in milliseconds since the epoch.
const TIMESTAMP_MS: std::ops::RangeInclusive<i64> = -62_135_596_800_000..=253_402_300_799_999;

/// An integer field: absent, null or blank is `None`; an integer (or a
/// string of one, or a whole float in range) is the value; anything else
/// refuses the push, naming the field, rather than streaming a clamped or
/// missing number.
fn integer(
    content: &Value,
    key: &str,
    field: impl FnOnce() -> String,
    range: std::ops::RangeInclusive<i64>,
    wanted: &'static str,
) -> Result<Option<i64>, PushError> {
    let value = match content.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => return Ok(None),
        Some(value) => value,
    };
    let number = match value {
        Value::Number(number) => number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && (-9.2e18..9.2e18).contains(f))
                .map(|f| f as i64)
        }),
        Value::String(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    };
    match number {
        Some(number) if range.contains(&number) => Ok(Some(number)),
        _ => Err(PushError::OutOfRange {
            field: field(),
            value: quoted(&value.to_string()),
            wanted,
        }),
    }
}

/// A time in milliseconds since the epoch that a Timestamp can carry.
fn time_ms(content: &Value, key: &'static str) -> Result<Option<i64>, PushError> {
    integer(
        content,
        key,
        || key.to_owned(),
        TIMESTAMP_MS,
        "a time in milliseconds between the years 1 and 9999",
    )
}

/// A quantity of line `index` of `skuList`.
fn quantity(item: &Value, index: usize, key: &'static str) -> Result<i64, PushError> {
    Ok(integer(
        item,
        key,
        || format!("skuList[{index}].{key}"),
        i64::MIN..=i64::MAX,
        "an integer",
    )?
    .unwrap_or(0))
}

fn text(content: &Value, key: &str) -> String {
    content.get(key).map(string_of).unwrap_or_default()
}

/// The first of `keys` with a value: the spec names some fields one way in
/// pushes and another in getOrder answers, and warehouses mix the two.
fn text_under(content: &Value, keys: &[&str]) -> String {
    keys.iter()
        .map(|key| text(content, key))
        .find(|value| !value.is_empty())
        .unwrap_or_default()
}

fn required(content: &Value, key: &'static str) -> Result<String, PushError> {
    let value = text(content, key);
    if value.trim().is_empty() {
        return Err(PushError::Missing(key));
    }
    Ok(value)
}

/// `skuList`: documented as a list, sent as one object in the spec's own
/// examples; either is read.
fn sku_list(content: &Value) -> Vec<&Value> {
    match content.get("skuList") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

pub fn order_event(content: &Value) -> Result<OrderEvent, PushError> {
    let (status, wms_status) = (text(content, "status"), text(content, "wmsStatus"));
    // `None` only when the push names no status at all.
    let named_status = !status.is_empty() || !wms_status.is_empty();
    Ok(OrderEvent {
        order_number: required(content, "orderNumber")?,
        online_order_id: text(content, "onlineOrderId"),
        warehouse_code: text(content, "warehouseCode"),
        customer_code: text(content, "customerCode"),
        carrier: text_under(content, &["carrier", "carrierName"]),
        track_number: text_under(content, &["trackNumber", "trackingNumber"]),
        warehouse_order_number: text(content, "warehouseOrderNumber"),
        status: named_status.then(|| OrderStatus::from_status_or_wms(&status, &wms_status)),
        wms_status,
        shipping_time_ms: time_ms(content, "shippingTime")?,
        items: sku_list(content)
            .into_iter()
            .enumerate()
            .map(|(index, item)| Ok((text(item, "sku"), quantity(item, index, "quantity")?)))
            .collect::<Result<_, PushError>>()?,
        error_msg: text(content, "errorMsg"),
    })
}

pub fn asn_event(content: &Value) -> Result<AsnEvent, PushError> {
    let wms_status = text(content, "wmsStatus");
    Ok(AsnEvent {
        asn_number: required(content, "asnNumber")?,
        warehouse_code: text(content, "warehouseCode"),
        customer_code: text(content, "customerCode"),
        status: (!wms_status.is_empty()).then(|| AsnStatus::from_wire(&wms_status)),
        wms_status,
        reference_number: text(content, "referenceNumber"),
        finish_time_ms: time_ms(content, "finishTime")?,
        update_time_ms: time_ms(content, "updateTime")?,
        items: sku_list(content)
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                Ok(AsnReceipt {
                    sku: text(item, "sku"),
                    name: text(item, "name"),
                    estimated_quantity: quantity(item, index, "estimatedQuantity")?,
                    received_quantity: quantity(item, index, "receivedQuantity")?,
                    good_quantity: quantity(item, index, "goodQuantity")?,
                    bad_quantity: quantity(item, index, "badQuantity")?,
                })
            })
            .collect::<Result<_, PushError>>()?,
        batch_no: text(content, "batchNo"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_the_specs_return_information_in_its_order() {
        let (status, Json(answer)) = accepted();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            serde_json::to_string(&answer).unwrap(),
            r#"{"success":true,"errorMsg":""}"#
        );
        let (status, Json(answer)) = refused(&PushError::BadSignature);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            serde_json::to_string(&answer).unwrap(),
            r#"{"success":false,"errorMsg":"sign verification failed"}"#
        );
        assert_eq!(
            refused(&PushError::NotStored).0,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn the_spec_examples_parse() {
        // Section 12.1's example content, verbatim (skuList is one object).
        let order: Value = serde_json::from_str(r#"{"orderNumber":"DA250117100074","onlineOrderId":"","warehouseCode":"XY002","carrier":"","trackNumber":"333","warehouseOrderNumber":"","wmsStatus":"error","status":"FAILED","skuList":{"sku":"60000-test02","quantity":4},"errorMsg":"仓库接收失败"}"#).unwrap();
        let event = order_event(&order).unwrap();
        assert_eq!(event.order_number, "DA250117100074");
        assert_eq!(event.status, Some(OrderStatus::Failed));
        assert_eq!(event.items, vec![("60000-test02".to_owned(), 4)]);
        assert_eq!(event.error_msg, "仓库接收失败");

        // Section 12.2's example content, verbatim.
        let asn: Value = serde_json::from_str(r#"{"customerCode":null,"asnNumber":"A241022159999","warehouseCode":"Test-bin","wmsStatus":"RECEIVING","referenceNumber":"A241022159999","finishTime":null,"updateTime":1744098883894,"skuList":{"sku":"V-012B-R","name":"V-012B-R","estimatedQuantity":121,"receivedQuantity":2,"goodQuantity":2,"badQuantity":0},"batchNo":"222222-1"}"#).unwrap();
        let event = asn_event(&asn).unwrap();
        assert_eq!(event.status, Some(AsnStatus::Receiving));
        assert_eq!(event.update_time_ms, Some(1_744_098_883_894));
        assert_eq!(event.finish_time_ms, None);
        assert_eq!(event.items[0].received_quantity, 2);
        assert_eq!(event.batch_no, "222222-1");
    }

    #[test]
    fn numbers_and_times_out_of_range_are_refused_naming_the_field() {
        for (content, field) in [
            (
                r#"{"orderNumber":"O","skuList":[{"sku":"A","quantity":1e30}]}"#,
                "skuList[0].quantity",
            ),
            (
                r#"{"orderNumber":"O","skuList":[{"sku":"A","quantity":2},{"sku":"B","quantity":"abc"}]}"#,
                "skuList[1].quantity",
            ),
            (
                r#"{"orderNumber":"O","shippingTime":-1e18}"#,
                "shippingTime",
            ),
            (
                r#"{"orderNumber":"O","shippingTime":"soon"}"#,
                "shippingTime",
            ),
        ] {
            let content: Value = serde_json::from_str(content).unwrap();
            let err = order_event(&content).expect_err("refused");
            assert!(
                matches!(&err, PushError::OutOfRange { field: named, .. } if named == field),
                "{err}"
            );
            assert!(err.to_string().starts_with(field), "{err}");
        }
        let asn: Value = serde_json::from_str(
            r#"{"asnNumber":"A","updateTime":99999999999999999,"skuList":{"sku":"S","receivedQuantity":1}}"#,
        )
        .unwrap();
        assert!(
            matches!(asn_event(&asn), Err(PushError::OutOfRange { field, .. }) if field == "updateTime")
        );
        // Tolerated as before: numbers as strings, whole floats, blanks.
        let fine: Value = serde_json::from_str(
            r#"{"orderNumber":"O","shippingTime":"1744098883894","skuList":[{"sku":"A","quantity":4.0},{"sku":"B","quantity":""}]}"#,
        )
        .unwrap();
        let event = order_event(&fine).expect("read");
        assert_eq!(event.shipping_time_ms, Some(1_744_098_883_894));
        assert_eq!(event.items, vec![("A".to_owned(), 4), ("B".to_owned(), 0)]);
    }

    #[test]
    fn a_refusal_quotes_at_most_a_little_of_the_pushers_text() {
        let long = "X".repeat(60_000);
        assert!(quoted(&long).chars().count() <= QUOTED_CHARS + 1);
        assert_eq!(quoted("DEMO"), "DEMO");
    }

    #[test]
    fn a_push_without_its_number_is_refused() {
        let content: Value = serde_json::from_str(r#"{"wmsStatus":"NEW"}"#).unwrap();
        assert!(matches!(
            asn_event(&content),
            Err(PushError::Missing("asnNumber"))
        ));
    }
}
