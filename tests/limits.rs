//! Hard limits on what a caller sends, through the real server: every text
//! field of every request has a length limit, lists and labels a size
//! limit, decimals and quantities a range, and a body that is not protobuf
//! is `INVALID_ARGUMENT`. Each refusal names the field and reaches no
//! warehouse.

mod common;

use common::*;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, ReflectMessage, Value};
use qlink_facade::proto::{
    self, AsnBox, AsnItem, AsnRef, CancelAsnsRequest, CancelOrdersRequest, CreateAsnRequest,
    GetAsnsRequest, GetOrdersRequest, ListChannelsRequest, OrderRef, PackageType,
    SyncInventoryRequest, UpsertSkuRequest,
};
use tonic::Code;

const SKU: &str = "SIM-SKU-00001";

/// Fields whose limit is the free-text one (2,048 characters), not 255.
const FREE_TEXT: [&str; 3] = ["specifications", "image_url", "sale_return_reason"];

/// Each text field of `message` (nested messages and list items included,
/// maps aside), with a copy of `message` where only that field is `text`.
fn with_each_text_field(message: &DynamicMessage, text: &str) -> Vec<(String, DynamicMessage)> {
    let mut variants = Vec::new();
    for field in message.descriptor().fields() {
        if field.is_map() {
            continue;
        }
        let name = field.name().to_owned();
        let value = message.get_field(&field);
        match (&*value, field.kind()) {
            (Value::String(_), _) => {
                let mut changed = message.clone();
                changed.set_field(&field, Value::String(text.to_owned()));
                variants.push((name, changed));
            }
            (Value::Message(inner), _) if message.has_field(&field) => {
                for (path, inner) in with_each_text_field(inner, text) {
                    let mut changed = message.clone();
                    changed.set_field(&field, Value::Message(inner));
                    variants.push((format!("{name}.{path}"), changed));
                }
            }
            (Value::List(items), prost_reflect::Kind::String) => {
                for index in 0..items.len() {
                    let mut changed = message.clone();
                    let mut items = items.clone();
                    items[index] = Value::String(text.to_owned());
                    changed.set_field(&field, Value::List(items));
                    variants.push((format!("{name}[{index}]"), changed));
                }
            }
            (Value::List(items), prost_reflect::Kind::Message(_)) => {
                for (index, item) in items.iter().enumerate() {
                    let Value::Message(item) = item else { continue };
                    for (path, inner) in with_each_text_field(item, text) {
                        let mut changed = message.clone();
                        let mut items = items.clone();
                        items[index] = Value::Message(inner);
                        changed.set_field(&field, Value::List(items));
                        variants.push((format!("{name}[{index}].{path}"), changed));
                    }
                }
            }
            _ => {}
        }
    }
    variants
}

/// The request of `method` (`"OrderService/CreateOrder"`), given encoded,
/// with each text field in turn set too long for its limit: (field path,
/// the encoded changed request).
fn each_text_field_too_long(method: &str, request: &[u8]) -> Vec<(String, Vec<u8>)> {
    let pool = DescriptorPool::decode(proto::FILE_DESCRIPTOR_SET).expect("descriptors");
    let (service, method_name) = method.split_once('/').expect("Service/Method");
    let descriptor = pool
        .get_service_by_name(&format!("qlink.v1.{service}"))
        .and_then(|service| service.methods().find(|m| m.name() == method_name))
        .expect("a method of the API")
        .input();
    let dynamic = DynamicMessage::decode(descriptor, request).expect("decode");
    // 256 characters of three bytes each: characters are counted, not bytes.
    let over_255 = "库".repeat(256);
    let over_2048 = "x".repeat(2049);
    let mut cases = Vec::new();
    for (path, changed) in with_each_text_field(&dynamic, &over_255) {
        let free_text = FREE_TEXT.iter().any(|name| path == *name);
        let changed = if free_text {
            with_each_text_field(&dynamic, &over_2048)
                .into_iter()
                .find(|(other, _)| *other == path)
                .expect("the same field")
                .1
        } else {
            changed
        };
        cases.push((path, changed.encode_to_vec()));
    }
    assert!(!cases.is_empty(), "{method} has text fields");
    cases
}

/// Sends `body` as the request of `method` (`"OrderService/CreateOrder"`)
/// as the qlink tenant, byte for byte, and ignores the answer's body.
async fn send_raw(world: &World, method: &str, body: Vec<u8>) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(world.facade.channel());
    grpc.ready().await.expect("ready");
    let path = http::uri::PathAndQuery::try_from(format!("/qlink.v1.{method}")).expect("path");
    grpc.unary(req(QLINK, body), path, RawBytes)
        .await
        .map(|_| ())
}

/// Asserts `result` is INVALID_ARGUMENT naming `field`; `context` says
/// which case failed.
fn assert_refused(result: Result<(), tonic::Status>, context: &str, field: &str) {
    let status = result.expect_err(context);
    assert_eq!(
        status.code(),
        Code::InvalidArgument,
        "{context}: {status:?}"
    );
    let fields = violated_fields(&status);
    assert!(
        fields.iter().any(|f| f == field),
        "{context}: {field} not in {fields:?}"
    );
}

/// Asserts `status` is INVALID_ARGUMENT naming exactly `fields`, in order,
/// and that its message `says` why.
fn assert_refusal(status: &tonic::Status, fields: &[&str], says: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(violated_fields(status), fields, "{status:?}");
    assert!(status.message().contains(says), "{says} not in {status:?}");
}

/// Asserts no refused request reached a warehouse.
fn assert_nothing_sent(world: &World) {
    assert!(
        world.simulator.requests().is_empty(),
        "no upstream request was made"
    );
}

fn full_order() -> proto::CreateOrderRequest {
    let mut order = order("ORD-LIMITS", "TU01", SKU);
    order.tracking_number = "1Z999".to_owned();
    order.cod_currency = "USD".to_owned();
    order.online_shop_id = "shop-1".to_owned();
    order.house_number = "12".to_owned();
    order.currency = "USD".to_owned();
    order.user_nick = "seller".to_owned();
    order.total_price = "132.50".to_owned();
    order.insurance_value = "10".to_owned();
    order.cod_pay_amount = "5".to_owned();
    let item = &mut order.items[0];
    item.shipping_price = "1.5".to_owned();
    item.hs_code = "9403".to_owned();
    item.chinese_customs_declaration_name = "桌子".to_owned();
    item.english_customs_declaration_name = "table".to_owned();
    order
}

fn full_asn() -> CreateAsnRequest {
    CreateAsnRequest {
        asn_number: "ASN-LIMITS".to_owned(),
        warehouse_code: "CA1".to_owned(),
        items: vec![AsnItem {
            sku: SKU.to_owned(),
            name: "Side table".to_owned(),
            quantity: 1,
        }],
        custom_number: "REF-1".to_owned(),
        track_number: "TRK".to_owned(),
        r#type: "PURCHASE".to_owned(),
        order_number: "ORD-1".to_owned(),
        online_order_id: "PO-1".to_owned(),
        sale_return_reason: "broken".to_owned(),
        boxes: vec![AsnBox {
            box_number: 1,
            mark_code: "BOX-1".to_owned(),
            quantity: 1,
            sku: SKU.to_owned(),
            name: "Side table".to_owned(),
            length: "20".to_owned(),
            width: "19.1".to_owned(),
            height: "20.1".to_owned(),
            length_unit: "cm".to_owned(),
        }],
        container_model: "20GP".to_owned(),
        ..Default::default()
    }
}

fn full_sku() -> UpsertSkuRequest {
    UpsertSkuRequest {
        warehouse_code: "TU01".to_owned(),
        sku: "NEW-1".to_owned(),
        erp_sku: "ERP-NEW-1".to_owned(),
        title: "Side table".to_owned(),
        barcode: "123".to_owned(),
        specifications: "oak".to_owned(),
        image_url: "http://example.com/1.png".to_owned(),
        weight: "1.25".to_owned(),
        net_weight: "1".to_owned(),
        weight_unit: "KG".to_owned(),
        length: "12".to_owned(),
        width: "10".to_owned(),
        height: "5".to_owned(),
        dimension_unit: "cm".to_owned(),
        english_customs_declaration_name: "table".to_owned(),
        chinese_customs_declaration_name: "桌子".to_owned(),
        brand: "acme".to_owned(),
        customs_code: "9403".to_owned(),
        wms_barcode: "W123".to_owned(),
        customs_declaration_price: "12.1".to_owned(),
        cd_price_maximum: "12.1".to_owned(),
        cd_price_rate: "12.1".to_owned(),
        purchase_cost: "12.1".to_owned(),
        purchase_cost_unit: "CNY".to_owned(),
        ..Default::default()
    }
}

fn order_refs() -> Vec<OrderRef> {
    vec![OrderRef {
        order_number: "ORD-1".to_owned(),
        warehouse_order_number: "W-1".to_owned(),
        reference_code: "R-1".to_owned(),
    }]
}

#[tokio::test]
async fn every_text_field_of_every_request_has_a_length_limit_and_reaches_no_warehouse() {
    let world = world().await;
    let order_cancel = CancelOrdersRequest {
        warehouse_code: "TU01".to_owned(),
        orders: order_refs(),
    };
    let order_lookup = GetOrdersRequest {
        warehouse_code: "TU01".to_owned(),
        orders: order_refs(),
    };
    let asn_lookup = GetAsnsRequest {
        warehouse_code: "CA1".to_owned(),
        asns: vec![AsnRef {
            asn_number: "ASN-1".to_owned(),
            reference_number: "R-1".to_owned(),
            r#type: "PURCHASE".to_owned(),
        }],
    };
    let asn_cancel = CancelAsnsRequest {
        warehouse_code: "CA1".to_owned(),
        asn_numbers: vec!["ASN-1".to_owned()],
    };
    let inventory = SyncInventoryRequest {
        warehouse_code: "TU01".to_owned(),
        skus: vec![SKU.to_owned()],
        ..Default::default()
    };
    let channels = ListChannelsRequest {
        warehouse_code: "TU01".to_owned(),
    };
    let requests = [
        ("OrderService/CreateOrder", full_order().encode_to_vec()),
        ("AsnService/CreateAsn", full_asn().encode_to_vec()),
        ("SkuService/UpsertSku", full_sku().encode_to_vec()),
        ("OrderService/CancelOrders", order_cancel.encode_to_vec()),
        ("OrderService/GetOrders", order_lookup.encode_to_vec()),
        ("AsnService/GetAsns", asn_lookup.encode_to_vec()),
        ("AsnService/CancelAsns", asn_cancel.encode_to_vec()),
        ("InventoryService/SyncInventory", inventory.encode_to_vec()),
        ("WarehouseService/ListChannels", channels.encode_to_vec()),
    ];
    let mut checked = 0;
    for (method, request) in requests {
        for (field, body) in each_text_field_too_long(method, &request) {
            assert_refused(
                send_raw(&world, method, body).await,
                &format!("{method}: {field}"),
                &field,
            );
            checked += 1;
        }
    }

    assert!(checked > 80, "{checked} fields checked");
    assert_nothing_sent(&world);
}

/// A request the table-driven tests send, as the tenant that sends it.
enum Call {
    CreateOrder(&'static str, proto::CreateOrderRequest),
    CreateAsn(&'static str, CreateAsnRequest),
    UpsertSku(&'static str, UpsertSkuRequest),
    SyncInventory(&'static str, SyncInventoryRequest),
}

impl Call {
    /// Sends it through `world`'s facade; the answer's message is dropped.
    async fn send(self, world: &World) -> Result<(), tonic::Status> {
        let caller = |tenant| world.facade.caller(tenant);
        match self {
            Call::CreateOrder(tenant, order) => caller(tenant).create_order(order).await.map(drop),
            Call::CreateAsn(tenant, asn) => caller(tenant).create_asn(asn).await.map(drop),
            Call::UpsertSku(tenant, sku) => caller(tenant).upsert_sku(sku).await.map(drop),
            Call::SyncInventory(tenant, query) => caller(tenant).inventory(query).await.map(drop),
        }
    }
}

#[tokio::test]
async fn values_within_the_limits_are_sent_as_written() {
    let world = world().await;
    let cases = [
        (
            "text at the limit: characters, not bytes, are counted",
            UpsertSkuRequest {
                // 255 characters, 765 bytes.
                title: "库".repeat(255),
                specifications: "x".repeat(2048),
                ..full_sku()
            },
            "x".repeat(2048),
        ),
        (
            "28 significant digits, leading zeros aside",
            UpsertSkuRequest {
                weight: "0007922816251426433759354395.033".to_owned(),
                ..full_sku()
            },
            "7922816251426433759354395.033".to_owned(),
        ),
    ];
    for (case, sku, sent_as) in cases {
        world.simulator.clear_requests();
        Call::UpsertSku(QLINK, sku)
            .send(&world)
            .await
            .unwrap_or_else(|status| panic!("{case}: {status:?}"));
        let sent = world.simulator.requests();
        assert_eq!(sent.len(), 1, "{case}");
        assert!(sent[0].body.contains(&sent_as), "{case}: {}", sent[0].body);
    }
}

#[tokio::test]
async fn values_past_a_limit_are_refused_naming_the_fields_and_why() {
    let world = world().await;
    let mut label = order("ORD-LABEL", "TU01", SKU);
    label.package_type = PackageType::SelfShipped as i32;
    label.tracking_number = "1Z999".to_owned();
    label.label_data = vec![b'%'; 2 * 1024 * 1024 + 1];
    let mut huge_quantity = order("ORD-HUGE", "TU01", SKU);
    huge_quantity.items[0].quantity = 2_147_483_648;
    let mut huge_quantities = full_asn();
    huge_quantities.items[0].quantity = i64::MAX;
    huge_quantities.boxes[0].quantity = i64::MAX;
    let mut out_of_time = order("ORD-TIME", "TU01", SKU);
    // Seconds whose milliseconds, plus the nanos, overflow an i64.
    out_of_time.order_created_at = Some(prost_types::Timestamp {
        seconds: i64::MAX / 1000,
        nanos: 999_999_999,
    });
    out_of_time.pay_time = Some(prost_types::Timestamp {
        seconds: -62_135_596_801,
        nanos: 0,
    });
    let skus = |count: usize| SyncInventoryRequest {
        warehouse_code: "CA1".to_owned(),
        skus: (0..count).map(|index| format!("SKU-{index}")).collect(),
        ..Default::default()
    };
    let cases: [(&str, Call, &[&str], &str); 9] = [
        (
            "a label over 2 MiB",
            Call::CreateOrder(QLINK, label),
            &["label_data"],
            "at most 2097152 bytes",
        ),
        (
            // A 96-bit decimal holds this one, but not every 29-digit number.
            "a decimal of 29 significant digits",
            Call::UpsertSku(
                QLINK,
                UpsertSkuRequest {
                    weight: "79228162514264337593543950335".to_owned(),
                    ..full_sku()
                },
            ),
            &["weight"],
            "29 significant digits",
        ),
        (
            "a quantity too large",
            Call::CreateOrder(QLINK, huge_quantity),
            &["items[0].quantity"],
            "too large: at most 2147483647",
        ),
        (
            "an ASN's quantities too large",
            Call::CreateAsn(QIANYI, huge_quantities),
            &["items[0].quantity", "boxes[0].quantity"],
            "too large",
        ),
        (
            "times outside what a timestamp holds, refused, not overflowed",
            Call::CreateOrder(QLINK, out_of_time),
            &["order_created_at", "pay_time"],
            "years 1 to 9999",
        ),
        (
            "SyncInventory takes at most 200 skus, like the batch calls",
            Call::SyncInventory(QIANYI, skus(201)),
            &["skus"],
            "at most 200",
        ),
        (
            "10,000 skus",
            Call::SyncInventory(QIANYI, skus(10_000)),
            &["skus"],
            "at most 200",
        ),
        (
            "a product with too many currencies",
            Call::UpsertSku(
                QLINK,
                UpsertSkuRequest {
                    currency_map: (0..201)
                        .map(|index| (format!("C{index}"), "1".to_owned()))
                        .collect(),
                    ..full_sku()
                },
            ),
            &["currency_map"],
            "at most 200 currencies",
        ),
        (
            "a currency code too long",
            Call::UpsertSku(
                QLINK,
                UpsertSkuRequest {
                    currency_map: [("C".repeat(100_000), "1".to_owned())].into(),
                    ..full_sku()
                },
            ),
            &["currency_map"],
            "at most 255 characters",
        ),
    ];
    for (case, call, fields, says) in cases {
        let status = call.send(&world).await.expect_err(case);
        assert_refusal(&status, fields, says);
        // A huge value is quoted back only in part.
        assert!(
            status.message().len() < 2048,
            "{case}: {}",
            status.message().len()
        );
    }
    assert_nothing_sent(&world);
}

#[tokio::test]
async fn thousands_of_bad_lines_give_a_refusal_every_client_can_read() {
    let world = world().await;
    let mut order = order("ORD-BAD-LINES", "TU01", SKU);
    let line = order.items[0].clone();
    order.items = (0..5000)
        .map(|_| proto::OrderItem {
            sku: String::new(),
            quantity: 0,
            amount: "x".repeat(255),
            ..line.clone()
        })
        .collect();
    let status = world
        .facade
        .caller(QLINK)
        .create_order(order)
        .await
        .expect_err("bad lines");
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields = violated_fields(&status);
    assert_eq!(fields.len(), 16, "{fields:?}");
    assert_eq!(fields[0], "items[0].sku");
    assert!(
        status
            .message()
            .starts_with("invalid request (15000 problems, the first 16 of them): items[0].sku"),
        "{}",
        status.message()
    );
    // What travels in the trailers stays under the 8 KiB that C-core and
    // grpc-python allow.
    assert!(
        status.details().len() + status.message().len() < 6 * 1024,
        "{}",
        status.details().len()
    );
    assert_nothing_sent(&world);
}

/// Sends raw bytes as the request message and ignores the answer's body.
#[derive(Debug, Clone, Default)]
struct RawBytes;

impl tonic::codec::Codec for RawBytes {
    type Encode = Vec<u8>;
    type Decode = ();
    type Encoder = RawBytes;
    type Decoder = RawBytes;

    fn encoder(&mut self) -> Self::Encoder {
        RawBytes
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawBytes
    }
}

impl tonic::codec::Encoder for RawBytes {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: Vec<u8>,
        buf: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        buf.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawBytes {
    type Item = ();
    type Error = tonic::Status;

    fn decode(
        &mut self,
        buf: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<()>, tonic::Status> {
        use bytes::Buf;
        buf.advance(buf.remaining());
        Ok(Some(()))
    }
}

#[tokio::test]
async fn a_body_that_is_not_protobuf_is_invalid_argument() {
    let world = world().await;
    // A field tag with wire type 7, which does not exist.
    let status = send_raw(&world, "OrderService/CreateOrder", vec![0x0f, 0xff, 0xff])
        .await
        .expect_err("garbage");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().contains("not valid protobuf"),
        "{}",
        status.message()
    );
    assert_nothing_sent(&world);
}
