//! Reading JSON as warehouses really send it: a UTF-8 byte-order mark
//! before the text, `success` as a bool or a string, numbers as strings
//! (and strings as numbers), `null` for absent, one object where a list was
//! promised, lists under one of several keys.
//!
//! Each rule is written once, as a serde visitor: `de_*` use it in
//! `#[serde(default, deserialize_with = …)]` on answer rows, `*_of` on a
//! [`Value`] already parsed.

use std::fmt;

use serde::{
    Deserialize, Deserializer,
    de::{self, DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor},
};
use serde_json::Value;

use crate::Malformed;

/// What some .NET and Java gateways put before their JSON.
const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// Parses a body as JSON, after a byte-order mark if there is one.
pub fn parse(body: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice(body.strip_prefix(BYTE_ORDER_MARK).unwrap_or(body))
}

/// Reads an answer row out of a value, naming what was expected on failure.
pub fn from_value<T: DeserializeOwned>(value: &Value, what: &str) -> Result<T, Malformed> {
    T::deserialize(value).map_err(|err| Malformed(format!("{what}: {err}")))
}

/// The list in `value`: `value` itself when it is an array, else the first of
/// `keys` holding an array (or a single object, taken as a list of one), else
/// the only array-valued field. Empty when there is none.
pub fn list_of<'a>(value: &'a Value, keys: &[&str]) -> Vec<&'a Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(fields) => {
            for key in keys {
                match fields.get(*key) {
                    Some(Value::Array(items)) => return items.iter().collect(),
                    Some(one @ Value::Object(_)) => return vec![one],
                    _ => {}
                }
            }
            let mut arrays = fields.values().filter_map(Value::as_array);
            match (arrays.next(), arrays.next()) {
                (Some(items), None) => items.iter().collect(),
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

/// `true`, `"true"`, `"TRUE"`, `1`, `"1"`, `"Y"`, `"yes"` → true; anything else false.
pub fn bool_of(value: &Value) -> bool {
    value.deserialize_any(TolerantBool).unwrap_or(false)
}

/// Strings as they are, numbers and bools as their JSON text, `null` as "".
pub fn string_of(value: &Value) -> String {
    value.deserialize_any(TolerantString).unwrap_or_default()
}

/// Integers, integral floats and numeric strings (`"12"`, `" 12 "`, `"12.0"`)
/// that an `i64` holds; `None` for anything else, including "", `null` and
/// a number out of range (`1e30` is not clamped to `i64::MAX`: it is no
/// count at all, just as `"abc"` is not).
pub fn int_of(value: &Value) -> Option<i64> {
    match value {
        Value::Null => None,
        Value::String(text) if text.trim().is_empty() => None,
        other => other.deserialize_any(TolerantInt).ok(),
    }
}

/// `deserialize_with` for a flag read as [`bool_of`] reads one.
pub fn de_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    deserializer.deserialize_any(TolerantBool)
}

/// `deserialize_with` for a flag that may be missing: `null` and "" are
/// `None` (not said), anything else is read as [`bool_of`] reads it.
pub fn de_opt_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => None,
        Value::String(text) if text.trim().is_empty() => None,
        flag => Some(bool_of(&flag)),
    })
}

/// `deserialize_with` for text read as [`string_of`] reads it.
pub fn de_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_any(TolerantString)
}

/// `deserialize_with` for an integer read as [`int_of`] reads it, where
/// `null` and "" are 0, and anything [`int_of`] reads as `None` (a number
/// out of range as much as `"abc"`) is an error.
pub fn de_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    deserializer.deserialize_any(TolerantInt)
}

/// `deserialize_with` for a list that may be `null` or a single object.
pub fn de_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let items = match Value::deserialize(deserializer)? {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        one => vec![one],
    };
    items
        .into_iter()
        .map(|item| T::deserialize(item).map_err(de::Error::custom))
        .collect()
}

fn bool_of_text(text: &str) -> bool {
    ["true", "1", "y", "yes"]
        .iter()
        .any(|word| text.trim().eq_ignore_ascii_case(word))
}

fn int_of_text(text: &str) -> Option<i64> {
    let text = text.trim();
    text.parse::<i64>()
        .ok()
        .or_else(|| text.parse::<f64>().ok().and_then(int_of_float))
}

/// A float that is a whole number an `i64` holds. `f as i64` would
/// saturate, turning `1e30` into `i64::MAX`, so the range is checked.
fn int_of_float(number: f64) -> Option<i64> {
    // -2^63 and 2^63: exact as floats, unlike i64::MAX.
    const RANGE: std::ops::Range<f64> = -9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0;
    (number.fract() == 0.0 && RANGE.contains(&number)).then_some(number as i64)
}

// The visitors read scalars straight from the parser (or from a `Value`),
// without building a `Value` per field: inventory pages carry thousands.

struct TolerantBool;

impl<'de> Visitor<'de> for TolerantBool {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean, or a number or string meaning one")
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<bool, E> {
        Ok(flag)
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<bool, E> {
        Ok(number != 0)
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<bool, E> {
        Ok(number != 0)
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<bool, E> {
        Ok(number != 0.0)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<bool, E> {
        Ok(bool_of_text(text))
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<bool, A::Error> {
        IgnoredAny.visit_seq(seq).map(|_| false)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        IgnoredAny.visit_map(map).map(|_| false)
    }
}

struct TolerantString;

impl<'de> Visitor<'de> for TolerantString {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, or a number or boolean written as one")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<String, E> {
        Ok(text.to_owned())
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<String, E> {
        Ok(text)
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<String, E> {
        Ok(flag.to_string())
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<String, E> {
        Ok(number.to_string())
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<String, E> {
        Ok(number.to_string())
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<String, E> {
        // serde_json's text for the number (`1.0`, not Rust's `1`).
        Ok(serde_json::Number::from_f64(number)
            .map(|number| number.to_string())
            .unwrap_or_default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<String, A::Error> {
        Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(|list| list.to_string())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<String, A::Error> {
        Value::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(|object| object.to_string())
    }
}

/// Where `null` and "" are 0.
struct TolerantInt;

fn not_an_integer<E: de::Error>(what: impl fmt::Display) -> E {
    E::custom(format!("expected an integer, got {what}"))
}

fn out_of_range<E: de::Error>(what: impl fmt::Display) -> E {
    E::custom(format!(
        "expected an integer a 64-bit count holds, got {what}"
    ))
}

impl<'de> Visitor<'de> for TolerantInt {
    type Value = i64;

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<i64, E> {
        Ok(number)
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<i64, E> {
        i64::try_from(number).map_err(|_| out_of_range(number))
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<i64, E> {
        match int_of_float(number) {
            Some(whole) => Ok(whole),
            None if number.is_finite() && number.fract() == 0.0 => Err(out_of_range(number)),
            None => Err(not_an_integer(number)),
        }
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<i64, E> {
        if text.trim().is_empty() {
            return Ok(0);
        }
        int_of_text(text).ok_or_else(|| {
            // Quoted in a malformed-answer error: a bounded part of it.
            let shown: String = text.chars().take(64).collect();
            not_an_integer(format_args!("{shown:?}"))
        })
    }

    fn visit_unit<E: de::Error>(self) -> Result<i64, E> {
        Ok(0)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<i64, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<i64, E> {
        Err(not_an_integer(flag))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<i64, A::Error> {
        Err(not_an_integer("a list"))
    }

    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<i64, A::Error> {
        Err(not_an_integer("an object"))
    }

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer, or a string holding one")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_byte_order_mark_is_skipped() {
        assert_eq!(
            parse(b"\xEF\xBB\xBF{\"success\":true}").expect("json"),
            json!({"success": true})
        );
        assert_eq!(parse(b" [1] ").expect("json"), json!([1]));
        assert!(parse(b"\xEF\xBB").is_err());
    }

    #[test]
    fn lists_under_any_known_key_or_bare() {
        let documented = json!({"warehouseList": [{"a": 1}]});
        let example = json!({"warehouseInfoList": [{"a": 1}, {"a": 2}]});
        let keys = ["warehouseList", "warehouseInfoList"];
        assert_eq!(list_of(&documented, &keys).len(), 1);
        assert_eq!(list_of(&example, &keys).len(), 2);
        assert_eq!(list_of(&json!([{"a": 1}]), &keys).len(), 1);
        assert_eq!(list_of(&json!({"other": [1, 2, 3]}), &keys).len(), 3);
        assert_eq!(list_of(&json!({"warehouseList": {"a": 1}}), &keys).len(), 1);
        assert!(list_of(&json!({"a": [1], "b": [2]}), &keys).is_empty());
        assert!(list_of(&Value::Null, &keys).is_empty());
    }

    #[test]
    fn scalars_of_every_kind() {
        for (json, text, flag, int) in [
            ("null", "", false, None),
            ("true", "true", true, None),
            ("0", "0", false, Some(0)),
            ("-7", "-7", true, Some(-7)),
            ("12.0", "12.0", true, Some(12)),
            ("1.5", "1.5", true, None),
            // Out of range: no count, rather than one clamped to i64::MAX.
            ("18446744073709551615", "18446744073709551615", true, None),
            (r#""""#, "", false, None),
            (r#"" 12 ""#, " 12 ", false, Some(12)),
            (r#""12.0""#, "12.0", false, Some(12)),
            (r#""TRUE""#, "TRUE", true, None),
            (r#"" Yes ""#, " Yes ", true, None),
            (r#""中文""#, "中文", false, None),
            ("[1,\"a\"]", "[1,\"a\"]", false, None),
            (r#"{"a":{"b":null}}"#, r#"{"a":{"b":null}}"#, false, None),
        ] {
            let value: Value = serde_json::from_str(json).expect("json");
            assert_eq!(string_of(&value), text, "string of {json}");
            assert_eq!(bool_of(&value), flag, "bool of {json}");
            assert_eq!(int_of(&value), int, "int of {json}");
        }
    }

    #[test]
    fn numbers_out_of_range_are_no_integers_rather_than_clamped() {
        for json in [
            "1e30",
            "-1e30",
            r#""1e30""#,
            "18446744073709551615",
            r#""9223372036854775808""#,
            "9223372036854775808.0",
            "-9223372036854777856.0",
            "1.7976931348623157e308",
        ] {
            let value: Value = serde_json::from_str(json).expect("json");
            assert_eq!(int_of(&value), None, "int of {json}");
            let err = from_value::<Row>(&json!({"qty": value}), "row").expect_err(json);
            assert!(
                err.0.starts_with("row: expected an integer"),
                "{json}: {err}"
            );
        }
        for (json, int) in [
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
            ("-9223372036854775808.0", i64::MIN),
            ("9223372036854774784.0", 9_223_372_036_854_774_784),
            (r#""-9223372036854775808""#, i64::MIN),
        ] {
            let value: Value = serde_json::from_str(json).expect("json");
            assert_eq!(int_of(&value), Some(int), "int of {json}");
            let row = from_value::<Row>(&json!({"qty": value}), "row").expect(json);
            assert_eq!(row.qty, int, "{json}");
        }
    }

    #[derive(Debug, serde::Deserialize)]
    struct Row {
        #[serde(default, deserialize_with = "de_i64")]
        qty: i64,
        #[serde(default, deserialize_with = "de_string")]
        code: String,
        #[serde(default, deserialize_with = "de_bool")]
        ok: bool,
        #[serde(default, deserialize_with = "de_opt_bool")]
        success: Option<bool>,
        #[serde(default, deserialize_with = "de_list")]
        items: Vec<Row>,
    }

    #[test]
    fn rows_read_from_text_and_from_a_value_alike() {
        let text = r#"{"qty":"5","code":12,"ok":"true","success":"","items":{"qty":1,"code":"a","ok":false,"success":"false"}}"#;
        let value: Value = serde_json::from_str(text).expect("json");
        for row in [
            serde_json::from_str::<Row>(text).expect("from text"),
            from_value::<Row>(&value, "row").expect("from a value"),
        ] {
            assert_eq!(
                (
                    row.qty,
                    row.code.as_str(),
                    row.ok,
                    row.success,
                    row.items.len()
                ),
                (5, "12", true, None, 1)
            );
            assert_eq!(row.items[0].success, Some(false));
        }
        let row: Row = serde_json::from_str(r#"{"qty":null,"items":null}"#).expect("nulls");
        assert_eq!((row.qty, row.items.len()), (0, 0));
        let err = from_value::<Row>(&json!({"qty": "many"}), "row").expect_err("not a count");
        assert!(err.0.starts_with("row: expected an integer"), "{err}");
    }
}
