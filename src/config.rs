//! Configuration: the TOML file of the contract, `${NAME}` read from the
//! environment, validated once at start-up with errors that name the tenant
//! and the key. Secrets are held in [`SecretString`] so they cannot print.
//!
//! Parsing takes the environment as a function, so tests pass values in and
//! never mutate the process environment.

use std::{collections::HashSet, net::SocketAddr, time::Duration};

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{
    cluster::ClusterConfig,
    middleware::{UpstreamPolicy, rate_limit::Rate, retry::RetryConfig},
    push::PushConfig,
    store::{StoreConfig, StoreLocation},
    telemetry::TelemetryConfig,
    upstream::{AuthInfo, QianyiCredentials, QlinkCredentials},
};

mod expand;
mod listener;
mod token;

use expand::expand;
pub use expand::referenced_files;
pub use token::CallerToken;

/// Where `${NAME}` references are looked up: the process environment in
/// the binary, a closure in tests.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Default gRPC listen address.
pub const DEFAULT_GRPC_ADDR: &str = "127.0.0.1:50051";
/// Default HTTP listen address (metrics, health, push webhooks).
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:8080";
/// Default time an upstream call may take.
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(10);

/// A configuration problem, naming where it is.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file is not valid: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("[server] {key}: {problem}")]
    Server { key: &'static str, problem: String },
    #[error("tenant {tenant}: {key}: {problem}")]
    Tenant {
        tenant: String,
        key: &'static str,
        problem: String,
    },
    #[error("[telemetry] otlp_endpoint: {problem}")]
    Telemetry { problem: String },
    #[error("[store] {key}: {problem}")]
    Store { key: &'static str, problem: String },
    #[error("[server.tls] {key}: {problem}")]
    Tls { key: &'static str, problem: String },
    #[error("[cluster] {key}: {problem}")]
    Cluster { key: &'static str, problem: String },
    #[error("no tenant is configured: add at least one [[tenant]]")]
    NoTenants,
    /// Valid, but a tenant could not be set up from it.
    #[error("{0}")]
    Build(String),
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub telemetry: TelemetryConfig,
    /// Where push events (and write outcomes) are kept.
    pub store: StoreConfig,
    /// Rate limits shared by replicas through Redis; `None` keeps them per
    /// process.
    pub cluster: Option<ClusterConfig>,
    pub tenants: Vec<TenantConfig>,
}

/// `[server]`.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub grpc_addr: SocketAddr,
    pub http_addr: SocketAddr,
    /// `Watch*Events` streams one tenant may have open at once.
    pub max_watch_streams: usize,
    /// Connection cap and header-read timeout, per listener.
    pub limits: crate::listener::ListenerLimits,
    /// HTTP/2 limits of the gRPC listener.
    pub http2: crate::server::Http2Limits,
    /// `[server.tls]`: TLS on the gRPC listener (and the HTTP one).
    pub tls: Option<crate::tls::TlsConfig>,
}

/// Default of `[server] max_watch_streams`.
pub const DEFAULT_MAX_WATCH_STREAMS: usize = 64;

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            grpc_addr: parse_default(DEFAULT_GRPC_ADDR),
            http_addr: parse_default(DEFAULT_HTTP_ADDR),
            max_watch_streams: DEFAULT_MAX_WATCH_STREAMS,
            limits: Default::default(),
            http2: Default::default(),
            tls: None,
        }
    }
}

fn parse_default(addr: &str) -> SocketAddr {
    addr.parse()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// One `[[tenant]]`.
#[derive(Debug, Clone)]
pub struct TenantConfig {
    /// The `x-tenant-id` callers send.
    pub id: String,
    /// qlink: the gateway root (paths are appended); Qianyi: the endpoint itself.
    pub base_url: String,
    /// How long one upstream HTTP call may take.
    pub timeout: Duration,
    /// Caller tokens (`authorization: Bearer …`), as SHA-256 digests;
    /// empty means the tenant asks for none (but a token of another tenant
    /// is still refused).
    pub tokens: Vec<CallerToken>,
    /// Rate limit, retries and in-flight bound for this tenant's upstream calls.
    pub policy: UpstreamPolicy,
    /// Protocol and credentials.
    pub protocol: ProtocolConfig,
    /// Push webhooks this tenant receives.
    pub push: Option<PushConfig>,
    /// Whether CreateOrder / CreateAsn are exactly-once (the default): off
    /// only for a warehouse that refuses a repeated number itself.
    pub exactly_once_writes: bool,
    /// Client certificate identities (DNS SAN, or CN) allowed to act for
    /// this tenant, lowercased; empty means any certificate `client_ca`
    /// signed.
    pub client_identities: Vec<String>,
    /// A private CA trusted for this tenant's warehouse, beside the system's.
    pub ca_file: Option<crate::upstream::TrustedCa>,
}

/// `rate_limit = { per_second, burst }`; burst defaults to per_second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    per_second: u32,
    burst: Option<u32>,
}

/// `retry = { max_attempts, base_delay_ms, max_delay_ms, budget_ratio }`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetry {
    max_attempts: Option<u32>,
    base_delay_ms: Option<u64>,
    max_delay_ms: Option<u64>,
    budget_ratio: Option<f32>,
}

/// A tenant's protocol with its credentials.
#[derive(Debug, Clone)]
pub enum ProtocolConfig {
    Qlink(QlinkCredentials),
    Qianyi(QianyiCredentials),
}

impl ProtocolConfig {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Qlink(_) => "qlink",
            Self::Qianyi(_) => "qianyi",
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    telemetry: RawTelemetry,
    #[serde(default)]
    store: RawStore,
    cluster: Option<RawCluster>,
    #[serde(default, rename = "tenant")]
    tenants: Vec<RawTenant>,
}

/// `[cluster]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCluster {
    redis_url: String,
    replicas: Option<u32>,
    key_prefix: Option<String>,
}

/// `[store]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    url: Option<String>,
    push_retention: Option<String>,
    write_window: Option<String>,
    reconcile_after: Option<String>,
    max_connections: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    grpc_addr: Option<String>,
    http_addr: Option<String>,
    max_watch_streams: Option<usize>,
    max_connections: Option<usize>,
    header_read_timeout: Option<String>,
    http2_max_concurrent_streams: Option<u32>,
    http2_max_header_list_size: Option<u32>,
    tls: Option<listener::RawTls>,
}

/// `[telemetry]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTelemetry {
    otlp_endpoint: Option<String>,
    #[serde(default)]
    json_logs: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTenant {
    id: String,
    protocol: String,
    base_url: String,
    // qlink
    app_key: Option<String>,
    app_secret: Option<String>,
    warehouse_key: Option<String>,
    access_token: Option<String>,
    refresh_token: Option<String>,
    api_url: Option<String>,
    auth_info: Option<Vec<RawAuthInfo>>,
    // Qianyi
    access_id: Option<String>,
    secret_key: Option<String>,
    // both
    warehouse_type: Option<String>,
    secret: Option<String>,
    rate_limit: Option<RawRateLimit>,
    retry: Option<RawRetry>,
    max_in_flight: Option<usize>,
    max_queued: Option<usize>,
    tokens: Option<Vec<String>>,
    token_sha256: Option<Vec<String>>,
    timeout_ms: Option<u64>,
    push: Option<RawPush>,
    exactly_once_writes: Option<bool>,
    client_identities: Option<Vec<String>>,
    ca_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuthInfo {
    key: String,
    value: String,
}

/// `push = { extra_type, access_id, secret_key }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPush {
    extra_type: String,
    access_id: String,
    secret_key: String,
    /// Gone: read only to say where pushes are kept now.
    store: Option<String>,
}

impl Config {
    /// Reads and validates a config file; `${NAME}` comes from `env`.
    pub fn load(path: &str, env: Env) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, env)
    }

    /// Parses and validates TOML text; `${NAME}` comes from `env`.
    pub fn from_toml(text: &str, env: Env) -> Result<Self, ConfigError> {
        let mut raw: RawConfig = toml::from_str(text)?;
        let server = ServerConfig {
            limits: listener::listener_limits(&raw.server)?,
            http2: listener::http2_limits(&raw.server)?,
            tls: listener::tls_config(raw.server.tls.take(), env)?,
            grpc_addr: server_addr("grpc_addr", raw.server.grpc_addr, DEFAULT_GRPC_ADDR, env)?,
            http_addr: server_addr("http_addr", raw.server.http_addr, DEFAULT_HTTP_ADDR, env)?,
            max_watch_streams: match raw.server.max_watch_streams {
                Some(0) => {
                    return Err(ConfigError::Server {
                        key: "max_watch_streams",
                        problem: "must be at least 1".into(),
                    });
                }
                Some(limit) => limit,
                None => DEFAULT_MAX_WATCH_STREAMS,
            },
        };
        if raw.tenants.is_empty() {
            return Err(ConfigError::NoTenants);
        }
        let store = store_config(raw.store, env)?;
        let cluster = raw
            .cluster
            .map(|cluster| cluster_config(cluster, env))
            .transpose()?;
        let mut seen = HashSet::new();
        let mut extra_types = HashSet::new();
        let mut token_owners: std::collections::HashMap<CallerToken, String> =
            std::collections::HashMap::new();
        let mut tenants = Vec::with_capacity(raw.tenants.len());
        for raw_tenant in raw.tenants {
            let tenant = TenantConfig::from_raw(raw_tenant, env)?;
            if !seen.insert(tenant.id.clone()) {
                return Err(ConfigError::Tenant {
                    tenant: tenant.id,
                    key: "id",
                    problem: "another tenant has the same id".into(),
                });
            }
            for token in &tenant.tokens {
                if let Some(owner) = token_owners.insert(token.clone(), tenant.id.clone())
                    && owner != tenant.id
                {
                    return Err(ConfigError::Tenant {
                        tenant: tenant.id,
                        key: "tokens",
                        problem: format!(
                            "a token is also configured for tenant {owner}: a token names one tenant"
                        ),
                    });
                }
            }
            if let Some(push) = &tenant.push
                && !extra_types.insert(push.extra_type.clone())
            {
                return Err(ConfigError::Tenant {
                    tenant: tenant.id,
                    key: "push",
                    problem: format!(
                        "another tenant receives pushes for extra_type {:?}",
                        push.extra_type
                    ),
                });
            }
            tenants.push(tenant);
        }
        listener::check_client_identities(&server, &tenants)?;
        let otlp_endpoint = match raw.telemetry.otlp_endpoint {
            Some(text) => {
                Some(expand(&text, env).map_err(|problem| ConfigError::Telemetry { problem })?)
            }
            None => None,
        };
        let telemetry = TelemetryConfig {
            json_logs: raw.telemetry.json_logs,
            otlp_endpoint: otlp_endpoint.filter(|endpoint| !endpoint.is_empty()),
            test_writer: false,
        };
        Ok(Self {
            server,
            telemetry,
            store,
            cluster,
            tenants,
        })
    }
}

/// Validates `[cluster]`.
fn cluster_config(raw: RawCluster, env: Env) -> Result<ClusterConfig, ConfigError> {
    let problem = |key, problem: String| ConfigError::Cluster { key, problem };
    let url = SecretString::from(expand(&raw.redis_url, env).map_err(|p| problem("redis_url", p))?);
    let scheme = url
        .expose_secret()
        .split_once("://")
        .map(|(scheme, _)| scheme);
    if !matches!(scheme, Some("redis" | "rediss")) {
        return Err(problem(
            "redis_url",
            format!(
                "{:?} is not a redis:// or rediss:// URL",
                crate::store::redacted(url.expose_secret())
            ),
        ));
    }
    let replicas = match raw.replicas {
        Some(0) => return Err(problem("replicas", "must be at least 1".into())),
        Some(replicas) => replicas,
        None => 1,
    };
    let key_prefix = raw.key_prefix.unwrap_or_else(|| "qlink-facade".to_owned());
    if key_prefix.is_empty()
        || key_prefix
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(problem(
            "key_prefix",
            "must be a word without spaces".into(),
        ));
    }
    Ok(ClusterConfig {
        redis_url: url,
        replicas,
        key_prefix,
    })
}

/// Validates `[store]`; without one, the default file in the working directory.
fn store_config(raw: RawStore, env: Env) -> Result<StoreConfig, ConfigError> {
    let mut store = StoreConfig::default();
    if let Some(url) = raw.url {
        let url = expand(&url, env).map_err(|problem| ConfigError::Store {
            key: "url",
            problem,
        })?;
        store.location = StoreLocation::parse(&url).map_err(|problem| ConfigError::Store {
            key: "url",
            problem,
        })?;
    }
    if let Some(text) = raw.push_retention {
        store.push_retention = duration("push_retention", &text)?;
    }
    if let Some(text) = raw.write_window {
        store.write_window = duration("write_window", &text)?;
    }
    if let Some(text) = raw.reconcile_after {
        store.reconcile_after = duration("reconcile_after", &text)?;
    }
    if let Some(connections) = raw.max_connections {
        if connections == 0 {
            return Err(ConfigError::Store {
                key: "max_connections",
                problem: "must be at least 1".into(),
            });
        }
        store.max_connections = connections;
    }
    Ok(store)
}

/// A `[store]` duration such as "7d", "24h" or "90s"; at least a second.
fn duration(key: &'static str, text: &str) -> Result<Duration, ConfigError> {
    let problem = |problem: String| ConfigError::Store { key, problem };
    let value = humantime::parse_duration(text.trim()).map_err(|err| {
        problem(format!(
            "{text:?} is not a duration like \"7d\" or \"24h\": {err}"
        ))
    })?;
    if value < Duration::from_secs(1) {
        return Err(problem("must be at least 1s".into()));
    }
    Ok(value)
}

fn server_addr(
    key: &'static str,
    value: Option<String>,
    default: &str,
    env: Env,
) -> Result<SocketAddr, ConfigError> {
    let text = match value {
        Some(text) => expand(&text, env).map_err(|problem| ConfigError::Server { key, problem })?,
        None => default.to_owned(),
    };
    text.parse().map_err(|_| ConfigError::Server {
        key,
        problem: format!("{text:?} is not an address like 127.0.0.1:50051"),
    })
}

/// Reads one tenant's keys, expanding `${NAME}` and naming the key on failure.
struct TenantReader<'a> {
    tenant: String,
    env: Env<'a>,
}

impl TenantReader<'_> {
    fn problem(&self, key: &'static str, problem: impl Into<String>) -> ConfigError {
        ConfigError::Tenant {
            tenant: self.tenant.clone(),
            key,
            problem: problem.into(),
        }
    }

    fn optional(
        &self,
        key: &'static str,
        value: Option<String>,
    ) -> Result<Option<String>, ConfigError> {
        let Some(value) = value else { return Ok(None) };
        let value = expand(&value, self.env).map_err(|problem| self.problem(key, problem))?;
        Ok(Some(value).filter(|value| !value.is_empty()))
    }

    fn required(
        &self,
        key: &'static str,
        value: Option<String>,
        protocol: &str,
    ) -> Result<String, ConfigError> {
        self.optional(key, value)?
            .ok_or_else(|| self.problem(key, format!("required for protocol {protocol:?}")))
    }

    /// A required secret (a key signatures are made with).
    fn required_secret(
        &self,
        key: &'static str,
        value: Option<String>,
        protocol: &str,
    ) -> Result<SecretString, ConfigError> {
        Ok(SecretString::from(self.required(key, value, protocol)?))
    }

    /// A value sent as an HTTP header must be a valid header value.
    fn header(
        &self,
        key: &'static str,
        value: Option<String>,
    ) -> Result<Option<String>, ConfigError> {
        let value = self.optional(key, value)?;
        if let Some(text) = &value
            && HeaderValue::from_bytes(text.as_bytes()).is_err()
        {
            return Err(self.problem(key, "contains characters an HTTP header cannot carry"));
        }
        Ok(value)
    }

    fn secret_header(
        &self,
        key: &'static str,
        value: Option<String>,
    ) -> Result<Option<SecretString>, ConfigError> {
        Ok(self.header(key, value)?.map(SecretString::from))
    }

    fn absent(
        &self,
        key: &'static str,
        value: &Option<impl Sized>,
        protocol: &str,
    ) -> Result<(), ConfigError> {
        if value.is_some() {
            return Err(self.problem(key, format!("is not a setting of protocol {protocol:?}")));
        }
        Ok(())
    }
}

impl TenantConfig {
    fn from_raw(raw: RawTenant, env: Env) -> Result<Self, ConfigError> {
        let reader = TenantReader {
            tenant: raw.id.clone(),
            env,
        };
        if raw.id.trim().is_empty() {
            return Err(reader.problem("id", "must not be empty"));
        }
        if HeaderValue::from_str(&raw.id).is_err() {
            return Err(reader.problem("id", "must be printable ASCII (it is sent as x-tenant-id)"));
        }
        let base_url = reader.required("base_url", Some(raw.base_url), &raw.protocol)?;
        match reqwest::Url::parse(&base_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
            _ => return Err(reader.problem("base_url", "must be an http:// or https:// URL")),
        }
        let protocol = match raw.protocol.as_str() {
            "qlink" => {
                reader.absent("access_id", &raw.access_id, "qlink")?;
                reader.absent("secret_key", &raw.secret_key, "qlink")?;
                let auth_info = raw
                    .auth_info
                    .unwrap_or_default()
                    .into_iter()
                    .map(|entry| {
                        let key =
                            expand(&entry.key, env).map_err(|p| reader.problem("auth_info", p))?;
                        let value = expand(&entry.value, env)
                            .map_err(|p| reader.problem("auth_info", p))?;
                        if key.is_empty() {
                            return Err(reader.problem("auth_info", "an entry has an empty key"));
                        }
                        Ok(AuthInfo {
                            key,
                            value: SecretString::from(value),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                ProtocolConfig::Qlink(QlinkCredentials {
                    app_key: {
                        let key = reader.required("app_key", raw.app_key, "qlink")?;
                        reader.header("app_key", Some(key))?.unwrap_or_default()
                    },
                    app_secret: reader.required_secret("app_secret", raw.app_secret, "qlink")?,
                    warehouse_type: reader.header("warehouse_type", raw.warehouse_type)?,
                    warehouse_key: reader.required("warehouse_key", raw.warehouse_key, "qlink")?,
                    secret: reader.secret_header("secret", raw.secret)?,
                    access_token: reader.secret_header("access_token", raw.access_token)?,
                    refresh_token: reader.secret_header("refresh_token", raw.refresh_token)?,
                    api_url: reader.header("api_url", raw.api_url)?,
                    auth_info,
                })
            }
            "qianyi" => {
                for (key, value) in [
                    ("app_key", &raw.app_key),
                    ("app_secret", &raw.app_secret),
                    ("warehouse_key", &raw.warehouse_key),
                    ("access_token", &raw.access_token),
                    ("refresh_token", &raw.refresh_token),
                    ("api_url", &raw.api_url),
                ] {
                    reader.absent(key, value, "qianyi")?;
                }
                reader.absent("auth_info", &raw.auth_info, "qianyi")?;
                ProtocolConfig::Qianyi(QianyiCredentials {
                    access_id: reader.required("access_id", raw.access_id, "qianyi")?,
                    secret_key: reader.required_secret("secret_key", raw.secret_key, "qianyi")?,
                    warehouse_type: reader.header("warehouse_type", raw.warehouse_type)?,
                    secret: reader.secret_header("secret", raw.secret)?,
                })
            }
            other => {
                return Err(reader.problem(
                    "protocol",
                    format!("{other:?} is not a protocol: use \"qlink\" or \"qianyi\""),
                ));
            }
        };
        let rate_limit = match raw.rate_limit {
            None => None,
            Some(limit) => {
                let per_second = std::num::NonZeroU32::new(limit.per_second)
                    .ok_or_else(|| reader.problem("rate_limit", "per_second must be at least 1"))?;
                let burst = match limit.burst {
                    None => per_second,
                    Some(burst) => std::num::NonZeroU32::new(burst)
                        .ok_or_else(|| reader.problem("rate_limit", "burst must be at least 1"))?,
                };
                Some(Rate { per_second, burst })
            }
        };
        let mut retry = RetryConfig::default();
        if let Some(raw_retry) = raw.retry {
            if let Some(attempts) = raw_retry.max_attempts {
                if !(1..=10).contains(&attempts) {
                    return Err(reader.problem("retry", "max_attempts must be 1 to 10"));
                }
                retry.max_attempts = attempts;
            }
            if let Some(ms) = raw_retry.base_delay_ms {
                retry.base_delay = Duration::from_millis(ms);
            }
            if let Some(ms) = raw_retry.max_delay_ms {
                retry.max_delay = Duration::from_millis(ms);
            }
            if let Some(ratio) = raw_retry.budget_ratio {
                if !(0.0..=10.0).contains(&ratio) {
                    return Err(reader.problem("retry", "budget_ratio must be 0 to 10"));
                }
                retry.budget_ratio = ratio;
            }
        }
        let max_in_flight = match raw.max_in_flight {
            Some(0) => return Err(reader.problem("max_in_flight", "must be at least 1")),
            Some(limit) => limit,
            None => UpstreamPolicy::default().max_in_flight,
        };
        let max_queued = raw
            .max_queued
            .unwrap_or(UpstreamPolicy::default().max_queued);
        let mut tokens = raw
            .tokens
            .unwrap_or_default()
            .into_iter()
            .map(|token| {
                let token = SecretString::from(
                    expand(&token, env).map_err(|p| reader.problem("tokens", p))?,
                );
                if token.expose_secret().trim().is_empty() {
                    return Err(reader.problem("tokens", "a token is empty"));
                }
                Ok(CallerToken::of(token.expose_secret().trim()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        for digest in raw.token_sha256.unwrap_or_default() {
            let digest = expand(&digest, env).map_err(|p| reader.problem("token_sha256", p))?;
            tokens.push(CallerToken::from_hex(&digest).ok_or_else(|| {
                reader.problem(
                    "token_sha256",
                    "a digest is not 64 hex digits (sha256sum of the token, without a newline)",
                )
            })?);
        }
        let timeout = match raw.timeout_ms {
            Some(0) => return Err(reader.problem("timeout_ms", "must be at least 1")),
            Some(ms) => Duration::from_millis(ms),
            None => DEFAULT_UPSTREAM_TIMEOUT,
        };
        let push = match raw.push {
            None => None,
            Some(push) => {
                let read = |value: &str| -> Result<String, ConfigError> {
                    let value = expand(value, env).map_err(|p| reader.problem("push", p))?;
                    if value.trim().is_empty() {
                        return Err(reader.problem(
                            "push",
                            "extra_type, access_id and secret_key must not be empty",
                        ));
                    }
                    Ok(value)
                };
                let extra_type = read(&push.extra_type)?;
                if !extra_type
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                {
                    return Err(reader.problem("push", "extra_type must be letters, digits, '-', '_' or '.' (it is a URL path segment)"));
                }
                if push.store.is_some() {
                    return Err(reader.problem(
                        "push",
                        "store is no longer a setting: every tenant's pushes are kept in the [store] database (url = \"sqlite://…\" or \"postgres://…\")",
                    ));
                }
                Some(PushConfig {
                    extra_type,
                    access_id: read(&push.access_id)?,
                    secret_key: SecretString::from(read(&push.secret_key)?),
                })
            }
        };
        let client_identities = listener::client_identities(&reader, raw.client_identities)?;
        let ca_file = listener::ca_file(&reader, raw.ca_file)?;
        Ok(Self {
            client_identities,
            ca_file,
            id: raw.id,
            base_url,
            timeout,
            tokens,
            policy: UpstreamPolicy {
                rate_limit,
                retry,
                max_in_flight,
                max_queued,
            },
            protocol,
            push,
            exactly_once_writes: raw.exactly_once_writes.unwrap_or(true),
        })
    }
}

#[cfg(test)]
mod tests;
