//! Fuzzing qlink's answers: the tests both protocols share (any answer is
//! read or refused without a panic, a batch's outcomes follow the request,
//! stock rows round trip), a batch of orders' outcomes follow the request
//! whatever the warehouse says, and a refusal keeps the warehouse's words.

use proptest::prelude::*;
use serde_json::json;
use warehouse_protocol::Envelope;

use super::answers;
use crate::upstream::{
    UpstreamErrorKind,
    fuzz::{answers_pass_the_shared_fuzz_tests, envelope, order_refs, outcomes_follow_request},
};

answers_pass_the_shared_fuzz_tests!(
    answers,
    stock_pages: |rows| {
        [json!(rows), json!({"isLastPage": true, "pageCount": 1, "data": rows})]
            .map(|result| json!({"success": true, "result": result}))
    }
);

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
