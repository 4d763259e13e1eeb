//! Fuzzing qlink's answers: any answer is read or refused without a panic,
//! a batch's outcomes follow the request whatever the warehouse says, and
//! stock rows round trip.

use proptest::prelude::*;
use serde_json::json;
use warehouse_protocol::Envelope;

use super::answers;
use crate::upstream::{
    UpstreamErrorKind,
    fuzz::{envelope, inventory_items, inventory_row, order_refs},
};

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
    fn a_batch_answer_has_one_outcome_per_order_in_request_order(
        envelope in envelope(),
        orders in order_refs(),
    ) {
        let numbers: Vec<String> = orders.iter().map(|order| order.order_number.clone()).collect();
        if let Ok(outcomes) = answers::cancelled_orders(&envelope, &orders) {
            let ids: Vec<&String> = outcomes.iter().map(|outcome| &outcome.id).collect();
            prop_assert_eq!(ids, numbers.iter().collect::<Vec<_>>());
        }
        if let Ok(states) = answers::order_states(&envelope, &orders) {
            let ids: Vec<&String> = states.iter().map(|state| &state.order_number).collect();
            prop_assert_eq!(ids, numbers.iter().collect::<Vec<_>>());
        }
        if let Ok(outcomes) = answers::cancelled_asns(&envelope, &numbers) {
            let ids: Vec<&String> = outcomes.iter().map(|outcome| &outcome.asn_number).collect();
            prop_assert_eq!(ids, numbers.iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn stock_rows_read_back_as_sent(items in inventory_items(), as_strings in any::<bool>()) {
        let rows: Vec<_> = items.iter().map(|item| inventory_row(item, as_strings)).collect();
        for result in [json!(rows), json!({"isLastPage": true, "pageCount": 1, "data": rows})] {
            let body = json!({"success": true, "result": result}).to_string();
            let envelope = Envelope::parse(body.as_bytes()).expect("an object");
            let page = answers::inventory_page(&envelope);
            prop_assert!(
                matches!(&page, Ok(page) if page.items == items),
                "{:?} from {}", page, body
            );
        }
    }

    #[test]
    fn a_refusal_keeps_the_warehouses_words(words in "[a-zA-Z库]\\PC{0,39}", code in "[A-Z_]{0,12}") {
        let body = json!({"success": false, "errorMsg": words, "code": code}).to_string();
        let envelope = Envelope::parse(body.as_bytes()).expect("an object");
        let refused = answers::warehouses(&envelope).expect_err("a refusal");
        let UpstreamErrorKind::Rejected { message, code: said } = refused else {
            panic!("{refused:?}");
        };
        prop_assert_eq!(message, words.trim());
        prop_assert_eq!(said, code);
    }
}
