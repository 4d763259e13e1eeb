//! The Qianyi dialect: one endpoint (`POST /qianyi`, also `POST /`) taking
//! `{accessId, method, content, sign}`, the signature over the `content`
//! string, and flat answers with `"success": "true"` as a string and a
//! `message`, shaped as the spec's examples.
//!
//! Order of checks: record → injected fault → body JSON → accessId →
//! signature → method → content JSON → the method. Every failure is HTTP 200
//! with `"success": "false"` and the words in `message`.

use std::{sync::Arc, time::Instant};

use axum::{extract::State, http::HeaderMap, http::StatusCode, response::Response};
use bytes::Bytes;
use serde_json::{Map, Value, json};
use warehouse_protocol::{Operation, Protocol, qianyi::ReceivedRequest};

use super::{
    Intercept, RecordedRequest, Shared, asn_list, asn_numbers, channel_list, inventory_page,
    json_response, lock, order_json, parse_business,
    state::{World, required, text},
    warehouse_list,
};

pub(super) async fn handle(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = ReceivedRequest::parse(&body);
    let received = request.clone().unwrap_or_default();
    let account = shared
        .config
        .qianyi_accounts
        .iter()
        .find(|account| account.access_id == received.access_id);
    let signature_valid = account
        .is_some_and(|account| received.is_signed_by(&account.access_id, &account.secret_key));
    let business = parse_business(&received.content);
    let mut recorded = RecordedRequest::new(Protocol::Qianyi, &received.method, &headers, &body);
    received.content.clone_into(&mut recorded.content);
    recorded.signature_valid = signature_valid;
    match shared.receive(recorded, business.as_ref().ok()).await {
        Some(Intercept::Respond(response)) => return response,
        Some(Intercept::BadSignature) => return reply(failure("sign verification failed")),
        Some(Intercept::Reject(message)) => return reply(failure(&message)),
        None => {}
    }
    if request.is_err() {
        return reply(failure(
            "request body must be a JSON object with accessId, method, content and sign",
        ));
    }
    let ReceivedRequest {
        access_id, method, ..
    } = received;
    if account.is_none() {
        return reply(failure(&if access_id.is_empty() {
            "missing accessId".to_owned()
        } else {
            format!("unknown accessId {access_id}")
        }));
    }
    if !signature_valid {
        return reply(failure("sign verification failed"));
    }
    if Operation::named(Protocol::Qianyi, &method).is_none() {
        return reply(failure(&if method.is_empty() {
            "missing method".to_owned()
        } else {
            format!("unknown method {method}")
        }));
    }
    let request = match business {
        Ok(request @ Value::Object(_)) => request,
        Ok(_) => return reply(failure("content must be a JSON object")),
        Err(err) => return reply(failure(&format!("content is not valid JSON: {err}"))),
    };
    let answer = answer(&mut lock(&shared.qianyi), &method, &request, Instant::now());
    reply(answer)
}

fn reply(body: Value) -> Response {
    json_response(StatusCode::OK, &body)
}

/// `{"success":"true","message":""}` plus `fields`.
fn success(fields: Value) -> Value {
    with_flag("true", "", fields)
}

/// `{"success":"false","message":…}`.
fn failure(message: &str) -> Value {
    with_flag("false", message, json!({}))
}

fn with_flag(success: &str, message: &str, fields: Value) -> Value {
    let mut body = Map::new();
    body.insert("success".to_owned(), json!(success));
    body.insert("message".to_owned(), json!(message));
    if let Value::Object(fields) = fields {
        body.extend(fields);
    }
    Value::Object(body)
}

/// The whole answer of one method.
fn answer(world: &mut World, method: &str, request: &Value, now: Instant) -> Value {
    match method {
        "warehouses" => success(json!({ "warehouseList": warehouse_list(world) })),
        "channels" => match channel_list(world, request) {
            Ok(list) => success(json!({ "channelList": list })),
            Err(message) => failure(&message),
        },
        "createOrder" => match world.create_order(request, now) {
            Ok(number) => success(json!({"data": {"warehouseOrderNumber": number}})),
            Err(message) => failure(&message),
        },
        "cancelOrder" => {
            let outcome = required(request, "orderNumber")
                .and_then(|number| world.cancel_order(&number, now));
            match outcome {
                // Cancelling an already cancelled order succeeds quietly.
                Ok(_) => success(json!({})),
                Err(message) => failure(&message),
            }
        }
        "getOrder" => {
            let number = match required(request, "orderNumber") {
                Ok(number) => number,
                Err(message) => return failure(&message),
            };
            match world.order(&number, now) {
                Some(view) => success(json!({"data": order_json(&view)})),
                None => failure(&format!("order {number} not found")),
            }
        }
        "syncInventory" => match inventory_page(world, request, now) {
            Ok(page) => success(page),
            Err(message) => failure(&message),
        },
        "createAsnOrder" => {
            let asn_number = text(request, "asnNumber");
            match world.create_asn(request, now) {
                Ok(wms_asn_number) => success(json!({
                    "results": [{"asnNumber": asn_number, "operation": "CREATE", "info": ""}],
                    "data": {"wmsAsnNumber": wms_asn_number},
                })),
                Err(message) => with_flag(
                    "false",
                    &message,
                    json!({"results": [{"asnNumber": asn_number, "operation": "CREATE", "info": message}]}),
                ),
            }
        }
        "getAsnList" => match asn_list(world, request, now) {
            Ok(list) => success(json!({ "asnList": list })),
            Err(message) => failure(&message),
        },
        "cancelAsnOrder" => match asn_numbers(request) {
            Ok(numbers) => {
                // One outcome per ASN; the call itself succeeds. An ASN that
                // cannot be cancelled has a non-empty `info` (and, beyond the
                // spec, `"success":"false"`); a cancelled one an empty `info`.
                let results: Vec<Value> = numbers
                    .iter()
                    .map(|number| {
                        let (ok, info) = match world.cancel_asn(number, now) {
                            Ok(_) => (true, String::new()),
                            Err(info) => (false, info),
                        };
                        json!({
                            "asnNumber": number,
                            "operation": "CANCEL",
                            "info": info,
                            "success": ok.to_string(),
                        })
                    })
                    .collect();
                success(json!({ "results": results }))
            }
            _ => failure("missing required field asnNumbers"),
        },
        "insert_sku_info" => {
            let sku = text(request, "sku");
            let (operation, outcome) = world.upsert_sku(request);
            match outcome {
                Ok(()) => success(json!({
                    "results": [{"sku": sku, "operation": operation.as_str(), "info": ""}],
                })),
                Err(message) => with_flag(
                    "false",
                    &message,
                    json!({"results": [{"sku": sku, "operation": operation.as_str(), "info": message}]}),
                ),
            }
        }
        other => failure(&format!("unknown method {other}")),
    }
}
