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
use serde::{
    Deserialize, Deserializer, Serialize,
    de::{self, DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor},
};
use serde_json::Value;

use crate::domain::{
    AsnCancelOutcome, AsnReceipt, AsnRef, AsnState, AsnStatus, Channel, CreatedAsn, CreatedOrder,
    InventoryItem, InventoryPage, ItemOutcome, NewAsn, NewOrder, OrderRef, OrderState, OrderStatus,
    Package, SkuInfo, SkuUpserted, Warehouse,
};
use crate::upstream::{
    UpstreamErrorKind,
    lenient::{
        Envelope, bool_of, de_bool, de_i64, de_list, de_string, from_value, int_of, list_of,
    },
};

// ---------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------

pub(super) use crate::upstream::number::Num;

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
    pub fn new(
        warehouse_key: &'a str,
        query: &'a crate::domain::InventoryQuery,
        page: u32,
    ) -> Self {
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
        if (text.starts_with('{') || text.starts_with('['))
            && let Ok(decoded) = serde_json::from_str::<Value>(text)
        {
            return Cow::Owned(decoded);
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
fn rows<T: DeserializeOwned>(
    result: &Value,
    keys: &[&str],
    id_key: &str,
    what: &str,
) -> Result<Vec<T>, UpstreamErrorKind> {
    let values = match result {
        Value::Object(fields) if fields.contains_key(id_key) => vec![result],
        Value::Object(fields) => {
            let listed = list_of(result, keys);
            // `{"success":false,"info":…}` with no list: one answer for the
            // whole call, as the create examples reject.
            if listed.is_empty() && (fields.contains_key("success") || fields.contains_key("info"))
            {
                vec![result]
            } else {
                listed
            }
        }
        _ => list_of(result, keys),
    };
    values
        .into_iter()
        .filter(|value| !value.is_null())
        .map(|value| from_value(value, what))
        .collect()
}

/// A single-object `result` (create answers); `null` reads as all defaults.
fn single<T: DeserializeOwned + Default>(
    result: &Value,
    what: &str,
) -> Result<T, UpstreamErrorKind> {
    match result {
        Value::Null => Ok(T::default()),
        // A list of one where one object was promised.
        Value::Array(items) if items.len() == 1 => from_value(&items[0], what),
        other => from_value(other, what),
    }
}

fn rejected(info: String, code: String, envelope_code: &str, default: &str) -> UpstreamErrorKind {
    UpstreamErrorKind::Rejected {
        message: if info.is_empty() {
            default.to_owned()
        } else {
            info
        },
        code: if code.is_empty() {
            envelope_code.to_owned()
        } else {
            code
        },
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
    let rows: Vec<WarehouseRow> = rows(
        result,
        &["warehouseList", "warehouseInfoList"],
        "warehouseCode",
        "warehouse",
    )?;
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
pub(super) fn channels(
    result: &Value,
    requested_warehouse: &str,
) -> Result<Vec<Channel>, UpstreamErrorKind> {
    let rows: Vec<ChannelRow> = rows(
        result,
        &["channelList", "channels"],
        "channelCode",
        "channel",
    )?;
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

/// Whether a create answer refused: `success: false`, or no `success` at
/// all but words in `info` and no number for what was to be created (the
/// spec's examples carry refusals in `info`).
fn create_refused(success: Option<bool>, info: &str, created_number: &str) -> bool {
    match success {
        Some(succeeded) => !succeeded,
        None => !info.trim().is_empty() && created_number.trim().is_empty(),
    }
}

/// `createOrder`: a per-item `success: false` inside a transport success is a
/// rejection with the item's `info`.
pub(super) fn created_order(
    result: &Value,
    envelope_code: &str,
    order_number: &str,
) -> Result<CreatedOrder, UpstreamErrorKind> {
    let row: CreatedOrderRow = single(result, "createOrder result")?;
    if create_refused(row.success, &row.info, &row.warehouse_order_number) {
        return Err(rejected(
            row.info,
            row.code,
            envelope_code,
            "the warehouse refused the order without saying why",
        ));
    }
    Ok(CreatedOrder {
        order_number: if row.order_number.is_empty() {
            order_number.to_owned()
        } else {
            row.order_number
        },
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

impl OrderOutcomeRow {
    /// The warehouse's words about this order, `info` first.
    fn words(&self) -> &str {
        if self.info.is_empty() {
            &self.error_msg
        } else {
            &self.info
        }
    }

    /// `success` as said, else failed exactly when there are words.
    fn succeeded(&self) -> bool {
        self.success.unwrap_or(self.words().is_empty())
    }

    fn failed(&self) -> bool {
        !self.succeeded()
    }
}

/// Picks the row about `id` (input position `index`): the row naming it
/// (spaces aside); else a lone failure naming nothing, which is the whole
/// call's; else, when rows name nothing, the row at the same position.
fn row_for<'r, T>(
    rows: &'r [T],
    index: usize,
    id: &str,
    id_of: impl Fn(&T) -> &str,
    failed: impl Fn(&T) -> bool,
) -> Option<&'r T> {
    let id = id.trim();
    let names_nothing = |row: &&T| id_of(row).trim().is_empty();
    rows.iter()
        .find(|row| id_of(row).trim() == id)
        .or_else(|| match rows {
            [only] if names_nothing(&only) && failed(only) => Some(only),
            _ => rows.get(index).filter(names_nothing),
        })
}

/// `cancelOrder`: one outcome per input order, in input order. `result` may
/// be `null`, one object, a bare list or an object holding a list; an order
/// the warehouse did not mention was cancelled (the envelope said success).
pub(super) fn cancelled_orders(
    result: &Value,
    orders: &[OrderRef],
) -> Result<Vec<ItemOutcome>, UpstreamErrorKind> {
    let rows: Vec<OrderOutcomeRow> = rows(
        result,
        &["results", "cancelOrderList", "cancelOrderResultList"],
        "orderNumber",
        "cancel result",
    )?;
    Ok(orders
        .iter()
        .enumerate()
        .map(|(index, order)| {
            let Some(row) = row_for(
                &rows,
                index,
                &order.order_number,
                |row| &row.order_number,
                OrderOutcomeRow::failed,
            ) else {
                return ItemOutcome {
                    id: order.order_number.clone(),
                    success: true,
                    message: String::new(),
                };
            };
            let words = row.words();
            let success = row.succeeded();
            ItemOutcome {
                id: order.order_number.clone(),
                success,
                message: match (success, words.is_empty()) {
                    (true, _) => String::new(),
                    (false, false) => words.to_owned(),
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
pub(super) fn order_states(
    result: &Value,
    orders: &[OrderRef],
) -> Result<Vec<OrderState>, UpstreamErrorKind> {
    let rows: Vec<OrderRow> = rows(
        result,
        &["warehouseGetOrderList", "getOrderList", "orderList"],
        "orderNumber",
        "order",
    )?;
    Ok(orders
        .iter()
        .enumerate()
        .map(|(index, order)| {
            let Some(row) = row_for(
                &rows,
                index,
                &order.order_number,
                |row| &row.order_number,
                |row| row.success == Some(false),
            ) else {
                return OrderState::unreported(
                    &order.order_number,
                    "the warehouse did not report this order",
                );
            };
            // An item-level failure (the order is unknown to the warehouse, say).
            let error_message = match row.success {
                Some(false) if row.info.is_empty() => {
                    "the warehouse could not report this order".to_owned()
                }
                Some(false) => row.info.clone(),
                _ => String::new(),
            };
            OrderState {
                order_number: order.order_number.clone(),
                wms_status: row.wms_status.clone(),
                status: OrderStatus::from_status_or_wms(&row.status, &row.wms_status),
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
pub(super) fn created_asn(
    result: &Value,
    envelope_code: &str,
    asn_number: &str,
) -> Result<CreatedAsn, UpstreamErrorKind> {
    let row: CreatedAsnRow = single(result, "createAsnOrder result")?;
    if create_refused(row.success, &row.info, &row.wms_asn_number) {
        return Err(rejected(
            row.info,
            row.code,
            envelope_code,
            "the warehouse refused the ASN without saying why",
        ));
    }
    Ok(CreatedAsn {
        asn_number: if row.asn_number.is_empty() {
            asn_number.to_owned()
        } else {
            row.asn_number
        },
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

impl AsnOutcomeRow {
    /// `success` as said, else failed exactly when there is `info`.
    fn succeeded(&self) -> bool {
        self.success.unwrap_or(self.info.is_empty())
    }

    fn failed(&self) -> bool {
        !self.succeeded()
    }
}

/// `cancelAsnOrder`: one outcome per input ASN, in input order; `success`
/// absent means success when there is no `info`; an ASN the warehouse did
/// not mention was cancelled (the envelope said success).
pub(super) fn cancelled_asns(
    result: &Value,
    asn_numbers: &[String],
) -> Result<Vec<AsnCancelOutcome>, UpstreamErrorKind> {
    let rows: Vec<AsnOutcomeRow> = rows(
        result,
        &["results", "asnList"],
        "asnNumber",
        "cancel result",
    )?;
    Ok(asn_numbers
        .iter()
        .enumerate()
        .map(|(index, asn_number)| {
            let Some(row) = row_for(
                &rows,
                index,
                asn_number,
                |row| &row.asn_number,
                AsnOutcomeRow::failed,
            ) else {
                return AsnCancelOutcome {
                    asn_number: asn_number.clone(),
                    success: true,
                    message: String::new(),
                    operation: String::new(),
                };
            };
            let success = row.succeeded();
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
pub(super) fn inventory_page(
    result: &Value,
    page: u32,
    page_size: u32,
) -> Result<InventoryPage, UpstreamErrorKind> {
    let (rows, page_count, last_flag): (Vec<InventoryRow>, u32, Option<bool>) = match result {
        Value::Object(fields) if !fields.contains_key("warehouseSku") => {
            let rows = rows(
                result,
                &INVENTORY_LIST_KEYS,
                "warehouseSku",
                "inventory item",
            )?;
            let page_count = fields
                .get("pageCount")
                .and_then(int_of)
                .and_then(|count| u32::try_from(count).ok())
                .unwrap_or(0);
            let last_flag = fields
                .get("isLastPage")
                .filter(|flag| !flag.is_null())
                .map(bool_of);
            (rows, page_count, last_flag)
        }
        other => (rows(other, &[], "warehouseSku", "inventory item")?, 0, None),
    };
    Ok(assemble_inventory_page(
        rows, page, page_size, page_count, last_flag,
    ))
}

/// Where a page object keeps its rows.
const INVENTORY_LIST_KEYS: [&str; 3] = ["data", "list", "records"];

/// The fast way through a whole `syncInventory` answer, straight from its
/// bytes into typed rows: `None` unless it is `success: true` with a bare
/// array or a page object holding exactly one array of rows. Pages are the
/// bulk of what the facade parses, and going through a `Value` tree costs
/// twice as much; every other shape is left to [`inventory_page`].
pub(super) fn typed_inventory_page(
    answer: &[u8],
    page: u32,
    page_size: u32,
) -> Option<InventoryPage> {
    let answer: TypedInventoryAnswer = serde_json::from_slice(answer).ok()?;
    if !answer.success {
        return None;
    }
    let result = answer.result;
    Some(assemble_inventory_page(
        result.rows,
        page,
        page_size,
        result.page_count,
        result.last_flag,
    ))
}

fn assemble_inventory_page(
    rows: Vec<InventoryRow>,
    page: u32,
    page_size: u32,
    page_count: u32,
    last_flag: Option<bool>,
) -> InventoryPage {
    // With neither flag, a short page is the last, and so is a long one: a
    // warehouse that sends more rows than asked for ignores paging and has
    // sent everything (the spec's example answers 11 rows to pageSize 10).
    let is_last_page = rows.is_empty()
        || last_flag.unwrap_or(false)
        || (page_count > 0 && page >= page_count)
        || (last_flag.is_none() && page_count == 0 && rows.len() != page_size as usize);
    InventoryPage {
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
    }
}

/// The documented envelope of an inventory answer; other fields are ignored.
#[derive(Deserialize)]
struct TypedInventoryAnswer {
    /// Required here: an answer without it goes the tolerant way.
    #[serde(deserialize_with = "de_bool")]
    success: bool,
    result: TypedInventoryResult,
}

/// A `result` that is a bare array of rows or a page object; anything else
/// fails, which sends the answer the tolerant way.
struct TypedInventoryResult {
    rows: Vec<InventoryRow>,
    page_count: u32,
    last_flag: Option<bool>,
}

impl<'de> Deserialize<'de> for TypedInventoryResult {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TypedInventoryVisitor)
    }
}

struct TypedInventoryVisitor;

impl<'de> Visitor<'de> for TypedInventoryVisitor {
    type Value = TypedInventoryResult;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an inventory page object or a list of inventory rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Ok(TypedInventoryResult {
            rows: Vec::deserialize(de::value::SeqAccessDeserializer::new(seq))?,
            page_count: 0,
            last_flag: None,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut rows = None;
        let mut page_count = 0;
        let mut last_flag = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "pageCount" => {
                    let count: LenientCount = map.next_value()?;
                    page_count = u32::try_from(count.0).unwrap_or(0);
                }
                "isLastPage" => last_flag = map.next_value::<Option<LenientFlag>>()?.map(|f| f.0),
                // One row rather than a page: the tolerant reader knows it.
                "warehouseSku" => return Err(de::Error::custom("a single row")),
                key if INVENTORY_LIST_KEYS.contains(&key) => {
                    if rows.is_some() {
                        return Err(de::Error::custom("more than one list of rows"));
                    }
                    rows = Some(map.next_value::<Vec<InventoryRow>>()?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(TypedInventoryResult {
            rows: rows.ok_or_else(|| de::Error::custom("no list of rows"))?,
            page_count,
            last_flag,
        })
    }
}

#[derive(Deserialize)]
struct LenientCount(#[serde(deserialize_with = "de_i64")] i64);

#[derive(Deserialize)]
struct LenientFlag(#[serde(deserialize_with = "de_bool")] bool);

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
pub(super) fn sku_upserted(
    result: &Value,
    envelope_code: &str,
    sku: &str,
) -> Result<SkuUpserted, UpstreamErrorKind> {
    let row: SkuRow = single(result, "insertSkuInfo result")?;
    if row.success == Some(false) {
        return Err(rejected(
            row.info,
            row.code,
            envelope_code,
            "the warehouse refused the product without saying why",
        ));
    }
    Ok(SkuUpserted {
        sku: if row.sku.is_empty() {
            sku.to_owned()
        } else {
            row.sku
        },
        operation: row.operation,
    })
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use serde_json::json;

    use super::*;
    use crate::domain::{
        AsnBox, AsnItem, Cod, CustomsPriceMethod, InventoryQuery, OrderItem, Receiver,
    };

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).expect("decimal")
    }

    fn body(value: &impl Serialize) -> String {
        serde_json::to_string(value).expect("serialize")
    }

    fn envelope(text: &str) -> Envelope {
        Envelope::parse(text.as_bytes()).expect("envelope")
    }

    fn order() -> NewOrder {
        NewOrder {
            order_number: "UNU1".into(),
            online_order_id: "ON1".into(),
            shop_name: "测试店铺".into(),
            warehouse_code: "TU02".into(),
            logistics_code: "UPS-1".into(),
            platform: "SHEIN".into(),
            freight: dec("12.50"),
            receiver: Receiver {
                name: "测试".into(),
                phone: "131".into(),
                email: String::new(),
                country: "CN".into(),
                state: "黑龙江省".into(),
                city: "双鸭山市".into(),
                district: String::new(),
                address1: "街道".into(),
                address2: String::new(),
                postal_code: "211300".into(),
            },
            items: vec![OrderItem {
                sku: "SKU1".into(),
                erp_sku: "E1".into(),
                name: "Desk".into(),
                quantity: 2,
                amount: dec("0.10"),
                shipping_price: None,
                hs_code: String::new(),
                chinese_customs_declaration_name: String::new(),
                english_customs_declaration_name: String::new(),
            }],
            package: Package::Normal,
            cod: None,
            order_created_at_ms: None,
            delivery_time_ms: None,
            online_shop_id: String::new(),
            house_number: String::new(),
            total_price: None,
            currency: String::new(),
            pay_time_ms: None,
            insurance: false,
            insurance_value: None,
            user_nick: String::new(),
        }
    }

    fn refs(numbers: &[&str]) -> Vec<OrderRef> {
        numbers
            .iter()
            .map(|number| OrderRef {
                order_number: (*number).to_owned(),
                ..Default::default()
            })
            .collect()
    }

    // --- bodies -----------------------------------------------------------

    #[test]
    fn warehouse_key_is_an_array_for_lists_and_cancel_order() {
        assert_eq!(
            body(&InitWarehouses {
                warehouse_key: ["wk"]
            }),
            r#"{"warehouseKey":["wk"]}"#
        );
        assert_eq!(
            body(&InitChannels {
                warehouse_key: ["wk"],
                warehouse_code: ""
            }),
            r#"{"warehouseKey":["wk"]}"#
        );
        assert_eq!(
            body(&InitChannels {
                warehouse_key: ["wk"],
                warehouse_code: "TU02"
            }),
            r#"{"warehouseKey":["wk"],"warehouseCode":"TU02"}"#
        );
        let orders = vec![
            OrderRef {
                order_number: "A".into(),
                warehouse_order_number: String::new(),
                reference_code: "R".into(),
            },
            OrderRef {
                order_number: "B".into(),
                warehouse_order_number: "W".into(),
                reference_code: String::new(),
            },
        ];
        assert_eq!(
            body(&CancelOrder::new("wk", "TU02", &orders)),
            r#"{"warehouseKey":["wk"],"warehouseCode":"TU02","cancelOrderList":[{"orderNumber":"A","referenceCode":"R"},{"orderNumber":"B","warehouseOrderNumber":"W"}]}"#
        );
        assert_eq!(
            body(&GetOrder::new("wk", "", &orders[..1])),
            r#"{"warehouseKey":"wk","getOrderInfoList":[{"orderNumber":"A","referenceCode":"R"}]}"#
        );
    }

    #[test]
    fn a_plain_order_has_exact_money_and_omits_empty_optionals() {
        assert_eq!(
            body(&CreateOrder::new("wk", &order())),
            concat!(
                r#"{"warehouseKey":"wk","orderNumber":"UNU1","onlineOrderId":"ON1","shopName":"测试店铺","#,
                r#""warehouseCode":"TU02","logisticsCode":"UPS-1","platform":"SHEIN","freight":12.50,"#,
                r#""packageType":"NORMAL","codEnabled":0,"#,
                r#""receiver":{"name":"测试","phone":"131","email":"","country":"CN","state":"黑龙江省","#,
                r#""city":"双鸭山市","address1":"街道","postalCode":"211300"},"#,
                r#""skuList":[{"sku":"SKU1","erpSku":"E1","name":"Desk","quantity":2,"amount":0.10}],"#,
                r#""isInsurance":0}"#
            )
        );
    }

    #[test]
    fn a_self_shipped_cod_order_carries_label_cod_ext_and_insurance() {
        let mut order = order();
        order.package = Package::SelfShipped {
            tracking_number: "1Z999".into(),
            label_pdf: b"%PDF-1.4".to_vec(),
        };
        order.cod = Some(Cod {
            amount: dec("30.00"),
            currency: "USD".into(),
        });
        order.house_number = "12A".into();
        order.order_created_at_ms = Some(1_692_086_400_000);
        order.pay_time_ms = Some(1_634_030_000_000);
        order.total_price = Some(dec("99.90"));
        order.currency = "USD".into();
        order.insurance = true;
        order.insurance_value = Some(dec("50"));
        order.user_nick = "1".into();
        order.items[0].shipping_price = Some(dec("1.5"));
        order.items[0].hs_code = "9403".into();
        let json = body(&CreateOrder::new("wk", &order));
        for part in [
            r#""packageType":"OWN_PAKAGE","trackingNumber":"1Z999","labelData":"JVBERi0xLjQ=","#,
            r#""codEnabled":1,"codPayAmount":30.00,"codCurrency":"USD","orderCreate":1692086400000,"#,
            r#""amount":0.10,"shippingPrice":1.5,"hsCode":"9403"}"#,
            r#""ext":[{"houseNumber":"12A"}],"totalPrice":99.90,"currency":"USD","payTimeLocal":1634030000000,"#,
            r#""isInsurance":1,"insuranceValue":50,"userNick":"1"}"#,
        ] {
            assert!(json.contains(part), "{part} not in {json}");
        }
        // The bytes are valid JSON with numbers where money goes.
        let value: Value = serde_json::from_str(&json).expect("json");
        assert!(value["freight"].is_number() && value["codPayAmount"].is_number());
    }

    #[test]
    fn asn_bodies_with_and_without_container_info() {
        let mut asn = NewAsn {
            asn_number: "A1".into(),
            warehouse_code: "TU02".into(),
            items: vec![AsnItem {
                sku: "SKU1".into(),
                name: String::new(),
                quantity: 3,
            }],
            custom_number: String::new(),
            estimated_arrival_ms: Some(1_692_086_400_000),
            track_number: String::new(),
            asn_type: "MANUAL".into(),
            order_number: String::new(),
            online_order_id: String::new(),
            sale_return_reason: String::new(),
            boxes: Vec::new(),
            goods_type: None,
            container_type: None,
            bulk_cargo_by_pallet: false,
            pallet_count: None,
            bulk_cargo_by_piece: false,
            container_model: String::new(),
        };
        assert_eq!(
            body(&CreateAsnOrder::new("wk", &asn)),
            r#"{"warehouseKey":"wk","asnNumber":"A1","warehouseCode":"TU02","estimatedArrivalDate":1692086400000,"type":"MANUAL","skuList":[{"sku":"SKU1","quantity":3}]}"#
        );
        asn.boxes = vec![AsnBox {
            box_number: Some(1),
            mark_code: "BOX001-1-1".into(),
            quantity: Some(3),
            sku: "SKU1".into(),
            name: String::new(),
            length: Some(dec("20.0")),
            width: Some(dec("19.1")),
            height: None,
            length_unit: "cm".into(),
        }];
        asn.goods_type = Some(1);
        asn.container_type = Some(1);
        asn.pallet_count = Some(2);
        asn.container_model = "20GP".into();
        let json = body(&CreateAsnOrder::new("wk", &asn));
        assert!(
            json.ends_with(concat!(
                r#""asnMarkSku":[{"boxNumber":1,"markCode":"BOX001-1-1","quantity":3,"sku":"SKU1","length":20.0,"width":19.1,"lengthUnit":"cm"}],"#,
                r#""incomingOrderGoodsType":1,"containerType":1,"bulkCargoType":0,"palletCnt":2,"bulkCargoTypePiece":0,"containerModel":"20GP"}"#
            )),
            "{json}"
        );
    }

    #[test]
    fn asn_lookup_cancel_and_inventory_bodies() {
        let asns = vec![AsnRef {
            asn_number: "A1".into(),
            reference_number: String::new(),
            asn_type: "PURCHASE".into(),
        }];
        assert_eq!(
            body(&GetAsnList::new("wk", "TU02", &asns)),
            r#"{"warehouseKey":"wk","warehouseCode":"TU02","asnNumbers":[{"asnNumber":"A1","refCode":"","type":"PURCHASE"}]}"#
        );
        let numbers = vec!["A1".to_owned(), "A2".to_owned()];
        assert_eq!(
            body(&CancelAsnOrder {
                warehouse_key: "wk",
                warehouse_code: "",
                asn_numbers: &numbers
            }),
            r#"{"warehouseKey":"wk","asnNumbers":["A1","A2"]}"#
        );
        let mut query = InventoryQuery {
            warehouse_code: "TU02".into(),
            page_size: 10,
            skus: Vec::new(),
            updated_since_ms: None,
        };
        assert_eq!(
            body(&SyncInventory::new("wk", &query, 1)),
            r#"{"warehouseKey":"wk","pageSize":10,"page":1,"warehouseCode":"TU02"}"#
        );
        query.skus = vec!["S1".into()];
        query.updated_since_ms = Some(1_758_617_060_000);
        assert_eq!(
            body(&SyncInventory::new("wk", &query, 3)),
            r#"{"warehouseKey":"wk","pageSize":10,"page":3,"warehouseCode":"TU02","warehouseSkuList":[{"warehouseSku":"S1"}],"updateTimeFrom":1758617060000}"#
        );
    }

    #[test]
    fn sku_body_has_numbers_and_a_currency_map() {
        let mut sku = SkuInfo {
            sku: "SKU1".into(),
            erp_sku: "E1".into(),
            ..Default::default()
        };
        assert_eq!(
            body(&InsertSkuInfo::new("wk", &sku)),
            r#"{"warehouseKey":"wk","sku":"SKU1","erpSku":"E1"}"#
        );
        sku.warehouse_code = "TU02".into();
        sku.weight = Some(dec("1.25"));
        sku.length = Some(dec("10"));
        sku.item_package = Some(1);
        sku.cd_price_method = Some(CustomsPriceMethod::Rate);
        sku.purchase_cost = Some(dec("12.10"));
        sku.purchase_cost_unit = "CNY".into();
        sku.currency_map = [
            ("USD".to_owned(), dec("7.10")),
            ("EUR".to_owned(), dec("7.8")),
        ]
        .into();
        assert_eq!(
            body(&InsertSkuInfo::new("wk", &sku)),
            concat!(
                r#"{"warehouseKey":"wk","warehouseCode":"TU02","sku":"SKU1","erpSku":"E1","weight":1.25,"#,
                r#""length":10,"itemPackage":1,"cdPriceMethod":"RATE","purchaseCost":12.10,"#,
                r#""purchaseCostUnit":"CNY","currencyMap":{"EUR":7.8,"USD":7.10}}"#
            )
        );
    }

    // --- answers (the spec's own examples first) --------------------------

    #[test]
    fn warehouses_from_the_example_the_table_or_a_bare_list() {
        let example = envelope(
            r#"{ "errorMsg": null, "result": { "warehouseInfoList": [ { "warehouseCode": "TU美东代理仓", "warehouseName": "TU01" }, { "warehouseCode": "TU美西自营仓", "warehouseName": "TU02" }, { "warehouseCode": "TU测试", "warehouseName": "TU03" } ] }, "success": true, "code": null }"#,
        );
        let list = warehouses(&result_of(&example)).expect("warehouses");
        assert_eq!(list.len(), 3);
        assert_eq!(
            (list[0].code.as_str(), list[0].name.as_str()),
            ("TU美东代理仓", "TU01")
        );

        let documented =
            json!({"warehouseList": [{"warehouseCode": 2, "warehouseName": "Two", "extra": true}]});
        assert_eq!(
            warehouses(&documented).expect("documented"),
            vec![Warehouse {
                code: "2".into(),
                name: "Two".into()
            }]
        );
        assert_eq!(
            warehouses(&json!([{"warehouseCode": "W"}])).expect("bare")[0].code,
            "W"
        );
        assert!(warehouses(&Value::Null).expect("null").is_empty());
    }

    #[test]
    fn channels_default_to_the_requested_warehouse() {
        let example = envelope(
            r#"{ "errorMsg": null, "result": { "channelList": [ { "channelCode": "Service with the lowest price", "channelName": "自动选取价格最低的渠道", "carrierName": "" } ] }, "success": true, "code": null }"#,
        );
        let list = channels(&result_of(&example), "TU02").expect("channels");
        assert_eq!(
            list,
            vec![Channel {
                code: "Service with the lowest price".into(),
                name: "自动选取价格最低的渠道".into(),
                warehouse_code: "TU02".into(),
                carrier_name: String::new(),
            }]
        );
        let own = json!({"channelList": [{"channelCode": "C", "warehouseCode": "OTHER", "carrierName": "UPS"}]});
        assert_eq!(
            channels(&own, "TU02").expect("channels")[0].warehouse_code,
            "OTHER"
        );
    }

    #[test]
    fn a_per_item_rejection_inside_a_transport_success_is_an_error() {
        // The spec's example, with its stray quote repaired.
        let example = envelope(
            r#"{ "errorMsg": null, "result": { "warehouseOrderNumber": "OBS0012508260RU", "orderNumber": "S20250923001", "info": "oms:LA02仓库未分配权限", "success": false }, "success": true, "code": null }"#,
        );
        match created_order(&result_of(&example), &example.code, "S20250923001") {
            Err(UpstreamErrorKind::Rejected { message, .. }) => {
                assert_eq!(message, "oms:LA02仓库未分配权限")
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        match created_order(&json!({"success": "false", "code": 40}), "", "S1") {
            Err(UpstreamErrorKind::Rejected { message, code }) => {
                assert!(!message.is_empty());
                assert_eq!(code, "40");
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        let accepted =
            created_order(&json!({"warehouseOrderNumber": "OBS1"}), "", "S1").expect("accepted");
        assert_eq!(
            accepted,
            CreatedOrder {
                order_number: "S1".into(),
                warehouse_order_number: "OBS1".into()
            }
        );
        assert!(
            created_order(
                &json!({"success": "true", "warehouseOrderNumber": 7}),
                "",
                "S1"
            )
            .is_ok()
        );
        assert!(created_order(&Value::Null, "", "S1").is_ok());

        let asn = envelope(
            r#"{ "errorMsg": null, "result": { "success": false, "asnNumber": "A20250923002", "info": "SKU:SKU092201未审核", "wmsAsnNumber": "" }, "success": true, "code": null }"#,
        );
        match created_asn(&result_of(&asn), &asn.code, "A20250923002") {
            Err(UpstreamErrorKind::Rejected { message, .. }) => {
                assert_eq!(message, "SKU:SKU092201未审核")
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        let made = created_asn(
            &json!({"success": true, "asnNumber": "A1", "wmsAsnNumber": "IB1"}),
            "",
            "A1",
        );
        assert_eq!(made.expect("created").wms_asn_number, "IB1");

        let sku = envelope(
            r#"{ "errorMsg": null, "result": { "sku": "SKU1", "operation": "CREATE", "info": "sku【SKU1】已被使用;", "success": false }, "success": true, "code": null }"#,
        );
        match sku_upserted(&result_of(&sku), &sku.code, "SKU1") {
            Err(UpstreamErrorKind::Rejected { message, .. }) => {
                assert_eq!(message, "sku【SKU1】已被使用;")
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        let upserted = sku_upserted(
            &json!({"sku": "SKU1", "operation": "UPDATE", "success": "true"}),
            "",
            "SKU1",
        );
        assert_eq!(upserted.expect("upserted").operation, "UPDATE");
    }

    #[test]
    fn cancel_orders_one_outcome_per_input_in_input_order() {
        let orders = refs(&["A", "B", "C"]);
        let all_ok = cancelled_orders(&Value::Null, &orders).expect("null result");
        assert_eq!(
            all_ok
                .iter()
                .map(|o| (o.id.as_str(), o.success))
                .collect::<Vec<_>>(),
            [("A", true), ("B", true), ("C", true)]
        );

        let bare = json!([
            {"orderNumber": "C", "success": "false", "info": "已出库"},
            {"orderNumber": "A", "success": true, "info": ""}
        ]);
        let outcomes = cancelled_orders(&bare, &orders).expect("bare list");
        assert_eq!(
            outcomes[0],
            ItemOutcome {
                id: "A".into(),
                success: true,
                message: String::new()
            }
        );
        assert!(outcomes[1].success, "not mentioned");
        assert_eq!(
            outcomes[2],
            ItemOutcome {
                id: "C".into(),
                success: false,
                message: "已出库".into()
            }
        );

        let wrapped = json!({"results": [{"orderNumber": "B", "info": "not found"}]});
        let outcomes = cancelled_orders(&wrapped, &orders).expect("wrapped");
        assert!(outcomes[0].success && !outcomes[1].success && outcomes[2].success);
        assert_eq!(outcomes[1].message, "not found");

        let single = json!({"orderNumber": "A", "success": false});
        let outcomes = cancelled_orders(&single, &orders[..1]).expect("single");
        assert!(!outcomes[0].success && !outcomes[0].message.is_empty());

        // Ids echoed with spaces still match.
        let spaced = json!([{"orderNumber": " B ", "success": false, "info": "已出库"}]);
        let outcomes = cancelled_orders(&spaced, &orders).expect("spaced");
        assert!(outcomes[0].success && !outcomes[1].success && outcomes[2].success);
    }

    #[test]
    fn a_cancel_refused_as_a_whole_fails_every_order() {
        // One object, no list and no order number: the whole call's answer,
        // as the spec's create examples refuse.
        let orders = refs(&["A", "B"]);
        for refusal in [
            json!({"success": false, "info": "oms:LA02仓库未分配权限"}),
            json!({"info": "oms:LA02仓库未分配权限"}),
        ] {
            let outcomes = cancelled_orders(&refusal, &orders).expect("outcomes");
            assert_eq!(
                outcomes
                    .iter()
                    .map(|o| (o.id.as_str(), o.success, o.message.as_str()))
                    .collect::<Vec<_>>(),
                [
                    ("A", false, "oms:LA02仓库未分配权限"),
                    ("B", false, "oms:LA02仓库未分配权限")
                ],
                "{refusal}"
            );
        }
        let numbers = vec!["X".to_owned(), "Y".to_owned()];
        let outcomes =
            cancelled_asns(&json!({"success": false, "info": "已完成"}), &numbers).expect("asns");
        assert!(outcomes.iter().all(|o| !o.success && o.message == "已完成"));
        let states =
            order_states(&json!({"success": false, "info": "查无此单"}), &orders).expect("states");
        assert!(states.iter().all(|s| s.error_message == "查无此单"));
        // A lone success naming nothing still only answers for its position.
        let outcomes = cancelled_orders(&json!({"success": true}), &orders).expect("outcomes");
        assert!(outcomes.iter().all(|o| o.success));
    }

    #[test]
    fn a_create_answer_with_words_and_no_number_is_a_refusal() {
        let refused = json!({"warehouseOrderNumber": "", "info": "oms:LA02仓库未分配权限"});
        assert!(matches!(
            created_order(&refused, "", "UNU1"),
            Err(UpstreamErrorKind::Rejected { ref message, .. }) if message == "oms:LA02仓库未分配权限"
        ));
        let refused_asn = json!({"info": "仓库不存在"});
        assert!(matches!(
            created_asn(&refused_asn, "", "A1"),
            Err(UpstreamErrorKind::Rejected { .. })
        ));
        // A number with words and no `success` was created.
        let created = json!({"warehouseOrderNumber": "OBS1", "info": "ok"});
        assert_eq!(
            created_order(&created, "", "UNU1")
                .expect("created")
                .warehouse_order_number,
            "OBS1"
        );
    }

    #[test]
    fn order_states_follow_the_input_and_mark_unreported_orders() {
        let example = envelope(
            r#"{ "errorMsg": null, "result": { "warehouseGetOrderList": [ { "orderNumber": "UNU250822163403", "wmsStatus": "0", "status": "SENDING" } ] }, "success": true, "code": null }"#,
        );
        let orders = refs(&["MISSING", "UNU250822163403"]);
        let states = order_states(&result_of(&example), &orders).expect("states");
        assert_eq!(
            states[0],
            OrderState::unreported("MISSING", "the warehouse did not report this order")
        );
        assert_eq!(states[1].order_number, "UNU250822163403");
        assert_eq!(states[1].wms_status, "0");
        assert_eq!(states[1].status, OrderStatus::Sending);
        assert!(states[1].error_message.is_empty());

        let shipped = json!({"orderList": [{"orderNumber": "S1", "wmsStatus": 3, "status": "success", "carrierName": "FEDEX", "trackingNumber": "T1"}]});
        let states = order_states(&shipped, &refs(&["S1"])).expect("states");
        assert_eq!(
            (
                states[0].status,
                states[0].wms_status.as_str(),
                states[0].tracking_number.as_str()
            ),
            (OrderStatus::Success, "3", "T1")
        );

        // "wmsStatus needs to be mapped by yourself": a warehouse that
        // leaves `status` out is read from its own word.
        let wms_only =
            json!({"warehouseGetOrderList": [{"orderNumber": "S2", "wmsStatus": "Shipped"}]});
        let states = order_states(&wms_only, &refs(&["S2"])).expect("states");
        assert_eq!(states[0].status, OrderStatus::Success);
    }

    #[test]
    fn asn_states_with_numbers_as_strings() {
        let example = envelope(
            r#"{ "errorMsg": null, "result": { "asnList": [ { "asnNumber": "A250822163405", "wmsStatus": "NEW", "referenceNumber": "IB001250822RS" } ] }, "success": true, "code": null }"#,
        );
        let states = asn_states(&result_of(&example)).expect("asns");
        assert_eq!(states[0].status, AsnStatus::New);
        assert_eq!(states[0].reference_number, "IB001250822RS");
        assert!(states[0].items.is_empty());

        let received = json!({"asnList": [{"asnNumber": "A1", "wmsStatus": "finished", "finishTime": 1700000000000_i64,
            "skuList": [{"sku": "S", "estimatedQuantity": "10", "receivedQuantity": 9, "goodQuantity": "8", "badQuantity": null}]}]});
        let states = asn_states(&received).expect("asns");
        assert_eq!(states[0].status, AsnStatus::Finished);
        assert_eq!(states[0].finish_time, "1700000000000");
        assert_eq!(
            states[0].items[0],
            AsnReceipt {
                sku: "S".into(),
                name: String::new(),
                estimated_quantity: 10,
                received_quantity: 9,
                good_quantity: 8,
                bad_quantity: 0,
            }
        );
    }

    #[test]
    fn asn_cancel_outcomes_per_input() {
        let example = envelope(
            r#"{ "errorMsg": null, "result": { "results": [ { "asnNumber": "A250828163429", "operation": "CANCEL", "info": "", "success": true } ] }, "success": true, "code": null }"#,
        );
        let numbers = vec!["X".to_owned(), "A250828163429".to_owned(), "F".to_owned()];
        let mut result = result_of(&example).into_owned();
        result["results"]
            .as_array_mut()
            .expect("list")
            .push(json!({"asnNumber": "F", "operation": "CANCEL", "info": "已完成"}));
        let outcomes = cancelled_asns(&result, &numbers).expect("outcomes");
        assert_eq!(outcomes.len(), 3);
        assert!(outcomes[0].success, "not mentioned");
        assert_eq!(
            (outcomes[1].success, outcomes[1].operation.as_str()),
            (true, "CANCEL")
        );
        assert_eq!(
            (outcomes[2].success, outcomes[2].message.as_str()),
            (false, "已完成")
        );
    }

    #[test]
    fn inventory_as_the_examples_bare_array() {
        let example = envelope(
            r#"{ "errorMsg": null, "result": [ { "warehouseCode": "TU02", "warehouseSku": "LINGXING-SKUE", "onwayQuantity": "0", "pendingQuantity": "0", "sellableQuantity": "10", "unsellableQuantity": "0", "reservedQuantity": "0", "useQuantity": "0", "totalQuantity": "550" }, { "warehouseCode": "TU02", "warehouseSku": "pikaqiu", "onwayQuantity": "30", "pendingQuantity": "0", "sellableQuantity": "6463", "unsellableQuantity": "999", "reservedQuantity": "0", "useQuantity": "54", "totalQuantity": "7877" } ], "success": true, "code": null }"#,
        );
        let full = inventory_page(&result_of(&example), 1, 2).expect("page");
        assert_eq!(
            (
                full.page,
                full.page_count,
                full.is_last_page,
                full.items.len()
            ),
            (1, 0, false, 2)
        );
        assert_eq!(
            full.items[1],
            InventoryItem {
                sku: "pikaqiu".into(),
                warehouse_code: "TU02".into(),
                sellable: 6463,
                total: 7877,
                onway: 30,
                pending: 0,
                unsellable: 999,
                reserved: 0,
                used: 54,
            }
        );
        let short = inventory_page(&result_of(&example), 4, 10).expect("page");
        assert!(short.is_last_page, "shorter than page_size");
        let long = inventory_page(&result_of(&example), 1, 1).expect("page");
        assert!(long.is_last_page, "longer than page_size: paging ignored");
        assert_eq!(long.items.len(), 2);
        let typed = typed_inventory_page(
            br#"{"success":true,"result":[{"warehouseSku":"A"},{"warehouseSku":"B"}]}"#,
            1,
            1,
        )
        .expect("typed");
        assert!(typed.is_last_page, "the typed reader agrees");
        let empty = inventory_page(&json!([]), 2, 10).expect("page");
        assert!(empty.is_last_page && empty.items.is_empty());
        assert!(
            inventory_page(&Value::Null, 1, 10)
                .expect("null")
                .is_last_page
        );
    }

    #[test]
    fn inventory_as_the_documented_page_object() {
        let item = json!({"warehouseCode": "TU02", "warehouseSku": "A", "sellableQuantity": 5, "totalQuantity": "6"});
        let first = json!({"isLastPage": "false", "currentPage": "1", "pageCount": "3", "data": [item.clone()]});
        let page = inventory_page(&first, 1, 1).expect("page");
        assert_eq!(
            (page.page, page.page_count, page.is_last_page),
            (1, 3, false)
        );
        assert_eq!((page.items[0].sellable, page.items[0].total), (5, 6));

        let by_count = json!({"currentPage": 3, "pageCount": 3, "data": [item.clone()]});
        assert!(
            inventory_page(&by_count, 3, 1).expect("page").is_last_page,
            "page >= pageCount"
        );
        let by_flag = json!({"isLastPage": true, "pageCount": 0, "data": [item.clone()]});
        assert!(inventory_page(&by_flag, 1, 1).expect("page").is_last_page);
        let not_last = json!({"isLastPage": false, "pageCount": 0, "data": [item]});
        assert!(
            !inventory_page(&not_last, 1, 50).expect("page").is_last_page,
            "the flag wins over the size"
        );
    }

    /// The tolerant reader's page for a whole answer, for comparison.
    fn tolerant_page(answer: &str, page: u32, page_size: u32) -> InventoryPage {
        inventory_page(&result_of(&envelope(answer)), page, page_size).expect("tolerant page")
    }

    #[test]
    fn typed_inventory_pages_agree_with_the_tolerant_reader() {
        let row = r#"{"warehouseCode":"TU02","warehouseSku":"A","onwayQuantity":"3","pendingQuantity":null,"sellableQuantity":5,"unsellableQuantity":"","reservedQuantity":1.0,"useQuantity":" 2 ","totalQuantity":"6","extra":{"x":[1]}}"#;
        let answers = [
            format!(r#"{{"success":true,"result":[{row},{row}],"errorMsg":null}}"#),
            format!(r#"{{"success":"true","result":[{row}]}}"#),
            format!(
                r#"{{"success":true,"result":{{"isLastPage":"false","currentPage":"1","pageCount":"3","data":[{row}]}}}}"#
            ),
            format!(
                r#"{{"success":1,"result":{{"isLastPage":true,"pageCount":0,"list":[{row}]}}}}"#
            ),
            format!(
                r#"{{"success":true,"result":{{"isLastPage":null,"pageCount":-1,"records":[{row}]}}}}"#
            ),
            r#"{"success":true,"result":{"isLastPage":false,"data":[]}}"#.to_owned(),
            r#"{"success":true,"result":[]}"#.to_owned(),
        ];
        for answer in &answers {
            for (page, page_size) in [(1, 1), (1, 5), (3, 1)] {
                let typed = typed_inventory_page(answer.as_bytes(), page, page_size)
                    .unwrap_or_else(|| panic!("the typed path declined {answer}"));
                assert_eq!(
                    typed,
                    tolerant_page(answer, page, page_size),
                    "{answer} page {page} of {page_size}"
                );
            }
        }
        let typed = typed_inventory_page(answers[0].as_bytes(), 1, 2).expect("typed");
        assert_eq!(
            (
                typed.items[0].onway,
                typed.items[0].pending,
                typed.items[0].unsellable,
                typed.items[0].reserved,
                typed.items[0].used
            ),
            (3, 0, 0, 1, 2)
        );
    }

    #[test]
    fn unusual_inventory_answers_are_left_to_the_tolerant_reader() {
        let row = r#"{"warehouseSku":"A","sellableQuantity":5}"#;
        for answer in [
            // No `success`, a rejection, a result encoded twice.
            format!(r#"{{"result":[{row}]}}"#),
            r#"{"success":false,"errorMsg":"no"}"#.to_owned(),
            format!(
                r#"{{"success":true,"result":"[{}]"}}"#,
                row.replace('"', "\\\"")
            ),
            // One row instead of a list, a list under an unknown key, two lists.
            format!(r#"{{"success":true,"result":{row}}}"#),
            format!(r#"{{"success":true,"result":{{"pageCount":1,"items":[{row}]}}}}"#),
            format!(r#"{{"success":true,"result":{{"data":[{row}],"list":[{row}]}}}}"#),
            // A null row, a count that is not a number, not JSON at all.
            format!(r#"{{"success":true,"result":[{row},null]}}"#),
            format!(r#"{{"success":true,"result":{{"pageCount":"many","data":[{row}]}}}}"#),
            "<html>".to_owned(),
        ] {
            assert_eq!(
                typed_inventory_page(answer.as_bytes(), 1, 10),
                None,
                "{answer}"
            );
        }
    }

    #[test]
    fn a_result_encoded_twice_is_decoded() {
        let twice = envelope(
            r#"{"success":true,"result":"{\"warehouseList\":[{\"warehouseCode\":\"W\"}]}"}"#,
        );
        assert_eq!(
            warehouses(&result_of(&twice)).expect("warehouses")[0].code,
            "W"
        );
    }
}
