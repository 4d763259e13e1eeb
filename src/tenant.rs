//! Tenants: per-tenant state built once at start-up (backend with its pooled
//! HTTP client) and looked up per call by the `x-tenant-id` the caller sends.

use std::{collections::HashMap, sync::Arc};

use crate::{
    cluster::SharedLimits,
    config::{CallerToken, ProtocolConfig, TenantConfig},
    domain::WarehouseBackend,
    metrics::Metrics,
    push::webhook::PushTarget,
    upstream::{HttpTransport, SetupError, qianyi::QianyiBackend, qlink::QlinkBackend},
};

/// One configured tenant, ready to serve calls.
pub struct Tenant {
    pub id: Arc<str>,
    pub backend: Arc<dyn WarehouseBackend>,
    config: TenantConfig,
}

impl Tenant {
    /// Whether the tenant receives pushes.
    pub fn receives_pushes(&self) -> bool {
        self.config.push.is_some()
    }

    /// Whether the tenant's CreateOrder and CreateAsn are exactly-once.
    pub fn exactly_once_writes(&self) -> bool {
        self.config.exactly_once_writes
    }
}

crate::debug::debug_showing!(Tenant {
    id,
    protocol = |this| this.backend.protocol(),
});

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
    /// The token is another tenant's.
    #[error("tenant {0}: the bearer token is not this tenant's")]
    OtherTenantsToken(String),
    /// The tenant lists `client_identities` and the call's client
    /// certificate names none of them (or there is none).
    #[error("tenant {tenant}: {presented} may not act for this tenant (client_identities)")]
    ClientNotAllowed {
        tenant: String,
        /// What the certificate names, cut, or that there was none.
        presented: String,
    },
}

/// How many of a certificate's names an error quotes, and how much of each.
const QUOTED_NAMES: usize = 3;

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
}

/// The tenants in force: one [`TenantRegistry`], replaced whole when the
/// configuration is reloaded. A call takes the registry once, at its start,
/// and finishes on it whatever replaces it meanwhile.
#[derive(Debug)]
pub struct Tenants {
    current: arc_swap::ArcSwap<TenantRegistry>,
}

impl Tenants {
    pub fn new(registry: TenantRegistry) -> Arc<Self> {
        Arc::new(Self {
            current: arc_swap::ArcSwap::from_pointee(registry),
        })
    }

    /// The registry in force now.
    pub fn load(&self) -> Arc<TenantRegistry> {
        self.current.load_full()
    }

    /// Puts `registry` in force for the calls that start from now on.
    pub fn replace(&self, registry: TenantRegistry) {
        self.current.store(Arc::new(registry));
    }
}

/// All tenants, by id.
#[derive(Debug, Default)]
pub struct TenantRegistry {
    by_id: HashMap<String, Arc<Tenant>>,
    /// Every tenant's caller tokens with their tenant.
    tokens: Vec<(CallerToken, Arc<str>)>,
}

impl TenantRegistry {
    /// Builds every tenant's backend once; with `shared_limits` their rate
    /// limits are kept in Redis for every replica.
    pub fn build(
        configs: &[TenantConfig],
        shared_limits: Option<&Arc<SharedLimits>>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, BuildError> {
        let mut by_id = HashMap::with_capacity(configs.len());
        let mut tokens = Vec::new();
        for config in configs {
            let id: Arc<str> = Arc::from(config.id.as_str());
            let transport = HttpTransport::for_tenant_trusting(
                id.clone(),
                config.timeout,
                &config.policy,
                config.ca_file.as_ref(),
                shared_limits.cloned(),
                metrics.clone(),
            )
            .map_err(|source| BuildError::Http {
                tenant: config.id.clone(),
                source,
            })?;
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
            tokens.extend(
                config
                    .tokens
                    .iter()
                    .map(|token| (token.clone(), id.clone())),
            );
            by_id.insert(
                config.id.clone(),
                Arc::new(Tenant {
                    id,
                    backend,
                    config: config.clone(),
                }),
            );
        }
        Ok(Self { by_id, tokens })
    }

    /// The tenant a call is for. A token is tied to its tenant: presented
    /// for another tenant it is refused, whether or not that tenant asks
    /// for tokens; a tenant with tokens wants one of its own.
    pub fn resolve(
        &self,
        tenant_id: Option<&str>,
        bearer: Option<&str>,
    ) -> Result<Arc<Tenant>, TenantError> {
        self.resolve_client(tenant_id, bearer, None)
    }

    /// As [`Self::resolve`], for a call whose connection presented
    /// `client_certificate` (DER, verified against `[server.tls]
    /// client_ca`). A tenant that lists `client_identities` wants a
    /// certificate naming one of them, as well as its token if it has
    /// tokens: the two checks are independent.
    pub fn resolve_client(
        &self,
        tenant_id: Option<&str>,
        bearer: Option<&str>,
        client_certificate: Option<&[u8]>,
    ) -> Result<Arc<Tenant>, TenantError> {
        let tenant = self.resolve_token(tenant_id, bearer)?;
        let allowed = &tenant.config.client_identities;
        if allowed.is_empty() {
            return Ok(tenant);
        }
        let names = client_certificate
            .map(crate::tls::certificate_names)
            .unwrap_or_default();
        if names.iter().any(|name| allowed.contains(name)) {
            return Ok(tenant);
        }
        let presented = match (client_certificate, names.is_empty()) {
            (None, _) => "a call without a client certificate".to_owned(),
            (Some(_), true) => "a client certificate naming no DNS name or CN".to_owned(),
            (Some(_), false) => {
                let quoted: Vec<String> = names
                    .iter()
                    .take(QUOTED_NAMES)
                    .map(|name| {
                        format!(
                            "{:?}",
                            name.chars().take(QUOTED_ID_CHARS).collect::<String>()
                        )
                    })
                    .collect();
                format!("the client certificate of {}", quoted.join(", "))
            }
        };
        Err(TenantError::ClientNotAllowed {
            tenant: tenant.id.to_string(),
            presented,
        })
    }

    fn resolve_token(
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
        let owner = bearer.and_then(|token| self.token_owner(&CallerToken::of(token)));
        match owner {
            Some(owner) if **owner == *tenant.id => Ok(tenant.clone()),
            Some(_) => Err(TenantError::OtherTenantsToken(tenant_id.to_owned())),
            None if tenant.config.tokens.is_empty() => Ok(tenant.clone()),
            None => Err(TenantError::BadToken(tenant_id.to_owned())),
        }
    }

    /// Whose token `presented` is. Every configured token is compared, each
    /// in constant time, so the time taken says nothing about which.
    fn token_owner(&self, presented: &CallerToken) -> Option<&Arc<str>> {
        let mut owner = None;
        for (token, tenant) in &self.tokens {
            if token.matches(presented) {
                owner = Some(tenant);
            }
        }
        owner
    }

    /// The tenant with `id`, with no token check: for the facade's own work.
    pub fn get(&self, id: &str) -> Option<Arc<Tenant>> {
        self.by_id.get(id).cloned()
    }

    /// The tenant that receives pushes for `extra_type`, for the webhooks.
    pub fn push_target(&self, extra_type: &str) -> Option<PushTarget> {
        self.by_id.values().find_map(|tenant| {
            let push = tenant.config.push.as_ref()?;
            (push.extra_type == extra_type).then(|| PushTarget {
                tenant: tenant.id.clone(),
                config: push.clone(),
            })
        })
    }

    /// The tenant id as metrics label it, when `id` is a configured tenant.
    pub fn label(&self, id: &str) -> Option<Arc<str>> {
        self.by_id.get(id).map(|tenant| tenant.id.clone())
    }

    /// Tenant ids, sorted, for start-up logs.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.by_id.keys().cloned().collect();
        ids.sort();
        ids
    }
}
