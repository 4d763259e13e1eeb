//! Conversions of WarehouseService, InventoryService and SkuService
//! messages: the ListChannels filter, SyncInventory queries and UpsertSku
//! products in, warehouses, channels and inventory pages out. The checks
//! and limits are the parent module's.

use super::{Check, DEFAULT_PAGE_SIZE, MAX_BATCH, MAX_CURRENCIES, MAX_PAGE_SIZE, quoted};
use crate::{api::error::Violations, domain, proto};

/// The warehouse a ListChannels call is about (trimmed; empty: all).
pub fn channels_warehouse(req: proto::ListChannelsRequest) -> Result<String, Violations> {
    let mut check = Check::new();
    let warehouse_code = check.text("warehouse_code", req.warehouse_code);
    check.finish(warehouse_code.trim().to_owned())
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
