//! The gRPC handlers: resolve the tenant, validate and convert the request,
//! call the tenant's warehouse backend, convert the answer. No HTTP, JSON or
//! signing here.

mod asn;
pub mod convert;
pub mod error;
mod inventory;
mod order;
mod sku;
mod warehouse;

use std::sync::Arc;

use tonic::{Request, Status};

pub use error::{ApiError, Violations};

use crate::tenant::{Tenant, TenantRegistry};

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

    /// The tenant of a call: before anything else happens.
    fn tenant<T>(&self, request: &Request<T>) -> Result<Arc<Tenant>, ApiError> {
        let metadata = request.metadata();
        let tenant_id = metadata.get(TENANT_METADATA).and_then(|value| value.to_str().ok());
        let bearer = metadata
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
            .map(str::trim);
        Ok(self.tenants.resolve(tenant_id, bearer)?)
    }
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
