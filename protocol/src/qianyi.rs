//! Where Qianyi puts things: one endpoint taking the body
//! `{accessId, method, content, sign}`, the business parameters as the JSON
//! text `content` and the signature over exactly that text. The same body
//! comes back the other way in the spec's push webhooks (section 12).

use serde::Serialize;

use crate::{
    Malformed,
    sign::{qianyi_sign, signatures_match},
    tolerant::{parse, string_of},
};

/// A body as it arrives, read tolerantly: each field as text ("" when
/// absent), `accessId` and `method` trimmed (a spec example has a space
/// before a method name), `content` exactly as sent, since it is signed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceivedRequest {
    pub access_id: String,
    pub method: String,
    pub content: String,
    pub sign: String,
}

/// The body that calls `method` with `content` ("" for no business
/// parameters), signed with `secret_key`: keys in the spec's order, the
/// content as the JSON string it was signed as.
pub fn request_body(access_id: &str, method: &str, content: &str, secret_key: &str) -> Vec<u8> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body<'a> {
        access_id: &'a str,
        method: &'a str,
        content: &'a str,
        sign: &'a str,
    }
    let sign = qianyi_sign(access_id, content, secret_key);
    // Only strings go in, and those always encode.
    serde_json::to_vec(&Body {
        access_id,
        method,
        content,
        sign: &sign,
    })
    .unwrap_or_default()
}

impl ReceivedRequest {
    /// Reads a body; anything but a JSON object is malformed.
    pub fn parse(body: &[u8]) -> Result<Self, Malformed> {
        let envelope = parse(body).map_err(|err| Malformed(err.to_string()))?;
        if !envelope.is_object() {
            return Err(Malformed("the body is not a JSON object".to_owned()));
        }
        let field = |key: &str| envelope.get(key).map(string_of).unwrap_or_default();
        Ok(Self {
            access_id: field("accessId").trim().to_owned(),
            method: field("method").trim().to_owned(),
            content: field("content"),
            sign: field("sign"),
        })
    }

    /// Whether it names `access_id` and carries the signature `secret_key`
    /// makes of its content.
    pub fn is_signed_by(&self, access_id: &str, secret_key: &str) -> bool {
        self.access_id == access_id
            && signatures_match(
                &qianyi_sign(access_id, &self.content, secret_key),
                &self.sign,
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_signed_here_is_read_back_and_verified() {
        let body = request_body("3215435", "syncInventory", r#"{"page":1}"#, "s3cret");
        let sign = qianyi_sign("3215435", r#"{"page":1}"#, "s3cret");
        assert_eq!(
            String::from_utf8_lossy(&body),
            format!(
                r#"{{"accessId":"3215435","method":"syncInventory","content":"{{\"page\":1}}","sign":"{sign}"}}"#
            )
        );
        let received = ReceivedRequest::parse(&body).expect("parse");
        assert_eq!(received.method, "syncInventory");
        assert!(received.is_signed_by("3215435", "s3cret"));
        assert!(!received.is_signed_by("3215435", "other"));
        assert!(!received.is_signed_by("other", "s3cret"));
    }

    #[test]
    fn no_business_parameters_is_empty_content() {
        let body = request_body("a", "warehouses", "", "k");
        let received = ReceivedRequest::parse(&body).expect("parse");
        assert_eq!(received.content, "");
        assert_eq!(received.sign, qianyi_sign("a", "", "k"));
    }

    #[test]
    fn fields_are_read_tolerantly() {
        let received =
            ReceivedRequest::parse(br#"{"accessId":42,"method":" cancelOrder","sign":"x"}"#)
                .expect("parse");
        assert_eq!(
            (received.access_id.as_str(), received.method.as_str()),
            ("42", "cancelOrder")
        );
        assert_eq!(received.content, "");
        assert!(ReceivedRequest::parse(b"[1]").is_err());
        assert!(ReceivedRequest::parse(b"not json").is_err());
    }
}
