//! What the fuzz tests of both protocols' answers share: answers of every
//! shape (any object, or a success carrying any data where each protocol
//! looks for it), the references a batch asks about, stock rows to round
//! trip. Each protocol's `fuzz.rs` drives its `answers.rs` with them.

use proptest::{collection::vec, prelude::*};
use serde_json::{Value, json};
use warehouse_protocol::{Envelope, fuzzing};

use crate::domain::{InventoryItem, OrderRef};

/// Any answer a warehouse may send, as an envelope: any object, or a
/// success with any value as qlink's `result`, or as Qianyi's `data`, or
/// spread at the top beside `success`.
pub(super) fn envelope() -> impl Strategy<Value = Envelope> {
    prop_oneof![
        fuzzing::object(),
        fuzzing::json().prop_map(|result| json!({"success": true, "result": result})),
        fuzzing::json().prop_map(|data| json!({"success": true, "data": data})),
        fuzzing::object().prop_map(|mut fields| {
            fields["success"] = Value::Bool(true);
            fields
        }),
    ]
    .prop_map(|body| {
        Envelope::parse(body.to_string().as_bytes()).expect("an object is an envelope")
    })
}

/// One to a few order references, their numbers partly from the answers'
/// texts so that rows may match them.
pub(super) fn order_refs() -> impl Strategy<Value = Vec<OrderRef>> {
    vec(fuzzing::text(), 1..5).prop_map(|numbers| {
        numbers
            .into_iter()
            .map(|order_number| OrderRef {
                order_number,
                ..OrderRef::default()
            })
            .collect()
    })
}

/// Stock rows, quantities anywhere in `i64`.
pub(super) fn inventory_items() -> impl Strategy<Value = Vec<InventoryItem>> {
    let item = (any::<String>(), any::<String>(), [any::<i64>(); 7]).prop_map(
        |(sku, warehouse_code, [sellable, total, onway, pending, unsellable, reserved, used])| {
            InventoryItem {
                sku,
                warehouse_code,
                sellable,
                total,
                onway,
                pending,
                unsellable,
                reserved,
                used,
            }
        },
    );
    vec(item, 0..5)
}

/// A stock row as both specs write it, each quantity as a number or, as
/// the qlink example sends them, a string.
pub(super) fn inventory_row(item: &InventoryItem, as_strings: bool) -> Value {
    let quantity = |number: i64| {
        if as_strings {
            Value::String(number.to_string())
        } else {
            Value::from(number)
        }
    };
    json!({
        "warehouseCode": item.warehouse_code,
        "warehouseSku": item.sku,
        "sellableQuantity": quantity(item.sellable),
        "totalQuantity": quantity(item.total),
        "onwayQuantity": quantity(item.onway),
        "pendingQuantity": quantity(item.pending),
        "unsellableQuantity": quantity(item.unsellable),
        "reservedQuantity": quantity(item.reserved),
        "useQuantity": quantity(item.used),
    })
}
