//! The Qianyi push webhooks (spec section 12), served on the HTTP listener:
//! `POST /sys/automatic/receiveOdo/{warehouseExtraType}` (`pushOrderInfo`)
//! and `POST /sys/automatic/receiveAsn/{warehouseExtraType}` (`pushAsnInfo`).
//! The body is the Qianyi envelope `{accessId, method, content, sign}`; the
//! signature is verified like any Qianyi request, with the tenant's `push`
//! key. Accepted pushes become events in the tenant's log. A body over
//! [`PUSH_BODY_LIMIT`] is refused like any other bad push.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{
        DefaultBodyLimit, Path, State,
        rejection::{BytesRejection, FailedToBufferBody},
    },
    http::StatusCode,
    routing::post,
};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::Value;
use warehouse_protocol::{
    qianyi::ReceivedRequest,
    tolerant::{int_of, string_of},
};

use super::{AsnEvent, OrderEvent, PushConfig, TenantEvents};
use crate::{
    domain::{AsnReceipt, AsnStatus, OrderStatus},
    metrics::Metrics,
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
    pub events: Arc<TenantEvents>,
}

/// The webhook routes' state: tenants by `warehouseExtraType`.
#[derive(Debug, Clone)]
pub struct Webhooks {
    targets: Arc<HashMap<String, PushTarget>>,
    metrics: Arc<Metrics>,
}

impl Webhooks {
    pub fn new(targets: impl IntoIterator<Item = PushTarget>, metrics: Arc<Metrics>) -> Self {
        Self {
            targets: Arc::new(
                targets
                    .into_iter()
                    .map(|target| (target.config.extra_type.clone(), target))
                    .collect(),
            ),
            metrics,
        }
    }

    /// The two webhook routes.
    pub fn routes(self) -> Router {
        Router::new()
            .route("/sys/automatic/receiveOdo/{extra_type}", post(receive_odo))
            .route("/sys/automatic/receiveAsn/{extra_type}", post(receive_asn))
            // Set here rather than left to axum's default so the bound the
            // handlers name in their refusal is the one in force.
            .layer(DefaultBodyLimit::max(PUSH_BODY_LIMIT))
            .with_state(self)
    }
}

/// Why a push was refused; the pusher gets `{"success":false,"errorMsg":…}`.
#[derive(Debug, thiserror::Error)]
pub(super) enum PushError {
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
    /// The journal could not be written; the pusher should send it again.
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
            | Self::WrongMethod { .. } => StatusCode::OK,
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

/// What a webhook receives: the metrics' kind and the envelope's `method`.
struct PushKind {
    name: &'static str,
    method: &'static str,
}

const ORDER_PUSH: PushKind = PushKind {
    name: "order",
    method: "pushOrderInfo",
};
const ASN_PUSH: PushKind = PushKind {
    name: "asn",
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

async fn receive_odo(
    State(hooks): State<Webhooks>,
    Path(extra_type): Path<String>,
    body: PushBody,
) -> Answer {
    hooks.receive(ORDER_PUSH, &extra_type, body, |target, content| {
        let event = order_event(content)?;
        // A repeat only of the order's latest push: a status may come back
        // (SENDING → FAILED → SENDING), and then it is news again.
        let id = target
            .events
            .orders
            .append_unless(event.clone(), content, |mut newest_first| {
                newest_first
                    .find(|kept| kept.order_number == event.order_number)
                    .is_some_and(|latest| *latest == event)
            })
            .map_err(not_stored)?;
        Ok((id, event.order_number))
    })
}

async fn receive_asn(
    State(hooks): State<Webhooks>,
    Path(extra_type): Path<String>,
    body: PushBody,
) -> Answer {
    hooks.receive(ASN_PUSH, &extra_type, body, |target, content| {
        let event = asn_event(content)?;
        let id = target
            .events
            .asns
            .append_unless(event.clone(), content, |mut newest_first| {
                if event.batch_no.is_empty() {
                    // As for orders: a repeat only of the ASN's latest push.
                    newest_first
                        .find(|kept| kept.asn_number == event.asn_number)
                        .is_some_and(|latest| *latest == event)
                } else {
                    // The spec's batchNo exists so a repeated batch is
                    // consumed once, whenever it comes again.
                    newest_first.any(|kept| {
                        kept.asn_number == event.asn_number && kept.batch_no == event.batch_no
                    })
                }
            })
            .map_err(not_stored)?;
        Ok((id, event.asn_number))
    })
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

/// Logs why a push could not be journaled; the pusher only hears to retry.
fn not_stored(err: std::io::Error) -> PushError {
    tracing::error!(error = %err, "cannot write a push to its journal");
    PushError::NotStored
}

impl Webhooks {
    /// Verifies the envelope, then lets `store` read the content and keep the event.
    fn receive(
        &self,
        push: PushKind,
        extra_type: &str,
        body: PushBody,
        store: impl FnOnce(&PushTarget, &Value) -> Result<(Option<u64>, String), PushError>,
    ) -> Answer {
        let kind = push.name;
        let target = self.targets.get(extra_type);
        let tenant = target.map_or("unknown", |target| &*target.tenant);
        let outcome = target
            .ok_or_else(|| PushError::UnknownExtraType(extra_type.to_owned()))
            .and_then(|target| {
                let body = body.map_err(unread)?;
                Ok((
                    target,
                    verified_content(&target.config, push.method, &body)?,
                ))
            })
            .and_then(|(target, content)| store(target, &content));
        match outcome {
            Ok((Some(event_id), number)) => {
                self.metrics.record_push(tenant, kind, "accepted");
                tracing::info!(tenant, kind, event_id, number = %number, "push received");
                accepted()
            }
            Ok((None, number)) => {
                self.metrics.record_push(tenant, kind, "duplicate");
                tracing::info!(tenant, kind, number = %number, "repeated push ignored");
                accepted()
            }
            Err(err) => {
                self.metrics.record_push(tenant, kind, "refused");
                tracing::warn!(tenant, kind, error = %err, "push refused");
                refused(&err)
            }
        }
    }
}

/// The envelope's content, parsed, once `accessId` and `sign` check out.
/// A missing `method` is let pass; one naming another push is refused.
fn verified_content(
    config: &PushConfig,
    method: &'static str,
    body: &[u8],
) -> Result<Value, PushError> {
    let push = ReceivedRequest::parse(body).map_err(|err| PushError::Malformed(err.0))?;
    if !push.is_signed_by(&config.access_id, config.secret_key.expose_secret()) {
        return Err(PushError::BadSignature);
    }
    if !push.method.is_empty() && !push.method.eq_ignore_ascii_case(method) {
        return Err(PushError::WrongMethod {
            expected: method,
            got: push.method,
        });
    }
    match serde_json::from_str::<Value>(&push.content) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(PushError::Malformed("content is not a JSON object".into())),
        Err(err) => Err(PushError::Malformed(format!("content is not JSON: {err}"))),
    }
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

fn millis(content: &Value, key: &str) -> Option<i64> {
    content.get(key).and_then(int_of)
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

pub(super) fn order_event(content: &Value) -> Result<OrderEvent, PushError> {
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
        shipping_time_ms: millis(content, "shippingTime"),
        items: sku_list(content)
            .into_iter()
            .map(|item| {
                (
                    text(item, "sku"),
                    item.get("quantity").and_then(int_of).unwrap_or(0),
                )
            })
            .collect(),
        error_msg: text(content, "errorMsg"),
    })
}

pub(super) fn asn_event(content: &Value) -> Result<AsnEvent, PushError> {
    let wms_status = text(content, "wmsStatus");
    let quantity = |item: &Value, key: &str| item.get(key).and_then(int_of).unwrap_or(0);
    Ok(AsnEvent {
        asn_number: required(content, "asnNumber")?,
        warehouse_code: text(content, "warehouseCode"),
        customer_code: text(content, "customerCode"),
        status: (!wms_status.is_empty()).then(|| AsnStatus::from_wire(&wms_status)),
        wms_status,
        reference_number: text(content, "referenceNumber"),
        finish_time_ms: millis(content, "finishTime"),
        update_time_ms: millis(content, "updateTime"),
        items: sku_list(content)
            .into_iter()
            .map(|item| AsnReceipt {
                sku: text(item, "sku"),
                name: text(item, "name"),
                estimated_quantity: quantity(item, "estimatedQuantity"),
                received_quantity: quantity(item, "receivedQuantity"),
                good_quantity: quantity(item, "goodQuantity"),
                bad_quantity: quantity(item, "badQuantity"),
            })
            .collect(),
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
    fn a_push_without_its_number_is_refused() {
        let content: Value = serde_json::from_str(r#"{"wmsStatus":"NEW"}"#).unwrap();
        assert!(matches!(
            asn_event(&content),
            Err(PushError::Missing("asnNumber"))
        ));
    }
}
