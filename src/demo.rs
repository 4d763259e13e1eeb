//! Demo mode: with no configuration, run the built-in simulator on loopback
//! and serve one demo tenant per protocol against it, on a temporary store.

use std::time::Duration;

use secrecy::SecretString;

use crate::{
    config::{Config, ProtocolConfig, ServerConfig, TenantConfig},
    middleware::UpstreamPolicy,
    push::PushConfig,
    simulator::SimulatorConfig,
    store::StoreConfig,
    upstream::{QianyiCredentials, QlinkCredentials},
};

/// The demo tenant speaking qlink.
pub const DEMO_QLINK_TENANT: &str = "demo-qlink";
/// The demo tenant speaking Qianyi.
pub const DEMO_QIANYI_TENANT: &str = "demo-qianyi";
/// The demo Qianyi tenant receives pushes at `/sys/automatic/receiveOdo/DEMO`
/// and `/sys/automatic/receiveAsn/DEMO`, signed with these.
pub const DEMO_PUSH_EXTRA_TYPE: &str = "DEMO";
/// `accessId` of demo pushes.
pub const DEMO_PUSH_ACCESS_ID: &str = "QIANYI";
/// Key demo pushes are signed with.
pub const DEMO_PUSH_SECRET_KEY: &str = "demo-push-secret";

/// The facade configuration for the demo tenants, against a simulator
/// serving `simulator` credentials at `qlink_base_url` / `qianyi_endpoint`.
pub fn demo_config(
    simulator: &SimulatorConfig,
    qlink_base_url: String,
    qianyi_endpoint: String,
) -> Config {
    let mut tenants = Vec::new();
    if let Some(account) = simulator.qlink_accounts.first() {
        let credentials = QlinkCredentials {
            app_key: account.app_key.clone(),
            app_secret: SecretString::from(account.app_secret.clone()),
            warehouse_type: Some("LINGXING".to_owned()),
            warehouse_key: account.warehouse_key.clone(),
            secret: None,
            access_token: None,
            refresh_token: None,
            api_url: None,
            auth_info: Vec::new(),
        };
        tenants.push(demo_tenant(
            DEMO_QLINK_TENANT,
            qlink_base_url,
            ProtocolConfig::Qlink(credentials),
        ));
    }
    if let Some(account) = simulator.qianyi_accounts.first() {
        let credentials = QianyiCredentials {
            access_id: account.access_id.clone(),
            secret_key: SecretString::from(account.secret_key.clone()),
            warehouse_type: None,
            secret: None,
        };
        tenants.push(TenantConfig {
            push: Some(PushConfig {
                extra_type: DEMO_PUSH_EXTRA_TYPE.to_owned(),
                access_id: DEMO_PUSH_ACCESS_ID.to_owned(),
                secret_key: SecretString::from(DEMO_PUSH_SECRET_KEY.to_owned()),
            }),
            ..demo_tenant(
                DEMO_QIANYI_TENANT,
                qianyi_endpoint,
                ProtocolConfig::Qianyi(credentials),
            )
        });
    }
    Config {
        server: ServerConfig::default(),
        telemetry: Default::default(),
        // A fresh file each time, removed when the facade stops.
        store: StoreConfig::temporary(),
        cluster: None,
        tenants,
    }
}

/// A demo tenant `id` of `protocol` at `base_url`, with the defaults a
/// config file would give it.
fn demo_tenant(id: &str, base_url: String, protocol: ProtocolConfig) -> TenantConfig {
    TenantConfig {
        id: id.to_owned(),
        base_url,
        timeout: Duration::from_secs(10),
        tokens: Vec::new(),
        policy: UpstreamPolicy::default(),
        protocol,
        push: None,
        exactly_once_writes: true,
        client_identities: Vec::new(),
        ca_file: None,
    }
}
