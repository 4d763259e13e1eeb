//! The TOML of the config files and `Config::from_toml` texts the tests
//! write: the `[server]` and `[store]` sections, and one `[[tenant]]` table
//! per protocol, so a key renamed in the config is renamed here once.

/// The simulator's demo qlink account: app key, app secret, warehouse key.
pub const DEMO_QLINK: [&str; 3] = ["demo-app-key", "demo-app-secret", "demo-warehouse-key"];
/// The simulator's demo Qianyi account: access id, secret key.
pub const DEMO_QIANYI: [&str; 2] = ["demo-access-id", "demo-secret-key"];

/// The `[server]` and `[store]` sections of a config file: the listeners
/// on loopback ports (0: any free one) and the store's URL.
pub fn server_toml(grpc: u16, http: u16, store_url: &str) -> String {
    format!(
        r#"
[server]
grpc_addr = "127.0.0.1:{grpc}"
http_addr = "127.0.0.1:{http}"

[store]
url = "{store_url}"
"#
    )
}

/// A qlink `[[tenant]]` table: `id` at `base_url` with `account` (app key,
/// app secret, warehouse key, as [`DEMO_QLINK`]), then the TOML lines
/// `extra` (other keys of the tenant).
pub fn qlink_tenant(id: &str, base_url: &str, account: [&str; 3], extra: &str) -> String {
    let [app_key, app_secret, warehouse_key] = account;
    tenant(
        id,
        "qlink",
        base_url,
        &[
            ("app_key", app_key),
            ("app_secret", app_secret),
            ("warehouse_key", warehouse_key),
        ],
        extra,
    )
}

/// A Qianyi `[[tenant]]` table: `id` at `endpoint` with `account` (access
/// id, secret key, as [`DEMO_QIANYI`]), then the TOML lines `extra`.
pub fn qianyi_tenant(id: &str, endpoint: &str, account: [&str; 2], extra: &str) -> String {
    let [access_id, secret_key] = account;
    tenant(
        id,
        "qianyi",
        endpoint,
        &[("access_id", access_id), ("secret_key", secret_key)],
        extra,
    )
}

/// A `[[tenant]]` table with these credentials (written as they are, so
/// `${VARIABLE}` references stay for the config to expand).
fn tenant(
    id: &str,
    protocol: &str,
    base_url: &str,
    credentials: &[(&str, &str)],
    extra: &str,
) -> String {
    let mut table = format!(
        "\n[[tenant]]\nid = \"{id}\"\nprotocol = \"{protocol}\"\nbase_url = \"{base_url}\"\n"
    );
    for (key, value) in credentials {
        table.push_str(&format!("{key} = \"{value}\"\n"));
    }
    table.push_str(extra);
    table.push('\n');
    table
}
