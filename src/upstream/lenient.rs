//! Tolerant reading of what warehouses actually send: `success` as a bool or
//! a string, numbers as strings (and strings as numbers), `null` for absent,
//! one object where a list was promised, and lists under one of several keys.
//!
//! Use the `de_*` functions with `#[serde(default, deserialize_with = …)]` on
//! wire structs, or the `*_of` functions on a [`Value`].

use std::fmt;

use serde::{
    Deserialize, Deserializer,
    de::{self, DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor},
};
use serde_json::{Map, Value};

use super::UpstreamErrorKind;

/// The common envelope of both protocols, read tolerantly.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// `success`: `true`, `"true"`, `1` …; absent counts as success only
    /// when no error message is present either.
    pub success: bool,
    /// The warehouse's words: `errorMsg`, else `message`, else `msg`.
    pub message: String,
    /// The warehouse's `code`, when it sends one.
    pub code: String,
    /// Every top-level field (qlink nests data in `result`; Qianyi puts it at
    /// the top or in `data`).
    pub fields: Map<String, Value>,
}

impl Envelope {
    /// Parses an answer body; anything but a JSON object is malformed.
    pub fn parse(body: &[u8]) -> Result<Self, UpstreamErrorKind> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|err| UpstreamErrorKind::Malformed(err.to_string()))?;
        let Value::Object(fields) = value else {
            return Err(UpstreamErrorKind::Malformed(format!(
                "expected a JSON object, got {}",
                kind_of(&value)
            )));
        };
        let message = ["errorMsg", "message", "msg"]
            .iter()
            .filter_map(|key| fields.get(*key))
            .map(string_of)
            .find(|words| !words.is_empty())
            .unwrap_or_default();
        let success = match fields.get("success") {
            Some(flag) if !flag.is_null() => bool_of(flag),
            _ => message.is_empty(),
        };
        let code = fields.get("code").map(string_of).unwrap_or_default();
        Ok(Self {
            success,
            message,
            code,
            fields,
        })
    }

    /// `Err(Rejected)` with the warehouse's words unless `success` is true.
    pub fn into_success(self) -> Result<Self, UpstreamErrorKind> {
        if self.success {
            Ok(self)
        } else {
            Err(UpstreamErrorKind::Rejected {
                message: if self.message.is_empty() {
                    "the warehouse answered success=false without a message".to_owned()
                } else {
                    self.message
                },
                code: self.code,
            })
        }
    }

    /// A top-level field, `Null` when absent.
    pub fn field(&self, key: &str) -> &Value {
        self.fields.get(key).unwrap_or(&Value::Null)
    }
}

/// Reads a wire struct out of a value, naming what was expected on failure.
pub fn from_value<T: DeserializeOwned>(value: &Value, what: &str) -> Result<T, UpstreamErrorKind> {
    T::deserialize(value).map_err(|err| UpstreamErrorKind::Malformed(format!("{what}: {err}")))
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

/// `true`, `"true"`, `"TRUE"`, `1`, `"1"`, `"Y"` → true; everything else false.
pub fn bool_of(value: &Value) -> bool {
    match value {
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|n| n != 0.0),
        Value::String(text) => bool_of_text(text),
        _ => false,
    }
}

fn bool_of_text(text: &str) -> bool {
    ["true", "1", "y", "yes"]
        .iter()
        .any(|word| text.trim().eq_ignore_ascii_case(word))
}

/// Strings as they are, numbers and bools as their JSON text, `null` as "".
pub fn string_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        other => other.to_string(),
    }
}

/// Integers, integral floats and numeric strings (`"12"`, `" 12 "`, `"12.0"`);
/// `None` for anything else, including "" and `null`.
pub fn int_of(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0)
                .map(|f| f as i64)
        }),
        Value::String(text) => int_of_text(text),
        _ => None,
    }
}

fn int_of_text(text: &str) -> Option<i64> {
    let text = text.trim();
    text.parse::<i64>().ok().or_else(|| {
        text.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && f.fract() == 0.0)
            .map(|f| f as i64)
    })
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `deserialize_with` for a tolerant bool (read as [`bool_of`] reads a value).
pub fn de_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    deserializer.deserialize_any(LenientBool)
}

/// `deserialize_with` for a tolerant string (numbers become their text).
pub fn de_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_any(LenientString)
}

/// `deserialize_with` for a tolerant integer; absent, "" or `null` is 0.
pub fn de_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    deserializer.deserialize_any(LenientInt)
}

// The visitors below read scalars straight from the parser, without building
// a `Value` for each field: inventory pages carry thousands of them. Each one
// agrees with its `*_of` counterpart on a `Value`.

/// [`bool_of`], as a visitor.
struct LenientBool;

impl<'de> Visitor<'de> for LenientBool {
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

    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
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

/// [`string_of`], as a visitor.
struct LenientString;

impl<'de> Visitor<'de> for LenientString {
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

    fn visit_none<E: de::Error>(self) -> Result<String, E> {
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

/// [`int_of`] as a visitor, where `null` and "" are 0.
struct LenientInt;

impl LenientInt {
    fn not_an_integer<E: de::Error>(what: impl fmt::Display) -> E {
        E::custom(format!("expected an integer, got {what}"))
    }
}

impl<'de> Visitor<'de> for LenientInt {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer, or a string holding one")
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<i64, E> {
        Ok(number)
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<i64, E> {
        // As `int_of` does through f64: saturating.
        Ok(i64::try_from(number).unwrap_or(i64::MAX))
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<i64, E> {
        if number.is_finite() && number.fract() == 0.0 {
            Ok(number as i64)
        } else {
            Err(Self::not_an_integer(number))
        }
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<i64, E> {
        if text.trim().is_empty() {
            return Ok(0);
        }
        int_of_text(text).ok_or_else(|| Self::not_an_integer(format_args!("{text:?}")))
    }

    fn visit_unit<E: de::Error>(self) -> Result<i64, E> {
        Ok(0)
    }

    fn visit_none<E: de::Error>(self) -> Result<i64, E> {
        Ok(0)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<i64, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<i64, E> {
        Err(Self::not_an_integer(flag))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<i64, A::Error> {
        Err(Self::not_an_integer("a list"))
    }

    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<i64, A::Error> {
        Err(Self::not_an_integer("an object"))
    }
}

/// `deserialize_with` for a tolerant non-negative integer; absent, "" or `null` is 0.
pub fn de_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let number = de_i64(deserializer)?;
    u32::try_from(number)
        .map_err(|_| serde::de::Error::custom(format!("expected a count, got {number}")))
}

/// `deserialize_with` for a list that may be `null` or a single object.
pub fn de_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        one => vec![one],
    };
    items
        .into_iter()
        .map(|item| T::deserialize(item).map_err(serde::de::Error::custom))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn success_as_bool_or_string() {
        for (body, expected) in [
            (r#"{"success":true}"#, true),
            (r#"{"success":"true"}"#, true),
            (r#"{"success":"TRUE"}"#, true),
            (r#"{"success":1}"#, true),
            (r#"{"success":false,"errorMsg":"no"}"#, false),
            (r#"{"success":"false","message":"no"}"#, false),
            (r#"{"message":"sign error"}"#, false),
            (r#"{"message":""}"#, true),
        ] {
            assert_eq!(
                Envelope::parse(body.as_bytes()).unwrap().success,
                expected,
                "{body}"
            );
        }
    }

    #[test]
    fn words_from_error_msg_or_message() {
        let env =
            Envelope::parse(br#"{"success":false,"errorMsg":null,"message":"bad sign"}"#).unwrap();
        assert_eq!(env.message, "bad sign");
        let env =
            Envelope::parse(br#"{"success":false,"errorMsg":"oms: no","message":"x"}"#).unwrap();
        assert_eq!(env.message, "oms: no");
        match env.into_success() {
            Err(UpstreamErrorKind::Rejected { message, .. }) => assert_eq!(message, "oms: no"),
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn malformed_bodies() {
        assert!(matches!(
            Envelope::parse(b"<html>"),
            Err(UpstreamErrorKind::Malformed(_))
        ));
        assert!(matches!(
            Envelope::parse(b"[1,2]"),
            Err(UpstreamErrorKind::Malformed(_))
        ));
        assert!(matches!(
            Envelope::parse(b""),
            Err(UpstreamErrorKind::Malformed(_))
        ));
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
        assert!(list_of(&Value::Null, &keys).is_empty());
    }

    #[test]
    fn numbers_as_strings() {
        assert_eq!(int_of(&json!("58")), Some(58));
        assert_eq!(int_of(&json!(" 7 ")), Some(7));
        assert_eq!(int_of(&json!(12)), Some(12));
        assert_eq!(int_of(&json!(12.0)), Some(12));
        assert_eq!(int_of(&json!("12.0")), Some(12));
        assert_eq!(int_of(&json!("x")), None);
        assert_eq!(string_of(&json!(42)), "42");
        assert_eq!(string_of(&Value::Null), "");
    }

    #[test]
    fn the_visitors_read_as_the_value_readers_do() {
        #[derive(serde::Deserialize)]
        struct Text(#[serde(deserialize_with = "de_string")] String);
        #[derive(serde::Deserialize)]
        struct Flag(#[serde(deserialize_with = "de_bool")] bool);
        #[derive(serde::Deserialize)]
        struct Int(#[serde(deserialize_with = "de_i64")] i64);

        for json in [
            "null",
            "true",
            "false",
            "0",
            "1",
            "-7",
            "12.0",
            "1.5",
            "1e3",
            "18446744073709551615",
            r#""""#,
            r#"" 12 ""#,
            r#""12.0""#,
            r#""x""#,
            r#""TRUE""#,
            r#"" Yes ""#,
            r#""0""#,
            r#""中文""#,
            "[1,\"a\"]",
            r#"{"a":{"b":null}}"#,
        ] {
            let value: Value = serde_json::from_str(json).expect("json");
            // Straight from the text, and through a `Value`, as wire structs are read both ways.
            for text in [
                serde_json::from_str::<Text>(json).map(|t| t.0).ok(),
                serde_json::from_value::<Text>(value.clone())
                    .map(|t| t.0)
                    .ok(),
            ] {
                assert_eq!(text, Some(string_of(&value)), "string of {json}");
            }
            for flag in [
                serde_json::from_str::<Flag>(json).map(|f| f.0).ok(),
                serde_json::from_value::<Flag>(value.clone())
                    .map(|f| f.0)
                    .ok(),
            ] {
                assert_eq!(flag, Some(bool_of(&value)), "bool of {json}");
            }
            let expected_int = match &value {
                Value::Null => Some(0),
                Value::String(text) if text.trim().is_empty() => Some(0),
                other => int_of(other),
            };
            for int in [
                serde_json::from_str::<Int>(json).map(|i| i.0).ok(),
                serde_json::from_value::<Int>(value.clone())
                    .map(|i| i.0)
                    .ok(),
            ] {
                assert_eq!(int, expected_int, "int of {json}");
            }
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
        #[serde(default, deserialize_with = "de_list")]
        items: Vec<Row>,
    }

    #[test]
    fn wire_struct_helpers() {
        let row: Row = serde_json::from_str(
            r#"{"qty":"5","code":12,"ok":"true","items":{"qty":1,"code":"a","ok":false}}"#,
        )
        .unwrap();
        assert_eq!(
            (row.qty, row.code.as_str(), row.ok, row.items.len()),
            (5, "12", true, 1)
        );
        let row: Row = serde_json::from_str(r#"{"qty":null,"items":null}"#).unwrap();
        assert_eq!((row.qty, row.items.len()), (0, 0));
        assert!(serde_json::from_str::<Row>(r#"{"qty":"many"}"#).is_err());
    }
}
