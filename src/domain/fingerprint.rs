//! Fingerprints: the SHA-256 of a value's JSON, to tell whether two pushes
//! (or two requests) say the same thing. Computed from the values as read
//! and validated, not from the bytes sent, and normalised: strings trimmed,
//! decimals by value (`12.5` is `12.50`), a label PDF by its digest. So
//! spacing, key order and unknown keys do not count.

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Fingerprint = [u8; 32];

/// The fingerprint of `value`: its JSON, fields in declaration order, with
/// every string trimmed.
pub fn fingerprint(value: &impl Serialize) -> Fingerprint {
    // The domain's types are plain structs of strings, numbers and lists,
    // which always serialize; the fallback only keeps this total.
    let json = match serde_json::to_value(value) {
        Ok(mut value) => {
            trim_strings(&mut value);
            value.to_string()
        }
        Err(err) => format!("unserializable value: {err}"),
    };
    Sha256::digest(json).into()
}

fn trim_strings(value: &mut Value) {
    match value {
        Value::String(text) => {
            let trimmed = text.trim();
            if trimmed.len() != text.len() {
                *text = trimmed.to_owned();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(trim_strings),
        Value::Object(fields) => fields.values_mut().for_each(trim_strings),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// A decimal by its value, for `#[serde(serialize_with)]`.
pub fn decimal<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&value.normalize())
}

/// An optional decimal by its value.
pub fn optional_decimal<S: Serializer>(
    value: &Option<Decimal>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => decimal(value, serializer),
        None => serializer.serialize_none(),
    }
}

/// Bytes by their SHA-256, in hex: a label PDF's size does not go into
/// every fingerprint.
pub fn digest<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&hex::encode(Sha256::digest(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Shape {
        name: &'static str,
        count: u32,
        #[serde(serialize_with = "decimal")]
        price: Decimal,
    }

    fn shape(name: &'static str, count: u32, price: &str) -> Fingerprint {
        fingerprint(&Shape {
            name,
            count,
            price: price.parse().expect("decimal"),
        })
    }

    #[test]
    fn equal_values_share_a_fingerprint_and_others_do_not() {
        let a = shape("a", 1, "12.50");
        assert_eq!(a, shape("a", 1, "12.50"));
        assert_ne!(a, shape("a", 2, "12.50"));
        assert_ne!(a, shape("b", 1, "12.50"));
        assert_ne!(a, shape("a", 1, "12.51"));
    }

    #[test]
    fn strings_are_trimmed_and_decimals_taken_by_value() {
        assert_eq!(shape("a", 1, "12.50"), shape(" a ", 1, "12.5"));
        assert_eq!(shape("a", 1, "3"), shape("a", 1, "3.000"));
    }
}
