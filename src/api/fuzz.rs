//! Fuzzing request validation: any message of every request type, built
//! from the API's own descriptors, converts or is refused without a panic,
//! and what is accepted is within every limit; valid requests stay valid,
//! their values kept.

use std::{collections::HashMap, str::FromStr};

use proptest::{collection::vec, prelude::*, sample::select};
use prost::Message;
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor,
    ReflectMessage, Value,
};
use rust_decimal::Decimal;

use super::{
    Violations,
    convert::{Batch, MAX_LONG_TEXT_CHARS, MAX_QUANTITY, MAX_TEXT_CHARS},
    error::MAX_REPORTED_VIOLATIONS,
};
use crate::{domain, proto};

/// Fields whose limit is the free-text one.
const FREE_TEXT: [&str; 3] = ["specifications", "image_url", "sale_return_reason"];

fn pool() -> DescriptorPool {
    DescriptorPool::decode(proto::FILE_DESCRIPTOR_SET).expect("the API's descriptors")
}

/// Texts a caller may send: codes, decimals well and badly written, at and
/// over the limits, and anything.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(vec![
            "", " ", "SKU-1", "12.50", "0", "-1", "-0", "1e3", "+1", "1_000", ".5", "5.",
            "0.0000000000000000000000000001", "79228162514264337593543950335",
            "7922816251426433759354395033", "00000000000000000000000000000001", "中文",
        ])
        .prop_map(str::to_owned),
        1 => (250usize..260).prop_map(|chars| "库".repeat(chars)),
        1 => (2040usize..2060).prop_map(|chars| "x".repeat(chars)),
        1 => "[0-9]{20,32}(\\.[0-9]{0,32})?",
        2 => any::<String>(),
    ]
}

fn int64() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -2i64..5,
        select(vec![
            i64::MIN,
            i64::MAX,
            MAX_QUANTITY,
            MAX_QUANTITY + 1,
            u32::MAX.into()
        ]),
    ]
}

fn int32() -> impl Strategy<Value = i32> {
    prop_oneof![any::<i32>(), -2i32..5, Just(i32::MAX), Just(i32::MIN)]
}

/// One value of a field of kind `kind`; messages down to `depth` levels.
fn value_of(kind: Kind, depth: u32) -> BoxedStrategy<Value> {
    match kind {
        Kind::String => text().prop_map(Value::String).boxed(),
        Kind::Bytes => vec(any::<u8>(), 0..16)
            .prop_map(|bytes| Value::Bytes(bytes.into()))
            .boxed(),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => int64().prop_map(Value::I64).boxed(),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => int32().prop_map(Value::I32).boxed(),
        Kind::Uint64 | Kind::Fixed64 => any::<u64>().prop_map(Value::U64).boxed(),
        Kind::Uint32 | Kind::Fixed32 => any::<u32>().prop_map(Value::U32).boxed(),
        Kind::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Kind::Double => any::<f64>().prop_map(Value::F64).boxed(),
        Kind::Float => any::<f32>().prop_map(Value::F32).boxed(),
        Kind::Enum(descriptor) => {
            let known: Vec<i32> = descriptor.values().map(|value| value.number()).collect();
            prop_oneof![3 => select(known), 1 => any::<i32>()]
                .prop_map(Value::EnumNumber)
                .boxed()
        }
        Kind::Message(descriptor) if depth == 0 => {
            Just(Value::Message(DynamicMessage::new(descriptor))).boxed()
        }
        Kind::Message(descriptor) => message(descriptor, depth - 1)
            .prop_map(Value::Message)
            .boxed(),
    }
}

/// A field's value, lists and maps of a few entries included; `None` unset.
fn field_value(field: &FieldDescriptor, depth: u32) -> BoxedStrategy<Option<Value>> {
    let value = if field.is_map() {
        let Kind::Message(entry) = field.kind() else {
            unreachable!("a map field's kind is its entry message")
        };
        let (key, value) = (entry.map_entry_key_field(), entry.map_entry_value_field());
        let keys = value_of(key.kind(), depth).prop_filter_map("a string key", |key| match key {
            Value::String(text) => Some(MapKey::String(text)),
            _ => None,
        });
        proptest::collection::hash_map(keys, value_of(value.kind(), depth), 0..4)
            .prop_map(|map| Value::Map(map.into_iter().collect::<HashMap<_, _>>()))
            .boxed()
    } else if field.is_list() {
        vec(value_of(field.kind(), depth), 0..4)
            .prop_map(Value::List)
            .boxed()
    } else {
        value_of(field.kind(), depth)
    };
    proptest::option::weighted(0.8, value).boxed()
}

/// Any message of type `descriptor`.
fn message(descriptor: MessageDescriptor, depth: u32) -> BoxedStrategy<DynamicMessage> {
    let fields: Vec<_> = descriptor
        .fields()
        .map(|field| {
            let set = field.clone();
            field_value(&field, depth).prop_map(move |value| (set.clone(), value))
        })
        .collect();
    fields
        .prop_map(move |values| {
            let mut message = DynamicMessage::new(descriptor.clone());
            for (field, value) in values.into_iter() {
                if let Some(value) = value {
                    message.set_field(&field, value);
                }
            }
            message
        })
        .boxed()
}

/// Any `T`, through its descriptor.
fn any_request<T: Message + Default + std::fmt::Debug + 'static>(
    name: &str,
) -> impl Strategy<Value = (T, DynamicMessage)> {
    let descriptor = pool()
        .get_message_by_name(&format!("qlink.v1.{name}"))
        .expect("a request type");
    message(descriptor, 2).prop_map(|dynamic| {
        let concrete = T::decode(dynamic.encode_to_vec().as_slice()).expect("a valid encoding");
        (concrete, dynamic)
    })
}

/// Every text in `message` (nested, listed and map entries too) with the
/// name of its field.
fn texts(message: &DynamicMessage) -> Vec<(String, String)> {
    fn walk(name: &str, value: &Value, found: &mut Vec<(String, String)>) {
        match value {
            Value::String(text) => found.push((name.to_owned(), text.clone())),
            Value::Message(inner) => found.extend(texts(inner)),
            Value::List(items) => items.iter().for_each(|item| walk(name, item, found)),
            Value::Map(entries) => {
                for (key, value) in entries {
                    if let MapKey::String(key) = key {
                        found.push((name.to_owned(), key.clone()));
                    }
                    walk(name, value, found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    for (field, value) in message.fields() {
        walk(field.name(), value, &mut found);
    }
    found
}

/// What accepting or refusing a request promises: accepted, every text is
/// within its limit; refused, the violations are few and name fields.
fn within_limits<T>(
    converted: &Result<T, Violations>,
    source: &DynamicMessage,
) -> Result<(), TestCaseError> {
    match converted {
        Ok(_) => {
            for (field, text) in texts(source) {
                let limit = if FREE_TEXT.contains(&field.as_str()) {
                    MAX_LONG_TEXT_CHARS
                } else {
                    MAX_TEXT_CHARS
                };
                let chars = text.chars().count();
                prop_assert!(
                    chars <= limit,
                    "{} of {} characters was accepted",
                    field,
                    chars
                );
            }
        }
        Err(violations) => {
            prop_assert!(!violations.is_empty());
            prop_assert!(violations.fields().count() <= MAX_REPORTED_VIOLATIONS);
            for (field, description) in violations.fields() {
                prop_assert!(!field.is_empty() && !description.is_empty());
                prop_assert!(description.len() < 512, "{}: {}", field, description);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(warehouse_protocol::fuzzing::config())]

    /// Every request type, each generated anew in every case.
    #[test]
    fn any_request_converts_within_the_limits_or_is_refused(
        (order, order_source) in any_request::<proto::CreateOrderRequest>("CreateOrderRequest"),
        (asn, asn_source) in any_request::<proto::CreateAsnRequest>("CreateAsnRequest"),
        (sku, sku_source) in any_request::<proto::UpsertSkuRequest>("UpsertSkuRequest"),
        (query, query_source) in any_request::<proto::SyncInventoryRequest>("SyncInventoryRequest"),
        (cancel_orders, cancel_orders_source) in any_request::<proto::CancelOrdersRequest>("CancelOrdersRequest"),
        (get_asns, get_asns_source) in any_request::<proto::GetAsnsRequest>("GetAsnsRequest"),
        (cancel_asns, cancel_asns_source) in any_request::<proto::CancelAsnsRequest>("CancelAsnsRequest"),
    ) {
        within_limits(&domain::NewOrder::try_from(order), &order_source)?;
        within_limits(&domain::NewAsn::try_from(asn), &asn_source)?;
        within_limits(&domain::SkuInfo::try_from(sku), &sku_source)?;
        within_limits(&domain::InventoryQuery::try_from(query), &query_source)?;
        within_limits(&Batch::<domain::OrderRef>::try_from(cancel_orders), &cancel_orders_source)?;
        within_limits(&Batch::<domain::AsnRef>::try_from(get_asns), &get_asns_source)?;
        within_limits(&Batch::<String>::try_from(cancel_asns), &cancel_asns_source)?;
    }
}

/// A required text within the limit: not blank, up to 255 characters
/// (the limit itself among them).
fn code() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9库][A-Za-z0-9库 ._-]{0,24}",
        1 => (240usize..=255).prop_map(|chars| "库".repeat(chars)),
    ]
}

/// An optional free text within the limit, up to 2,048 characters.
fn free_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "\\PC{0,64}",
        1 => (2000usize..=2048).prop_map(|chars| "库".repeat(chars)),
    ]
}

/// A plain decimal of at most 28 significant digits.
fn decimal() -> impl Strategy<Value = String> {
    "[0-9]{1,14}(\\.[0-9]{1,14})?"
}

fn timestamp() -> impl Strategy<Value = Option<prost_types::Timestamp>> {
    proptest::option::of(
        (-62_135_596_800i64..=253_402_300_799, 0..1_000_000_000i32)
            .prop_map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos }),
    )
}

prop_compose! {
    fn valid_item()(sku in code(), erp_sku in code(), name in "\\PC{1,255}", quantity in 1..=MAX_QUANTITY, amount in decimal())
        -> proto::OrderItem {
        proto::OrderItem { sku, erp_sku, name: format!("n{name}").chars().take(255).collect(), quantity, amount, ..Default::default() }
    }
}

prop_compose! {
    fn valid_order()(
        numbers in [code(), code(), code(), code(), code(), code()],
        freight in decimal(),
        items in vec(valid_item(), 1..4),
        created in timestamp(),
        address in "\\PC{0,255}",
    ) -> proto::CreateOrderRequest {
        let [order_number, online_order_id, shop_name, warehouse_code, logistics_code, platform] = numbers;
        proto::CreateOrderRequest {
            order_number, online_order_id, shop_name, warehouse_code, logistics_code, platform, freight, items,
            order_created_at: created,
            receiver: Some(proto::Receiver {
                name: "Kim".into(), phone: "1".into(), country: "US".into(), state: "AR".into(),
                city: "Harrison".into(), address1: "1 Test Street".into(), postal_code: "72601".into(),
                address2: address,
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

proptest! {
    #![proptest_config(warehouse_protocol::fuzzing::config())]

    #[test]
    fn a_valid_order_converts_with_its_values_kept(request in valid_order()) {
        let order = domain::NewOrder::try_from(request.clone()).expect("valid");
        prop_assert_eq!(&order.order_number, &request.order_number);
        prop_assert_eq!(order.freight, Decimal::from_str(&request.freight).expect("decimal"));
        prop_assert_eq!(order.items.len(), request.items.len());
        for (item, sent) in order.items.iter().zip(&request.items) {
            prop_assert_eq!(i64::from(item.quantity), sent.quantity);
            prop_assert_eq!(item.amount.to_string(), Decimal::from_str(&sent.amount).expect("decimal").to_string());
        }
        prop_assert_eq!(order.order_created_at_ms.is_some(), request.order_created_at.is_some());
    }

    #[test]
    fn a_valid_asn_converts_with_its_values_kept(
        asn_number in code(),
        warehouse_code in code(),
        lines in vec((code(), 1..=MAX_QUANTITY), 1..4),
        reason in free_text(),
    ) {
        let request = proto::CreateAsnRequest {
            asn_number: asn_number.clone(),
            warehouse_code,
            items: lines.iter().map(|(sku, quantity)| proto::AsnItem { sku: sku.clone(), name: String::new(), quantity: *quantity }).collect(),
            sale_return_reason: reason,
            ..Default::default()
        };
        let asn = domain::NewAsn::try_from(request).expect("valid");
        prop_assert_eq!(asn.asn_number, asn_number);
        let quantities: Vec<i64> = asn.items.iter().map(|item| i64::from(item.quantity)).collect();
        prop_assert_eq!(quantities, lines.iter().map(|(_, quantity)| *quantity).collect::<Vec<_>>());
    }

    #[test]
    fn a_valid_product_converts_with_its_values_kept(
        sku in code(),
        title in "\\PC{0,255}",
        weight in decimal(),
        currencies in proptest::collection::btree_map("[A-Z]{3}", decimal(), 0..5),
    ) {
        let request = proto::UpsertSkuRequest {
            sku: sku.clone(),
            erp_sku: sku.clone(),
            title: title.clone(),
            weight: weight.clone(),
            currency_map: currencies.clone().into_iter().collect(),
            ..Default::default()
        };
        let product = domain::SkuInfo::try_from(request).expect("valid");
        prop_assert_eq!(product.sku, sku);
        prop_assert_eq!(product.title, title);
        prop_assert_eq!(product.weight, Some(Decimal::from_str(&weight).expect("decimal")));
        prop_assert_eq!(product.currency_map.len(), currencies.len());
    }

    #[test]
    fn a_valid_inventory_query_or_batch_converts_with_its_values_kept(
        warehouse_code in code(),
        skus in prop_oneof![vec(code(), 0..8), vec("[A-Z0-9-]{1,8}", 200)],
        page_size in 0..=1000i32,
    ) {
        let query = domain::InventoryQuery::try_from(proto::SyncInventoryRequest {
            warehouse_code: warehouse_code.clone(),
            page_size,
            skus: skus.clone(),
            updated_since: None,
        })
        .expect("valid");
        prop_assert_eq!(&query.skus, &skus);
        prop_assert_eq!(query.page_size, if page_size == 0 { 100 } else { page_size.unsigned_abs() });
        if !skus.is_empty() {
            let batch = Batch::<String>::try_from(proto::CancelAsnsRequest {
                warehouse_code: warehouse_code.clone(),
                asn_numbers: skus.clone(),
            })
            .expect("valid");
            prop_assert_eq!(batch.items, skus);
            prop_assert_eq!(batch.warehouse_code, warehouse_code.trim());
        }
    }
}

#[test]
fn the_descriptors_describe_every_request_fuzzed() {
    let pool = pool();
    for name in [
        "CreateOrderRequest",
        "CreateAsnRequest",
        "UpsertSkuRequest",
        "SyncInventoryRequest",
        "CancelOrdersRequest",
        "GetAsnsRequest",
        "CancelAsnsRequest",
    ] {
        let descriptor = pool
            .get_message_by_name(&format!("qlink.v1.{name}"))
            .expect(name);
        assert!(descriptor.fields().count() > 1, "{name}");
        let _ = DynamicMessage::new(descriptor).descriptor();
    }
}
