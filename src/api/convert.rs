//! Conversions between the gRPC messages and the domain, in one place.
//! Requests are validated on the way in: every problem is reported as a
//! field violation with its path (`items[0].quantity`), and nothing invalid
//! reaches a warehouse.

use std::fmt;

use rust_decimal::Decimal;

use super::error::Violations;
use crate::{domain, proto};

/// Longest SKU, product code, title and barcode both protocols accept.
const MAX_TEXT_CHARS: usize = 255;
/// Most orders or ASNs in one batch call.
pub const MAX_BATCH: usize = 200;
/// Largest upstream inventory page.
pub const MAX_PAGE_SIZE: i32 = 1000;
/// Page size when the caller says 0.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// Digits with at most one `.` between digits, after an optional `-`: no
/// exponent, sign `+`, `_` or bare point, which `Decimal::from_str` would
/// quietly rewrite.
fn is_plain_decimal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && all_digits(fraction)
}

/// The path of a field inside a list (`items[3].sku`). It is formatted
/// only when a violation is reported: valid requests, the common case, build
/// no path strings.
#[derive(Clone, Copy)]
struct At<'a> {
    list: &'static str,
    index: usize,
    name: &'a str,
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}].{}", self.list, self.index, self.name)
    }
}

/// Anything naming a field: a `&str`, an [`At`], or `format_args!`.
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

    /// A required text field: present and not blank.
    fn required(&mut self, field: impl Field, value: String) -> String {
        if value.trim().is_empty() {
            self.fail(field, "required");
        }
        value
    }

    /// A required text field of at most [`MAX_TEXT_CHARS`] characters.
    fn required_short(&mut self, field: impl Field, value: String) -> String {
        let value = self.required(field, value);
        self.short(field, value)
    }

    fn short(&mut self, field: impl Field, value: String) -> String {
        if value.chars().count() > MAX_TEXT_CHARS {
            self.fail(field, format!("at most {MAX_TEXT_CHARS} characters"));
        }
        value
    }

    /// An optional non-negative decimal string; "" means absent. Only plain
    /// decimals (`12.50`, `3`) are taken, and only when they can be sent
    /// exactly: the warehouse gets the very digits the caller wrote.
    fn decimal(&mut self, field: impl Field, value: &str) -> Option<Decimal> {
        let text = value.trim();
        if text.is_empty() {
            return None;
        }
        if !is_plain_decimal(text) {
            self.fail(
                field,
                format!("{value:?} is not a decimal number like \"12.50\""),
            );
            return None;
        }
        // `from_str_exact` refuses what `from_str` would round.
        match Decimal::from_str_exact(text) {
            Ok(number) if number.is_sign_negative() && !number.is_zero() => {
                self.fail(field, "must not be negative");
                None
            }
            Ok(number) => Some(number),
            Err(_) => {
                self.fail(
                    field,
                    format!("{value:?} has more digits than can be sent exactly (at most 28)"),
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

    /// A quantity: greater than zero and within range.
    fn quantity(&mut self, field: impl Field, value: i64) -> u32 {
        match u32::try_from(value) {
            Ok(quantity) if quantity > 0 => quantity,
            _ => {
                self.fail(field, format!("must be greater than 0 (got {value})"));
                0
            }
        }
    }

    /// An optional count: 0 means absent, negative is an error.
    fn count(&mut self, field: impl Field, value: i64) -> Option<u32> {
        match u32::try_from(value) {
            Ok(0) => None,
            Ok(count) => Some(count),
            Err(_) => {
                self.fail(field, format!("must not be negative (got {value})"));
                None
            }
        }
    }

    fn millis(&mut self, field: impl Field, value: Option<prost_types::Timestamp>) -> Option<i64> {
        let value = value?;
        if !(0..1_000_000_000).contains(&value.nanos) {
            self.fail(field, "nanos must be within 0..1e9");
            return None;
        }
        match value.seconds.checked_mul(1000) {
            Some(ms) => Some(ms + i64::from(value.nanos / 1_000_000)),
            None => {
                self.fail(field, "out of range");
                None
            }
        }
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

    fn finish<T>(self, value: T) -> Result<T, Violations> {
        self.violations.into_result(value)
    }
}

impl TryFrom<proto::CreateOrderRequest> for domain::NewOrder {
    type Error = Violations;

    fn try_from(req: proto::CreateOrderRequest) -> Result<Self, Violations> {
        let mut check = Check::new();
        let package = match check.enum_value::<proto::PackageType>("package_type", req.package_type)
        {
            Some(proto::PackageType::SelfShipped) => {
                if req.tracking_number.trim().is_empty() {
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
                    tracking_number: req.tracking_number.clone(),
                    label_pdf: req.label_data,
                }
            }
            _ => domain::Package::Normal,
        };
        // Checked even when COD is off: a malformed amount is a mistake
        // either way, and silently dropping it would hide it.
        let cod_amount = check.decimal("cod_pay_amount", &req.cod_pay_amount);
        let cod = if req.cod_enabled {
            if req.cod_pay_amount.trim().is_empty() {
                check.fail("cod_pay_amount", "required when cod_enabled is true");
            }
            if req.cod_currency.trim().is_empty() {
                check.fail("cod_currency", "required when cod_enabled is true");
            }
            Some(domain::Cod {
                amount: cod_amount.unwrap_or_default(),
                currency: req.cod_currency,
            })
        } else {
            None
        };
        let receiver = match req.receiver {
            Some(receiver) => domain::Receiver {
                name: check.required("receiver.name", receiver.name),
                phone: check.required("receiver.phone", receiver.phone),
                email: receiver.email,
                country: check.required("receiver.country", receiver.country),
                state: check.required("receiver.state", receiver.state),
                city: check.required("receiver.city", receiver.city),
                district: receiver.district,
                address1: check.required("receiver.address1", receiver.address1),
                address2: receiver.address2,
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
        if req.items.is_empty() {
            check.fail("items", "at least one item is required");
        }
        let items = req
            .items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                let at = |name| At {
                    list: "items",
                    index,
                    name,
                };
                domain::OrderItem {
                    sku: check.required_short(at("sku"), item.sku),
                    erp_sku: check.required_short(at("erp_sku"), item.erp_sku),
                    name: check.required(at("name"), item.name),
                    quantity: check.quantity(at("quantity"), item.quantity),
                    amount: check.required_decimal(at("amount"), &item.amount),
                    shipping_price: check.decimal(at("shipping_price"), &item.shipping_price),
                    hs_code: item.hs_code,
                    chinese_customs_declaration_name: item.chinese_customs_declaration_name,
                    english_customs_declaration_name: item.english_customs_declaration_name,
                }
            })
            .collect();
        let order = domain::NewOrder {
            order_number: check.required_short("order_number", req.order_number),
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
            online_shop_id: req.online_shop_id,
            house_number: req.house_number,
            total_price: check.decimal("total_price", &req.total_price),
            currency: req.currency,
            pay_time_ms: check.millis("pay_time", req.pay_time),
            insurance: req.insurance,
            insurance_value: check.decimal("insurance_value", &req.insurance_value),
            user_nick: req.user_nick,
        };
        check.finish(order)
    }
}

/// Validates the order references of a batch call.
pub fn order_refs(orders: Vec<proto::OrderRef>) -> Result<Vec<domain::OrderRef>, Violations> {
    batch("orders", orders, |check, index, order| domain::OrderRef {
        order_number: check.required(
            format_args!("orders[{index}].order_number"),
            order.order_number,
        ),
        warehouse_order_number: order.warehouse_order_number,
        reference_code: order.reference_code,
    })
}

/// The items of a batch call under `field`, each checked and converted by
/// `convert`: one to [`MAX_BATCH`] of them.
fn batch<T, R>(
    field: &str,
    items: Vec<T>,
    mut convert: impl FnMut(&mut Check, usize, T) -> R,
) -> Result<Vec<R>, Violations> {
    let mut check = Check::new();
    let len = items.len();
    if len == 0 {
        check.fail(field, "at least one is required");
    } else if len > MAX_BATCH {
        check.fail(field, format!("at most {MAX_BATCH} per call (got {len})"));
    }
    let converted = items
        .into_iter()
        .enumerate()
        .map(|(index, item)| convert(&mut check, index, item))
        .collect();
    check.finish(converted)
}

impl TryFrom<proto::CreateAsnRequest> for domain::NewAsn {
    type Error = Violations;

    fn try_from(req: proto::CreateAsnRequest) -> Result<Self, Violations> {
        let mut check = Check::new();
        if req.items.is_empty() {
            check.fail("items", "at least one item is required");
        }
        let items = req
            .items
            .into_iter()
            .enumerate()
            .map(|(index, item)| domain::AsnItem {
                sku: check.required_short(format_args!("items[{index}].sku"), item.sku),
                name: item.name,
                quantity: check.quantity(format_args!("items[{index}].quantity"), item.quantity),
            })
            .collect();
        let boxes = req
            .boxes
            .into_iter()
            .enumerate()
            .map(|(index, asn_box)| {
                let at = |name| At {
                    list: "boxes",
                    index,
                    name,
                };
                domain::AsnBox {
                    box_number: check.count(at("box_number"), i64::from(asn_box.box_number)),
                    mark_code: asn_box.mark_code,
                    quantity: check.count(at("quantity"), asn_box.quantity),
                    sku: asn_box.sku,
                    name: asn_box.name,
                    length: check.decimal(at("length"), &asn_box.length),
                    width: check.decimal(at("width"), &asn_box.width),
                    height: check.decimal(at("height"), &asn_box.height),
                    length_unit: asn_box.length_unit,
                }
            })
            .collect();
        let goods_type = check
            .enum_value::<proto::AsnGoodsType>("goods_type", req.goods_type)
            .filter(|kind| *kind != proto::AsnGoodsType::Unspecified)
            .map(|kind| kind as u8);
        let container_type = check
            .enum_value::<proto::ContainerType>("container_type", req.container_type)
            .filter(|kind| *kind != proto::ContainerType::Unspecified)
            .map(|kind| kind as u8);
        let asn = domain::NewAsn {
            asn_number: check.required_short("asn_number", req.asn_number),
            warehouse_code: check.required("warehouse_code", req.warehouse_code),
            items,
            custom_number: req.custom_number,
            estimated_arrival_ms: check.millis("estimated_arrival", req.estimated_arrival),
            track_number: req.track_number,
            asn_type: req.r#type,
            order_number: req.order_number,
            online_order_id: req.online_order_id,
            sale_return_reason: req.sale_return_reason,
            boxes,
            goods_type,
            container_type,
            bulk_cargo_by_pallet: req.bulk_cargo_by_pallet,
            pallet_count: check.count("pallet_count", i64::from(req.pallet_count)),
            bulk_cargo_by_piece: req.bulk_cargo_by_piece,
            container_model: req.container_model,
        };
        check.finish(asn)
    }
}

/// Validates the ASN references of GetAsns.
pub fn asn_refs(asns: Vec<proto::AsnRef>) -> Result<Vec<domain::AsnRef>, Violations> {
    batch("asns", asns, |check, index, asn| domain::AsnRef {
        asn_number: check.required(format_args!("asns[{index}].asn_number"), asn.asn_number),
        reference_number: asn.reference_number,
        asn_type: asn.r#type,
    })
}

/// Validates the ASN numbers of CancelAsns.
pub fn asn_numbers(numbers: Vec<String>) -> Result<Vec<String>, Violations> {
    batch("asn_numbers", numbers, |check, index, number| {
        check.required(format_args!("asn_numbers[{index}]"), number)
    })
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
        let skus = req
            .skus
            .into_iter()
            .enumerate()
            .map(|(index, sku)| check.required(format_args!("skus[{index}]"), sku))
            .collect();
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
        let currency_map = req
            .currency_map
            .into_iter()
            .filter_map(|(currency, rate)| {
                let field = format!("currency_map[{currency}]");
                if currency.trim().is_empty() {
                    check.fail("currency_map", "a currency code is empty");
                }
                if rate.trim().is_empty() {
                    check.fail(field.as_str(), "required (a decimal string)");
                }
                check.decimal(&field, &rate).map(|rate| (currency, rate))
            })
            .collect();
        let sku = domain::SkuInfo {
            warehouse_code: req.warehouse_code,
            sku: check.required_short("sku", req.sku),
            erp_sku: check.required_short("erp_sku", req.erp_sku),
            title: check.short("title", req.title),
            barcode: check.short("barcode", req.barcode),
            specifications: req.specifications,
            image_url: req.image_url,
            weight: check.decimal("weight", &req.weight),
            net_weight: check.decimal("net_weight", &req.net_weight),
            weight_unit: req.weight_unit,
            length: check.decimal("length", &req.length),
            width: check.decimal("width", &req.width),
            height: check.decimal("height", &req.height),
            dimension_unit: req.dimension_unit,
            item_package: check.count("item_package", i64::from(req.item_package)),
            cd_price_method,
            english_customs_declaration_name: req.english_customs_declaration_name,
            chinese_customs_declaration_name: req.chinese_customs_declaration_name,
            brand: req.brand,
            customs_code: req.customs_code,
            wms_barcode: req.wms_barcode,
            customs_declaration_price: check
                .decimal("customs_declaration_price", &req.customs_declaration_price),
            cd_price_maximum: check.decimal("cd_price_maximum", &req.cd_price_maximum),
            cd_price_rate: check.decimal("cd_price_rate", &req.cd_price_rate),
            purchase_cost: check.decimal("purchase_cost", &req.purchase_cost),
            purchase_cost_unit: req.purchase_cost_unit,
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
            items: asn
                .items
                .into_iter()
                .map(|item| proto::AsnItemReceipt {
                    sku: item.sku,
                    name: item.name,
                    estimated_quantity: item.estimated_quantity,
                    received_quantity: item.received_quantity,
                    good_quantity: item.good_quantity,
                    bad_quantity: item.bad_quantity,
                })
                .collect(),
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
