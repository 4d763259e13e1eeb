//! The Qianyi client: one [`Client::call`] per operation, driven by the
//! protocol's operation table. It encodes the content, wraps it in the
//! signed body `{accessId, method, content, sign}`, sends it to the one
//! endpoint with the configured headers (built once, with the URL, when
//! the tenant is) and reads the answer's envelope. It never logs headers,
//! bodies or secrets.

use reqwest::{
    Url,
    header::{HeaderMap, HeaderName, HeaderValue},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use warehouse_protocol::{
    Envelope, Operation, Protocol, SECRET_HEADER, WAREHOUSE_TYPE_HEADER, qianyi::request_body,
};

use crate::domain::CallContext;
use crate::upstream::http::{HttpTransport, Post};
use crate::upstream::requests::encode;
use crate::upstream::{QianyiCredentials, SetupError, UpstreamError, UpstreamErrorKind};

pub(super) struct Client {
    /// The configured URL, used as is: Qianyi has one endpoint.
    endpoint: Url,
    /// `warehouseType` and `secret`, when configured.
    headers: HeaderMap,
    access_id: String,
    secret_key: SecretString,
    transport: HttpTransport,
}

impl Client {
    pub fn new(
        endpoint: &str,
        credentials: &QianyiCredentials,
        transport: HttpTransport,
    ) -> Result<Self, SetupError> {
        let endpoint = Url::parse(endpoint).map_err(|err| SetupError::BaseUrl(err.to_string()))?;
        let mut headers = HeaderMap::new();
        let configured = [
            (
                WAREHOUSE_TYPE_HEADER,
                "warehouseType",
                credentials.warehouse_type.as_deref(),
                false,
            ),
            (
                SECRET_HEADER,
                "secret",
                credentials.secret.as_ref().map(ExposeSecret::expose_secret),
                true,
            ),
        ];
        for (name, label, text, sensitive) in configured {
            let Some(text) = text else { continue };
            // Named, never quoted: it may be a secret.
            let mut value =
                HeaderValue::from_bytes(text.as_bytes()).map_err(|_| SetupError::Header(label))?;
            value.set_sensitive(sensitive);
            headers.insert(HeaderName::from_static(name), value);
        }
        Ok(Self {
            endpoint,
            headers,
            access_id: credentials.access_id.clone(),
            secret_key: credentials.secret_key.clone(),
            transport,
        })
    }

    /// Calls `operation` with `content` (`None`: no business parameters)
    /// and reads the answer with `read`.
    pub async fn call<T>(
        &self,
        ctx: &CallContext,
        operation: Operation,
        content: Option<&impl Serialize>,
        read: impl FnOnce(&Envelope) -> Result<T, UpstreamErrorKind>,
    ) -> Result<T, UpstreamError> {
        let post = self.prepare(operation, content)?;
        self.send(ctx, post, read).await
    }

    /// The first half of [`call`](Self::call): `operation`'s signed body
    /// with `content`, ready to [`send`](Self::send).
    pub fn prepare(
        &self,
        operation: Operation,
        content: Option<&impl Serialize>,
    ) -> Result<Post, UpstreamError> {
        let method = operation.name(Protocol::Qianyi);
        let content = content
            .map(encode)
            .transpose()
            .map_err(|kind| self.transport.error(method, kind))?
            .unwrap_or_default();
        let secret_key = self.secret_key.expose_secret();
        let body = request_body(&self.access_id, method, &content, secret_key);
        Ok(Post {
            operation: method,
            access: operation.access(),
            url: self.endpoint.clone(),
            headers: self.headers.clone(),
            body,
        })
    }

    /// The second half of [`call`](Self::call): sends `post` and reads the
    /// answer with `read`.
    pub async fn send<T>(
        &self,
        ctx: &CallContext,
        post: Post,
        read: impl FnOnce(&Envelope) -> Result<T, UpstreamErrorKind>,
    ) -> Result<T, UpstreamError> {
        self.transport.post(ctx, post, read).await
    }

    pub fn error(&self, operation: Operation, kind: UpstreamErrorKind) -> UpstreamError {
        self.transport.error(operation.name(Protocol::Qianyi), kind)
    }
}
