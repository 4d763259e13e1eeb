//! The gRPC handlers: resolve the tenant, validate and convert the request,
//! call the tenant's warehouse backend, convert the answer. No HTTP, JSON or
//! signing here.

mod asn;
pub mod convert;
pub mod error;
mod events;
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
    tenant::{Tenant, TenantError, TenantRegistry},
};

/// The metadata key naming the tenant of a call.
pub const TENANT_METADATA: &str = "x-tenant-id";

/// Implements every service of the API over the tenants' backends.
#[derive(Debug, Clone)]
pub struct FacadeApi {
    tenants: Arc<TenantRegistry>,
}

impl FacadeApi {
    pub fn new(tenants: Arc<TenantRegistry>) -> Self {
        Self { tenants }
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
        Ok(self.tenants.resolve(tenant_id, bearer)?)
    }
}

/// The tenant's pushes, or FAILED_PRECONDITION when it receives none.
fn pushed_events(tenant: &Tenant) -> Result<Arc<crate::push::TenantEvents>, Status> {
    if !tenant.receives_pushes() {
        return Err(Status::failed_precondition(format!(
            "tenant {} receives no pushes: configure push = {{ extra_type, access_id, secret_key }}",
            tenant.id
        )));
    }
    Ok(tenant.events.clone())
}

/// Turns a handler error into a status, logging what an operator needs.
fn status(err: ApiError) -> Status {
    match &err {
        ApiError::Upstream(upstream) => {
            tracing::warn!(tenant = %upstream.tenant, operation = upstream.operation, error = %upstream.kind, "upstream call failed");
        }
        ApiError::Tenant(tenant) => tracing::info!(error = %tenant, "call refused"),
        ApiError::Invalid(_) => tracing::debug!(error = %err, "invalid request"),
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
