//! The qlink dialect: `POST /global-api/v1/warehouse/{op}`, credentials in
//! the `appKey`/`sign` headers, the signature over the exact body, and the
//! `{errorMsg, result, success, code}` envelope with the answer shapes of the
//! spec's examples (`warehouseInfoList`, the bare inventory array …).
//!
//! Order of checks: record → unknown operation (HTTP 404) → injected fault →
//! appKey → signature → body JSON → warehouseKey → the operation. Errors of
//! the envelope are HTTP 200 with `success:false`; business rejections of one
//! item (an order, an ASN, a SKU) are `success:true` with the item's
//! `success:false` and `info`, as the examples show (an injected `Reject`
//! on a write does the same).

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use bytes::Bytes;
use serde_json::{Value, json};

use warehouse_protocol::{
    Operation, Protocol,
    qlink::{APP_KEY_HEADER, SIGN_HEADER},
    sign::{qlink_sign, signatures_match},
};

use super::{
    Intercept, InventoryStyle, RecordedRequest, Shared, asn_list, asn_numbers, channel_list,
    header_text, inventory_page, json_response, lock, numbers_of, order_json, parse_business,
    state::{World, text},
    warehouse_list,
};

/// An envelope-level failure: (errorMsg, code).
type Failure = (String, &'static str);

pub(super) async fn handle(
    State(shared): State<Arc<Shared>>,
    Path(operation): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut recorded = RecordedRequest::new(Protocol::Qlink, &operation, &headers, &body);
    let app_key = header_text(&headers, APP_KEY_HEADER);
    let account = shared
        .config
        .qlink_accounts
        .iter()
        .find(|account| account.app_key == app_key);
    let signature_valid = account.is_some_and(|account| {
        let expected = qlink_sign(&account.app_key, &recorded.body, &account.app_secret);
        signatures_match(&expected, &header_text(&headers, SIGN_HEADER))
    });
    let business = parse_business(&recorded.body);
    recorded.signature_valid = signature_valid;
    let operation = recorded.operation.clone();
    if Operation::named(Protocol::Qlink, &operation).is_none() {
        shared.record(recorded);
        return envelope_error(
            StatusCode::NOT_FOUND,
            &format!("unknown operation {operation}"),
            "NOT_FOUND",
        );
    }
    match shared.receive(recorded, business.as_ref().ok()).await {
        Some(Intercept::Respond(response)) => return response,
        Some(Intercept::BadSignature) => return bad_signature(),
        Some(Intercept::Reject(message)) => {
            return match business
                .ok()
                .and_then(|request| rejection(&operation, &request, &message))
            {
                Some(result) => success(result),
                None => error(&message, "BIZ_ERROR"),
            };
        }
        None => {}
    }
    let Some(account) = account else {
        let message = if app_key.is_empty() {
            "missing appKey header".to_owned()
        } else {
            format!("unknown appKey {app_key}")
        };
        return error(&message, "APP_KEY_ERROR");
    };
    if !signature_valid {
        return bad_signature();
    }
    let request = match business {
        Ok(request @ Value::Object(_)) => request,
        Ok(_) => return error("request body must be a JSON object", "PARAM_ERROR"),
        Err(err) => {
            return error(
                &format!("request body is not valid JSON: {err}"),
                "PARAM_ERROR",
            );
        }
    };
    if request.get("warehouseKey").is_none_or(Value::is_null) {
        return error("missing required field warehouseKey", "WAREHOUSE_KEY_ERROR");
    }
    if !warehouse_key_matches(&request, &account.warehouse_key) {
        return error(
            &format!("warehouseKey does not belong to appKey {}", account.app_key),
            "WAREHOUSE_KEY_ERROR",
        );
    }
    let style = *lock(&shared.inventory_style);
    let reply = answer(
        &mut lock(&shared.qlink),
        style,
        &operation,
        &request,
        Instant::now(),
    );
    match reply {
        Ok(result) => success(result),
        Err((message, code)) => error(&message, code),
    }
}

fn success(result: Value) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"errorMsg": null, "result": result, "success": true, "code": null}),
    )
}

/// An injected rejection in the shape the operation rejects items in: the
/// item's `success:false` and `info` for the writes, `None` (an envelope
/// error) for the reads.
fn rejection(operation: &str, request: &Value, message: &str) -> Option<Value> {
    let each = |list: &str, key: &str| -> Vec<String> {
        numbers_of(request, list, key).unwrap_or_default()
    };
    match operation {
        "createOrder" => Some(order_created(request, Err(message.to_owned()))),
        "createAsnOrder" => Some(asn_created(request, Err(message.to_owned()))),
        "insertSkuInfo" => Some(json!({
            "sku": text(request, "sku"),
            "operation": "CREATE",
            "info": message,
            "success": false,
        })),
        "cancelOrder" => {
            let results: Vec<Value> = each("cancelOrderList", "orderNumber")
                .iter()
                .map(|number| json!({"orderNumber": number, "success": false, "info": message}))
                .collect();
            Some(json!({ "results": results }))
        }
        "cancelAsnOrder" => {
            let results: Vec<Value> = each("asnNumbers", "asnNumber")
                .iter()
                .map(|number| {
                    json!({"asnNumber": number, "operation": "CANCEL", "info": message, "success": false})
                })
                .collect();
            Some(json!({ "results": results }))
        }
        _ => None,
    }
}

/// `warehouseKey` as a string or an array holding the account's key.
fn warehouse_key_matches(request: &Value, key: &str) -> bool {
    match request.get("warehouseKey") {
        Some(Value::String(given)) => given.trim() == key,
        Some(Value::Array(given)) => given
            .iter()
            .any(|item| item.as_str().is_some_and(|given| given.trim() == key)),
        _ => false,
    }
}

fn bad_signature() -> Response {
    error("sign verification failed", "SIGN_ERROR")
}

fn error(message: &str, code: &str) -> Response {
    envelope_error(StatusCode::OK, message, code)
}

fn envelope_error(status: StatusCode, message: &str, code: &str) -> Response {
    json_response(
        status,
        &json!({"errorMsg": message, "result": null, "success": false, "code": code}),
    )
}

fn param(message: String) -> Failure {
    (message, "PARAM_ERROR")
}

/// The `result` of one operation.
fn answer(
    world: &mut World,
    style: InventoryStyle,
    operation: &str,
    request: &Value,
    now: Instant,
) -> Result<Value, Failure> {
    match operation {
        "initWarehouses" => Ok(json!({ "warehouseInfoList": warehouse_list(world) })),
        "initChannels" => {
            Ok(json!({ "channelList": channel_list(world, request).map_err(param)? }))
        }
        "createOrder" => Ok(order_created(request, world.create_order(request, now))),
        "cancelOrder" => {
            let orders = objects(request, "cancelOrderList")?;
            let results: Vec<Value> = orders
                .iter()
                .enumerate()
                .map(|(index, order)| {
                    let number = text(order, "orderNumber");
                    let outcome = if number.is_empty() {
                        Err(format!(
                            "missing required field cancelOrderList[{index}].orderNumber"
                        ))
                    } else {
                        world.cancel_order(&number, now)
                    };
                    let (success, info) = match outcome {
                        Ok(info) => (true, info.to_owned()),
                        Err(info) => (false, info),
                    };
                    json!({"orderNumber": number, "success": success, "info": info})
                })
                .collect();
            Ok(json!({ "results": results }))
        }
        "getOrder" => {
            let orders = objects(request, "getOrderInfoList")?;
            let list: Vec<Value> = orders
                .iter()
                .filter_map(|order| world.order(&text(order, "orderNumber"), now))
                .map(|view| order_json(&view))
                .collect();
            Ok(json!({ "warehouseGetOrderList": list }))
        }
        "syncInventory" => {
            let mut page = inventory_page(world, request, now).map_err(param)?;
            Ok(match style {
                InventoryStyle::BareArray => page["data"].take(),
                InventoryStyle::PageObject => page,
            })
        }
        "createAsnOrder" => Ok(asn_created(request, world.create_asn(request, now))),
        "getAsnList" => Ok(json!({ "asnList": asn_list(world, request, now).map_err(param)? })),
        "cancelAsnOrder" => {
            let numbers = asn_numbers(request).map_err(param)?;
            let results: Vec<Value> = numbers
                .iter()
                .map(|number| {
                    let (success, info) = match world.cancel_asn(number, now) {
                        Ok(info) => (true, info.to_owned()),
                        Err(info) => (false, info),
                    };
                    json!({"asnNumber": number, "operation": "CANCEL", "info": info, "success": success})
                })
                .collect();
            Ok(json!({ "results": results }))
        }
        "insertSkuInfo" => {
            let (operation, outcome) = world.upsert_sku(request);
            Ok(json!({
                "sku": text(request, "sku"),
                "operation": operation.as_str(),
                "info": outcome.as_ref().err().cloned().unwrap_or_default(),
                "success": outcome.is_ok(),
            }))
        }
        other => Err((format!("unknown operation {other}"), "NOT_FOUND")),
    }
}

/// A required list of objects (one object counts as a list of one).
fn objects(request: &Value, key: &str) -> Result<Vec<Value>, Failure> {
    match request.get(key) {
        Some(Value::Array(items)) if !items.is_empty() => Ok(items.clone()),
        Some(one @ Value::Object(_)) => Ok(vec![one.clone()]),
        _ => Err(param(format!("missing required field {key}"))),
    }
}

/// createOrder's `result`: the warehouse's order number, or the item's
/// `success:false` with the words why not.
fn order_created(request: &Value, outcome: Result<String, String>) -> Value {
    let mut result = item_result(outcome, "warehouseOrderNumber");
    result["orderNumber"] = json!(text(request, "orderNumber"));
    result
}

/// createAsnOrder's `result`, shaped as [`order_created`]'s.
fn asn_created(request: &Value, outcome: Result<String, String>) -> Value {
    let mut result = item_result(outcome, "wmsAsnNumber");
    result["asnNumber"] = json!(text(request, "asnNumber"));
    result
}

/// `{success, info, <number_key>}` of one created item.
fn item_result(outcome: Result<String, String>, number_key: &str) -> Value {
    let (success, number, info) = match outcome {
        Ok(number) => (true, number, String::new()),
        Err(info) => (false, String::new(), info),
    };
    let mut result = json!({"success": success, "info": info});
    result[number_key] = json!(number);
    result
}
