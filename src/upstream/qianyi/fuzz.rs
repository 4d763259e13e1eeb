//! Fuzzing Qianyi's answers: any answer is read or refused without a
//! panic, a per-order answer is about the order asked for, a batch's
//! outcomes follow the request, and stock rows round trip.

use proptest::prelude::*;
use serde_json::json;

use super::answers;
use crate::upstream::fuzz::{
    any_single_answer_is_read_or_refused, envelope, inventory_items, inventory_row, order_refs,
    outcomes_follow_request, stock_rows_read_back,
};

any_single_answer_is_read_or_refused!(answers);

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

    #[test]
    fn a_batch_answer_has_one_outcome_per_asn_in_request_order(
        envelope in envelope(),
        orders in order_refs(),
    ) {
        let numbers: Vec<String> = orders.into_iter().map(|order| order.order_number).collect();
        let outcomes = answers::cancelled_asns(&envelope, &numbers);
        outcomes_follow_request(outcomes, |outcome| &outcome.asn_number, &numbers)?;
    }

    #[test]
    fn stock_rows_read_back_as_sent(items in inventory_items(), as_strings in any::<bool>()) {
        let rows: Vec<_> = items.iter().map(|item| inventory_row(item, as_strings)).collect();
        let bodies = [
            json!({"success": true, "data": rows}),
            json!({"success": true, "isLastPage": true, "pageCount": 1, "data": rows}),
        ];
        stock_rows_read_back(&items, bodies, answers::inventory_page)?;
    }
}
