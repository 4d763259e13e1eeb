//! Qianyi's answers, read into domain results: pure functions of the
//! answer's envelope, verdicts included. Answers are flat: the data sits at
//! the top beside `success` and `message`, or inside a `data` object, or
//! is `data` itself.
//!
//! One call asks about one order, so an order's refusal is that order's
//! outcome; a batch of ASNs is one call whose `results` say which failed.

use serde_json::Value;
use warehouse_protocol::{
    Envelope,
    tolerant::{bool_of, from_value, int_of, list_of, string_of},
};

use crate::{
    domain::{
        AsnCancelOutcome, AsnState, Channel, CreatedAsn, CreatedOrder, ItemOutcome, OrderState,
        SkuUpserted, Warehouse,
    },
    upstream::{
        UpstreamError, UpstreamErrorKind,
        answers::{
            Answer, InventoryRow, ItemRow, OrderRow, SILENT_REFUSAL, WarehouseRow, accepted,
            asn_state, channel, rejected, row,
        },
        pager::PageAnswer,
    },
};

/// The list under one of `keys`: at the top of the answer, else inside a
/// `data` object, else `data` itself (a `data` object holding no such list is
/// one record); the answer's only list otherwise.
fn answer_list<'a>(root: &'a Value, keys: &[&str]) -> Vec<&'a Value> {
    let holds_list = |scope: &Value, key: &str| {
        matches!(scope.get(key), Some(Value::Array(_) | Value::Object(_)))
    };
    let list_keys: Vec<&str> = keys.iter().copied().filter(|key| *key != "data").collect();
    // Only named keys inside `data`: a record's own lists (an ASN's
    // `skuList`) are not the answer's list.
    if let Some(data @ Value::Object(_)) = root.get("data")
        && !list_keys.iter().any(|key| holds_list(root, key))
        && list_keys.iter().any(|key| holds_list(data, key))
    {
        return list_of(data, &list_keys);
    }
    list_of(root, keys)
}

/// The rows of an accepted answer's list under one of `keys`.
fn listed<T>(
    envelope: &Envelope,
    keys: &[&str],
    read: impl Fn(&Value) -> Answer<T>,
) -> Answer<Vec<T>> {
    accepted(envelope)?;
    answer_list(&envelope.body, keys)
        .into_iter()
        .map(read)
        .collect()
}

/// `warehouses`: `warehouseList`.
pub(super) fn warehouses(envelope: &Envelope) -> Answer<Vec<Warehouse>> {
    let keys = ["warehouseList", "warehouseInfoList", "warehouses", "data"];
    listed(envelope, &keys, |value| {
        row(value, "warehouse", WarehouseRow::deserialize)
    })
}

/// `channels`: `channelList`.
pub(super) fn channels(envelope: &Envelope, requested_warehouse: &str) -> Answer<Vec<Channel>> {
    let keys = ["channelList", "channels", "data"];
    listed(envelope, &keys, |value| channel(value, requested_warehouse))
}

/// `getAsnList`: `asnList`.
pub(super) fn asn_states(envelope: &Envelope) -> Answer<Vec<AsnState>> {
    listed(envelope, &["asnList", "asns", "data", "list"], asn_state)
}

/// The first non-empty text of `key` in `data`, then at the top.
fn number(root: &Value, key: &str) -> String {
    [root.get("data"), Some(root)]
        .into_iter()
        .flatten()
        .filter_map(|scope| scope.get(key))
        .map(string_of)
        .find(|number| !number.is_empty())
        .unwrap_or_default()
}

/// `createOrder`: `data.warehouseOrderNumber`, or at the top; "" when the
/// warehouse does not say.
pub(super) fn created_order(envelope: &Envelope, order_number: &str) -> Answer<CreatedOrder> {
    accepted(envelope)?;
    Ok(CreatedOrder {
        order_number: order_number.to_owned(),
        warehouse_order_number: number(&envelope.body, "warehouseOrderNumber"),
    })
}

/// `cancelOrder` of one order: a refusal is this order's `success: false`
/// with the warehouse's words.
pub(super) fn order_cancelled(envelope: &Envelope, order_number: &str) -> Answer<ItemOutcome> {
    let (success, message) = match accepted(envelope) {
        Ok(()) => (true, String::new()),
        Err(UpstreamErrorKind::Rejected { message, .. }) => (false, message),
        Err(other) => return Err(other),
    };
    Ok(ItemOutcome {
        id: order_number.to_owned(),
        success,
        message,
    })
}

/// A batch of one call per order: every order has its outcome, whatever
/// happened to the others; unless no order reached a verdict, which says
/// the warehouse is down, and the first failure is the batch's.
pub(super) fn batch_outcomes(
    orders: impl IntoIterator<Item = (String, Result<ItemOutcome, UpstreamError>)>,
) -> Result<Vec<ItemOutcome>, UpstreamError> {
    let mut outcomes = Vec::new();
    let mut first_unreached = None;
    let mut any_decided = false;
    for (order_number, answer) in orders {
        outcomes.push(match answer {
            Ok(outcome) => {
                any_decided = true;
                outcome
            }
            Err(err) => {
                let message = err.to_string();
                first_unreached.get_or_insert(err);
                ItemOutcome {
                    id: order_number,
                    success: false,
                    message,
                }
            }
        });
    }
    match first_unreached {
        Some(err) if !any_decided => Err(err),
        _ => Ok(outcomes),
    }
}

/// `getOrder`: the `data` object (or a list holding it, or the fields at the
/// top). A refusal, or an answer naming no status, reports nothing about the
/// order. The state is reported under the order asked about: one call asks
/// about one order, and the answer's `orderNumber` may be another name for
/// it (the spec's example asks for CESH210204147401 and is answered
/// S0000001).
pub(super) fn order_state(envelope: &Envelope, order_number: &str) -> Answer<OrderState> {
    if let Err(UpstreamErrorKind::Rejected { message, .. }) = accepted(envelope) {
        return Ok(OrderState::unreported(order_number, message));
    }
    let root = &envelope.body;
    let has_status =
        |value: &Value| value.get("status").is_some() || value.get("wmsStatus").is_some();
    let record = match root.get("data") {
        Some(data @ Value::Object(_)) => Some(data),
        Some(Value::Array(items)) => items
            .iter()
            .find(|item| {
                item.get("orderNumber")
                    .is_some_and(|number| string_of(number) == order_number)
            })
            .or_else(|| items.first()),
        _ => has_status(root).then_some(root),
    };
    let Some(record) = record.filter(|record| has_status(record)) else {
        return Ok(OrderState::unreported(
            order_number,
            "the warehouse answered without the order's status",
        ));
    };
    let row: OrderRow = from_value(record, "getOrder data")?;
    Ok(row.into_state(order_number, String::new()))
}

/// Where a page object keeps its rows, in the order they are looked for.
const INVENTORY_ITEM_KEYS: [&str; 4] = ["data", "list", "inventoryList", "records"];

/// `syncInventory`: paging fields and `data` at the top (the spec), or a
/// page object in `data`, or `data` as a bare list.
pub(super) fn inventory_page(envelope: &Envelope) -> Answer<PageAnswer> {
    accepted(envelope)?;
    let root = &envelope.body;
    const PAGING: [&str; 3] = ["isLastPage", "currentPage", "pageCount"];
    let page_object = match root.get("data") {
        Some(data @ Value::Object(fields))
            if PAGING
                .iter()
                .chain(&INVENTORY_ITEM_KEYS)
                .any(|key| fields.contains_key(*key)) =>
        {
            Some(data)
        }
        _ => None,
    };
    // The page's own fields first, then the top-level ones.
    let paging = |key: &str| {
        page_object
            .and_then(|page| page.get(key))
            .filter(|value| !value.is_null())
            .or_else(|| root.get(key).filter(|value| !value.is_null()))
    };
    let rows = match page_object {
        Some(page) => list_of(page, &INVENTORY_ITEM_KEYS),
        None => match root.get("data") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            _ => list_of(root, &INVENTORY_ITEM_KEYS),
        },
    };
    Ok(PageAnswer {
        items: rows
            .into_iter()
            .map(|value| row(value, "syncInventory item", InventoryRow::deserialize))
            .collect::<Result<_, _>>()?,
        is_last_page: paging("isLastPage").map(bool_of),
        current_page: paging("currentPage").and_then(int_of),
        page_count: paging("pageCount").and_then(int_of),
    })
}

/// `results`, at the top or inside `data`; one object counts as a list of one.
fn results(root: &Value) -> Answer<Vec<ItemRow>> {
    let lists = [
        root.get("results"),
        root.get("data").and_then(|data| data.get("results")),
    ];
    match lists.into_iter().flatten().find(|list| !list.is_null()) {
        Some(Value::Array(items)) => items.iter().map(ItemRow::read).collect(),
        Some(one @ Value::Object(_)) => Ok(vec![ItemRow::read(one)?]),
        Some(other) => Err(UpstreamErrorKind::Malformed(format!(
            "results: expected a list, got {other}"
        ))),
        None => Ok(Vec::new()),
    }
}

/// The verdict on a single-item write (createAsnOrder, insert_sku_info),
/// and its `results` entry (the first, or the one `pick` prefers): the
/// call's `success: false`, or the item's, or failure words in the item
/// where the top level says nothing.
fn single_write(envelope: &Envelope, pick: impl Fn(&ItemRow) -> bool) -> Answer<ItemRow> {
    let results = results(&envelope.body)?;
    let item = results
        .iter()
        .find(|item| pick(item))
        .or(results.first())
        .cloned()
        .unwrap_or_default();
    let codes = [envelope.code.as_str()];
    if !envelope.success {
        return Err(rejected(
            &[&envelope.message, &item.info, SILENT_REFUSAL],
            &codes,
        ));
    }
    let item_refused = item.success == Some(false)
        || (item.success.is_none() && !envelope.says_success() && !item.info.is_empty());
    if item_refused {
        return Err(rejected(
            &[&item.info, &envelope.message, SILENT_REFUSAL],
            &codes,
        ));
    }
    Ok(item)
}

/// `createAsnOrder`: the warehouse's own number from `data.wmsAsnNumber`,
/// `wmsAsnNumber` or the result; "" when it does not say.
pub(super) fn created_asn(envelope: &Envelope, asn_number: &str) -> Answer<CreatedAsn> {
    let item = single_write(envelope, |_| false)?;
    let said = number(&envelope.body, "wmsAsnNumber");
    Ok(CreatedAsn {
        asn_number: asn_number.to_owned(),
        wms_asn_number: if said.is_empty() {
            item.wms_asn_number
        } else {
            said
        },
    })
}

/// `insert_sku_info`: `results` is the spec's failure set, so a success may
/// come without it; CREATE is the only operation the spec names here.
pub(super) fn sku_upserted(envelope: &Envelope, sku: &str) -> Answer<SkuUpserted> {
    let item = single_write(envelope, |item| item.sku == sku)?;
    Ok(SkuUpserted {
        sku: sku.to_owned(),
        operation: if item.operation.is_empty() {
            "CREATE".to_owned()
        } else {
            item.operation
        },
    })
}

/// `cancelAsnOrder`: one outcome per input ASN. A batch: `success: false` at
/// the top is every unlisted ASN's outcome, not an error of the call. With
/// an item saying why, it is a partial batch (the listed ASNs with nothing
/// to say were cancelled); with none, the failure is the whole call's,
/// listed ASNs included.
pub(super) fn cancelled_asns(
    envelope: &Envelope,
    asn_numbers: &[String],
) -> Answer<Vec<AsnCancelOutcome>> {
    let results = results(&envelope.body)?;
    let success = envelope.success;
    let message = if envelope.message.is_empty() {
        SILENT_REFUSAL
    } else {
        &envelope.message
    };
    let failure_explained = results.iter().any(ItemRow::failed);
    let silent_item_cancelled = success || failure_explained;
    Ok(asn_numbers
        .iter()
        .map(|asn_number| {
            let listed = results
                .iter()
                .find(|item| item.asn_number.trim() == asn_number.trim());
            let (ok, words, operation) = match listed {
                Some(item) => (
                    item.success
                        .unwrap_or(item.info.is_empty() && silent_item_cancelled),
                    if item.info.is_empty() {
                        message
                    } else {
                        &item.info
                    },
                    item.operation.clone(),
                ),
                None => (success, message, String::new()),
            };
            AsnCancelOutcome {
                asn_number: asn_number.clone(),
                success: ok,
                message: if ok { String::new() } else { words.to_owned() },
                operation,
            }
        })
        .collect())
}
