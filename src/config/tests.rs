//! The configuration's parsing and validation, key by key.

use super::*;

fn env(name: &str) -> Option<String> {
    match name {
        "ACME_APP_SECRET" => Some("s3cr3t-app".into()),
        "ACME_EU_SECRET" => Some("s3cr3t-eu".into()),
        _ => None,
    }
}

const CONTRACT_EXAMPLE: &str = r#"
[server]
grpc_addr = "127.0.0.1:50051"

[[tenant]]
id = "acme-us"
protocol = "qlink"
base_url = "https://qlink-global-test.800best.com"
app_key = "1"
app_secret = "${ACME_APP_SECRET}"
warehouse_type = "LINGXING"
warehouse_key = "afd1dd995b9e432c907d3f8237b3f69b"
auth_info = [{ key = "MERCHANT_ID", value = "BG2447" }]
rate_limit = { per_second = 10, burst = 20 }

[[tenant]]
id = "acme-eu"
protocol = "qianyi"
base_url = "https://wms.example.com/qianyi"
access_id = "3215435"
secret_key = "${ACME_EU_SECRET}"
"#;

#[test]
fn the_contract_example_loads() {
    let config = Config::from_toml(CONTRACT_EXAMPLE, &env).unwrap();
    assert_eq!(config.server.grpc_addr.to_string(), "127.0.0.1:50051");
    assert_eq!(config.tenants.len(), 2);
    let ProtocolConfig::Qlink(qlink) = &config.tenants[0].protocol else {
        panic!("first tenant is qlink")
    };
    assert_eq!(qlink.app_secret.expose_secret(), "s3cr3t-app");
    assert_eq!(qlink.auth_info[0].key, "MERCHANT_ID");
    let rate = config.tenants[0].policy.rate_limit.expect("rate limit");
    assert_eq!((rate.per_second.get(), rate.burst.get()), (10, 20));
    assert_eq!(config.tenants[1].policy.rate_limit, None);
    let ProtocolConfig::Qianyi(qianyi) = &config.tenants[1].protocol else {
        panic!("second tenant is qianyi")
    };
    assert_eq!(qianyi.secret_key.expose_secret(), "s3cr3t-eu");
}

#[test]
fn debug_output_hides_secrets() {
    let config = Config::from_toml(CONTRACT_EXAMPLE, &env).unwrap();
    let printed = format!("{config:?}");
    assert!(!printed.contains("s3cr3t"), "{printed}");
    assert!(!printed.contains("BG2447"), "{printed}");
}

#[test]
fn a_missing_variable_names_tenant_and_key() {
    let err = Config::from_toml(CONTRACT_EXAMPLE, &|_| None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tenant acme-us: app_secret: environment variable ACME_APP_SECRET is not set"
    );
}

#[test]
fn problems_name_tenant_and_key() {
    let cases = [
        (
            "[[tenant]]\nid='t'\nprotocol='qianyi'\nbase_url='http://x'\naccess_id='a'\n",
            "tenant t: secret_key: required for protocol \"qianyi\"",
        ),
        (
            "[[tenant]]\nid='t'\nprotocol='soap'\nbase_url='http://x'\n",
            "tenant t: protocol: \"soap\" is not a protocol: use \"qlink\" or \"qianyi\"",
        ),
        (
            "[[tenant]]\nid='t'\nprotocol='qianyi'\nbase_url='ftp://x'\naccess_id='a'\nsecret_key='k'\n",
            "tenant t: base_url: must be an http:// or https:// URL",
        ),
        (
            "[[tenant]]\nid='t'\nprotocol='qianyi'\nbase_url='http://x'\naccess_id='a'\nsecret_key='k'\napp_key='1'\n",
            "tenant t: app_key: is not a setting of protocol \"qianyi\"",
        ),
        (
            "[[tenant]]\nid='t'\nprotocol='qianyi'\nbase_url='http://x'\naccess_id='a'\nsecret_key='k'\n[[tenant]]\nid='t'\nprotocol='qianyi'\nbase_url='http://x'\naccess_id='a'\nsecret_key='k'\n",
            "tenant t: id: another tenant has the same id",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(
            Config::from_toml(text, &env).unwrap_err().to_string(),
            expected
        );
    }
}

#[test]
fn unknown_keys_are_rejected() {
    let err = Config::from_toml(
        "[[tenant]]\nid='t'\nprotocol='qianyi'\nbase_url='http://x'\naccess_id='a'\nsecret_key='k'\nsecrte='typo'\n",
        &env,
    )
    .unwrap_err();
    assert!(err.to_string().contains("secrte"), "{err}");
}

#[test]
fn push_store_is_gone_and_says_where_pushes_are_kept() {
    let text = "[[tenant]]\nid='one'\nprotocol='qianyi'\nbase_url='http://x'\naccess_id='a'\nsecret_key='k'\npush={extra_type='A', access_id='Q', secret_key='s', store='/var/lib/q/one'}\n";
    let err = Config::from_toml(text, &env).unwrap_err().to_string();
    assert!(
        err.contains("tenant one: push") && err.contains("[store]"),
        "{err}"
    );
}

#[test]
fn the_store_defaults_to_a_file_in_the_working_directory() {
    let config = Config::from_toml(CONTRACT_EXAMPLE, &env).unwrap();
    assert!(matches!(
        &config.store.location,
        StoreLocation::Sqlite(path) if path == std::path::Path::new("qlink-facade.db")
    ));
    assert_eq!(
        config.store.push_retention,
        Duration::from_secs(7 * 24 * 3600)
    );
    assert_eq!(config.store.write_window, Duration::from_secs(24 * 3600));
    assert!(
        config
            .tenants
            .iter()
            .all(|tenant| tenant.exactly_once_writes)
    );
}

#[test]
fn the_store_section_is_read_and_checked() {
    let tenant = "[[tenant]]\nid='t'\nprotocol='qianyi'\nbase_url='http://x'\naccess_id='a'\nsecret_key='k'\n";
    let with = |store: &str| format!("[store]\n{store}\n{tenant}");
    let env = |name: &str| (name == "PGPASSWORD").then(|| "hunter2".to_owned());
    let config = Config::from_toml(
        &with("url = \"postgres://facade:${PGPASSWORD}@db:5432/qlink\"\npush_retention = \"36h\"\nwrite_window = \"2h\"\nmax_connections = 4"),
        &env,
    )
    .unwrap();
    assert!(matches!(config.store.location, StoreLocation::Postgres(_)));
    assert_eq!(config.store.push_retention, Duration::from_secs(36 * 3600));
    assert_eq!(config.store.write_window, Duration::from_secs(2 * 3600));
    assert_eq!(config.store.max_connections, 4);
    assert!(!format!("{config:?}").contains("hunter2"));
    for (store, words) in [
        ("url = \"mysql://root:hunter2@db/q\"", "[store] url"),
        ("push_retention = \"soon\"", "[store] push_retention"),
        ("push_retention = \"10ms\"", "at least 1s"),
        ("write_window = \"forever\"", "[store] write_window"),
        ("max_connections = 0", "[store] max_connections"),
    ] {
        let err = Config::from_toml(&with(store), &env)
            .unwrap_err()
            .to_string();
        assert!(err.contains(words), "{store}: {err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}

#[test]
fn the_deploy_example_loads() {
    let text = include_str!("../../deploy/qlink-facade.example.toml");
    let config = Config::from_toml(text, &|name| Some(format!("value-of-{name}"))).unwrap();
    assert_eq!(config.tenants.len(), 2);
    assert!(config.telemetry.json_logs);
    assert_eq!(config.tenants[0].policy.max_in_flight, 32);
    assert_eq!(
        config.tenants[1]
            .push
            .as_ref()
            .map(|push| push.extra_type.as_str()),
        Some("XY")
    );
    assert!(matches!(
        &config.store.location,
        StoreLocation::Sqlite(path) if path == std::path::Path::new("/var/lib/qlink-facade/qlink-facade.db")
    ));
}

#[test]
fn the_kubernetes_configs_load() {
    for text in [
        include_str!("../../deploy/k8s/base/qlink-facade.toml"),
        include_str!("../../deploy/k8s/overlays/dev/qlink-facade.toml"),
        include_str!("../../deploy/k8s/overlays/prod/qlink-facade.toml"),
    ] {
        let config = Config::from_toml(text, &|name| Some(format!("value-of-{name}"))).unwrap();
        assert_eq!(config.server.grpc_addr.to_string(), "0.0.0.0:50051");
        // One replica on its own file, or replicas sharing PostgreSQL and Redis.
        match &config.store.location {
            StoreLocation::Sqlite(_) => assert!(config.cluster.is_none()),
            StoreLocation::Postgres(_) => assert!(config.cluster.is_some()),
            StoreLocation::Temporary => panic!("a deployment keeps its store"),
        }
    }
}

#[test]
fn tokens_are_kept_as_digests_and_name_one_tenant() {
    let tenant = |id: &str, tokens: &str| {
        format!(
            "[[tenant]]\nid='{id}'\nprotocol='qianyi'\nbase_url='http://x'\naccess_id='a'\nsecret_key='k'\n{tokens}\n"
        )
    };
    // sha256 of "other-token"
    let digest = "6c67163bbed989f232b31acc4f04df54b31285bfc01bd022c735b71e041a4754";
    let config = Config::from_toml(
        &(tenant("one", "tokens = ['s3cr3t-token']")
            + &tenant("two", &format!("token_sha256 = ['{digest}']"))),
        &env,
    )
    .unwrap();
    assert_eq!(
        config.tenants[0].tokens,
        vec![CallerToken::of("s3cr3t-token")]
    );
    assert_eq!(
        config.tenants[1].tokens,
        vec![CallerToken::from_hex(digest).unwrap()]
    );
    assert!(!format!("{config:?}").contains("s3cr3t"));
    let err = Config::from_toml(
        &(tenant("one", "tokens = ['same']") + &tenant("two", "tokens = ['same']")),
        &env,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("tenant two: tokens") && err.contains("one"),
        "{err}"
    );
    let err = Config::from_toml(&tenant("one", "token_sha256 = ['xyz']"), &env)
        .unwrap_err()
        .to_string();
    assert!(err.contains("token_sha256"), "{err}");
}

#[test]
fn a_secret_may_come_from_a_file() {
    let dir = std::env::temp_dir().join(format!("qlink-facade-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("secret_key");
    std::fs::write(&path, "from-a-file\n").unwrap();
    let text = format!(
        "[[tenant]]\nid='t'\nprotocol='qianyi'\nbase_url='http://x'\naccess_id='a'\nsecret_key='${{file:{}}}'\n",
        path.display()
    );
    let config = Config::from_toml(&text, &env).unwrap();
    let ProtocolConfig::Qianyi(qianyi) = &config.tenants[0].protocol else {
        panic!("qianyi")
    };
    assert_eq!(qianyi.secret_key.expose_secret(), "from-a-file");
    assert_eq!(referenced_files(&text), vec![path.clone()]);
    std::fs::remove_file(&path).unwrap();
    let err = Config::from_toml(&text, &env).unwrap_err().to_string();
    assert!(
        err.contains("tenant t: secret_key: cannot read secret file"),
        "{err}"
    );
    assert!(!err.contains("from-a-file"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_cluster_section_is_read_and_checked() {
    let tenant = "[[tenant]]\nid='t'\nprotocol='qianyi'\nbase_url='http://x'\naccess_id='a'\nsecret_key='k'\n";
    let env = |name: &str| (name == "REDIS_PASSWORD").then(|| "hunter2".to_owned());
    let config = Config::from_toml(
        &format!("[cluster]\nredis_url = \"redis://:${{REDIS_PASSWORD}}@cache:6379\"\nreplicas = 3\n{tenant}"),
        &env,
    )
    .unwrap();
    let cluster = config.cluster.as_ref().expect("cluster");
    assert_eq!(
        (cluster.replicas, cluster.key_prefix.as_str()),
        (3, "qlink-facade")
    );
    assert!(!format!("{config:?}").contains("hunter2"));
    assert!(Config::from_toml(tenant, &env).unwrap().cluster.is_none());
    for (cluster, words) in [
        ("redis_url = \"http://cache\"", "[cluster] redis_url"),
        (
            "redis_url = \"redis://cache\"\nreplicas = 0",
            "[cluster] replicas",
        ),
        (
            "redis_url = \"redis://cache\"\nkey_prefix = \"a b\"",
            "[cluster] key_prefix",
        ),
    ] {
        let err = Config::from_toml(&format!("[cluster]\n{cluster}\n{tenant}"), &env)
            .unwrap_err()
            .to_string();
        assert!(err.contains(words), "{cluster}: {err}");
    }
}

#[test]
fn no_tenants_is_an_error() {
    assert!(matches!(
        Config::from_toml("", &env),
        Err(ConfigError::NoTenants)
    ));
}
