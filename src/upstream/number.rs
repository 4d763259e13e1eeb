//! Decimals on the wire: both protocols want money, weights and dimensions
//! as JSON numbers (`BigDecimal`), and the exact decimal text must survive,
//! so they are written from the decimal's text, never through `f64`.

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// A decimal written as a JSON number with its exact text (`12.50`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Num(pub Decimal);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // `Decimal`'s Display never uses an exponent, so its text is a JSON number.
        let raw = RawValue::from_string(self.0.to_string()).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
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
        ];
        for (input, json) in cases {
            let number = Num(Decimal::from_str(input).unwrap());
            assert_eq!(serde_json::to_string(&number).unwrap(), json);
        }
    }
}
