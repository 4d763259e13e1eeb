//! Tolerant reading of what warehouses actually send: `success` as a bool or
//! a string, numbers as strings (and strings as numbers), `null` for absent,
//! one object where a list was promised, and lists under one of several keys.
//!
//! Use the `de_*` functions with `#[serde(default, deserialize_with = …)]` on
//! wire structs, or the `*_of` functions on a [`Value`].

use serde::{Deserialize, Deserializer, de::DeserializeOwned};
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
        Value::String(text) => matches!(
            text.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "y" | "yes"
        ),
        _ => false,
    }
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
        Value::String(text) => {
            let text = text.trim();
            text.parse::<i64>().ok().or_else(|| {
                text.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && f.fract() == 0.0)
                    .map(|f| f as i64)
            })
        }
        _ => None,
    }
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

/// `deserialize_with` for a tolerant bool.
pub fn de_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(bool_of(&Value::deserialize(deserializer)?))
}

/// `deserialize_with` for a tolerant string (numbers become their text).
pub fn de_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(string_of(&Value::deserialize(deserializer)?))
}

/// `deserialize_with` for a tolerant integer; absent, "" or `null` is 0.
pub fn de_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let value = Value::deserialize(deserializer)?;
    match value {
        Value::Null => Ok(0),
        Value::String(ref text) if text.trim().is_empty() => Ok(0),
        _ => int_of(&value)
            .ok_or_else(|| serde::de::Error::custom(format!("expected an integer, got {value}"))),
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
