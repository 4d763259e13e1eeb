//! Decimals on the wire: both protocols want money, weights and dimensions
//! as JSON numbers (`BigDecimal`), and the exact decimal text must survive,
//! so they are written from the decimal's text, never through `f64`.

use rust_decimal::Decimal;
use serde::{Serialize, Serializer, ser::SerializeStruct as _};

use super::content::RAW_VALUE_TOKEN;

/// A decimal written as a JSON number with its exact text (`12.50`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Num(pub Decimal);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Written on the stack and serialized as serde_json's `RawValue`
        // serializes itself: an order carries dozens of these, and this
        // keeps them off the heap without parsing the text back to check
        // what `decimal_text` wrote.
        let mut buffer = [0u8; TEXT_CAPACITY];
        let text = decimal_text(&self.0, &mut buffer);
        let mut raw = serializer.serialize_struct(RAW_VALUE_TOKEN, 1)?;
        raw.serialize_field(RAW_VALUE_TOKEN, text)?;
        raw.end()
    }
}

/// Room for any `Decimal`'s text: a sign, a leading `0.`, 28 zeros after
/// the point and 29 digits is 60 bytes.
const TEXT_CAPACITY: usize = 64;

/// The decimal's text, the same as its `Display` (`-0.50`, `12`, never an
/// exponent), written into `buffer`. `Display` divides the 96-bit mantissa
/// by ten a digit at a time; this takes the digits of a `u64`, which every
/// amount on an order fits in, and was a tenth of what encoding an order
/// cost (BENCHMARKS.md, seventh round).
pub fn decimal_text<'a>(value: &Decimal, buffer: &'a mut [u8; TEXT_CAPACITY]) -> &'a str {
    let scale = value.scale() as usize;
    // At most 29 digits: the mantissa is below 2^96.
    let mut digits = [0u8; 32];
    let mut start = digits.len();
    let mut mantissa = value.mantissa().unsigned_abs();
    while mantissa > u128::from(u64::MAX) {
        start -= 1;
        digits[start] = b'0' + (mantissa % 10) as u8;
        mantissa /= 10;
    }
    let mut small = mantissa as u64;
    while small > 0 {
        start -= 1;
        digits[start] = b'0' + (small % 10) as u8;
        small /= 10;
    }
    let digits = &digits[start..];

    let mut len = 0;
    let mut push = |bytes: &[u8]| {
        buffer[len..len + bytes.len()].copy_from_slice(bytes);
        len += bytes.len();
    };
    if value.is_sign_negative() {
        push(b"-");
    }
    if digits.len() > scale {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        push(whole);
        if scale > 0 {
            push(b".");
            push(fraction);
        }
    } else if scale == 0 {
        push(b"0");
    } else {
        push(b"0.");
        for _ in digits.len()..scale {
            push(b"0");
        }
        push(digits);
    }
    // Only ASCII digits, `-` and `.` were written.
    std::str::from_utf8(&buffer[..len]).unwrap_or_default()
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
            assert_eq!(Decimal::from_str(input).unwrap().to_string(), json);
            let number = Num(Decimal::from_str(input).unwrap());
            assert_eq!(serde_json::to_string(&number).unwrap(), json);
        }
    }

    #[test]
    fn text_is_display_for_every_scale_sign_and_size() {
        let mantissas: [u128; 11] = [
            0,
            1,
            9,
            10,
            99,
            1250,
            12_345_678,
            u128::from(u64::MAX),
            u128::from(u64::MAX) + 1,
            10_u128.pow(27),
            (1 << 96) - 1,
        ];
        let mut buffer = [0u8; TEXT_CAPACITY];
        for mantissa in mantissas {
            let lo = mantissa as u32;
            let mid = (mantissa >> 32) as u32;
            let hi = (mantissa >> 64) as u32;
            for scale in 0..=28 {
                for negative in [false, true] {
                    let value = Decimal::from_parts(lo, mid, hi, negative, scale);
                    assert_eq!(
                        decimal_text(&value, &mut buffer),
                        value.to_string(),
                        "{mantissa} scale {scale} negative {negative}"
                    );
                }
            }
        }
    }
}
