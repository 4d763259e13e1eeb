//! What both protocols' answers share: the one [`rejected`] verdict, the
//! envelope's own verdict, and the rows both report (warehouses, channels,
//! stock, ASNs, order states), read tolerantly. Each protocol's
//! `answers.rs` finds the rows in its answers and decides its verdicts.
//!
//! Rows are read straight into the domain types with serde's remote derive,
//! the wire names beside the fields they fill; a field may be absent, and
//! numbers and strings stand in for each other.

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use warehouse_protocol::{
    Envelope, Malformed,
    tolerant::{de_i64, de_list, de_opt_bool, de_string, from_value},
};

use super::UpstreamErrorKind;
use crate::domain::{
    AsnReceipt, AsnState, AsnStatus, Channel, InventoryItem, OrderState, OrderStatus, Warehouse,
};

/// What reading an answer gives: the domain result, or why there is none.
pub(super) type Answer<T> = Result<T, UpstreamErrorKind>;

impl From<Malformed> for UpstreamErrorKind {
    fn from(malformed: Malformed) -> Self {
        Self::Malformed(malformed.0)
    }
}

/// A refusal: the first of `words` that says something (the last one is
/// what to say when the warehouse did not), and the first `codes` given.
pub(super) fn rejected(words: &[&str], codes: &[&str]) -> UpstreamErrorKind {
    let first = |texts: &[&str]| {
        texts
            .iter()
            .map(|text| text.trim())
            .find(|text| !text.is_empty())
            .unwrap_or_default()
            .to_owned()
    };
    UpstreamErrorKind::Rejected {
        message: first(words),
        code: first(codes),
    }
}

/// Said when `success: false` comes without words.
pub(super) const SILENT_REFUSAL: &str = "the warehouse answered success=false without a message";

/// The envelope's own verdict: `success: false` is a rejection in the
/// warehouse's words.
pub(super) fn accepted(envelope: &Envelope) -> Result<(), UpstreamErrorKind> {
    if envelope.success {
        Ok(())
    } else {
        Err(rejected(
            &[&envelope.message, SILENT_REFUSAL],
            &[&envelope.code],
        ))
    }
}

/// Reads one row with `read`, naming `what` on failure.
pub(super) fn row<'v, T, E: std::fmt::Display>(
    value: &'v Value,
    what: &str,
    read: impl FnOnce(&'v Value) -> Result<T, E>,
) -> Result<T, UpstreamErrorKind> {
    read(value).map_err(|err| UpstreamErrorKind::Malformed(format!("{what}: {err}")))
}

/// `warehouseList` items.
#[derive(Deserialize)]
#[serde(remote = "Warehouse")]
pub(super) struct WarehouseRow {
    #[serde(
        rename = "warehouseCode",
        alias = "code",
        default,
        deserialize_with = "de_string"
    )]
    code: String,
    #[serde(
        rename = "warehouseName",
        alias = "name",
        default,
        deserialize_with = "de_string"
    )]
    name: String,
}

/// `channelList` items; a channel without a warehouse code belongs to the
/// warehouse asked about.
pub(super) fn channel(
    value: &Value,
    requested_warehouse: &str,
) -> Result<Channel, UpstreamErrorKind> {
    let mut channel = row(value, "channel", ChannelRow::deserialize)?;
    if channel.warehouse_code.is_empty() {
        requested_warehouse.clone_into(&mut channel.warehouse_code);
    }
    Ok(channel)
}

#[derive(Deserialize)]
#[serde(remote = "Channel", rename_all = "camelCase")]
struct ChannelRow {
    #[serde(
        rename = "channelCode",
        alias = "code",
        default,
        deserialize_with = "de_string"
    )]
    code: String,
    #[serde(
        rename = "channelName",
        alias = "name",
        default,
        deserialize_with = "de_string"
    )]
    name: String,
    #[serde(default, deserialize_with = "de_string")]
    warehouse_code: String,
    #[serde(default, deserialize_with = "de_string")]
    carrier_name: String,
}

/// One row of stock, quantities as integers or numeric strings.
#[derive(Deserialize)]
#[serde(remote = "InventoryItem", default = "InventoryItem::default")]
pub(super) struct InventoryRow {
    #[serde(rename = "warehouseSku", alias = "sku", deserialize_with = "de_string")]
    sku: String,
    #[serde(rename = "warehouseCode", deserialize_with = "de_string")]
    warehouse_code: String,
    #[serde(rename = "sellableQuantity", deserialize_with = "de_i64")]
    sellable: i64,
    #[serde(rename = "totalQuantity", deserialize_with = "de_i64")]
    total: i64,
    #[serde(rename = "onwayQuantity", deserialize_with = "de_i64")]
    onway: i64,
    #[serde(rename = "pendingQuantity", deserialize_with = "de_i64")]
    pending: i64,
    #[serde(rename = "unsellableQuantity", deserialize_with = "de_i64")]
    unsellable: i64,
    #[serde(rename = "reservedQuantity", deserialize_with = "de_i64")]
    reserved: i64,
    #[serde(rename = "useQuantity", deserialize_with = "de_i64")]
    used: i64,
}

/// One `asnList` entry; its status is read from `wmsStatus`.
pub(super) fn asn_state(value: &Value) -> Result<AsnState, UpstreamErrorKind> {
    let mut state = row(value, "ASN", AsnRow::deserialize)?;
    state.status = AsnStatus::from_wire(&state.wms_status);
    Ok(state)
}

#[derive(Deserialize)]
#[serde(remote = "AsnState", rename_all = "camelCase")]
struct AsnRow {
    #[serde(default, deserialize_with = "de_string")]
    asn_number: String,
    #[serde(default, deserialize_with = "de_string")]
    wms_status: String,
    #[serde(skip, default = "unspecified")]
    status: AsnStatus,
    #[serde(default, deserialize_with = "de_string")]
    reference_number: String,
    #[serde(default, deserialize_with = "de_string")]
    finish_time: String,
    #[serde(rename = "skuList", default, deserialize_with = "receipts")]
    items: Vec<AsnReceipt>,
}

fn unspecified() -> AsnStatus {
    AsnStatus::Unspecified
}

/// `skuList`: a list, one object or `null`.
fn receipts<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<AsnReceipt>, D::Error> {
    #[derive(Deserialize)]
    struct Receipt(#[serde(with = "ReceiptRow")] AsnReceipt);
    let receipts: Vec<Receipt> = de_list(deserializer)?;
    Ok(receipts.into_iter().map(|receipt| receipt.0).collect())
}

#[derive(Deserialize)]
#[serde(remote = "AsnReceipt", rename_all = "camelCase")]
struct ReceiptRow {
    #[serde(default, deserialize_with = "de_string")]
    sku: String,
    #[serde(default, deserialize_with = "de_string")]
    name: String,
    #[serde(default, deserialize_with = "de_i64")]
    estimated_quantity: i64,
    #[serde(default, deserialize_with = "de_i64")]
    received_quantity: i64,
    #[serde(default, deserialize_with = "de_i64")]
    good_quantity: i64,
    #[serde(default, deserialize_with = "de_i64")]
    bad_quantity: i64,
}

/// What a warehouse says about one item of a call: a create, an upsert, a
/// cancel (qlink's `result` items, Qianyi's `results` entries).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct ItemRow {
    #[serde(deserialize_with = "de_string")]
    pub order_number: String,
    #[serde(deserialize_with = "de_string")]
    pub warehouse_order_number: String,
    #[serde(deserialize_with = "de_string")]
    pub asn_number: String,
    #[serde(deserialize_with = "de_string")]
    pub wms_asn_number: String,
    #[serde(deserialize_with = "de_string")]
    pub sku: String,
    #[serde(deserialize_with = "de_string")]
    pub operation: String,
    /// `None` when absent, `null` or "": the item then counts as accepted
    /// unless it carries words saying otherwise.
    #[serde(deserialize_with = "de_opt_bool")]
    pub success: Option<bool>,
    #[serde(deserialize_with = "de_string")]
    pub info: String,
    #[serde(deserialize_with = "de_string")]
    pub error_msg: String,
    #[serde(deserialize_with = "de_string")]
    pub code: String,
}

impl ItemRow {
    pub fn read(value: &Value) -> Result<Self, UpstreamErrorKind> {
        Ok(from_value(value, "result item")?)
    }

    /// The warehouse's words about this item, `info` first.
    pub fn words(&self) -> &str {
        if self.info.is_empty() {
            &self.error_msg
        } else {
            &self.info
        }
    }

    /// `success` as said, else failed exactly when there are words.
    pub fn failed(&self) -> bool {
        !self.success.unwrap_or(self.words().is_empty())
    }
}

/// What a warehouse reports of one order. getOrder's names come first,
/// then the pushes' (`carrier`, `trackNumber`): some warehouses answer with
/// those, or with both (so these are not serde aliases, which refuse an
/// answer holding both).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct OrderRow {
    #[serde(deserialize_with = "de_string")]
    pub order_number: String,
    #[serde(deserialize_with = "de_string")]
    wms_status: String,
    #[serde(deserialize_with = "de_string")]
    status: String,
    #[serde(deserialize_with = "de_string")]
    carrier_name: String,
    #[serde(deserialize_with = "de_string")]
    carrier: String,
    #[serde(deserialize_with = "de_string")]
    tracking_number: String,
    #[serde(deserialize_with = "de_string")]
    track_number: String,
    #[serde(deserialize_with = "de_string")]
    failed_reason: String,
    /// qlink's per-order verdict, when it gives one.
    #[serde(deserialize_with = "de_opt_bool")]
    pub success: Option<bool>,
    #[serde(deserialize_with = "de_string")]
    pub info: String,
}

impl OrderRow {
    /// The state of the order asked about as `order_number` (the answer
    /// may name it otherwise), with `error_message` set when the warehouse
    /// could not report it. A status that is missing or unknown is read
    /// from `wmsStatus`, as both specs say to map it.
    pub fn into_state(self, order_number: &str, error_message: String) -> OrderState {
        let either = |preferred: String, fallback: String| {
            if preferred.is_empty() {
                fallback
            } else {
                preferred
            }
        };
        OrderState {
            order_number: order_number.to_owned(),
            status: OrderStatus::from_status_or_wms(&self.status, &self.wms_status),
            wms_status: self.wms_status,
            carrier_name: either(self.carrier_name, self.carrier),
            tracking_number: either(self.tracking_number, self.track_number),
            failed_reason: self.failed_reason,
            error_message,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rows_read_numbers_as_text_and_text_as_numbers() {
        let warehouse = row(
            &json!({"warehouseCode": 2, "warehouseName": "Two", "extra": true}),
            "warehouse",
            WarehouseRow::deserialize,
        )
        .expect("warehouse");
        assert_eq!(
            (warehouse.code.as_str(), warehouse.name.as_str()),
            ("2", "Two")
        );
        let stock = row(
            &json!({"sku": "A", "sellableQuantity": "5", "totalQuantity": 6.0, "pendingQuantity": null, "useQuantity": " 2 "}),
            "stock",
            InventoryRow::deserialize,
        )
        .expect("stock");
        assert_eq!(
            (
                stock.sku.as_str(),
                stock.sellable,
                stock.total,
                stock.pending,
                stock.used
            ),
            ("A", 5, 6, 0, 2)
        );
        let err = row(
            &json!({"sellableQuantity": "many"}),
            "stock",
            InventoryRow::deserialize,
        )
        .expect_err("not a count");
        assert!(
            matches!(err, UpstreamErrorKind::Malformed(ref why) if why.starts_with("stock: ")),
            "{err:?}"
        );
    }

    #[test]
    fn a_channel_without_a_warehouse_is_the_requested_ones() {
        let asked =
            channel(&json!({"channelCode": "C", "carrierName": "UPS"}), "TU02").expect("channel");
        assert_eq!(asked.warehouse_code, "TU02");
        let own =
            channel(&json!({"code": "C", "warehouseCode": "OTHER"}), "TU02").expect("channel");
        assert_eq!(
            (own.code.as_str(), own.warehouse_code.as_str()),
            ("C", "OTHER")
        );
    }

    #[test]
    fn asn_states_carry_their_receipts() {
        let state = asn_state(&json!({"asnNumber": "A1", "wmsStatus": "finished", "finishTime": 1700000000000_i64,
            "skuList": {"sku": "S", "estimatedQuantity": "10", "receivedQuantity": 9, "goodQuantity": "8", "badQuantity": null}}))
        .expect("asn");
        assert_eq!(
            (state.status, state.finish_time.as_str()),
            (AsnStatus::Finished, "1700000000000")
        );
        let line = &state.items[0];
        assert_eq!(
            (
                line.sku.as_str(),
                line.estimated_quantity,
                line.received_quantity
            ),
            ("S", 10, 9)
        );
        assert_eq!(
            (line.good_quantity, line.bad_quantity, state.items.len()),
            (8, 0, 1)
        );
    }

    #[test]
    fn order_states_take_the_push_names_too_and_map_the_wms_status() {
        let row: OrderRow = serde_json::from_value(json!({"orderNumber": "S0000001", "wmsStatus": "Shipped", "carrier": "UPS", "trackNumber": "1Z", "trackingNumber": ""})).expect("row");
        let state = row.into_state("CESH1", String::new());
        assert_eq!(state.order_number, "CESH1");
        assert_eq!(state.status, OrderStatus::Success);
        assert_eq!(
            (state.carrier_name.as_str(), state.tracking_number.as_str()),
            ("UPS", "1Z")
        );
    }

    #[test]
    fn a_refusal_says_the_first_words_given() {
        assert!(matches!(
            rejected(&["", " no stock ", "fallback"], &["", "PARAM_ERROR"]),
            UpstreamErrorKind::Rejected { ref message, ref code } if message == "no stock" && code == "PARAM_ERROR"
        ));
        let envelope = Envelope::parse(br#"{"success":"false"}"#).expect("envelope");
        assert!(matches!(
            accepted(&envelope),
            Err(UpstreamErrorKind::Rejected { ref message, .. }) if message == SILENT_REFUSAL
        ));
    }
}
