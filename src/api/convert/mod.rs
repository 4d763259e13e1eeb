//! Conversions between the gRPC messages and the domain, in one place.
//! Requests are validated on the way in: every problem is reported as a
//! field violation with its path (`items[0].quantity`), and nothing invalid
//! reaches a warehouse. Every text field has a length limit, lists and maps
//! a count limit, numbers a range, so nothing a caller sends grows what is
//! sent upstream (or quoted back in a refusal) past a known size.
//!
//! This module owns the limits and the [`Check`] that applies them, and
//! the batch request shape; the conversions themselves are by service:
//! [`orders`] (outbound orders and ASNs: creation, batches, states,
//! outcomes) and [`stock`] (warehouses, channels, inventory, SKUs).

use std::fmt;

use rust_decimal::Decimal;

use super::error::Violations;

mod orders;
mod stock;

pub use stock::channels_warehouse;

/// Longest text field, in characters: the specs' limit for a SKU, product
/// code, title and barcode (both give 255), and the facade's for every
/// other code, number, name and address line, which the specs leave open.
pub const MAX_TEXT_CHARS: usize = 255;
/// Longest free text (a product's specifications and image URL, an ASN's
/// return reason), in characters.
pub const MAX_LONG_TEXT_CHARS: usize = 2048;
/// Largest self-shipped label PDF, in bytes. A request may be 4 MiB at most
/// (tonic's limit), and the label goes upstream base64-encoded, a third larger.
pub const MAX_LABEL_BYTES: usize = 2 * 1024 * 1024;
/// Most significant digits of a decimal string: what a 96-bit decimal
/// holds whatever its value, so the warehouse gets the digits sent.
pub const MAX_DECIMAL_DIGITS: usize = 28;
/// Largest quantity or count: the largest 32-bit signed integer, what
/// warehouse systems commonly keep quantities in.
pub const MAX_QUANTITY: i64 = i32::MAX as i64;
/// Most orders, ASNs or SKUs in one batch call, and SKUs in one inventory
/// query (each may be an upstream call of its own).
pub const MAX_BATCH: usize = 200;
/// Most entries of a product's `currency_map`.
pub const MAX_CURRENCIES: usize = 200;
/// Largest upstream inventory page.
pub const MAX_PAGE_SIZE: i32 = 1000;
/// Page size when the caller says 0.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// The most of a caller's value quoted back in a violation, in characters.
const QUOTED_CHARS: usize = 64;
/// The times a `google.protobuf.Timestamp` may hold: years 1 to 9999.
const TIMESTAMP_SECONDS: std::ops::RangeInclusive<i64> = -62_135_596_800..=253_402_300_799;

/// Digits with at most one `.` between digits, after an optional `-`: no
/// exponent, sign `+`, `_` or bare point, which `Decimal::from_str` would
/// quietly rewrite.
fn is_plain_decimal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && all_digits(fraction)
}

/// The significant digits of a plain decimal: every digit after the
/// leading zeros (`0.050` has 2, `120.00` has 5).
fn significant_digits(text: &str) -> usize {
    text.bytes()
        .filter(u8::is_ascii_digit)
        .skip_while(|digit| *digit == b'0')
        .count()
}

/// `value` quoted for a violation's description: at most [`QUOTED_CHARS`]
/// characters of it, so a huge value is not sent back whole.
fn quoted(value: &str) -> String {
    match value.char_indices().nth(QUOTED_CHARS) {
        None => format!("{value:?}"),
        Some((end, _)) => format!("{:?}…", &value[..end]),
    }
}

/// An item of a list (`items[3]`), naming itself and its fields. Paths are
/// formatted only when a violation is reported: valid requests, the common
/// case, build no path strings.
#[derive(Clone, Copy)]
struct Item {
    list: &'static str,
    index: usize,
}

impl Item {
    /// The path of the field `name` of this item (`items[3].sku`).
    fn at(self, name: &str) -> At<'_> {
        At { item: self, name }
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.list, self.index)
    }
}

/// The path of a field of a list's item (`items[3].sku`).
#[derive(Clone, Copy)]
struct At<'a> {
    item: Item,
    name: &'a str,
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.item, self.name)
    }
}

/// Anything naming a field: a `&str`, an [`Item`] or an [`At`].
trait Field: fmt::Display + Copy {}

impl<T: fmt::Display + Copy> Field for T {}

/// Collects violations while reading a request.
struct Check {
    violations: Violations,
}

impl Check {
    fn new() -> Self {
        Self {
            violations: Violations::default(),
        }
    }

    fn fail(&mut self, field: impl Field, description: impl Into<String>) {
        self.violations.add(field.to_string(), description);
    }

    /// Whether `value` has at most `limit` characters (a violation if not);
    /// checked before anything else looks at it.
    fn within(&mut self, field: impl Field, value: &str, limit: usize) -> bool {
        // At least as many bytes as characters: most values pass here.
        if value.len() <= limit {
            return true;
        }
        let chars = value.chars().count();
        if chars > limit {
            self.fail(field, format!("at most {limit} characters (got {chars})"));
        }
        chars <= limit
    }

    /// Text of at most `limit` characters.
    fn limited(&mut self, field: impl Field, value: String, limit: usize) -> String {
        self.within(field, &value, limit);
        value
    }

    /// An optional text field of at most [`MAX_TEXT_CHARS`] characters.
    fn text(&mut self, field: impl Field, value: String) -> String {
        self.limited(field, value, MAX_TEXT_CHARS)
    }

    /// An optional free text of at most [`MAX_LONG_TEXT_CHARS`] characters.
    fn long_text(&mut self, field: impl Field, value: String) -> String {
        self.limited(field, value, MAX_LONG_TEXT_CHARS)
    }

    /// A required text field: present, not blank, and at most
    /// [`MAX_TEXT_CHARS`] characters.
    fn required(&mut self, field: impl Field, value: String) -> String {
        let value = self.text(field, value);
        if value.trim().is_empty() {
            self.fail(field, "required");
        }
        value
    }

    /// An optional non-negative decimal string; "" means absent. Only plain
    /// decimals (`12.50`, `3`) of at most [`MAX_DECIMAL_DIGITS`]
    /// significant digits are taken, so the warehouse gets the very digits
    /// the caller wrote.
    fn decimal(&mut self, field: impl Field, value: &str) -> Option<Decimal> {
        if !self.within(field, value, MAX_TEXT_CHARS) {
            return None;
        }
        let text = value.trim();
        if text.is_empty() {
            return None;
        }
        if !is_plain_decimal(text) {
            self.fail(
                field,
                format!("{} is not a decimal number like \"12.50\"", quoted(value)),
            );
            return None;
        }
        let digits = significant_digits(text);
        if digits > MAX_DECIMAL_DIGITS {
            self.fail(
                field,
                format!(
                    "{} has {digits} significant digits: at most {MAX_DECIMAL_DIGITS} can be sent exactly",
                    quoted(value)
                ),
            );
            return None;
        }
        // `from_str_exact` refuses what `from_str` would round (more than
        // 28 digits after the point).
        match Decimal::from_str_exact(text) {
            Ok(number) if number.is_sign_negative() && !number.is_zero() => {
                self.fail(field, "must not be negative");
                None
            }
            Ok(number) => Some(number),
            Err(_) => {
                self.fail(
                    field,
                    format!(
                        "{} has more digits than can be sent exactly (at most {MAX_DECIMAL_DIGITS} after the point)",
                        quoted(value)
                    ),
                );
                None
            }
        }
    }

    /// A required non-negative decimal string.
    fn required_decimal(&mut self, field: impl Field, value: &str) -> Decimal {
        if value.trim().is_empty() {
            self.fail(field, "required (a decimal string like \"12.50\")");
            return Decimal::ZERO;
        }
        self.decimal(field, value).unwrap_or_default()
    }

    /// A quantity: greater than zero and at most [`MAX_QUANTITY`].
    fn quantity(&mut self, field: impl Field, value: i64) -> u32 {
        if value > MAX_QUANTITY {
            self.fail(
                field,
                format!("too large: at most {MAX_QUANTITY} (got {value})"),
            );
            return 0;
        }
        match u32::try_from(value) {
            Ok(quantity) if quantity > 0 => quantity,
            _ => {
                self.fail(field, format!("must be greater than 0 (got {value})"));
                0
            }
        }
    }

    /// An optional count: 0 means absent, negative is an error, and at most
    /// [`MAX_QUANTITY`].
    fn count(&mut self, field: impl Field, value: i64) -> Option<u32> {
        if value > MAX_QUANTITY {
            self.fail(
                field,
                format!("too large: at most {MAX_QUANTITY} (got {value})"),
            );
            return None;
        }
        match u32::try_from(value) {
            Ok(0) => None,
            Ok(count) => Some(count),
            Err(_) => {
                self.fail(field, format!("must not be negative (got {value})"));
                None
            }
        }
    }

    /// A time as epoch milliseconds: within what a `Timestamp` may hold.
    fn millis(&mut self, field: impl Field, value: Option<prost_types::Timestamp>) -> Option<i64> {
        let value = value?;
        if !(0..1_000_000_000).contains(&value.nanos) {
            self.fail(field, "nanos must be within 0..1e9");
            return None;
        }
        if !TIMESTAMP_SECONDS.contains(&value.seconds) {
            self.fail(field, "out of range: a time in the years 1 to 9999");
            return None;
        }
        // Cannot overflow within those years.
        Some(value.seconds * 1000 + i64::from(value.nanos / 1_000_000))
    }

    fn enum_value<E: TryFrom<i32>>(&mut self, field: impl Field, value: i32) -> Option<E> {
        match E::try_from(value) {
            Ok(known) => Some(known),
            Err(_) => {
                self.fail(field, format!("{value} is not a known value"));
                None
            }
        }
    }

    /// A list that must hold at least one item: if it holds none, a
    /// violation saying `description`.
    fn not_empty<T>(&mut self, list: &str, items: &[T], description: &str) {
        if items.is_empty() {
            self.fail(list, description);
        }
    }

    /// Each item of the list `list`, read by `read` (which names the
    /// item's fields through the [`Item`] it is given).
    fn each<T, R>(
        &mut self,
        list: &'static str,
        items: Vec<T>,
        mut read: impl FnMut(&mut Self, Item, T) -> R,
    ) -> Vec<R> {
        items
            .into_iter()
            .enumerate()
            .map(|(index, item)| read(self, Item { list, index }, item))
            .collect()
    }

    /// Each of at most `limit` items of the list `list`, read by `read`;
    /// when there are more, none is read (and the list is empty), so a
    /// huge list costs no work per item.
    fn each_of_at_most<T, R>(
        &mut self,
        list: &'static str,
        items: Vec<T>,
        limit: usize,
        read: impl FnMut(&mut Self, Item, T) -> R,
    ) -> Vec<R> {
        if items.len() > limit {
            self.fail(
                list,
                format!("at most {limit} per call (got {})", items.len()),
            );
            return Vec::new();
        }
        self.each(list, items, read)
    }

    fn finish<T>(self, value: T) -> Result<T, Violations> {
        self.violations.into_result(value)
    }
}

/// A batch call's request, validated: the warehouse it is about and its
/// one to [`MAX_BATCH`] items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch<T> {
    /// Trimmed; empty when the caller gave none (every warehouse).
    pub warehouse_code: String,
    pub items: Vec<T>,
}

/// Reads a batch request: `warehouse_code` and the items under `list`,
/// each checked and converted by `convert`.
fn batch<T, R>(
    warehouse_code: String,
    list: &'static str,
    items: Vec<T>,
    convert: impl FnMut(&mut Check, Item, T) -> R,
) -> Result<Batch<R>, Violations> {
    let mut check = Check::new();
    let warehouse_code = check.text("warehouse_code", warehouse_code);
    check.not_empty(list, &items, "at least one is required");
    let items = check.each_of_at_most(list, items, MAX_BATCH, convert);
    check.finish(Batch {
        warehouse_code: warehouse_code.trim().to_owned(),
        items,
    })
}
