//! qlink's answers, read into domain results: pure functions of the
//! answer's envelope, verdicts included. The data is in `result`, whose
//! shape the spec's examples and tables disagree on: a list may come bare,
//! inside an object under one of several keys, or as one object; `result`
//! may even be the JSON text of itself (some gateways encode it twice).
//!
//! The envelope's `success: false` fails the whole call. Inside a success,
//! a create or upsert refused item by item (`success: false` with words in
//! `info`) is a rejection; a batch item's refusal is that item's outcome.

use std::borrow::Cow;

use serde_json::Value;
use warehouse_protocol::{
    Envelope,
    tolerant::{bool_of, from_value, int_of, list_of},
};

use crate::{
    domain::{
        AsnCancelOutcome, AsnState, Channel, CreatedAsn, CreatedOrder, ItemOutcome, OrderRef,
        OrderState, SkuUpserted, Warehouse,
    },
    upstream::{
        UpstreamErrorKind,
        answers::{
            Answer, InventoryRow, ItemRow, OrderRow, WarehouseRow, accepted, asn_state, channel,
            rejected, row,
        },
        pager::PageAnswer,
    },
};

/// The answer's `result`, once the envelope said success; a `result` that
/// is itself a JSON text is decoded.
fn result(envelope: &Envelope) -> Result<Cow<'_, Value>, UpstreamErrorKind> {
    accepted(envelope)?;
    let result = envelope.field("result");
    if let Value::String(text) = result {
        let text = text.trim();
        if (text.starts_with('{') || text.starts_with('['))
            && let Ok(decoded) = serde_json::from_str::<Value>(text)
        {
            return Ok(Cow::Owned(decoded));
        }
    }
    Ok(Cow::Borrowed(result))
}

/// The rows of a list: the list under one of `keys` (or bare, or the only
/// list), or `result` itself when it is one object carrying `id_key`, or
/// answers for the whole call (`{"success":false,"info":…}`, as the
/// create examples refuse).
fn rows<T>(
    result: &Value,
    keys: &[&str],
    id_key: &str,
    read: impl Fn(&Value) -> Answer<T>,
) -> Answer<Vec<T>> {
    let values = match result {
        Value::Object(fields) if fields.contains_key(id_key) => vec![result],
        Value::Object(fields) => {
            let listed = list_of(result, keys);
            if listed.is_empty() && (fields.contains_key("success") || fields.contains_key("info"))
            {
                vec![result]
            } else {
                listed
            }
        }
        _ => list_of(result, keys),
    };
    values
        .into_iter()
        .filter(|value| !value.is_null())
        .map(read)
        .collect()
}

/// A single-object `result` (create and upsert answers); `null` reads as
/// all defaults, a list of one as its item.
fn single(result: &Value) -> Answer<ItemRow> {
    match result {
        Value::Null => Ok(ItemRow::default()),
        Value::Array(items) if items.len() == 1 => ItemRow::read(&items[0]),
        other => ItemRow::read(other),
    }
}

/// A create's item, unless it was refused: `success: false`, or no
/// `success` at all but words in `info` and no `number` for the `what` to
/// be created (the spec's examples carry refusals in `info`).
fn created(envelope: &Envelope, number: fn(&ItemRow) -> &str, what: &str) -> Answer<ItemRow> {
    let item = single(&*result(envelope)?)?;
    let refused = match item.success {
        Some(succeeded) => !succeeded,
        None => !item.info.trim().is_empty() && number(&item).trim().is_empty(),
    };
    if refused {
        let silent = format!("the warehouse refused the {what} without saying why");
        return Err(rejected(
            &[&item.info, &silent],
            &[&item.code, &envelope.code],
        ));
    }
    Ok(item)
}

/// `preferred` unless it is empty.
fn or(preferred: String, fallback: &str) -> String {
    if preferred.is_empty() {
        fallback.to_owned()
    } else {
        preferred
    }
}

/// `initWarehouses`: `warehouseList` (documented), `warehouseInfoList` (the
/// example) or a bare array.
pub(super) fn warehouses(envelope: &Envelope) -> Answer<Vec<Warehouse>> {
    let keys = ["warehouseList", "warehouseInfoList"];
    rows(&*result(envelope)?, &keys, "warehouseCode", |value| {
        row(value, "warehouse", WarehouseRow::deserialize)
    })
}

/// `initChannels`: `channelList`.
pub(super) fn channels(envelope: &Envelope, requested_warehouse: &str) -> Answer<Vec<Channel>> {
    let keys = ["channelList", "channels"];
    rows(&*result(envelope)?, &keys, "channelCode", |value| {
        channel(value, requested_warehouse)
    })
}

/// `createOrder`: an item refused inside a transport success is a rejection
/// with the item's `info`.
pub(super) fn created_order(envelope: &Envelope, order_number: &str) -> Answer<CreatedOrder> {
    let item = created(envelope, |item| &item.warehouse_order_number, "order")?;
    let warehouse_order_number = item.warehouse_order_number;
    Ok(CreatedOrder {
        order_number: or(item.order_number, order_number),
        warehouse_order_number,
    })
}

/// `createAsnOrder`, read as [`created_order`] is.
pub(super) fn created_asn(envelope: &Envelope, asn_number: &str) -> Answer<CreatedAsn> {
    let item = created(envelope, |item| &item.wms_asn_number, "ASN")?;
    Ok(CreatedAsn {
        asn_number: or(item.asn_number, asn_number),
        wms_asn_number: item.wms_asn_number,
    })
}

/// `insertSkuInfo`: an item's `success: false` is a rejection with `info`.
pub(super) fn sku_upserted(envelope: &Envelope, sku: &str) -> Answer<SkuUpserted> {
    let item = single(&*result(envelope)?)?;
    if item.success == Some(false) {
        return Err(rejected(
            &[
                &item.info,
                "the warehouse refused the product without saying why",
            ],
            &[&item.code, &envelope.code],
        ));
    }
    Ok(SkuUpserted {
        sku: or(item.sku, sku),
        operation: item.operation,
    })
}

/// Picks the row about `id` (input position `index`): the row naming it
/// (spaces aside); else a lone failure naming nothing, which is the whole
/// call's; else, when rows name nothing, the row at the same position.
fn row_for<'r, T>(
    rows: &'r [T],
    index: usize,
    id: &str,
    id_of: impl Fn(&T) -> &str,
    failed: impl Fn(&T) -> bool,
) -> Option<&'r T> {
    let id = id.trim();
    let names_nothing = |row: &&T| id_of(row).trim().is_empty();
    rows.iter()
        .find(|row| id_of(row).trim() == id)
        .or_else(|| match rows {
            [only] if names_nothing(&only) && failed(only) => Some(only),
            _ => rows.get(index).filter(names_nothing),
        })
}

/// Where a batch cancel's answer lists its items, and what a silent
/// refusal of one says.
struct Batch {
    keys: &'static [&'static str],
    id_key: &'static str,
    id_of: fn(&ItemRow) -> &str,
    refused_silently: &'static str,
}

const CANCELLED_ORDERS: Batch = Batch {
    keys: &["results", "cancelOrderList", "cancelOrderResultList"],
    id_key: "orderNumber",
    id_of: |item| &item.order_number,
    refused_silently: "the warehouse did not cancel this order",
};

const CANCELLED_ASNS: Batch = Batch {
    keys: &["results", "asnList"],
    id_key: "asnNumber",
    id_of: |item| &item.asn_number,
    refused_silently: "the warehouse did not cancel this ASN",
};

/// One outcome per id of a batch cancel, in input order: (success,
/// message, operation). `result` may be `null`, one object, a bare list or
/// an object holding a list; an item the warehouse did not mention was
/// cancelled (the envelope said success).
fn cancel_outcomes<'i>(
    envelope: &Envelope,
    batch: &Batch,
    ids: impl Iterator<Item = &'i str>,
) -> Result<Vec<(bool, String, String)>, UpstreamErrorKind> {
    let rows = rows(&*result(envelope)?, batch.keys, batch.id_key, ItemRow::read)?;
    Ok(ids
        .enumerate()
        .map(
            |(index, id)| match row_for(&rows, index, id, batch.id_of, ItemRow::failed) {
                None => (true, String::new(), String::new()),
                Some(item) if !item.failed() => (true, String::new(), item.operation.clone()),
                Some(item) => {
                    let words = [item.words(), batch.refused_silently];
                    let message = words.into_iter().find(|words| !words.is_empty());
                    (
                        false,
                        message.unwrap_or_default().to_owned(),
                        item.operation.clone(),
                    )
                }
            },
        )
        .collect())
}

/// `cancelOrder`.
pub(super) fn cancelled_orders(
    envelope: &Envelope,
    orders: &[OrderRef],
) -> Answer<Vec<ItemOutcome>> {
    let ids = orders.iter().map(|order| order.order_number.as_str());
    let outcomes = cancel_outcomes(envelope, &CANCELLED_ORDERS, ids)?;
    Ok(orders
        .iter()
        .zip(outcomes)
        .map(|(order, (success, message, _))| ItemOutcome {
            id: order.order_number.clone(),
            success,
            message,
        })
        .collect())
}

/// `cancelAsnOrder`.
pub(super) fn cancelled_asns(
    envelope: &Envelope,
    asn_numbers: &[String],
) -> Answer<Vec<AsnCancelOutcome>> {
    let ids = asn_numbers.iter().map(String::as_str);
    let outcomes = cancel_outcomes(envelope, &CANCELLED_ASNS, ids)?;
    Ok(asn_numbers
        .iter()
        .zip(outcomes)
        .map(
            |(asn_number, (success, message, operation))| AsnCancelOutcome {
                asn_number: asn_number.clone(),
                success,
                message,
                operation,
            },
        )
        .collect())
}

/// `getOrder`: one state per input order, in input order, matched by
/// `orderNumber`.
pub(super) fn order_states(envelope: &Envelope, orders: &[OrderRef]) -> Answer<Vec<OrderState>> {
    let keys = ["warehouseGetOrderList", "getOrderList", "orderList"];
    let rows = rows(&*result(envelope)?, &keys, "orderNumber", |value| {
        Ok(from_value::<OrderRow>(value, "order")?)
    })?;
    Ok(orders
        .iter()
        .enumerate()
        .map(|(index, order)| {
            let number = &order.order_number;
            let found = row_for(
                &rows,
                index,
                number,
                |row| &row.order_number,
                |row| row.success == Some(false),
            );
            let Some(row) = found else {
                return OrderState::unreported(number, "the warehouse did not report this order");
            };
            // An item-level failure: the order is unknown to the warehouse, say.
            let error_message = match row.success {
                Some(false) if row.info.is_empty() => "the warehouse could not report this order",
                Some(false) => &row.info,
                _ => "",
            };
            let error_message = error_message.to_owned();
            row.clone().into_state(number, error_message)
        })
        .collect())
}

/// `getAsnList`: the ASNs the warehouse reported, under `asnList`.
pub(super) fn asn_states(envelope: &Envelope) -> Answer<Vec<AsnState>> {
    rows(
        &*result(envelope)?,
        &["asnList", "asns"],
        "asnNumber",
        asn_state,
    )
}

/// Where a page object keeps its rows.
const INVENTORY_LIST_KEYS: [&str; 3] = ["data", "list", "records"];

/// `syncInventory`: the documented page object `{isLastPage, currentPage,
/// pageCount, data}`, or the example's bare array of rows.
pub(super) fn inventory_page(envelope: &Envelope) -> Answer<PageAnswer> {
    let result = result(envelope)?;
    let read = |value: &Value| row(value, "inventory item", InventoryRow::deserialize);
    let (page, keys): (Option<&Value>, &[&str]) = match &*result {
        Value::Object(fields) if !fields.contains_key("warehouseSku") => {
            (Some(&*result), &INVENTORY_LIST_KEYS)
        }
        _ => (None, &[]),
    };
    let paging = |key: &str| {
        page.and_then(|page| page.get(key))
            .filter(|value| !value.is_null())
    };
    Ok(PageAnswer {
        items: rows(&result, keys, "warehouseSku", read)?,
        is_last_page: paging("isLastPage").map(bool_of),
        current_page: paging("currentPage").and_then(int_of),
        page_count: paging("pageCount").and_then(int_of),
    })
}
