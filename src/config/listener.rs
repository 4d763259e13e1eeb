//! The listener keys of the configuration: `[server]` max_connections,
//! header_read_timeout and the HTTP/2 limits, `[server.tls]`, and the
//! tenant keys that depend on them (`client_identities`) or on TLS
//! upstream (`ca_file`).

use std::{path::PathBuf, time::Duration};

use rustls_pki_types::{CertificateDer, pem::PemObject};
use serde::Deserialize;

use super::{ConfigError, Env, RawServer, ServerConfig, TenantConfig, TenantReader, expand};
use crate::{listener::ListenerLimits, server::Http2Limits, tls::TlsConfig, upstream::TrustedCa};

/// `[server.tls]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTls {
    cert: String,
    key: String,
    client_ca: Option<String>,
    #[serde(default)]
    http_tls: bool,
}

fn problem(key: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Server {
        key,
        problem: problem.into(),
    }
}

/// `[server] max_connections` and `header_read_timeout`.
pub(super) fn listener_limits(raw: &RawServer) -> Result<ListenerLimits, ConfigError> {
    let mut limits = ListenerLimits::default();
    match raw.max_connections {
        Some(0) => return Err(problem("max_connections", "must be at least 1")),
        Some(max) => limits.max_connections = max,
        None => {}
    }
    if let Some(text) = &raw.header_read_timeout {
        let timeout = humantime::parse_duration(text.trim()).map_err(|err| {
            problem(
                "header_read_timeout",
                format!("{text:?} is not a duration like \"10s\": {err}"),
            )
        })?;
        if !(Duration::from_millis(100)..=Duration::from_secs(3600)).contains(&timeout) {
            return Err(problem("header_read_timeout", "must be from 100ms to 1h"));
        }
        limits.header_read_timeout = timeout;
    }
    Ok(limits)
}

/// `[server] http2_max_concurrent_streams` and `http2_max_header_list_size`.
pub(super) fn http2_limits(raw: &RawServer) -> Result<Http2Limits, ConfigError> {
    let mut limits = Http2Limits::default();
    match raw.http2_max_concurrent_streams {
        Some(0) => {
            return Err(problem(
                "http2_max_concurrent_streams",
                "must be at least 1",
            ));
        }
        Some(max) => limits.max_concurrent_streams = max,
        None => {}
    }
    match raw.http2_max_header_list_size {
        Some(size) if size < 4096 => {
            return Err(problem(
                "http2_max_header_list_size",
                "must be at least 4096 (bytes)",
            ));
        }
        Some(size) => limits.max_header_list_size = size,
        None => {}
    }
    Ok(limits)
}

/// `[server.tls]`: paths, `${…}` expanded. The files are read when the
/// server starts (and on each TLS reload), not here.
pub(super) fn tls_config(raw: Option<RawTls>, env: Env) -> Result<Option<TlsConfig>, ConfigError> {
    let Some(raw) = raw else { return Ok(None) };
    let path = |key: &'static str, text: &str| -> Result<PathBuf, ConfigError> {
        let text = expand(text, env).map_err(|p| tls_problem(key, p))?;
        if text.trim().is_empty() {
            return Err(tls_problem(key, "must be a file path"));
        }
        Ok(PathBuf::from(text))
    };
    Ok(Some(TlsConfig {
        cert: path("cert", &raw.cert)?,
        key: path("key", &raw.key)?,
        client_ca: raw
            .client_ca
            .map(|text| path("client_ca", &text))
            .transpose()?,
        http_tls: raw.http_tls,
    }))
}

fn tls_problem(key: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Tls {
        key,
        problem: problem.into(),
    }
}

/// A tenant's `client_identities`: DNS names or common names, compared
/// without regard to case.
pub(super) fn client_identities(
    reader: &TenantReader<'_>,
    raw: Option<Vec<String>>,
) -> Result<Vec<String>, ConfigError> {
    raw.unwrap_or_default()
        .into_iter()
        .map(|identity| {
            let identity = expand(&identity, reader.env)
                .map_err(|p| reader.problem("client_identities", p))?;
            let identity = identity.trim();
            if identity.is_empty() {
                return Err(reader.problem("client_identities", "an identity is empty"));
            }
            Ok(identity.to_ascii_lowercase())
        })
        .collect()
}

/// A tenant's `ca_file`: read now (and at each reload), so a missing or
/// broken file stops start-up (or is refused by the reload) naming it.
pub(super) fn ca_file(
    reader: &TenantReader<'_>,
    raw: Option<String>,
) -> Result<Option<TrustedCa>, ConfigError> {
    let Some(path) = reader.optional("ca_file", raw)? else {
        return Ok(None);
    };
    let pem = std::fs::read(&path)
        .map_err(|err| reader.problem("ca_file", format!("cannot read {path}: {err}")))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| reader.problem("ca_file", format!("{path} is not valid PEM: {err}")))?;
    if certificates.is_empty() {
        return Err(reader.problem(
            "ca_file",
            format!("{path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"),
        ));
    }
    Ok(Some(TrustedCa {
        path: PathBuf::from(path),
        certificates,
    }))
}

/// `client_identities` are checked against client certificates, which
/// are asked for only with `[server.tls] client_ca`.
pub(super) fn check_client_identities(
    server: &ServerConfig,
    tenants: &[TenantConfig],
) -> Result<(), ConfigError> {
    let asks_certificates = server
        .tls
        .as_ref()
        .is_some_and(|tls| tls.client_ca.is_some());
    match tenants
        .iter()
        .find(|tenant| !tenant.client_identities.is_empty())
    {
        Some(tenant) if !asks_certificates => Err(ConfigError::Tenant {
            tenant: tenant.id.clone(),
            key: "client_identities",
            problem: "needs [server.tls] client_ca: without it no client sends a certificate"
                .into(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::config::Config;

    const TENANT: &str = r#"
[[tenant]]
id = "acme"
protocol = "qianyi"
base_url = "https://wms.example.com/qianyi"
access_id = "a"
secret_key = "s"
"#;

    fn load(server: &str, tenant_extra: &str) -> Result<Config, String> {
        let text = format!("{server}\n{TENANT}{tenant_extra}\n");
        Config::from_toml(&text, &|name| {
            (name == "TLS_DIR").then(|| "/run/tls".to_owned())
        })
        .map_err(|err| err.to_string())
    }

    #[test]
    fn listener_keys_and_tls_are_read_with_their_defaults() {
        let config = load("", "").expect("defaults");
        assert_eq!(config.server.limits.max_connections, 10_000);
        assert_eq!(
            config.server.limits.header_read_timeout,
            Duration::from_secs(10)
        );
        assert_eq!(config.server.http2.max_concurrent_streams, 1024);
        assert_eq!(config.server.http2.max_header_list_size, 16 * 1024);
        assert!(config.server.tls.is_none());

        let config = load(
            r#"
[server]
max_connections = 500
header_read_timeout = "2s"
http2_max_concurrent_streams = 64
http2_max_header_list_size = 8192

[server.tls]
cert = "${TLS_DIR}/tls.crt"
key = "${TLS_DIR}/tls.key"
client_ca = "${TLS_DIR}/ca.crt"
http_tls = true
"#,
            "client_identities = [\"Billing.svc.example.com\"]",
        )
        .expect("all keys");
        assert_eq!(config.server.limits.max_connections, 500);
        assert_eq!(
            config.server.limits.header_read_timeout,
            Duration::from_secs(2)
        );
        assert_eq!(config.server.http2.max_concurrent_streams, 64);
        assert_eq!(config.server.http2.max_header_list_size, 8192);
        let tls = config.server.tls.expect("[server.tls]");
        assert_eq!(tls.cert, std::path::Path::new("/run/tls/tls.crt"));
        assert_eq!(
            tls.client_ca.as_deref(),
            Some(std::path::Path::new("/run/tls/ca.crt"))
        );
        assert!(tls.http_tls);
        assert_eq!(
            config.tenants[0].client_identities,
            ["billing.svc.example.com"]
        );
    }

    #[test]
    fn bad_listener_keys_are_refused_naming_them() {
        for (server, tenant_extra, expected) in [
            (
                "[server]\nmax_connections = 0",
                "",
                "[server] max_connections: must be at least 1",
            ),
            (
                "[server]\nheader_read_timeout = \"soon\"",
                "",
                "[server] header_read_timeout:",
            ),
            (
                "[server]\nheader_read_timeout = \"1ms\"",
                "",
                "must be from 100ms to 1h",
            ),
            (
                "[server]\nhttp2_max_header_list_size = 100",
                "",
                "http2_max_header_list_size",
            ),
            (
                "[server.tls]\ncert = \"a\"\nkey = \"b\"\nca = \"c\"",
                "",
                "unknown field `ca`",
            ),
            (
                "[server.tls]\ncert = \"\"\nkey = \"b\"",
                "",
                "[server.tls] cert: must be a file path",
            ),
            (
                "[server.tls]\ncert = \"a\"\nkey = \"b\"",
                "client_identities = [\"x\"]",
                "tenant acme: client_identities: needs [server.tls] client_ca",
            ),
            (
                "",
                "client_identities = [\" \"]",
                "tenant acme: client_identities: an identity is empty",
            ),
        ] {
            let err = load(server, tenant_extra).expect_err(expected);
            assert!(err.contains(expected), "{expected:?} in {err:?}");
        }
    }
}
