//! The secrets proof: the real binary at `RUST_LOG=trace` runs every RPC on
//! both protocols, the webhooks, a reload and the error paths (wrong
//! tokens, invalid requests, warehouse faults), and no configured secret,
//! token or key appears anywhere it writes: not in a log line, a status
//! message, error details or an HTTP answer.

mod common;

use common::{
    Answer, Caller,
    config_text::{qianyi_tenant, qlink_tenant, server_toml},
    process::{Running, TempDir, channel, free_port},
    push::{asn_path, asn_push, odo_path, order_push, send_push, signed_push},
    simulator_for, text_at,
};
use futures::StreamExt;
use qlink_facade::{
    proto::{
        AsnItem, AsnRef, CreateAsnRequest, GetAsnsRequest, SyncInventoryRequest, UpsertSkuRequest,
    },
    simulator::{Fault, FaultKind, SimulatorHandle},
};

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

/// The accounts the warehouse takes (their secrets reach the facade
/// through the environment).
const QLINK_ACCOUNT: [&str; 3] = ["proof-app", "Sekret-App-7731", "proof-warehouse"];
const QIANYI_ACCOUNT: [&str; 2] = ["proof-access", "Sekret-Qianyi-5519"];

const QLINK_TOKEN: &str = "Sekret-Token-8842";
const QIANYI_TOKEN: &str = "Sekret-Digest-Token-1193";
const PUSH_SECRET: &str = "Sekret-Push-3308";

fn config(grpc: u16, http: u16, simulator: &SimulatorHandle, dir: &std::path::Path) -> String {
    use sha2::Digest as _;
    let digest = hex::encode(sha2::Sha256::digest(QIANYI_TOKEN.as_bytes()));
    let secret_file = dir.join("secret_header");
    std::fs::write(&secret_file, "Sekret-File-5050\n").expect("secret file");
    let store_url = format!("sqlite://{}", dir.join("facade.db").display());
    let qlink = r#"warehouse_type = "LINGXING"
secret = "Sekret-Header-2281"
access_token = "Sekret-Access-9035"
refresh_token = "Sekret-Refresh-6612"
auth_info = [{ key = "MERCHANT_ID", value = "Sekret-AuthInfo-4470" }]
tokens = ["${PROOF_TOKEN}"]"#;
    let qianyi = format!(
        r#"secret = "${{file:{secret_file}}}"
token_sha256 = ["{digest}"]
push = {{ extra_type = "PROOF", access_id = "QIANYI", secret_key = "{PUSH_SECRET}" }}"#,
        secret_file = secret_file.display(),
    );
    let [app_key, _, warehouse_key] = QLINK_ACCOUNT;
    let [access_id, _] = QIANYI_ACCOUNT;
    server_toml(grpc, http, &store_url)
        + &qlink_tenant(
            "q",
            &simulator.qlink_base_url(),
            [app_key, "${PROOF_APP_SECRET}", warehouse_key],
            qlink,
        )
        + &qianyi_tenant(
            "y",
            &simulator.qianyi_endpoint(),
            [access_id, "${PROOF_QIANYI_SECRET}"],
            &qianyi,
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

    fn result<T: std::fmt::Debug>(&mut self, result: Answer<T>) {
        match result {
            Ok(message) => self.0.push(format!("{message:?}")),
            Err(status) => self.status(&status),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_token_or_key_appears_in_anything_the_facade_writes() {
    qlink_facade::upstream::install_crypto_provider();
    let simulator = simulator_for(QLINK_ACCOUNT, QIANYI_ACCOUNT).await;
    let dir = TempDir::new("secrets");
    let (grpc, http) = (free_port(), free_port());
    let path = dir.write("facade.toml", &config(grpc, http, &simulator, &dir));
    let mut facade = Running::ready_on(
        &path,
        &[
            ("RUST_LOG", "trace"),
            ("PROOF_APP_SECRET", QLINK_ACCOUNT[1]),
            ("PROOF_QIANYI_SECRET", QIANYI_ACCOUNT[1]),
            ("PROOF_TOKEN", QLINK_TOKEN),
        ],
    );
    let channel = channel(grpc).await;
    let mut said = Said::default();
    let http_addr: std::net::SocketAddr = format!("127.0.0.1:{http}").parse().expect("addr");

    for (tenant, token, warehouse) in [("q", QLINK_TOKEN, "TU01"), ("y", QIANYI_TOKEN, "CA1")] {
        let api = Caller::new(channel.clone(), tenant).with_token(token);
        said.result(api.list_warehouses().await);
        said.result(api.list_channels(warehouse).await);
        let number = format!("PROOF-{tenant}");
        let order = |sku| common::order(&number, warehouse, sku);
        said.result(api.create_order(order("SIM-SKU-00001")).await);
        // Repeated (answered from the store) and with other content.
        said.result(api.create_order(order("SIM-SKU-00001")).await);
        said.result(api.create_order(order("SIM-SKU-00002")).await);
        said.result(api.get_orders(warehouse, &[&number]).await);
        said.result(api.cancel_orders(warehouse, &[&number]).await);
        let asn_number = format!("PROOF-ASN-{tenant}");
        let asn = CreateAsnRequest {
            asn_number: asn_number.clone(),
            warehouse_code: warehouse.to_owned(),
            items: vec![AsnItem {
                sku: "SIM-SKU-00001".to_owned(),
                name: "Side table".to_owned(),
                quantity: 3,
            }],
            r#type: "PURCHASE".to_owned(),
            ..Default::default()
        };
        said.result(api.create_asn(asn).await);
        let lookup = GetAsnsRequest {
            warehouse_code: warehouse.to_owned(),
            asns: vec![AsnRef {
                asn_number: asn_number.clone(),
                ..Default::default()
            }],
        };
        said.result(api.get_asns(lookup).await);
        said.result(api.cancel_asns(warehouse, vec![asn_number]).await);
        let query = SyncInventoryRequest {
            warehouse_code: warehouse.to_owned(),
            page_size: 20,
            ..Default::default()
        };
        match api.inventory(query).await {
            Ok(stream) => {
                let pages: Vec<_> = stream.collect().await;
                said.0.push(format!("{pages:?}"));
            }
            Err(status) => said.status(&status),
        }
        let sku = UpsertSkuRequest {
            warehouse_code: warehouse.to_owned(),
            sku: format!("PROOF-SKU-{tenant}"),
            erp_sku: "ERP".to_owned(),
            title: "Proof".to_owned(),
            ..Default::default()
        };
        said.result(api.upsert_sku(sku).await);
        // Error paths: an invalid request, no token, the other tenant's
        // token, and the warehouse failing every way it can.
        said.result(api.create_order(Default::default()).await);
        let tokenless = Caller::new(channel.clone(), tenant);
        said.result(tokenless.list_warehouses().await);
        let other = if tenant == "q" {
            QIANYI_TOKEN
        } else {
            QLINK_TOKEN
        };
        said.result(tokenless.with_token(other).list_warehouses().await);
        for kind in [
            FaultKind::HttpStatus(503),
            FaultKind::HttpStatus(401),
            FaultKind::MalformedJson,
            FaultKind::BadSignature,
            FaultKind::Reject("refused for the proof".to_owned()),
        ] {
            simulator.inject(Fault::new(kind).times(1));
            said.result(api.list_warehouses().await);
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
    let pushed = Caller::new(channel.clone(), "y").with_token(QIANYI_TOKEN);
    let stream = pushed.watch_orders(0).await.expect("watch");
    said.0.push(format!(
        "{:?}",
        common::push::drain(stream, |event| event).await
    ));
    let stream = pushed.watch_asns(0).await.expect("watch");
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
        said.0
            .push(text_at(&format!("http://{http_addr}/{endpoint}")).await);
    }
    drop((channel, pushed));
    let lines = facade.stop_when_idle().await;
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
}
