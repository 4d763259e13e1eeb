//! `qlink-facade health`: asks a running facade's `grpc.health.v1.Health/Check`
//! and turns the answer into an exit code, for container `HEALTHCHECK`s in
//! images that have no curl or grpcurl (distroless).
//!
//! Owns only the client side of the probe. What the server reports (which
//! services are `SERVING`) is set in `server`; this module must not start
//! anything, read the configuration or initialise telemetry, so a probe
//! every few seconds stays cheap and prints one line.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

use crate::middleware::grpc::code_name;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// `qlink-facade health`.
#[derive(Debug, Clone, clap::Args)]
pub struct HealthArgs {
    /// gRPC address of the facade to ask (plaintext unless `--tls-ca`).
    #[arg(long, default_value = "127.0.0.1:50051")]
    pub grpc_addr: SocketAddr,
    /// Speak TLS, trusting this CA (PEM) for the facade's certificate: for
    /// a facade with `[server.tls]`.
    #[arg(long)]
    pub tls_ca: Option<PathBuf>,
    /// The name the facade's certificate must carry, with `--tls-ca`.
    #[arg(long, default_value = "localhost")]
    pub tls_server_name: String,
    /// A client certificate (PEM) to present, for an mTLS listener
    /// (`client_ca`); with `--tls-key`.
    #[arg(long, requires = "tls_key", requires = "tls_ca")]
    pub tls_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Service to ask about, e.g. `qlink.v1.OrderService`; empty asks about
    /// the server as a whole.
    #[arg(long, default_value = "")]
    pub service: String,
    /// How long the whole probe may take, connecting included.
    #[arg(long, default_value_t = 2000)]
    pub timeout_ms: u64,
}

/// Why the probe did not see `SERVING`.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("health: cannot connect to {addr}: {reason}")]
    Connect { addr: SocketAddr, reason: String },
    #[error("health: cannot read {path}: {reason}")]
    TlsFile { path: String, reason: String },
    #[error("health: no answer from {addr} within {timeout_ms} ms")]
    Timeout { addr: SocketAddr, timeout_ms: u64 },
    #[error("health: {addr} answered Check for {service} with {code}: {message}")]
    Status {
        addr: SocketAddr,
        service: String,
        code: &'static str,
        message: String,
    },
    #[error("health: {addr} reports {service} as {status}")]
    NotServing {
        addr: SocketAddr,
        service: String,
        status: &'static str,
    },
}

/// Runs the probe: one line on stdout and `Ok` when the service is
/// `SERVING`; otherwise the error, which `main` prints before exiting 1.
pub async fn run(args: &HealthArgs) -> Result<(), ProbeError> {
    check(args).await?;
    println!(
        "health: {} reports {} as SERVING",
        args.grpc_addr,
        service_label(&args.service)
    );
    Ok(())
}

/// Asks `Health/Check` once, within `timeout_ms`; `Ok` only for `SERVING`.
pub async fn check(args: &HealthArgs) -> Result<(), ProbeError> {
    let addr = args.grpc_addr;
    let timeout = Duration::from_millis(args.timeout_ms);
    // One deadline over connecting and asking: a listener that accepts but
    // never answers must not hang the container runtime's probe.
    let endpoint = endpoint(args, timeout)?;
    let status = tokio::time::timeout(timeout, ask(endpoint, addr, &args.service))
        .await
        .map_err(|_| ProbeError::Timeout {
            addr,
            timeout_ms: args.timeout_ms,
        })??;
    match status {
        ServingStatus::Serving => Ok(()),
        other => Err(ProbeError::NotServing {
            addr,
            service: service_label(&args.service),
            status: other.as_str_name(),
        }),
    }
}

/// Where to ask: plaintext, or TLS with `--tls-ca` (and a client
/// certificate with `--tls-cert`).
fn endpoint(args: &HealthArgs, timeout: Duration) -> Result<Endpoint, ProbeError> {
    let addr = args.grpc_addr;
    let connect_error = |err: tonic::transport::Error| ProbeError::Connect {
        addr,
        reason: innermost(&err),
    };
    let Some(ca) = &args.tls_ca else {
        return Ok(Endpoint::from_shared(format!("http://{addr}"))
            .map_err(connect_error)?
            .connect_timeout(timeout));
    };
    let read = |path: &PathBuf| {
        std::fs::read(path).map_err(|err| ProbeError::TlsFile {
            path: path.display().to_string(),
            reason: err.to_string(),
        })
    };
    crate::upstream::install_crypto_provider();
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read(ca)?))
        .domain_name(args.tls_server_name.clone());
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        tls = tls.identity(Identity::from_pem(read(cert)?, read(key)?));
    }
    Endpoint::from_shared(format!("https://{addr}"))
        .map_err(connect_error)?
        .connect_timeout(timeout)
        .tls_config(tls)
        .map_err(connect_error)
}

async fn ask(
    endpoint: Endpoint,
    addr: SocketAddr,
    service: &str,
) -> Result<ServingStatus, ProbeError> {
    let channel = endpoint
        .connect()
        .await
        .map_err(|err| ProbeError::Connect {
            addr,
            reason: innermost(&err),
        })?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .map_err(|status| ProbeError::Status {
            addr,
            service: service_label(service),
            code: code_name(status.code()),
            message: status.message().to_owned(),
        })?;
    // A status number this client does not know is not SERVING.
    Ok(ServingStatus::try_from(response.into_inner().status).unwrap_or(ServingStatus::Unknown))
}

/// The service as the probe's messages name it.
fn service_label(service: &str) -> String {
    if service.is_empty() {
        "the server".to_owned()
    } else {
        format!("service {service:?}")
    }
}

/// The deepest cause: tonic's own message is only "transport error".
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}
