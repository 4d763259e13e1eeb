//! Conversions of OrderService and AsnService messages: CreateOrder and
//! CreateAsn requests into new orders and ASNs, the batch requests'
//! references, and order and ASN states and outcomes back into messages.
//! The checks and limits are the parent module's.

use super::{Batch, Check, Item, MAX_LABEL_BYTES, batch};
use crate::{api::error::Violations, domain, proto};

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
