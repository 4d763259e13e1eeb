//! The gRPC handlers: resolve the tenant, validate and convert the request,
//! call the tenant's warehouse backend, convert the answer. No HTTP, JSON or
//! signing here.

mod asn;
pub mod codec;
pub mod convert;
pub mod error;
mod events;
mod inventory;
mod order;
mod sku;
mod warehouse;

use std::sync::Arc;

use tokio::time::Instant;
use tonic::{Request, Status};

pub use error::{ApiError, Violations};

use crate::{
    middleware::{DEFAULT_CALL_DEADLINE, deadline},
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
        deadline: Instant,
    ) -> Result<W::Created, Status> {
        if tenant.exactly_once_writes() {
            self.writes
                .create(&tenant.id, &tenant.backend, request, deadline)
                .await
                .map_err(|err| status(err.into()))
        } else {
            within(deadline, request.send(tenant.backend.clone()))
                .await
                .map_err(|err| status(err.into()))
        }
    }

    /// The tenant and deadline of a call: before anything else happens.
    fn begin<T>(&self, request: &Request<T>) -> Result<(Arc<Tenant>, Instant), ApiError> {
        Ok((self.tenant(request)?, call_deadline(request)))
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
        Ok(self.tenants.load().resolve(tenant_id, bearer)?)
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

/// The caller's `grpc-timeout` as an instant (the default when none),
/// slightly early so the facade's own DEADLINE_EXCEEDED, naming tenant and
/// operation, wins the race against the transport's cancellation.
fn call_deadline<T>(request: &Request<T>) -> Instant {
    caller_deadline(request).unwrap_or_else(|| Instant::now() + DEFAULT_CALL_DEADLINE)
}

/// The caller's `grpc-timeout` as an instant, if the caller set one.
fn caller_deadline<T>(request: &Request<T>) -> Option<Instant> {
    let timeout = request
        .metadata()
        .get("grpc-timeout")
        .and_then(|value| value.to_str().ok())
        .and_then(deadline::parse_grpc_timeout)?;
    let margin = (timeout / 20).min(std::time::Duration::from_millis(50));
    Some(Instant::now() + timeout.saturating_sub(margin))
}

/// Runs a backend call under the caller's deadline.
async fn within<F: std::future::Future>(deadline: Instant, call: F) -> F::Output {
    deadline::with_deadline(deadline, call).await
}
