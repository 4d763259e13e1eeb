//! Fuzzing the webhooks' reading of a push's content: any JSON object is an
//! event or a refusal, never a panic; an event carries what was pushed, a
//! refusal names the field; and a well-formed push reads back as pushed.

use proptest::{collection::vec, prelude::*};
use serde_json::{Value, json};
use warehouse_protocol::{fuzzing, tolerant::string_of};

use super::webhook::{PushError, asn_event, order_event};

/// The times a `google.protobuf.Timestamp` holds, in milliseconds.
const TIMESTAMP_MS: std::ops::RangeInclusive<i64> = -62_135_596_800_000..=253_402_300_799_999;

/// A quantity as a warehouse may push it: a number, or the text of one.
fn pushed(number: i64, as_string: bool) -> Value {
    if as_string {
        Value::String(number.to_string())
    } else {
        Value::from(number)
    }
}

proptest! {
    #![proptest_config(fuzzing::config())]

    #[test]
    fn any_order_push_is_an_event_or_a_refusal_naming_why(content in fuzzing::object()) {
        match order_event(&content) {
            Ok(event) => {
                prop_assert!(!event.order_number.trim().is_empty());
                prop_assert_eq!(&event.order_number, &string_of(&content["orderNumber"]));
                prop_assert!(event.shipping_time_ms.is_none_or(|ms| TIMESTAMP_MS.contains(&ms)));
            }
            Err(PushError::Missing(field)) => prop_assert_eq!(field, "orderNumber"),
            Err(PushError::OutOfRange { field, value, .. }) => {
                prop_assert!(field == "shippingTime" || field.starts_with("skuList["), "{}", field);
                prop_assert!(value.chars().count() <= 65, "{}", value);
            }
            Err(other) => prop_assert!(false, "{other}"),
        }
    }

    #[test]
    fn any_asn_push_is_an_event_or_a_refusal_naming_why(content in fuzzing::object()) {
        match asn_event(&content) {
            Ok(event) => {
                prop_assert!(!event.asn_number.trim().is_empty());
                for time in [event.finish_time_ms, event.update_time_ms].into_iter().flatten() {
                    prop_assert!(TIMESTAMP_MS.contains(&time));
                }
            }
            Err(PushError::Missing(field)) => prop_assert_eq!(field, "asnNumber"),
            Err(PushError::OutOfRange { field, .. }) => prop_assert!(
                ["finishTime", "updateTime"].contains(&field.as_str()) || field.starts_with("skuList["),
                "{}", field
            ),
            Err(other) => prop_assert!(false, "{other}"),
        }
    }

    #[test]
    fn a_well_formed_order_push_reads_back_as_pushed(
        order_number in "[A-Z0-9][A-Z0-9-]{0,20}",
        track_number in "[A-Z0-9]{0,12}",
        shipping_time in TIMESTAMP_MS,
        lines in vec(("[A-Z0-9-]{1,12}", any::<i64>(), any::<bool>()), 0..4),
    ) {
        let content = json!({
            "orderNumber": order_number,
            "status": "SUCCESS",
            "trackNumber": track_number,
            "shippingTime": shipping_time,
            "skuList": lines
                .iter()
                .map(|(sku, quantity, as_string)| json!({"sku": sku, "quantity": pushed(*quantity, *as_string)}))
                .collect::<Vec<_>>(),
        });
        let event = order_event(&content).expect("a well-formed push");
        prop_assert_eq!(event.order_number, order_number);
        prop_assert_eq!(event.track_number, track_number);
        prop_assert_eq!(event.shipping_time_ms, Some(shipping_time));
        let items: Vec<(String, i64)> =
            lines.into_iter().map(|(sku, quantity, _)| (sku, quantity)).collect();
        prop_assert_eq!(event.items, items);
    }

    #[test]
    fn a_well_formed_asn_push_reads_back_as_pushed(
        asn_number in "[A-Z0-9][A-Z0-9-]{0,20}",
        batch_no in "[A-Z0-9]{0,8}",
        quantities in vec((any::<i64>(), any::<i64>(), any::<bool>()), 0..4),
    ) {
        let content = json!({
            "asnNumber": asn_number,
            "wmsStatus": "FINISHED",
            "batchNo": batch_no,
            "skuList": quantities
                .iter()
                .map(|(received, good, as_string)| json!({
                    "sku": "S",
                    "receivedQuantity": pushed(*received, *as_string),
                    "goodQuantity": pushed(*good, *as_string),
                }))
                .collect::<Vec<_>>(),
        });
        let event = asn_event(&content).expect("a well-formed push");
        prop_assert_eq!(event.asn_number, asn_number);
        prop_assert_eq!(event.batch_no, batch_no);
        let read: Vec<(i64, i64)> = event
            .items
            .iter()
            .map(|item| (item.received_quantity, item.good_quantity))
            .collect();
        let pushed: Vec<(i64, i64)> = quantities.into_iter().map(|(r, g, _)| (r, g)).collect();
        prop_assert_eq!(read, pushed);
    }
}
