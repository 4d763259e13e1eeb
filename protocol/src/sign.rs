//! The signature both protocols use, a pure function of the credentials and
//! the exact content bytes sent, so the facade's clients and the
//! simulator's verifier share it.
//!
//! Spec (both): compose `{"<key name>":"<key>","content":"<content>"}` (or
//! `{"<key name>":"<key>"}` when the content is empty), append the secret,
//! and take the lowercase hex SHA-1 (`DigestUtils.sha1Hex`). The JSON is a
//! real JSON serialization: the content is a JSON string, so quotes,
//! backslashes and control characters in it are escaped, and non-ASCII text
//! stays as UTF-8 (the spec's own example shows `\"` inside the content).

use sha1::{Digest, Sha1};

/// qlink: `sha1Hex({"appKey":…,"content":…} + appSecret)`, where content is
/// the exact request body.
pub fn qlink_sign(app_key: &str, content: &str, app_secret: &str) -> String {
    sign("appKey", app_key, content, app_secret)
}

/// Qianyi: `sha1Hex({"accessId":…,"content":…} + secretKey)`, where content
/// is the exact `content` string of the request body.
pub fn qianyi_sign(access_id: &str, content: &str, secret_key: &str) -> String {
    sign("accessId", access_id, content, secret_key)
}

/// The text that is hashed, before the secret is appended.
pub fn string_to_sign(key_name: &str, key: &str, content: &str) -> String {
    // Only `str`s and ASCII punctuation went in.
    String::from_utf8(signed_text(key_name, key, content, "")).unwrap_or_default()
}

/// [`string_to_sign`] followed by `secret`, as bytes.
fn signed_text(key_name: &str, key: &str, content: &str, secret: &str) -> Vec<u8> {
    let mut text =
        Vec::with_capacity(content.len() + content.len() / 8 + key.len() + secret.len() + 32);
    text.push(b'{');
    write_json_string(&mut text, key_name);
    text.push(b':');
    write_json_string(&mut text, key);
    if !content.is_empty() {
        text.extend_from_slice(b",\"content\":");
        write_json_string(&mut text, content);
    }
    text.push(b'}');
    text.extend_from_slice(secret.as_bytes());
    text
}

/// `text` as a JSON string, quotes included. serde_json escapes as the JSON
/// standard (and Jackson's and fastjson's defaults) do: `"`, `\` and
/// control characters only; writing a `str` into a `Vec` cannot fail.
fn write_json_string(out: &mut Vec<u8>, text: &str) {
    let _ = serde_json::to_writer(&mut *out, text);
}

fn sign(key_name: &str, key: &str, content: &str, secret: &str) -> String {
    hex::encode(Sha1::digest(signed_text(key_name, key, content, secret)))
}

/// Compares signatures in constant time, ignoring hex case and the spaces
/// around the given one.
pub fn signatures_match(expected: &str, given: &str) -> bool {
    let expected = expected.as_bytes();
    let given = given.trim().as_bytes();
    if expected.len() != given.len() {
        return false;
    }
    expected.iter().zip(given).fold(0u8, |acc, (a, b)| {
        acc | (a.to_ascii_lowercase() ^ b.to_ascii_lowercase())
    }) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha1_hex(text: &str) -> String {
        hex::encode(Sha1::digest(text.as_bytes()))
    }

    #[test]
    fn qianyi_example_from_the_spec() {
        // Section 2 of the Qianyi spec spells out this exact string before
        // hashing, for accessId ibxakq31y and the secretKey at its end.
        let content = r#"{"pageSize":1000,"page":1,"warehouseCode":"WH000005"}"#;
        let written_in_spec = r#"{"accessId":"ibxakq31y","content":"{\"pageSize\":1000,\"page\":1,\"warehouseCode\":\"WH000005\"}"}30534885b3eb4625c8c279822651683a"#;
        assert_eq!(
            qianyi_sign("ibxakq31y", content, "30534885b3eb4625c8c279822651683a"),
            sha1_hex(written_in_spec)
        );
        // `printf '%s' '<that string>' | sha1sum`
        assert_eq!(
            qianyi_sign("ibxakq31y", content, "30534885b3eb4625c8c279822651683a"),
            "7178080bc643d56466209962632f35cbaf091661"
        );
    }

    #[test]
    fn empty_content_signs_the_key_alone() {
        assert_eq!(
            string_to_sign("accessId", "3215435", ""),
            r#"{"accessId":"3215435"}"#
        );
        assert_eq!(
            qianyi_sign("3215435", "", "s3cret"),
            sha1_hex(r#"{"accessId":"3215435"}s3cret"#)
        );
        // `printf '%s' '{"appKey":"1"}secret' | sha1sum`
        assert_eq!(
            qlink_sign("1", "", "secret"),
            "8d5f15f87e73cdcb21ec80caa6c17a1a97370069"
        );
    }

    #[test]
    fn qlink_body_is_embedded_as_a_json_string() {
        let body = r#"{"warehouseKey":["afd1dd995b9e432c907d3f8237b3f69b"]}"#;
        assert_eq!(
            string_to_sign("appKey", "1", body),
            r#"{"appKey":"1","content":"{\"warehouseKey\":[\"afd1dd995b9e432c907d3f8237b3f69b\"]}"}"#
        );
        assert_eq!(
            qlink_sign("1", body, "app-secret"),
            sha1_hex(
                r#"{"appKey":"1","content":"{\"warehouseKey\":[\"afd1dd995b9e432c907d3f8237b3f69b\"]}"}app-secret"#
            )
        );
    }

    #[test]
    fn chinese_quotes_backslashes_and_newlines() {
        // Chinese stays UTF-8; `"` becomes `\"`, `\` becomes `\\`, a newline `\n`.
        let content = "{\"shopName\":\"测试店铺\",\"note\":\"a\\\\b\\nc\"}\nline2\t\u{1}";
        let expected = "{\"appKey\":\"1\",\"content\":\"{\\\"shopName\\\":\\\"测试店铺\\\",\\\"note\\\":\\\"a\\\\\\\\b\\\\nc\\\"}\\nline2\\t\\u0001\"}";
        assert_eq!(string_to_sign("appKey", "1", content), expected);
        assert_eq!(
            qlink_sign("1", content, "密钥"),
            sha1_hex(&format!("{expected}密钥"))
        );
    }

    #[test]
    fn comparison_ignores_case_and_rejects_others() {
        let sig = qlink_sign("1", "{}", "s");
        assert!(signatures_match(&sig, &sig.to_uppercase()));
        assert!(signatures_match(&sig, &format!(" {sig} ")));
        assert!(!signatures_match(&sig, &qlink_sign("1", "{}", "t")));
        assert!(!signatures_match(&sig, ""));
    }
}
