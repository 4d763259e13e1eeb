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
}

/// Default of `[server] max_watch_streams`.
pub const DEFAULT_MAX_WATCH_STREAMS: usize = 64;

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            grpc_addr: parse_default(DEFAULT_GRPC_ADDR),
            http_addr: parse_default(DEFAULT_HTTP_ADDR),
            max_watch_streams: DEFAULT_MAX_WATCH_STREAMS,
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
    tokens: Option<Vec<String>>,
    token_sha256: Option<Vec<String>>,
    timeout_ms: Option<u64>,
    push: Option<RawPush>,
    exactly_once_writes: Option<bool>,
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
    pub fn load(path: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, env)
    }

    /// Parses and validates TOML text; `${NAME}` comes from `env`.
    pub fn from_toml(
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text)?;
        let server = ServerConfig {
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
fn cluster_config(
    raw: RawCluster,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ClusterConfig, ConfigError> {
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
fn store_config(
    raw: RawStore,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<StoreConfig, ConfigError> {
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
    env: &dyn Fn(&str) -> Option<String>,
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

/// Replaces every `${NAME}` with the environment variable's value, and
/// every `${file:PATH}` with the file's content (its last line break
/// dropped): a Kubernetes Secret mounted as files can then be rotated
/// without a restart, since a reload reads the files again.
fn expand(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err("unclosed ${ in value".into());
        };
        let name = &after[..end];
        if name.is_empty() {
            return Err("empty ${} in value".into());
        }
        if let Some(path) = name.strip_prefix("file:") {
            let content = std::fs::read_to_string(path)
                .map_err(|err| format!("cannot read secret file {path}: {err}"))?;
            let content = content.strip_suffix('\n').unwrap_or(&content);
            out.push_str(content.strip_suffix('\r').unwrap_or(content));
        } else {
            match env(name) {
                Some(value) => out.push_str(&value),
                None => return Err(format!("environment variable {name} is not set")),
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The files a config text reads with `${file:PATH}`, for the reload to
/// watch.
pub fn referenced_files(text: &str) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${file:") {
        let after = &rest[start + "${file:".len()..];
        let Some(end) = after.find('}') else { break };
        files.push(std::path::PathBuf::from(&after[..end]));
        rest = &after[end + 1..];
    }
    files
}

/// Reads one tenant's keys, expanding `${NAME}` and naming the key on failure.
struct TenantReader<'a> {
    tenant: String,
    env: &'a dyn Fn(&str) -> Option<String>,
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
    fn from_raw(raw: RawTenant, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
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
                    app_secret: SecretString::from(reader.required(
                        "app_secret",
                        raw.app_secret,
                        "qlink",
                    )?),
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
                    secret_key: SecretString::from(reader.required(
                        "secret_key",
                        raw.secret_key,
                        "qianyi",
                    )?),
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
        Ok(Self {
            id: raw.id,
            base_url,
            timeout,
            tokens,
            policy: UpstreamPolicy {
                rate_limit,
                retry,
                max_in_flight,
            },
            protocol,
            push,
            exactly_once_writes: raw.exactly_once_writes.unwrap_or(true),
        })
    }
}

/// A caller token, kept only as its SHA-256 digest: the process holds no
/// usable copy, and `token_sha256` lets the config file hold none either.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CallerToken([u8; 32]);

impl CallerToken {
    /// The token a caller sends (or `tokens` lists).
    pub fn of(token: &str) -> Self {
        use sha2::Digest as _;
        Self(sha2::Sha256::digest(token.as_bytes()).into())
    }

    /// A `token_sha256` entry: 64 hex digits.
    pub fn from_hex(digest: &str) -> Option<Self> {
        let bytes = hex::decode(digest.trim()).ok()?;
        <[u8; 32]>::try_from(bytes.as_slice()).ok().map(Self)
    }

    /// Equal, in time that does not depend on where they differ.
    pub fn matches(&self, other: &Self) -> bool {
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
    }
}

impl std::fmt::Debug for CallerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallerToken([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
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
        let text = include_str!("../deploy/qlink-facade.example.toml");
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
            include_str!("../deploy/k8s/base/qlink-facade.toml"),
            include_str!("../deploy/k8s/overlays/dev/qlink-facade.toml"),
            include_str!("../deploy/k8s/overlays/prod/qlink-facade.toml"),
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
}
