//! qlink's [`Signer`] for the shared [`Client`](crate::upstream::client::Client):
//! each operation goes to its own path, `{base_url}/global-api/v1/warehouse/
//! {operation}`, with the credential headers and the `sign` header over the
//! exact body. The URLs and headers are built once, when the tenant is.

use reqwest::{
    Url,
    header::{HeaderMap, HeaderName, HeaderValue},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use warehouse_protocol::{
    Operation, Protocol, SECRET_HEADER, WAREHOUSE_TYPE_HEADER, qlink, sign::qlink_sign,
};

use crate::upstream::{
    QlinkCredentials, SetupError, UpstreamErrorKind,
    client::{Signed, Signer, credential_headers, endpoint},
};

pub(super) struct QlinkSigner {
    /// `{base_url}/global-api/v1/warehouse/{operation}`, per operation.
    urls: Vec<(Operation, Url)>,
    /// Every header but `sign`.
    headers: HeaderMap,
    app_key: String,
    app_secret: SecretString,
}

impl QlinkSigner {
    pub fn new(base_url: &str, credentials: &QlinkCredentials) -> Result<Self, SetupError> {
        let prefix = endpoint(&format!(
            "{}{}/",
            base_url.trim_end_matches('/'),
            qlink::PATH_PREFIX
        ))?;
        let urls = Operation::ALL
            .into_iter()
            .map(|operation| {
                let url = prefix.join(operation.name(Protocol::Qlink));
                let url = url.map_err(|err| SetupError::BaseUrl(err.to_string()))?;
                Ok((operation, url))
            })
            .collect::<Result<_, SetupError>>()?;
        Ok(Self {
            urls,
            headers: fixed_headers(credentials)?,
            app_key: credentials.app_key.clone(),
            app_secret: credentials.app_secret.clone(),
        })
    }

    /// Where `operation` is sent: built for every operation with the signer.
    pub(super) fn url(&self, operation: Operation) -> Option<&Url> {
        let mut urls = self.urls.iter();
        urls.find(|(known, _)| *known == operation)
            .map(|(_, url)| url)
    }
}

impl Signer for QlinkSigner {
    const PROTOCOL: Protocol = Protocol::Qlink;

    /// The body as it is, signed in the `sign` header.
    fn sign(&self, operation: Operation, body: String) -> Result<Signed, UpstreamErrorKind> {
        let sign = qlink_sign(&self.app_key, &body, self.app_secret.expose_secret());
        let mut headers = self.headers.clone();
        // A hex digest is always a valid header value.
        if let Ok(sign) = HeaderValue::try_from(sign) {
            headers.insert(HeaderName::from_static(qlink::SIGN_HEADER), sign);
        }
        let url = self.url(operation).cloned().ok_or_else(|| {
            let why = "the operation has no URL; nothing was sent".to_owned();
            UpstreamErrorKind::Connect(why)
        })?;
        Ok(Signed {
            url,
            headers,
            body: body.into_bytes(),
        })
    }
}

/// The credential headers of every request (all but `sign`).
fn fixed_headers(credentials: &QlinkCredentials) -> Result<HeaderMap, SetupError> {
    let auth_info = match credentials.auth_info.as_slice() {
        [] => None,
        entries => Some(auth_info(entries)?),
    };
    credential_headers([
        (
            qlink::APP_KEY_HEADER,
            "appKey",
            Some(credentials.app_key.as_str()),
            false,
        ),
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
        (
            qlink::AUTH_INFO_HEADER,
            "authInfo",
            auth_info.as_deref(),
            true,
        ),
    ])
}

/// The `authInfo` header's JSON: `[{"authInfoKey":…,"value":…}]`.
fn auth_info(entries: &[crate::upstream::AuthInfo]) -> Result<String, SetupError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Entry<'a> {
        auth_info_key: &'a str,
        value: &'a str,
    }
    let entries: Vec<Entry<'_>> = entries
        .iter()
        .map(|entry| Entry {
            auth_info_key: &entry.key,
            value: entry.value.expose_secret(),
        })
        .collect();
    serde_json::to_string(&entries).map_err(|_| SetupError::Header("authInfo"))
}

fn exposed(secret: &Option<SecretString>) -> Option<&str> {
    secret.as_ref().map(ExposeSecret::expose_secret)
}
