//! Push events: what a tenant's Qianyi warehouse pushes to the webhooks
//! (`webhook`), kept in the [`Store`](crate::store::Store), and the
//! `Watch*Events` streams that replay and follow them (`watch`).

#[cfg(test)]
mod fuzz;
pub mod watch;
pub mod webhook;

use std::time::SystemTime;

use secrecy::SecretString;
use serde::Serialize;

use crate::domain::{AsnReceipt, AsnStatus, OrderStatus};

/// A tenant's `push = { extra_type, access_id, secret_key }`.
#[derive(Debug, Clone)]
pub struct PushConfig {
    /// The `{warehouseExtraType}` of the webhook paths.
    pub extra_type: String,
    /// The `accessId` the warehouse signs with.
    pub access_id: String,
    /// The key the warehouse's signatures are verified with.
    pub secret_key: SecretString,
}

/// An outbound-order status push (`pushOrderInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct OrderEvent {
    pub order_number: String,
    pub online_order_id: String,
    pub warehouse_code: String,
    pub customer_code: String,
    pub carrier: String,
    pub track_number: String,
    pub warehouse_order_number: String,
    pub wms_status: String,
    pub status: Option<OrderStatus>,
    pub shipping_time_ms: Option<i64>,
    /// (sku, quantity)
    pub items: Vec<(String, i64)>,
    pub error_msg: String,
}

/// An inbound-order push (`pushAsnInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AsnEvent {
    pub asn_number: String,
    pub warehouse_code: String,
    pub customer_code: String,
    pub wms_status: String,
    pub status: Option<AsnStatus>,
    pub reference_number: String,
    pub finish_time_ms: Option<i64>,
    pub update_time_ms: Option<i64>,
    pub items: Vec<AsnReceipt>,
    pub batch_no: String,
}

/// One kept event, read back from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<T> {
    /// From the tenant's one sequence, which both kinds share: unique per
    /// tenant, increasing within each kind.
    pub id: u64,
    pub received_at: SystemTime,
    pub body: T,
}
