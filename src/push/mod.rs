//! Push events: what a tenant's Qianyi warehouse pushes to the webhooks
//! (`webhook`), kept per tenant in a bounded [`EventLog`] that the
//! `Watch*Events` RPCs read and follow.

pub mod webhook;

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::SystemTime,
};

use secrecy::SecretString;
use tokio::sync::watch;

use crate::domain::{AsnReceipt, AsnStatus, OrderStatus};

/// Events kept per tenant and kind; older ones are dropped first.
pub const EVENTS_KEPT: usize = 10_000;

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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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

/// One kept event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<T> {
    /// Increasing per tenant and kind, from 1.
    pub id: u64,
    pub received_at: SystemTime,
    pub body: T,
}

/// A bounded, append-only log of events that watchers follow.
#[derive(Debug)]
pub struct EventLog<T> {
    events: Mutex<Kept<T>>,
    latest: watch::Sender<u64>,
}

#[derive(Debug)]
struct Kept<T> {
    next_id: u64,
    events: VecDeque<Arc<Event<T>>>,
}

impl<T> Default for EventLog<T> {
    fn default() -> Self {
        Self {
            events: Mutex::new(Kept {
                next_id: 1,
                events: VecDeque::new(),
            }),
            latest: watch::Sender::new(0),
        }
    }
}

impl<T> EventLog<T> {
    /// Appends unless `is_duplicate` matches a kept event; returns the new
    /// event's id, or `None` for a duplicate.
    pub fn append_unless(&self, body: T, is_duplicate: impl Fn(&T) -> bool) -> Option<u64> {
        let id = {
            let mut kept = self
                .events
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if kept.events.iter().any(|event| is_duplicate(&event.body)) {
                return None;
            }
            let id = kept.next_id;
            kept.next_id += 1;
            if kept.events.len() == EVENTS_KEPT {
                kept.events.pop_front();
            }
            kept.events.push_back(Arc::new(Event {
                id,
                received_at: SystemTime::now(),
                body,
            }));
            id
        };
        self.latest.send_replace(id);
        Some(id)
    }

    /// Up to `max` kept events with an id greater than `after`, oldest first.
    pub fn after(&self, after: u64, max: usize) -> Vec<Arc<Event<T>>> {
        let kept = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let start = kept.events.partition_point(|event| event.id <= after);
        kept.events.range(start..).take(max).cloned().collect()
    }

    /// Changes whenever an event is appended.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }
}

/// A tenant's push events, both kinds.
#[derive(Debug, Default)]
pub struct TenantEvents {
    pub orders: EventLog<OrderEvent>,
    pub asns: EventLog<AsnEvent>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_reads_resume_after_an_id() {
        let log = EventLog::<u32>::default();
        for n in 0..5 {
            assert_eq!(log.append_unless(n, |_| false), Some(u64::from(n) + 1));
        }
        let all: Vec<u64> = log.after(0, 100).iter().map(|e| e.id).collect();
        assert_eq!(all, vec![1, 2, 3, 4, 5]);
        let rest: Vec<u32> = log.after(3, 100).iter().map(|e| e.body).collect();
        assert_eq!(rest, vec![3, 4]);
        assert_eq!(log.after(2, 1).len(), 1);
        assert!(log.after(5, 100).is_empty());
    }

    #[test]
    fn duplicates_are_not_appended() {
        let log = EventLog::<u32>::default();
        log.append_unless(7, |_| false);
        assert_eq!(log.append_unless(7, |kept| *kept == 7), None);
        assert_eq!(log.after(0, 10).len(), 1);
    }

    #[test]
    fn the_oldest_are_dropped_beyond_the_bound() {
        let log = EventLog::<usize>::default();
        for n in 0..EVENTS_KEPT + 3 {
            log.append_unless(n, |_| false);
        }
        let kept = log.after(0, usize::MAX);
        assert_eq!(kept.len(), EVENTS_KEPT);
        assert_eq!(kept[0].id, 4);
    }

    #[tokio::test]
    async fn watchers_hear_of_new_events() {
        let log = EventLog::<u32>::default();
        let mut changes = log.subscribe();
        log.append_unless(1, |_| false);
        changes.changed().await.expect("sender alive");
        assert_eq!(*changes.borrow_and_update(), 1);
    }
}
