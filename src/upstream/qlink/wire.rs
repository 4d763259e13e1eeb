//! qlink's JSON: request bodies borrowed from the domain types, and tolerant
//! readers of an answer's `result`. Pure functions, no I/O, no credentials
//! beyond the `warehouseKey` every body carries.
//!
//! Bodies use the spec tables' camelCase names; optional text that is empty
//! and optional values that are `None` are left out. Money and dimensions go
//! out as JSON numbers with the decimal's exact text (`12.50`), never through
//! a float. Answers are read with the [`lenient`](crate::upstream::lenient)
//! helpers because the spec's examples disagree with its own tables.

use std::{borrow::Cow, collections::BTreeMap};

use base64::Engine as _;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::DeserializeOwned};
use serde_json::{Value, value::RawValue};

use crate::domain::{
    AsnCancelOutcome, AsnReceipt, AsnRef, AsnState, AsnStatus, Channel, CreatedAsn, CreatedOrder, InventoryItem,
    InventoryPage, ItemOutcome, NewAsn, NewOrder, OrderRef, OrderState, OrderStatus, Package, SkuInfo, SkuUpserted,
    Warehouse,
};
use crate::upstream::{
    UpstreamErrorKind,
    lenient::{Envelope, bool_of, de_i64, de_list, de_string, from_value, int_of, list_of},
};

// ---------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------

/// A decimal as a JSON number with its exact text (`12.50` stays `12.50`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Num(pub Decimal);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // `Decimal`'s Display never uses an exponent, so its text is a JSON number.
        let raw = RawValue::from_string(self.0.to_string()).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

fn num(value: Option<Decimal>) -> Option<Num> {
    value.map(Num)
}

fn flag(value: bool) -> u8 {
    u8::from(value)
}

fn is_empty(text: &&str) -> bool {
    text.is_empty()
}

/// `initWarehouses`: the key is an array here.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InitWarehouses<'a> {
    pub warehouse_key: [&'a str; 1],
}

/// `initChannels`: the key is an array here.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InitChannels<'a> {
    pub warehouse_key: [&'a str; 1],
    #[serde(skip_serializing_if = "is_empty")]
    pub warehouse_code: &'a str,
}

/// `createOrder`, in the spec table's order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CreateOrder<'a> {
    warehouse_key: &'a str,
    order_number: &'a str,
    online_order_id: &'a str,
    shop_name: &'a str,
    warehouse_code: &'a str,
    logistics_code: &'a str,
    platform: &'a str,
    freight: Num,
    package_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tracking_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label_data: Option<String>,
    cod_enabled: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    cod_pay_amount: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cod_currency: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_create: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delivery_time: Option<i64>,
    #[serde(skip_serializing_if = "is_empty")]
    online_shop_id: &'a str,
    receiver: OrderReceiver<'a>,
    sku_list: Vec<OrderSku<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ext: Option<[OrderExt<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_price: Option<Num>,
    #[serde(skip_serializing_if = "is_empty")]
    currency: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pay_time_local: Option<i64>,
    is_insurance: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    insurance_value: Option<Num>,
    #[serde(skip_serializing_if = "is_empty")]
    user_nick: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderReceiver<'a> {
    name: &'a str,
    phone: &'a str,
    /// Required by the table even when unknown: sent as "".
    email: &'a str,
    country: &'a str,
    state: &'a str,
    city: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    district: &'a str,
    address1: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    address2: &'a str,
    postal_code: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderSku<'a> {
    sku: &'a str,
    erp_sku: &'a str,
    name: &'a str,
    quantity: u32,
    amount: Num,
    #[serde(skip_serializing_if = "Option::is_none")]
    shipping_price: Option<Num>,
    #[serde(skip_serializing_if = "is_empty")]
    hs_code: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    chinese_customs_declaration_name: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    english_customs_declaration_name: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderExt<'a> {
    house_number: &'a str,
}

impl<'a> CreateOrder<'a> {
    pub fn new(warehouse_key: &'a str, order: &'a NewOrder) -> Self {
        let (package_type, tracking_number, label_data) = match &order.package {
            Package::Normal => ("NORMAL", None, None),
            // "OWN_PAKAGE" is qlink's own spelling.
            Package::SelfShipped {
                tracking_number,
                label_pdf,
            } => (
                "OWN_PAKAGE",
                Some(tracking_number.as_str()),
                Some(base64::engine::general_purpose::STANDARD.encode(label_pdf)),
            ),
        };
        let receiver = &order.receiver;
        Self {
            warehouse_key,
            order_number: &order.order_number,
            online_order_id: &order.online_order_id,
            shop_name: &order.shop_name,
            warehouse_code: &order.warehouse_code,
            logistics_code: &order.logistics_code,
            platform: &order.platform,
            freight: Num(order.freight),
            package_type,
            tracking_number,
            label_data,
            cod_enabled: flag(order.cod.is_some()),
            cod_pay_amount: order.cod.as_ref().map(|cod| Num(cod.amount)),
            cod_currency: order.cod.as_ref().map(|cod| cod.currency.as_str()),
            order_create: order.order_created_at_ms,
            delivery_time: order.delivery_time_ms,
            online_shop_id: &order.online_shop_id,
            receiver: OrderReceiver {
                name: &receiver.name,
                phone: &receiver.phone,
                email: &receiver.email,
                country: &receiver.country,
                state: &receiver.state,
                city: &receiver.city,
                district: &receiver.district,
                address1: &receiver.address1,
                address2: &receiver.address2,
                postal_code: &receiver.postal_code,
            },
            sku_list: order
                .items
                .iter()
                .map(|item| OrderSku {
                    sku: &item.sku,
                    erp_sku: &item.erp_sku,
                    name: &item.name,
                    quantity: item.quantity,
                    amount: Num(item.amount),
                    shipping_price: num(item.shipping_price),
                    hs_code: &item.hs_code,
                    chinese_customs_declaration_name: &item.chinese_customs_declaration_name,
                    english_customs_declaration_name: &item.english_customs_declaration_name,
                })
                .collect(),
            ext: (!order.house_number.is_empty()).then(|| {
                [OrderExt {
                    house_number: &order.house_number,
                }]
            }),
            total_price: num(order.total_price),
            currency: &order.currency,
            pay_time_local: order.pay_time_ms,
            is_insurance: flag(order.insurance),
            insurance_value: num(order.insurance_value),
            user_nick: &order.user_nick,
        }
    }
}

/// One order of a `cancelOrder` or `getOrder` list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct OrderKey<'a> {
    order_number: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    warehouse_order_number: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    reference_code: &'a str,
}

fn order_keys(orders: &[OrderRef]) -> Vec<OrderKey<'_>> {
    orders
        .iter()
        .map(|order| OrderKey {
            order_number: &order.order_number,
            warehouse_order_number: &order.warehouse_order_number,
            reference_code: &order.reference_code,
        })
        .collect()
}

/// `cancelOrder`: the key is an array here; the whole batch in one call.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CancelOrder<'a> {
    warehouse_key: [&'a str; 1],
    #[serde(skip_serializing_if = "is_empty")]
    warehouse_code: &'a str,
    cancel_order_list: Vec<OrderKey<'a>>,
}

impl<'a> CancelOrder<'a> {
    pub fn new(warehouse_key: &'a str, warehouse_code: &'a str, orders: &'a [OrderRef]) -> Self {
        Self {
            warehouse_key: [warehouse_key],
            warehouse_code,
            cancel_order_list: order_keys(orders),
        }
    }
}

/// `getOrder`: the whole batch in one call.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GetOrder<'a> {
    warehouse_key: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    warehouse_code: &'a str,
    get_order_info_list: Vec<OrderKey<'a>>,
}

impl<'a> GetOrder<'a> {
    pub fn new(warehouse_key: &'a str, warehouse_code: &'a str, orders: &'a [OrderRef]) -> Self {
        Self {
            warehouse_key,
            warehouse_code,
            get_order_info_list: order_keys(orders),
        }
    }
}

/// `createAsnOrder`.
///
/// `bulkCargoType` and `bulkCargoTypePiece` are sent only when the ASN says
/// anything about its container (goods type, container type or model, pallet
/// count, or either bulk flag set): a warehouse without container handling
/// then sees the same minimal body as before those fields existed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CreateAsnOrder<'a> {
    warehouse_key: &'a str,
    asn_number: &'a str,
    warehouse_code: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    custom_number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    estimated_arrival_date: Option<i64>,
    #[serde(skip_serializing_if = "is_empty")]
    track_number: &'a str,
    #[serde(rename = "type", skip_serializing_if = "is_empty")]
    asn_type: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    order_number: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    online_order_id: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    sale_return_reason: &'a str,
    sku_list: Vec<AsnSku<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    asn_mark_sku: Vec<AsnMark<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    incoming_order_goods_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    container_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bulk_cargo_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pallet_cnt: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bulk_cargo_type_piece: Option<u8>,
    #[serde(skip_serializing_if = "is_empty")]
    container_model: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AsnSku<'a> {
    sku: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    name: &'a str,
    quantity: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AsnMark<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    box_number: Option<u32>,
    #[serde(skip_serializing_if = "is_empty")]
    mark_code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    quantity: Option<u32>,
    #[serde(skip_serializing_if = "is_empty")]
    sku: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    length: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<Num>,
    #[serde(skip_serializing_if = "is_empty")]
    length_unit: &'a str,
}

impl<'a> CreateAsnOrder<'a> {
    pub fn new(warehouse_key: &'a str, asn: &'a NewAsn) -> Self {
        let container_info = asn.goods_type.is_some()
            || asn.container_type.is_some()
            || asn.pallet_count.is_some()
            || !asn.container_model.is_empty()
            || asn.bulk_cargo_by_pallet
            || asn.bulk_cargo_by_piece;
        Self {
            warehouse_key,
            asn_number: &asn.asn_number,
            warehouse_code: &asn.warehouse_code,
            custom_number: &asn.custom_number,
            estimated_arrival_date: asn.estimated_arrival_ms,
            track_number: &asn.track_number,
            asn_type: &asn.asn_type,
            order_number: &asn.order_number,
            online_order_id: &asn.online_order_id,
            sale_return_reason: &asn.sale_return_reason,
            sku_list: asn
                .items
                .iter()
                .map(|item| AsnSku {
                    sku: &item.sku,
                    name: &item.name,
                    quantity: item.quantity,
                })
                .collect(),
            asn_mark_sku: asn
                .boxes
                .iter()
                .map(|packed| AsnMark {
                    box_number: packed.box_number,
                    mark_code: &packed.mark_code,
                    quantity: packed.quantity,
                    sku: &packed.sku,
                    name: &packed.name,
                    length: num(packed.length),
                    width: num(packed.width),
                    height: num(packed.height),
                    length_unit: &packed.length_unit,
                })
                .collect(),
            incoming_order_goods_type: asn.goods_type,
            container_type: asn.container_type,
            bulk_cargo_type: container_info.then(|| flag(asn.bulk_cargo_by_pallet)),
            pallet_cnt: asn.pallet_count,
            bulk_cargo_type_piece: container_info.then(|| flag(asn.bulk_cargo_by_piece)),
            container_model: &asn.container_model,
        }
    }
}

/// `getAsnList`: `refCode` and `type` are required by the table, so they are
/// sent even when empty.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GetAsnList<'a> {
    warehouse_key: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    warehouse_code: &'a str,
    asn_numbers: Vec<AsnKey<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AsnKey<'a> {
    asn_number: &'a str,
    ref_code: &'a str,
    #[serde(rename = "type")]
    asn_type: &'a str,
}

impl<'a> GetAsnList<'a> {
    pub fn new(warehouse_key: &'a str, warehouse_code: &'a str, asns: &'a [AsnRef]) -> Self {
        Self {
            warehouse_key,
            warehouse_code,
            asn_numbers: asns
                .iter()
                .map(|asn| AsnKey {
                    asn_number: &asn.asn_number,
                    ref_code: &asn.reference_number,
                    asn_type: &asn.asn_type,
                })
                .collect(),
        }
    }
}

/// `cancelAsnOrder`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CancelAsnOrder<'a> {
    pub warehouse_key: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    pub warehouse_code: &'a str,
    pub asn_numbers: &'a [String],
}

/// `syncInventory`, one page.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SyncInventory<'a> {
    warehouse_key: &'a str,
    page_size: u32,
    page: u32,
    warehouse_code: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warehouse_sku_list: Vec<WarehouseSku<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_time_from: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WarehouseSku<'a> {
    warehouse_sku: &'a str,
}

impl<'a> SyncInventory<'a> {
    pub fn new(warehouse_key: &'a str, query: &'a crate::domain::InventoryQuery, page: u32) -> Self {
        Self {
            warehouse_key,
            page_size: query.page_size,
            page,
            warehouse_code: &query.warehouse_code,
            warehouse_sku_list: query
                .skus
                .iter()
                .map(|sku| WarehouseSku { warehouse_sku: sku })
                .collect(),
            update_time_from: query.updated_since_ms,
        }
    }
}

/// `insertSkuInfo`, every field of the spec table.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InsertSkuInfo<'a> {
    warehouse_key: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    warehouse_code: &'a str,
    sku: &'a str,
    erp_sku: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    title: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    barcode: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    specifications: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    image_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    weight: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    net_weight: Option<Num>,
    #[serde(skip_serializing_if = "is_empty")]
    weight_unit: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    length: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<Num>,
    #[serde(skip_serializing_if = "is_empty")]
    dimension_unit: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    item_package: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cd_price_method: Option<&'static str>,
    #[serde(skip_serializing_if = "is_empty")]
    english_customs_declaration_name: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    chinese_customs_declaration_name: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    brand: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    customs_code: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    wms_barcode: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    customs_declaration_price: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cd_price_maximum: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cd_price_rate: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purchase_cost: Option<Num>,
    #[serde(skip_serializing_if = "is_empty")]
    purchase_cost_unit: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    currency_map: BTreeMap<&'a str, Num>,
}

impl<'a> InsertSkuInfo<'a> {
    pub fn new(warehouse_key: &'a str, sku: &'a SkuInfo) -> Self {
        Self {
            warehouse_key,
            warehouse_code: &sku.warehouse_code,
            sku: &sku.sku,
            erp_sku: &sku.erp_sku,
            title: &sku.title,
            barcode: &sku.barcode,
            specifications: &sku.specifications,
            image_url: &sku.image_url,
            weight: num(sku.weight),
            net_weight: num(sku.net_weight),
            weight_unit: &sku.weight_unit,
            length: num(sku.length),
            width: num(sku.width),
            height: num(sku.height),
            dimension_unit: &sku.dimension_unit,
            item_package: sku.item_package,
            cd_price_method: sku.cd_price_method.map(|method| method.as_wire()),
            english_customs_declaration_name: &sku.english_customs_declaration_name,
            chinese_customs_declaration_name: &sku.chinese_customs_declaration_name,
            brand: &sku.brand,
            customs_code: &sku.customs_code,
            wms_barcode: &sku.wms_barcode,
            customs_declaration_price: num(sku.customs_declaration_price),
            cd_price_maximum: num(sku.cd_price_maximum),
            cd_price_rate: num(sku.cd_price_rate),
            purchase_cost: num(sku.purchase_cost),
            purchase_cost_unit: &sku.purchase_cost_unit,
            currency_map: sku
                .currency_map
                .iter()
                .map(|(currency, rate)| (currency.as_str(), Num(*rate)))
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------

/// The answer's `result`; a `result` that is itself a JSON text (some
/// gateways encode it twice) is decoded.
pub(super) fn result_of(envelope: &Envelope) -> Cow<'_, Value> {
    let result = envelope.field("result");
    if let Value::String(text) = result {
        let text = text.trim();
        if text.starts_with('{') || text.starts_with('[') {
            if let Ok(decoded) = serde_json::from_str::<Value>(text) {
                return Cow::Owned(decoded);
            }
        }
    }
    Cow::Borrowed(result)
}

/// A per-item `success`: `None` when absent, `null` or "" (the item then
/// counts as accepted unless it carries words saying otherwise).
fn de_opt_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => None,
        Value::String(text) if text.trim().is_empty() => None,
        flag => Some(bool_of(&flag)),
    })
}

/// The rows of a list: the list under one of `keys` (or bare, or the only
/// list), or `result` itself when it is one object carrying `id_key`.
fn rows<T: DeserializeOwned>(result: &Value, keys: &[&str], id_key: &str, what: &str) -> Result<Vec<T>, UpstreamErrorKind> {
    let values = match result {
        Value::Object(fields) if fields.contains_key(id_key) => vec![result],
        _ => list_of(result, keys),
    };
    values
        .into_iter()
        .filter(|value| !value.is_null())
        .map(|value| from_value(value, what))
        .collect()
}

/// A single-object `result` (create answers); `null` reads as all defaults.
fn single<T: DeserializeOwned + Default>(result: &Value, what: &str) -> Result<T, UpstreamErrorKind> {
    match result {
        Value::Null => Ok(T::default()),
        // A list of one where one object was promised.
        Value::Array(items) if items.len() == 1 => from_value(&items[0], what),
        other => from_value(other, what),
    }
}

fn rejected(info: String, code: String, envelope_code: &str, default: &str) -> UpstreamErrorKind {
    UpstreamErrorKind::Rejected {
        message: if info.is_empty() { default.to_owned() } else { info },
        code: if code.is_empty() { envelope_code.to_owned() } else { code },
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct WarehouseRow {
    #[serde(deserialize_with = "de_string")]
    warehouse_code: String,
    #[serde(deserialize_with = "de_string")]
    warehouse_name: String,
}

/// `initWarehouses`: `warehouseList` (documented), `warehouseInfoList` (the
/// example) or a bare array.
pub(super) fn warehouses(result: &Value) -> Result<Vec<Warehouse>, UpstreamErrorKind> {
    let rows: Vec<WarehouseRow> = rows(result, &["warehouseList", "warehouseInfoList"], "warehouseCode", "warehouse")?;
    Ok(rows
        .into_iter()
        .map(|row| Warehouse {
            code: row.warehouse_code,
            name: row.warehouse_name,
        })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ChannelRow {
    #[serde(deserialize_with = "de_string")]
    channel_code: String,
    #[serde(deserialize_with = "de_string")]
    channel_name: String,
    #[serde(deserialize_with = "de_string")]
    warehouse_code: String,
    #[serde(deserialize_with = "de_string")]
    carrier_name: String,
}

/// `initChannels`: `channelList`; a channel without a warehouse code belongs
/// to the warehouse asked about.
pub(super) fn channels(result: &Value, requested_warehouse: &str) -> Result<Vec<Channel>, UpstreamErrorKind> {
    let rows: Vec<ChannelRow> = rows(result, &["channelList", "channels"], "channelCode", "channel")?;
    Ok(rows
        .into_iter()
        .map(|row| Channel {
            code: row.channel_code,
            name: row.channel_name,
            warehouse_code: if row.warehouse_code.is_empty() {
                requested_warehouse.to_owned()
            } else {
                row.warehouse_code
            },
            carrier_name: row.carrier_name,
        })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CreatedOrderRow {
    #[serde(deserialize_with = "de_string")]
    warehouse_order_number: String,
    #[serde(deserialize_with = "de_string")]
    order_number: String,
    #[serde(deserialize_with = "de_string")]
    info: String,
    #[serde(deserialize_with = "de_opt_bool")]
    success: Option<bool>,
    #[serde(deserialize_with = "de_string")]
    code: String,
}

/// `createOrder`: a per-item `success: false` inside a transport success is a
/// rejection with the item's `info`.
pub(super) fn created_order(
    result: &Value,
    envelope_code: &str,
    order_number: &str,
) -> Result<CreatedOrder, UpstreamErrorKind> {
    let row: CreatedOrderRow = single(result, "createOrder result")?;
    if row.success == Some(false) {
        return Err(rejected(row.info, row.code, envelope_code, "the warehouse refused the order without saying why"));
    }
    Ok(CreatedOrder {
        order_number: if row.order_number.is_empty() { order_number.to_owned() } else { row.order_number },
        warehouse_order_number: row.warehouse_order_number,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct OrderOutcomeRow {
    #[serde(deserialize_with = "de_string")]
    order_number: String,
    #[serde(deserialize_with = "de_opt_bool")]
    success: Option<bool>,
    #[serde(deserialize_with = "de_string")]
    info: String,
    #[serde(deserialize_with = "de_string")]
    error_msg: String,
}

/// Picks the row about `id` (input position `index`): the row naming it, or,
/// when rows name nothing, the row at the same position.
fn row_for<'r, T>(rows: &'r [T], index: usize, id: &str, id_of: impl Fn(&T) -> &str) -> Option<&'r T> {
    rows.iter()
        .find(|row| id_of(row) == id)
        .or_else(|| rows.get(index).filter(|row| id_of(row).is_empty()))
}

/// `cancelOrder`: one outcome per input order, in input order. `result` may
/// be `null`, one object, a bare list or an object holding a list; an order
/// the warehouse did not mention was cancelled (the envelope said success).
pub(super) fn cancelled_orders(result: &Value, orders: &[OrderRef]) -> Result<Vec<ItemOutcome>, UpstreamErrorKind> {
    let rows: Vec<OrderOutcomeRow> =
        rows(result, &["results", "cancelOrderList", "cancelOrderResultList"], "orderNumber", "cancel result")?;
    Ok(orders
        .iter()
        .enumerate()
        .map(|(index, order)| {
            let Some(row) = row_for(&rows, index, &order.order_number, |row| &row.order_number) else {
                return ItemOutcome {
                    id: order.order_number.clone(),
                    success: true,
                    message: String::new(),
                };
            };
            let words = if row.info.is_empty() { &row.error_msg } else { &row.info };
            let success = row.success.unwrap_or(words.is_empty());
            ItemOutcome {
                id: order.order_number.clone(),
                success,
                message: match (success, words.is_empty()) {
                    (true, _) => String::new(),
                    (false, false) => words.clone(),
                    (false, true) => "the warehouse did not cancel this order".to_owned(),
                },
            }
        })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct OrderRow {
    #[serde(deserialize_with = "de_string")]
    order_number: String,
    #[serde(deserialize_with = "de_string")]
    wms_status: String,
    #[serde(deserialize_with = "de_string")]
    status: String,
    #[serde(deserialize_with = "de_string")]
    carrier_name: String,
    #[serde(deserialize_with = "de_string")]
    tracking_number: String,
    #[serde(deserialize_with = "de_string")]
    failed_reason: String,
    #[serde(deserialize_with = "de_opt_bool")]
    success: Option<bool>,
    #[serde(deserialize_with = "de_string")]
    info: String,
}

/// `getOrder`: one state per input order, in input order, matched by
/// `orderNumber`.
pub(super) fn order_states(result: &Value, orders: &[OrderRef]) -> Result<Vec<OrderState>, UpstreamErrorKind> {
    let rows: Vec<OrderRow> =
        rows(result, &["warehouseGetOrderList", "getOrderList", "orderList"], "orderNumber", "order")?;
    Ok(orders
        .iter()
        .enumerate()
        .map(|(index, order)| {
            let Some(row) = row_for(&rows, index, &order.order_number, |row| &row.order_number) else {
                return OrderState::unreported(&order.order_number, "the warehouse did not report this order");
            };
            // An item-level failure (the order is unknown to the warehouse, say).
            let error_message = match row.success {
                Some(false) if row.info.is_empty() => "the warehouse could not report this order".to_owned(),
                Some(false) => row.info.clone(),
                _ => String::new(),
            };
            OrderState {
                order_number: order.order_number.clone(),
                wms_status: row.wms_status.clone(),
                status: OrderStatus::from_wire(&row.status),
                carrier_name: row.carrier_name.clone(),
                tracking_number: row.tracking_number.clone(),
                failed_reason: row.failed_reason.clone(),
                error_message,
            }
        })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CreatedAsnRow {
    #[serde(deserialize_with = "de_opt_bool")]
    success: Option<bool>,
    #[serde(deserialize_with = "de_string")]
    asn_number: String,
    #[serde(deserialize_with = "de_string")]
    info: String,
    #[serde(deserialize_with = "de_string")]
    wms_asn_number: String,
    #[serde(deserialize_with = "de_string")]
    code: String,
}

/// `createAsnOrder`: a per-item `success: false` is a rejection with `info`.
pub(super) fn created_asn(result: &Value, envelope_code: &str, asn_number: &str) -> Result<CreatedAsn, UpstreamErrorKind> {
    let row: CreatedAsnRow = single(result, "createAsnOrder result")?;
    if row.success == Some(false) {
        return Err(rejected(row.info, row.code, envelope_code, "the warehouse refused the ASN without saying why"));
    }
    Ok(CreatedAsn {
        asn_number: if row.asn_number.is_empty() { asn_number.to_owned() } else { row.asn_number },
        wms_asn_number: row.wms_asn_number,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AsnRow {
    #[serde(deserialize_with = "de_string")]
    asn_number: String,
    #[serde(deserialize_with = "de_string")]
    wms_status: String,
    #[serde(deserialize_with = "de_string")]
    reference_number: String,
    #[serde(deserialize_with = "de_string")]
    finish_time: String,
    #[serde(deserialize_with = "de_list")]
    sku_list: Vec<AsnSkuRow>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AsnSkuRow {
    #[serde(deserialize_with = "de_string")]
    sku: String,
    #[serde(deserialize_with = "de_string")]
    name: String,
    #[serde(deserialize_with = "de_i64")]
    estimated_quantity: i64,
    #[serde(deserialize_with = "de_i64")]
    received_quantity: i64,
    #[serde(deserialize_with = "de_i64")]
    good_quantity: i64,
    #[serde(deserialize_with = "de_i64")]
    bad_quantity: i64,
}

/// `getAsnList`: the ASNs the warehouse reported, under `asnList`.
pub(super) fn asn_states(result: &Value) -> Result<Vec<AsnState>, UpstreamErrorKind> {
    let rows: Vec<AsnRow> = rows(result, &["asnList", "asns"], "asnNumber", "ASN")?;
    Ok(rows
        .into_iter()
        .map(|row| AsnState {
            status: AsnStatus::from_wire(&row.wms_status),
            asn_number: row.asn_number,
            wms_status: row.wms_status,
            reference_number: row.reference_number,
            finish_time: row.finish_time,
            items: row
                .sku_list
                .into_iter()
                .map(|item| AsnReceipt {
                    sku: item.sku,
                    name: item.name,
                    estimated_quantity: item.estimated_quantity,
                    received_quantity: item.received_quantity,
                    good_quantity: item.good_quantity,
                    bad_quantity: item.bad_quantity,
                })
                .collect(),
        })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AsnOutcomeRow {
    #[serde(deserialize_with = "de_string")]
    asn_number: String,
    #[serde(deserialize_with = "de_string")]
    operation: String,
    #[serde(deserialize_with = "de_string")]
    info: String,
    #[serde(deserialize_with = "de_opt_bool")]
    success: Option<bool>,
}

/// `cancelAsnOrder`: one outcome per input ASN, in input order; `success`
/// absent means success when there is no `info`; an ASN the warehouse did
/// not mention was cancelled (the envelope said success).
pub(super) fn cancelled_asns(result: &Value, asn_numbers: &[String]) -> Result<Vec<AsnCancelOutcome>, UpstreamErrorKind> {
    let rows: Vec<AsnOutcomeRow> = rows(result, &["results", "asnList"], "asnNumber", "cancel result")?;
    Ok(asn_numbers
        .iter()
        .enumerate()
        .map(|(index, asn_number)| {
            let Some(row) = row_for(&rows, index, asn_number, |row| &row.asn_number) else {
                return AsnCancelOutcome {
                    asn_number: asn_number.clone(),
                    success: true,
                    message: String::new(),
                    operation: String::new(),
                };
            };
            let success = row.success.unwrap_or(row.info.is_empty());
            AsnCancelOutcome {
                asn_number: asn_number.clone(),
                success,
                message: match (success, row.info.is_empty()) {
                    (true, _) => String::new(),
                    (false, false) => row.info.clone(),
                    (false, true) => "the warehouse did not cancel this ASN".to_owned(),
                },
                operation: row.operation.clone(),
            }
        })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct InventoryRow {
    #[serde(deserialize_with = "de_string")]
    warehouse_code: String,
    #[serde(deserialize_with = "de_string")]
    warehouse_sku: String,
    #[serde(deserialize_with = "de_i64")]
    onway_quantity: i64,
    #[serde(deserialize_with = "de_i64")]
    pending_quantity: i64,
    #[serde(deserialize_with = "de_i64")]
    sellable_quantity: i64,
    #[serde(deserialize_with = "de_i64")]
    unsellable_quantity: i64,
    #[serde(deserialize_with = "de_i64")]
    reserved_quantity: i64,
    #[serde(deserialize_with = "de_i64")]
    use_quantity: i64,
    #[serde(deserialize_with = "de_i64")]
    total_quantity: i64,
}

/// `syncInventory`, page `page`: either the documented page object
/// `{isLastPage, currentPage, pageCount, data}` or a bare array of items (the
/// example), where a page shorter than `page_size` is the last. An empty
/// page is always the last.
pub(super) fn inventory_page(result: &Value, page: u32, page_size: u32) -> Result<InventoryPage, UpstreamErrorKind> {
    let (rows, page_count, last_flag): (Vec<InventoryRow>, u32, Option<bool>) = match result {
        Value::Object(fields) if !fields.contains_key("warehouseSku") => {
            let rows = rows(result, &["data", "list", "records"], "warehouseSku", "inventory item")?;
            let page_count = fields
                .get("pageCount")
                .and_then(int_of)
                .and_then(|count| u32::try_from(count).ok())
                .unwrap_or(0);
            let last_flag = fields.get("isLastPage").filter(|flag| !flag.is_null()).map(bool_of);
            (rows, page_count, last_flag)
        }
        other => (rows(other, &[], "warehouseSku", "inventory item")?, 0, None),
    };
    let is_last_page = rows.is_empty()
        || last_flag.unwrap_or(false)
        || (page_count > 0 && page >= page_count)
        || (last_flag.is_none() && page_count == 0 && rows.len() < page_size as usize);
    Ok(InventoryPage {
        page,
        page_count,
        is_last_page,
        items: rows
            .into_iter()
            .map(|row| InventoryItem {
                sku: row.warehouse_sku,
                warehouse_code: row.warehouse_code,
                sellable: row.sellable_quantity,
                total: row.total_quantity,
                onway: row.onway_quantity,
                pending: row.pending_quantity,
                unsellable: row.unsellable_quantity,
                reserved: row.reserved_quantity,
                used: row.use_quantity,
            })
            .collect(),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SkuRow {
    #[serde(deserialize_with = "de_string")]
    sku: String,
    #[serde(deserialize_with = "de_string")]
    operation: String,
    #[serde(deserialize_with = "de_string")]
    info: String,
    #[serde(deserialize_with = "de_opt_bool")]
    success: Option<bool>,
    #[serde(deserialize_with = "de_string")]
    code: String,
}

/// `insertSkuInfo`: a per-item `success: false` is a rejection with `info`.
pub(super) fn sku_upserted(result: &Value, envelope_code: &str, sku: &str) -> Result<SkuUpserted, UpstreamErrorKind> {
    let row: SkuRow = single(result, "insertSkuInfo result")?;
    if row.success == Some(false) {
        return Err(rejected(row.info, row.code, envelope_code, "the warehouse refused the product without saying why"));
    }
    Ok(SkuUpserted {
        sku: if row.sku.is_empty() { sku.to_owned() } else { row.sku },
        operation: row.operation,
    })
}
