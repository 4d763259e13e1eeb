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
    /// Increasing per tenant and kind, across restarts too: see
    /// [`first_event_id`].
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

/// The first event id of a log started at `started`: microseconds since the
/// Unix epoch. Events are kept in memory only, so a restarted facade starts
/// a new log; had it counted from 1 again, a watcher resuming after an id
/// from before the restart would silently skip that many new events. Ids
/// that start at the clock keep increasing across restarts unless more than
/// a million events a second arrived, or the clock went back.
pub fn first_event_id(started: SystemTime) -> u64 {
    started
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(1, |since| {
            u64::try_from(since.as_micros()).unwrap_or(u64::MAX / 2)
        })
        .max(1)
}

impl<T> Default for EventLog<T> {
    fn default() -> Self {
        Self::starting_at(first_event_id(SystemTime::now()))
    }
}

impl<T> EventLog<T> {
    /// An empty log whose first event gets `first_id`.
    pub fn starting_at(first_id: u64) -> Self {
        Self {
            events: Mutex::new(Kept {
                next_id: first_id,
                events: VecDeque::new(),
            }),
            latest: watch::Sender::new(0),
        }
    }

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
        let log = EventLog::<u32>::starting_at(1);
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
    fn ids_keep_increasing_across_a_restart() {
        let started = SystemTime::now();
        let before_restart = EventLog::<u32>::starting_at(first_event_id(started));
        let mut last_seen = 0;
        for n in 0..1_000 {
            last_seen = before_restart.append_unless(n, |_| false).expect("kept");
        }
        // Restarting takes far longer than a millisecond.
        let after_restart = EventLog::<u32>::starting_at(first_event_id(
            started + std::time::Duration::from_millis(1),
        ));
        let first_new = after_restart.append_unless(0, |_| false).expect("kept");
        assert!(first_new > last_seen, "{first_new} > {last_seen}");
        assert_eq!(after_restart.after(last_seen, 10).len(), 1);
        assert_eq!(first_event_id(SystemTime::UNIX_EPOCH), 1);
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
        let log = EventLog::<usize>::starting_at(1);
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
        let id = log.append_unless(1, |_| false);
        changes.changed().await.expect("sender alive");
        assert_eq!(Some(*changes.borrow_and_update()), id);
    }
}
