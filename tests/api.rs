//! Every RPC of the five services, end to end through the real server and
//! the simulator over real HTTP, on both protocols.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use qlink_facade::{
    proto::{
        AsnItem, AsnRef, AsnStatus, CreateAsnRequest, GetAsnsRequest, OrderStatus,
        SyncInventoryRequest, UpsertSkuRequest,
    },
    simulator::{InventoryStyle, Protocol, SimulatorConfig},
};

const SKU: &str = "SIM-SKU-00001";

#[tokio::test]
async fn reflection_lists_the_five_services_and_health_answers() {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let world = world().await;
    let mut reflection = ServerReflectionClient::new(world.facade.channel());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = reflection
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .expect("reflection call")
        .into_inner();
    let answer = answers
        .next()
        .await
        .expect("one answer")
        .expect("reflection ok");
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("expected a service list, got {answer:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    let services = [
        "qlink.v1.WarehouseService",
        "qlink.v1.OrderService",
        "qlink.v1.AsnService",
        "qlink.v1.InventoryService",
        "qlink.v1.SkuService",
        "grpc.health.v1.Health",
    ];
    assert_all_in(&names, &services, "reflection's services");

    // The error details' types resolve too, for `grpcurl -format-error`.
    for symbol in [
        "google.rpc.BadRequest",
        "google.rpc.ErrorInfo",
        "google.rpc.RetryInfo",
    ] {
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::FileContainingSymbol(symbol.into())),
        };
        let answer = reflection
            .server_reflection_info(futures::stream::iter([request]))
            .await
            .expect("reflection call")
            .into_inner()
            .next()
            .await
            .expect("one answer")
            .expect("reflection ok");
        assert!(
            matches!(
                answer.message_response,
                Some(MessageResponse::FileDescriptorResponse(ref files))
                    if !files.file_descriptor_proto.is_empty()
            ),
            "{symbol}: {answer:?}"
        );
    }

    let mut health = HealthClient::new(world.facade.channel());
    let status = health
        .check(HealthCheckRequest {
            service: "qlink.v1.OrderService".into(),
        })
        .await
        .expect("health check")
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::Serving as i32);
}

#[tokio::test]
async fn warehouses_and_channels_on_both_protocols() {
    let world = world().await;
    for tenant in TENANTS {
        let api = world.facade.caller(tenant);
        let warehouses = api.list_warehouses().await.expect("list warehouses");
        assert!(warehouses.len() >= 2, "{tenant}: {warehouses:?}");
        assert!(
            warehouses
                .iter()
                .all(|w| !w.code.is_empty() && !w.name.is_empty()),
            "{tenant}: {warehouses:?}"
        );

        let code = warehouses[0].code.clone();
        let channels = api.list_channels(&code).await.expect("list channels");
        assert!(!channels.is_empty(), "{tenant}: no channels");
        assert!(
            channels
                .iter()
                .all(|c| !c.code.is_empty() && c.warehouse_code == code),
            "{tenant}: {channels:?}"
        );
    }
    // The qlink simulator answers with the spec example's `warehouseInfoList`
    // and Chinese names; the facade reads them.
    let qlink = world.facade.caller(QLINK).list_warehouses().await;
    let qlink = qlink.expect("list warehouses");
    assert!(qlink.iter().any(|w| w.name == "TU美东代理仓"), "{qlink:?}");
}

#[tokio::test]
async fn an_order_is_created_and_ships_on_both_protocols() {
    let world = world().await;
    for (tenant, api, warehouse) in tenants(&world).await {
        let number = format!("ORD-SHIP-{tenant}");
        let order = order(&number, &warehouse, SKU);
        let created = api.create_order(order).await.expect("create order");
        assert!(
            !created.warehouse_order_number.is_empty(),
            "{tenant}: {created:?}"
        );

        let lookup = [&number];
        let first = api.get_orders(&warehouse, &lookup).await;
        let first = first.expect("get orders");
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].order_number, number);
        assert!(
            !first[0].wms_status.is_empty(),
            "raw status kept: {first:?}"
        );
        assert!(
            [OrderStatus::Sending as i32, OrderStatus::Success as i32].contains(&first[0].status),
            "{first:?}"
        );

        let shipped = eventually(Duration::from_secs(10), || async {
            let orders = api.get_orders(&warehouse, &lookup).await.ok()?;
            orders
                .into_iter()
                .find(|o| o.status == OrderStatus::Success as i32)
        })
        .await
        .expect("order ships");
        assert!(!shipped.tracking_number.is_empty(), "{shipped:?}");
        assert!(!shipped.carrier_name.is_empty(), "{shipped:?}");
    }
}

#[tokio::test]
async fn cancel_orders_answers_per_order_in_request_order() {
    // Nothing ships while the test runs, however busy the machine: a
    // shipped order could no longer be cancelled.
    let world = world_with(SimulatorConfig {
        ship_after: Duration::from_secs(60),
        ..test_simulator_config()
    })
    .await;
    for (tenant, api, warehouse) in tenants(&world).await {
        let numbers: Vec<String> = (1..=3)
            .map(|i| format!("ORD-CANCEL-{tenant}-{i}"))
            .collect();
        create_orders(&api, &warehouse, &numbers).await;
        world.simulator.clear_requests();
        let wanted = [
            numbers[2].clone(),
            "ORD-NOBODY-KNOWS".to_owned(),
            numbers[0].clone(),
        ];
        let results = api.cancel_orders(&warehouse, &wanted).await;
        let results = results.expect("cancel orders");
        let answered = results.iter().map(|r| r.order_number.as_str());
        assert_in_request_order(answered, &wanted, tenant);
        assert!(
            results[0].success && results[2].success,
            "{tenant}: {results:?}"
        );
        assert!(
            !results[1].success && !results[1].message.is_empty(),
            "{tenant}: {results:?}"
        );

        let calls = world
            .simulator
            .requests()
            .into_iter()
            .filter(|r| r.operation == "cancelOrder")
            .count();
        // qlink cancels as one batch call; Qianyi needs one call per order.
        let expected_calls = if tenant == QLINK { 1 } else { 3 };
        assert_eq!(calls, expected_calls, "{tenant}");

        let states = api.get_orders(&warehouse, &numbers).await;
        let states = states.expect("get orders");
        assert_eq!(
            states[0].status,
            OrderStatus::Cancel as i32,
            "{tenant}: {states:?}"
        );
        assert_eq!(
            states[2].status,
            OrderStatus::Cancel as i32,
            "{tenant}: {states:?}"
        );
        assert_ne!(
            states[1].status,
            OrderStatus::Cancel as i32,
            "{tenant}: {states:?}"
        );
    }
}

#[tokio::test]
async fn get_orders_keeps_request_order_and_flags_unknown_orders() {
    let world = world().await;
    for (tenant, api, warehouse) in tenants(&world).await {
        let numbers: Vec<String> = (1..=5).map(|i| format!("ORD-GET-{tenant}-{i}")).collect();
        create_orders(&api, &warehouse, &numbers).await;
        let mut wanted: Vec<String> = numbers.iter().rev().cloned().collect();
        wanted.insert(2, "ORD-GHOST".to_owned());
        let states = api.get_orders(&warehouse, &wanted).await;
        let states = states.expect("get orders");
        let answered = states.iter().map(|s| s.order_number.as_str());
        assert_in_request_order(answered, &wanted, tenant);
        assert!(!states[2].error_message.is_empty(), "{tenant}: {states:?}");
        assert!(
            states
                .iter()
                .enumerate()
                .all(|(i, s)| i == 2 || s.error_message.is_empty()),
            "{tenant}: {states:?}"
        );
    }
}

#[tokio::test]
async fn an_asn_is_created_received_and_another_cancelled_on_both_protocols() {
    let world = world().await;
    for (tenant, api, warehouse) in tenants(&world).await {
        let asn = |number: &str| CreateAsnRequest {
            asn_number: number.to_owned(),
            warehouse_code: warehouse.clone(),
            items: vec![AsnItem {
                sku: SKU.to_owned(),
                name: "Side table".to_owned(),
                quantity: 7,
            }],
            r#type: "PURCHASE".to_owned(),
            ..Default::default()
        };
        let received_number = format!("ASN-RECV-{tenant}");
        let created = api.create_asn(asn(&received_number)).await;
        let created = created.expect("create asn");
        assert_eq!(created.asn_number, received_number);

        let lookup = GetAsnsRequest {
            warehouse_code: warehouse.clone(),
            asns: vec![AsnRef {
                asn_number: received_number.clone(),
                r#type: "PURCHASE".to_owned(),
                ..Default::default()
            }],
        };
        let finished = eventually(Duration::from_secs(10), || async {
            let asns = api.get_asns(lookup.clone()).await.ok()?;
            asns.into_iter()
                .find(|a| a.status == AsnStatus::Finished as i32)
        })
        .await
        .expect("asn finishes");
        assert_eq!(finished.wms_status, "FINISHED");
        let item = finished
            .items
            .iter()
            .find(|i| i.sku == SKU)
            .expect("item reported");
        assert_eq!(item.received_quantity, 7, "{finished:?}");
        assert_eq!(item.good_quantity + item.bad_quantity, 7, "{finished:?}");

        let cancelled_number = format!("ASN-CANCEL-{tenant}");
        let created = api.create_asn(asn(&cancelled_number)).await;
        created.expect("create asn");
        let numbers = vec![cancelled_number.clone(), received_number.clone()];
        let results = api.cancel_asns(&warehouse, numbers).await;
        let results = results.expect("cancel asns");
        assert_eq!(results.len(), 2, "{tenant}: {results:?}");
        assert_eq!(results[0].asn_number, cancelled_number);
        assert!(results[0].success, "{tenant}: {results:?}");
        assert_eq!(results[1].asn_number, received_number);
        assert!(
            !results[1].success && !results[1].message.is_empty(),
            "finished ASN cannot be cancelled: {results:?}"
        );
    }
}

/// The orders `answered` names are `wanted`, in the request's order.
fn assert_in_request_order<'a>(
    answered: impl Iterator<Item = &'a str>,
    wanted: &[String],
    tenant: &str,
) {
    let answered: Vec<&str> = answered.collect();
    assert_eq!(answered, wanted, "{tenant}");
}

/// Creates the orders numbered `numbers`.
async fn create_orders(api: &Caller, warehouse: &str, numbers: &[String]) {
    for number in numbers {
        let order = order(number, warehouse, SKU);
        api.create_order(order).await.expect("create order");
    }
}

#[tokio::test]
async fn inventory_streams_one_message_per_page_on_both_protocols() {
    let world = world().await;
    for (tenant, api, warehouse) in tenants(&world).await {
        let pages = api
            .inventory_pages(SyncInventoryRequest {
                warehouse_code: warehouse.clone(),
                page_size: 10,
                ..Default::default()
            })
            .await;
        assert!(
            pages.len() >= 5,
            "{tenant}: 45+ SKUs in pages of 10, got {} pages",
            pages.len()
        );
        for (index, page) in pages.iter().enumerate() {
            assert_eq!(page.page as usize, index + 1, "{tenant}");
            assert_eq!(
                page.is_last_page,
                index + 1 == pages.len(),
                "{tenant}: page {}",
                page.page
            );
            assert!(page.items.len() <= 10);
        }
        let items: Vec<_> = pages.iter().flat_map(|p| p.items.iter()).collect();
        assert!(
            items.iter().any(|i| i.sku == SKU && i.total > 0),
            "{tenant}"
        );
        assert!(
            items.iter().all(|i| i.warehouse_code == warehouse),
            "{tenant}"
        );
        let pages_asked = world
            .simulator
            .requests()
            .into_iter()
            .filter(|r| {
                r.operation == "syncInventory"
                    && r.protocol
                        == if tenant == QLINK {
                            Protocol::Qlink
                        } else {
                            Protocol::Qianyi
                        }
            })
            .count();
        assert_eq!(
            pages_asked,
            pages.len(),
            "{tenant}: one upstream call per page"
        );

        // One SKU only.
        let filtered = api
            .inventory_pages(SyncInventoryRequest {
                warehouse_code: warehouse.clone(),
                page_size: 10,
                skus: vec![SKU.to_owned()],
                ..Default::default()
            })
            .await;
        let skus: Vec<&str> = filtered
            .iter()
            .flat_map(|p| p.items.iter())
            .map(|i| i.sku.as_str())
            .collect();
        assert_eq!(skus, vec![SKU], "{tenant}");
    }
}

#[tokio::test]
async fn qlink_inventory_as_documented_page_object_too() {
    let world = world().await;
    world
        .simulator
        .set_inventory_style(InventoryStyle::PageObject);
    let warehouse = first_warehouse(&world, QLINK).await;
    let query = SyncInventoryRequest {
        warehouse_code: warehouse,
        page_size: 20,
        ..Default::default()
    };
    let pages = world.facade.caller(QLINK).inventory_pages(query).await;
    assert!(pages.len() >= 3, "{} pages", pages.len());
    assert!(
        pages.iter().all(|p| p.page_count as usize == pages.len()),
        "page_count from the page object"
    );
    assert!(pages.last().is_some_and(|p| p.is_last_page));
}

#[tokio::test]
async fn a_sku_is_created_then_updated_on_both_protocols() {
    let world = world().await;
    for (tenant, api, warehouse) in tenants(&world).await {
        let sku = UpsertSkuRequest {
            warehouse_code: warehouse.clone(),
            sku: format!("NEW-{tenant}"),
            erp_sku: "ERP-NEW".to_owned(),
            title: "A1234名称".to_owned(),
            barcode: "A1234条码".to_owned(),
            weight: "1.25".to_owned(),
            weight_unit: "KG".to_owned(),
            length: "10".to_owned(),
            width: "5.5".to_owned(),
            height: "2".to_owned(),
            dimension_unit: "cm".to_owned(),
            purchase_cost: "12.10".to_owned(),
            purchase_cost_unit: "CNY".to_owned(),
            currency_map: [("USD".to_owned(), "7.10".to_owned())].into(),
            ..Default::default()
        };
        let first = api.upsert_sku(sku.clone()).await.expect("upsert sku");
        assert_eq!(first.sku, sku.sku);
        assert_eq!(first.operation, "CREATE", "{tenant}");
        let second = api.upsert_sku(sku.clone()).await;
        let second = second.expect("upsert sku again");
        assert_eq!(second.operation, "UPDATE", "{tenant}");
    }
}

#[tokio::test]
async fn requests_on_the_wire_are_signed_and_shaped_as_the_specs_say() {
    let world = world().await;
    for (tenant, api, warehouse) in tenants(&world).await {
        let order = order(&format!("ORD-WIRE-{tenant}"), &warehouse, SKU);
        let created = api.create_order(order).await;
        created.expect("create order");
    }
    let requests = world.simulator.requests();
    assert!(!requests.is_empty());
    assert!(
        requests.iter().all(|r| r.signature_valid),
        "every request verifies"
    );

    // The first request of `operation` in `protocol`.
    let sent = |protocol: Protocol, operation: &str| {
        let found = requests
            .iter()
            .find(|r| r.protocol == protocol && r.operation == operation);
        found.unwrap_or_else(|| panic!("{protocol:?} {operation}"))
    };

    let qlink_list = sent(Protocol::Qlink, "initWarehouses");
    let body: serde_json::Value = serde_json::from_str(&qlink_list.body).expect("json body");
    assert_eq!(
        body["warehouseKey"],
        serde_json::json!(["demo-warehouse-key"]),
        "array for initWarehouses"
    );
    let header = |name: &str| {
        qlink_list
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("appKey").as_deref(), Some("demo-app-key"));
    assert_eq!(header("warehouseType").as_deref(), Some("LINGXING"));
    assert_eq!(header("sign").map(|s| s.len()), Some(40));

    let qlink_order = sent(Protocol::Qlink, "createOrder");
    let body: serde_json::Value = serde_json::from_str(&qlink_order.body).expect("json body");
    assert_eq!(
        body["warehouseKey"], "demo-warehouse-key",
        "string for createOrder"
    );
    assert!(
        qlink_order.body.contains("\"freight\":12.50"),
        "money as an exact number: {}",
        qlink_order.body
    );
    assert_eq!(body["codEnabled"], 0);
    assert_eq!(body["skuList"][0]["quantity"], 2);
    assert_eq!(body["shopName"], "测试店铺");

    let qianyi_order = sent(Protocol::Qianyi, "createOrder");
    let envelope: serde_json::Value = serde_json::from_str(&qianyi_order.body).expect("json body");
    assert_eq!(envelope["accessId"], "demo-access-id");
    assert_eq!(envelope["method"], "createOrder");
    let content: serde_json::Value =
        serde_json::from_str(envelope["content"].as_str().expect("content is a string"))
            .expect("content is json");
    assert_eq!(content["orderNumber"], "ORD-WIRE-demo-qianyi");
    assert!(content.get("warehouseKey").is_none());
    let qianyi_list = sent(Protocol::Qianyi, "warehouses");
    assert_eq!(qianyi_list.content, "", "warehouses sends empty content");
}
