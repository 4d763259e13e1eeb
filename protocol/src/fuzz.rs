//! Fuzzing the readers of what warehouses send: any bytes and any JSON
//! value are read or refused without a panic, and what can go round trips.
//! `cargo test` runs a few hundred cases per property; a longer run is
//! `PROPTEST_CASES=100000 cargo test fuzz`.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::{
    Envelope,
    fuzzing::{self, KEYS},
    qianyi::{ReceivedRequest, request_body},
    tolerant::{
        bool_of, de_bool, de_i64, de_list, de_opt_bool, de_string, from_value, int_of, list_of,
        parse, string_of,
    },
};

/// A row read with every `de_*` reader.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Row {
    #[serde(default, deserialize_with = "de_i64")]
    quantity: i64,
    #[serde(default, deserialize_with = "de_string")]
    sku: String,
    #[serde(default, deserialize_with = "de_bool")]
    success: bool,
    #[serde(default, deserialize_with = "de_opt_bool", rename = "isLastPage")]
    last: Option<bool>,
    #[serde(default, deserialize_with = "de_list", rename = "skuList")]
    items: Vec<Row>,
}

proptest! {
    #![proptest_config(crate::fuzzing::config())]

    #[test]
    fn any_body_is_read_or_refused_without_a_panic(body in fuzzing::body()) {
        let parsed = parse(&body);
        let envelope = Envelope::parse(&body);
        let request = ReceivedRequest::parse(&body);
        prop_assert_eq!(envelope.is_ok(), parsed.as_ref().is_ok_and(Value::is_object));
        prop_assert_eq!(request.is_ok(), envelope.is_ok());
    }

    #[test]
    fn any_value_is_read_as_scalars_lists_and_rows_without_a_panic(value in fuzzing::json()) {
        let _ = (string_of(&value), bool_of(&value), int_of(&value));
        let _ = list_of(&value, KEYS);
        let _ = from_value::<Row>(&value, "row");
        let _ = from_value::<Row>(&json!({"skuList": value.clone(), "quantity": value}), "row");
    }

    #[test]
    fn an_envelope_says_what_its_success_and_words_say(value in fuzzing::object()) {
        let envelope = Envelope::parse(value.to_string().as_bytes()).expect("an object");
        // The body as read back (serde_json may read a float's last digit
        // otherwise than it wrote it).
        let body = &envelope.body;
        match body.get("success") {
            Some(flag) if !flag.is_null() => prop_assert_eq!(envelope.success, bool_of(flag)),
            _ => prop_assert_eq!(envelope.success, envelope.message.is_empty()),
        }
        prop_assert_eq!(&envelope.code, &body.get("code").map(string_of).unwrap_or_default());
    }

    #[test]
    fn every_i64_reads_back_as_itself(number in any::<i64>()) {
        for value in [json!(number), json!(number.to_string()), json!(format!(" {number} "))] {
            prop_assert_eq!(int_of(&value), Some(number), "{}", value);
            let row = from_value::<Row>(&json!({"quantity": value}), "row").expect("an integer");
            prop_assert_eq!(row.quantity, number);
        }
    }

    #[test]
    fn a_float_is_read_exactly_or_not_at_all(float in any::<f64>()) {
        let Some(number) = serde_json::Number::from_f64(float) else { return Ok(()) };
        match int_of(&Value::Number(number)) {
            // Exactly the float: never a clamped or truncated value.
            Some(whole) => prop_assert_eq!(whole as f64, float),
            None => prop_assert!(float.fract() != 0.0 || float.abs() >= 9.223_372_036_854_775e18),
        }
    }

    #[test]
    fn text_reads_back_as_itself(text in any::<String>()) {
        prop_assert_eq!(string_of(&Value::String(text.clone())), text.clone());
        let envelope = Envelope::parse(json!({"success": false, "errorMsg": text}).to_string().as_bytes())
            .expect("an object");
        prop_assert!(!envelope.success);
        prop_assert_eq!(envelope.message, text);
    }

    #[test]
    fn a_signed_qianyi_body_reads_back_and_verifies(
        access_id in "[A-Za-z0-9]{1,12}",
        method in "[A-Za-z_]{1,20}",
        content in any::<String>(),
        secret in any::<String>(),
    ) {
        let body = request_body(&access_id, &method, &content, &secret);
        let received = ReceivedRequest::parse(&body).expect("our own body");
        prop_assert_eq!(&received.access_id, &access_id);
        prop_assert_eq!(&received.method, &method);
        prop_assert_eq!(&received.content, &content);
        prop_assert!(received.is_signed_by(&access_id, &secret));
        let other_secret = format!("{secret}x");
        prop_assert!(!received.is_signed_by(&access_id, &other_secret));
    }
}
