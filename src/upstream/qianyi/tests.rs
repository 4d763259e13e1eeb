//! The Qianyi backend against a tiny warehouse on loopback that checks
//! every signature, and its contents and answers on their own.

use std::{
    str::FromStr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use bytes::Bytes;
use futures::StreamExt;
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde::Serialize;
use serde_json::{Value, json};
use warehouse_protocol::{Envelope, sign::qianyi_sign};

use super::{MAX_IN_FLIGHT_PER_BATCH, QianyiBackend, answers, requests};
use crate::upstream::pager::Page;
use crate::upstream::requests::tests::{first_box, product, refs, self_shipped_with_cod};
use crate::{
    domain::{
        AsnItem, AsnStatus, CallContext, Channel, InventoryPage, InventoryQuery, ItemOutcome,
        NewAsn, NewOrder, OrderItem, OrderStatus, Package, Receiver, WarehouseBackend,
    },
    metrics::Metrics,
    middleware::UpstreamPolicy,
    upstream::{HttpTransport, QianyiCredentials, UpstreamError, UpstreamErrorKind},
};

const ACCESS_ID: &str = "3215435";
const SECRET_KEY: &str = "s3cret";

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn credentials() -> QianyiCredentials {
    QianyiCredentials {
        access_id: ACCESS_ID.to_owned(),
        secret_key: SecretString::from(SECRET_KEY),
        warehouse_type: Some("QIANYI_WMS".to_owned()),
        secret: Some(SecretString::from("wh-token")),
    }
}

fn backend(endpoint: &str) -> Arc<QianyiBackend> {
    let transport = HttpTransport::for_tenant(
        Arc::from("acme-eu"),
        Duration::from_secs(5),
        &UpstreamPolicy::default(),
        None,
        Metrics::shared(),
    )
    .unwrap();
    Arc::new(QianyiBackend::new(endpoint, &credentials(), transport).unwrap())
}

/// Every SKU of warehouse `wms`, `page_size` at a time.
fn query(page_size: u32) -> InventoryQuery {
    InventoryQuery {
        warehouse_code: "wms".to_owned(),
        page_size,
        skus: Vec::new(),
        updated_since_ms: None,
    }
}

fn ctx() -> CallContext {
    CallContext::within(Duration::from_secs(10))
}

fn content_of(params: &impl Serialize) -> String {
    serde_json::to_string(params).unwrap()
}

fn order() -> NewOrder {
    NewOrder {
        order_number: "CESH210204147401".to_owned(),
        online_order_id: "113195753779".to_owned(),
        shop_name: "测试".to_owned(),
        warehouse_code: "QY_01".to_owned(),
        logistics_code: "FedexGround".to_owned(),
        platform: "tiktok".to_owned(),
        freight: dec("20.0"),
        receiver: Receiver {
            name: "Kimberly White".to_owned(),
            phone: "1889838055188".to_owned(),
            email: String::new(),
            country: "US".to_owned(),
            state: "AR".to_owned(),
            city: "Harrison".to_owned(),
            district: String::new(),
            address1: "TestStreet1".to_owned(),
            address2: String::new(),
            postal_code: "72601".to_owned(),
        },
        items: vec![OrderItem {
            sku: "CL0000000000001".to_owned(),
            erp_sku: "ERP-1".to_owned(),
            name: "Cup".to_owned(),
            quantity: 1,
            amount: dec("120.00"),
            shipping_price: Some(dec("20.0")),
            hs_code: "CL0000000000001".to_owned(),
            chinese_customs_declaration_name: "测试商品".to_owned(),
            english_customs_declaration_name: String::new(),
        }],
        package: Package::Normal,
        cod: None,
        order_created_at_ms: Some(1_700_000_000_000),
        delivery_time_ms: None,
        online_shop_id: String::new(),
        // qlink-only: must never reach a Qianyi warehouse.
        house_number: "12B".to_owned(),
        total_price: Some(dec("140.00")),
        currency: "USD".to_owned(),
        pay_time_ms: Some(1_700_000_000_001),
        insurance: true,
        insurance_value: Some(dec("9.99")),
        user_nick: "kim".to_owned(),
    }
}

// ---- request bodies and content ------------------------------------

#[test]
fn sync_inventory_content_uses_the_table_names_and_integers() {
    let query = InventoryQuery {
        warehouse_code: "wms".to_owned(),
        page_size: 50,
        skus: vec!["sku".to_owned()],
        updated_since_ms: Some(1),
    };
    let page = Page {
        query: &query,
        skus: &query.skus,
        number: 3,
    };
    let content = content_of(&requests::SyncInventory::new(page));
    assert_eq!(
        content,
        r#"{"pageSize":50,"page":3,"warehouseCode":"wms","warehouseSku":"sku"}"#
    );
}

#[test]
fn create_order_content_is_the_qianyi_table_with_exact_money() {
    let order = order();
    let content = content_of(&requests::order(&order));
    assert_eq!(
        content,
        concat!(
            r#"{"orderNumber":"CESH210204147401","onlineOrderId":"113195753779","shopName":"测试","#,
            r#""warehouseCode":"QY_01","logisticsCode":"FedexGround","platform":"tiktok","#,
            r#""freight":20.0,"packageType":"NORMAL","codEnabled":0,"orderCreate":1700000000000,"#,
            r#""receiver":{"name":"Kimberly White","phone":"1889838055188","email":"","country":"US","#,
            r#""state":"AR","city":"Harrison","address1":"TestStreet1","postalCode":"72601"},"#,
            r#""skuList":[{"sku":"CL0000000000001","erpSku":"ERP-1","name":"Cup","quantity":1,"#,
            r#""amount":120.00,"shippingPrice":20.0,"hsCode":"CL0000000000001","#,
            r#""chineseCustomsDeclarationName":"测试商品"}]}"#
        )
    );
    for qlink_only in [
        "\"ext\"",
        "\"houseNumber\"",
        "\"totalPrice\"",
        "\"currency\"",
        "\"payTimeLocal\"",
        "\"isInsurance\"",
        "\"insuranceValue\"",
        "\"userNick\"",
    ] {
        assert!(!content.contains(qlink_only), "{qlink_only} in {content}");
    }
}

#[test]
fn self_shipped_cod_order_sends_own_package_label_and_cod() {
    let mut order = order();
    self_shipped_with_cod(&mut order, "12.50");
    let content: Value = serde_json::from_str(&content_of(&requests::order(&order))).unwrap();
    assert_eq!(content["packageType"], "OWN_PACKAGE");
    assert_eq!(content["trackingNumber"], "1Z999");
    assert_eq!(content["labelData"], "JVBERi0xLjQ=");
    assert_eq!(content["codEnabled"], 1);
    assert_eq!(content["codCurrency"], "USD");
    assert!(content["codPayAmount"].is_number());
    let text = content_of(&requests::order(&order));
    assert!(text.contains(r#""codPayAmount":12.50,"#), "{text}");
}

#[test]
fn order_ref_content_omits_what_is_not_given() {
    let key = |warehouse_code, warehouse_order_number| {
        content_of(&requests::OrderKey {
            order_number: "O1",
            warehouse_code,
            warehouse_order_number,
        })
    };
    assert_eq!(
        key("QY_01", ""),
        r#"{"orderNumber":"O1","warehouseCode":"QY_01"}"#
    );
    assert_eq!(
        key("", "W1"),
        r#"{"orderNumber":"O1","warehouseOrderNumber":"W1"}"#
    );
}

#[test]
fn asn_content_has_only_the_qianyi_fields() {
    let asn = NewAsn {
        asn_number: "A240925139551".to_owned(),
        warehouse_code: "53".to_owned(),
        items: vec![AsnItem {
            sku: "CLO-CNQM5069BL".to_owned(),
            name: String::new(),
            quantity: 2,
        }],
        track_number: "A240925139551".to_owned(),
        boxes: vec![first_box(
            "QY556553-A240925139551-1",
            "CLO-CNQM5069BL",
            2,
            [Some("1.0"); 3],
        )],
        goods_type: Some(1),
        container_type: Some(2),
        bulk_cargo_by_pallet: true,
        pallet_count: Some(3),
        container_model: "x".to_owned(),
        ..NewAsn::default()
    };
    assert_eq!(
        content_of(&requests::asn(&asn)),
        concat!(
            r#"{"asnNumber":"A240925139551","warehouseCode":"53","trackNumber":"A240925139551","#,
            r#""skuList":[{"sku":"CLO-CNQM5069BL","quantity":2}],"#,
            r#""asnMarkSku":[{"boxNumber":1,"markCode":"QY556553-A240925139551-1","quantity":2,"#,
            r#""sku":"CLO-CNQM5069BL","length":1.0,"width":1.0,"height":1.0}]}"#
        )
    );
    assert_eq!(
        content_of(&requests::AsnNumbers::new(["A1", "A2"], "")),
        r#"{"asnNumbers":["A1","A2"]}"#
    );
    assert_eq!(
        content_of(&requests::AsnNumbers::new(["A1"], "warehouse1")),
        r#"{"asnNumbers":["A1"],"warehouseCode":"warehouse1"}"#
    );
}

#[test]
fn sku_content_has_only_the_qianyi_fields() {
    let mut sku = product("A1234", "E1234");
    sku.warehouse_code = "53".to_owned();
    sku.title = "A1234名称".to_owned();
    sku.weight = Some(dec("1.250"));
    sku.dimension_unit = "cm".to_owned();
    sku.item_package = Some(4);
    // qlink-only: never sent to a Qianyi warehouse.
    sku.brand = "qlink-only".to_owned();
    sku.customs_declaration_price = Some(dec("3.5"));
    assert_eq!(
        content_of(&requests::Sku::new(&sku)),
        r#"{"warehouseCode":"53","sku":"A1234","erpSku":"E1234","title":"A1234名称","weight":1.250,"dimensionUnit":"cm","itemPackage":4}"#
    );
}

// ---- answers ----------------------------------------------------------

fn envelope(body: &str) -> Envelope {
    Envelope::parse(body.as_bytes()).unwrap()
}

#[test]
fn spec_example_answers_parse() {
    let warehouses = answers::warehouses(&envelope(
        r#"{"success":"true","message":"","warehouseList":[{"warehouseCode":"CA1","warehouseName":"CA Warehouse"},{"warehouseCode":"CA2","warehouseName":" CA Warehouse 2"}]}"#,
    ))
    .unwrap();
    assert_eq!(warehouses.len(), 2);
    assert_eq!(
        (warehouses[1].code.as_str(), warehouses[1].name.as_str()),
        ("CA2", " CA Warehouse 2")
    );

    let channels = answers::channels(
        &envelope(
            r#"{"success":"true","message":"","channelList":[{"channelCode":"FedexGround","channelName":"FedEx Ground","carrierName":"FEDEX"}]}"#,
        ),
        "CA1",
    )
    .unwrap();
    assert_eq!(
        channels,
        vec![Channel {
            code: "FedexGround".to_owned(),
            name: "FedEx Ground".to_owned(),
            warehouse_code: "CA1".to_owned(),
            carrier_name: "FEDEX".to_owned(),
        }]
    );

    assert_eq!(
        answers::created_order(
            &envelope(
                r#"{"success":"true","message":"","data":{"warehouseOrderNumber":"S111111-09987666"}}"#
            ),
            "CESH210204147401"
        )
        .unwrap()
        .warehouse_order_number,
        "S111111-09987666"
    );

    let state = answers::order_state(
        &envelope(
            r#"{"success":"true","message":"","data":{"orderNumber":"S0000001","wmsStatus":"Shipped","status":"SUCCESS","carrierName":"FEDEX","trackingNumber":"TEST0001"}}"#,
        ),
        "S0000001",
    )
    .unwrap();
    assert_eq!(state.status, OrderStatus::Success);
    assert_eq!(state.wms_status, "Shipped");
    assert_eq!(state.tracking_number, "TEST0001");
    assert_eq!(state.error_message, "");

    let page = answers::inventory_page(&envelope(
        r#"{"success":"true","message":"","isLastPage":true,"currentPage":1,"pageCount":1,"data":[{"warehouseCode":"wms","warehouseSku":"sku","onwayQuantity":"11","pendingQuantity":"22","sellableQuantity":"33","unsellableQuantity":"0","reservedQuantity":"22","useQuantity":"11","totalQuantity":"99"}]}"#,
    ))
    .unwrap();
    assert_eq!(page.is_last_page, Some(true));
    assert_eq!((page.current_page, page.page_count), (Some(1), Some(1)));
    assert_eq!(
        page.items,
        vec![crate::domain::InventoryItem {
            sku: "sku".to_owned(),
            warehouse_code: "wms".to_owned(),
            sellable: 33,
            total: 99,
            onway: 11,
            pending: 22,
            unsellable: 0,
            reserved: 22,
            used: 11,
        }]
    );

    let asns = answers::asn_states(&envelope(
        r#"{"success":"true","message":"","asnList":[{"asnNumber":"sja11122","wmsStatus":"NEW","finishTime":"2024-10-26 12:23:34","referenceNumber":"A123445","skuList":[{"sku":"acs","name":"Cup","estimatedQuantity":12,"receivedQuantity":"12","goodQuantity":5,"badQuantity":"7"}]}]}"#,
    ))
    .unwrap();
    assert_eq!(asns.len(), 1);
    assert_eq!(asns[0].status, AsnStatus::New);
    assert_eq!(asns[0].reference_number, "A123445");
    assert_eq!(
        (
            asns[0].items[0].received_quantity,
            asns[0].items[0].bad_quantity
        ),
        (12, 7)
    );
}

#[test]
fn tolerated_answer_shapes() {
    // Paging inside `data`, numbers as strings.
    let page = answers::inventory_page(&envelope(
        r#"{"success":true,"data":{"isLastPage":"false","currentPage":"2","pageCount":"5","data":[{"warehouseSku":"a","sellableQuantity":1}]}}"#,
    ))
    .unwrap();
    assert_eq!(
        (
            page.is_last_page,
            page.current_page,
            page.page_count,
            page.items.len()
        ),
        (Some(false), Some(2), Some(5), 1)
    );
    // `data` as a bare list, no paging fields.
    let page = answers::inventory_page(&envelope(
        r#"{"success":true,"data":[{"warehouseSku":"a"},{"warehouseSku":"b"}]}"#,
    ))
    .unwrap();
    assert_eq!((page.is_last_page, page.items.len()), (None, 2));
    // getOrder fields at the top, and as a list.
    let state = answers::order_state(
        &envelope(r#"{"success":true,"wmsStatus":"x","status":"cancelled"}"#),
        "O1",
    )
    .unwrap();
    assert_eq!(
        (state.order_number.as_str(), state.status),
        ("O1", OrderStatus::Cancel)
    );
    let state = answers::order_state(
        &envelope(
            r#"{"success":true,"data":[{"orderNumber":"O0","status":"FAILED"},{"orderNumber":"O1","status":"SENDING"}]}"#,
        ),
        "O1",
    )
    .unwrap();
    assert_eq!(state.status, OrderStatus::Sending);
    let state = answers::order_state(&envelope(r#"{"success":true}"#), "O1").unwrap();
    assert!(!state.error_message.is_empty());
    // `results` as one object.
    let outcomes = answers::cancelled_asns(
        &envelope(
            r#"{"success":true,"results":{"asnNumber":"A1","operation":"CANCEL","info":"","success":"true"}}"#,
        ),
        &["A1".to_owned()],
    )
    .unwrap();
    assert!(outcomes[0].success);
    assert_eq!(
        answers::created_asn(
            &envelope(r#"{"success":true,"data":{"wmsAsnNumber":"W-1"}}"#),
            "A1"
        )
        .unwrap()
        .wms_asn_number,
        "W-1"
    );
}

#[test]
fn lists_wrapped_in_a_data_object_are_read() {
    let warehouses = answers::warehouses(&envelope(
        r#"{"success":"true","data":{"warehouseList":[{"warehouseCode":"CA1","warehouseName":"CA Warehouse"},{"warehouseCode":"CA2","warehouseName":"CA Warehouse 2"}]}}"#,
    ))
    .unwrap();
    let codes: Vec<&str> = warehouses.iter().map(|wh| wh.code.as_str()).collect();
    assert_eq!(codes, ["CA1", "CA2"]);

    let channels = answers::channels(
        &envelope(
            r#"{"success":"true","data":{"total":2,"channelList":[{"channelCode":"FedexGround","carrierName":"FEDEX"},{"channelCode":"UPSGround","carrierName":"UPS"}]}}"#,
        ),
        "CA1",
    )
    .unwrap();
    let codes: Vec<&str> = channels.iter().map(|ch| ch.code.as_str()).collect();
    assert_eq!(codes, ["FedexGround", "UPSGround"]);
    assert!(channels.iter().all(|ch| ch.warehouse_code == "CA1"));

    let asns = answers::asn_states(&envelope(
        r#"{"success":"true","data":{"asnList":[{"asnNumber":"A1","wmsStatus":"NEW"},{"asnNumber":"A2","wmsStatus":"FINISHED"}]}}"#,
    ))
    .unwrap();
    let numbers: Vec<&str> = asns.iter().map(|asn| asn.asn_number.as_str()).collect();
    assert_eq!(numbers, ["A1", "A2"]);
    assert_eq!(asns[1].status, AsnStatus::Finished);

    // A wrapped empty list is no record at all, not one empty record.
    let warehouses =
        answers::warehouses(&envelope(r#"{"success":true,"data":{"warehouseList":[]}}"#)).unwrap();
    assert!(warehouses.is_empty(), "{warehouses:?}");
    // A `data` object holding no list is still one record, its own
    // lists (an ASN's skuList) left alone.
    let asns = answers::asn_states(&envelope(
        r#"{"success":true,"data":{"asnNumber":"A1","wmsStatus":"NEW","skuList":[{"sku":"S1"},{"sku":"S2"}]}}"#,
    ))
    .unwrap();
    assert_eq!(asns.len(), 1);
    assert_eq!(
        (asns[0].asn_number.as_str(), asns[0].items.len()),
        ("A1", 2)
    );
}

// ---- against a tiny warehouse ----------------------------------------

/// What the fake warehouse saw of one call.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    content: String,
    sign_valid: bool,
    warehouse_type: Option<String>,
    secret: Option<String>,
}

type Answer = Arc<dyn Fn(&str, &Value) -> (u64, u16, Value) + Send + Sync>;

#[derive(Clone)]
struct Fake {
    answer: Answer,
    seen: Arc<Mutex<Vec<Seen>>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

async fn fake_handler(
    State(fake): State<Fake>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let now = fake.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    fake.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let body: Value = serde_json::from_slice(&body).unwrap();
    let method = body["method"].as_str().unwrap().to_owned();
    let content = body["content"].as_str().unwrap().to_owned();
    let header = |name: &str| {
        headers
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    };
    fake.seen.lock().unwrap().push(Seen {
        method: method.clone(),
        sign_valid: body["sign"].as_str() == Some(&qianyi_sign(ACCESS_ID, &content, SECRET_KEY)),
        content: content.clone(),
        warehouse_type: header("warehouseType"),
        secret: header("secret"),
    });
    let business = if content.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&content).unwrap()
    };
    let (delay_ms, status, answer) = (fake.answer)(&method, &business);
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    fake.in_flight.fetch_sub(1, Ordering::SeqCst);
    (StatusCode::from_u16(status).unwrap(), Json(answer))
}

async fn spawn_fake(
    answer: impl Fn(&str, &Value) -> (u64, u16, Value) + Send + Sync + 'static,
) -> (String, Fake) {
    let fake = Fake {
        answer: Arc::new(answer),
        seen: Arc::default(),
        in_flight: Arc::default(),
        max_in_flight: Arc::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/qianyi", post(fake_handler))
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/qianyi"), fake)
}

fn seen(fake: &Fake) -> Vec<Seen> {
    fake.seen.lock().unwrap().clone()
}

#[tokio::test]
async fn list_warehouses_round_trip_with_headers() {
    let (url, fake) = spawn_fake(|_, _| {
        (0, 200, json!({"success":"true","message":"","warehouseList":[{"warehouseCode":"CA1","warehouseName":"CA"}]}))
    })
    .await;
    let warehouses = backend(&url).list_warehouses(&ctx()).await.unwrap();
    assert_eq!(warehouses[0].code, "CA1");
    let seen = seen(&fake);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "warehouses");
    assert_eq!(seen[0].content, "");
    assert!(seen[0].sign_valid);
    assert_eq!(seen[0].warehouse_type.as_deref(), Some("QIANYI_WMS"));
    assert_eq!(seen[0].secret.as_deref(), Some("wh-token"));
}

#[tokio::test]
async fn channels_filter_and_rejection() {
    let (url, fake) = spawn_fake(|_, content| {
        if content["warehouseCode"] == "NOPE" {
            (0, 200, json!({"success":"false","message":"unknown warehouse NOPE"}))
        } else {
            (0, 200, json!({"success":"true","channelList":[{"channelCode":"C","channelName":"c","warehouseCode":"CA1","carrierName":"UPS"}]}))
        }
    })
    .await;
    let backend = backend(&url);
    assert_eq!(backend.list_channels(&ctx(), "").await.unwrap().len(), 1);
    let err = backend.list_channels(&ctx(), "NOPE").await.unwrap_err();
    assert_eq!(err.operation, "channels");
    assert!(
        matches!(&err.kind, UpstreamErrorKind::Rejected { message, .. } if message == "unknown warehouse NOPE")
    );
    let seen = seen(&fake);
    assert_eq!(seen[0].content, "");
    assert_eq!(seen[1].content, r#"{"warehouseCode":"NOPE"}"#);
}

#[tokio::test]
async fn get_orders_fans_out_bounded_and_keeps_input_order() {
    let (url, fake) = spawn_fake(|_, content| {
        let number = content["orderNumber"].as_str().unwrap().to_owned();
        let index: u64 = number.trim_start_matches('O').parse().unwrap();
        // Later orders answer sooner, so completion order is reversed.
        let delay = 200 - index * 10;
        if number == "O3" {
            (
                delay,
                200,
                json!({"success":"false","message":"order O3 not found"}),
            )
        } else {
            (
                delay,
                200,
                json!({"success":"true","data":{"wmsStatus":"Shipped","status":"SUCCESS"}}),
            )
        }
    })
    .await;
    let numbers: Vec<String> = (0..12).map(|i| format!("O{i}")).collect();
    let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
    let states = backend(&url)
        .get_orders(&ctx(), "QY_01", &refs(&numbers))
        .await
        .unwrap();
    let got: Vec<&str> = states.iter().map(|s| s.order_number.as_str()).collect();
    assert_eq!(got, numbers);
    assert_eq!(states[3].error_message, "order O3 not found");
    assert_eq!(states[3].status, OrderStatus::Unspecified);
    assert_eq!(states[4].status, OrderStatus::Success);
    let max = fake.max_in_flight.load(Ordering::SeqCst);
    assert!(
        max > 1 && max <= MAX_IN_FLIGHT_PER_BATCH,
        "max in flight {max}"
    );
    assert!(
        seen(&fake)
            .iter()
            .all(|s| s.method == "getOrder" && s.sign_valid)
    );
}

#[tokio::test]
async fn get_orders_maps_the_wms_status_when_status_says_nothing() {
    let (url, _fake) = spawn_fake(|_, content| {
        let data = match content["orderNumber"].as_str() {
            Some("O1") => {
                json!({"wmsStatus":"Exception","status":"EXCEPTION","failedReason":"bad address"})
            }
            Some("O2") => {
                json!({"wmsStatus":"Outbound completed","status":"","trackingNumber":"T2"})
            }
            Some("O3") => json!({"wmsStatus":"Outbound in progress"}),
            _ => json!({"wmsStatus":"error","status":"SENDING"}),
        };
        (0, 200, json!({"success":"true","message":"","data":data}))
    })
    .await;
    let states = backend(&url)
        .get_orders(&ctx(), "", &refs(&["O1", "O2", "O3", "O4"]))
        .await
        .unwrap();
    let statuses: Vec<OrderStatus> = states.iter().map(|state| state.status).collect();
    assert_eq!(
        statuses,
        [
            OrderStatus::Failed,
            OrderStatus::Success,
            OrderStatus::Sending,
            // A known `status` wins over the warehouse's own words.
            OrderStatus::Sending,
        ]
    );
    assert_eq!(states[1].wms_status, "Outbound completed");
}

#[tokio::test]
async fn get_orders_reports_the_order_asked_about() {
    // The spec's own example: asked for CESH210204147401, the answer
    // names S0000001. One call asks about one order, so it is that one.
    let (url, _fake) = spawn_fake(|_, _| {
        (0, 200, json!({"success":"true","message":"","data":{"orderNumber":"S0000001","wmsStatus":"Shipped","status":"SUCCESS","carrierName":"FEDEX","trackingNumber":"TEST0001"}}))
    })
    .await;
    let states = backend(&url)
        .get_orders(&ctx(), "", &refs(&["CESH210204147401"]))
        .await
        .unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].order_number, "CESH210204147401");
    assert_eq!(states[0].status, OrderStatus::Success);
    assert_eq!(states[0].tracking_number, "TEST0001");
}

#[tokio::test]
async fn get_orders_reads_the_push_spelling_of_carrier_and_tracking_too() {
    let (url, _fake) = spawn_fake(|_, content| {
        let data = match content["orderNumber"].as_str() {
            // The push's names, as some warehouses answer getOrder.
            Some("O1") => json!({"status":"SUCCESS","carrier":"UPS","trackNumber":"1Z999"}),
            // Both spellings, one of them empty.
            Some("O2") => json!({"status":"SUCCESS","carrierName":"","carrier":"DHL","trackingNumber":"T2","trackNumber":""}),
            _ => json!({"status":"SUCCESS","carrierName":"FEDEX","trackingNumber":"TEST0001"}),
        };
        (0, 200, json!({"success":"true","message":"","data":data}))
    })
    .await;
    let states = backend(&url)
        .get_orders(&ctx(), "", &refs(&["O1", "O2", "O3"]))
        .await
        .unwrap();
    let shipped: Vec<(&str, &str)> = states
        .iter()
        .map(|state| (state.carrier_name.as_str(), state.tracking_number.as_str()))
        .collect();
    assert_eq!(
        shipped,
        [("UPS", "1Z999"), ("DHL", "T2"), ("FEDEX", "TEST0001")]
    );
}

#[tokio::test]
async fn get_orders_fails_whole_on_a_malformed_answer() {
    let (url, _fake) = spawn_fake(|_, content| {
        if content["orderNumber"] == "O2" {
            (0, 200, json!(["not", "an", "object"]))
        } else {
            (
                0,
                200,
                json!({"success":"true","data":{"status":"SENDING"}}),
            )
        }
    })
    .await;
    let err = backend(&url)
        .get_orders(&ctx(), "", &refs(&["O1", "O2", "O3"]))
        .await
        .unwrap_err();
    assert_eq!(err.operation, "getOrder");
    assert!(matches!(err.kind, UpstreamErrorKind::Malformed(_)));
}

#[tokio::test]
async fn cancel_orders_reports_each_order() {
    let (url, fake) = spawn_fake(
        |_, content| match content["orderNumber"].as_str().unwrap() {
            "O1" => (30, 200, json!({"success":"true","message":""})),
            "O2" => (
                0,
                200,
                json!({"success":"false","message":"already shipped"}),
            ),
            _ => (0, 503, json!({"message":"maintenance"})),
        },
    )
    .await;
    let mut orders = refs(&["O1", "O2", "O3"]);
    orders[0].warehouse_order_number = "W1".to_owned();
    let outcomes = backend(&url)
        .cancel_orders(&ctx(), "QY_01", &orders)
        .await
        .unwrap();
    assert_eq!(
        outcomes[..2],
        [
            ItemOutcome {
                id: "O1".to_owned(),
                success: true,
                message: String::new()
            },
            ItemOutcome {
                id: "O2".to_owned(),
                success: false,
                message: "already shipped".to_owned()
            },
        ]
    );
    assert_eq!(outcomes[2].id, "O3");
    assert!(!outcomes[2].success);
    assert!(
        outcomes[2].message.contains("HTTP 503"),
        "{}",
        outcomes[2].message
    );
    let mut contents: Vec<String> = seen(&fake)
        .into_iter()
        .filter(|s| s.method == "cancelOrder")
        .map(|s| s.content)
        .collect();
    contents.sort();
    assert_eq!(
        contents[0],
        r#"{"orderNumber":"O1","warehouseCode":"QY_01","warehouseOrderNumber":"W1"}"#
    );
}

#[tokio::test]
async fn cancel_orders_with_the_warehouse_down_is_an_error() {
    let (url, _fake) = spawn_fake(|_, _| (0, 502, json!({"message":"bad gateway"}))).await;
    let err = backend(&url)
        .cancel_orders(&ctx(), "", &refs(&["O1", "O2"]))
        .await
        .unwrap_err();
    assert_eq!(err.operation, "cancelOrder");
    assert!(matches!(
        err.kind,
        UpstreamErrorKind::Http { status: 502, .. }
    ));
    assert!(
        backend(&url)
            .cancel_orders(&ctx(), "", &[])
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn inventory_pages_lazily_through_each_sku() {
    let (url, fake) = spawn_fake(|_, content| {
        let page = content["page"].as_u64().unwrap();
        let pages = if content["warehouseSku"] == "A" { 2 } else { 1 };
        let sku = content["warehouseSku"].clone();
        (
            0,
            200,
            json!({"success":"true","isLastPage": page >= pages, "currentPage": page, "pageCount": pages,
                   "data":[{"warehouseCode":"wms","warehouseSku":sku,"sellableQuantity":page,"totalQuantity":"4"}]}),
        )
    })
    .await;
    let query = InventoryQuery {
        warehouse_code: "wms".to_owned(),
        page_size: 50,
        skus: vec!["A".to_owned(), "B".to_owned()],
        updated_since_ms: None,
    };
    let mut stream = backend(&url).sync_inventory(ctx(), query);
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(
        (first.page, first.page_count, first.is_last_page),
        (1, 0, false)
    );
    // Lazy: nothing more was asked for yet.
    assert_eq!(seen(&fake).len(), 1);
    let rest: Vec<InventoryPage> = stream.map(Result::unwrap).collect().await;
    let pages: Vec<(u32, bool, &str)> = rest
        .iter()
        .map(|p| (p.page, p.is_last_page, p.items[0].sku.as_str()))
        .collect();
    assert_eq!(pages, vec![(2, false, "A"), (3, true, "B")]);
    let contents: Vec<String> = seen(&fake).into_iter().map(|s| s.content).collect();
    assert_eq!(
        contents,
        vec![
            r#"{"pageSize":50,"page":1,"warehouseCode":"wms","warehouseSku":"A"}"#,
            r#"{"pageSize":50,"page":2,"warehouseCode":"wms","warehouseSku":"A"}"#,
            r#"{"pageSize":50,"page":1,"warehouseCode":"wms","warehouseSku":"B"}"#,
        ]
    );
}

#[tokio::test]
async fn inventory_stops_after_an_error_or_a_short_bare_page() {
    let (url, _fake) = spawn_fake(|_, content| match content["page"].as_u64().unwrap() {
        1 => (0, 200, json!({"success":"true","isLastPage":false,"currentPage":1,"pageCount":3,"data":[{"warehouseSku":"a"}]})),
        _ => (0, 200, json!({"success":"false","message":"page out of range"})),
    })
    .await;
    let query = query(1);
    let answers: Vec<_> = backend(&url)
        .sync_inventory(ctx(), query.clone())
        .collect()
        .await;
    assert_eq!(answers.len(), 2);
    let first = answers[0].as_ref().unwrap();
    assert_eq!(
        (first.page, first.page_count, first.is_last_page),
        (1, 3, false)
    );
    assert!(
        matches!(&answers[1], Err(err) if matches!(err.kind, UpstreamErrorKind::Rejected { .. }))
    );

    // A bare list shorter than the page size is the last page.
    let (url, fake) = spawn_fake(|_, _| {
        (
            0,
            200,
            json!({"success":"true","data":[{"warehouseSku":"a"}]}),
        )
    })
    .await;
    let query = InventoryQuery {
        page_size: 10,
        ..query
    };
    let pages: Vec<_> = backend(&url)
        .sync_inventory(ctx(), query.clone())
        .collect()
        .await;
    assert_eq!(pages.len(), 1);
    assert!(pages[0].as_ref().unwrap().is_last_page);
    assert_eq!(seen(&fake).len(), 1);

    // So is a bare list longer than the page size: paging is ignored,
    // and asking for page 2 would bring the same rows again.
    let (url, fake) = spawn_fake(|_, _| {
        (
            0,
            200,
            json!({"success":"true","data":[{"warehouseSku":"a"},{"warehouseSku":"b"},{"warehouseSku":"c"}]}),
        )
    })
    .await;
    let query = InventoryQuery {
        page_size: 2,
        ..query
    };
    let pages: Vec<_> = backend(&url).sync_inventory(ctx(), query).collect().await;
    assert_eq!(pages.len(), 1);
    let only = pages[0].as_ref().unwrap();
    assert!(only.is_last_page);
    assert_eq!(only.items.len(), 3);
    assert_eq!(seen(&fake).len(), 1);
}

#[tokio::test]
async fn cancel_asns_gives_one_outcome_per_input() {
    let (url, fake) = spawn_fake(|_, _| {
        (
            0,
            200,
            json!({"success":"false","message":"A2: already receiving","results":[
                {"asnNumber":"A2","operation":"CANCEL","info":"already receiving","success":"false"},
                {"asnNumber":"A1","operation":"CANCEL","info":""}
            ]}),
        )
    })
    .await;
    let asns = ["A1", "A2", "A3"].map(str::to_owned);
    let outcomes = backend(&url)
        .cancel_asns(&ctx(), "warehouse1", &asns)
        .await
        .unwrap();
    let got: Vec<(&str, bool, &str)> = outcomes
        .iter()
        .map(|o| (o.asn_number.as_str(), o.success, o.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("A1", true, ""),
            ("A2", false, "already receiving"),
            ("A3", false, "A2: already receiving"),
        ]
    );
    assert_eq!(outcomes[0].operation, "CANCEL");
    assert_eq!(
        seen(&fake)[0].content,
        r#"{"asnNumbers":["A1","A2","A3"],"warehouseCode":"warehouse1"}"#
    );

    let (url, _fake) = spawn_fake(|_, _| {
        (
            0,
            200,
            json!({"success":"false","message":"sign verification failed"}),
        )
    })
    .await;
    let outcomes = backend(&url).cancel_asns(&ctx(), "", &asns).await.unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| !o.success && o.message == "sign verification failed")
    );

    // No item says why the call failed: a listed ASN was not cancelled.
    let (url, _fake) = spawn_fake(|_, _| {
        (
            0,
            200,
            json!({"success":false,"message":"warehouse closed","results":[
                {"asnNumber":"A1","operation":"CANCEL","info":""}
            ]}),
        )
    })
    .await;
    let outcomes = backend(&url)
        .cancel_asns(&ctx(), "", &asns[..1])
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 1);
    assert!(!outcomes[0].success);
    assert_eq!(outcomes[0].message, "warehouse closed");
}

#[tokio::test]
async fn create_asn_and_upsert_sku_read_results() {
    let (url, _fake) = spawn_fake(|method, content| match (method, content["asnNumber"].as_str()) {
        ("createAsnOrder", Some("BAD")) => (
            0,
            200,
            json!({"results":[{"asnNumber":"BAD","operation":"CREATE","info":"sku X unknown"}]}),
        ),
        ("createAsnOrder", _) => (
            0,
            200,
            json!({"success":true,"message":"","results":[{"asnNumber":"A1","operation":"CREATE","info":""}],"data":{"wmsAsnNumber":"W-9"}}),
        ),
        (_, _) if content["sku"] == "BAD" => (
            0,
            200,
            json!({"success":false,"message":"","results":[{"sku":"BAD","operation":"CREATE","info":"barcode taken"}]}),
        ),
        _ => (
            0,
            200,
            json!({"success":true,"message":"","results":[{"sku":"S1","operation":"UPDATE","info":""}]}),
        ),
    })
    .await;
    let backend = backend(&url);
    let mut asn = NewAsn {
        asn_number: "A1".to_owned(),
        warehouse_code: "53".to_owned(),
        items: vec![AsnItem {
            sku: "S1".to_owned(),
            name: String::new(),
            quantity: 1,
        }],
        ..NewAsn::default()
    };
    let created = backend.create_asn(&ctx(), asn.clone()).await.unwrap();
    assert_eq!(
        (created.asn_number.as_str(), created.wms_asn_number.as_str()),
        ("A1", "W-9")
    );
    asn.asn_number = "BAD".to_owned();
    let err = backend.create_asn(&ctx(), asn.clone()).await.unwrap_err();
    assert!(
        matches!(&err.kind, UpstreamErrorKind::Rejected { message, .. } if message == "sku X unknown"),
        "{err}"
    );

    let upserted = backend.upsert_sku(&ctx(), &product("S1", "E1")).await;
    let upserted = upserted.expect("upserted");
    assert_eq!(
        (upserted.sku, upserted.operation),
        ("S1".into(), "UPDATE".into())
    );
    match backend.upsert_sku(&ctx(), &product("BAD", "E1")).await {
        Err(UpstreamError {
            operation: "insert_sku_info",
            kind: UpstreamErrorKind::Rejected { message, .. },
            ..
        }) => assert_eq!(message, "barcode taken"),
        other => panic!("expected a refusal of insert_sku_info, got {other:?}"),
    }
}

#[tokio::test]
async fn upsert_sku_without_results_reports_the_specs_create() {
    // `results` is the spec's failure set, so a success may come without
    // it; insert_sku_info's only operation in the spec is CREATE.
    let (url, _fake) = spawn_fake(|_, content| {
        if content["sku"] == "EMPTY-OP" {
            (0, 200, json!({"success":"true","message":"","results":[{"sku":"EMPTY-OP","operation":"","info":""}]}))
        } else {
            (0, 200, json!({"success":"true","message":""}))
        }
    })
    .await;
    let backend = backend(&url);
    for sku in ["S1", "EMPTY-OP"] {
        let upserted = backend.upsert_sku(&ctx(), &product(sku, "E1")).await;
        let upserted = upserted.unwrap();
        assert_eq!(
            (upserted.sku.as_str(), upserted.operation.as_str()),
            (sku, "CREATE")
        );
    }
}

#[tokio::test]
async fn create_order_sends_the_content_and_reads_the_number() {
    let (url, fake) = spawn_fake(|_, _| {
        (0, 200, json!({"success":"true","message":"","data":{"warehouseOrderNumber":"S111111-09987666"}}))
    })
    .await;
    let order = order();
    let created = backend(&url)
        .create_order(&ctx(), order.clone())
        .await
        .unwrap();
    assert_eq!(created.warehouse_order_number, "S111111-09987666");
    assert_eq!(created.order_number, order.order_number);
    let seen = seen(&fake);
    assert_eq!(seen[0].method, "createOrder");
    assert!(seen[0].sign_valid);
    assert_eq!(seen[0].content, content_of(&requests::order(&order)));
}

#[tokio::test]
async fn a_warehouse_that_repeats_a_page_ends_the_stream_with_an_error() {
    // Never says which page is the last, and answers every page alike.
    let (url, fake) = spawn_fake(|_, _| {
        (
            0,
            200,
            json!({"success":"true","data":[{"warehouseSku":"a"},{"warehouseSku":"b"}]}),
        )
    })
    .await;
    let query = query(2);
    let pages: Vec<_> = backend(&url).sync_inventory(ctx(), query).collect().await;
    assert_eq!(pages.len(), 2);
    assert!(!pages[0].as_ref().unwrap().is_last_page);
    let err = pages[1].as_ref().unwrap_err();
    assert_eq!(err.operation, "syncInventory");
    assert!(err.to_string().contains("ignores paging"), "{err}");
    assert_eq!(seen(&fake).len(), 2, "no third request");
}
