//! A warehouse that loses replies: a proxy in front of the simulator that
//! passes every request on, and for the next few requests naming an
//! operation, lets the simulator act on it and then answers HTTP 503
//! instead of its reply (or holds the reply until the caller gives up).

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};

use super::serve_router;

/// How a lost reply is lost.
#[derive(Debug, Clone, Copy)]
pub enum Loss {
    /// The simulator's reply is replaced by HTTP 503.
    Status503,
    /// The reply is held this long: the caller times out first.
    Hold(Duration),
}

#[derive(Clone)]
struct Proxy {
    target: SocketAddr,
    client: reqwest::Client,
    rules: Arc<Mutex<Vec<(String, u32, Loss)>>>,
}

/// The proxy's handle.
#[derive(Clone)]
pub struct LossyUpstream {
    pub addr: SocketAddr,
    rules: Arc<Mutex<Vec<(String, u32, Loss)>>>,
}

impl LossyUpstream {
    /// A proxy to the simulator at `target`.
    pub async fn start(target: SocketAddr) -> Self {
        qlink_facade::upstream::install_crypto_provider();
        let rules = Arc::new(Mutex::new(Vec::new()));
        let proxy = Proxy {
            target,
            client: reqwest::Client::new(),
            rules: rules.clone(),
        };
        let app = Router::new().fallback(forward).with_state(proxy);
        let addr = serve_router(app).await;
        Self { addr, rules }
    }

    /// Loses the replies of the next `times` requests for `operation` (a
    /// qlink path's last part, or a Qianyi `method`).
    pub fn lose(&self, operation: &str, times: u32, loss: Loss) {
        self.rules
            .lock()
            .expect("lock")
            .push((operation.to_owned(), times, loss));
    }

    /// The qlink base URL through the proxy.
    pub fn qlink_base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The Qianyi endpoint through the proxy.
    pub fn qianyi_endpoint(&self) -> String {
        format!("http://{}/qianyi", self.addr)
    }
}

/// The loss for a request, using up one of its rule's times.
fn loss_for(proxy: &Proxy, uri: &Uri, body: &[u8]) -> Option<Loss> {
    let text = String::from_utf8_lossy(body);
    let mut rules = proxy.rules.lock().expect("lock");
    let rule = rules.iter_mut().find(|(operation, times, _)| {
        *times > 0
            && (uri.path().ends_with(&format!("/{operation}"))
                || text.contains(&format!(r#""method":"{operation}""#)))
    })?;
    rule.1 -= 1;
    Some(rule.2)
}

async fn forward(
    State(proxy): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let loss = loss_for(&proxy, &uri, &body);
    let mut request = proxy
        .client
        .request(method, format!("http://{}{}", proxy.target, uri));
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let answer = request.body(body).send().await;
    let Ok(answer) = answer else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = answer.status();
    let content_type = answer.headers().get("content-type").cloned();
    let text = answer.bytes().await.unwrap_or_default();
    match loss {
        Some(Loss::Status503) => (StatusCode::SERVICE_UNAVAILABLE, "reply lost").into_response(),
        Some(Loss::Hold(time)) => {
            tokio::time::sleep(time).await;
            (StatusCode::SERVICE_UNAVAILABLE, "reply lost").into_response()
        }
        None => {
            let mut response = (status, text).into_response();
            if let Some(content_type) = content_type {
                response.headers_mut().insert("content-type", content_type);
            }
            response
        }
    }
}
