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

use super::{
    Intercept, Protocol, RecordedRequest, Shared, asn_json, header_pairs, inventory_item,
    inventory_query, json_response, lock, numbers_of, parse_business,
    state::{World, required, text},
    warehouse_code_of,
};
use crate::upstream::sign::{qianyi_sign, signatures_match};

/// The methods of the spec (after trimming; a spec example has " cancelOrder").
const METHODS: [&str; 10] = [
    "warehouses",
    "channels",
    "createOrder",
    "cancelOrder",
    "getOrder",
    "syncInventory",
    "createAsnOrder",
    "getAsnList",
    "cancelAsnOrder",
    "insert_sku_info",
];

pub(super) async fn handle(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let raw = String::from_utf8_lossy(&body).into_owned();
    let envelope = parse_business(&raw).ok().filter(Value::is_object);
    let field = |key: &str| envelope.as_ref().map(|e| text(e, key)).unwrap_or_default();
    let access_id = field("accessId");
    let method = field("method");
    let sign = field("sign");
    let content = match envelope.as_ref().and_then(|e| e.get("content")) {
        Some(Value::String(content)) => content.clone(),
        None | Some(Value::Null) => String::new(),
        // Not what the spec sends; signed as its JSON text.
        Some(other) => other.to_string(),
    };
    let account = shared
        .config
        .qianyi_accounts
        .iter()
        .find(|account| account.access_id == access_id);
    let signature_valid = account.is_some_and(|account| {
        signatures_match(
            &qianyi_sign(&account.access_id, &content, &account.secret_key),
            &sign,
        )
    });
    let business = parse_business(&content);
    let warehouse_code = warehouse_code_of(business.as_ref().ok());
    shared.record(RecordedRequest {
        protocol: Protocol::Qianyi,
        operation: method.clone(),
        headers: header_pairs(&headers),
        body: raw,
        content,
        signature_valid,
        at: Instant::now(),
    });

    match shared.fault(&method, warehouse_code.as_deref()).await {
        Some(Intercept::Respond(response)) => return response,
        Some(Intercept::BadSignature) => return reply(failure("sign verification failed")),
        Some(Intercept::Reject(message)) => return reply(failure(&message)),
        None => {}
    }
    if envelope.is_none() {
        return reply(failure(
            "request body must be a JSON object with accessId, method, content and sign",
        ));
    }
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
    if !METHODS.contains(&method.as_str()) {
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
        "warehouses" => {
            let list: Vec<Value> = world
                .warehouses()
                .iter()
                .map(|wh| json!({"warehouseCode": wh.code, "warehouseName": wh.name}))
                .collect();
            success(json!({ "warehouseList": list }))
        }
        "channels" => match world.channels(&text(request, "warehouseCode")) {
            Ok(channels) => {
                let list: Vec<Value> = channels
                    .iter()
                    .map(|(warehouse_code, channel)| {
                        json!({
                            "channelCode": channel.code,
                            "channelName": channel.name,
                            "warehouseCode": warehouse_code,
                            "carrierName": channel.carrier,
                        })
                    })
                    .collect();
                success(json!({ "channelList": list }))
            }
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
                Some(view) => success(json!({"data": {
                    "orderNumber": view.order_number,
                    "wmsStatus": view.wms_status,
                    "status": view.status,
                    "carrierName": view.carrier_name,
                    "trackingNumber": view.tracking_number,
                    "failedReason": view.failed_reason,
                }})),
                None => failure(&format!("order {number} not found")),
            }
        }
        "syncInventory" => {
            let page = inventory_query(request).and_then(|query| {
                world.inventory(
                    &query.warehouse_code,
                    &query.skus,
                    query.page,
                    query.page_size,
                    now,
                )
            });
            match page {
                Ok(page) => {
                    let data: Vec<Value> = page.rows.iter().map(inventory_item).collect();
                    success(json!({
                        "isLastPage": page.is_last_page,
                        "currentPage": page.current_page,
                        "pageCount": page.page_count,
                        "data": data,
                    }))
                }
                Err(message) => failure(&message),
            }
        }
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
        "getAsnList" => match numbers_of(request, "asnNumbers", "asnNumber") {
            Some(numbers) if !numbers.is_empty() => {
                let list: Vec<Value> = numbers
                    .iter()
                    .filter_map(|number| world.asn(number, now))
                    .map(|view| asn_json(&view))
                    .collect();
                success(json!({ "asnList": list }))
            }
            _ => failure("missing required field asnNumbers"),
        },
        "cancelAsnOrder" => match numbers_of(request, "asnNumbers", "asnNumber") {
            Some(numbers) if !numbers.is_empty() => {
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
