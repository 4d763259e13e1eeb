//! Fuzzing Qianyi's answers: any answer is read or refused without a
//! panic, a per-order answer is about the order asked for, a batch's
//! outcomes follow the request, and stock rows round trip.

use proptest::prelude::*;
use serde_json::json;
use warehouse_protocol::Envelope;

use super::answers;
use crate::upstream::fuzz::{envelope, inventory_items, inventory_row, order_refs};

proptest! {
    #![proptest_config(warehouse_protocol::fuzzing::config())]

    #[test]
    fn any_answer_to_a_single_call_is_read_or_refused_without_a_panic(
        envelope in envelope(),
        number in warehouse_protocol::fuzzing::text(),
    ) {
        let _ = answers::warehouses(&envelope);
        let _ = answers::channels(&envelope, &number);
        let _ = answers::created_order(&envelope, &number);
        let _ = answers::created_asn(&envelope, &number);
        let _ = answers::sku_upserted(&envelope, &number);
        let _ = answers::asn_states(&envelope);
        let _ = answers::inventory_page(&envelope);
    }

    #[test]
    fn an_answer_about_one_order_is_about_the_order_asked_for(
        envelope in envelope(),
        number in warehouse_protocol::fuzzing::text(),
    ) {
        if let Ok(outcome) = answers::order_cancelled(&envelope, &number) {
            prop_assert_eq!(&outcome.id, &number);
            prop_assert_eq!(outcome.success, envelope.success);
        }
        if let Ok(state) = answers::order_state(&envelope, &number) {
            prop_assert_eq!(&state.order_number, &number);
        }
    }

    #[test]
    fn a_batch_answer_has_one_outcome_per_asn_in_request_order(
        envelope in envelope(),
        orders in order_refs(),
    ) {
        let numbers: Vec<String> = orders.into_iter().map(|order| order.order_number).collect();
        if let Ok(outcomes) = answers::cancelled_asns(&envelope, &numbers) {
            let ids: Vec<&String> = outcomes.iter().map(|outcome| &outcome.asn_number).collect();
            prop_assert_eq!(ids, numbers.iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn stock_rows_read_back_as_sent(items in inventory_items(), as_strings in any::<bool>()) {
        let rows: Vec<_> = items.iter().map(|item| inventory_row(item, as_strings)).collect();
        for body in [
            json!({"success": true, "data": rows}),
            json!({"success": true, "isLastPage": true, "pageCount": 1, "data": rows}),
        ] {
            let envelope = Envelope::parse(body.to_string().as_bytes()).expect("an object");
            let page = answers::inventory_page(&envelope);
            prop_assert!(
                matches!(&page, Ok(page) if page.items == items),
                "{:?} from {}", page, body
            );
        }
    }
}
