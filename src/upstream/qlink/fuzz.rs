//! Fuzzing qlink's answers: any answer is read or refused without a panic,
//! a batch's outcomes follow the request whatever the warehouse says, and
//! stock rows round trip.

use proptest::prelude::*;
use serde_json::json;
use warehouse_protocol::Envelope;

use super::answers;
use crate::upstream::{
    UpstreamErrorKind,
    fuzz::{
        any_single_answer_is_read_or_refused, envelope, inventory_items, inventory_row, order_refs,
        outcomes_follow_request, stock_rows_read_back,
    },
};

any_single_answer_is_read_or_refused!(answers);

proptest! {
    #![proptest_config(warehouse_protocol::fuzzing::config())]

    #[test]
    fn a_batch_answer_has_one_outcome_per_order_in_request_order(
        envelope in envelope(),
        orders in order_refs(),
    ) {
        let numbers: Vec<String> = orders.iter().map(|order| order.order_number.clone()).collect();
        let cancelled = answers::cancelled_orders(&envelope, &orders);
        outcomes_follow_request(cancelled, |outcome| &outcome.id, &numbers)?;
        let states = answers::order_states(&envelope, &orders);
        outcomes_follow_request(states, |state| &state.order_number, &numbers)?;
        let asns = answers::cancelled_asns(&envelope, &numbers);
        outcomes_follow_request(asns, |outcome| &outcome.asn_number, &numbers)?;
    }

    #[test]
    fn stock_rows_read_back_as_sent(items in inventory_items(), as_strings in any::<bool>()) {
        let rows: Vec<_> = items.iter().map(|item| inventory_row(item, as_strings)).collect();
        let bodies = [json!(rows), json!({"isLastPage": true, "pageCount": 1, "data": rows})]
            .map(|result| json!({"success": true, "result": result}));
        stock_rows_read_back(&items, bodies, answers::inventory_page)?;
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
