//! Fuzzing Qianyi's answers: the tests both protocols share (any answer is
//! read or refused without a panic, a batch's outcomes follow the request,
//! stock rows round trip), and a per-order answer is about the order asked
//! for.

use proptest::prelude::*;
use serde_json::json;

use super::answers;
use crate::upstream::fuzz::{answers_pass_the_shared_fuzz_tests, envelope};

answers_pass_the_shared_fuzz_tests!(
    answers,
    stock_pages: |rows| [
        json!({"success": true, "data": rows}),
        json!({"success": true, "isLastPage": true, "pageCount": 1, "data": rows}),
    ]
);

proptest! {
    #![proptest_config(warehouse_protocol::fuzzing::config())]

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
}
