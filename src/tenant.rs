//! Tenants: per-tenant state built once at start-up (backend with its pooled
//! HTTP client) and looked up per call by the `x-tenant-id` the caller sends.

use std::{collections::HashMap, sync::Arc};

use crate::{
    config::{ProtocolConfig, TenantConfig},
    domain::WarehouseBackend,
    metrics::Metrics,
    push::{TenantEvents, journal::JournalError, webhook::PushTarget},
    upstream::{HttpTransport, SetupError, qianyi::QianyiBackend, qlink::QlinkBackend},
};

/// One configured tenant, ready to serve calls.
pub struct Tenant {
    pub id: Arc<str>,
    pub backend: Arc<dyn WarehouseBackend>,
    /// Pushes received for this tenant (empty unless `push` is configured).
    pub events: Arc<TenantEvents>,
    config: TenantConfig,
}

impl Tenant {
    /// Whether the tenant receives pushes.
    pub fn receives_pushes(&self) -> bool {
        self.config.push.is_some()
    }
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("id", &self.id)
            .field("protocol", &self.backend.protocol())
            .finish_non_exhaustive()
    }
}

/// How much of an unknown tenant id an error quotes back.
pub const QUOTED_ID_CHARS: usize = 64;

/// Why a call could not be tied to a tenant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantError {
    #[error("missing x-tenant-id metadata: say which tenant the call is for")]
    Missing,
    /// The metadata is there but cannot name a tenant; says why.
    #[error("invalid x-tenant-id metadata: {0}")]
    Invalid(&'static str),
    /// Holds the id as sent, cut to [`QUOTED_ID_CHARS`].
    #[error("unknown tenant {0:?}: no such tenant is configured")]
    Unknown(String),
    #[error("tenant {0}: missing or wrong bearer token in the authorization metadata")]
    BadToken(String),
}

/// A tenant could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("tenant {tenant}: cannot build the HTTP client: {source}")]
    Http {
        tenant: String,
        source: reqwest::Error,
    },
    #[error("tenant {tenant}: {source}")]
    Protocol { tenant: String, source: SetupError },
    #[error("tenant {tenant}: cannot open the push store: {source}")]
    PushStore {
        tenant: String,
        source: JournalError,
    },
}

/// All tenants, by id.
#[derive(Debug, Default)]
pub struct TenantRegistry {
    by_id: HashMap<String, Arc<Tenant>>,
}

impl TenantRegistry {
    /// Builds every tenant's backend once.
    pub fn build(configs: &[TenantConfig], metrics: Arc<Metrics>) -> Result<Self, BuildError> {
        let mut by_id = HashMap::with_capacity(configs.len());
        for config in configs {
            let id: Arc<str> = Arc::from(config.id.as_str());
            let transport = HttpTransport::for_tenant(
                id.clone(),
                config.timeout,
                &config.policy,
                metrics.clone(),
            )
            .map_err(|source| BuildError::Http {
                tenant: config.id.clone(),
                source,
            })?;
            let events = match config.push.as_ref().and_then(|push| push.store.as_deref()) {
                Some(store) => {
                    TenantEvents::open(store).map_err(|source| BuildError::PushStore {
                        tenant: config.id.clone(),
                        source,
                    })?
                }
                None => TenantEvents::default(),
            };
            let backend: Result<Arc<dyn WarehouseBackend>, SetupError> = match &config.protocol {
                ProtocolConfig::Qlink(credentials) => {
                    QlinkBackend::new(&config.base_url, credentials, transport)
                        .map(|b| Arc::new(b) as _)
                }
                ProtocolConfig::Qianyi(credentials) => {
                    QianyiBackend::new(&config.base_url, credentials, transport)
                        .map(|b| Arc::new(b) as _)
                }
            };
            let backend = backend.map_err(|source| BuildError::Protocol {
                tenant: config.id.clone(),
                source,
            })?;
            by_id.insert(
                config.id.clone(),
                Arc::new(Tenant {
                    id,
                    backend,
                    events: Arc::new(events),
                    config: config.clone(),
                }),
            );
        }
        Ok(Self { by_id })
    }

    /// The tenant a call is for, checking its bearer token when the tenant
    /// has tokens configured.
    pub fn resolve(
        &self,
        tenant_id: Option<&str>,
        bearer: Option<&str>,
    ) -> Result<Arc<Tenant>, TenantError> {
        let tenant_id = tenant_id
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .ok_or(TenantError::Missing)?;
        let tenant = self.by_id.get(tenant_id).ok_or_else(|| {
            // A caller's text, quoted back: only as much as identifies it.
            TenantError::Unknown(tenant_id.chars().take(QUOTED_ID_CHARS).collect())
        })?;
        if !tenant.config.tokens.is_empty()
            && !bearer.is_some_and(|token| tenant.config.accepts_token(token))
        {
            return Err(TenantError::BadToken(tenant_id.to_owned()));
        }
        Ok(tenant.clone())
    }

    /// The tenants that receive pushes, for the webhooks.
    pub fn push_targets(&self) -> Vec<PushTarget> {
        self.by_id
            .values()
            .filter_map(|tenant| {
                Some(PushTarget {
                    tenant: tenant.id.clone(),
                    config: tenant.config.push.clone()?,
                    events: tenant.events.clone(),
                })
            })
            .collect()
    }

    /// Tenant ids, sorted, for start-up logs.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.by_id.keys().cloned().collect();
        ids.sort();
        ids
    }
}
