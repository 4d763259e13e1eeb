//! qlink's request bodies, borrowed from the domain types: the shared
//! shapes of [`crate::upstream::requests`] with the `warehouseKey` every
//! body carries and the fields only qlink's tables have.
//!
//! `warehouseKey` is an array for initWarehouses, initChannels and
//! cancelOrder (the tables say Array; the cancelOrder example sends a
//! string) and a string elsewhere.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{
    domain::{AsnRef, NewAsn, NewOrder, OrderRef, SkuInfo},
    upstream::{
        pager::Page,
        requests::{Asn, Num, Order, Sku, is_empty, num},
    },
};

/// `initWarehouses` and `initChannels`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListBody<'a> {
    warehouse_key: [&'a str; 1],
    #[serde(skip_serializing_if = "is_empty")]
    warehouse_code: &'a str,
}

impl<'a> ListBody<'a> {
    /// `warehouse_code` narrows initChannels; "" for all.
    pub fn new(warehouse_key: &'a str, warehouse_code: &'a str) -> Self {
        Self {
            warehouse_key: [warehouse_key],
            warehouse_code,
        }
    }
}

/// `createOrder`, in the spec table's order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CreateOrder<'a> {
    warehouse_key: &'a str,
    #[serde(flatten)]
    order: Order<'a>,
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
struct OrderExt<'a> {
    house_number: &'a str,
}

impl<'a> CreateOrder<'a> {
    pub fn new(warehouse_key: &'a str, order: &'a NewOrder) -> Self {
        Self {
            warehouse_key,
            // qlink's own spelling.
            order: Order::new(order, "OWN_PAKAGE"),
            ext: (!order.house_number.is_empty()).then(|| {
                [OrderExt {
                    house_number: &order.house_number,
                }]
            }),
            total_price: num(order.total_price),
            currency: &order.currency,
            pay_time_local: order.pay_time_ms,
            is_insurance: u8::from(order.insurance),
            insurance_value: num(order.insurance_value),
            user_nick: &order.user_nick,
        }
    }
}

/// One order of a `cancelOrder` or `getOrder` list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderKey<'a> {
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
        let cancel_order_list = order_keys(orders);
        Self {
            warehouse_key: [warehouse_key],
            warehouse_code,
            cancel_order_list,
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
            get_order_info_list: order_keys(orders),
            warehouse_key,
            warehouse_code,
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
    #[serde(flatten)]
    asn: Asn<'a>,
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
            asn: Asn::new(asn, true),
            incoming_order_goods_type: asn.goods_type,
            container_type: asn.container_type,
            bulk_cargo_type: container_info.then(|| u8::from(asn.bulk_cargo_by_pallet)),
            pallet_cnt: asn.pallet_count,
            bulk_cargo_type_piece: container_info.then(|| u8::from(asn.bulk_cargo_by_piece)),
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
    warehouse_key: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    warehouse_code: &'a str,
    asn_numbers: &'a [String],
}

impl<'a> CancelAsnOrder<'a> {
    pub fn new(warehouse_key: &'a str, warehouse_code: &'a str, asn_numbers: &'a [String]) -> Self {
        Self {
            warehouse_key,
            warehouse_code,
            asn_numbers,
        }
    }
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
    pub fn new(warehouse_key: &'a str, page: Page<'a>) -> Self {
        let query = page.query;
        Self {
            warehouse_key,
            page_size: query.page_size,
            page: page.number,
            warehouse_code: &query.warehouse_code,
            warehouse_sku_list: page
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
    #[serde(flatten)]
    sku: Sku<'a>,
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
            sku: Sku::new(sku),
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
