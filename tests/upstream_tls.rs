//! HTTPS to the warehouse, end to end: the simulator served over TLS with a
//! leaf signed by a CA made in the test. A tenant whose `ca_file` is that CA
//! is served; one without it, or with another CA, is refused UNAVAILABLE
//! with words saying the warehouse's certificate was not trusted, and
//! nothing is retried into it.

mod common;

use common::{
    config_text::qianyi_tenant,
    req, serve,
    tls::{TestCa, temp_dir},
};
use qlink_facade::{
    config::Config,
    metrics::Metrics,
    proto::{ListWarehousesRequest, warehouse_service_client::WarehouseServiceClient},
    simulator::SimulatorHandle,
};
use tonic::Code;

#[tokio::test]
async fn a_private_ca_is_trusted_only_by_the_tenant_that_names_it() {
    let warehouse_ca = TestCa::new("warehouse private CA");
    let leaf = warehouse_ca.server(7);
    let simulator_config = common::test_simulator_config();
    let account = simulator_config.qianyi_accounts[0].clone();
    let simulator = SimulatorHandle::spawn_tls(
        simulator_config,
        "127.0.0.1:0".parse().expect("addr"),
        leaf.cert_pem.as_bytes(),
        leaf.key_pem.as_bytes(),
    )
    .await
    .expect("simulator over TLS");
    assert!(simulator.qianyi_endpoint().starts_with("https://"));

    let dir = temp_dir("upstream-tls");
    let warehouse_ca_file = dir.join("warehouse-ca.crt");
    std::fs::write(&warehouse_ca_file, warehouse_ca.pem()).expect("write CA");
    let other_ca_file = dir.join("other-ca.crt");
    std::fs::write(&other_ca_file, TestCa::new("someone else").pem()).expect("write CA");
    let tenant = |id: &str, ca_file: Option<&std::path::Path>| {
        let mut extra = "retry = { max_attempts = 3 }\n".to_owned();
        if let Some(path) = ca_file {
            extra.push_str(&format!("ca_file = \"{}\"\n", path.display()));
        }
        qianyi_tenant(
            id,
            &simulator.qianyi_endpoint(),
            [&account.access_id, &account.secret_key],
            &extra,
        )
    };
    let toml = [
        tenant("trusting", Some(&warehouse_ca_file)),
        tenant("system-roots-only", None),
        tenant("other-ca", Some(&other_ca_file)),
    ]
    .concat();
    let config = Config::from_toml(&toml, &|_| None).expect("config");
    let facade = serve(config, Metrics::shared()).await;
    let channel = facade.plaintext_channel().await;
    let mut client = WarehouseServiceClient::new(channel);

    let trusted = client
        .list_warehouses(req("trusting", ListWarehousesRequest::default()))
        .await
        .expect("the tenant with the warehouse's CA is served over HTTPS");
    assert_eq!(trusted.into_inner().warehouses.len(), 2);

    for tenant in ["system-roots-only", "other-ca"] {
        simulator.clear_requests();
        let refused = client
            .list_warehouses(req(tenant, ListWarehousesRequest::default()))
            .await
            .expect_err("an untrusted certificate is refused");
        assert_eq!(refused.code(), Code::Unavailable, "{tenant}: {refused:?}");
        let message = refused.message();
        assert!(
            message.contains("TLS certificate was not trusted") && message.contains("ca_file"),
            "{tenant}: {message}"
        );
        assert!(
            simulator.requests().is_empty(),
            "{tenant}: nothing got through"
        );
        let attempts = facade.metrics.encode();
        let series = format!(
            r#"qlink_facade_upstream_attempts_total{{tenant="{tenant}",operation="warehouses",outcome="untrusted_certificate"}} 1"#
        );
        assert!(
            attempts.contains(&series),
            "{tenant}: one attempt, not retried:\n{attempts}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_ca_file_that_is_missing_or_not_pem_stops_the_config_naming_it() {
    let dir = temp_dir("ca-file");
    let not_pem = dir.join("not-pem.crt");
    std::fs::write(&not_pem, "hello").expect("write");
    for (path, expected) in [
        (dir.join("absent.crt"), "cannot read"),
        (not_pem, "holds no PEM certificate"),
    ] {
        let toml = qianyi_tenant(
            "acme",
            "https://wms.example.com/qianyi",
            ["a", "s"],
            &format!("ca_file = \"{}\"", path.display()),
        );
        let err = Config::from_toml(&toml, &|_| None).expect_err("refused");
        let text = err.to_string();
        assert!(
            text.starts_with("tenant acme: ca_file:") && text.contains(expected),
            "{text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
