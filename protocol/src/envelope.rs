//! The envelope every answer of both protocols comes in: a JSON object
//! with `success`, the warehouse's words (`errorMsg`, `message` or `msg`)
//! and maybe a `code`, the data beside them (qlink nests it in `result`,
//! Qianyi puts it at the top or in `data`). What the data means is for the
//! caller to read.

use serde_json::Value;

use crate::tolerant::{bool_of, parse, string_of};

/// The answer was not the JSON the protocol promises.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);

/// One answer, read tolerantly.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// `success`: `true`, `"true"`, `1` …; absent counts as success only
    /// when no error message is present either.
    pub success: bool,
    /// The warehouse's words: `errorMsg`, else `message`, else `msg`.
    pub message: String,
    /// The warehouse's `code` (qlink: `SIGN_ERROR`, `PARAM_ERROR`, …), or "".
    pub code: String,
    /// The whole answer, a JSON object.
    pub body: Value,
}

impl Envelope {
    /// Reads an answer body (a byte-order mark before it is skipped);
    /// anything but a JSON object is malformed.
    pub fn parse(answer: &[u8]) -> Result<Self, Malformed> {
        let body = parse(answer).map_err(|err| Malformed(err.to_string()))?;
        if !body.is_object() {
            return Err(Malformed(format!(
                "expected a JSON object, got {}",
                kind_of(&body)
            )));
        }
        let message = ["errorMsg", "message", "msg"]
            .iter()
            .filter_map(|key| body.get(*key))
            .map(string_of)
            .find(|words| !words.is_empty())
            .unwrap_or_default();
        let success = match body.get("success") {
            Some(flag) if !flag.is_null() => bool_of(flag),
            _ => message.is_empty(),
        };
        let code = body.get("code").map(string_of).unwrap_or_default();
        Ok(Self {
            success,
            message,
            code,
            body,
        })
    }

    /// A top-level field, `Null` when absent.
    pub fn field(&self, key: &str) -> &Value {
        self.body.get(key).unwrap_or(&Value::Null)
    }

    /// Whether the answer carries a `success` flag at all.
    pub fn says_success(&self) -> bool {
        !self.field("success").is_null()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_as_bool_or_string_or_by_the_absence_of_words() {
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
            let envelope = Envelope::parse(body.as_bytes()).expect("envelope");
            assert_eq!(envelope.success, expected, "{body}");
        }
    }

    #[test]
    fn words_from_error_msg_or_message_and_the_code() {
        let envelope = Envelope::parse(
            br#"{"success":false,"errorMsg":null,"message":"bad sign","code":"SIGN_ERROR"}"#,
        )
        .expect("envelope");
        assert_eq!(
            (envelope.message.as_str(), envelope.code.as_str()),
            ("bad sign", "SIGN_ERROR")
        );
        let envelope = Envelope::parse(br#"{"success":false,"errorMsg":"oms: no","message":"x"}"#)
            .expect("envelope");
        assert_eq!(envelope.message, "oms: no");
        assert!(envelope.says_success());
        assert!(!Envelope::parse(b"{}").expect("envelope").says_success());
    }

    #[test]
    fn a_byte_order_mark_is_read_past() {
        let envelope =
            Envelope::parse(b"\xEF\xBB\xBF{\"success\":true,\"result\":[1]}").expect("envelope");
        assert!(envelope.success);
        assert_eq!(envelope.field("result"), &serde_json::json!([1]));
    }

    #[test]
    fn anything_but_an_object_is_malformed() {
        for body in [&b"<html>"[..], b"[1,2]", b"", b"\"ok\""] {
            assert!(Envelope::parse(body).is_err(), "{body:?}");
        }
    }
}
