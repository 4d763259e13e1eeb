//! proptest strategies for what a warehouse (or a pusher) may send: any
//! JSON value or any bytes, biased towards the keys and scalars the readers
//! look for, so the fuzz tests reach deep into the answers. For the fuzz
//! tests of this crate and of the facade (feature `fuzzing`), never built
//! into a binary.

use proptest::{collection::vec, prelude::*, sample::select, test_runner::Config};
use serde_json::{Map, Number, Value};

/// Cases per property in a plain `cargo test`: enough to catch a
/// regression in a few seconds on a small machine.
pub const CASES: u32 = 64;

/// The fuzz tests' settings: [`CASES`] cases per property, or
/// `PROPTEST_CASES` when set, for a longer run
/// (`PROPTEST_CASES=100000 cargo test fuzz`).
pub fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(CASES);
    Config {
        cases,
        ..Config::default()
    }
}

/// Every key either protocol's answers and pushes are read by.
pub const KEYS: &[&str] = &[
    // The envelope.
    "success",
    "errorMsg",
    "message",
    "msg",
    "code",
    "result",
    "data",
    "info",
    // Lists.
    "list",
    "records",
    "results",
    "warehouseList",
    "warehouseInfoList",
    "warehouses",
    "channelList",
    "channels",
    "cancelOrderList",
    "cancelOrderResultList",
    "asnList",
    "asns",
    "warehouseGetOrderList",
    "getOrderList",
    "orderList",
    "skuList",
    // Rows.
    "warehouseCode",
    "warehouseName",
    "name",
    "channelCode",
    "channelName",
    "carrierName",
    "orderNumber",
    "warehouseOrderNumber",
    "onlineOrderId",
    "customerCode",
    "asnNumber",
    "wmsAsnNumber",
    "sku",
    "operation",
    "wmsStatus",
    "status",
    "carrier",
    "trackingNumber",
    "trackNumber",
    "failedReason",
    "referenceNumber",
    "finishTime",
    "updateTime",
    "shippingTime",
    "batchNo",
    "quantity",
    "estimatedQuantity",
    "receivedQuantity",
    "goodQuantity",
    "badQuantity",
    "warehouseSku",
    "sellableQuantity",
    "totalQuantity",
    "onwayQuantity",
    "pendingQuantity",
    "unsellableQuantity",
    "reservedQuantity",
    "useQuantity",
    "isLastPage",
    "currentPage",
    "pageCount",
    "page",
    "pageSize",
    // A Qianyi body.
    "accessId",
    "method",
    "content",
    "sign",
];

/// Texts the readers treat specially, and any text.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(vec![
            "", " ", "true", "TRUE", "false", "Y", "yes", "1", "0", "-1", "12", " 12 ", "12.0",
            "1.5", "1e30", "-1e30", "18446744073709551615", "9223372036854775808", "abc",
            "null", "中文", "{\"success\":true}", "[1,2]", "Shipped", "Exception", "SUCCESS",
            "FAILED", "SENDING", "CANCEL", "NEW", "RECEIVING", "FINISHED", "pushOrderInfo",
        ])
        .prop_map(str::to_owned),
        2 => any::<i64>().prop_map(|number| number.to_string()),
        2 => any::<String>(),
    ]
}

/// Numbers of every kind serde_json reads: small, huge, negative, whole
/// and fractional floats, and the edges of `i64` and `u64`.
pub fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-3i64..1000).prop_map(Value::from),
        select(vec![
            1e30,
            -1e30,
            9.3e18,
            -9.3e18,
            12.0,
            1.5,
            -0.0,
            f64::MAX,
            f64::MIN_POSITIVE
        ])
        .prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |float| Number::from_f64(float).map(Value::Number)),
    ]
}

/// Any JSON scalar.
pub fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ]
}

/// A key: mostly one of [`KEYS`], sometimes anything.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        9 => select(KEYS).prop_map(str::to_owned),
        1 => "[a-zA-Z]{0,8}",
    ]
}

/// Any JSON value, at most 4 levels deep.
pub fn json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((key(), inner), 0..8)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Any JSON object.
pub fn object() -> impl Strategy<Value = Value> {
    vec((key(), json()), 0..10)
        .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>()))
}

/// Any answer body: random bytes, JSON text, JSON after a byte-order
/// mark, or JSON cut short.
pub fn body() -> impl Strategy<Value = Vec<u8>> {
    let text = || json().prop_map(|value| value.to_string().into_bytes());
    prop_oneof![
        vec(any::<u8>(), 0..64),
        text(),
        object().prop_map(|value| value.to_string().into_bytes()),
        text().prop_map(|body| [&b"\xEF\xBB\xBF"[..], &body].concat()),
        (text(), any::<prop::sample::Index>()).prop_map(|(body, cut)| {
            let end = cut.index(body.len() + 1);
            body[..end].to_vec()
        }),
    ]
}
