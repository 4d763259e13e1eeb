//! Bad input, unknown tenants and failing warehouses: each gets a clear
//! status, and nothing invalid reaches a warehouse.

mod common;

use std::time::Duration;

use common::{config_text::*, *};
use futures::StreamExt;
use qlink_facade::{
    config::Config,
    proto::{PackageType, SyncInventoryRequest, UpsertSkuRequest},
    simulator::{Fault, FaultKind},
};
use tonic::{Code, Request};
use tonic_types::StatusExt;

const SKU: &str = "SIM-SKU-00001";

fn fault(kind: FaultKind, operation: &str, times: u32) -> Fault {
    Fault::new(kind).on(operation).times(times)
}

#[tokio::test]
async fn a_call_without_or_with_an_unknown_tenant_never_reaches_a_warehouse() {
    let world = world().await;
    let mut warehouses = world.facade.warehouses();
    let missing = warehouses.list_warehouses(Request::new(Default::default()));
    let missing = missing.await.expect_err("no tenant");
    assert_eq!(missing.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&missing), vec!["x-tenant-id"]);

    let nobody = world.facade.caller("nobody");
    let unknown = nobody.create_order(order("ORD-X", "TU01", SKU)).await;
    let unknown = unknown.expect_err("unknown tenant");
    assert_status(&unknown, Code::NotFound, &["nobody"]);

    // A huge unknown id is quoted back only in part.
    let long_id = "x".repeat(5000);
    let unknown = world.facade.caller(&long_id).list_warehouses().await;
    let unknown = unknown.expect_err("unknown tenant");
    assert_eq!(unknown.code(), Code::NotFound);
    assert!(unknown.message().len() < 200, "{}", unknown.message());

    // Two tenant ids, or one that is not ASCII, name no tenant for sure.
    let mut twice = Request::new(qlink_facade::proto::ListWarehousesRequest::default());
    for id in [QLINK, QIANYI] {
        twice
            .metadata_mut()
            .append("x-tenant-id", id.parse().expect("ascii"));
    }
    let mut not_ascii = Request::new(qlink_facade::proto::ListWarehousesRequest::default());
    not_ascii.metadata_mut().insert(
        "x-tenant-id",
        tonic::metadata::MetadataValue::try_from("租户".as_bytes()).expect("opaque bytes"),
    );
    for (request, words) in [(twice, "more than once"), (not_ascii, "ASCII")] {
        let status = warehouses.list_warehouses(request).await;
        let status = status.expect_err("invalid tenant metadata");
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(violated_fields(&status), vec!["x-tenant-id"]);
        assert!(status.message().contains(words), "{}", status.message());
    }
    assert!(
        world.simulator.requests().is_empty(),
        "no upstream request was made"
    );
}

#[tokio::test]
async fn invalid_orders_name_every_bad_field_and_reach_no_warehouse() {
    let world = world().await;
    for tenant in TENANTS {
        let api = world.facade.caller(tenant);
        let mut bad = order("", "TU01", SKU);
        bad.freight = "twelve".to_owned();
        bad.items[0].quantity = 0;
        bad.items[0].amount = "-1".to_owned();
        bad.receiver.as_mut().expect("receiver").postal_code.clear();
        bad.cod_enabled = true;
        bad.package_type = PackageType::SelfShipped as i32;
        let status = api.create_order(bad).await.expect_err("invalid order");
        assert_eq!(status.code(), Code::InvalidArgument, "{tenant}");
        let fields = violated_fields(&status);
        let wanted = [
            "order_number",
            "freight",
            "items[0].quantity",
            "items[0].amount",
            "receiver.postal_code",
            "cod_pay_amount",
            "cod_currency",
            "tracking_number",
            "label_data",
        ];
        assert_all_in(&fields, &wanted, tenant);

        // Money that could not be sent digit for digit, or is not written
        // as a plain decimal, is refused rather than rounded or rewritten;
        // so is a malformed COD amount when COD is off.
        let mut inexact = order("ORD-INEXACT", "TU01", SKU);
        inexact.freight = "1.123456789012345678901234567890".to_owned();
        inexact.items[0].amount = "1e3".to_owned();
        inexact.cod_pay_amount = "x".to_owned();
        let status = api.create_order(inexact).await.expect_err("inexact money");
        assert_eq!(status.code(), Code::InvalidArgument, "{tenant}");
        assert_eq!(
            violated_fields(&status),
            vec!["cod_pay_amount", "items[0].amount", "freight"],
            "{tenant}"
        );
        assert!(
            status.message().contains("sent exactly"),
            "{tenant}: {}",
            status.message()
        );

        let no_items = qlink_facade::proto::CreateOrderRequest {
            items: vec![],
            receiver: None,
            ..order("ORD-EMPTY", "TU01", SKU)
        };
        let status = api.create_order(no_items).await.expect_err("no items");
        assert_eq!(
            violated_fields(&status),
            vec!["receiver", "items"],
            "{tenant}"
        );

        let bad_sku = UpsertSkuRequest {
            sku: "x".repeat(256),
            weight: "1,5".to_owned(),
            ..Default::default()
        };
        let bad_page_size = SyncInventoryRequest {
            page_size: 5000,
            ..Default::default()
        };
        let no_orders: [&str; 0] = [];
        for status in [
            api.create_asn(Default::default())
                .await
                .expect_err("empty asn"),
            api.cancel_asns("", Vec::new()).await.expect_err("no asns"),
            api.get_orders("", &no_orders).await.expect_err("no orders"),
            api.upsert_sku(bad_sku).await.expect_err("bad sku"),
            api.inventory(bad_page_size)
                .await
                .expect_err("bad page size"),
        ] {
            assert_eq!(status.code(), Code::InvalidArgument, "{tenant}: {status:?}");
            assert!(!violated_fields(&status).is_empty(), "{tenant}: {status:?}");
        }
    }
    assert!(
        world.simulator.requests().is_empty(),
        "no upstream request was made"
    );
}

#[tokio::test]
async fn a_warehouse_rejection_carries_the_warehouses_words() {
    // The warehouse's own refusal of a repeated number: with exactly-once
    // writes the facade would answer the repeat itself.
    let world = world_where(|config| {
        for tenant in &mut config.tenants {
            tenant.exactly_once_writes = false;
        }
    })
    .await;
    for (tenant, api, warehouse) in tenants(&world).await {
        let number = format!("ORD-DUP-{tenant}");
        let first = api.create_order(order(&number, &warehouse, SKU)).await;
        first.expect("first create");
        let status = api.create_order(order(&number, &warehouse, SKU)).await;
        let status = status.expect_err("duplicate order is rejected by the warehouse");
        assert_eq!(
            status.code(),
            Code::FailedPrecondition,
            "{tenant}: {status:?}"
        );
        let info = status.get_details_error_info().expect("ErrorInfo details");
        assert_eq!(info.reason, "WAREHOUSE_REJECTED");
        assert_eq!(
            info.metadata.get("tenant").map(String::as_str),
            Some(tenant)
        );
        assert_eq!(
            info.metadata.get("operation").map(String::as_str),
            Some("createOrder")
        );
        let words = info
            .metadata
            .get("warehouse_message")
            .expect("warehouse words");
        assert!(
            !words.is_empty() && status.message().contains(words.as_str()),
            "{status:?}"
        );
        assert!(
            !info.metadata.contains_key("warehouse_code"),
            "{:?}",
            info.metadata
        );

        world.simulator.inject(fault(
            FaultKind::Reject("库存不足".to_owned()),
            "createOrder",
            1,
        ));
        let refused = order(&format!("ORD-REJ-{tenant}"), &warehouse, SKU);
        let status = api.create_order(refused).await.expect_err("rejected");
        assert_status(&status, Code::FailedPrecondition, &["库存不足"]);
    }

    // qlink's envelope carries an error code of its own, passed on by name.
    world
        .simulator
        .inject(fault(FaultKind::BadSignature, "initWarehouses", 1));
    let status = world.facade.caller(QLINK).list_warehouses().await;
    let status = status.expect_err("bad signature");
    assert_eq!(status.code(), Code::FailedPrecondition);
    let info = status.get_details_error_info().expect("ErrorInfo details");
    assert_eq!(
        info.metadata
            .get("warehouse_error_code")
            .map(String::as_str),
        Some("SIGN_ERROR"),
        "{:?}",
        info.metadata
    );
}

#[tokio::test]
async fn upstream_faults_map_to_fitting_codes_naming_tenant_and_operation() {
    let world = world().await;
    for tenant in TENANTS {
        let operation = if tenant == QLINK {
            "initWarehouses"
        } else {
            "warehouses"
        };
        let api = world.facade.caller(tenant);
        let list = || api.list_warehouses();

        // (fault, attempts it fails, the code, words the message holds).
        // Reads are retried (3 attempts by default): the first two faults
        // fail every attempt.
        let faults = [
            (
                FaultKind::HttpStatus(503),
                3,
                Code::Unavailable,
                &[tenant, operation, "503"][..],
            ),
            (FaultKind::HttpStatus(429), 3, Code::ResourceExhausted, &[]),
            (FaultKind::MalformedJson, 1, Code::Internal, &["malformed"]),
            (FaultKind::BadSignature, 1, Code::FailedPrecondition, &[]),
        ];
        let mut statuses = Vec::new();
        for (kind, attempts, code, words) in faults {
            let what = format!("{tenant}: {kind:?}");
            world.simulator.inject(fault(kind, operation, attempts));
            let status = list().await.expect_err(&what);
            assert_eq!(status.code(), code, "{what}: {status:?}");
            assert!(
                words.iter().all(|word| status.message().contains(word)),
                "{what}: {}",
                status.message()
            );
            statuses.push(status);
        }

        // Each fault was used up: the next call works.
        list().await.expect("healthy again");

        for status in &statuses {
            for secret in ["demo-app-secret", "demo-secret-key"] {
                assert!(!status.message().contains(secret));
            }
        }
    }
}

#[tokio::test]
async fn a_slow_warehouse_is_deadline_exceeded_and_a_dead_one_unavailable() {
    let simulator = spawn_simulator(test_simulator_config()).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let [access_id, _] = DEMO_QIANYI;
    let [app_key, _, warehouse_key] = DEMO_QLINK;
    let toml = qianyi_tenant(
        "slow",
        &simulator.qianyi_endpoint(),
        [access_id, "${SECRET}"],
        "timeout_ms = 300",
    ) + &qlink_tenant(
        "dead",
        &format!("http://{closed}"),
        [app_key, "${SECRET}", warehouse_key],
        "",
    );
    let config = Config::from_toml(&toml, &|name| {
        (name == "SECRET").then(|| "demo-secret-key".to_owned())
    })
    .expect("config");
    let facade = spawn_facade(config).await;
    simulator.inject(Fault::new(FaultKind::Delay(Duration::from_secs(2))));
    let status = facade.caller("slow").list_warehouses().await;
    let status = status.expect_err("too slow");
    assert_status(&status, Code::DeadlineExceeded, &["slow"]);
    simulator.clear_faults();

    let status = facade.caller("dead").list_warehouses().await;
    let status = status.expect_err("nobody listens");
    assert_status(&status, Code::Unavailable, &["dead", "initWarehouses"]);
}

#[tokio::test]
async fn paging_stops_when_the_caller_goes_away() {
    let mut config = test_simulator_config();
    config.inventory_skus = 400;
    let world = world_with(config).await;
    for (tenant, api, warehouse) in tenants(&world).await {
        // Slow pages, so a pager that kept going would be seen going.
        let slow = FaultKind::Delay(Duration::from_millis(50));
        world.simulator.inject(Fault::new(slow).on("syncInventory"));
        let query = SyncInventoryRequest {
            warehouse_code: warehouse,
            page_size: 1,
            ..Default::default()
        };
        let mut stream = api.inventory(query).await.expect("sync");
        let first = stream.next().await.expect("a page").expect("page ok");
        assert_eq!(first.page, 1);
        drop(stream);
        let pages_asked = || {
            world
                .simulator
                .requests()
                .iter()
                .filter(|r| r.operation == "syncInventory")
                .count()
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        let after_leaving = pages_asked();
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(
            pages_asked(),
            after_leaving,
            "{tenant}: paging went on after the caller left"
        );
        assert!(
            after_leaving < 20,
            "{tenant}: {after_leaving} of 400+ pages fetched"
        );
        world.simulator.clear_faults();
        world.simulator.clear_requests();
    }
}

#[tokio::test]
async fn a_failing_page_ends_the_stream_with_the_error() {
    let world = world().await;
    let warehouse = first_warehouse(&world, QIANYI).await;
    let failing = Fault::new(FaultKind::HttpStatus(500)).on("syncInventory");
    world.simulator.inject(failing);
    let query = SyncInventoryRequest {
        warehouse_code: warehouse,
        page_size: 10,
        ..Default::default()
    };
    let stream = world.facade.caller(QIANYI).inventory(query).await;
    let mut stream = stream.expect("stream opens");
    let status = stream
        .next()
        .await
        .expect("an item")
        .expect_err("the error");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(stream.next().await.is_none(), "nothing after the error");
}

#[tokio::test]
async fn get_orders_rejection_of_one_order_is_that_orders_error() {
    let world = world().await;
    let warehouse = first_warehouse(&world, QIANYI).await;
    let api = world.facade.caller(QIANYI);
    let states = api.get_orders(&warehouse, &["ORD-NEVER-CREATED"]).await;
    let states = states.expect("batch answers");
    assert_eq!(states.len(), 1);
    assert!(!states[0].error_message.is_empty(), "{states:?}");
}

#[tokio::test]
async fn a_token_is_tied_to_its_tenant() {
    let simulator = spawn_simulator(test_simulator_config()).await;
    let tenant = |id: &str, tokens: &str| {
        qianyi_tenant(id, &simulator.qianyi_endpoint(), DEMO_QIANYI, tokens)
    };
    // "b-t0ken" only as its SHA-256: the file holds no usable secret.
    let b_digest = "cef76aa8d4acf527bf2ba9665b03e4929a73b61a974f24258dcc88ee169227fe";
    let toml = tenant("a", "tokens = [\"${A_TOKEN}\"]")
        + &tenant("b", &format!("token_sha256 = [\"{b_digest}\"]"))
        + &tenant("open", "");
    let config = Config::from_toml(&toml, &|name| {
        (name == "A_TOKEN").then(|| "a-t0ken".to_owned())
    })
    .expect("config");
    let facade = spawn_facade(config).await;
    let call = |tenant: &'static str, token: Option<&'static str>| {
        let mut api = facade.caller(tenant);
        if let Some(token) = token {
            api = api.with_token(token);
        }
        async move {
            let answer = api.list_warehouses().await;
            answer.map(|_| ()).map_err(|status| status.code())
        }
    };
    let refused = [
        ("a", None, Code::Unauthenticated),
        ("a", Some("nope"), Code::Unauthenticated),
        ("a", Some("b-t0ken"), Code::PermissionDenied),
        ("b", None, Code::Unauthenticated),
        ("b", Some("a-t0ken"), Code::PermissionDenied),
        ("open", Some("a-t0ken"), Code::PermissionDenied),
    ];
    for (tenant, token, code) in refused {
        assert_eq!(
            call(tenant, token).await,
            Err(code),
            "{tenant} with {token:?}"
        );
    }
    assert!(
        simulator.requests().is_empty(),
        "no refused call reached the warehouse"
    );
    for (tenant, token) in [
        ("a", Some("a-t0ken")),
        ("b", Some("b-t0ken")),
        ("open", None),
        ("open", Some("anything-else")),
    ] {
        assert_eq!(call(tenant, token).await, Ok(()), "{tenant} with {token:?}");
    }
    for request in simulator.requests() {
        assert!(
            !request.body.contains("t0ken")
                && request
                    .headers
                    .iter()
                    .all(|(_, value)| !value.contains("t0ken")),
            "a caller's token never reaches the warehouse: {request:?}"
        );
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed_so_signed_headers_and_writes_stay_put() {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use axum::{
        Router,
        http::{HeaderMap, StatusCode, header::LOCATION},
        routing::post,
    };

    let reached = Arc::new(AtomicUsize::new(0));
    let elsewhere = serve_router(Router::new().fallback(post({
        let reached = reached.clone();
        move || async move {
            reached.fetch_add(1, Ordering::SeqCst);
            r#"{"success": true}"#
        }
    })))
    .await;
    let redirecting = serve_router(Router::new().fallback(post(move || async move {
        let mut headers = HeaderMap::new();
        let target = format!("http://{elsewhere}/moved");
        headers.insert(LOCATION, target.parse().expect("location"));
        (StatusCode::PERMANENT_REDIRECT, headers)
    })))
    .await;
    let facade = spawn_facade(
        Config::from_toml(
            &qlink_tenant(
                "moved",
                &format!("http://{redirecting}/api"),
                DEMO_QLINK,
                "",
            ),
            &|_| None,
        )
        .expect("config"),
    )
    .await;

    let moved = facade.caller("moved");
    let status = moved.create_order(order("ORD-R", "TU01", SKU)).await;
    let status = status.expect_err("a redirect is an error");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains("308")
            && status
                .message()
                .contains(&format!("http://{elsewhere}/moved")),
        "{}",
        status.message()
    );
    let status = moved.list_warehouses().await;
    let status = status.expect_err("a redirect is an error for reads too");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "nothing went where the redirect pointed"
    );
}

#[test]
fn a_tenant_whose_base_url_or_headers_cannot_be_sent_stops_start_up() {
    use qlink_facade::{
        config::ProtocolConfig, demo, metrics::Metrics, simulator::SimulatorConfig,
        tenant::TenantRegistry,
    };
    use secrecy::SecretString;

    let build = |config: Config| TenantRegistry::build(&config.tenants, None, Metrics::shared());
    let demo = || {
        demo::demo_config(
            &SimulatorConfig::default(),
            "http://127.0.0.1:9".to_owned(),
            "http://127.0.0.1:9/qianyi".to_owned(),
        )
    };
    assert!(build(demo()).is_ok());

    // Built in code, past the config file's validation.
    let mut config = demo();
    for tenant in &mut config.tenants {
        if let ProtocolConfig::Qianyi(credentials) = &mut tenant.protocol {
            credentials.secret = Some(SecretString::from("line\nbreak-secret"));
        }
    }
    let err = build(config).expect_err("an unsendable header");
    let text = err.to_string();
    assert!(
        text.contains("demo-qianyi") && text.contains("`secret`") && !text.contains("break-secret"),
        "{text}"
    );

    let mut config = demo();
    config.tenants[0].base_url = "not a url".to_owned();
    let err = build(config).expect_err("an unparsable base_url");
    assert!(
        err.to_string().starts_with("tenant demo-qlink: base_url:"),
        "{err}"
    );
}
