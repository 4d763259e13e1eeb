//! A request's `content`, encoded as JSON once and escaped as a JSON string
//! in the same pass.
//!
//! Both protocols sign the content embedded as a JSON string
//! (`{"appKey":…,"content":"{\"warehouseKey\":…}"}`), and Qianyi's body
//! carries it that way too. Escaping the finished text afterwards means
//! scanning kilobytes for quotes one byte at a time. The serializer already
//! knows where every quote and backslash goes, so [`Content::encode`] has a
//! [`Formatter`] write each token twice, plainly and escaped. Most of the
//! escaped text is then copied, not searched (BENCHMARKS.md, seventh round).

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

/// The JSON text of a request's content and the same text escaped as the
/// inside of a JSON string, as `serde_json` escapes a `str`: `"` and `\`
/// get a backslash, control characters their short or `\u00XX` escape,
/// everything else (non-ASCII text included) is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Content {
    json: Vec<u8>,
    escaped: Vec<u8>,
}

impl Content {
    /// "No business parameters": empty text, which is signed without a
    /// `content` key.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Encodes `value` compactly, exactly as `serde_json::to_vec` does.
    pub fn encode(value: &impl Serialize) -> Result<Self, serde_json::Error> {
        // Room for a 20-item order without growing: most bodies are a few
        // hundred bytes, and a larger buffer costs no more to allocate than
        // a small one, while every doubling copies what was written so far.
        let mut json = Vec::with_capacity(8 * 1024);
        let mut escaped = Vec::with_capacity(9 * 1024);
        let formatter = Twofold {
            escaped: &mut escaped,
        };
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut json, formatter,
        ))?;
        Ok(Self { json, escaped })
    }

    /// The JSON text, byte for byte as it is sent and signed.
    pub fn json(&self) -> &[u8] {
        &self.json
    }

    /// The JSON text escaped as a JSON string's contents, without quotes.
    pub fn escaped(&self) -> &[u8] {
        &self.escaped
    }

    pub fn is_empty(&self) -> bool {
        self.json.is_empty()
    }

    pub fn len(&self) -> usize {
        self.json.len()
    }

    /// The JSON text, for a request body.
    pub fn into_json(self) -> Vec<u8> {
        self.json
    }
}

/// Writes every token plainly to the serializer's writer, as
/// [`CompactFormatter`] does, and escaped to `escaped`.
struct Twofold<'a> {
    escaped: &'a mut Vec<u8>,
}

impl Twofold<'_> {
    /// A token with no `"`, `\` or control character: the same text in both.
    fn both<W: ?Sized + Write>(&mut self, writer: &mut W, token: &[u8]) -> io::Result<()> {
        self.escaped.extend_from_slice(token);
        writer.write_all(token)
    }

    /// The `,` before every array value or object key but the first.
    fn separator<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            self.both(writer, b",")
        }
    }

    /// Text that may hold anything (a raw fragment, an escape sequence).
    fn scanned<W: ?Sized + Write>(&mut self, writer: &mut W, text: &[u8]) -> io::Result<()> {
        escape_into(self.escaped, text);
        writer.write_all(text)
    }
}

/// Up to 64 bytes written by `write` into a buffer on the stack: room for
/// any number (`i128::MIN` has 40 characters) or escape sequence.
fn on_stack(
    write: impl FnOnce(&mut io::Cursor<&mut [u8]>) -> io::Result<()>,
    then: impl FnOnce(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut buffer = [0u8; 64];
    let mut cursor = io::Cursor::new(&mut buffer[..]);
    write(&mut cursor)?;
    let len = usize::try_from(cursor.position()).unwrap_or(0);
    then(&buffer[..len])
}

/// Numbers are ASCII digits, signs, points and exponents: written once by
/// [`CompactFormatter`], then copied to both.
macro_rules! number {
    ($($method:ident: $ty:ty),* $(,)?) => {$(
        fn $method<W: ?Sized + Write>(&mut self, writer: &mut W, value: $ty) -> io::Result<()> {
            on_stack(|text| CompactFormatter.$method(text, value), |text| self.both(writer, text))
        }
    )*};
}

impl Formatter for Twofold<'_> {
    fn write_null<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.both(writer, b"null")
    }

    fn write_bool<W: ?Sized + Write>(&mut self, writer: &mut W, value: bool) -> io::Result<()> {
        self.both(writer, if value { b"true" } else { b"false" })
    }

    number! {
        write_i8: i8, write_i16: i16, write_i32: i32, write_i64: i64, write_i128: i128,
        write_u8: u8, write_u16: u16, write_u32: u32, write_u64: u64, write_u128: u128,
        write_f32: f32, write_f64: f64,
    }

    fn write_number_str<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        value: &str,
    ) -> io::Result<()> {
        self.scanned(writer, value.as_bytes())
    }

    fn begin_string<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.escaped.extend_from_slice(br#"\""#);
        writer.write_all(b"\"")
    }

    fn end_string<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.escaped.extend_from_slice(br#"\""#);
        writer.write_all(b"\"")
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // serde_json cuts fragments at every character it escapes, so a
        // fragment needs no escaping at either level.
        self.both(writer, fragment.as_bytes())
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        char_escape: CharEscape,
    ) -> io::Result<()> {
        on_stack(
            |sequence| CompactFormatter.write_char_escape(sequence, char_escape),
            |sequence| self.scanned(writer, sequence),
        )
    }

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.both(writer, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.both(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.separator(writer, first)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.both(writer, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.both(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.separator(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.both(writer, b":")
    }

    fn write_raw_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        self.scanned(writer, fragment.as_bytes())
    }
}

/// Writes `text` as a JSON string, quotes included.
pub fn write_json_string(out: &mut Vec<u8>, text: &str) {
    // serde_json's string escaping is the JSON standard one (and Jackson's /
    // fastjson's defaults): `"` `\` and control characters only. Writing a
    // `str` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// Escapes `text` as `serde_json` escapes the contents of a string.
fn escape_into(out: &mut Vec<u8>, text: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &byte in text {
        match byte {
            b'"' => out.extend_from_slice(br#"\""#),
            b'\\' => out.extend_from_slice(br"\\"),
            b'\x08' => out.extend_from_slice(br"\b"),
            b'\x0c' => out.extend_from_slice(br"\f"),
            b'\n' => out.extend_from_slice(br"\n"),
            b'\r' => out.extend_from_slice(br"\r"),
            b'\t' => out.extend_from_slice(br"\t"),
            0x00..=0x1f => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ]),
            _ => out.push(byte),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, value::RawValue};

    use super::*;

    /// The escaped text as the plain way makes it: the JSON text, encoded as
    /// a JSON string, without its quotes.
    fn escaped_the_plain_way(json: &[u8]) -> Vec<u8> {
        let text = std::str::from_utf8(json).expect("utf-8");
        let quoted = serde_json::to_vec(text).expect("encode");
        quoted[1..quoted.len() - 1].to_vec()
    }

    fn assert_same_as_plain(value: &impl Serialize) {
        let content = Content::encode(value).expect("encode");
        assert_eq!(
            content.json(),
            serde_json::to_vec(value).expect("encode").as_slice()
        );
        assert_eq!(
            String::from_utf8_lossy(content.escaped()),
            String::from_utf8_lossy(&escaped_the_plain_way(content.json()))
        );
    }

    #[test]
    fn json_and_escaped_text_match_serde_json_for_every_kind_of_value() {
        let controls: String = (0u8..0x20).map(char::from).collect();
        assert_same_as_plain(&json!({
            "warehouseKey": ["afd1dd995b9e432c907d3f8237b3f69b"],
            "quote": "say \"hi\"", "backslash": r"C:\path\", "slash": "a/b",
            "controls": controls, "del": "\u{7f}",
            "中文键": "测试店铺 🚚", "empty": "", "nested": {"a": [1, -2, 3.5, 1e300, null, true, false]},
            "emptyObject": {}, "emptyArray": [],
            "big": u64::MAX, "small": i64::MIN,
        }));
        assert_same_as_plain(&"just a \"string\"\n");
        assert_same_as_plain(&12.5f32);
        assert_same_as_plain(&(u128::MAX, i128::MIN, 7u8, -7i8, 300u16, -300i16));
        assert_same_as_plain(&f64::NAN);
        assert_same_as_plain(&vec![b'"', b'\\']);
    }

    #[test]
    fn raw_fragments_are_escaped_like_any_other_text() {
        #[derive(Serialize)]
        struct WithRaw {
            raw: Box<RawValue>,
            number: Box<RawValue>,
        }
        let raw = |text: &str| RawValue::from_string(text.to_owned()).expect("raw JSON");
        assert_same_as_plain(&WithRaw {
            // JSON whitespace (a tab, a newline) is kept in a raw value.
            raw: raw("{\"a\" : \"x\\\"y\",\t\"n\":\n[1.50]}"),
            number: raw("12.50"),
        });
    }

    #[test]
    fn nothing_is_empty() {
        let content = Content::empty();
        assert!(content.is_empty());
        assert_eq!((content.json(), content.escaped()), (&b""[..], &b""[..]));
    }
}
