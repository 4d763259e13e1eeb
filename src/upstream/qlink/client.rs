//! The qlink client: one [`Client::call`] per operation, driven by the
//! protocol's operation table. It encodes the body, signs exactly those
//! bytes, sends them to the operation's path with the credential headers
//! (built once, with the URLs, when the tenant is) and reads the answer's
//! envelope. It never logs headers, bodies or secrets.

use reqwest::{
    Url,
    header::{HeaderMap, HeaderName, HeaderValue},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use warehouse_protocol::{
    Envelope, Operation, Protocol, SECRET_HEADER, WAREHOUSE_TYPE_HEADER, qlink, sign::qlink_sign,
};

use crate::domain::CallContext;
use crate::upstream::http::{HttpTransport, Post};
use crate::upstream::requests::encode;
use crate::upstream::{QlinkCredentials, SetupError, UpstreamError, UpstreamErrorKind};

pub(super) struct Client {
    /// `{base_url}/global-api/v1/warehouse/{operation}`, per operation.
    urls: Vec<(Operation, Url)>,
    /// Every header but `sign`.
    headers: HeaderMap,
    app_key: String,
    app_secret: SecretString,
    transport: HttpTransport,
}

impl Client {
    pub fn new(
        base_url: &str,
        credentials: &QlinkCredentials,
        transport: HttpTransport,
    ) -> Result<Self, SetupError> {
        let endpoint = format!("{}{}/", base_url.trim_end_matches('/'), qlink::PATH_PREFIX);
        let endpoint = Url::parse(&endpoint).map_err(|err| SetupError::BaseUrl(err.to_string()))?;
        let urls = Operation::ALL
            .into_iter()
            .map(|operation| {
                let url = endpoint.join(operation.name(Protocol::Qlink));
                Ok((
                    operation,
                    url.map_err(|err| SetupError::BaseUrl(err.to_string()))?,
                ))
            })
            .collect::<Result<_, SetupError>>()?;
        Ok(Self {
            urls,
            headers: fixed_headers(credentials)?,
            app_key: credentials.app_key.clone(),
            app_secret: credentials.app_secret.clone(),
            transport,
        })
    }

    /// Calls `operation` with `body` and reads the answer with `read`.
    pub async fn call<T>(
        &self,
        ctx: &CallContext,
        operation: Operation,
        body: &impl Serialize,
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
        body: &impl Serialize,
    ) -> Result<Post, UpstreamError> {
        let name = operation.name(Protocol::Qlink);
        let body = encode(body).map_err(|kind| self.transport.error(name, kind))?;
        let sign = qlink_sign(&self.app_key, &body, self.app_secret.expose_secret());
        let mut headers = self.headers.clone();
        // A hex digest is always a valid header value.
        if let Ok(sign) = HeaderValue::try_from(sign) {
            headers.insert(HeaderName::from_static(qlink::SIGN_HEADER), sign);
        }
        let url = self.url(operation).cloned().ok_or_else(|| {
            let why = "the operation has no URL; nothing was sent".to_owned();
            self.transport.error(name, UpstreamErrorKind::Connect(why))
        })?;
        Ok(Post {
            operation: name,
            access: operation.access(),
            url,
            headers,
            body: body.into_bytes(),
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

    /// Where `operation` is sent: built for every operation with the client.
    pub(super) fn url(&self, operation: Operation) -> Option<&Url> {
        let mut urls = self.urls.iter();
        urls.find(|(known, _)| *known == operation)
            .map(|(_, url)| url)
    }

    pub fn error(&self, operation: Operation, kind: UpstreamErrorKind) -> UpstreamError {
        self.transport.error(operation.name(Protocol::Qlink), kind)
    }
}

/// The credential headers of every request (all but `sign`); a value HTTP
/// cannot carry is named, never quoted (it may be a secret).
fn fixed_headers(credentials: &QlinkCredentials) -> Result<HeaderMap, SetupError> {
    let mut headers = HeaderMap::new();
    let mut add = |name: &'static str, label: &'static str, text: &str, sensitive: bool| {
        // `from_bytes` takes UTF-8 text beyond ASCII; only control characters fail.
        let mut value =
            HeaderValue::from_bytes(text.as_bytes()).map_err(|_| SetupError::Header(label))?;
        value.set_sensitive(sensitive);
        headers.insert(HeaderName::from_static(name), value);
        Ok::<_, SetupError>(())
    };
    add(qlink::APP_KEY_HEADER, "appKey", &credentials.app_key, false)?;
    let optional = [
        (
            WAREHOUSE_TYPE_HEADER,
            "warehouseType",
            credentials.warehouse_type.as_deref(),
            false,
        ),
        (SECRET_HEADER, "secret", exposed(&credentials.secret), true),
        (
            qlink::ACCESS_TOKEN_HEADER,
            "accessToken",
            exposed(&credentials.access_token),
            true,
        ),
        (
            qlink::REFRESH_TOKEN_HEADER,
            "refreshToken",
            exposed(&credentials.refresh_token),
            true,
        ),
        (
            qlink::API_URL_HEADER,
            "apiUrl",
            credentials.api_url.as_deref(),
            false,
        ),
    ];
    for (name, label, text, sensitive) in optional {
        if let Some(text) = text {
            add(name, label, text, sensitive)?;
        }
    }
    if !credentials.auth_info.is_empty() {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Entry<'a> {
            auth_info_key: &'a str,
            value: &'a str,
        }
        let entries: Vec<Entry<'_>> = credentials
            .auth_info
            .iter()
            .map(|entry| Entry {
                auth_info_key: &entry.key,
                value: entry.value.expose_secret(),
            })
            .collect();
        let json = serde_json::to_string(&entries).map_err(|_| SetupError::Header("authInfo"))?;
        add(qlink::AUTH_INFO_HEADER, "authInfo", &json, true)?;
    }
    Ok(headers)
}

fn exposed(secret: &Option<SecretString>) -> Option<&str> {
    secret.as_ref().map(ExposeSecret::expose_secret)
}
