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

use super::{
    Intercept, InventoryStyle, Protocol, RecordedRequest, Shared, asn_json, header_pairs,
    header_text, inventory_item, inventory_query, json_response, lock, numbers_of, parse_business,
    state::{World, text},
    warehouse_code_of,
};
use crate::upstream::sign::{qlink_sign, signatures_match};

/// The operations of the spec, as the last path segment.
const OPERATIONS: [&str; 10] = [
    "initWarehouses",
    "initChannels",
    "createOrder",
    "cancelOrder",
    "getOrder",
    "syncInventory",
    "createAsnOrder",
    "getAsnList",
    "cancelAsnOrder",
    "insertSkuInfo",
];

/// An envelope-level failure: (errorMsg, code).
type Failure = (String, &'static str);

pub(super) async fn handle(
    State(shared): State<Arc<Shared>>,
    Path(operation): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let operation = operation.trim().to_owned();
    let raw = String::from_utf8_lossy(&body).into_owned();
    let app_key = header_text(&headers, "appKey");
    let sign = header_text(&headers, "sign");
    let account = shared
        .config
        .qlink_accounts
        .iter()
        .find(|account| account.app_key == app_key);
    let signature_valid = account.is_some_and(|account| {
        signatures_match(
            &qlink_sign(&account.app_key, &raw, &account.app_secret),
            &sign,
        )
    });
    let business = parse_business(&raw);
    let warehouse_code = warehouse_code_of(business.as_ref().ok());
    shared.record(RecordedRequest {
        protocol: Protocol::Qlink,
        operation: operation.clone(),
        headers: header_pairs(&headers),
        body: raw.clone(),
        content: raw,
        signature_valid,
        at: Instant::now(),
    });

    if !OPERATIONS.contains(&operation.as_str()) {
        return envelope_error(
            StatusCode::NOT_FOUND,
            &format!("unknown operation {operation}"),
            "NOT_FOUND",
        );
    }
    match shared.fault(&operation, warehouse_code.as_deref()).await {
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
        "createOrder" => Some(json!({
            "warehouseOrderNumber": "",
            "orderNumber": text(request, "orderNumber"),
            "info": message,
            "success": false,
        })),
        "createAsnOrder" => Some(json!({
            "success": false,
            "asnNumber": text(request, "asnNumber"),
            "info": message,
            "wmsAsnNumber": "",
        })),
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
        "initWarehouses" => {
            let list: Vec<Value> = world
                .warehouses()
                .iter()
                .map(|wh| json!({"warehouseCode": wh.code, "warehouseName": wh.name}))
                .collect();
            Ok(json!({ "warehouseInfoList": list }))
        }
        "initChannels" => {
            let channels = world
                .channels(&text(request, "warehouseCode"))
                .map_err(param)?;
            let list: Vec<Value> = channels
                .iter()
                .map(|(warehouse_code, channel)| {
                    json!({
                        "channelCode": channel.code,
                        "channelName": channel.name,
                        "carrierName": channel.carrier,
                        "warehouseCode": warehouse_code,
                    })
                })
                .collect();
            Ok(json!({ "channelList": list }))
        }
        "createOrder" => {
            let order_number = text(request, "orderNumber");
            Ok(match world.create_order(request, now) {
                Ok(warehouse_order_number) => json!({
                    "warehouseOrderNumber": warehouse_order_number,
                    "orderNumber": order_number,
                    "info": "",
                    "success": true,
                }),
                Err(info) => json!({
                    "warehouseOrderNumber": "",
                    "orderNumber": order_number,
                    "info": info,
                    "success": false,
                }),
            })
        }
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
                .map(|view| {
                    json!({
                        "orderNumber": view.order_number,
                        "wmsStatus": view.wms_status,
                        "status": view.status,
                        "carrierName": view.carrier_name,
                        "trackingNumber": view.tracking_number,
                        "failedReason": view.failed_reason,
                    })
                })
                .collect();
            Ok(json!({ "warehouseGetOrderList": list }))
        }
        "syncInventory" => {
            let query = inventory_query(request).map_err(param)?;
            let page = world
                .inventory(
                    &query.warehouse_code,
                    &query.skus,
                    query.page,
                    query.page_size,
                    now,
                )
                .map_err(param)?;
            let data: Vec<Value> = page.rows.iter().map(inventory_item).collect();
            Ok(match style {
                InventoryStyle::BareArray => Value::Array(data),
                InventoryStyle::PageObject => json!({
                    "isLastPage": page.is_last_page,
                    "currentPage": page.current_page,
                    "pageCount": page.page_count,
                    "data": data,
                }),
            })
        }
        "createAsnOrder" => {
            let asn_number = text(request, "asnNumber");
            Ok(match world.create_asn(request, now) {
                Ok(wms_asn_number) => json!({
                    "success": true,
                    "asnNumber": asn_number,
                    "info": "",
                    "wmsAsnNumber": wms_asn_number,
                }),
                Err(info) => json!({
                    "success": false,
                    "asnNumber": asn_number,
                    "info": info,
                    "wmsAsnNumber": "",
                }),
            })
        }
        "getAsnList" => {
            let numbers = asn_numbers(request)?;
            let list: Vec<Value> = numbers
                .iter()
                .filter_map(|number| world.asn(number, now))
                .map(|view| asn_json(&view))
                .collect();
            Ok(json!({ "asnList": list }))
        }
        "cancelAsnOrder" => {
            let numbers = asn_numbers(request)?;
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

fn asn_numbers(request: &Value) -> Result<Vec<String>, Failure> {
    numbers_of(request, "asnNumbers", "asnNumber")
        .filter(|numbers| !numbers.is_empty())
        .ok_or_else(|| param("missing required field asnNumbers".to_owned()))
}
