//! The warehouse protocols, each implementing
//! [`WarehouseBackend`](crate::domain::WarehouseBackend) on the same
//! skeleton, so a fix in one shows where the other needs it:
//!
//! - `requests.rs`: the bodies, borrowed from the domain types;
//! - `answers.rs`: pure functions from an answer's envelope to domain
//!   results, verdicts included;
//! - `client.rs`: the protocol's `Signer`, what the shared `client::Client`
//!   (one `call(operation, body)`, driven by the protocol crate's operation
//!   table) needs to send an operation: its URL, the credential headers
//!   and the signed bytes;
//! - `mod.rs`: the backend, one short method per operation.
//!
//! Beside them, what both share: the request shapes (order, receiver,
//! lines, ASN, product) in [`requests`], the answer rows and the one
//! `rejected()` in [`answers`], the client that encodes, signs, sends
//! through the tenant's [`HttpTransport`] and reads the envelope, the
//! inventory pager with its guard against a warehouse that repeats a page,
//! the HTTP transport and the errors.
//! Signing, envelopes and tolerant reading are the `warehouse_protocol`
//! crate's. Nothing here knows gRPC.

mod answers;
mod client;
mod error;
#[cfg(test)]
mod fuzz;
mod http;
mod pager;
pub mod qianyi;
pub mod qlink;
mod requests;

pub use error::{Overload, SetupError, UpstreamError, UpstreamErrorKind};
pub use http::{HttpTransport, TrustedCa, install_crypto_provider};
/// The signatures the facade sends, for tests and tools that talk to a
/// warehouse (or stand in for one) as the facade does.
pub use warehouse_protocol::sign;

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
