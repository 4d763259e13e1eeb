//! A request's content, encoded once as JSON and, in the same pass, as
//! that JSON escaped into the inside of a JSON string: both protocols sign
//! the content embedded as a string (`{"appKey":…,"content":"{\"warehouseKey\":…}"}`),
//! and Qianyi's body carries it that way too.
//!
//! serde_json writes every token through a [`Formatter`]; [`Twice`] writes
//! each one to both texts, escaping what the second needs escaped. Fast
//! path: it saves escaping the finished body again, ≥ 10 % of a CreateOrder
//! call's facade CPU (BENCHMARKS.md).

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

/// The JSON text of a content and the same text escaped as the inside of
/// a JSON string, as serde_json escapes a `str`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Content {
    json: Vec<u8>,
    escaped: Vec<u8>,
}

impl Content {
    /// "No business parameters": the empty text, signed without a
    /// `content` key.
    pub fn empty() -> Self {
        Self::default()
    }

    /// A content encoded already: the JSON text `json`, escaped here.
    pub fn of_json(json: &str) -> Self {
        let mut escaped = Vec::with_capacity(json.len() + json.len() / 8);
        escape_into(&mut escaped, json);
        Self {
            json: json.as_bytes().to_vec(),
            escaped,
        }
    }

    /// `value` encoded compactly, exactly as `serde_json::to_vec` does.
    pub fn encode(value: &impl Serialize) -> serde_json::Result<Self> {
        // Room for most bodies; a 20-item order grows it once.
        let mut content = Self {
            json: Vec::with_capacity(4096),
            escaped: Vec::with_capacity(4096),
        };
        let twice = Twice {
            escaped: &mut content.escaped,
        };
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut content.json,
            twice,
        ))?;
        Ok(content)
    }

    /// The JSON text, as it is sent and signed.
    pub fn json(&self) -> &[u8] {
        &self.json
    }

    /// The JSON text escaped as a JSON string's inside, quotes left out.
    pub fn escaped(&self) -> &[u8] {
        &self.escaped
    }

    pub fn is_empty(&self) -> bool {
        self.json.is_empty()
    }

    /// The JSON text, for a request body.
    pub fn into_json(self) -> Vec<u8> {
        self.json
    }
}

/// Writes each token as serde_json's compact formatter does to the JSON
/// text, and escaped to `escaped`.
struct Twice<'a> {
    escaped: &'a mut Vec<u8>,
}

impl Twice<'_> {
    /// A token that needs no escaping: written by `write` to `escaped`,
    /// then copied to the JSON text.
    fn same<W: ?Sized + Write>(
        &mut self,
        json: &mut W,
        write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        let start = self.escaped.len();
        write(self.escaped)?;
        json.write_all(&self.escaped[start..])
    }

    /// `text` to the JSON text as it is, and escaped to `escaped`.
    fn text<W: ?Sized + Write>(&mut self, json: &mut W, text: &str) -> io::Result<()> {
        escape_into(self.escaped, text);
        json.write_all(text.as_bytes())
    }
}

/// Appends `text` escaped as the inside of a JSON string, as serde_json
/// escapes a `str` (`"`, `\` and control characters).
pub(crate) fn escape_into(out: &mut Vec<u8>, text: &str) {
    let start = out.len();
    // `"text"`, then without its quotes; writing into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
    out.pop();
    out.remove(start);
}

macro_rules! same {
    ($($method:ident($type:ty)),* $(,)?) => {$(
        fn $method<W: ?Sized + Write>(&mut self, json: &mut W, value: $type) -> io::Result<()> {
            self.same(json, |out| CompactFormatter.$method(out, value))
        }
    )*};
}

impl Formatter for Twice<'_> {
    same!(
        write_bool(bool),
        write_i8(i8),
        write_i16(i16),
        write_i32(i32),
        write_i64(i64),
        write_i128(i128),
        write_u8(u8),
        write_u16(u16),
        write_u32(u32),
        write_u64(u64),
        write_u128(u128),
        write_f32(f32),
        write_f64(f64),
        begin_array_value(bool),
        begin_object_key(bool),
    );

    fn write_null<W: ?Sized + Write>(&mut self, json: &mut W) -> io::Result<()> {
        self.same(json, |out| CompactFormatter.write_null(out))
    }

    fn write_number_str<W: ?Sized + Write>(&mut self, json: &mut W, value: &str) -> io::Result<()> {
        self.text(json, value)
    }

    fn begin_string<W: ?Sized + Write>(&mut self, json: &mut W) -> io::Result<()> {
        self.escaped.extend_from_slice(b"\\\"");
        json.write_all(b"\"")
    }

    fn end_string<W: ?Sized + Write>(&mut self, json: &mut W) -> io::Result<()> {
        self.begin_string(json)
    }

    /// serde_json hands over a string in fragments that need no escaping,
    /// with a [`write_char_escape`](Self::write_char_escape) between them.
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        json: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        self.escaped.extend_from_slice(fragment.as_bytes());
        json.write_all(fragment.as_bytes())
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        json: &mut W,
        char_escape: CharEscape,
    ) -> io::Result<()> {
        let mut escape = Vec::with_capacity(6);
        CompactFormatter.write_char_escape(&mut escape, char_escape)?;
        // `\"`, `\n`, `\u0001`…: ASCII.
        self.text(json, std::str::from_utf8(&escape).unwrap_or_default())
    }

    fn begin_array<W: ?Sized + Write>(&mut self, json: &mut W) -> io::Result<()> {
        self.same(json, |out| CompactFormatter.begin_array(out))
    }

    fn end_array<W: ?Sized + Write>(&mut self, json: &mut W) -> io::Result<()> {
        self.same(json, |out| CompactFormatter.end_array(out))
    }

    fn begin_object<W: ?Sized + Write>(&mut self, json: &mut W) -> io::Result<()> {
        self.same(json, |out| CompactFormatter.begin_object(out))
    }

    fn end_object<W: ?Sized + Write>(&mut self, json: &mut W) -> io::Result<()> {
        self.same(json, |out| CompactFormatter.end_object(out))
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, json: &mut W) -> io::Result<()> {
        self.same(json, |out| CompactFormatter.begin_object_value(out))
    }

    /// A `RawValue`'s text, e.g. a decimal's digits.
    fn write_raw_fragment<W: ?Sized + Write>(
        &mut self,
        json: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        self.text(json, fragment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What escaping the finished JSON gives.
    fn escaped_afterwards(json: &[u8]) -> Vec<u8> {
        let text = std::str::from_utf8(json).expect("utf-8");
        let quoted = serde_json::to_vec(text).expect("encode");
        quoted[1..quoted.len() - 1].to_vec()
    }

    #[test]
    fn both_texts_are_what_serde_json_writes() {
        let raw: Box<serde_json::value::RawValue> =
            serde_json::from_str("12.50").expect("raw value");
        let value = serde_json::json!({
            "shopName": "测试 \"Home\" & \\ Garden\n\t\u{1}",
            "freight": raw,
            "list": [1, -2, 3.5, true, false, null, [], {}],
            "big": u64::MAX,
        });
        let content = Content::encode(&value).expect("encode");
        assert_eq!(content.json(), serde_json::to_vec(&value).expect("encode"));
        assert_eq!(content.escaped(), escaped_afterwards(content.json()));
    }
}
