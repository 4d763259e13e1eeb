//! A request's `content`, encoded as JSON once and escaped as a JSON string
//! in the same pass.
//!
//! Both protocols sign the content embedded as a JSON string
//! (`{"appKey":…,"content":"{\"warehouseKey\":…}"}`), and Qianyi's body
//! carries it that way too. Escaping the finished text afterwards means
//! scanning kilobytes for quotes one byte at a time. The serializer already
//! knows where every quote and backslash goes, so the serializer behind
//! [`Content::encode`] writes each token twice, plainly and escaped. Most of the
//! escaped text is then copied, not searched (BENCHMARKS.md, seventh and
//! eighth rounds).

mod twofold;

use serde::Serialize;

use super::UpstreamErrorKind;

pub(crate) use twofold::RAW_VALUE_TOKEN;
use twofold::Twofold;

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
        let mut out = Twofold {
            json: Vec::with_capacity(8 * 1024),
            escaped: Vec::with_capacity(9 * 1024),
        };
        value.serialize(&mut out)?;
        let Twofold { json, escaped } = out;
        Ok(Self { json, escaped })
    }

    /// [`encode`](Self::encode) for a request: a value that does not
    /// encode is a malformed request, and nothing is sent.
    pub fn encode_request(value: &impl Serialize) -> Result<Self, UpstreamErrorKind> {
        Self::encode(value).map_err(|err| {
            UpstreamErrorKind::Malformed(format!("cannot encode the request: {err}"))
        })
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
    fn every_character_that_needs_escaping_is_found_wherever_it_is() {
        // Every byte value at every position of strings of up to 24 bytes,
        // so every path (short, whole words, an overlapping last word) sees
        // it; the rest of each string is clean text.
        for len in 1..=24 {
            for position in 0..len {
                for byte in 0u8..=0x7f {
                    let mut text = vec![b'a'; len];
                    text[position] = byte;
                    let text = String::from_utf8(text).expect("ASCII");
                    assert_same_as_plain(&text);
                }
                let mut text = "é".repeat(len);
                text.insert(position * 'é'.len_utf8(), '"');
                assert_same_as_plain(&text);
            }
        }
    }

    #[test]
    fn every_serde_shape_is_written_as_serde_json_writes_it() {
        use std::collections::BTreeMap;

        #[derive(Serialize)]
        enum Variant {
            Unit,
            Newtype(&'static str),
            Tuple(u8, &'static str),
            Struct { a: i32, b: Option<&'static str> },
        }
        #[derive(Serialize)]
        struct UnitStruct;
        #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
        struct Newtype(u64);
        #[derive(Serialize)]
        struct TupleStruct(i8, f32);
        #[derive(Serialize)]
        struct Renamed {
            #[serde(rename = "quoted \"key\"\n")]
            quoted: char,
            #[serde(rename = "键")]
            chinese: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            skipped: Option<u8>,
            nothing: Option<u8>,
            unit: (),
        }
        /// Calls `serialize_bytes` and `collect_str`, which derives never do.
        struct Bytes;
        impl Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeTuple;
                let mut tuple = serializer.serialize_tuple(3)?;
                tuple.serialize_element(&BytesOf(b"\x00\"ab\xff"))?;
                tuple.serialize_element(&BytesOf(b""))?;
                tuple.serialize_element(&Shown("say \"hi\"\t"))?;
                tuple.end()
            }
        }
        struct BytesOf(&'static [u8]);
        impl Serialize for BytesOf {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_bytes(self.0)
            }
        }
        struct Shown(&'static str);
        impl Serialize for Shown {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self.0)
            }
        }

        assert_same_as_plain(&(
            Variant::Unit,
            Variant::Newtype("a\\b"),
            Variant::Tuple(7, "x"),
            Variant::Struct { a: -1, b: None },
            Variant::Struct { a: 2, b: Some("y") },
        ));
        assert_same_as_plain(&(UnitStruct, Newtype(u64::MAX), TupleStruct(-8, 0.1)));
        assert_same_as_plain(&Renamed {
            quoted: '"',
            chinese: "值",
            skipped: None,
            nothing: None,
            unit: (),
        });
        assert_same_as_plain(&Bytes);
        assert_same_as_plain(&(
            f32::INFINITY,
            f64::NEG_INFINITY,
            1.0e-7f64,
            3.0f32,
            'é',
            '\u{1}',
        ));
        assert_same_as_plain(&Vec::<u8>::new());
        assert_same_as_plain(&BTreeMap::<u8, u8>::new());

        // Map keys become strings as serde_json makes them.
        assert_same_as_plain(&BTreeMap::from([(-3i64, "a"), (4, "b")]));
        assert_same_as_plain(&BTreeMap::from([(u128::MAX, 1)]));
        assert_same_as_plain(&BTreeMap::from([(false, 0), (true, 1)]));
        assert_same_as_plain(&BTreeMap::from([('"', 0), ('\n', 1)]));
        assert_same_as_plain(&BTreeMap::from([(Some("k"), 1)]));
        assert_same_as_plain(&BTreeMap::from([(Newtype(9), 1)]));
        assert_same_as_plain(&BTreeMap::from([(
            "a\"b",
            BTreeMap::from([("c", Variant::Unit)]),
        )]));
        #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
        enum Key {
            Plain,
        }
        assert_same_as_plain(&BTreeMap::from([(Key::Plain, 1)]));
    }

    #[test]
    fn keys_serde_json_refuses_are_refused() {
        use std::collections::BTreeMap;

        fn float_map(key: f64) -> impl Serialize {
            struct OneEntry(f64);
            impl Serialize for OneEntry {
                fn serialize<S: serde::Serializer>(
                    &self,
                    serializer: S,
                ) -> Result<S::Ok, S::Error> {
                    use serde::ser::SerializeMap;
                    let mut map = serializer.serialize_map(Some(1))?;
                    map.serialize_entry(&self.0, &1)?;
                    map.end()
                }
            }
            OneEntry(key)
        }

        // A finite float key is quoted; a non-finite one is an error.
        assert_same_as_plain(&float_map(1.5));
        for refused in [f64::NAN, f64::INFINITY] {
            assert!(serde_json::to_vec(&float_map(refused)).is_err());
            assert!(Content::encode(&float_map(refused)).is_err());
        }
        let vec_keys = BTreeMap::from([(vec![1u8], 1)]);
        assert!(serde_json::to_vec(&vec_keys).is_err());
        assert!(Content::encode(&vec_keys).is_err());
        let unit_keys = BTreeMap::from([((), 1)]);
        assert!(serde_json::to_vec(&unit_keys).is_err());
        assert!(Content::encode(&unit_keys).is_err());
        let none_keys = BTreeMap::from([(None::<&str>, 1)]);
        assert!(serde_json::to_vec(&none_keys).is_err());
        assert!(Content::encode(&none_keys).is_err());
    }

    #[test]
    fn decimals_are_raw_numbers_in_serde_json_and_here() {
        use std::str::FromStr;

        use rust_decimal::Decimal;

        use crate::upstream::number::Num;

        let amounts = ["12.50", "-0.001", "0", "79228162514264337593543950335"]
            .map(|text| Num(Decimal::from_str(text).expect("decimal")));
        assert_eq!(
            serde_json::to_string(&amounts).expect("encode"),
            "[12.50,-0.001,0,79228162514264337593543950335]"
        );
        assert_same_as_plain(&amounts);
    }

    #[test]
    fn nothing_is_empty() {
        let content = Content::empty();
        assert!(content.is_empty());
        assert_eq!((content.json(), content.escaped()), (&b""[..], &b""[..]));
    }
}
