//! Conversions between the gRPC messages and the domain, in one place.
//! Requests are validated on the way in: every problem is reported as a
//! field violation with its path (`items[0].quantity`), and nothing invalid
//! reaches a warehouse. Every text field has a length limit, lists and maps
//! a count limit, numbers a range, so nothing a caller sends grows what is
//! sent upstream (or quoted back in a refusal) past a known size.

use std::fmt;

use rust_decimal::Decimal;

use super::error::Violations;
use crate::{domain, proto};

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

impl TryFrom<proto::CreateOrderRequest> for domain::NewOrder {
    type Error = Violations;

    fn try_from(req: proto::CreateOrderRequest) -> Result<Self, Violations> {
        let mut check = Check::new();
        let tracking_number = check.text("tracking_number", req.tracking_number);
        if req.label_data.len() > MAX_LABEL_BYTES {
            check.fail(
                "label_data",
                format!(
                    "at most {MAX_LABEL_BYTES} bytes (got {})",
                    req.label_data.len()
                ),
            );
        }
        let package = match check.enum_value::<proto::PackageType>("package_type", req.package_type)
        {
            Some(proto::PackageType::SelfShipped) => {
                if tracking_number.trim().is_empty() {
                    check.fail(
                        "tracking_number",
                        "required when package_type is SELF_SHIPPED",
                    );
                }
                if req.label_data.is_empty() {
                    check.fail(
                        "label_data",
                        "required when package_type is SELF_SHIPPED (the label PDF)",
                    );
                }
                domain::Package::SelfShipped {
                    tracking_number,
                    label_pdf: req.label_data,
                }
            }
            _ => domain::Package::Normal,
        };
        // Checked even when COD is off: a malformed amount is a mistake
        // either way, and silently dropping it would hide it.
        let cod_amount = check.decimal("cod_pay_amount", &req.cod_pay_amount);
        let cod_currency = check.text("cod_currency", req.cod_currency);
        let cod = if req.cod_enabled {
            if req.cod_pay_amount.trim().is_empty() {
                check.fail("cod_pay_amount", "required when cod_enabled is true");
            }
            if cod_currency.trim().is_empty() {
                check.fail("cod_currency", "required when cod_enabled is true");
            }
            Some(domain::Cod {
                amount: cod_amount.unwrap_or_default(),
                currency: cod_currency,
            })
        } else {
            None
        };
        let receiver = match req.receiver {
            Some(receiver) => domain::Receiver {
                name: check.required("receiver.name", receiver.name),
                phone: check.required("receiver.phone", receiver.phone),
                email: check.text("receiver.email", receiver.email),
                country: check.required("receiver.country", receiver.country),
                state: check.required("receiver.state", receiver.state),
                city: check.required("receiver.city", receiver.city),
                district: check.text("receiver.district", receiver.district),
                address1: check.required("receiver.address1", receiver.address1),
                address2: check.text("receiver.address2", receiver.address2),
                postal_code: check.required("receiver.postal_code", receiver.postal_code),
            },
            None => {
                check.fail("receiver", "required");
                domain::Receiver {
                    name: String::new(),
                    phone: String::new(),
                    email: String::new(),
                    country: String::new(),
                    state: String::new(),
                    city: String::new(),
                    district: String::new(),
                    address1: String::new(),
                    address2: String::new(),
                    postal_code: String::new(),
                }
            }
        };
        check.not_empty("items", &req.items, "at least one item is required");
        let items = check.each("items", req.items, |check, item, line| domain::OrderItem {
            sku: check.required(item.at("sku"), line.sku),
            erp_sku: check.required(item.at("erp_sku"), line.erp_sku),
            name: check.required(item.at("name"), line.name),
            quantity: check.quantity(item.at("quantity"), line.quantity),
            amount: check.required_decimal(item.at("amount"), &line.amount),
            shipping_price: check.decimal(item.at("shipping_price"), &line.shipping_price),
            hs_code: check.text(item.at("hs_code"), line.hs_code),
            chinese_customs_declaration_name: check.text(
                item.at("chinese_customs_declaration_name"),
                line.chinese_customs_declaration_name,
            ),
            english_customs_declaration_name: check.text(
                item.at("english_customs_declaration_name"),
                line.english_customs_declaration_name,
            ),
        });
        let order = domain::NewOrder {
            order_number: check.required("order_number", req.order_number),
            online_order_id: check.required("online_order_id", req.online_order_id),
            shop_name: check.required("shop_name", req.shop_name),
            warehouse_code: check.required("warehouse_code", req.warehouse_code),
            logistics_code: check.required("logistics_code", req.logistics_code),
            platform: check.required("platform", req.platform),
            freight: check.required_decimal("freight", &req.freight),
            receiver,
            items,
            package,
            cod,
            order_created_at_ms: check.millis("order_created_at", req.order_created_at),
            delivery_time_ms: check.millis("delivery_time", req.delivery_time),
            online_shop_id: check.text("online_shop_id", req.online_shop_id),
            house_number: check.text("house_number", req.house_number),
            total_price: check.decimal("total_price", &req.total_price),
            currency: check.text("currency", req.currency),
            pay_time_ms: check.millis("pay_time", req.pay_time),
            insurance: req.insurance,
            insurance_value: check.decimal("insurance_value", &req.insurance_value),
            user_nick: check.text("user_nick", req.user_nick),
        };
        check.finish(order)
    }
}

/// The order references of a batch call.
fn order_ref(check: &mut Check, item: Item, order: proto::OrderRef) -> domain::OrderRef {
    domain::OrderRef {
        order_number: check.required(item.at("order_number"), order.order_number),
        warehouse_order_number: check.text(
            item.at("warehouse_order_number"),
            order.warehouse_order_number,
        ),
        reference_code: check.text(item.at("reference_code"), order.reference_code),
    }
}

impl TryFrom<proto::CancelOrdersRequest> for Batch<domain::OrderRef> {
    type Error = Violations;

    fn try_from(req: proto::CancelOrdersRequest) -> Result<Self, Violations> {
        batch(req.warehouse_code, "orders", req.orders, order_ref)
    }
}

impl TryFrom<proto::GetOrdersRequest> for Batch<domain::OrderRef> {
    type Error = Violations;

    fn try_from(req: proto::GetOrdersRequest) -> Result<Self, Violations> {
        batch(req.warehouse_code, "orders", req.orders, order_ref)
    }
}

impl TryFrom<proto::GetAsnsRequest> for Batch<domain::AsnRef> {
    type Error = Violations;

    fn try_from(req: proto::GetAsnsRequest) -> Result<Self, Violations> {
        batch(req.warehouse_code, "asns", req.asns, |check, item, asn| {
            domain::AsnRef {
                asn_number: check.required(item.at("asn_number"), asn.asn_number),
                reference_number: check.text(item.at("reference_number"), asn.reference_number),
                asn_type: check.text(item.at("type"), asn.r#type),
            }
        })
    }
}

impl TryFrom<proto::CancelAsnsRequest> for Batch<String> {
    type Error = Violations;

    fn try_from(req: proto::CancelAsnsRequest) -> Result<Self, Violations> {
        batch(
            req.warehouse_code,
            "asn_numbers",
            req.asn_numbers,
            |check, item, number| check.required(item, number),
        )
    }
}

/// The warehouse a ListChannels call is about (trimmed; empty: all).
pub fn channels_warehouse(req: proto::ListChannelsRequest) -> Result<String, Violations> {
    let mut check = Check::new();
    let warehouse_code = check.text("warehouse_code", req.warehouse_code);
    check.finish(warehouse_code.trim().to_owned())
}

impl TryFrom<proto::CreateAsnRequest> for domain::NewAsn {
    type Error = Violations;

    fn try_from(req: proto::CreateAsnRequest) -> Result<Self, Violations> {
        let mut check = Check::new();
        check.not_empty("items", &req.items, "at least one item is required");
        let items = check.each("items", req.items, |check, item, line| domain::AsnItem {
            sku: check.required(item.at("sku"), line.sku),
            name: check.text(item.at("name"), line.name),
            quantity: check.quantity(item.at("quantity"), line.quantity),
        });
        let boxes = check.each("boxes", req.boxes, |check, item, asn_box| domain::AsnBox {
            box_number: check.count(item.at("box_number"), i64::from(asn_box.box_number)),
            mark_code: check.text(item.at("mark_code"), asn_box.mark_code),
            quantity: check.count(item.at("quantity"), asn_box.quantity),
            sku: check.text(item.at("sku"), asn_box.sku),
            name: check.text(item.at("name"), asn_box.name),
            length: check.decimal(item.at("length"), &asn_box.length),
            width: check.decimal(item.at("width"), &asn_box.width),
            height: check.decimal(item.at("height"), &asn_box.height),
            length_unit: check.text(item.at("length_unit"), asn_box.length_unit),
        });
        let goods_type = check
            .enum_value::<proto::AsnGoodsType>("goods_type", req.goods_type)
            .filter(|kind| *kind != proto::AsnGoodsType::Unspecified)
            .map(|kind| kind as u8);
        let container_type = check
            .enum_value::<proto::ContainerType>("container_type", req.container_type)
            .filter(|kind| *kind != proto::ContainerType::Unspecified)
            .map(|kind| kind as u8);
        let asn = domain::NewAsn {
            asn_number: check.required("asn_number", req.asn_number),
            warehouse_code: check.required("warehouse_code", req.warehouse_code),
            items,
            custom_number: check.text("custom_number", req.custom_number),
            estimated_arrival_ms: check.millis("estimated_arrival", req.estimated_arrival),
            track_number: check.text("track_number", req.track_number),
            asn_type: check.text("type", req.r#type),
            order_number: check.text("order_number", req.order_number),
            online_order_id: check.text("online_order_id", req.online_order_id),
            sale_return_reason: check.long_text("sale_return_reason", req.sale_return_reason),
            boxes,
            goods_type,
            container_type,
            bulk_cargo_by_pallet: req.bulk_cargo_by_pallet,
            pallet_count: check.count("pallet_count", i64::from(req.pallet_count)),
            bulk_cargo_by_piece: req.bulk_cargo_by_piece,
            container_model: check.text("container_model", req.container_model),
        };
        check.finish(asn)
    }
}

impl TryFrom<proto::SyncInventoryRequest> for domain::InventoryQuery {
    type Error = Violations;

    fn try_from(req: proto::SyncInventoryRequest) -> Result<Self, Violations> {
        let mut check = Check::new();
        let page_size = match req.page_size {
            0 => DEFAULT_PAGE_SIZE,
            size @ 1..=MAX_PAGE_SIZE => size.unsigned_abs(),
            size => {
                check.fail(
                    "page_size",
                    format!(
                        "must be 1 to {MAX_PAGE_SIZE}, or 0 for {DEFAULT_PAGE_SIZE} (got {size})"
                    ),
                );
                DEFAULT_PAGE_SIZE
            }
        };
        // Qianyi pages each SKU on its own: the cap bounds the upstream calls.
        let skus = check.each_of_at_most("skus", req.skus, MAX_BATCH, |check, item, sku| {
            check.required(item, sku)
        });
        let query = domain::InventoryQuery {
            warehouse_code: check.required("warehouse_code", req.warehouse_code),
            page_size,
            skus,
            updated_since_ms: check.millis("updated_since", req.updated_since),
        };
        check.finish(query)
    }
}

impl TryFrom<proto::UpsertSkuRequest> for domain::SkuInfo {
    type Error = Violations;

    fn try_from(req: proto::UpsertSkuRequest) -> Result<Self, Violations> {
        let mut check = Check::new();
        let cd_price_method = match check
            .enum_value::<proto::CustomsPriceMethod>("cd_price_method", req.cd_price_method)
        {
            Some(proto::CustomsPriceMethod::Rate) => Some(domain::CustomsPriceMethod::Rate),
            Some(proto::CustomsPriceMethod::Constant) => Some(domain::CustomsPriceMethod::Constant),
            _ => None,
        };
        let currency_map = if req.currency_map.len() > MAX_CURRENCIES {
            check.fail(
                "currency_map",
                format!(
                    "at most {MAX_CURRENCIES} currencies (got {})",
                    req.currency_map.len()
                ),
            );
            Default::default()
        } else {
            req.currency_map
                .into_iter()
                .filter_map(|(currency, rate)| {
                    let currency = check.text("currency_map", currency);
                    // The key, cut, names the entry: it is the caller's text.
                    let field = format!("currency_map[{}]", quoted(&currency));
                    if currency.trim().is_empty() {
                        check.fail("currency_map", "a currency code is empty");
                    }
                    if rate.trim().is_empty() {
                        check.fail(field.as_str(), "required (a decimal string)");
                    }
                    check
                        .decimal(field.as_str(), &rate)
                        .map(|rate| (currency, rate))
                })
                .collect()
        };
        let sku = domain::SkuInfo {
            warehouse_code: check.text("warehouse_code", req.warehouse_code),
            sku: check.required("sku", req.sku),
            erp_sku: check.required("erp_sku", req.erp_sku),
            title: check.text("title", req.title),
            barcode: check.text("barcode", req.barcode),
            specifications: check.long_text("specifications", req.specifications),
            image_url: check.long_text("image_url", req.image_url),
            weight: check.decimal("weight", &req.weight),
            net_weight: check.decimal("net_weight", &req.net_weight),
            weight_unit: check.text("weight_unit", req.weight_unit),
            length: check.decimal("length", &req.length),
            width: check.decimal("width", &req.width),
            height: check.decimal("height", &req.height),
            dimension_unit: check.text("dimension_unit", req.dimension_unit),
            item_package: check.count("item_package", i64::from(req.item_package)),
            cd_price_method,
            english_customs_declaration_name: check.text(
                "english_customs_declaration_name",
                req.english_customs_declaration_name,
            ),
            chinese_customs_declaration_name: check.text(
                "chinese_customs_declaration_name",
                req.chinese_customs_declaration_name,
            ),
            brand: check.text("brand", req.brand),
            customs_code: check.text("customs_code", req.customs_code),
            wms_barcode: check.text("wms_barcode", req.wms_barcode),
            customs_declaration_price: check
                .decimal("customs_declaration_price", &req.customs_declaration_price),
            cd_price_maximum: check.decimal("cd_price_maximum", &req.cd_price_maximum),
            cd_price_rate: check.decimal("cd_price_rate", &req.cd_price_rate),
            purchase_cost: check.decimal("purchase_cost", &req.purchase_cost),
            purchase_cost_unit: check.text("purchase_cost_unit", req.purchase_cost_unit),
            currency_map,
        };
        check.finish(sku)
    }
}

impl From<domain::Warehouse> for proto::Warehouse {
    fn from(warehouse: domain::Warehouse) -> Self {
        Self {
            code: warehouse.code,
            name: warehouse.name,
        }
    }
}

impl From<domain::Channel> for proto::Channel {
    fn from(channel: domain::Channel) -> Self {
        Self {
            code: channel.code,
            name: channel.name,
            warehouse_code: channel.warehouse_code,
            carrier_name: channel.carrier_name,
        }
    }
}

impl From<domain::OrderStatus> for proto::OrderStatus {
    fn from(status: domain::OrderStatus) -> Self {
        match status {
            domain::OrderStatus::Unspecified => Self::Unspecified,
            domain::OrderStatus::Sending => Self::Sending,
            domain::OrderStatus::Success => Self::Success,
            domain::OrderStatus::Cancel => Self::Cancel,
            domain::OrderStatus::Failed => Self::Failed,
        }
    }
}

impl From<domain::OrderState> for proto::OrderInfo {
    fn from(order: domain::OrderState) -> Self {
        Self {
            order_number: order.order_number,
            wms_status: order.wms_status,
            status: proto::OrderStatus::from(order.status).into(),
            carrier_name: order.carrier_name,
            tracking_number: order.tracking_number,
            failed_reason: order.failed_reason,
            error_message: order.error_message,
        }
    }
}

impl From<domain::ItemOutcome> for proto::OrderCancelResult {
    fn from(outcome: domain::ItemOutcome) -> Self {
        Self {
            order_number: outcome.id,
            success: outcome.success,
            message: outcome.message,
        }
    }
}

impl From<domain::AsnStatus> for proto::AsnStatus {
    fn from(status: domain::AsnStatus) -> Self {
        match status {
            domain::AsnStatus::Unspecified => Self::Unspecified,
            domain::AsnStatus::New => Self::New,
            domain::AsnStatus::Deleted => Self::Deleted,
            domain::AsnStatus::Shipping => Self::Shipping,
            domain::AsnStatus::Receiving => Self::Receiving,
            domain::AsnStatus::Finished => Self::Finished,
            domain::AsnStatus::Closed => Self::Closed,
        }
    }
}

impl From<domain::AsnState> for proto::AsnInfo {
    fn from(asn: domain::AsnState) -> Self {
        Self {
            asn_number: asn.asn_number,
            wms_status: asn.wms_status,
            status: proto::AsnStatus::from(asn.status).into(),
            reference_number: asn.reference_number,
            finish_time: asn.finish_time,
            items: asn.items.into_iter().map(Into::into).collect(),
        }
    }
}

/// An ASN line's receipt, as GetAsns answers it and WatchAsnEvents pushes it.
impl From<domain::AsnReceipt> for proto::AsnItemReceipt {
    fn from(item: domain::AsnReceipt) -> Self {
        Self {
            sku: item.sku,
            name: item.name,
            estimated_quantity: item.estimated_quantity,
            received_quantity: item.received_quantity,
            good_quantity: item.good_quantity,
            bad_quantity: item.bad_quantity,
        }
    }
}

impl From<domain::AsnCancelOutcome> for proto::AsnCancelResult {
    fn from(outcome: domain::AsnCancelOutcome) -> Self {
        Self {
            asn_number: outcome.asn_number,
            success: outcome.success,
            message: outcome.message,
            operation: outcome.operation,
        }
    }
}

impl From<domain::InventoryPage> for proto::SyncInventoryResponse {
    fn from(page: domain::InventoryPage) -> Self {
        let clamp = |count: u32| i32::try_from(count).unwrap_or(i32::MAX);
        Self {
            page: clamp(page.page),
            page_count: clamp(page.page_count),
            is_last_page: page.is_last_page,
            items: page
                .items
                .into_iter()
                .map(|item| proto::InventoryItem {
                    sku: item.sku,
                    warehouse_code: item.warehouse_code,
                    sellable: item.sellable,
                    total: item.total,
                    onway: item.onway,
                    pending: item.pending,
                    unsellable: item.unsellable,
                    reserved: item.reserved,
                    used: item.used,
                })
                .collect(),
        }
    }
}
