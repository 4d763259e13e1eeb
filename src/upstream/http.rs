//! The HTTP transport both protocols share: one pooled client per tenant
//! behind the tenant's middleware stack (deadline, retry, rate limit,
//! concurrency), one [`post`](HttpTransport::post) of exact JSON bytes that
//! returns the answer's body (the protocols' [`Client`](super::client::Client)
//! reads its envelope), and the mapping of transport failures and HTTP
//! statuses onto [`UpstreamErrorKind`].

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Once},
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use reqwest::{
    Url,
    header::{CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, RETRY_AFTER},
};
use tower::{Service, ServiceExt};
use warehouse_protocol::{Access, tolerant};

use super::{UpstreamError, UpstreamErrorKind};
use crate::{
    cluster::SharedLimits,
    domain::CallContext,
    metrics::Metrics,
    middleware::{UpstreamCall, UpstreamPolicy, UpstreamService, upstream_stack},
};

/// How much of an unparseable error body to quote back to the caller.
const ERROR_BODY_QUOTE_CHARS: usize = 200;

/// A tenant's way to its warehouse: pooled HTTP client plus middleware.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    tenant: Arc<str>,
    service: UpstreamService,
}

/// A tenant's `ca_file`: CA certificates its warehouse's certificate may
/// chain to, trusted beside the system's roots, for that tenant only.
#[derive(Clone, PartialEq, Eq)]
pub struct TrustedCa {
    pub path: std::path::PathBuf,
    pub certificates: Vec<rustls_pki_types::CertificateDer<'static>>,
}

impl std::fmt::Debug for TrustedCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedCa")
            .field("path", &self.path)
            .field("certificates", &self.certificates.len())
            .finish()
    }
}

/// One POST to a warehouse, signed and ready to send.
#[derive(Debug)]
pub struct Post {
    /// The protocol's name of the operation, e.g. `createOrder`.
    pub operation: &'static str,
    pub access: Access,
    pub url: Url,
    /// Everything but `Content-Type`, which is always JSON.
    pub headers: HeaderMap,
    /// The exact bytes that were signed.
    pub body: Vec<u8>,
}

impl HttpTransport {
    /// A tenant's transport: every HTTP attempt gives up after `timeout`;
    /// `policy` sets retries and limits (the rate limit kept in Redis with
    /// `shared_limits`); attempts are recorded in `metrics`.
    pub fn for_tenant(
        tenant: Arc<str>,
        timeout: Duration,
        policy: &UpstreamPolicy,
        shared_limits: Option<Arc<SharedLimits>>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, reqwest::Error> {
        Self::for_tenant_trusting(tenant, timeout, policy, None, shared_limits, metrics)
    }

    /// As [`Self::for_tenant`], also trusting `ca` for the warehouse's
    /// certificate. Verification stays on either way.
    pub fn for_tenant_trusting(
        tenant: Arc<str>,
        timeout: Duration,
        policy: &UpstreamPolicy,
        ca: Option<&TrustedCa>,
        shared_limits: Option<Arc<SharedLimits>>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, reqwest::Error> {
        install_crypto_provider();
        let mut builder = reqwest::Client::builder();
        if let Some(ca) = ca {
            let roots = ca
                .certificates
                .iter()
                .map(|der| reqwest::Certificate::from_der(der))
                .collect::<Result<Vec<_>, _>>()?;
            builder = builder.tls_certs_merge(roots);
        }
        let client = builder
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("qlink-facade/", env!("CARGO_PKG_VERSION")))
            // Never follow a redirect: the app key and signature headers
            // would go wherever the answer points, and a 307/308 would send
            // a write's body again. A redirect is an error naming the target.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            tenant,
            service: upstream_stack(ReqwestService { client }, policy, shared_limits, metrics),
        })
    }

    /// The failure `kind` of `operation`, naming this tenant.
    pub fn error(&self, operation: &'static str, kind: UpstreamErrorKind) -> UpstreamError {
        UpstreamError::new(self.tenant.clone(), operation, kind)
    }

    /// Sends `post` under `ctx`: its 2xx answer's body, or why there is none.
    pub async fn post(&self, ctx: &CallContext, post: Post) -> Result<Bytes, UpstreamErrorKind> {
        let Post {
            operation,
            access,
            url,
            mut headers,
            body,
        } = post;
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let call = UpstreamCall {
            tenant: self.tenant.clone(),
            deadline: ctx.deadline,
            span: ctx.span.clone(),
            operation,
            attempt: 1,
            url,
            headers,
            body: Bytes::from(body),
            access,
        };
        self.service.clone().oneshot(call).await
    }
}

/// The innermost service: one HTTP attempt with reqwest.
#[derive(Clone)]
struct ReqwestService {
    client: reqwest::Client,
}

impl Service<UpstreamCall> for ReqwestService {
    type Response = Bytes;
    type Error = UpstreamErrorKind;
    type Future = Pin<Box<dyn Future<Output = Result<Bytes, UpstreamErrorKind>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: UpstreamCall) -> Self::Future {
        // The headers are moved in whole, not inserted one by one into the
        // empty map a `RequestBuilder` starts with.
        let mut request = reqwest::Request::new(reqwest::Method::POST, call.url);
        *request.headers_mut() = call.headers;
        *request.body_mut() = Some(call.body.into());
        let response = self.client.execute(request);
        Box::pin(async move {
            let response = response.await.map_err(classify)?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let redirected_to = status
                .is_redirection()
                .then(|| response.headers().get(LOCATION))
                .flatten()
                .map(|location| String::from_utf8_lossy(location.as_bytes()).into_owned());
            let body = response.bytes().await.map_err(classify)?;
            if status.is_success() {
                return Ok(body);
            }
            let message = match redirected_to {
                Some(location) => format!(
                    "redirects to {}, which is not followed: point the tenant's base URL there",
                    quote(&location)
                ),
                None => error_words(&body),
            };
            Err(UpstreamErrorKind::Http {
                status: status.as_u16(),
                message,
                retry_after,
            })
        })
    }
}

/// Installs rustls' ring provider once per process; reqwest needs one
/// before any client is built.
pub fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Another part of the process may have installed one already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn classify(err: reqwest::Error) -> UpstreamErrorKind {
    // `without_url`: a configured URL may carry credentials in its query.
    let err = err.without_url();
    if let Some(refusal) = certificate_refusal(&err) {
        UpstreamErrorKind::UntrustedCertificate(refusal)
    } else if err.is_timeout() {
        UpstreamErrorKind::Timeout
    } else if err.is_connect() {
        UpstreamErrorKind::Connect(root_cause(&err))
    } else {
        UpstreamErrorKind::Transport(root_cause(&err))
    }
}

/// rustls' words when it refused the warehouse's certificate somewhere in
/// `err`'s chain. rustls' error sits inside an `io::Error` (inside another),
/// whose `source()` skips what it wraps, so each one is looked into too.
fn certificate_refusal(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause = Some(err);
    while let Some(err) = cause {
        let mut inner: &(dyn std::error::Error + 'static) = err;
        while let Some(wrapped) = inner
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            inner = wrapped;
        }
        if let Some(
            refusal @ (rustls::Error::InvalidCertificate(_)
            | rustls::Error::NoCertificatesPresented
            | rustls::Error::UnsupportedNameType),
        ) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(refusal.to_string());
        }
        cause = err.source();
    }
    None
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// The warehouse's own words from an error body: its `errorMsg` or `message`
/// when the body is JSON, else the start of the body.
fn error_words(body: &[u8]) -> String {
    if let Ok(serde_json::Value::Object(fields)) = tolerant::parse(body) {
        for key in ["errorMsg", "message", "msg", "error"] {
            if let Some(words) = fields.get(key).map(tolerant::string_of)
                && !words.is_empty()
            {
                return words;
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "empty body".to_owned();
    }
    quote(text)
}

/// At most [`ERROR_BODY_QUOTE_CHARS`] of a warehouse's text.
fn quote(text: &str) -> String {
    text.chars().take(ERROR_BODY_QUOTE_CHARS).collect()
}
