//! The Qianyi wire format: the business `content` of each method, built from
//! domain types with the spec's camelCase names, and the answers read
//! tolerantly back into domain types. No I/O, no signing here.
//!
//! Content rules: optional text that is empty is omitted, money and
//! dimensions are JSON numbers with the decimal's exact text (never through
//! `f64`), quantities are integers and times epoch milliseconds. Only the
//! fields of the Qianyi tables are sent, never the qlink-only ones.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde::{
    Deserialize, Deserializer, Serialize,
    de::{self, MapAccess, SeqAccess, Visitor},
};
use serde_json::Value;

use crate::{
    domain::{
        AsnReceipt, AsnState, AsnStatus, Channel, InventoryItem, NewAsn, NewOrder, OrderState,
        OrderStatus, Package, SkuInfo, Warehouse,
    },
    upstream::{
        UpstreamErrorKind,
        lenient::{
            bool_of, de_bool, de_i64, de_list, de_string, from_value, int_of, list_of, string_of,
        },
    },
};

// ---------------------------------------------------------------------------
// Content (requests)
// ---------------------------------------------------------------------------

pub(super) use crate::upstream::number::Num;

/// `None` for "not given" text, so it is omitted.
fn given(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// `channels`: the optional warehouse filter.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WarehouseFilter<'a> {
    pub warehouse_code: &'a str,
}

/// `createOrder`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderContent<'a> {
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
    #[serde(skip_serializing_if = "Option::is_none")]
    online_shop_id: Option<&'a str>,
    receiver: ReceiverContent<'a>,
    sku_list: Vec<OrderLineContent<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReceiverContent<'a> {
    name: &'a str,
    phone: &'a str,
    /// Always sent: the spec marks it required, and "" is accepted.
    email: &'a str,
    country: &'a str,
    state: &'a str,
    city: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    district: Option<&'a str>,
    address1: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    address2: Option<&'a str>,
    postal_code: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderLineContent<'a> {
    sku: &'a str,
    erp_sku: &'a str,
    name: &'a str,
    quantity: u32,
    amount: Num,
    #[serde(skip_serializing_if = "Option::is_none")]
    shipping_price: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hs_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chinese_customs_declaration_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    english_customs_declaration_name: Option<&'a str>,
}

impl<'a> OrderContent<'a> {
    pub fn new(order: &'a NewOrder) -> Self {
        let (package_type, tracking_number, label_data) = match &order.package {
            Package::Normal => ("NORMAL", None, None),
            Package::SelfShipped {
                tracking_number,
                label_pdf,
            } => (
                "OWN_PACKAGE",
                Some(tracking_number.as_str()),
                Some(STANDARD.encode(label_pdf)),
            ),
        };
        let receiver = &order.receiver;
        Self {
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
            cod_enabled: u8::from(order.cod.is_some()),
            cod_pay_amount: order.cod.as_ref().map(|cod| Num(cod.amount)),
            cod_currency: order.cod.as_ref().map(|cod| cod.currency.as_str()),
            order_create: order.order_created_at_ms,
            delivery_time: order.delivery_time_ms,
            online_shop_id: given(&order.online_shop_id),
            receiver: ReceiverContent {
                name: &receiver.name,
                phone: &receiver.phone,
                email: &receiver.email,
                country: &receiver.country,
                state: &receiver.state,
                city: &receiver.city,
                district: given(&receiver.district),
                address1: &receiver.address1,
                address2: given(&receiver.address2),
                postal_code: &receiver.postal_code,
            },
            sku_list: order
                .items
                .iter()
                .map(|item| OrderLineContent {
                    sku: &item.sku,
                    erp_sku: &item.erp_sku,
                    name: &item.name,
                    quantity: item.quantity,
                    amount: Num(item.amount),
                    shipping_price: item.shipping_price.map(Num),
                    hs_code: given(&item.hs_code),
                    chinese_customs_declaration_name: given(&item.chinese_customs_declaration_name),
                    english_customs_declaration_name: given(&item.english_customs_declaration_name),
                })
                .collect(),
        }
    }
}

/// `cancelOrder` and `getOrder`: one order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRefContent<'a> {
    order_number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    warehouse_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warehouse_order_number: Option<&'a str>,
}

impl<'a> OrderRefContent<'a> {
    pub fn new(
        order_number: &'a str,
        warehouse_code: &'a str,
        warehouse_order_number: &'a str,
    ) -> Self {
        Self {
            order_number,
            warehouse_code: given(warehouse_code),
            warehouse_order_number: given(warehouse_order_number),
        }
    }
}

/// `syncInventory`: the table's names and Integer types (the spec's example
/// with `"pageSize "` and string numbers is a documentation slip).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryContent<'a> {
    pub page_size: u32,
    pub page: u32,
    pub warehouse_code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse_sku: Option<&'a str>,
}

/// `createAsnOrder`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AsnContent<'a> {
    asn_number: &'a str,
    warehouse_code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    estimated_arrival_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    track_number: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    asn_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    online_order_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sale_return_reason: Option<&'a str>,
    sku_list: Vec<AsnLineContent<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    asn_mark_sku: Vec<AsnBoxContent<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AsnLineContent<'a> {
    sku: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    quantity: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AsnBoxContent<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    box_number: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mark_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quantity: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sku: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    length: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<Num>,
}

impl<'a> AsnContent<'a> {
    pub fn new(asn: &'a NewAsn) -> Self {
        Self {
            asn_number: &asn.asn_number,
            warehouse_code: &asn.warehouse_code,
            custom_number: given(&asn.custom_number),
            estimated_arrival_date: asn.estimated_arrival_ms,
            track_number: given(&asn.track_number),
            asn_type: given(&asn.asn_type),
            order_number: given(&asn.order_number),
            online_order_id: given(&asn.online_order_id),
            sale_return_reason: given(&asn.sale_return_reason),
            sku_list: asn
                .items
                .iter()
                .map(|item| AsnLineContent {
                    sku: &item.sku,
                    name: given(&item.name),
                    quantity: item.quantity,
                })
                .collect(),
            asn_mark_sku: asn
                .boxes
                .iter()
                .map(|packing| AsnBoxContent {
                    box_number: packing.box_number,
                    mark_code: given(&packing.mark_code),
                    quantity: packing.quantity,
                    sku: given(&packing.sku),
                    name: given(&packing.name),
                    length: packing.length.map(Num),
                    width: packing.width.map(Num),
                    height: packing.height.map(Num),
                })
                .collect(),
        }
    }
}

/// `getAsnList` and `cancelAsnOrder`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AsnNumbersContent<'a> {
    asn_numbers: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warehouse_code: Option<&'a str>,
}

impl<'a> AsnNumbersContent<'a> {
    pub fn new(asn_numbers: Vec<&'a str>, warehouse_code: &'a str) -> Self {
        Self {
            asn_numbers,
            warehouse_code: given(warehouse_code),
        }
    }
}

/// `insert_sku_info`: only the Qianyi table's fields.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkuContent<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    warehouse_code: Option<&'a str>,
    sku: &'a str,
    erp_sku: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    barcode: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    specifications: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    weight: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    net_weight: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    weight_unit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    length: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimension_unit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item_package: Option<u32>,
}

impl<'a> SkuContent<'a> {
    pub fn new(sku: &'a SkuInfo) -> Self {
        Self {
            warehouse_code: given(&sku.warehouse_code),
            sku: &sku.sku,
            erp_sku: &sku.erp_sku,
            title: given(&sku.title),
            barcode: given(&sku.barcode),
            specifications: given(&sku.specifications),
            image_url: given(&sku.image_url),
            weight: sku.weight.map(Num),
            net_weight: sku.net_weight.map(Num),
            weight_unit: given(&sku.weight_unit),
            length: sku.length.map(Num),
            width: sku.width.map(Num),
            height: sku.height.map(Num),
            dimension_unit: given(&sku.dimension_unit),
            item_package: sku.item_package,
        }
    }
}

// ---------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------

/// `deserialize_with` for a flag that may be absent: `null` is `None`.
fn de_opt_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    Ok((!value.is_null()).then(|| bool_of(&value)))
}

/// The list under one of `keys`: at the top of the answer, else inside a
/// `data` object, else `data` itself (a `data` object holding no such list is
/// one record); the answer's only list otherwise.
fn answer_list<'a>(root: &'a Value, keys: &[&str]) -> Vec<&'a Value> {
    let holds_list = |scope: &Value, key: &str| {
        matches!(scope.get(key), Some(Value::Array(_) | Value::Object(_)))
    };
    let list_keys: Vec<&str> = keys.iter().copied().filter(|key| *key != "data").collect();
    // Only named keys inside `data`: a record's own lists (an ASN's
    // `skuList`) are not the answer's list.
    if let Some(data @ Value::Object(_)) = root.get("data")
        && !list_keys.iter().any(|key| holds_list(root, key))
        && list_keys.iter().any(|key| holds_list(data, key))
    {
        return list_of(data, &list_keys);
    }
    list_of(root, keys)
}

fn items_of<T: serde::de::DeserializeOwned>(
    root: &Value,
    keys: &[&str],
    what: &str,
) -> Result<Vec<T>, UpstreamErrorKind> {
    answer_list(root, keys)
        .into_iter()
        .map(|item| from_value(item, what))
        .collect()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireWarehouse {
    #[serde(default, deserialize_with = "de_string", alias = "code")]
    warehouse_code: String,
    #[serde(default, deserialize_with = "de_string", alias = "name")]
    warehouse_name: String,
}

/// `warehouses`: `warehouseList`.
pub fn warehouses(root: &Value) -> Result<Vec<Warehouse>, UpstreamErrorKind> {
    let items: Vec<WireWarehouse> = items_of(
        root,
        &["warehouseList", "warehouseInfoList", "warehouses", "data"],
        "warehouseList item",
    )?;
    Ok(items
        .into_iter()
        .map(|wh| Warehouse {
            code: wh.warehouse_code,
            name: wh.warehouse_name,
        })
        .collect())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireChannel {
    #[serde(default, deserialize_with = "de_string", alias = "code")]
    channel_code: String,
    #[serde(default, deserialize_with = "de_string", alias = "name")]
    channel_name: String,
    #[serde(default, deserialize_with = "de_string")]
    warehouse_code: String,
    #[serde(default, deserialize_with = "de_string")]
    carrier_name: String,
}

/// `channels`: `channelList`; a channel without its warehouse belongs to
/// the one asked about.
pub fn channels(
    root: &Value,
    requested_warehouse: &str,
) -> Result<Vec<Channel>, UpstreamErrorKind> {
    let items: Vec<WireChannel> = items_of(
        root,
        &["channelList", "channels", "data"],
        "channelList item",
    )?;
    Ok(items
        .into_iter()
        .map(|channel| Channel {
            code: channel.channel_code,
            name: channel.channel_name,
            warehouse_code: if channel.warehouse_code.is_empty() {
                requested_warehouse.to_owned()
            } else {
                channel.warehouse_code
            },
            carrier_name: channel.carrier_name,
        })
        .collect())
}

/// `createOrder`: `data.warehouseOrderNumber`, or at the top; "" when the
/// warehouse does not say.
pub fn warehouse_order_number(root: &Value) -> String {
    [root.get("data"), Some(root)]
        .into_iter()
        .flatten()
        .filter_map(|scope| scope.get("warehouseOrderNumber"))
        .map(string_of)
        .find(|number| !number.is_empty())
        .unwrap_or_default()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireOrder {
    #[serde(default, deserialize_with = "de_string")]
    wms_status: String,
    #[serde(default, deserialize_with = "de_string")]
    status: String,
    // getOrder's names, then the pushes' (`carrier`, `trackNumber`): some
    // warehouses answer with those, or with both. Not serde aliases, which
    // refuse an answer holding both.
    #[serde(default, deserialize_with = "de_string")]
    carrier_name: String,
    #[serde(default, deserialize_with = "de_string")]
    carrier: String,
    #[serde(default, deserialize_with = "de_string")]
    tracking_number: String,
    #[serde(default, deserialize_with = "de_string")]
    track_number: String,
    #[serde(default, deserialize_with = "de_string")]
    failed_reason: String,
}

/// `preferred` unless it is empty, else `fallback`.
fn given_or(preferred: String, fallback: String) -> String {
    if preferred.is_empty() {
        fallback
    } else {
        preferred
    }
}

/// `getOrder`: the `data` object (or a list holding it, or the fields at the
/// top). An answer naming no status reports nothing about the order. The
/// state is reported under the order asked about: one call asks about one
/// order, and the answer's `orderNumber` may be another name for it (the
/// spec's example asks for CESH210204147401 and is answered S0000001).
pub fn order_state(root: &Value, order_number: &str) -> Result<OrderState, UpstreamErrorKind> {
    let has_status =
        |value: &Value| value.get("status").is_some() || value.get("wmsStatus").is_some();
    let record = match root.get("data") {
        Some(data @ Value::Object(_)) => Some(data),
        Some(Value::Array(items)) => items
            .iter()
            .find(|item| {
                item.get("orderNumber")
                    .is_some_and(|number| string_of(number) == order_number)
            })
            .or_else(|| items.first()),
        _ => has_status(root).then_some(root),
    };
    let Some(record) = record.filter(|record| has_status(record)) else {
        return Ok(OrderState::unreported(
            order_number,
            "the warehouse answered without the order's status",
        ));
    };
    let wire: WireOrder = from_value(record, "getOrder data")?;
    Ok(OrderState {
        order_number: order_number.to_owned(),
        status: OrderStatus::from_status_or_wms(&wire.status, &wire.wms_status),
        wms_status: wire.wms_status,
        carrier_name: given_or(wire.carrier_name, wire.carrier),
        tracking_number: given_or(wire.tracking_number, wire.track_number),
        failed_reason: wire.failed_reason,
        error_message: String::new(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireStock {
    #[serde(default, deserialize_with = "de_string")]
    warehouse_code: String,
    #[serde(default, deserialize_with = "de_string", alias = "sku")]
    warehouse_sku: String,
    #[serde(default, deserialize_with = "de_i64")]
    onway_quantity: i64,
    #[serde(default, deserialize_with = "de_i64")]
    pending_quantity: i64,
    #[serde(default, deserialize_with = "de_i64")]
    sellable_quantity: i64,
    #[serde(default, deserialize_with = "de_i64")]
    unsellable_quantity: i64,
    #[serde(default, deserialize_with = "de_i64")]
    reserved_quantity: i64,
    #[serde(default, deserialize_with = "de_i64")]
    use_quantity: i64,
    #[serde(default, deserialize_with = "de_i64")]
    total_quantity: i64,
}

/// One `syncInventory` answer, before the pager decides what comes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryAnswer {
    pub items: Vec<InventoryItem>,
    /// `isLastPage`, when the warehouse says.
    pub is_last_page: Option<bool>,
    /// `currentPage`, when the warehouse says.
    pub current_page: Option<i64>,
    /// `pageCount`, when the warehouse says.
    pub page_count: Option<i64>,
}

/// `syncInventory`: paging fields and `data` at the top (the spec), or a
/// page object in `data`, or `data` as a bare list.
pub fn inventory_page(root: &Value) -> Result<InventoryAnswer, UpstreamErrorKind> {
    const META: [&str; 3] = ["isLastPage", "currentPage", "pageCount"];
    const ITEM_KEYS: [&str; 4] = INVENTORY_ITEM_KEYS;
    let page_object = match root.get("data") {
        Some(data @ Value::Object(fields))
            if META
                .iter()
                .chain(&ITEM_KEYS)
                .any(|key| fields.contains_key(*key)) =>
        {
            Some(data)
        }
        _ => None,
    };
    // The page's own fields first, then the top-level ones.
    let meta = |key: &str| {
        page_object
            .and_then(|page| page.get(key))
            .filter(|value| !value.is_null())
            .or_else(|| root.get(key).filter(|value| !value.is_null()))
    };
    let rows = match page_object {
        Some(page) => list_of(page, &ITEM_KEYS),
        None => match root.get("data") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            _ => list_of(root, &ITEM_KEYS),
        },
    };
    let items = rows
        .into_iter()
        .map(|row| from_value::<WireStock>(row, "syncInventory item").map(InventoryItem::from))
        .collect::<Result<_, UpstreamErrorKind>>()?;
    Ok(InventoryAnswer {
        items,
        is_last_page: meta("isLastPage").map(bool_of),
        current_page: meta("currentPage").and_then(int_of),
        page_count: meta("pageCount").and_then(int_of),
    })
}

/// Where a page object keeps its rows, in the order [`inventory_page`]
/// looks.
const INVENTORY_ITEM_KEYS: [&str; 4] = ["data", "list", "inventoryList", "records"];

/// The fast way through a whole `syncInventory` answer, straight from its
/// bytes into typed rows: `None` unless it is `success: true` with `data` a
/// list of rows or a page object holding exactly one list of rows under one
/// of [`INVENTORY_ITEM_KEYS`]. Pages are the bulk of what the facade parses,
/// and a `Value` tree costs about twice as much; every other shape (and
/// every failure) is left to the envelope and [`inventory_page`], which read
/// the usual shapes the same way.
pub fn typed_inventory_page(answer: &[u8]) -> Option<InventoryAnswer> {
    let answer: TypedInventoryAnswer = serde_json::from_slice(answer).ok()?;
    if !answer.success {
        return None;
    }
    let TypedInventoryData { rows, meta } = answer.data;
    // The page object's paging fields first, then the top-level ones.
    let is_last_page = meta.is_last_page.or(answer.meta.is_last_page);
    let current_page = meta.current_page.or(answer.meta.current_page);
    let page_count = meta.page_count.or(answer.meta.page_count);
    Some(InventoryAnswer {
        items: rows.into_iter().map(InventoryItem::from).collect(),
        is_last_page: is_last_page.as_ref().map(bool_of),
        current_page: current_page.as_ref().and_then(int_of),
        page_count: page_count.as_ref().and_then(int_of),
    })
}

impl From<WireStock> for InventoryItem {
    fn from(stock: WireStock) -> Self {
        InventoryItem {
            sku: stock.warehouse_sku,
            warehouse_code: stock.warehouse_code,
            sellable: stock.sellable_quantity,
            total: stock.total_quantity,
            onway: stock.onway_quantity,
            pending: stock.pending_quantity,
            unsellable: stock.unsellable_quantity,
            reserved: stock.reserved_quantity,
            used: stock.use_quantity,
        }
    }
}

/// An answer's paging fields; null counts as absent, as in the tolerant
/// reader, and the values are read by the same `bool_of` / `int_of`.
#[derive(Default, Deserialize)]
struct PagingFields {
    #[serde(rename = "isLastPage", default)]
    is_last_page: Option<Value>,
    #[serde(rename = "currentPage", default)]
    current_page: Option<Value>,
    #[serde(rename = "pageCount", default)]
    page_count: Option<Value>,
}

#[derive(Deserialize)]
struct TypedInventoryAnswer {
    /// Required here: an answer without it goes the tolerant way.
    #[serde(deserialize_with = "de_bool")]
    success: bool,
    data: TypedInventoryData,
    #[serde(flatten)]
    meta: PagingFields,
}

/// `data` as a list of rows, or as a page object with exactly one list of
/// rows under an item key; anything else fails, which sends the answer the
/// tolerant way.
struct TypedInventoryData {
    rows: Vec<WireStock>,
    meta: PagingFields,
}

impl<'de> Deserialize<'de> for TypedInventoryData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TypedInventoryDataVisitor)
    }
}

struct TypedInventoryDataVisitor;

impl<'de> Visitor<'de> for TypedInventoryDataVisitor {
    type Value = TypedInventoryData;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of inventory rows or a page object holding one")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Ok(TypedInventoryData {
            rows: Vec::deserialize(de::value::SeqAccessDeserializer::new(seq))?,
            meta: PagingFields::default(),
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut rows = None;
        let mut meta = PagingFields::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_ref() {
                "isLastPage" => meta.is_last_page = map.next_value()?,
                "currentPage" => meta.current_page = map.next_value()?,
                "pageCount" => meta.page_count = map.next_value()?,
                key if INVENTORY_ITEM_KEYS.contains(&key) => {
                    if rows.is_some() {
                        return Err(de::Error::custom("more than one list of rows"));
                    }
                    rows = Some(map.next_value::<Vec<WireStock>>()?);
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        // A `data` object without a list is one row, or something odd.
        let rows = rows.ok_or_else(|| de::Error::custom("no list of rows"))?;
        Ok(TypedInventoryData { rows, meta })
    }
}

/// One entry of `results` (createAsnOrder, cancelAsnOrder, insert_sku_info).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ResultItem {
    #[serde(default, deserialize_with = "de_string")]
    pub asn_number: String,
    #[serde(default, deserialize_with = "de_string")]
    pub sku: String,
    #[serde(default, deserialize_with = "de_string")]
    pub operation: String,
    #[serde(default, deserialize_with = "de_string")]
    pub info: String,
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub success: Option<bool>,
    #[serde(default, deserialize_with = "de_string")]
    pub wms_asn_number: String,
}

/// `results`, at the top or inside `data`; one object counts as a list of one.
pub fn results(root: &Value) -> Result<Vec<ResultItem>, UpstreamErrorKind> {
    let lists = [
        root.get("results"),
        root.get("data").and_then(|data| data.get("results")),
    ];
    match lists.into_iter().flatten().find(|list| !list.is_null()) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| from_value(item, "results item"))
            .collect(),
        Some(one @ Value::Object(_)) => Ok(vec![from_value(one, "results item")?]),
        Some(other) => Err(UpstreamErrorKind::Malformed(format!(
            "results: expected a list, got {other}"
        ))),
        None => Ok(Vec::new()),
    }
}

/// `createAsnOrder`: the warehouse's own number, from `data.wmsAsnNumber`,
/// `wmsAsnNumber` or the first result; "" when it does not say.
pub fn wms_asn_number(root: &Value, results: &[ResultItem]) -> String {
    [root.get("data"), Some(root)]
        .into_iter()
        .flatten()
        .filter_map(|scope| scope.get("wmsAsnNumber"))
        .map(string_of)
        .chain(results.first().map(|item| item.wms_asn_number.clone()))
        .find(|number| !number.is_empty())
        .unwrap_or_default()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAsn {
    #[serde(default, deserialize_with = "de_string")]
    asn_number: String,
    #[serde(default, deserialize_with = "de_string")]
    wms_status: String,
    #[serde(default, deserialize_with = "de_string")]
    reference_number: String,
    #[serde(default, deserialize_with = "de_string")]
    finish_time: String,
    #[serde(default, deserialize_with = "de_list")]
    sku_list: Vec<WireAsnLine>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAsnLine {
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

/// `getAsnList`: `asnList`.
pub fn asn_states(root: &Value) -> Result<Vec<AsnState>, UpstreamErrorKind> {
    let items: Vec<WireAsn> = items_of(root, &["asnList", "asns", "data", "list"], "asnList item")?;
    Ok(items
        .into_iter()
        .map(|asn| AsnState {
            status: AsnStatus::from_wire(&asn.wms_status),
            asn_number: asn.asn_number,
            wms_status: asn.wms_status,
            reference_number: asn.reference_number,
            finish_time: asn.finish_time,
            items: asn
                .sku_list
                .into_iter()
                .map(|line| AsnReceipt {
                    sku: line.sku,
                    name: line.name,
                    estimated_quantity: line.estimated_quantity,
                    received_quantity: line.received_quantity,
                    good_quantity: line.good_quantity,
                    bad_quantity: line.bad_quantity,
                })
                .collect(),
        })
        .collect())
}
