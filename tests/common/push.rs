//! Pushing to the facade's webhooks as a Qianyi warehouse does, and stores
//! to keep them in.

use std::{path::PathBuf, time::Duration};

use futures::{Stream, StreamExt};
use qlink_facade::proto::{WatchAsnEventsResponse, WatchOrderEventsResponse};
use qlink_facade::{
    config::Config,
    demo::{DEMO_PUSH_ACCESS_ID, DEMO_PUSH_EXTRA_TYPE, DEMO_PUSH_SECRET_KEY},
    simulator::SimulatorHandle,
    store::{StoreConfig, StoreLocation},
    upstream::sign::qianyi_sign,
};
use serde_json::{Value, json};
use tonic::Streaming;

use super::{Caller, Facade, QIANYI, demo_against, next_ok, test_simulator_config};

/// A `pushOrderInfo` content as the spec's example sends it.
pub const ORDER_PUSH: &str = r#"{"orderNumber":"DA250117100074","onlineOrderId":"","warehouseCode":"XY002","carrier":"UPS","trackNumber":"1Z999","warehouseOrderNumber":"W1","wmsStatus":"Shipped","status":"SUCCESS","shippingTime":1744098883894,"skuList":{"sku":"60000-test02","quantity":4},"errorMsg":""}"#;

pub fn odo_path() -> String {
    format!("/sys/automatic/receiveOdo/{DEMO_PUSH_EXTRA_TYPE}")
}

pub fn asn_path() -> String {
    format!("/sys/automatic/receiveAsn/{DEMO_PUSH_EXTRA_TYPE}")
}

/// POSTs a push signed as the spec says; returns (HTTP status, answer).
pub async fn push_to(
    facade: &Facade,
    path: &str,
    method: &str,
    content: &str,
    secret: &str,
) -> (u16, Value) {
    let body = signed_push(method, content, secret);
    send_push(&reqwest::Client::new(), facade.http_addr, path, body)
        .await
        .expect("push")
}

/// The body of a push signed with `secret`, as the spec's section 12 says.
pub fn signed_push(method: &str, content: &str, secret: &str) -> String {
    json!({
        "accessId": DEMO_PUSH_ACCESS_ID,
        "method": method,
        "content": content,
        "sign": qianyi_sign(DEMO_PUSH_ACCESS_ID, content, secret),
    })
    .to_string()
}

/// POSTs a push body to the HTTP listener at `http_addr`; (HTTP status,
/// answer), or why it could not be sent.
pub async fn send_push(
    client: &reqwest::Client,
    http_addr: std::net::SocketAddr,
    path: &str,
    body: String,
) -> Result<(u16, Value), String> {
    qlink_facade::upstream::install_crypto_provider();
    let response = client
        .post(format!("http://{http_addr}{path}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|err| err.to_string())?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|err| err.to_string())?;
    let answer = serde_json::from_str(&text).map_err(|err| format!("{err}: {text}"))?;
    Ok((status, answer))
}

/// `ORDER_PUSH`'s content for `orderNumber` `number` and `status`.
pub fn order_push(number: &str, status: &str) -> String {
    ORDER_PUSH
        .replace("DA250117100074", number)
        .replace(r#""status":"SUCCESS""#, &format!(r#""status":"{status}""#))
}

/// A tenant's order events after `after`, as they come.
pub async fn order_stream(
    channel: tonic::transport::Channel,
    after: u64,
) -> Result<Streaming<WatchOrderEventsResponse>, tonic::Status> {
    Caller::new(channel, QIANYI).watch_orders(after).await
}

/// A tenant's ASN events after `after`, as they come.
pub async fn asn_stream(
    channel: tonic::transport::Channel,
    after: u64,
) -> Result<Streaming<WatchAsnEventsResponse>, tonic::Status> {
    Caller::new(channel, QIANYI).watch_asns(after).await
}

/// A push's answer, (HTTP status, body): taken, `success:true`.
pub fn assert_taken(answer: &(u16, Value)) {
    let (status, body) = answer;
    assert_eq!((*status, &body["success"]), (200, &json!(true)), "{body}");
}

/// A push's answer, (HTTP status, body): refused in the body, with HTTP
/// 200, as Qianyi's own API answers.
pub fn assert_refused(answer: &(u16, Value)) {
    let (status, body) = answer;
    assert_eq!((*status, &body["success"]), (200, &json!(false)), "{body}");
}

/// Pushes an order's status (`pushOrderInfo`), signed with the demo secret.
pub async fn push_order(facade: &Facade, content: &str) -> (u16, Value) {
    push_to(
        facade,
        &odo_path(),
        "pushOrderInfo",
        content,
        DEMO_PUSH_SECRET_KEY,
    )
    .await
}

/// Pushes an ASN's receiving (`pushAsnInfo`), signed with the demo secret.
pub async fn push_asn(facade: &Facade, content: &str) -> (u16, Value) {
    push_to(
        facade,
        &asn_path(),
        "pushAsnInfo",
        content,
        DEMO_PUSH_SECRET_KEY,
    )
    .await
}

/// A `pushAsnInfo` content for `asnNumber` `number` and batch `batch_no`.
pub fn asn_push(number: &str, batch_no: &str) -> String {
    format!(
        r#"{{"asnNumber":"{number}","warehouseCode":"Test-bin","wmsStatus":"RECEIVING","referenceNumber":"{number}","updateTime":1744098883894,"skuList":{{"sku":"V-012B-R","estimatedQuantity":121,"receivedQuantity":2,"goodQuantity":2,"badQuantity":0}},"batchNo":"{batch_no}"}}"#
    )
}

/// The first order event a watcher from the start gets.
pub async fn first_order_event(facade: &Facade) -> WatchOrderEventsResponse {
    let mut stream = order_stream(facade.channel(), 0).await.expect("watch");
    next_ok(&mut stream).await
}

/// The (event id, order number) of every order event a watcher from the
/// start gets within a short wait.
pub async fn watched_orders(facade: &Facade) -> Vec<(u64, String)> {
    let stream = order_stream(facade.channel(), 0).await.expect("watch");
    drain(stream, |event| (event.event_id, event.order_number)).await
}

/// The (event id, ASN number) of every ASN event a watcher from the start
/// gets within a short wait.
pub async fn watched_asns(facade: &Facade) -> Vec<(u64, String)> {
    let stream = asn_stream(facade.channel(), 0).await.expect("watch");
    drain(stream, |event| (event.event_id, event.asn_number)).await
}

/// What `stream` yields until it is quiet for a moment.
pub async fn drain<M, T>(
    mut stream: impl Stream<Item = Result<M, tonic::Status>> + Unpin,
    seen: impl Fn(M) -> T,
) -> Vec<T> {
    let mut kept = Vec::new();
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(300), stream.next()).await
    {
        kept.push(seen(event.expect("event")));
    }
    kept
}

/// A SQLite file under the system's temp dir that no other test uses
/// (removed, with its write-ahead log, when dropped).
pub struct ScratchDb(pub PathBuf);

impl ScratchDb {
    pub fn new(name: &str) -> Self {
        Self(std::env::temp_dir().join(format!(
            "qlink-facade-{name}-{}-{:016x}.db",
            std::process::id(),
            fastrand::u64(..)
        )))
    }

    /// A store config for this file.
    pub fn store(&self) -> StoreConfig {
        StoreConfig::at(StoreLocation::Sqlite(self.0.clone()))
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.0.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    }
}

/// A simulator, and the demo config against it with the store `store`.
pub async fn demo_with_store(store: StoreConfig) -> (SimulatorHandle, Config) {
    let (simulator, mut config) = demo_against(test_simulator_config()).await;
    config.store = store;
    (simulator, config)
}
