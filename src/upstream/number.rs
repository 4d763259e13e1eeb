//! Decimals on the wire: both protocols want money, weights and dimensions
//! as JSON numbers (`BigDecimal`), and the exact decimal text must survive,
//! so they are written from the decimal's text, never through `f64`.

use std::fmt::{self, Write as _};

use rust_decimal::Decimal;
use serde::{Serialize, Serializer, ser::Error as _};
use serde_json::value::RawValue;

/// A decimal written as a JSON number with its exact text (`12.50`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Num(pub Decimal);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // `Decimal`'s Display never uses an exponent, so its text is a JSON
        // number. Written on the stack and borrowed as a `RawValue`: an order
        // carries dozens of these, and this keeps them off the heap.
        let mut text = DecimalText::default();
        write!(text, "{}", self.0).map_err(S::Error::custom)?;
        let raw: &RawValue = serde_json::from_str(text.as_str()).map_err(S::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// Room for any `Decimal`'s text, which is at most 32 bytes: a sign, a
/// leading `0.` and 29 digits.
struct DecimalText {
    bytes: [u8; 64],
    len: usize,
}

impl Default for DecimalText {
    fn default() -> Self {
        Self {
            bytes: [0; 64],
            len: 0,
        }
    }
}

impl DecimalText {
    fn as_str(&self) -> &str {
        // Only whole `str`s are ever copied in.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

impl fmt::Write for DecimalText {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let end = self.len + text.len();
        self.bytes
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn exact_text_as_a_number() {
        let cases = [
            ("12.50", "12.50"),
            ("0", "0"),
            ("0.0", "0.0"),
            ("120.00", "120.00"),
            ("7.1", "7.1"),
            ("-0.5", "-0.5"),
            (
                "79228162514264337593543950335",
                "79228162514264337593543950335",
            ),
            (
                "0.0000000000000000000000000001",
                "0.0000000000000000000000000001",
            ),
            (
                "-7.9228162514264337593543950335",
                "-7.9228162514264337593543950335",
            ),
        ];
        for (input, json) in cases {
            let number = Num(Decimal::from_str(input).unwrap());
            assert_eq!(serde_json::to_string(&number).unwrap(), json);
        }
    }
}
