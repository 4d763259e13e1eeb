//! Push events: what a tenant's Qianyi warehouse pushes to the webhooks
//! (`webhook`), kept per tenant in a bounded [`EventLog`] that the
//! `Watch*Events` RPCs read and follow; in memory, or also in a
//! [`journal`] on disk when the tenant's `push.store` names a directory.

pub mod journal;
pub mod webhook;

use std::{
    collections::VecDeque,
    io,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime},
};

use secrecy::SecretString;
use serde_json::Value;
use tokio::sync::watch;

use journal::{Journal, JournalError};

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
    /// A directory to journal kept pushes in (`orders.jsonl`, `asns.jsonl`),
    /// so they survive a restart; `None` keeps them in memory only.
    pub store: Option<PathBuf>,
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
    /// Drawn from the tenant's one [`EventIds`], which both kinds share:
    /// unique per tenant, increasing within each kind, across restarts too.
    pub id: u64,
    pub received_at: SystemTime,
    pub body: T,
}

/// The sequence a tenant's event ids are drawn from. Its order log and its
/// ASN log share one, so an order event and an ASN event never get the same
/// id: a client may key both kinds by `event_id`.
#[derive(Debug)]
pub struct EventIds {
    next: AtomicU64,
}

impl EventIds {
    /// A sequence whose first id is `first`.
    pub fn starting_at(first: u64) -> Arc<Self> {
        Arc::new(Self {
            next: AtomicU64::new(first),
        })
    }

    /// A sequence starting at the clock: see [`first_event_id`].
    pub fn starting_now() -> Arc<Self> {
        Self::starting_at(first_event_id(SystemTime::now()))
    }

    /// Makes every later id exceed `kept`, an id a journal holds.
    fn continue_after(&self, kept: u64) {
        self.next
            .fetch_max(kept.saturating_add(1), Ordering::Relaxed);
    }

    /// The next id. Drawn under the log's lock, so one log's ids rise in
    /// the order its events are kept; a push that is then not kept leaves a
    /// gap, which is harmless, as the other log's ids are gaps already.
    fn draw(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }
}

/// A bounded, append-only log of events that watchers follow.
#[derive(Debug)]
pub struct EventLog<T> {
    events: Mutex<Kept<T>>,
    latest: watch::Sender<u64>,
}

#[derive(Debug)]
struct Kept<T> {
    ids: Arc<EventIds>,
    events: VecDeque<Arc<Event<T>>>,
    /// How many events are kept.
    capacity: usize,
    journal: Option<Journal>,
}

/// The first event id of a tenant's logs started at `started`: microseconds
/// since the Unix epoch. Logs kept in memory only start afresh after a
/// restart; had they counted from 1 again, a watcher resuming after an id
/// from before the restart would silently skip that many new events. Ids
/// that start at the clock keep increasing across restarts unless more than
/// a million events a second arrived, or the clock went back. Journaled logs
/// also continue after the last id either of them holds.
pub fn first_event_id(started: SystemTime) -> u64 {
    started
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(1, |since| {
            u64::try_from(since.as_micros()).unwrap_or(u64::MAX / 2)
        })
        .max(1)
}

impl<T> Default for EventLog<T> {
    /// An empty in-memory log with ids of its own, starting at the clock.
    fn default() -> Self {
        Self::drawing_from(EventIds::starting_now())
    }
}

impl<T> EventLog<T> {
    /// An empty in-memory log with ids of its own, the first `first_id`.
    pub fn starting_at(first_id: u64) -> Self {
        Self::drawing_from(EventIds::starting_at(first_id))
    }

    /// An empty in-memory log whose events get their ids from `ids`.
    pub fn drawing_from(ids: Arc<EventIds>) -> Self {
        Self {
            events: Mutex::new(Kept {
                ids,
                events: VecDeque::new(),
                capacity: EVENTS_KEPT,
                journal: None,
            }),
            latest: watch::Sender::new(0),
        }
    }

    /// A log journaled at `path`, holding the newest `capacity` events the
    /// journal has; `read` turns a pushed content back into an event, and
    /// content it cannot read is skipped with a warning. New events get
    /// their ids from `ids`, which is moved past every id the journal holds.
    pub fn open(
        path: &Path,
        capacity: usize,
        ids: Arc<EventIds>,
        read: impl Fn(&Value) -> Option<T>,
    ) -> Result<Self, JournalError> {
        let (journal, entries, mut skipped) = Journal::open(path)?;
        let mut events = VecDeque::with_capacity(entries.len().min(capacity));
        let mut last_id = 0;
        for entry in entries {
            // Ids must rise through the log, for `after`'s binary search.
            if entry.id <= last_id {
                skipped += 1;
                continue;
            }
            last_id = entry.id;
            match read(&entry.content) {
                Some(body) => {
                    if events.len() == capacity {
                        events.pop_front();
                    }
                    events.push_back(Arc::new(Event {
                        id: entry.id,
                        received_at: entry.received_at,
                        body,
                    }));
                }
                None => skipped += 1,
            }
        }
        if skipped > 0 {
            tracing::warn!(
                journal = %path.display(),
                skipped,
                "journal lines that could not be read were skipped"
            );
        }
        ids.continue_after(last_id);
        Ok(Self {
            events: Mutex::new(Kept {
                ids,
                events,
                capacity,
                journal: Some(journal),
            }),
            latest: watch::Sender::new(last_id),
        })
    }

    /// Appends unless `is_duplicate`, given the kept events newest first,
    /// says `body` repeats them; returns the new event's id, or `None` for a
    /// duplicate. Newest first, so a caller can compare with the latest
    /// event about the same thing. A journaled log first writes `content`
    /// (what the warehouse pushed) to disk and syncs it, and keeps nothing
    /// when that fails.
    pub fn append_unless(
        &self,
        body: T,
        content: &Value,
        is_duplicate: impl FnOnce(NewestFirst<'_, T>) -> bool,
    ) -> io::Result<Option<u64>> {
        let id = {
            let mut kept = self
                .events
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if is_duplicate(NewestFirst(kept.events.iter().rev())) {
                return Ok(None);
            }
            let id = kept.ids.draw();
            // Whole milliseconds, as the journal stores them, so an event
            // reads the same before and after a restart.
            let received_at = SystemTime::UNIX_EPOCH
                + Duration::from_millis(journal::millis_since_epoch(SystemTime::now()));
            let capacity = kept.capacity;
            if let Some(journal) = &mut kept.journal {
                // Pushes are rare; a synced write under the lock keeps the
                // journal in id order.
                journal.append(id, received_at, content)?;
                if let Err(err) = journal.compact(capacity) {
                    tracing::warn!(error = %err, "cannot compact a push journal; it keeps growing");
                }
            }
            if kept.events.len() >= capacity {
                kept.events.pop_front();
            }
            kept.events.push_back(Arc::new(Event {
                id,
                received_at,
                body,
            }));
            id
        };
        self.latest.send_replace(id);
        Ok(Some(id))
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

/// The bodies of a log's kept events, newest first: what
/// [`EventLog::append_unless`] asks about.
pub struct NewestFirst<'a, T>(std::iter::Rev<std::collections::vec_deque::Iter<'a, Arc<Event<T>>>>);

impl<'a, T> Iterator for NewestFirst<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        self.0.next().map(|event| &event.body)
    }
}

/// A tenant's push events, both kinds, their ids from one [`EventIds`].
#[derive(Debug)]
pub struct TenantEvents {
    pub orders: EventLog<OrderEvent>,
    pub asns: EventLog<AsnEvent>,
    /// Held while the logs are journaled: one process per store.
    _store_lock: Option<std::fs::File>,
}

impl Default for TenantEvents {
    /// Both logs in memory only, sharing ids that start at the clock.
    fn default() -> Self {
        let ids = EventIds::starting_now();
        Self {
            orders: EventLog::drawing_from(ids.clone()),
            asns: EventLog::drawing_from(ids),
            _store_lock: None,
        }
    }
}

impl TenantEvents {
    /// Both logs journaled in `store` (created if missing), with what the
    /// journals already hold. Fails while another process (or another
    /// `TenantEvents`) has the store open: two writers would interleave ids.
    pub fn open(store: &Path) -> Result<Self, JournalError> {
        std::fs::create_dir_all(store).map_err(JournalError::at(store))?;
        let lock_path = store.join("lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(JournalError::at(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(JournalError::at(store)(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "another facade process has this push store open",
                )));
            }
            Err(std::fs::TryLockError::Error(err)) => {
                return Err(JournalError::at(&lock_path)(err));
            }
        }
        // Opening each log moves the shared ids past what its journal
        // holds, so the first new id exceeds every kept one of both kinds.
        let ids = EventIds::starting_now();
        let orders = EventLog::open(
            &store.join("orders.jsonl"),
            EVENTS_KEPT,
            ids.clone(),
            |content| webhook::order_event(content).ok(),
        )?;
        let asns = EventLog::open(&store.join("asns.jsonl"), EVENTS_KEPT, ids, |content| {
            webhook::asn_event(content).ok()
        })?;
        Ok(Self {
            _store_lock: Some(lock),
            orders,
            asns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_reads_resume_after_an_id() {
        let log = EventLog::<u32>::starting_at(1);
        for n in 0..5 {
            assert_eq!(
                log.append_unless(n, &Value::Null, |_| false)
                    .expect("memory"),
                Some(u64::from(n) + 1)
            );
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
            last_seen = before_restart
                .append_unless(n, &Value::Null, |_| false)
                .expect("memory")
                .expect("kept");
        }
        // Restarting takes far longer than a millisecond.
        let after_restart = EventLog::<u32>::starting_at(first_event_id(
            started + std::time::Duration::from_millis(1),
        ));
        let first_new = after_restart
            .append_unless(0, &Value::Null, |_| false)
            .expect("memory")
            .expect("kept");
        assert!(first_new > last_seen, "{first_new} > {last_seen}");
        assert_eq!(after_restart.after(last_seen, 10).len(), 1);
        assert_eq!(first_event_id(SystemTime::UNIX_EPOCH), 1);
    }

    #[test]
    fn a_journaled_log_comes_back_after_a_restart_and_continues() {
        let dir = journal::tests::scratch_dir("log");
        let path = dir.join("orders.jsonl");
        let read = |content: &Value| content.get("n").and_then(Value::as_u64);
        let ids: Vec<u64> = {
            let log = EventLog::open(&path, 3, EventIds::starting_now(), read).expect("open");
            (1..=5)
                .map(|n| {
                    log.append_unless(n, &serde_json::json!({ "n": n }), |_| false)
                        .expect("journaled")
                        .expect("kept")
                })
                .collect()
        };
        let reopened = EventLog::open(&path, 3, EventIds::starting_now(), read).expect("reopen");
        let kept: Vec<(u64, u64)> = reopened
            .after(0, 10)
            .iter()
            .map(|event| (event.id, event.body))
            .collect();
        assert_eq!(kept, vec![(ids[2], 3), (ids[3], 4), (ids[4], 5)]);
        assert_eq!(*reopened.subscribe().borrow(), ids[4]);
        // A repeat of a kept push is still recognised after the restart.
        assert_eq!(
            reopened
                .append_unless(5, &serde_json::json!({ "n": 5 }), |mut newest_first| {
                    newest_first.any(|kept| *kept == 5)
                })
                .expect("journaled"),
            None
        );
        let next = reopened
            .append_unless(6, &serde_json::json!({ "n": 6 }), |_| false)
            .expect("journaled")
            .expect("kept");
        assert!(next > ids[4]);
        assert_eq!(reopened.after(ids[4], 10).len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Appends an order or ASN event as the webhooks would; returns its id.
    fn keep(events: &TenantEvents, order: bool, number: &str) -> u64 {
        let kept = if order {
            let content = serde_json::json!({ "orderNumber": number });
            let body = webhook::order_event(&content).expect("an order push");
            events.orders.append_unless(body, &content, |_| false)
        } else {
            let content = serde_json::json!({ "asnNumber": number });
            let body = webhook::asn_event(&content).expect("an asn push");
            events.asns.append_unless(body, &content, |_| false)
        };
        kept.expect("kept").expect("not a duplicate")
    }

    fn assert_rising(ids: &[u64]) {
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
    }

    #[test]
    fn a_tenants_order_and_asn_events_never_share_an_id() {
        let events = TenantEvents::default();
        let (mut orders, mut asns) = (Vec::new(), Vec::new());
        // Enough that two sequences started at the clock a moment apart
        // would overlap.
        for n in 0..1_000 {
            let number = format!("N-{n}");
            orders.push(keep(&events, true, &number));
            asns.push(keep(&events, false, &number));
            if n % 2 == 0 {
                asns.push(keep(&events, false, &format!("{number}-again")));
            }
        }
        assert_rising(&orders);
        assert_rising(&asns);
        let mut all: Vec<u64> = orders.iter().chain(&asns).copied().collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), orders.len() + asns.len(), "{orders:?} {asns:?}");
    }

    #[test]
    fn after_a_restart_a_store_continues_after_the_ids_of_both_kinds() {
        let dir = journal::tests::scratch_dir("shared-ids");
        let (last_order, last_asn) = {
            let events = TenantEvents::open(&dir).expect("open");
            let last_order = keep(&events, true, "O-1");
            // The ASN log holds the newest id of all.
            let last_asn = (0..3)
                .map(|n| keep(&events, false, &format!("A-{n}")))
                .last()
                .expect("three ASN events");
            (last_order, last_asn)
        };
        assert!(last_asn > last_order);
        let reopened = TenantEvents::open(&dir).expect("reopen");
        let next_order = keep(&reopened, true, "O-2");
        assert!(next_order > last_asn, "{next_order} > {last_asn}");
        let next_asn = keep(&reopened, false, "A-3");
        assert!(next_asn > next_order, "{next_asn} > {next_order}");
        let kept: Vec<u64> = reopened.orders.after(0, 10).iter().map(|e| e.id).collect();
        assert_eq!(kept, [last_order, next_order]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_store_whose_journals_share_ids_ahead_of_the_clock_continues_with_distinct_ones() {
        // What a store written before the two kinds shared their ids may
        // hold, read back after the clock went back: the same id in both.
        let dir = journal::tests::scratch_dir("legacy-ids");
        let ahead = first_event_id(SystemTime::now()) + 3_600_000_000;
        let at = SystemTime::now();
        for (file, content) in [
            ("orders.jsonl", serde_json::json!({ "orderNumber": "O-1" })),
            ("asns.jsonl", serde_json::json!({ "asnNumber": "A-1" })),
        ] {
            let (mut journal, _, _) = Journal::open(&dir.join(file)).expect("open");
            journal.append(ahead, at, &content).expect("append");
        }
        let events = TenantEvents::open(&dir).expect("open");
        let (order, asn) = (keep(&events, true, "O-2"), keep(&events, false, "A-2"));
        assert!(order > ahead && asn > ahead, "{order} {asn} > {ahead}");
        assert_ne!(order, asn);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_store_is_open_in_one_place_at_a_time() {
        let dir = journal::tests::scratch_dir("locked");
        let first = TenantEvents::open(&dir).expect("open");
        let err = TenantEvents::open(&dir).expect_err("already open");
        assert!(err.to_string().contains("another facade process"), "{err}");
        drop(first);
        TenantEvents::open(&dir).expect("open again once released");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_store_that_cannot_be_a_directory_is_an_error_naming_it() {
        let dir = journal::tests::scratch_dir("not-a-dir");
        let file = dir.join("plain-file");
        std::fs::write(&file, b"x").expect("write");
        let err = TenantEvents::open(&file.join("store")).expect_err("not a directory");
        assert!(err.to_string().contains("plain-file"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn duplicates_are_not_appended() {
        let log = EventLog::<u32>::default();
        log.append_unless(7, &Value::Null, |_| false)
            .expect("memory");
        let repeat = log.append_unless(7, &Value::Null, |mut newest_first| {
            newest_first.any(|kept| *kept == 7)
        });
        assert_eq!(repeat.expect("memory"), None);
        assert_eq!(log.after(0, 10).len(), 1);
    }

    #[test]
    fn duplicates_are_judged_against_the_kept_events_newest_first() {
        let log = EventLog::<u32>::default();
        for n in 1..=3 {
            log.append_unless(n, &Value::Null, |_| false)
                .expect("memory");
        }
        let mut seen = Vec::new();
        log.append_unless(4, &Value::Null, |newest_first| {
            seen.extend(newest_first.copied());
            false
        })
        .expect("memory");
        assert_eq!(seen, [3, 2, 1]);
    }

    #[test]
    fn the_oldest_are_dropped_beyond_the_bound() {
        let log = EventLog::<usize>::starting_at(1);
        for n in 0..EVENTS_KEPT + 3 {
            log.append_unless(n, &Value::Null, |_| false)
                .expect("memory");
        }
        let kept = log.after(0, usize::MAX);
        assert_eq!(kept.len(), EVENTS_KEPT);
        assert_eq!(kept[0].id, 4);
    }

    #[tokio::test]
    async fn watchers_hear_of_new_events() {
        let log = EventLog::<u32>::default();
        let mut changes = log.subscribe();
        let id = log
            .append_unless(1, &Value::Null, |_| false)
            .expect("memory");
        changes.changed().await.expect("sender alive");
        assert_eq!(Some(*changes.borrow_and_update()), id);
    }
}
