//! TLS on the listeners through the real server and real handshakes: a
//! certificate made in the test, plaintext refused on the TLS port, mTLS
//! client identities allowed and refused per tenant, and the HTTP listener
//! over TLS with `http_tls = true`.

mod common;

use std::{path::PathBuf, time::Duration};

use common::{
    QIANYI, QLINK, Served, req, serve,
    tls::{Leaf, TestCa, served_certificate, temp_dir, tls_channel},
};
use qlink_facade::{
    config::{Config, TenantConfig},
    demo,
    metrics::Metrics,
    proto::{ListWarehousesRequest, warehouse_service_client::WarehouseServiceClient},
    simulator::SimulatorHandle,
    tls::TlsConfig,
};
use tonic::{Code, transport::Channel};

/// The demo tenants against a simulator, served over TLS with a server
/// certificate from `server_ca`; `client_ca` asks for client certificates.
struct TlsWorld {
    _simulator: SimulatorHandle,
    facade: Served,
    server_ca: TestCa,
    server_leaf: Leaf,
    dir: PathBuf,
}

/// The demo qlink tenant of `config`.
fn qlink_tenant(config: &mut Config) -> &mut TenantConfig {
    config
        .tenants
        .iter_mut()
        .find(|tenant| tenant.id == QLINK)
        .expect("demo qlink tenant")
}

async fn tls_world(
    client_ca: Option<&TestCa>,
    http_tls: bool,
    change: impl FnOnce(&mut Config),
) -> TlsWorld {
    let (simulator, mut config) = common::demo_against(common::test_simulator_config()).await;
    let server_ca = TestCa::new("facade test CA");
    let dir = temp_dir("tls");
    let server_leaf = server_ca.server(1);
    common::tls::write_server_files(&dir, &server_leaf, client_ca);
    config.server.tls = Some(TlsConfig {
        cert: dir.join("tls.crt"),
        key: dir.join("tls.key"),
        client_ca: client_ca.map(|_| dir.join("clients-ca.crt")),
        http_tls,
    });
    change(&mut config);
    let facade = serve(config, Metrics::shared()).await;
    TlsWorld {
        _simulator: simulator,
        facade,
        server_ca,
        server_leaf,
        dir,
    }
}

/// A world that asks for client certificates `clients` signed, where only
/// `billing.svc.example.com` may act for the qlink tenant; `change`
/// adjusts that tenant further.
async fn billing_acts_for_qlink(
    clients: &TestCa,
    change: impl FnOnce(&mut TenantConfig),
) -> TlsWorld {
    tls_world(Some(clients), false, |config| {
        let qlink = qlink_tenant(config);
        qlink.client_identities = vec!["billing.svc.example.com".to_owned()];
        change(qlink);
    })
    .await
}

impl TlsWorld {
    /// A TLS channel to the facade trusting the test CA, presenting
    /// `client` when given.
    async fn channel(&self, client: Option<&Leaf>) -> Channel {
        tls_channel(self.facade.addr, &self.server_ca.pem(), client)
            .await
            .expect("a TLS channel trusting the test CA")
    }
}

impl Drop for TlsWorld {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn list_warehouses(channel: Channel, tenant: &str) -> Result<usize, tonic::Status> {
    WarehouseServiceClient::new(channel)
        .list_warehouses(req(tenant, ListWarehousesRequest::default()))
        .await
        .map(|answer| answer.into_inner().warehouses.len())
}

/// ListWarehouses as `tenant` on the channel `connect` opens, within 10 s
/// (a refusal must not hang): the count, or why the channel or the call
/// failed.
async fn list_once_connected(
    connect: impl Future<Output = Result<Channel, tonic::transport::Error>>,
    tenant: &str,
) -> Result<usize, String> {
    let attempt = async {
        let channel = connect.await.map_err(|err| err.to_string())?;
        list_warehouses(channel, tenant)
            .await
            .map_err(|status| status.to_string())
    };
    tokio::time::timeout(Duration::from_secs(10), attempt)
        .await
        .expect("answered or refused promptly, not hung")
}

#[tokio::test]
async fn grpc_over_tls_with_a_generated_certificate_and_plaintext_is_refused() {
    let world = tls_world(None, false, |_| {}).await;
    let channel = world.channel(None).await;
    assert_eq!(
        list_warehouses(channel.clone(), QLINK)
            .await
            .expect("over TLS"),
        3
    );
    assert_eq!(list_warehouses(channel, QIANYI).await.expect("over TLS"), 2);
    let served = served_certificate(world.facade.addr, &world.server_ca.pem(), b"h2").await;
    assert!(
        served == world.server_leaf.der,
        "the certificate made in the test is the one served"
    );

    // Plaintext HTTP/2 on the TLS port: the handshake fails, nothing is served.
    let plaintext = Channel::from_shared(format!("http://{}", world.facade.addr)).expect("uri");
    let refused = list_once_connected(plaintext.connect(), QLINK).await;
    assert!(refused.is_err(), "plaintext answered: {refused:?}");

    // A client that does not trust the server's CA refuses it.
    let stranger = TestCa::new("another CA");
    let distrusting =
        list_once_connected(tls_channel(world.facade.addr, &stranger.pem(), None), QLINK).await;
    assert!(distrusting.is_err(), "{distrusting:?}");

    // Without http_tls the HTTP listener stays plaintext (probes, scrapes).
    let health = reqwest::get(format!("http://{}/healthz", world.facade.http_addr))
        .await
        .expect("plaintext /healthz");
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn mtls_client_identities_are_allowed_and_refused_per_tenant() {
    let clients = TestCa::new("clients CA");
    let world = billing_acts_for_qlink(&clients, |_| {}).await;
    let ca = world.server_ca.pem();
    let addr = world.facade.addr;

    // The listed identity, as a DNS SAN among others, or as the CN of a
    // certificate without SANs.
    for (billing, names) in [
        (
            clients.client_named(&["other.example.com", "billing.svc.example.com"]),
            "billing acts for qlink",
        ),
        (
            clients.client_with_cn("billing.svc.example.com"),
            "CN matches",
        ),
    ] {
        let channel = world.channel(Some(&billing)).await;
        assert_eq!(list_warehouses(channel, QLINK).await.expect(names), 3);
    }

    // Another identity: PERMISSION_DENIED for the tenant that lists
    // identities, fine for the one that lists none.
    let reports = world
        .channel(Some(&clients.client_named(&["reports.svc.example.com"])))
        .await;
    let denied = list_warehouses(reports.clone(), QLINK)
        .await
        .expect_err("reports may not act for qlink");
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    assert!(
        denied.message().contains("reports.svc.example.com")
            && denied.message().contains("client_identities"),
        "{}",
        denied.message()
    );
    assert_eq!(
        list_warehouses(reports, QIANYI)
            .await
            .expect("qianyi lists nobody"),
        2
    );

    // No client certificate, or one another CA signed: the handshake fails.
    for client in [
        None,
        Some(TestCa::new("rogue CA").client_named(&["billing.svc.example.com"])),
    ] {
        let refused = list_once_connected(tls_channel(addr, &ca, client.as_ref()), QIANYI).await;
        assert!(
            refused.is_err(),
            "served without a good client certificate: {refused:?}"
        );
    }
    let failures = common::eventually(Duration::from_secs(5), || async {
        world
            .facade
            .metrics
            .encode()
            .lines()
            .find_map(|line| {
                line.strip_prefix(r#"qlink_facade_tls_handshake_failures_total{listener="grpc"} "#)?
                    .parse::<f64>()
                    .ok()
            })
            .filter(|count| *count >= 2.0)
    })
    .await;
    assert!(failures.is_some(), "both failed handshakes are counted");
}

#[tokio::test]
async fn tokens_and_client_identities_are_both_checked() {
    let clients = TestCa::new("clients CA");
    let world = billing_acts_for_qlink(&clients, |qlink| {
        qlink.tokens = vec![qlink_facade::config::CallerToken::of("billing-token")];
    })
    .await;
    let with_token = |token: Option<&str>| {
        let mut request = req(QLINK, ListWarehousesRequest::default());
        if let Some(token) = token {
            request.metadata_mut().insert(
                "authorization",
                format!("Bearer {token}").parse().expect("ascii"),
            );
        }
        request
    };
    let billing = clients.client_named(&["billing.svc.example.com"]);
    let mut billing = WarehouseServiceClient::new(world.channel(Some(&billing)).await);
    let reports = clients.client_named(&["reports.svc.example.com"]);
    let mut reports = WarehouseServiceClient::new(world.channel(Some(&reports)).await);
    billing
        .list_warehouses(with_token(Some("billing-token")))
        .await
        .expect("right identity, right token");
    let no_token = billing
        .list_warehouses(with_token(None))
        .await
        .expect_err("right identity, no token");
    assert_eq!(no_token.code(), Code::Unauthenticated);
    let wrong_identity = reports
        .list_warehouses(with_token(Some("billing-token")))
        .await
        .expect_err("right token, wrong identity");
    assert_eq!(wrong_identity.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn the_http_listener_serves_tls_with_http_tls() {
    let world = tls_world(None, true, |_| {}).await;
    let https = common::tls::https_client(&world.server_ca.pem());
    let http_addr = world.facade.http_addr;
    for path in ["/healthz", "/readyz", "/metrics"] {
        let answer = https
            .get(format!("https://{http_addr}{path}"))
            .send()
            .await
            .unwrap_or_else(|err| panic!("{path} over TLS: {err}"));
        assert_eq!(answer.status(), 200, "{path}");
    }
    // A push over TLS, as a warehouse would send it.
    let body = common::push::signed_push(
        "pushOrderInfo",
        &common::push::order_push("TLS-PUSH-1", "SUCCESS"),
        demo::DEMO_PUSH_SECRET_KEY,
    );
    let pushed = https
        .post(format!("https://{http_addr}{}", common::push::odo_path()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("push over TLS");
    assert_eq!(pushed.status(), 200);
    // Plaintext on the TLS port is not served.
    let plaintext = reqwest::Client::new()
        .get(format!("http://{http_addr}/healthz"))
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    assert!(
        plaintext
            .as_ref()
            .map(|answer| answer.status() != 200)
            .unwrap_or(true),
        "{plaintext:?}"
    );
}

#[tokio::test]
async fn a_client_that_never_finishes_its_tls_handshake_is_closed_and_counted() {
    let world = tls_world(None, true, |config| {
        config.server.limits.header_read_timeout = Duration::from_secs(1);
    })
    .await;
    for (listener, addr) in [
        ("grpc", world.facade.addr),
        ("http", world.facade.http_addr),
    ] {
        let mut silent = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let started = std::time::Instant::now();
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            use tokio::io::AsyncReadExt;
            let mut buf = [0u8; 64];
            loop {
                match silent.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "{listener}: a silent client is closed");
        assert!(
            started.elapsed() >= Duration::from_millis(800),
            "{listener}: not before the timeout ({:?})",
            started.elapsed()
        );
        let series =
            format!(r#"qlink_facade_connections_timed_out_total{{listener="{listener}"}} 1"#);
        assert!(
            world.facade.metrics.encode().contains(&series),
            "{listener}: {series}"
        );
    }
    // Prompt clients are served meanwhile.
    let channel = world.channel(None).await;
    assert_eq!(list_warehouses(channel, QLINK).await.expect("served"), 3);
}

/// `qlink-facade health`, as a container's HEALTHCHECK runs it, against the
/// facade's address with `args`.
fn health(addr: std::net::SocketAddr, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_qlink-facade"))
        .args(["health", "--grpc-addr", &addr.to_string()])
        .args(args)
        .env_remove("QLINK_FACADE_CONFIG")
        .output()
        .expect("run qlink-facade health")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_probe_speaks_tls_and_presents_a_client_certificate() {
    let client_ca = TestCa::new("clients CA");
    let world = tls_world(Some(&client_ca), false, |_| {}).await;
    let client = client_ca.client_named(&["probe.example.com"]);
    let file = |name: &str, content: &str| {
        let path = world.dir.join(name);
        std::fs::write(&path, content).expect("write");
        path.display().to_string()
    };
    let ca = file("probe-ca.crt", &world.server_ca.pem());
    let cert = file("probe.crt", &client.cert_pem);
    let key = file("probe.key", &client.key_pem);
    let addr = world.facade.addr;

    let probe = tokio::task::spawn_blocking(move || {
        let mtls = health(
            addr,
            &["--tls-ca", &ca, "--tls-cert", &cert, "--tls-key", &key],
        );
        let plaintext = health(addr, &["--timeout-ms", "1000"]);
        let no_client_certificate = health(addr, &["--tls-ca", &ca, "--timeout-ms", "1000"]);
        (mtls, plaintext, no_client_certificate)
    })
    .await
    .expect("the probes");
    let (mtls, plaintext, no_client_certificate) = probe;
    assert!(
        mtls.status.success(),
        "{}",
        String::from_utf8_lossy(&mtls.stderr)
    );
    assert!(String::from_utf8_lossy(&mtls.stdout).contains("reports the server as SERVING"));
    assert_eq!(plaintext.status.code(), Some(1), "plaintext to a TLS port");
    assert_eq!(
        no_client_certificate.status.code(),
        Some(1),
        "an mTLS listener wants a client certificate"
    );
}
