//! The warehouse domain: validated requests and the answers every backend
//! gives, independent of gRPC and of either wire protocol.
//!
//! Conventions: an empty `String` means "not given" for optional text; money
//! and dimensions are [`Decimal`]; times are Unix epoch milliseconds, the
//! unit both protocols use.

mod backend;
mod context;
pub mod fingerprint;

pub use backend::{InventoryStream, WarehouseBackend};
pub use context::{CallContext, DEFAULT_CALL_TIMEOUT};

use std::collections::BTreeMap;

use rust_decimal::Decimal;

/// A shipping warehouse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warehouse {
    pub code: String,
    pub name: String,
}

/// A logistics channel of a warehouse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub code: String,
    pub name: String,
    pub warehouse_code: String,
    pub carrier_name: String,
}

/// How a parcel gets its label.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub enum Package {
    /// The warehouse buys the label on the chosen channel.
    Normal,
    /// The caller supplies the tracking number and the label PDF.
    SelfShipped {
        tracking_number: String,
        #[serde(serialize_with = "fingerprint::digest")]
        label_pdf: Vec<u8>,
    },
}

impl std::fmt::Debug for Package {
    // A label PDF is large and says nothing useful in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Package::Normal => f.write_str("Normal"),
            Package::SelfShipped {
                tracking_number,
                label_pdf,
            } => f
                .debug_struct("SelfShipped")
                .field("tracking_number", tracking_number)
                .field("label_pdf_bytes", &label_pdf.len())
                .finish(),
        }
    }
}

/// Cash on delivery.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cod {
    #[serde(serialize_with = "fingerprint::decimal")]
    pub amount: Decimal,
    pub currency: String,
}

/// A validated new outbound order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NewOrder {
    pub order_number: String,
    pub online_order_id: String,
    pub shop_name: String,
    pub warehouse_code: String,
    pub logistics_code: String,
    pub platform: String,
    #[serde(serialize_with = "fingerprint::decimal")]
    pub freight: Decimal,
    pub receiver: Receiver,
    pub items: Vec<OrderItem>,
    pub package: Package,
    pub cod: Option<Cod>,
    pub order_created_at_ms: Option<i64>,
    pub delivery_time_ms: Option<i64>,
    pub online_shop_id: String,
    pub house_number: String,
    #[serde(serialize_with = "fingerprint::optional_decimal")]
    pub total_price: Option<Decimal>,
    pub currency: String,
    pub pay_time_ms: Option<i64>,
    pub insurance: bool,
    #[serde(serialize_with = "fingerprint::optional_decimal")]
    pub insurance_value: Option<Decimal>,
    pub user_nick: String,
}

/// The recipient of an order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Receiver {
    pub name: String,
    pub phone: String,
    pub email: String,
    pub country: String,
    pub state: String,
    pub city: String,
    pub district: String,
    pub address1: String,
    pub address2: String,
    pub postal_code: String,
}

/// One order line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrderItem {
    pub sku: String,
    pub erp_sku: String,
    pub name: String,
    pub quantity: u32,
    #[serde(serialize_with = "fingerprint::decimal")]
    pub amount: Decimal,
    #[serde(serialize_with = "fingerprint::optional_decimal")]
    pub shipping_price: Option<Decimal>,
    pub hs_code: String,
    pub chinese_customs_declaration_name: String,
    pub english_customs_declaration_name: String,
}

/// The warehouse accepted an order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CreatedOrder {
    pub order_number: String,
    pub warehouse_order_number: String,
}

/// Identifies one order in a warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderRef {
    pub order_number: String,
    pub warehouse_order_number: String,
    pub reference_code: String,
}

/// The outcome of one item of a batch write (cancel order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemOutcome {
    /// The order number this outcome is about.
    pub id: String,
    pub success: bool,
    /// The warehouse's words when it failed.
    pub message: String,
}

/// Order states both protocols share; the warehouse's raw status is kept
/// beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum OrderStatus {
    Unspecified,
    Sending,
    Success,
    Cancel,
    Failed,
}

impl OrderStatus {
    /// Maps the protocol's `status` field (`SENDING`, `SUCCESS`, `CANCEL`,
    /// `FAILED`) and the words the Qianyi spec maps `wmsStatus` from
    /// ("Outbound in progress", "Shipped", "Outbound completed",
    /// "Cancelled", "Exception" …), tolerating case, spaces, `_` and `-`.
    pub fn from_wire(status: &str) -> Self {
        // "outbound_in-progress " reads as "OUTBOUND IN PROGRESS".
        let mut words = String::with_capacity(status.len());
        for word in status
            .split(|c: char| c.is_whitespace() || c == '_' || c == '-')
            .filter(|word| !word.is_empty())
        {
            if !words.is_empty() {
                words.push(' ');
            }
            words.push_str(word);
        }
        words.make_ascii_uppercase();
        match words.as_str() {
            "SENDING" | "OUTBOUND IN PROGRESS" => Self::Sending,
            // qlink's table: "SUCCESS (shipped, outbound)", "FAILED (failed
            // or abnormal)".
            "SUCCESS" | "SHIPPED" | "OUTBOUND" | "OUTBOUND COMPLETED" => Self::Success,
            "CANCEL" | "CANCELLED" | "CANCELED" => Self::Cancel,
            "FAILED" | "FAIL" | "FAILURE" | "ERROR" | "EXCEPTION" | "ABNORMAL" => Self::Failed,
            _ => Self::Unspecified,
        }
    }

    /// The order's state from the protocol's `status`, or, when that is
    /// empty or unknown, from the warehouse's own `wmsStatus`: the spec has
    /// the one mapped from the other, and warehouses fill in only one.
    pub fn from_status_or_wms(status: &str, wms_status: &str) -> Self {
        match Self::from_wire(status) {
            Self::Unspecified => Self::from_wire(wms_status),
            known => known,
        }
    }

    /// The protocol's spelling, as the push webhooks and getOrder answers use it.
    pub fn as_wire(self) -> &'static str {
        match self {
            Self::Unspecified => "",
            Self::Sending => "SENDING",
            Self::Success => "SUCCESS",
            Self::Cancel => "CANCEL",
            Self::Failed => "FAILED",
        }
    }
}

/// What the warehouse knows of one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderState {
    pub order_number: String,
    pub wms_status: String,
    pub status: OrderStatus,
    pub carrier_name: String,
    pub tracking_number: String,
    pub failed_reason: String,
    /// Set when the warehouse could not report this order (its own words).
    pub error_message: String,
}

impl OrderState {
    /// An order the warehouse could not report.
    pub fn unreported(order_number: &str, message: impl Into<String>) -> Self {
        Self {
            order_number: order_number.to_owned(),
            wms_status: String::new(),
            status: OrderStatus::Unspecified,
            carrier_name: String::new(),
            tracking_number: String::new(),
            failed_reason: String::new(),
            error_message: message.into(),
        }
    }
}

/// A validated new ASN (inbound order).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct NewAsn {
    pub asn_number: String,
    pub warehouse_code: String,
    pub items: Vec<AsnItem>,
    pub custom_number: String,
    pub estimated_arrival_ms: Option<i64>,
    pub track_number: String,
    pub asn_type: String,
    pub order_number: String,
    pub online_order_id: String,
    pub sale_return_reason: String,
    pub boxes: Vec<AsnBox>,
    /// `incomingOrderGoodsType`: 1 FCL, 2 LCL, 3 returned goods.
    pub goods_type: Option<u8>,
    /// `containerType`: 1 20GP, 2 40GP, 3 40HQ, 4 45GP, 5 45HQ.
    pub container_type: Option<u8>,
    pub bulk_cargo_by_pallet: bool,
    pub pallet_count: Option<u32>,
    pub bulk_cargo_by_piece: bool,
    pub container_model: String,
}

/// One announced product line of an ASN.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AsnItem {
    pub sku: String,
    pub name: String,
    pub quantity: u32,
}

/// One packing line of an ASN (`asnMarkSku`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AsnBox {
    pub box_number: Option<u32>,
    pub mark_code: String,
    pub quantity: Option<u32>,
    pub sku: String,
    pub name: String,
    #[serde(serialize_with = "fingerprint::optional_decimal")]
    pub length: Option<Decimal>,
    #[serde(serialize_with = "fingerprint::optional_decimal")]
    pub width: Option<Decimal>,
    #[serde(serialize_with = "fingerprint::optional_decimal")]
    pub height: Option<Decimal>,
    pub length_unit: String,
}

/// The warehouse accepted an ASN.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CreatedAsn {
    pub asn_number: String,
    pub wms_asn_number: String,
}

/// Identifies one ASN.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AsnRef {
    pub asn_number: String,
    pub reference_number: String,
    pub asn_type: String,
}

/// ASN states of the protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum AsnStatus {
    Unspecified,
    New,
    Deleted,
    Shipping,
    Receiving,
    Finished,
    Closed,
}

impl AsnStatus {
    /// Maps the protocol's `wmsStatus` ASN enum, tolerating case and spaces.
    pub fn from_wire(status: &str) -> Self {
        match status.trim().to_ascii_uppercase().as_str() {
            "NEW" => Self::New,
            "DELETED" => Self::Deleted,
            "SHIPPING" => Self::Shipping,
            "RECEIVING" => Self::Receiving,
            "FINISHED" => Self::Finished,
            "CLOSED" => Self::Closed,
            _ => Self::Unspecified,
        }
    }

    /// The protocol's spelling.
    pub fn as_wire(self) -> &'static str {
        match self {
            Self::Unspecified => "",
            Self::New => "NEW",
            Self::Deleted => "DELETED",
            Self::Shipping => "SHIPPING",
            Self::Receiving => "RECEIVING",
            Self::Finished => "FINISHED",
            Self::Closed => "CLOSED",
        }
    }
}

/// What the warehouse knows of one ASN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsnState {
    pub asn_number: String,
    pub wms_status: String,
    pub status: AsnStatus,
    pub reference_number: String,
    pub finish_time: String,
    pub items: Vec<AsnReceipt>,
}

/// Received quantities of one product of an ASN.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AsnReceipt {
    pub sku: String,
    pub name: String,
    pub estimated_quantity: i64,
    pub received_quantity: i64,
    pub good_quantity: i64,
    pub bad_quantity: i64,
}

/// The outcome of cancelling one ASN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsnCancelOutcome {
    pub asn_number: String,
    pub success: bool,
    pub message: String,
    pub operation: String,
}

/// Which inventory to page through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryQuery {
    pub warehouse_code: String,
    pub page_size: u32,
    pub skus: Vec<String>,
    pub updated_since_ms: Option<i64>,
}

/// One upstream page of inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryPage {
    pub page: u32,
    /// 0 when the warehouse does not say.
    pub page_count: u32,
    pub is_last_page: bool,
    pub items: Vec<InventoryItem>,
}

/// Stock of one product in one warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InventoryItem {
    pub sku: String,
    pub warehouse_code: String,
    pub sellable: i64,
    pub total: i64,
    pub onway: i64,
    pub pending: i64,
    pub unsellable: i64,
    pub reserved: i64,
    pub used: i64,
}

/// How the customs declared value is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomsPriceMethod {
    Rate,
    Constant,
}

impl CustomsPriceMethod {
    /// The protocol's spelling.
    pub fn as_wire(self) -> &'static str {
        match self {
            Self::Rate => "RATE",
            Self::Constant => "CONSTANT",
        }
    }
}

/// A validated product to create or update in a warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SkuInfo {
    pub warehouse_code: String,
    pub sku: String,
    pub erp_sku: String,
    pub title: String,
    pub barcode: String,
    pub specifications: String,
    pub image_url: String,
    pub weight: Option<Decimal>,
    pub net_weight: Option<Decimal>,
    pub weight_unit: String,
    pub length: Option<Decimal>,
    pub width: Option<Decimal>,
    pub height: Option<Decimal>,
    pub dimension_unit: String,
    pub item_package: Option<u32>,
    pub cd_price_method: Option<CustomsPriceMethod>,
    pub english_customs_declaration_name: String,
    pub chinese_customs_declaration_name: String,
    pub brand: String,
    pub customs_code: String,
    pub wms_barcode: String,
    pub customs_declaration_price: Option<Decimal>,
    pub cd_price_maximum: Option<Decimal>,
    pub cd_price_rate: Option<Decimal>,
    pub purchase_cost: Option<Decimal>,
    pub purchase_cost_unit: String,
    pub currency_map: BTreeMap<String, Decimal>,
}

/// The warehouse accepted a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuUpserted {
    pub sku: String,
    pub operation: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_status_reads_the_specs_words_for_each_state() {
        // The spec's words for `status`, and its mapping of `wmsStatus`:
        // "SENDING (Outbound in progress), SUCCESS (Shipped/Outbound
        // completed), CANCEL (Cancelled), FAILED (Failed or Exception)".
        let cases = [
            ("SENDING", OrderStatus::Sending),
            ("Outbound in progress", OrderStatus::Sending),
            ("OUTBOUND_IN_PROGRESS", OrderStatus::Sending),
            ("SUCCESS", OrderStatus::Success),
            ("Shipped", OrderStatus::Success),
            ("Outbound completed", OrderStatus::Success),
            (" outbound-completed ", OrderStatus::Success),
            ("CANCEL", OrderStatus::Cancel),
            ("Cancelled", OrderStatus::Cancel),
            ("FAILED", OrderStatus::Failed),
            ("Failure", OrderStatus::Failed),
            ("Exception", OrderStatus::Failed),
            ("abnormal", OrderStatus::Failed),
            ("Outbound", OrderStatus::Success),
            ("error", OrderStatus::Failed),
            ("", OrderStatus::Unspecified),
            ("picking", OrderStatus::Unspecified),
        ];
        for (words, status) in cases {
            assert_eq!(OrderStatus::from_wire(words), status, "{words:?}");
        }
    }

    #[test]
    fn order_status_falls_back_to_the_wms_status() {
        let read = OrderStatus::from_status_or_wms;
        // `status` is the protocol's own field: it wins when it is known.
        assert_eq!(read("SENDING", "error"), OrderStatus::Sending);
        assert_eq!(read("", "Shipped"), OrderStatus::Success);
        assert_eq!(read("PENDING", "Exception"), OrderStatus::Failed);
        assert_eq!(read("", ""), OrderStatus::Unspecified);
        assert_eq!(read("", "picking"), OrderStatus::Unspecified);
    }
}
