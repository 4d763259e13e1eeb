//! The client both protocols call through: one [`Client::call`] per
//! operation, driven by the protocol crate's operation table. It encodes the
//! body, has the protocol's [`Signer`] turn it into the signed request (the
//! URL, the credential headers and the exact bytes sent), posts it through
//! the tenant's [`HttpTransport`] and reads the answer's envelope, every
//! failure naming the tenant and the protocol's name of the operation. The
//! URLs and credential headers are built once, when the tenant is, with
//! [`endpoint`] and [`credential_headers`]. It never logs headers, bodies
//! or secrets.

use reqwest::{
    Url,
    header::{HeaderMap, HeaderName, HeaderValue},
};
use serde::Serialize;
use warehouse_protocol::{Envelope, Operation, Protocol};

use super::{
    SetupError, UpstreamError, UpstreamErrorKind,
    http::{HttpTransport, Post},
    requests::encode,
};
use crate::domain::{CallContext, NewAsn, NewOrder};

/// What a protocol does to a body before it is sent.
pub(super) trait Signer: Send + Sync {
    const PROTOCOL: Protocol;

    /// `operation`'s request around `body` (the business parameters as
    /// JSON text, "" when there are none), signed.
    fn sign(&self, operation: Operation, body: String) -> Result<Signed, UpstreamErrorKind>;
}

/// A request as its protocol sends it.
pub(super) struct Signed {
    pub url: Url,
    /// Everything but `Content-Type`, which is always JSON.
    pub headers: HeaderMap,
    /// The exact bytes sent.
    pub body: Vec<u8>,
}

/// A tenant's client of one protocol.
pub(super) struct Client<S> {
    signer: S,
    transport: HttpTransport,
}

impl<S: Signer> Client<S> {
    pub fn new(signer: S, transport: HttpTransport) -> Self {
        Self { signer, transport }
    }

    #[cfg(test)]
    pub fn signer(&self) -> &S {
        &self.signer
    }

    /// Calls `operation` with `body` (`None`: no business parameters) and
    /// reads the answer with `read`.
    pub async fn call<T>(
        &self,
        ctx: &CallContext,
        operation: Operation,
        body: Option<&impl Serialize>,
        read: impl FnOnce(&Envelope) -> Result<T, UpstreamErrorKind>,
    ) -> Result<T, UpstreamError> {
        let post = self.prepare(operation, body)?;
        self.send(ctx, post, read).await
    }

    /// The first half of [`call`](Self::call): `operation`'s request with
    /// `body` encoded and signed, ready to [`send`](Self::send).
    pub fn prepare(
        &self,
        operation: Operation,
        body: Option<&impl Serialize>,
    ) -> Result<Post, UpstreamError> {
        let body = body.map_or_else(|| Ok(String::new()), encode);
        let signed = body.and_then(|body| self.signer.sign(operation, body));
        let Signed { url, headers, body } = signed.map_err(|kind| self.error(operation, kind))?;
        Ok(Post {
            operation: operation.name(S::PROTOCOL),
            access: operation.access(),
            url,
            headers,
            body,
        })
    }

    /// The second half of [`call`](Self::call): sends `post` and reads the
    /// answer's envelope with `read`.
    pub async fn send<T>(
        &self,
        ctx: &CallContext,
        post: Post,
        read: impl FnOnce(&Envelope) -> Result<T, UpstreamErrorKind>,
    ) -> Result<T, UpstreamError> {
        let operation = post.operation;
        let answer = self.transport.post(ctx, post).await;
        answer
            .and_then(|answer| Ok(Envelope::parse(&answer)?))
            .and_then(|envelope| read(&envelope))
            .map_err(|kind| self.transport.error(operation, kind))
    }

    /// Creates `new`, an order or ASN, with the request `prepare` makes of
    /// it, and reads the answer with `read`, given the number created. All
    /// of `new` but its number is freed once the request is made, by the
    /// thread that decoded it, rather than by whichever worker resumes the
    /// call when the warehouse answers.
    pub async fn create<N: Numbered, T>(
        &self,
        ctx: &CallContext,
        new: N,
        prepare: impl FnOnce(&N) -> Result<Post, UpstreamError>,
        read: impl FnOnce(&Envelope, &str) -> Result<T, UpstreamErrorKind>,
    ) -> Result<T, UpstreamError> {
        let post = prepare(&new)?;
        let number = new.into_number();
        self.send(ctx, post, |envelope| read(envelope, &number))
            .await
    }

    /// The failure `kind` of `operation`, naming the tenant.
    pub fn error(&self, operation: Operation, kind: UpstreamErrorKind) -> UpstreamError {
        self.transport.error(operation.name(S::PROTOCOL), kind)
    }
}

/// A write the warehouse answers about by its number.
pub(super) trait Numbered {
    /// The number, the rest dropped.
    fn into_number(self) -> String;
}

impl Numbered for NewOrder {
    fn into_number(self) -> String {
        self.order_number
    }
}

impl Numbered for NewAsn {
    fn into_number(self) -> String {
        self.asn_number
    }
}

/// A configured URL, parsed once; one that cannot be sent to stops the
/// tenant's build.
pub(super) fn endpoint(text: &str) -> Result<Url, SetupError> {
    Url::parse(text).map_err(|err| SetupError::BaseUrl(err.to_string()))
}

/// One credential header: its name, the label a fault names it by, its
/// value when configured, and whether the value is a secret.
pub(super) type CredentialHeader<'a> = (&'static str, &'static str, Option<&'a str>, bool);

/// The credential headers of every request, those configured; a value HTTP
/// cannot carry is named, never quoted (it may be a secret).
pub(super) fn credential_headers<'a>(
    headers: impl IntoIterator<Item = CredentialHeader<'a>>,
) -> Result<HeaderMap, SetupError> {
    let mut map = HeaderMap::new();
    for (name, label, text, sensitive) in headers {
        let Some(text) = text else { continue };
        // `from_bytes` takes UTF-8 text beyond ASCII; only control characters fail.
        let mut value =
            HeaderValue::from_bytes(text.as_bytes()).map_err(|_| SetupError::Header(label))?;
        value.set_sensitive(sensitive);
        map.insert(HeaderName::from_static(name), value);
    }
    Ok(map)
}
