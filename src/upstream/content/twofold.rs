//! The serializer behind [`Content::encode`](super::Content::encode): compact
//! JSON, byte for byte what `serde_json::to_vec` writes, and in the same
//! pass that text escaped as the inside of a JSON string.
//!
//! serde_json's own serializer with a two-output `Formatter` did the same,
//! but it calls the formatter some ten times per field and scans every key
//! a byte at a time. Here a field is one check of its key and its value for
//! characters that need escaping, which almost never finds one, and two
//! copies of each into the outputs (BENCHMARKS.md, eighth round).

use std::fmt::Display;

use serde::ser::{self, Error as _, Impossible, Serialize};
use serde_json::{
    Error,
    ser::{CompactFormatter, Formatter},
};

use super::escape_into;

/// The struct and field name under which `serde_json::value::RawValue`
/// serializes its text. It is serde_json's private convention, so the tests
/// pin it: a raw value encoded here must come out as serde_json writes it.
pub(crate) const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

type Result<T = ()> = std::result::Result<T, Error>;

/// The two outputs.
#[derive(Debug, Default)]
pub(super) struct Twofold {
    pub json: Vec<u8>,
    pub escaped: Vec<u8>,
}

impl Twofold {
    /// A token with no `"`, `\` or control character: the same in both.
    fn both(&mut self, token: &[u8]) {
        self.json.extend_from_slice(token);
        self.escaped.extend_from_slice(token);
    }

    /// `text` as a JSON string: quoted, and escaped where it must be.
    fn string(&mut self, text: &str) {
        if needs_escaping(text.as_bytes()) {
            let start = self.json.len();
            self.json.push(b'"');
            escape_into(&mut self.json, text.as_bytes());
            self.json.push(b'"');
            escape_into(&mut self.escaped, &self.json[start..]);
        } else {
            self.quoted(text.as_bytes());
        }
    }

    /// Text that needs no escaping, in quotes.
    fn quoted(&mut self, text: &[u8]) {
        self.json.push(b'"');
        self.json.extend_from_slice(text);
        self.json.push(b'"');
        self.escaped.extend_from_slice(br#"\""#);
        self.escaped.extend_from_slice(text);
        self.escaped.extend_from_slice(br#"\""#);
    }

    /// A raw JSON fragment: kept as it is, and escaped like any other text
    /// in the copy (it may hold strings).
    fn raw(&mut self, fragment: &str) {
        if needs_escaping(fragment.as_bytes()) {
            self.json.extend_from_slice(fragment.as_bytes());
            escape_into(&mut self.escaped, fragment.as_bytes());
        } else {
            // A number, as every decimal on an order is.
            self.both(fragment.as_bytes());
        }
    }

    fn integer(&mut self, value: impl itoa::Integer) -> Result {
        self.both(itoa::Buffer::new().format(value).as_bytes());
        Ok(())
    }

    /// A float as serde_json writes it: `null` when it is not finite.
    fn float(&mut self, value: f64, write: fn(&mut Vec<u8>, f64) -> std::io::Result<()>) {
        if value.is_finite() {
            self.formatted(|text| write(text, value));
        } else {
            self.both(b"null");
        }
    }

    /// Text written by serde_json's [`CompactFormatter`] (floats), copied
    /// to both.
    fn formatted(&mut self, write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) {
        let start = self.json.len();
        // Writing into a `Vec` cannot fail.
        let _ = write(&mut self.json);
        let (_, token) = self.json.split_at(start);
        self.escaped.extend_from_slice(token);
    }

    /// The `{"variant":` of an externally tagged enum variant with data.
    fn variant_tag(&mut self, variant: &str) {
        self.both(b"{");
        self.string(variant);
        self.both(b":");
    }

    fn compound(&mut self, open: &'static [u8], close: &'static [u8]) -> Compound<'_> {
        self.both(open);
        Compound::Container {
            ser: self,
            first: true,
            close,
        }
    }
}

/// Whether `bytes` hold a `"`, a `\` or a control character, looked at
/// eight bytes at a time: the strings of an order are short and clean, and
/// a byte-by-byte loop was most of the time this serializer took.
fn needs_escaping(bytes: &[u8]) -> bool {
    let Some(last) = bytes.len().checked_sub(8) else {
        return bytes
            .iter()
            .any(|&byte| byte < 0x20 || byte == b'"' || byte == b'\\');
    };
    let mut found = 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        found |= word_needs_escaping(chunk);
    }
    if !chunks.remainder().is_empty() {
        // The last eight bytes, overlapping what was already looked at.
        found |= word_needs_escaping(&bytes[last..]);
    }
    found != 0
}

/// Non-zero when one of these eight bytes needs escaping. A byte below
/// `n` (at most 0x80) sets its high bit in `(w - n…) & !w & 0x80…`, and
/// a byte equal to `b` is a zero byte of `w ^ b…`; the borrow can only
/// add false hits above a true one, so the test is exact.
fn word_needs_escaping(eight: &[u8]) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGH;
    // Always eight bytes; were it not, a zero word sends the string down
    // the escaping path, which is always right.
    let word = eight.try_into().map(u64::from_ne_bytes).unwrap_or(0);
    below(word, 0x20)
        | below(word ^ (ONES * u64::from(b'"')), 1)
        | below(word ^ (ONES * u64::from(b'\\')), 1)
}

fn write_f64(out: &mut Vec<u8>, value: f64) -> std::io::Result<()> {
    CompactFormatter.write_f64(out, value)
}

fn write_f32(out: &mut Vec<u8>, value: f64) -> std::io::Result<()> {
    // Only ever called with an `f32` widened losslessly.
    CompactFormatter.write_f32(out, value as f32)
}

fn key_must_be_a_string() -> Error {
    Error::custom("key must be a string")
}

/// Every integer type, written by `integer` (both serializers have one).
macro_rules! integers {
    ($($method:ident: $ty:ty),* $(,)?) => {$(
        fn $method(self, value: $ty) -> Result {
            self.integer(value)
        }
    )*};
}

impl<'a> ser::Serializer for &'a mut Twofold {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, value: bool) -> Result {
        self.both(if value { b"true" } else { b"false" });
        Ok(())
    }

    integers! {
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_u128: u128,
    }

    fn serialize_f32(self, value: f32) -> Result {
        self.float(f64::from(value), write_f32);
        Ok(())
    }

    fn serialize_f64(self, value: f64) -> Result {
        self.float(value, write_f64);
        Ok(())
    }

    fn serialize_char(self, value: char) -> Result {
        self.string(value.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, value: &str) -> Result {
        self.string(value);
        Ok(())
    }

    fn serialize_bytes(self, value: &[u8]) -> Result {
        self.both(b"[");
        for (index, byte) in value.iter().enumerate() {
            if index > 0 {
                self.both(b",");
            }
            self.integer(*byte)?;
        }
        self.both(b"]");
        Ok(())
    }

    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result {
        self.both(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result {
        self.string(variant);
        Ok(())
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        self.variant_tag(variant);
        value.serialize(&mut *self)?;
        self.both(b"}");
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>> {
        Ok(self.compound(b"[", b"]"))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Compound<'a>> {
        Ok(self.compound(b"[", b"]"))
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Compound<'a>> {
        Ok(self.compound(b"[", b"]"))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>> {
        self.variant_tag(variant);
        Ok(self.compound(b"[", b"]}"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>> {
        Ok(self.compound(b"{", b"}"))
    }

    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Compound<'a>> {
        if name == RAW_VALUE_TOKEN {
            Ok(Compound::RawValue { ser: self })
        } else {
            Ok(self.compound(b"{", b"}"))
        }
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>> {
        self.variant_tag(variant);
        Ok(self.compound(b"{", b"}}"))
    }

    fn collect_str<T: ?Sized + Display>(self, value: &T) -> Result {
        self.string(&value.to_string());
        Ok(())
    }
}

/// An array, object or raw value being written.
pub(super) enum Compound<'a> {
    Container {
        ser: &'a mut Twofold,
        first: bool,
        /// What ends it: `]` or `}`, and one more `}` inside an enum tag.
        close: &'static [u8],
    },
    RawValue {
        ser: &'a mut Twofold,
    },
}

impl Compound<'_> {
    /// The writer, after the `,` that goes before every element or key but
    /// the first.
    fn next(&mut self) -> Result<&mut Twofold> {
        match self {
            Compound::Container { ser, first, .. } => {
                if !std::mem::take(first) {
                    ser.both(b",");
                }
                Ok(ser)
            }
            Compound::RawValue { .. } => Err(Error::custom("a raw value has one field")),
        }
    }

    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        value.serialize(self.next()?)
    }

    fn field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result {
        if let Compound::RawValue { ser } = self {
            return if key == RAW_VALUE_TOKEN {
                value.serialize(Scalar {
                    ser,
                    role: Role::RawValue,
                })
            } else {
                Err(Error::custom("a raw value has one field"))
            };
        }
        let ser = self.next()?;
        ser.string(key);
        ser.both(b":");
        value.serialize(ser)
    }

    fn end(self) -> Result {
        if let Compound::Container { ser, close, .. } = self {
            ser.both(close);
        }
        Ok(())
    }
}

/// The four kinds of array serde has: elements, one after another.
macro_rules! array_compound {
    ($($trait:ident::$method:ident),* $(,)?) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;

            fn $method<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
                self.element(value)
            }

            fn end(self) -> Result {
                Compound::end(self)
            }
        }
    )*};
}

array_compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result {
        key.serialize(Scalar {
            ser: self.next()?,
            role: Role::Key,
        })
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        match self {
            Compound::Container { ser, .. } => {
                ser.both(b":");
                value.serialize(&mut **ser)
            }
            Compound::RawValue { .. } => Err(Error::custom("a raw value has one field")),
        }
    }

    fn end(self) -> Result {
        Compound::end(self)
    }
}

/// Both kinds of object with fields named in the code.
macro_rules! struct_compound {
    ($($trait:ident),* $(,)?) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;

            fn serialize_field<T: ?Sized + Serialize>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result {
                self.field(key, value)
            }

            fn end(self) -> Result {
                Compound::end(self)
            }
        }
    )*};
}

struct_compound!(SerializeStruct, SerializeStructVariant);

/// What a [`Scalar`] writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// An object key, which serde_json makes a string: strings and chars as
    /// they are, numbers and booleans quoted, anything else an error.
    Key,
    /// A raw value's text, written as it is. Only a string is accepted.
    RawValue,
}

/// Serializes one map key or one raw value's text.
struct Scalar<'a> {
    ser: &'a mut Twofold,
    role: Role,
}

impl Scalar<'_> {
    /// A number or boolean, quoted when it is a key.
    fn quoted_token(self, token: &[u8]) -> Result {
        match self.role {
            Role::Key => {
                self.ser.quoted(token);
                Ok(())
            }
            Role::RawValue => Err(Error::custom("a raw value must be a string")),
        }
    }

    fn integer(self, value: impl itoa::Integer) -> Result {
        self.quoted_token(itoa::Buffer::new().format(value).as_bytes())
    }

    fn float(self, value: f64, write: fn(&mut Vec<u8>, f64) -> std::io::Result<()>) -> Result {
        if !value.is_finite() {
            return Err(Error::custom("float key must be finite"));
        }
        let mut text = Vec::with_capacity(32);
        // Writing into a `Vec` cannot fail.
        let _ = write(&mut text, value);
        self.quoted_token(&text)
    }

    fn unsupported(self) -> Error {
        match self.role {
            Role::Key => key_must_be_a_string(),
            Role::RawValue => Error::custom("a raw value must be a string"),
        }
    }
}

impl ser::Serializer for Scalar<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_str(self, value: &str) -> Result {
        match self.role {
            Role::Key => self.ser.string(value),
            Role::RawValue => self.ser.raw(value),
        }
        Ok(())
    }

    fn serialize_char(self, value: char) -> Result {
        match self.role {
            Role::Key => self.serialize_str(value.encode_utf8(&mut [0; 4])),
            Role::RawValue => Err(self.unsupported()),
        }
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result {
        match self.role {
            Role::Key => self.serialize_str(variant),
            Role::RawValue => Err(self.unsupported()),
        }
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result {
        match self.role {
            Role::Key => value.serialize(self),
            Role::RawValue => Err(self.unsupported()),
        }
    }

    fn collect_str<T: ?Sized + Display>(self, value: &T) -> Result {
        self.serialize_str(&value.to_string())
    }

    fn serialize_bool(self, value: bool) -> Result {
        self.quoted_token(if value { b"true" } else { b"false" })
    }

    integers! {
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_u128: u128,
    }

    fn serialize_f32(self, value: f32) -> Result {
        self.float(f64::from(value), write_f32)
    }

    fn serialize_f64(self, value: f64) -> Result {
        self.float(value, write_f64)
    }

    fn serialize_bytes(self, _value: &[u8]) -> Result {
        Err(self.unsupported())
    }

    fn serialize_none(self) -> Result {
        Err(self.unsupported())
    }

    fn serialize_unit(self) -> Result {
        Err(self.unsupported())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        Err(self.unsupported())
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result {
        Err(self.unsupported())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Impossible<(), Error>> {
        Err(self.unsupported())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Impossible<(), Error>> {
        Err(self.unsupported())
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Impossible<(), Error>> {
        Err(self.unsupported())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Impossible<(), Error>> {
        Err(self.unsupported())
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Impossible<(), Error>> {
        Err(self.unsupported())
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Impossible<(), Error>> {
        Err(self.unsupported())
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Impossible<(), Error>> {
        Err(self.unsupported())
    }
}
