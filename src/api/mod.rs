//! The gRPC handlers: resolve the tenant, validate and convert the request,
//! call the tenant's warehouse backend, convert the answer. No HTTP, JSON or
//! signing here.

mod asn;
pub mod codec;
pub mod convert;
pub mod error;
mod events;
#[cfg(test)]
mod fuzz;
mod inventory;
mod order;
mod sku;
mod warehouse;

use std::{sync::Arc, time::Duration};

use tokio::time::Instant;
use tonic::{Request, Status};

pub use error::{ApiError, Violations};

use crate::{
    domain::{CallContext, DEFAULT_CALL_TIMEOUT},
    push::watch::Watches,
    store::Store,
    tenant::{Tenant, TenantError, Tenants},
    writes::{WriteRequest, Writes},
};

/// The metadata key naming the tenant of a call.
pub const TENANT_METADATA: &str = "x-tenant-id";

/// Implements every service of the API over the tenants' backends, the
/// store their pushes are kept in, and the exactly-once writes.
#[derive(Debug, Clone)]
pub struct FacadeApi {
    tenants: Arc<Tenants>,
    store: Arc<dyn Store>,
    writes: Writes,
    watches: Watches,
}

impl FacadeApi {
    pub fn new(
        tenants: Arc<Tenants>,
        store: Arc<dyn Store>,
        writes: Writes,
        watches: Watches,
    ) -> Self {
        Self {
            tenants,
            store,
            writes,
            watches,
        }
    }

    /// The tenants in force, for the call layer's labels.
    pub fn tenants(&self) -> &Arc<Tenants> {
        &self.tenants
    }

    /// Creates an order or ASN: exactly once per number (see `writes`),
    /// unless the tenant turned that off.
    async fn create<W: WriteRequest>(
        &self,
        tenant: &Tenant,
        request: W,
        ctx: &CallContext,
    ) -> Result<W::Created, Status> {
        if tenant.exactly_once_writes() {
            self.writes
                .create(&tenant.id, &tenant.backend, request, ctx)
                .await
                .map_err(|err| status(err.into()))
        } else {
            request
                .send(tenant.backend.as_ref(), ctx)
                .await
                .map_err(|err| status(err.into()))
        }
    }

    /// The tenant and context of a call: before anything else happens.
    fn begin<T>(&self, request: &Request<T>) -> Result<(Arc<Tenant>, CallContext), ApiError> {
        let deadline =
            caller_deadline(request).unwrap_or_else(|| Instant::now() + DEFAULT_CALL_TIMEOUT);
        Ok((self.tenant(request)?, CallContext::until(deadline)))
    }

    /// The tenant of a call: before anything else happens.
    fn tenant<T>(&self, request: &Request<T>) -> Result<Arc<Tenant>, ApiError> {
        let metadata = request.metadata();
        let mut sent = metadata.get_all(TENANT_METADATA).iter();
        let tenant_id = match (sent.next(), sent.next()) {
            (None, _) => None,
            // Proxies may append a second one: which to trust is not ours to guess.
            (Some(_), Some(_)) => return Err(TenantError::Invalid("sent more than once").into()),
            (Some(value), None) => Some(
                value
                    .to_str()
                    .map_err(|_| TenantError::Invalid("not printable ASCII, as tenant ids are"))?,
            ),
        };
        let bearer = metadata
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .map(str::trim);
        // On an mTLS listener, the certificate the client's handshake
        // presented (its leaf first), as the acceptor verified it.
        let certificates = request.peer_certs();
        let client_certificate = certificates
            .as_deref()
            .and_then(|chain| chain.first())
            .map(|leaf| leaf.as_ref());
        Ok(self
            .tenants
            .load()
            .resolve_client(tenant_id, bearer, client_certificate)?)
    }
}

/// FAILED_PRECONDITION unless the tenant receives pushes.
fn receives_pushes(tenant: &Tenant) -> Result<(), Status> {
    if !tenant.receives_pushes() {
        return Err(Status::failed_precondition(format!(
            "tenant {} receives no pushes: configure push = {{ extra_type, access_id, secret_key }}",
            tenant.id
        )));
    }
    Ok(())
}

/// Turns a handler error into a status, logging what an operator needs
/// (warehouse text cut as the caller gets it).
fn status(err: ApiError) -> Status {
    let cut = |text: String| error::cut(&text, error::RELAYED_TEXT_LIMIT).into_owned();
    match &err {
        ApiError::Upstream(upstream) => {
            tracing::warn!(tenant = %upstream.tenant, operation = upstream.operation, error = %cut(upstream.kind.to_string()), "upstream call failed");
        }
        ApiError::Tenant(tenant) => tracing::info!(error = %tenant, "call refused"),
        ApiError::Invalid(_) => tracing::debug!(error = %err, "invalid request"),
        ApiError::Write(crate::writes::WriteError::Upstream(upstream)) => {
            tracing::warn!(tenant = %upstream.tenant, operation = upstream.operation, error = %cut(upstream.kind.to_string()), "upstream call failed");
        }
        ApiError::Write(write) => tracing::warn!(error = %cut(write.to_string()), "write refused"),
    }
    Status::from(err)
}

/// The caller's `grpc-timeout` as an instant, if the caller set one:
/// slightly early, so the facade's own DEADLINE_EXCEEDED, naming tenant and
/// operation, wins the race against the transport's cancellation.
fn caller_deadline<T>(request: &Request<T>) -> Option<Instant> {
    let timeout = request
        .metadata()
        .get("grpc-timeout")
        .and_then(|value| value.to_str().ok())
        .and_then(parse_grpc_timeout)?;
    let margin = (timeout / 20).min(Duration::from_millis(50));
    Some(Instant::now() + timeout.saturating_sub(margin))
}

/// Parses a `grpc-timeout` header value (`100m`, `5S`, `2H` …).
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_units() {
        assert_eq!(parse_grpc_timeout("100m"), Some(Duration::from_millis(100)));
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("123456789S"), None);
        assert_eq!(parse_grpc_timeout("5x"), None);
        assert_eq!(parse_grpc_timeout(""), None);
    }
}
