//! Qianyi's request contents (the business parameters that go, as JSON
//! text, into the body's `content`), borrowed from the domain types: the
//! shared shapes of [`crate::upstream::requests`] as Qianyi's tables have
//! them, and the contents only Qianyi sends. Only the fields of the Qianyi
//! tables are sent, never qlink's own.

use serde::Serialize;

pub(super) use crate::upstream::requests::Sku;
use crate::{
    domain::{NewAsn, NewOrder},
    upstream::{
        pager::Page,
        requests::{Asn, Order, is_empty},
    },
};

/// No business parameters: the content is the empty string.
pub(super) const NO_CONTENT: Option<&()> = None;

/// `channels`: the optional warehouse filter.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WarehouseFilter<'a> {
    pub warehouse_code: &'a str,
}

/// `createOrder`.
pub(super) fn order(order: &NewOrder) -> Order<'_> {
    Order::new(order, "OWN_PACKAGE")
}

/// `createAsnOrder`: Qianyi's boxes have no `lengthUnit`.
pub(super) fn asn(asn: &NewAsn) -> Asn<'_> {
    Asn::new(asn, false)
}

/// `cancelOrder` and `getOrder`: one order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct OrderKey<'a> {
    pub order_number: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    pub warehouse_code: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    pub warehouse_order_number: &'a str,
}

/// `syncInventory`: the table's names and Integer types (the spec's example
/// with `"pageSize "` and string numbers is a documentation slip). Qianyi
/// filters by one SKU at most.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SyncInventory<'a> {
    page_size: u32,
    page: u32,
    warehouse_code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    warehouse_sku: Option<&'a str>,
}

impl<'a> SyncInventory<'a> {
    /// Qianyi filters by one SKU at most: the pager asks for one at a time.
    pub fn new(page: Page<'a>) -> Self {
        Self {
            page_size: page.query.page_size,
            page: page.number,
            warehouse_code: &page.query.warehouse_code,
            warehouse_sku: page.skus.first().map(String::as_str),
        }
    }
}

/// `getAsnList` and `cancelAsnOrder`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AsnNumbers<'a> {
    asn_numbers: Vec<&'a str>,
    #[serde(skip_serializing_if = "is_empty")]
    warehouse_code: &'a str,
}

impl<'a> AsnNumbers<'a> {
    pub fn new(asn_numbers: impl IntoIterator<Item = &'a str>, warehouse_code: &'a str) -> Self {
        Self {
            asn_numbers: asn_numbers.into_iter().collect(),
            warehouse_code,
        }
    }
}
