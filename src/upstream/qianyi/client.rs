//! Qianyi's [`Signer`] for the shared [`Client`](crate::upstream::client::Client):
//! every operation goes to the one endpoint, the business parameters
//! wrapped in the signed body `{accessId, method, content, sign}`, with the
//! configured headers. The URL and headers are built once, when the tenant
//! is.

use reqwest::{Url, header::HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use warehouse_protocol::{
    Operation, Protocol, SECRET_HEADER, WAREHOUSE_TYPE_HEADER, qianyi::request_body,
};

use crate::upstream::{
    QianyiCredentials, SetupError, UpstreamErrorKind,
    client::{Signed, Signer, credential_headers, endpoint},
};

pub(super) struct QianyiSigner {
    /// The configured URL, used as is: Qianyi has one endpoint.
    endpoint: Url,
    /// `warehouseType` and `secret`, when configured.
    headers: HeaderMap,
    access_id: String,
    secret_key: SecretString,
}

impl QianyiSigner {
    pub fn new(url: &str, credentials: &QianyiCredentials) -> Result<Self, SetupError> {
        let secret = credentials.secret.as_ref().map(ExposeSecret::expose_secret);
        let headers = credential_headers([
            (
                WAREHOUSE_TYPE_HEADER,
                "warehouseType",
                credentials.warehouse_type.as_deref(),
                false,
            ),
            (SECRET_HEADER, "secret", secret, true),
        ])?;
        Ok(Self {
            endpoint: endpoint(url)?,
            headers,
            access_id: credentials.access_id.clone(),
            secret_key: credentials.secret_key.clone(),
        })
    }
}

impl Signer for QianyiSigner {
    const PROTOCOL: Protocol = Protocol::Qianyi;

    /// The body `{accessId, method, content, sign}` with `content` the
    /// business parameters' JSON text ("" for none), as the spec signs it.
    fn sign(&self, operation: Operation, content: String) -> Result<Signed, UpstreamErrorKind> {
        let method = operation.name(Protocol::Qianyi);
        let secret_key = self.secret_key.expose_secret();
        Ok(Signed {
            url: self.endpoint.clone(),
            headers: self.headers.clone(),
            body: request_body(&self.access_id, method, &content, secret_key),
        })
    }
}
