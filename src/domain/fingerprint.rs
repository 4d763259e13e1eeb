//! Fingerprints: the SHA-256 of a value's JSON, to tell whether two pushes
//! (or two requests) say the same thing. Computed from the values as read
//! and validated, not from the bytes sent, and normalised: strings trimmed,
//! decimals by value (`12.5` is `12.50`), a label PDF by its digest. So
//! spacing, key order and unknown keys do not count.
//!
//! The JSON is written straight from the value, fields in declaration order
//! (reordering a struct's fields changes its fingerprints). Stores written
//! before that kept [`earlier_fingerprint`]s, of a `serde_json::Value`
//! with keys sorted; [`same_as_stored`] accepts either.

use std::io;

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::{
    Value,
    ser::{CharEscape, CompactFormatter, Formatter},
};
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Fingerprint = [u8; 32];

/// The fingerprint of `value`: its compact JSON, fields in declaration
/// order, with every string trimmed.
pub fn fingerprint(value: &impl Serialize) -> Fingerprint {
    let mut json = Vec::with_capacity(4096);
    let mut serializer = serde_json::Serializer::with_formatter(&mut json, Trimmed::default());
    // The domain's types are plain structs of strings, numbers and lists,
    // which always serialize; the fallback only keeps this total.
    if let Err(err) = value.serialize(&mut serializer) {
        json = format!("unserializable value: {err}").into_bytes();
    }
    Sha256::digest(json).into()
}

/// Whether `stored`, a fingerprint kept earlier for `value`'s key, is
/// `value`'s: `current` (its [`fingerprint`]) or, for a record written
/// before fingerprints were taken in declaration order, its
/// [`earlier_fingerprint`], computed only then.
pub fn same_as_stored(stored: &Fingerprint, current: &Fingerprint, value: &impl Serialize) -> bool {
    stored == current || *stored == earlier_fingerprint(value)
}

/// The fingerprint stores kept before this form: the JSON of a
/// `serde_json::Value` (keys sorted), strings trimmed.
pub fn earlier_fingerprint(value: &impl Serialize) -> Fingerprint {
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

/// serde_json's compact JSON, except that a string's text is gathered
/// (unescaped) and written trimmed once it ends.
#[derive(Default)]
struct Trimmed {
    text: String,
}

impl Formatter for Trimmed {
    fn begin_string<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.text.clear();
        Ok(())
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        _writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        self.text.push_str(fragment);
        Ok(())
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        _writer: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        self.text.push(match escape {
            CharEscape::Quote => '"',
            CharEscape::ReverseSolidus => '\\',
            CharEscape::Solidus => '/',
            CharEscape::Backspace => '\u{8}',
            CharEscape::FormFeed => '\u{c}',
            CharEscape::LineFeed => '\n',
            CharEscape::CarriageReturn => '\r',
            CharEscape::Tab => '\t',
            CharEscape::AsciiControl(byte) => char::from(byte),
        });
        Ok(())
    }

    fn end_string<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        let mut plain = serde_json::Serializer::with_formatter(writer, CompactFormatter);
        self.text
            .trim()
            .serialize(&mut plain)
            .map_err(io::Error::other)
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

    fn shaped(name: &'static str, count: u32, price: &str) -> Shape {
        Shape {
            name,
            count,
            price: price.parse().expect("decimal"),
        }
    }

    fn shape(name: &'static str, count: u32, price: &str) -> Fingerprint {
        fingerprint(&shaped(name, count, price))
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
        assert_eq!(shape("a\"\n", 1, "3"), shape("\t a\"", 1, "3"));
        assert_ne!(shape("a\"", 1, "3"), shape("a\\", 1, "3"));
    }

    #[test]
    fn the_json_fingerprinted_is_compact_trimmed_and_in_declaration_order() {
        let value = shaped(" x\ty\u{1}\"\n", 2, "12.50");
        let expected = r#"{"name":"x\ty\u0001\"","count":2,"price":"12.5"}"#;
        let mut json = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut json, Trimmed::default());
        value.serialize(&mut serializer).expect("serializes");
        assert_eq!(String::from_utf8(json).expect("UTF-8"), expected);
        assert_eq!(
            fingerprint(&value),
            <[u8; 32]>::from(Sha256::digest(expected))
        );
    }

    #[test]
    fn a_fingerprint_stored_in_the_earlier_form_is_still_the_same_request() {
        let value = shaped(" a ", 1, "3.0");
        let current = fingerprint(&value);
        let earlier = earlier_fingerprint(&value);
        assert_ne!(current, earlier, "the two forms differ: keys sorted or not");
        assert_eq!(
            earlier,
            <[u8; 32]>::from(Sha256::digest(r#"{"count":1,"name":"a","price":"3"}"#))
        );
        assert!(same_as_stored(&current, &current, &value));
        assert!(same_as_stored(&earlier, &current, &value));
        assert!(!same_as_stored(&shape("b", 1, "3"), &current, &value));
    }
}
