//! The qlink backend against a loopback warehouse that records every
//! request, and its bodies and answers on their own (the spec's own
//! examples first).

use std::{
    net::SocketAddr,
    str::FromStr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap as Headers, routing::post};
use futures::StreamExt;
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde::Serialize;
use serde_json::{Value, json};
use warehouse_protocol::{
    Envelope,
    sign::{qlink_sign, signatures_match},
};

use warehouse_protocol::Operation;

use super::{QlinkBackend, answers, requests};
use crate::upstream::{
    pager::Page,
    requests::tests::{first_box, product, refs, self_shipped_with_cod},
};
use crate::{
    domain::{
        AsnItem, AsnReceipt, AsnRef, AsnStatus, CallContext, Channel, CreatedOrder,
        CustomsPriceMethod, InventoryItem, InventoryPage, InventoryQuery, ItemOutcome, NewAsn,
        NewOrder, OrderItem, OrderRef, OrderState, OrderStatus, Package, Receiver, Warehouse,
        WarehouseBackend,
    },
    metrics::Metrics,
    middleware::UpstreamPolicy,
    upstream::{AuthInfo, HttpTransport, QlinkCredentials, SetupError, UpstreamErrorKind},
};

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).expect("decimal")
}

fn body(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("serialize")
}

fn envelope(text: &str) -> Envelope {
    Envelope::parse(text.as_bytes()).expect("envelope")
}

/// A successful answer with this `result`.
fn ok(result: Value) -> Envelope {
    envelope(&json!({"success": true, "result": result}).to_string())
}

fn page(query: &InventoryQuery, number: u32) -> Page<'_> {
    Page {
        query,
        skus: &query.skus,
        number,
    }
}

fn ctx() -> CallContext {
    CallContext::within(Duration::from_secs(10))
}

fn transport() -> HttpTransport {
    HttpTransport::for_tenant(
        Arc::from("acme"),
        Duration::from_secs(5),
        &UpstreamPolicy::default(),
        None,
        Metrics::shared(),
    )
    .expect("transport")
}

fn order() -> NewOrder {
    NewOrder {
        order_number: "UNU1".into(),
        online_order_id: "ON1".into(),
        shop_name: "测试店铺".into(),
        warehouse_code: "TU02".into(),
        logistics_code: "UPS-1".into(),
        platform: "SHEIN".into(),
        freight: dec("12.50"),
        receiver: Receiver {
            name: "测试".into(),
            phone: "131".into(),
            email: String::new(),
            country: "CN".into(),
            state: "黑龙江省".into(),
            city: "双鸭山市".into(),
            district: String::new(),
            address1: "街道".into(),
            address2: String::new(),
            postal_code: "211300".into(),
        },
        items: vec![OrderItem {
            sku: "SKU1".into(),
            erp_sku: "E1".into(),
            name: "Desk".into(),
            quantity: 2,
            amount: dec("0.10"),
            shipping_price: None,
            hs_code: String::new(),
            chinese_customs_declaration_name: String::new(),
            english_customs_declaration_name: String::new(),
        }],
        package: Package::Normal,
        cod: None,
        order_created_at_ms: None,
        delivery_time_ms: None,
        online_shop_id: String::new(),
        house_number: String::new(),
        total_price: None,
        currency: String::new(),
        pay_time_ms: None,
        insurance: false,
        insurance_value: None,
        user_nick: String::new(),
    }
}

// --- bodies -----------------------------------------------------------

#[test]
fn warehouse_key_is_an_array_for_lists_and_cancel_order() {
    assert_eq!(
        body(&requests::ListBody::new("wk", "")),
        r#"{"warehouseKey":["wk"]}"#
    );
    assert_eq!(
        body(&requests::ListBody::new("wk", "")),
        r#"{"warehouseKey":["wk"]}"#
    );
    assert_eq!(
        body(&requests::ListBody::new("wk", "TU02")),
        r#"{"warehouseKey":["wk"],"warehouseCode":"TU02"}"#
    );
    let orders = vec![
        OrderRef {
            order_number: "A".into(),
            warehouse_order_number: String::new(),
            reference_code: "R".into(),
        },
        OrderRef {
            order_number: "B".into(),
            warehouse_order_number: "W".into(),
            reference_code: String::new(),
        },
    ];
    assert_eq!(
        body(&requests::CancelOrder::new("wk", "TU02", &orders)),
        r#"{"warehouseKey":["wk"],"warehouseCode":"TU02","cancelOrderList":[{"orderNumber":"A","referenceCode":"R"},{"orderNumber":"B","warehouseOrderNumber":"W"}]}"#
    );
    assert_eq!(
        body(&requests::GetOrder::new("wk", "", &orders[..1])),
        r#"{"warehouseKey":"wk","getOrderInfoList":[{"orderNumber":"A","referenceCode":"R"}]}"#
    );
}

#[test]
fn a_plain_order_has_exact_money_and_omits_empty_optionals() {
    assert_eq!(
        body(&requests::CreateOrder::new("wk", &order())),
        concat!(
            r#"{"warehouseKey":"wk","orderNumber":"UNU1","onlineOrderId":"ON1","shopName":"测试店铺","#,
            r#""warehouseCode":"TU02","logisticsCode":"UPS-1","platform":"SHEIN","freight":12.50,"#,
            r#""packageType":"NORMAL","codEnabled":0,"#,
            r#""receiver":{"name":"测试","phone":"131","email":"","country":"CN","state":"黑龙江省","#,
            r#""city":"双鸭山市","address1":"街道","postalCode":"211300"},"#,
            r#""skuList":[{"sku":"SKU1","erpSku":"E1","name":"Desk","quantity":2,"amount":0.10}],"#,
            r#""isInsurance":0}"#
        )
    );
}

#[test]
fn a_self_shipped_cod_order_carries_label_cod_ext_and_insurance() {
    let mut order = order();
    self_shipped_with_cod(&mut order, "30.00");
    order.house_number = "12A".into();
    order.order_created_at_ms = Some(1_692_086_400_000);
    order.pay_time_ms = Some(1_634_030_000_000);
    order.total_price = Some(dec("99.90"));
    order.currency = "USD".into();
    order.insurance = true;
    order.insurance_value = Some(dec("50"));
    order.user_nick = "1".into();
    order.items[0].shipping_price = Some(dec("1.5"));
    order.items[0].hs_code = "9403".into();
    let json = body(&requests::CreateOrder::new("wk", &order));
    for part in [
        r#""packageType":"OWN_PAKAGE","trackingNumber":"1Z999","labelData":"JVBERi0xLjQ=","#,
        r#""codEnabled":1,"codPayAmount":30.00,"codCurrency":"USD","orderCreate":1692086400000,"#,
        r#""amount":0.10,"shippingPrice":1.5,"hsCode":"9403"}"#,
        r#""ext":[{"houseNumber":"12A"}],"totalPrice":99.90,"currency":"USD","payTimeLocal":1634030000000,"#,
        r#""isInsurance":1,"insuranceValue":50,"userNick":"1"}"#,
    ] {
        assert!(json.contains(part), "{part} not in {json}");
    }
    // The bytes are valid JSON with numbers where money goes.
    let value: Value = serde_json::from_str(&json).expect("json");
    assert!(value["freight"].is_number() && value["codPayAmount"].is_number());
}

#[test]
fn asn_bodies_with_and_without_container_info() {
    let mut asn = NewAsn {
        asn_number: "A1".into(),
        warehouse_code: "TU02".into(),
        items: vec![AsnItem {
            sku: "SKU1".into(),
            name: String::new(),
            quantity: 3,
        }],
        estimated_arrival_ms: Some(1_692_086_400_000),
        asn_type: "MANUAL".into(),
        ..NewAsn::default()
    };
    assert_eq!(
        body(&requests::CreateAsnOrder::new("wk", &asn)),
        r#"{"warehouseKey":"wk","asnNumber":"A1","warehouseCode":"TU02","estimatedArrivalDate":1692086400000,"type":"MANUAL","skuList":[{"sku":"SKU1","quantity":3}]}"#
    );
    let size = [Some("20.0"), Some("19.1"), None];
    asn.boxes = vec![first_box("BOX001-1-1", "SKU1", 3, size)];
    asn.goods_type = Some(1);
    asn.container_type = Some(1);
    asn.pallet_count = Some(2);
    asn.container_model = "20GP".into();
    let json = body(&requests::CreateAsnOrder::new("wk", &asn));
    assert!(
        json.ends_with(concat!(
            r#""asnMarkSku":[{"boxNumber":1,"markCode":"BOX001-1-1","quantity":3,"sku":"SKU1","length":20.0,"width":19.1,"lengthUnit":"cm"}],"#,
            r#""incomingOrderGoodsType":1,"containerType":1,"bulkCargoType":0,"palletCnt":2,"bulkCargoTypePiece":0,"containerModel":"20GP"}"#
        )),
        "{json}"
    );
}

#[test]
fn asn_lookup_cancel_and_inventory_bodies() {
    let asns = vec![AsnRef {
        asn_number: "A1".into(),
        reference_number: String::new(),
        asn_type: "PURCHASE".into(),
    }];
    assert_eq!(
        body(&requests::GetAsnList::new("wk", "TU02", &asns)),
        r#"{"warehouseKey":"wk","warehouseCode":"TU02","asnNumbers":[{"asnNumber":"A1","refCode":"","type":"PURCHASE"}]}"#
    );
    let numbers = vec!["A1".to_owned(), "A2".to_owned()];
    assert_eq!(
        body(&requests::CancelAsnOrder::new("wk", "", &numbers)),
        r#"{"warehouseKey":"wk","asnNumbers":["A1","A2"]}"#
    );
    let mut query = InventoryQuery {
        warehouse_code: "TU02".into(),
        page_size: 10,
        skus: Vec::new(),
        updated_since_ms: None,
    };
    assert_eq!(
        body(&requests::SyncInventory::new("wk", page(&query, 1))),
        r#"{"warehouseKey":"wk","pageSize":10,"page":1,"warehouseCode":"TU02"}"#
    );
    query.skus = vec!["S1".into()];
    query.updated_since_ms = Some(1_758_617_060_000);
    assert_eq!(
        body(&requests::SyncInventory::new("wk", page(&query, 3))),
        r#"{"warehouseKey":"wk","pageSize":10,"page":3,"warehouseCode":"TU02","warehouseSkuList":[{"warehouseSku":"S1"}],"updateTimeFrom":1758617060000}"#
    );
}

#[test]
fn sku_body_has_numbers_and_a_currency_map() {
    let mut sku = product("SKU1", "E1");
    assert_eq!(
        body(&requests::InsertSkuInfo::new("wk", &sku)),
        r#"{"warehouseKey":"wk","sku":"SKU1","erpSku":"E1"}"#
    );
    sku.warehouse_code = "TU02".into();
    sku.weight = Some(dec("1.25"));
    sku.length = Some(dec("10"));
    sku.item_package = Some(1);
    sku.cd_price_method = Some(CustomsPriceMethod::Rate);
    sku.purchase_cost = Some(dec("12.10"));
    sku.purchase_cost_unit = "CNY".into();
    sku.currency_map = [
        ("USD".to_owned(), dec("7.10")),
        ("EUR".to_owned(), dec("7.8")),
    ]
    .into();
    assert_eq!(
        body(&requests::InsertSkuInfo::new("wk", &sku)),
        concat!(
            r#"{"warehouseKey":"wk","warehouseCode":"TU02","sku":"SKU1","erpSku":"E1","weight":1.25,"#,
            r#""length":10,"itemPackage":1,"cdPriceMethod":"RATE","purchaseCost":12.10,"#,
            r#""purchaseCostUnit":"CNY","currencyMap":{"EUR":7.8,"USD":7.10}}"#
        )
    );
}

// --- answers (the spec's own examples first) --------------------------

#[test]
fn warehouses_from_the_example_the_table_or_a_bare_list() {
    let example = envelope(
        r#"{ "errorMsg": null, "result": { "warehouseInfoList": [ { "warehouseCode": "TU美东代理仓", "warehouseName": "TU01" }, { "warehouseCode": "TU美西自营仓", "warehouseName": "TU02" }, { "warehouseCode": "TU测试", "warehouseName": "TU03" } ] }, "success": true, "code": null }"#,
    );
    let list = answers::warehouses(&example).expect("warehouses");
    assert_eq!(list.len(), 3);
    assert_eq!(
        (list[0].code.as_str(), list[0].name.as_str()),
        ("TU美东代理仓", "TU01")
    );

    let documented =
        json!({"warehouseList": [{"warehouseCode": 2, "warehouseName": "Two", "extra": true}]});
    assert_eq!(
        answers::warehouses(&ok(documented)).expect("documented"),
        vec![Warehouse {
            code: "2".into(),
            name: "Two".into()
        }]
    );
    assert_eq!(
        answers::warehouses(&ok(json!([{"warehouseCode": "W"}]))).expect("bare")[0].code,
        "W"
    );
    assert!(
        answers::warehouses(&ok(Value::Null))
            .expect("null")
            .is_empty()
    );
}

#[test]
fn channels_default_to_the_requested_warehouse() {
    let example = envelope(
        r#"{ "errorMsg": null, "result": { "channelList": [ { "channelCode": "Service with the lowest price", "channelName": "自动选取价格最低的渠道", "carrierName": "" } ] }, "success": true, "code": null }"#,
    );
    let list = answers::channels(&example, "TU02").expect("channels");
    assert_eq!(
        list,
        vec![Channel {
            code: "Service with the lowest price".into(),
            name: "自动选取价格最低的渠道".into(),
            warehouse_code: "TU02".into(),
            carrier_name: String::new(),
        }]
    );
    let own = json!({"channelList": [{"channelCode": "C", "warehouseCode": "OTHER", "carrierName": "UPS"}]});
    assert_eq!(
        answers::channels(&ok(own), "TU02").expect("channels")[0].warehouse_code,
        "OTHER"
    );
}

#[test]
fn a_per_item_rejection_inside_a_transport_success_is_an_error() {
    // The spec's example, with its stray quote repaired.
    let example = envelope(
        r#"{ "errorMsg": null, "result": { "warehouseOrderNumber": "OBS0012508260RU", "orderNumber": "S20250923001", "info": "oms:LA02仓库未分配权限", "success": false }, "success": true, "code": null }"#,
    );
    match answers::created_order(&example, "S20250923001") {
        Err(UpstreamErrorKind::Rejected { message, .. }) => {
            assert_eq!(message, "oms:LA02仓库未分配权限")
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    match answers::created_order(&ok(json!({"success": "false", "code": 40})), "S1") {
        Err(UpstreamErrorKind::Rejected { message, code }) => {
            assert!(!message.is_empty());
            assert_eq!(code, "40");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    let accepted = answers::created_order(&ok(json!({"warehouseOrderNumber": "OBS1"})), "S1")
        .expect("accepted");
    assert_eq!(
        accepted,
        CreatedOrder {
            order_number: "S1".into(),
            warehouse_order_number: "OBS1".into()
        }
    );
    assert!(
        answers::created_order(
            &ok(json!({"success": "true", "warehouseOrderNumber": 7})),
            "S1"
        )
        .is_ok()
    );
    assert!(answers::created_order(&ok(Value::Null), "S1").is_ok());

    let asn = envelope(
        r#"{ "errorMsg": null, "result": { "success": false, "asnNumber": "A20250923002", "info": "SKU:SKU092201未审核", "wmsAsnNumber": "" }, "success": true, "code": null }"#,
    );
    match answers::created_asn(&asn, "A20250923002") {
        Err(UpstreamErrorKind::Rejected { message, .. }) => {
            assert_eq!(message, "SKU:SKU092201未审核")
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    let made = answers::created_asn(
        &ok(json!({"success": true, "asnNumber": "A1", "wmsAsnNumber": "IB1"})),
        "A1",
    );
    assert_eq!(made.expect("created").wms_asn_number, "IB1");

    let sku = envelope(
        r#"{ "errorMsg": null, "result": { "sku": "SKU1", "operation": "CREATE", "info": "sku【SKU1】已被使用;", "success": false }, "success": true, "code": null }"#,
    );
    match answers::sku_upserted(&sku, "SKU1") {
        Err(UpstreamErrorKind::Rejected { message, .. }) => {
            assert_eq!(message, "sku【SKU1】已被使用;")
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    let upserted = answers::sku_upserted(
        &ok(json!({"sku": "SKU1", "operation": "UPDATE", "success": "true"})),
        "SKU1",
    );
    assert_eq!(upserted.expect("upserted").operation, "UPDATE");
}

#[test]
fn cancel_orders_one_outcome_per_input_in_input_order() {
    let orders = refs(&["A", "B", "C"]);
    let all_ok = answers::cancelled_orders(&ok(Value::Null), &orders).expect("null result");
    assert_eq!(
        all_ok
            .iter()
            .map(|o| (o.id.as_str(), o.success))
            .collect::<Vec<_>>(),
        [("A", true), ("B", true), ("C", true)]
    );

    let bare = json!([
        {"orderNumber": "C", "success": "false", "info": "已出库"},
        {"orderNumber": "A", "success": true, "info": ""}
    ]);
    let outcomes = answers::cancelled_orders(&ok(bare), &orders).expect("bare list");
    assert_eq!(
        outcomes[0],
        ItemOutcome {
            id: "A".into(),
            success: true,
            message: String::new()
        }
    );
    assert!(outcomes[1].success, "not mentioned");
    assert_eq!(
        outcomes[2],
        ItemOutcome {
            id: "C".into(),
            success: false,
            message: "已出库".into()
        }
    );

    let wrapped = json!({"results": [{"orderNumber": "B", "info": "not found"}]});
    let outcomes = answers::cancelled_orders(&ok(wrapped), &orders).expect("wrapped");
    assert!(outcomes[0].success && !outcomes[1].success && outcomes[2].success);
    assert_eq!(outcomes[1].message, "not found");

    let single = json!({"orderNumber": "A", "success": false});
    let outcomes = answers::cancelled_orders(&ok(single), &orders[..1]).expect("single");
    assert!(!outcomes[0].success && !outcomes[0].message.is_empty());

    // Ids echoed with spaces still match.
    let spaced = json!([{"orderNumber": " B ", "success": false, "info": "已出库"}]);
    let outcomes = answers::cancelled_orders(&ok(spaced), &orders).expect("spaced");
    assert!(outcomes[0].success && !outcomes[1].success && outcomes[2].success);
}

#[test]
fn a_cancel_refused_as_a_whole_fails_every_order() {
    // One object, no list and no order number: the whole call's answer,
    // as the spec's create examples refuse.
    let orders = refs(&["A", "B"]);
    for refusal in [
        json!({"success": false, "info": "oms:LA02仓库未分配权限"}),
        json!({"info": "oms:LA02仓库未分配权限"}),
    ] {
        let outcomes = answers::cancelled_orders(&ok(refusal.clone()), &orders).expect("outcomes");
        assert_eq!(
            outcomes
                .iter()
                .map(|o| (o.id.as_str(), o.success, o.message.as_str()))
                .collect::<Vec<_>>(),
            [
                ("A", false, "oms:LA02仓库未分配权限"),
                ("B", false, "oms:LA02仓库未分配权限")
            ],
            "{refusal}"
        );
    }
    let numbers = vec!["X".to_owned(), "Y".to_owned()];
    let outcomes =
        answers::cancelled_asns(&ok(json!({"success": false, "info": "已完成"})), &numbers)
            .expect("asns");
    assert!(outcomes.iter().all(|o| !o.success && o.message == "已完成"));
    let states = answers::order_states(&ok(json!({"success": false, "info": "查无此单"})), &orders)
        .expect("states");
    assert!(states.iter().all(|s| s.error_message == "查无此单"));
    // A lone success naming nothing still only answers for its position.
    let outcomes =
        answers::cancelled_orders(&ok(json!({"success": true})), &orders).expect("outcomes");
    assert!(outcomes.iter().all(|o| o.success));
}

#[test]
fn a_create_answer_with_words_and_no_number_is_a_refusal() {
    let refused = json!({"warehouseOrderNumber": "", "info": "oms:LA02仓库未分配权限"});
    assert!(matches!(
        answers::created_order(&ok(refused), "UNU1"),
        Err(UpstreamErrorKind::Rejected { ref message, .. }) if message == "oms:LA02仓库未分配权限"
    ));
    let refused_asn = json!({"info": "仓库不存在"});
    assert!(matches!(
        answers::created_asn(&ok(refused_asn), "A1"),
        Err(UpstreamErrorKind::Rejected { .. })
    ));
    // A number with words and no `success` was created.
    let created = json!({"warehouseOrderNumber": "OBS1", "info": "ok"});
    assert_eq!(
        answers::created_order(&ok(created), "UNU1")
            .expect("created")
            .warehouse_order_number,
        "OBS1"
    );
}

#[test]
fn order_states_follow_the_input_and_mark_unreported_orders() {
    let example = envelope(
        r#"{ "errorMsg": null, "result": { "warehouseGetOrderList": [ { "orderNumber": "UNU250822163403", "wmsStatus": "0", "status": "SENDING" } ] }, "success": true, "code": null }"#,
    );
    let orders = refs(&["MISSING", "UNU250822163403"]);
    let states = answers::order_states(&example, &orders).expect("states");
    assert_eq!(
        states[0],
        OrderState::unreported("MISSING", "the warehouse did not report this order")
    );
    assert_eq!(states[1].order_number, "UNU250822163403");
    assert_eq!(states[1].wms_status, "0");
    assert_eq!(states[1].status, OrderStatus::Sending);
    assert!(states[1].error_message.is_empty());

    let shipped = json!({"orderList": [{"orderNumber": "S1", "wmsStatus": 3, "status": "success", "carrierName": "FEDEX", "trackingNumber": "T1"}]});
    let states = answers::order_states(&ok(shipped), &refs(&["S1"])).expect("states");
    assert_eq!(
        (
            states[0].status,
            states[0].wms_status.as_str(),
            states[0].tracking_number.as_str()
        ),
        (OrderStatus::Success, "3", "T1")
    );

    // "wmsStatus needs to be mapped by yourself": a warehouse that
    // leaves `status` out is read from its own word.
    let wms_only =
        json!({"warehouseGetOrderList": [{"orderNumber": "S2", "wmsStatus": "Shipped"}]});
    let states = answers::order_states(&ok(wms_only), &refs(&["S2"])).expect("states");
    assert_eq!(states[0].status, OrderStatus::Success);
}

#[test]
fn asn_states_with_numbers_as_strings() {
    let example = envelope(
        r#"{ "errorMsg": null, "result": { "asnList": [ { "asnNumber": "A250822163405", "wmsStatus": "NEW", "referenceNumber": "IB001250822RS" } ] }, "success": true, "code": null }"#,
    );
    let states = answers::asn_states(&example).expect("asns");
    assert_eq!(states[0].status, AsnStatus::New);
    assert_eq!(states[0].reference_number, "IB001250822RS");
    assert!(states[0].items.is_empty());

    let received = json!({"asnList": [{"asnNumber": "A1", "wmsStatus": "finished", "finishTime": 1700000000000_i64,
        "skuList": [{"sku": "S", "estimatedQuantity": "10", "receivedQuantity": 9, "goodQuantity": "8", "badQuantity": null}]}]});
    let states = answers::asn_states(&ok(received)).expect("asns");
    assert_eq!(states[0].status, AsnStatus::Finished);
    assert_eq!(states[0].finish_time, "1700000000000");
    assert_eq!(
        states[0].items[0],
        AsnReceipt {
            sku: "S".into(),
            name: String::new(),
            estimated_quantity: 10,
            received_quantity: 9,
            good_quantity: 8,
            bad_quantity: 0,
        }
    );
}

#[test]
fn asn_cancel_outcomes_per_input() {
    let example = envelope(
        r#"{ "errorMsg": null, "result": { "results": [ { "asnNumber": "A250828163429", "operation": "CANCEL", "info": "", "success": true } ] }, "success": true, "code": null }"#,
    );
    let numbers = vec!["X".to_owned(), "A250828163429".to_owned(), "F".to_owned()];
    let mut result = example.field("result").clone();
    result["results"]
        .as_array_mut()
        .expect("list")
        .push(json!({"asnNumber": "F", "operation": "CANCEL", "info": "已完成"}));
    let outcomes = answers::cancelled_asns(&ok(result), &numbers).expect("outcomes");
    assert_eq!(outcomes.len(), 3);
    assert!(outcomes[0].success, "not mentioned");
    assert_eq!(
        (outcomes[1].success, outcomes[1].operation.as_str()),
        (true, "CANCEL")
    );
    assert_eq!(
        (outcomes[2].success, outcomes[2].message.as_str()),
        (false, "已完成")
    );
}

#[test]
fn inventory_as_the_examples_bare_array() {
    let example = envelope(
        r#"{ "errorMsg": null, "result": [ { "warehouseCode": "TU02", "warehouseSku": "LINGXING-SKUE", "onwayQuantity": "0", "pendingQuantity": "0", "sellableQuantity": "10", "unsellableQuantity": "0", "reservedQuantity": "0", "useQuantity": "0", "totalQuantity": "550" }, { "warehouseCode": "TU02", "warehouseSku": "pikaqiu", "onwayQuantity": "30", "pendingQuantity": "0", "sellableQuantity": "6463", "unsellableQuantity": "999", "reservedQuantity": "0", "useQuantity": "54", "totalQuantity": "7877" } ], "success": true, "code": null }"#,
    );
    let page = answers::inventory_page(&example).expect("page");
    assert_eq!(
        (page.is_last_page, page.current_page, page.page_count),
        (None, None, None),
        "a bare array says nothing of paging"
    );
    assert_eq!(
        page.items[1],
        InventoryItem {
            sku: "pikaqiu".into(),
            warehouse_code: "TU02".into(),
            sellable: 6463,
            total: 7877,
            onway: 30,
            pending: 0,
            unsellable: 999,
            reserved: 0,
            used: 54,
        }
    );
    let empty = answers::inventory_page(&ok(json!([]))).expect("page");
    assert!(empty.items.is_empty());
    assert!(
        answers::inventory_page(&ok(Value::Null))
            .expect("null")
            .items
            .is_empty()
    );
}

#[test]
fn inventory_as_the_documented_page_object() {
    let item = json!({"warehouseCode": "TU02", "warehouseSku": "A", "sellableQuantity": 5, "totalQuantity": "6"});
    let first = json!({"isLastPage": "false", "currentPage": "1", "pageCount": "3", "data": [item.clone()]});
    let page = answers::inventory_page(&ok(first)).expect("page");
    assert_eq!(
        (page.is_last_page, page.current_page, page.page_count),
        (Some(false), Some(1), Some(3))
    );
    assert_eq!((page.items[0].sellable, page.items[0].total), (5, 6));
    let by_flag = json!({"isLastPage": true, "pageCount": 0, "records": [item]});
    let page = answers::inventory_page(&ok(by_flag)).expect("page");
    assert_eq!((page.is_last_page, page.items.len()), (Some(true), 1));
}

#[test]
fn a_result_encoded_twice_is_decoded() {
    let twice =
        envelope(r#"{"success":true,"result":"{\"warehouseList\":[{\"warehouseCode\":\"W\"}]}"}"#);
    assert_eq!(
        answers::warehouses(&twice).expect("warehouses")[0].code,
        "W"
    );
}

// --- against a loopback warehouse ------------------------------------

/// What the loopback warehouse saw, and what it answers.
#[derive(Default)]
struct Seen {
    /// (path, headers, body)
    requests: Vec<(String, Headers, String)>,
    answer: String,
    /// syncInventory: answers per page, page 1 first.
    pages: Vec<String>,
}

type Shared = Arc<Mutex<Seen>>;

async fn warehouse(
    State(state): State<Shared>,
    uri: axum::http::Uri,
    headers: Headers,
    body: Bytes,
) -> String {
    let body = String::from_utf8(body.to_vec()).expect("utf-8 body");
    let page = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|value| value["page"].as_u64());
    let mut seen = state.lock().expect("lock");
    seen.requests.push((uri.path().to_owned(), headers, body));
    match page {
        Some(page) if !seen.pages.is_empty() => seen
            .pages
            .get(page as usize - 1)
            .cloned()
            .unwrap_or_else(|| r#"{"success":false,"errorMsg":"no such page"}"#.to_owned()),
        _ => seen.answer.clone(),
    }
}

async fn spawn(state: Shared) -> SocketAddr {
    let app = Router::new()
        .route("/global-api/v1/warehouse/{op}", post(warehouse))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

#[tokio::test]
async fn operation_urls_extend_the_base_url_and_a_bad_one_stops_the_build() {
    let url = |base: &str, operation| {
        let backend = QlinkBackend::new(base, &credentials(), transport()).expect("backend");
        backend
            .client
            .signer()
            .url(operation)
            .map(|url| url.to_string())
    };
    for base in ["http://127.0.0.1:8080", "http://127.0.0.1:8080/"] {
        assert_eq!(
            url(base, Operation::CreateOrder).as_deref(),
            Some("http://127.0.0.1:8080/global-api/v1/warehouse/createOrder")
        );
    }
    assert_eq!(
        url("https://gw.example.com/qlink/", Operation::SyncInventory).as_deref(),
        Some("https://gw.example.com/qlink/global-api/v1/warehouse/syncInventory")
    );
    assert!(matches!(
        QlinkBackend::new("not a url", &credentials(), transport()).err(),
        Some(SetupError::BaseUrl(_))
    ));
}

fn credentials() -> QlinkCredentials {
    QlinkCredentials {
        app_key: "1".into(),
        app_secret: SecretString::from("app-secret"),
        warehouse_type: Some("LINGXING".into()),
        warehouse_key: "wk".into(),
        secret: Some(SecretString::from("third-party-secret")),
        access_token: None,
        refresh_token: Some(SecretString::from("refresh")),
        api_url: Some("https://wms.example.com/接口".into()),
        auth_info: vec![
            AuthInfo {
                key: "MERCHANT_ID".into(),
                value: SecretString::from("BG2447"),
            },
            AuthInfo {
                key: "PRINT_SIZE".into(),
                value: SecretString::from(""),
            },
        ],
    }
}

async fn loopback(answer: &str) -> (Arc<QlinkBackend>, Shared) {
    let state = Shared::default();
    state.lock().expect("lock").answer = answer.to_owned();
    let addr = spawn(state.clone()).await;
    let backend = QlinkBackend::new(&format!("http://{addr}/"), &credentials(), transport())
        .expect("backend");
    (Arc::new(backend), state)
}

fn header<'h>(headers: &'h Headers, name: &str) -> Option<&'h [u8]> {
    headers.get(name).map(|value| value.as_bytes())
}

#[tokio::test]
async fn send_signs_the_exact_body_and_sends_the_credential_headers() {
    let (backend, state) = loopback(
        r#"{"errorMsg":null,"result":{"warehouseInfoList":[{"warehouseCode":"TU美东代理仓","warehouseName":"TU01"}]},"success":true,"code":null}"#,
    )
    .await;
    let list = backend.list_warehouses(&ctx()).await.expect("warehouses");
    assert_eq!(list[0].code, "TU美东代理仓");

    let seen = state.lock().expect("lock");
    let (path, headers, body) = &seen.requests[0];
    assert_eq!(
        path, "/global-api/v1/warehouse/initWarehouses",
        "no double slash"
    );
    assert_eq!(body, r#"{"warehouseKey":["wk"]}"#);
    let sign = headers
        .get("sign")
        .and_then(|v| v.to_str().ok())
        .expect("sign");
    assert!(signatures_match(&qlink_sign("1", body, "app-secret"), sign));
    assert_eq!(header(headers, "appKey"), Some(&b"1"[..]));
    assert_eq!(header(headers, "warehouseType"), Some(&b"LINGXING"[..]));
    assert_eq!(header(headers, "secret"), Some(&b"third-party-secret"[..]));
    assert_eq!(header(headers, "refreshToken"), Some(&b"refresh"[..]));
    assert_eq!(
        header(headers, "accessToken"),
        None,
        "not configured, not sent"
    );
    assert_eq!(
        header(headers, "apiUrl"),
        Some("https://wms.example.com/接口".as_bytes())
    );
    assert_eq!(
        header(headers, "authInfo"),
        Some(&br#"[{"authInfoKey":"MERCHANT_ID","value":"BG2447"},{"authInfoKey":"PRINT_SIZE","value":""}]"#[..])
    );
    assert_eq!(
        header(headers, "content-type"),
        Some(&b"application/json"[..])
    );
}

#[tokio::test]
async fn an_envelope_failure_is_a_rejection_naming_tenant_and_operation() {
    let (backend, _state) =
        loopback(r#"{"success":false,"errorMsg":"sign error","code":"401"}"#).await;
    let err = backend
        .list_channels(&ctx(), "TU02")
        .await
        .expect_err("rejected");
    assert_eq!((&*err.tenant, err.operation), ("acme", "initChannels"));
    match err.kind {
        UpstreamErrorKind::Rejected { message, code } => {
            assert_eq!((message.as_str(), code.as_str()), ("sign error", "401"))
        }
        other => panic!("expected a rejection, got {other:?}"),
    }

    let (backend, _state) = loopback("<html>gateway</html>").await;
    let err = backend
        .get_orders(&ctx(), "", &[OrderRef::default()])
        .await
        .expect_err("malformed");
    assert!(matches!(err.kind, UpstreamErrorKind::Malformed(_)), "{err}");
    assert_eq!(err.operation, "getOrder");
}

#[tokio::test]
async fn a_per_item_rejection_is_an_error_with_the_warehouses_words() {
    let (backend, _state) = loopback(
        r#"{"errorMsg":null,"result":{"sku":"SKU1","operation":"CREATE","info":"sku【SKU1】已被使用;","success":false},"success":true,"code":null}"#,
    )
    .await;
    let sku = product("SKU1", "E1");
    let err = backend
        .upsert_sku(&ctx(), &sku)
        .await
        .expect_err("rejected");
    assert_eq!(err.operation, "insertSkuInfo");
    assert!(err.to_string().contains("sku【SKU1】已被使用;"), "{err}");
}

#[test]
fn a_header_value_http_cannot_carry_stops_the_build_without_quoting_it() {
    let mut credentials = credentials();
    credentials.secret = Some(SecretString::from("line\nbreak-secret"));
    let Err(err) = QlinkBackend::new("http://127.0.0.1:1", &credentials, transport()) else {
        panic!("built with a header HTTP cannot carry");
    };
    assert_eq!(err, SetupError::Header("secret"));
    let text = err.to_string();
    assert!(
        text.contains("`secret`") && !text.contains("break-secret"),
        "{text}"
    );
}

fn inventory_page(skus: &[&str], last: bool) -> String {
    let items: Vec<String> = skus
        .iter()
        .map(|sku| format!(r#"{{"warehouseCode":"TU02","warehouseSku":"{sku}","sellableQuantity":"1","totalQuantity":"2"}}"#))
        .collect();
    format!(
        r#"{{"success":true,"result":{{"isLastPage":{last},"pageCount":0,"data":[{}]}}}}"#,
        items.join(",")
    )
}

fn query() -> InventoryQuery {
    InventoryQuery {
        warehouse_code: "TU02".into(),
        page_size: 2,
        skus: Vec::new(),
        updated_since_ms: None,
    }
}

#[tokio::test]
async fn inventory_pages_are_fetched_only_as_the_stream_is_polled() {
    let (backend, state) = loopback("").await;
    state.lock().expect("lock").pages = vec![
        inventory_page(&["A", "B"], false),
        inventory_page(&["C", "D"], false),
        inventory_page(&["E"], true),
    ];
    let requests = || state.lock().expect("lock").requests.len();

    let mut stream = backend.clone().sync_inventory(ctx(), query());
    assert_eq!(requests(), 0, "nothing before the first poll");
    let first = stream.next().await.expect("page 1").expect("ok");
    assert_eq!(
        (first.page, first.is_last_page, first.items.len()),
        (1, false, 2)
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(requests(), 1, "no read-ahead");
    drop(stream);

    let pages: Vec<_> = backend
        .clone()
        .sync_inventory(ctx(), query())
        .collect()
        .await;
    let pages: Vec<InventoryPage> = pages.into_iter().map(|page| page.expect("page")).collect();
    assert_eq!(
        pages.iter().map(|page| page.page).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(pages[2].is_last_page);
    assert_eq!(requests(), 1 + 3);
    let bodies: Vec<String> = state
        .lock()
        .expect("lock")
        .requests
        .iter()
        .map(|r| r.2.clone())
        .collect();
    assert_eq!(
        bodies[3],
        r#"{"warehouseKey":"wk","pageSize":2,"page":3,"warehouseCode":"TU02"}"#
    );
}

/// The spec's own syncInventory example: a bare array of 11 rows for
/// `pageSize` 10, no paging fields.
fn unpaged_answer(rows: usize) -> String {
    let items: Vec<String> = (0..rows)
        .map(|n| format!(r#"{{"warehouseCode":"TU02","warehouseSku":"S{n}","sellableQuantity":"1","totalQuantity":"2"}}"#))
        .collect();
    format!(r#"{{"success":true,"result":[{}]}}"#, items.join(","))
}

#[tokio::test]
async fn a_warehouse_that_ignores_paging_is_asked_once_or_twice_not_forever() {
    // More rows than asked for: everything at once, the last page.
    let (backend, state) = loopback(&unpaged_answer(11)).await;
    let paged = InventoryQuery {
        page_size: 10,
        ..query()
    };
    let pages: Vec<_> = backend
        .clone()
        .sync_inventory(ctx(), paged.clone())
        .collect()
        .await;
    assert_eq!(pages.len(), 1);
    let only = pages[0].as_ref().expect("page 1");
    assert!(only.is_last_page);
    assert_eq!(only.items.len(), 11);
    assert_eq!(state.lock().expect("lock").requests.len(), 1);

    // Exactly a page's worth, every time: the repeat ends the stream.
    state.lock().expect("lock").answer = unpaged_answer(10);
    let pages: Vec<_> = backend.sync_inventory(ctx(), paged).collect().await;
    assert_eq!(pages.len(), 2);
    assert!(!pages[0].as_ref().expect("page 1").is_last_page);
    let err = pages[1].as_ref().expect_err("page 2 repeats page 1");
    assert!(err.to_string().contains("ignores paging"), "{err}");
    assert_eq!(state.lock().expect("lock").requests.len(), 1 + 2);
}

#[tokio::test]
async fn an_inventory_failure_ends_the_stream_after_yielding_it() {
    let (backend, state) = loopback("").await;
    state.lock().expect("lock").pages = vec![inventory_page(&["A", "B"], false)];
    let pages: Vec<_> = backend.sync_inventory(ctx(), query()).collect().await;
    assert_eq!(pages.len(), 2);
    assert!(pages[0].is_ok());
    let err = pages[1].as_ref().expect_err("page 2 fails");
    assert_eq!(err.operation, "syncInventory");
    assert_eq!(state.lock().expect("lock").requests.len(), 2);
}

#[tokio::test]
async fn batches_are_one_call() {
    let (backend, state) = loopback(
        r#"{"success":true,"result":{"results":[{"orderNumber":"B","success":false,"info":"已出库"}]}}"#,
    )
    .await;
    let orders: Vec<OrderRef> = ["A", "B"]
        .into_iter()
        .map(|number| OrderRef {
            order_number: number.into(),
            ..Default::default()
        })
        .collect();
    let outcomes = backend
        .cancel_orders(&ctx(), "TU02", &orders)
        .await
        .expect("cancel");
    assert_eq!(
        outcomes.iter().map(|o| o.success).collect::<Vec<_>>(),
        [true, false]
    );
    let seen = state.lock().expect("lock");
    assert_eq!(seen.requests.len(), 1);
    assert_eq!(
        seen.requests[0].2,
        r#"{"warehouseKey":["wk"],"warehouseCode":"TU02","cancelOrderList":[{"orderNumber":"A"},{"orderNumber":"B"}]}"#
    );
}
