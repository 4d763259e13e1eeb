//! What the fuzz tests of both protocols' answers share: answers of every
//! shape (any object, or a success carrying any data where each protocol
//! looks for it), the references a batch asks about, stock rows to round
//! trip, and the checks both make of what was read. Each protocol's
//! `fuzz.rs` drives its `answers.rs` with them.

use proptest::{collection::vec, prelude::*};
use serde_json::{Value, json};
use warehouse_protocol::{Envelope, fuzzing};

use super::{answers::Answer, pager::PageAnswer};
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

/// Checks that a batch's outcomes, where the answer was read at all, are
/// about `numbers` in request order; `id` is what names an outcome.
pub(super) fn outcomes_follow_request<T>(
    outcomes: Answer<Vec<T>>,
    id: impl Fn(&T) -> &String,
    numbers: &[String],
) -> Result<(), TestCaseError> {
    if let Ok(outcomes) = outcomes {
        let ids: Vec<&String> = outcomes.iter().map(id).collect();
        prop_assert_eq!(ids, numbers.iter().collect::<Vec<_>>());
    }
    Ok(())
}

/// Checks that each of `bodies`, read as a stock page by `read`, holds
/// exactly `items`.
pub(super) fn stock_rows_read_back(
    items: &[InventoryItem],
    bodies: impl IntoIterator<Item = Value>,
    read: impl Fn(&Envelope) -> Answer<PageAnswer>,
) -> Result<(), TestCaseError> {
    for body in bodies {
        let envelope = Envelope::parse(body.to_string().as_bytes()).expect("an object");
        let page = read(&envelope);
        prop_assert!(
            matches!(&page, Ok(page) if page.items == items),
            "{:?} from {}",
            page,
            body
        );
    }
    Ok(())
}

/// The fuzz tests both protocols' `answers` modules pass alike: every
/// single-call reader, given any answer, reads it or refuses it without a
/// panic; a cancelAsnOrder answer has one outcome per ASN asked about, in
/// request order; and stock rows read back as sent, in each of the pages
/// `$pages` makes of them (the protocol's envelopes around the rows). A
/// macro, not a function: the readers are same-named functions of two
/// modules, with no trait between them.
macro_rules! answers_pass_the_shared_fuzz_tests {
    ($answers:ident, stock_pages: $pages:expr) => {
        proptest! {
            #![proptest_config(warehouse_protocol::fuzzing::config())]

            #[test]
            fn any_answer_to_a_single_call_is_read_or_refused_without_a_panic(
                envelope in crate::upstream::fuzz::envelope(),
                number in warehouse_protocol::fuzzing::text(),
            ) {
                let _ = $answers::warehouses(&envelope);
                let _ = $answers::channels(&envelope, &number);
                let _ = $answers::created_order(&envelope, &number);
                let _ = $answers::created_asn(&envelope, &number);
                let _ = $answers::sku_upserted(&envelope, &number);
                let _ = $answers::asn_states(&envelope);
                let _ = $answers::inventory_page(&envelope);
            }

            #[test]
            fn a_batch_answer_has_one_outcome_per_asn_in_request_order(
                envelope in crate::upstream::fuzz::envelope(),
                orders in crate::upstream::fuzz::order_refs(),
            ) {
                let numbers: Vec<String> =
                    orders.into_iter().map(|order| order.order_number).collect();
                let outcomes = $answers::cancelled_asns(&envelope, &numbers);
                crate::upstream::fuzz::outcomes_follow_request(
                    outcomes,
                    |outcome| &outcome.asn_number,
                    &numbers,
                )?;
            }

            #[test]
            fn stock_rows_read_back_as_sent(
                items in crate::upstream::fuzz::inventory_items(),
                as_strings in any::<bool>(),
            ) {
                let rows: Vec<serde_json::Value> = items
                    .iter()
                    .map(|item| crate::upstream::fuzz::inventory_row(item, as_strings))
                    .collect();
                let pages = ($pages)(rows);
                crate::upstream::fuzz::stock_rows_read_back(&items, pages, $answers::inventory_page)?;
            }
        }
    };
}
pub(super) use answers_pass_the_shared_fuzz_tests;
