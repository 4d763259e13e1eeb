//! The warehouse protocols: one module per protocol, each implementing
//! [`WarehouseBackend`](crate::domain::WarehouseBackend), plus what they share
//! (signing, HTTP transport, tolerant JSON parsing). Nothing here knows gRPC.

pub mod content;
mod error;
mod http;
pub mod lenient;
pub mod number;
pub mod qianyi;
pub mod qlink;
pub mod sign;

pub use error::{UpstreamError, UpstreamErrorKind};
pub use http::{HttpTransport, install_crypto_provider};

use secrecy::SecretString;

/// A tenant's qlink credentials, as configured.
#[derive(Debug, Clone)]
pub struct QlinkCredentials {
    /// `appKey` header, and the key of the signature JSON.
    pub app_key: String,
    /// Appended to the signature JSON before hashing; never sent.
    pub app_secret: SecretString,
    /// `warehouseType` header, e.g. "LINGXING".
    pub warehouse_type: Option<String>,
    /// `warehouseKey` in every body.
    pub warehouse_key: String,
    /// `secret` header (the third-party warehouse's own secret).
    pub secret: Option<SecretString>,
    /// `accessToken` header.
    pub access_token: Option<SecretString>,
    /// `refreshToken` header.
    pub refresh_token: Option<SecretString>,
    /// `apiUrl` header: the warehouse's own service domain.
    pub api_url: Option<String>,
    /// `authInfo` header entries, sent as `[{"authInfoKey":…,"value":…}]`.
    pub auth_info: Vec<AuthInfo>,
}

/// One `authInfo` entry agreed with a logistics provider.
#[derive(Debug, Clone)]
pub struct AuthInfo {
    pub key: String,
    pub value: SecretString,
}

/// A tenant's Qianyi credentials, as configured.
#[derive(Debug, Clone)]
pub struct QianyiCredentials {
    /// `accessId` in every body, and the key of the signature JSON.
    pub access_id: String,
    /// Appended to the signature JSON before hashing; never sent.
    pub secret_key: SecretString,
    /// `warehouseType` header.
    pub warehouse_type: Option<String>,
    /// `secret` header (the third-party warehouse's own secret or token).
    pub secret: Option<SecretString>,
}
