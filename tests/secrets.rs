//! The secrets proof: the real binary at `RUST_LOG=trace` runs every RPC on
//! both protocols, the webhooks, a reload and the error paths (wrong
//! tokens, invalid requests, warehouse faults), and no configured secret,
//! token or key appears anywhere it writes: not in a log line, a status
//! message, error details or an HTTP answer.

mod common;

use std::time::Duration;

use common::{
    process::{Running, free_port},
    push::{asn_path, asn_push, odo_path, order_push, send_push, signed_push},
    req,
};
use futures::StreamExt;
use qlink_facade::{
    proto::{
        AsnItem, AsnRef, CancelAsnsRequest, CancelOrdersRequest, CreateAsnRequest, GetAsnsRequest,
        GetOrdersRequest, ListChannelsRequest, OrderRef, SyncInventoryRequest, UpsertSkuRequest,
        WatchAsnEventsRequest, WatchOrderEventsRequest, asn_service_client::AsnServiceClient,
        inventory_service_client::InventoryServiceClient, order_service_client::OrderServiceClient,
        sku_service_client::SkuServiceClient, warehouse_service_client::WarehouseServiceClient,
    },
    simulator::{Fault, FaultKind, QianyiAccount, QlinkAccount, SimulatorConfig, SimulatorHandle},
};
use tonic::transport::Channel;

/// Every secret the configuration holds; none may be written anywhere.
const SECRETS: &[&str] = &[
    "Sekret-App-7731",
    "Sekret-Qianyi-5519",
    "Sekret-Header-2281",
    "Sekret-Access-9035",
    "Sekret-Refresh-6612",
    "Sekret-AuthInfo-4470",
    "Sekret-Push-3308",
    "Sekret-Token-8842",
    "Sekret-Digest-Token-1193",
    "Sekret-File-5050",
];

const QLINK_TOKEN: &str = "Sekret-Token-8842";
const QIANYI_TOKEN: &str = "Sekret-Digest-Token-1193";
const PUSH_SECRET: &str = "Sekret-Push-3308";

/// A request with the tenant's token.
fn call<T>(tenant: &str, token: &str, message: T) -> tonic::Request<T> {
    let mut request = req(tenant, message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii"),
    );
    request
}

fn config(grpc: u16, http: u16, simulator: &SimulatorHandle, dir: &std::path::Path) -> String {
    use sha2::Digest as _;
    let digest = hex::encode(sha2::Sha256::digest(QIANYI_TOKEN.as_bytes()));
    let secret_file = dir.join("secret_header");
    std::fs::write(&secret_file, "Sekret-File-5050\n").expect("secret file");
    format!(
        r#"
[server]
grpc_addr = "127.0.0.1:{grpc}"
http_addr = "127.0.0.1:{http}"

[store]
url = "sqlite://{store}"

[[tenant]]
id = "q"
protocol = "qlink"
base_url = "{qlink}"
app_key = "proof-app"
app_secret = "${{PROOF_APP_SECRET}}"
warehouse_type = "LINGXING"
warehouse_key = "proof-warehouse"
secret = "Sekret-Header-2281"
access_token = "Sekret-Access-9035"
refresh_token = "Sekret-Refresh-6612"
auth_info = [{{ key = "MERCHANT_ID", value = "Sekret-AuthInfo-4470" }}]
tokens = ["${{PROOF_TOKEN}}"]

[[tenant]]
id = "y"
protocol = "qianyi"
base_url = "{qianyi}"
access_id = "proof-access"
secret_key = "${{PROOF_QIANYI_SECRET}}"
secret = "${{file:{secret_file}}}"
token_sha256 = ["{digest}"]
push = {{ extra_type = "PROOF", access_id = "QIANYI", secret_key = "{PUSH_SECRET}" }}
"#,
        store = dir.join("facade.db").display(),
        qlink = simulator.qlink_base_url(),
        qianyi = simulator.qianyi_endpoint(),
        secret_file = secret_file.display(),
    )
}

/// Everything the facade said to a caller or a pusher, to search.
#[derive(Default)]
struct Said(Vec<String>);

impl Said {
    fn status(&mut self, status: &tonic::Status) {
        self.0.push(format!(
            "{} {} {:?} {:?}",
            status.code(),
            status.message(),
            status.details(),
            status.metadata()
        ));
    }

    fn result<T: std::fmt::Debug>(&mut self, result: Result<tonic::Response<T>, tonic::Status>) {
        match result {
            Ok(response) => self.0.push(format!("{:?}", response.into_inner())),
            Err(status) => self.status(&status),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_token_or_key_appears_in_anything_the_facade_writes() {
    qlink_facade::upstream::install_crypto_provider();
    let simulator = SimulatorHandle::spawn(
        SimulatorConfig {
            qlink_accounts: vec![QlinkAccount {
                app_key: "proof-app".to_owned(),
                app_secret: "Sekret-App-7731".to_owned(),
                warehouse_key: "proof-warehouse".to_owned(),
            }],
            qianyi_accounts: vec![QianyiAccount {
                access_id: "proof-access".to_owned(),
                secret_key: "Sekret-Qianyi-5519".to_owned(),
            }],
            ..common::test_simulator_config()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("simulator");
    let dir = std::env::temp_dir().join(format!("qlink-facade-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (grpc, http) = (free_port(), free_port());
    let path = dir.join("facade.toml");
    std::fs::write(&path, config(grpc, http, &simulator, &dir)).expect("config");
    let mut facade = Running::start(
        &["--config", &path.to_string_lossy()],
        &[
            ("RUST_LOG", "trace"),
            ("PROOF_APP_SECRET", "Sekret-App-7731"),
            ("PROOF_QIANYI_SECRET", "Sekret-Qianyi-5519"),
            ("PROOF_TOKEN", QLINK_TOKEN),
        ],
    );
    facade.wait_for("qlink-facade ready");
    let channel = Channel::from_shared(format!("http://127.0.0.1:{grpc}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut said = Said::default();
    let http_addr: std::net::SocketAddr = format!("127.0.0.1:{http}").parse().expect("addr");

    for (tenant, token, warehouse) in [("q", QLINK_TOKEN, "TU01"), ("y", QIANYI_TOKEN, "CA1")] {
        let mut warehouses = WarehouseServiceClient::new(channel.clone());
        let mut orders = OrderServiceClient::new(channel.clone());
        let mut asns = AsnServiceClient::new(channel.clone());
        let mut inventory = InventoryServiceClient::new(channel.clone());
        let mut skus = SkuServiceClient::new(channel.clone());
        said.result(
            warehouses
                .list_warehouses(call(tenant, token, Default::default()))
                .await,
        );
        said.result(
            warehouses
                .list_channels(call(
                    tenant,
                    token,
                    ListChannelsRequest {
                        warehouse_code: warehouse.to_owned(),
                    },
                ))
                .await,
        );
        let number = format!("PROOF-{tenant}");
        said.result(
            orders
                .create_order(call(
                    tenant,
                    token,
                    common::order(&number, warehouse, "SIM-SKU-00001"),
                ))
                .await,
        );
        // Repeated (answered from the store) and with other content.
        said.result(
            orders
                .create_order(call(
                    tenant,
                    token,
                    common::order(&number, warehouse, "SIM-SKU-00001"),
                ))
                .await,
        );
        said.result(
            orders
                .create_order(call(
                    tenant,
                    token,
                    common::order(&number, warehouse, "SIM-SKU-00002"),
                ))
                .await,
        );
        let refs = vec![OrderRef {
            order_number: number.clone(),
            ..Default::default()
        }];
        said.result(
            orders
                .get_orders(call(
                    tenant,
                    token,
                    GetOrdersRequest {
                        warehouse_code: warehouse.to_owned(),
                        orders: refs.clone(),
                    },
                ))
                .await,
        );
        said.result(
            orders
                .cancel_orders(call(
                    tenant,
                    token,
                    CancelOrdersRequest {
                        warehouse_code: warehouse.to_owned(),
                        orders: refs,
                    },
                ))
                .await,
        );
        let asn_number = format!("PROOF-ASN-{tenant}");
        said.result(
            asns.create_asn(call(
                tenant,
                token,
                CreateAsnRequest {
                    asn_number: asn_number.clone(),
                    warehouse_code: warehouse.to_owned(),
                    items: vec![AsnItem {
                        sku: "SIM-SKU-00001".to_owned(),
                        name: "Side table".to_owned(),
                        quantity: 3,
                    }],
                    r#type: "PURCHASE".to_owned(),
                    ..Default::default()
                },
            ))
            .await,
        );
        said.result(
            asns.get_asns(call(
                tenant,
                token,
                GetAsnsRequest {
                    warehouse_code: warehouse.to_owned(),
                    asns: vec![AsnRef {
                        asn_number: asn_number.clone(),
                        ..Default::default()
                    }],
                },
            ))
            .await,
        );
        said.result(
            asns.cancel_asns(call(
                tenant,
                token,
                CancelAsnsRequest {
                    warehouse_code: warehouse.to_owned(),
                    asn_numbers: vec![asn_number],
                },
            ))
            .await,
        );
        match inventory
            .sync_inventory(call(
                tenant,
                token,
                SyncInventoryRequest {
                    warehouse_code: warehouse.to_owned(),
                    page_size: 20,
                    ..Default::default()
                },
            ))
            .await
        {
            Ok(stream) => {
                let pages: Vec<_> = stream.into_inner().collect().await;
                said.0.push(format!("{pages:?}"));
            }
            Err(status) => said.status(&status),
        }
        said.result(
            skus.upsert_sku(call(
                tenant,
                token,
                UpsertSkuRequest {
                    warehouse_code: warehouse.to_owned(),
                    sku: format!("PROOF-SKU-{tenant}"),
                    erp_sku: "ERP".to_owned(),
                    title: "Proof".to_owned(),
                    ..Default::default()
                },
            ))
            .await,
        );
        // Error paths: an invalid request, no token, the other tenant's
        // token, and the warehouse failing every way it can.
        said.result(
            orders
                .create_order(call(tenant, token, Default::default()))
                .await,
        );
        said.result(
            warehouses
                .list_warehouses(req(tenant, Default::default()))
                .await,
        );
        let other = if tenant == "q" {
            QIANYI_TOKEN
        } else {
            QLINK_TOKEN
        };
        said.result(
            warehouses
                .list_warehouses(call(tenant, other, Default::default()))
                .await,
        );
        for kind in [
            FaultKind::HttpStatus(503),
            FaultKind::HttpStatus(401),
            FaultKind::MalformedJson,
            FaultKind::BadSignature,
            FaultKind::Reject("refused for the proof".to_owned()),
        ] {
            simulator.inject(Fault::new(kind).times(1));
            said.result(
                warehouses
                    .list_warehouses(call(tenant, token, Default::default()))
                    .await,
            );
        }
    }

    // Pushes, good and bad, and the streams that deliver them.
    let client = reqwest::Client::new();
    let odo = odo_path().replace("DEMO", "PROOF");
    let asn = asn_path().replace("DEMO", "PROOF");
    for (path, method, content, secret) in [
        (
            &odo,
            "pushOrderInfo",
            order_push("PUSHED-1", "SUCCESS"),
            PUSH_SECRET,
        ),
        (
            &asn,
            "pushAsnInfo",
            asn_push("PUSHED-ASN", "B1"),
            PUSH_SECRET,
        ),
        (
            &odo,
            "pushOrderInfo",
            order_push("PUSHED-2", "SUCCESS"),
            "a-wrong-key",
        ),
    ] {
        let body = signed_push(method, &content, secret);
        let answer = send_push(&client, http_addr, path, body)
            .await
            .expect("push");
        said.0.push(format!("{answer:?}"));
    }
    let mut orders = OrderServiceClient::new(channel.clone());
    let stream = orders
        .watch_order_events(call(
            "y",
            QIANYI_TOKEN,
            WatchOrderEventsRequest { after_event_id: 0 },
        ))
        .await
        .expect("watch")
        .into_inner();
    said.0.push(format!(
        "{:?}",
        common::push::drain(stream, |event| event).await
    ));
    let mut asns = AsnServiceClient::new(channel.clone());
    let stream = asns
        .watch_asn_events(call(
            "y",
            QIANYI_TOKEN,
            WatchAsnEventsRequest { after_event_id: 0 },
        ))
        .await
        .expect("watch")
        .into_inner();
    said.0.push(format!(
        "{:?}",
        common::push::drain(stream, |event| event).await
    ));

    // A reload, and one refused.
    std::fs::write(
        &path,
        config(grpc, http, &simulator, &dir) + "\n# touched\n",
    )
    .expect("config");
    facade.wait_for("configuration reloaded");
    std::fs::write(
        &path,
        config(grpc, http, &simulator, &dir).replace("PROOF_APP_SECRET", "UNSET_VAR"),
    )
    .expect("config");
    facade.wait_for("configuration reload refused");

    for endpoint in ["metrics", "healthz", "readyz"] {
        let text = client
            .get(format!("http://{http_addr}/{endpoint}"))
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("text");
        said.0.push(text);
    }
    drop(channel);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let lines = facade.stop();
    assert!(
        lines.iter().any(|line| line.contains("TRACE")),
        "trace logging was on"
    );
    assert!(said.0.len() > 40, "the calls were made: {}", said.0.len());
    for secret in SECRETS {
        for line in &lines {
            assert!(!line.contains(secret), "{secret} in log line: {line}");
        }
        for text in &said.0 {
            assert!(!text.contains(secret), "{secret} said to a caller: {text}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
