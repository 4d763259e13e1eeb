//! The request shapes both protocols share, borrowed from the domain types:
//! an order (with its receiver and lines), an ASN (with its lines and
//! boxes) and a product. Each protocol's `requests.rs` adds what only it
//! sends around these.
//!
//! Rules of both specs' tables: camelCase names; optional text that is
//! empty and values that are `None` are left out; money and dimensions are
//! JSON numbers with the decimal's exact text ([`Num`]), never a float;
//! quantities are integers and times epoch milliseconds.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer, ser::Error as _};
use serde_json::value::RawValue;

use super::UpstreamErrorKind;
use crate::domain::{NewAsn, NewOrder, Package, SkuInfo};

/// A request body's JSON text, exactly as it is sent and signed; a body
/// that does not encode is a malformed request, and nothing is sent.
pub(super) fn encode(body: &impl Serialize) -> Result<String, UpstreamErrorKind> {
    serde_json::to_string(body)
        .map_err(|err| UpstreamErrorKind::Malformed(format!("cannot encode the request: {err}")))
}

/// A decimal written as a JSON number with its exact text (`12.50`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Num(pub Decimal);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // A `Decimal` prints plain digits (`-0.50`, never an exponent), and
        // serde_json writes a `RawValue`'s text as it is.
        let text = self.0.to_string();
        let number: &RawValue = serde_json::from_str(&text).map_err(S::Error::custom)?;
        number.serialize(serializer)
    }
}

pub(super) fn num(value: Option<Decimal>) -> Option<Num> {
    value.map(Num)
}

/// `skip_serializing_if` for optional text.
pub(super) fn is_empty(text: &&str) -> bool {
    text.is_empty()
}

/// The fields of an order both protocols send, in their tables' order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Order<'a> {
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
    receiver: Receiver<'a>,
    sku_list: Vec<OrderLine<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Receiver<'a> {
    name: &'a str,
    phone: &'a str,
    /// Required by both tables even when unknown: sent as "".
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
struct OrderLine<'a> {
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

impl<'a> Order<'a> {
    /// `own_package` is the protocol's spelling of a self-shipped parcel's
    /// `packageType` (qlink's own is "OWN_PAKAGE").
    pub fn new(order: &'a NewOrder, own_package: &'static str) -> Self {
        let (package_type, tracking_number, label_data) = match &order.package {
            Package::Normal => ("NORMAL", None, None),
            Package::SelfShipped {
                tracking_number,
                label_pdf,
            } => (
                own_package,
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
            online_shop_id: &order.online_shop_id,
            receiver: Receiver {
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
                .map(|item| OrderLine {
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
        }
    }
}

/// The fields of an ASN both protocols send, in their tables' order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Asn<'a> {
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
    sku_list: Vec<AsnLine<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    asn_mark_sku: Vec<AsnBox<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AsnLine<'a> {
    sku: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    name: &'a str,
    quantity: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AsnBox<'a> {
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
    #[serde(flatten)]
    size: Dimensions,
    /// qlink's table has it, Qianyi's does not.
    #[serde(skip_serializing_if = "is_empty")]
    length_unit: &'a str,
}

impl<'a> Asn<'a> {
    /// `box_length_unit`: whether the protocol's boxes carry `lengthUnit`.
    pub fn new(asn: &'a NewAsn, box_length_unit: bool) -> Self {
        Self {
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
                .map(|item| AsnLine {
                    sku: &item.sku,
                    name: &item.name,
                    quantity: item.quantity,
                })
                .collect(),
            asn_mark_sku: asn
                .boxes
                .iter()
                .map(|packed| AsnBox {
                    box_number: packed.box_number,
                    mark_code: &packed.mark_code,
                    quantity: packed.quantity,
                    sku: &packed.sku,
                    name: &packed.name,
                    size: Dimensions::new(packed.length, packed.width, packed.height),
                    length_unit: if box_length_unit {
                        &packed.length_unit
                    } else {
                        ""
                    },
                })
                .collect(),
        }
    }
}

/// A box's or a product's length, width and height, each left out when not
/// given.
#[derive(Debug, Serialize)]
struct Dimensions {
    #[serde(skip_serializing_if = "Option::is_none")]
    length: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<Num>,
}

impl Dimensions {
    fn new(length: Option<Decimal>, width: Option<Decimal>, height: Option<Decimal>) -> Self {
        Self {
            length: num(length),
            width: num(width),
            height: num(height),
        }
    }
}

/// The fields of a product both protocols send, in their tables' order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Sku<'a> {
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
    #[serde(flatten)]
    size: Dimensions,
    #[serde(skip_serializing_if = "is_empty")]
    dimension_unit: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    item_package: Option<u32>,
}

impl<'a> Sku<'a> {
    pub fn new(sku: &'a SkuInfo) -> Self {
        Self {
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
            size: Dimensions::new(sku.length, sku.width, sku.height),
            dimension_unit: &sku.dimension_unit,
            item_package: sku.item_package,
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::domain::{AsnBox, Cod, OrderRef};

    /// A product with only its two required codes.
    pub fn product(sku: &str, erp_sku: &str) -> SkuInfo {
        SkuInfo {
            sku: sku.to_owned(),
            erp_sku: erp_sku.to_owned(),
            ..SkuInfo::default()
        }
    }

    /// Box 1 of an ASN, holding `quantity` of `sku`, `size` (length, width,
    /// height) in centimetres.
    pub fn first_box(mark_code: &str, sku: &str, quantity: u32, size: [Option<&str>; 3]) -> AsnBox {
        let [length, width, height] = size.map(|side| side.map(dec));
        AsnBox {
            box_number: Some(1),
            mark_code: mark_code.to_owned(),
            quantity: Some(quantity),
            sku: sku.to_owned(),
            name: String::new(),
            length,
            width,
            height,
            length_unit: "cm".to_owned(),
        }
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).expect("decimal")
    }

    /// References to the orders numbered `numbers`.
    pub fn refs(numbers: &[&str]) -> Vec<OrderRef> {
        let reference = |number: &&str| OrderRef {
            order_number: (*number).to_owned(),
            ..OrderRef::default()
        };
        numbers.iter().map(reference).collect()
    }

    /// Makes `order` a self-shipped parcel (tracking number 1Z999, a tiny
    /// PDF label) paid cash on delivery: both protocols' tests send it.
    pub fn self_shipped_with_cod(order: &mut NewOrder, cod: &str) {
        order.package = Package::SelfShipped {
            tracking_number: "1Z999".into(),
            label_pdf: b"%PDF-1.4".to_vec(),
        };
        order.cod = Some(Cod {
            amount: dec(cod),
            currency: "USD".into(),
        });
    }

    #[test]
    fn decimals_keep_their_exact_text_as_json_numbers() {
        for text in [
            "12.50",
            "0",
            "0.0",
            "-0.5",
            "79228162514264337593543950335",
            "0.0000000000000000000000000001",
            "-7.9228162514264337593543950335",
        ] {
            let number = Num(Decimal::from_str(text).expect("decimal"));
            assert_eq!(serde_json::to_string(&number).expect("encode"), text);
        }
    }
}
