//! Following one of a tenant's event streams: replay from the store in
//! pages after the watcher's cursor, then wait for a wake-up (or a second
//! at most, in case one was lost) and read after the cursor again. The
//! cursor only moves past events delivered, so replay and live meet with no
//! gap and no repeat. A spawned pager per watcher writes into a small
//! bounded channel and stops when the watcher goes away; a slow watcher
//! only holds its own pager.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime},
};

use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;

use super::{AsnEvent, Event, OrderEvent, webhook};
use crate::store::{EventKind, Store, StoreError, StoredEvent};

/// Events read from the store at a time at the most.
const PAGE_EVENTS: u32 = 32;
/// Events converted but not yet taken by the watcher.
const EVENTS_IN_FLIGHT: usize = 4;
/// How long a quiet stream waits before it reads again without a wake-up.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// Why a stream ended.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The watcher's cursor is older than retention kept: it missed events.
    #[error(
        "events after event_id {after} were pruned by retention (the newest pruned is {pruned_through}); {}",
        match oldest { Some(id) => format!("the oldest kept is {id}: resume from 0 to replay what is kept"), None => "none is kept now: resume from 0".to_owned() }
    )]
    Pruned {
        after: u64,
        pruned_through: u64,
        oldest: Option<u64>,
    },
    #[error("cannot read the kept events: {0}")]
    Store(#[from] StoreError),
    /// The tenant has as many streams open as it may.
    #[error(
        "tenant {tenant} has {limit} event streams open, as many as it may ([server] max_watch_streams)"
    )]
    TooMany { tenant: Arc<str>, limit: usize },
    /// The server is shutting down; another replica (or this one, restarted)
    /// takes the watcher from its cursor.
    #[error("the server is shutting down: resume with after_event_id {cursor}")]
    ShuttingDown { cursor: u64 },
}

/// The open event streams: at most `per_tenant` for each tenant, and every
/// one ends as soon as shutdown begins, so watchers do not hold up the
/// drain of unary calls.
#[derive(Debug, Clone)]
pub struct Watches {
    per_tenant: usize,
    slots: Arc<Mutex<HashMap<Arc<str>, Arc<Semaphore>>>>,
    draining: watch::Receiver<bool>,
}

/// One open stream's place among its tenant's.
#[derive(Debug)]
pub struct WatchSlot {
    _permit: OwnedSemaphorePermit,
    draining: watch::Receiver<bool>,
}

impl Watches {
    /// `draining` turns true when shutdown begins.
    pub fn new(per_tenant: usize, draining: watch::Receiver<bool>) -> Self {
        Self {
            per_tenant: per_tenant.max(1),
            slots: Arc::default(),
            draining,
        }
    }

    /// A place for one more stream of `tenant`, or why there is none.
    pub fn open(&self, tenant: &Arc<str>) -> Result<WatchSlot, WatchError> {
        let semaphore = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(tenant.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_tenant)))
            .clone();
        let permit = semaphore
            .try_acquire_owned()
            .map_err(|_| WatchError::TooMany {
                tenant: tenant.clone(),
                limit: self.per_tenant,
            })?;
        Ok(WatchSlot {
            _permit: permit,
            draining: self.draining.clone(),
        })
    }
}

/// A stream's kind of event, read back from its content as pushed.
pub trait Pushed: Sized + Send + 'static {
    const KIND: EventKind;
    fn read(content: &Value) -> Option<Self>;
}

impl Pushed for OrderEvent {
    const KIND: EventKind = EventKind::Order;
    fn read(content: &Value) -> Option<Self> {
        webhook::order_event(content).ok()
    }
}

impl Pushed for AsnEvent {
    const KIND: EventKind = EventKind::Asn;
    fn read(content: &Value) -> Option<Self> {
        webhook::asn_event(content).ok()
    }
}

/// Follows `tenant`'s events of kind `T` after `after` (0: from the oldest
/// kept), each turned into `M` by `convert`, in `slot`.
pub fn follow<T: Pushed, M: Send + 'static>(
    store: Arc<dyn Store>,
    tenant: Arc<str>,
    after: u64,
    convert: fn(Event<T>) -> M,
    slot: WatchSlot,
) -> ReceiverStream<Result<M, WatchError>> {
    let (sender, receiver) = mpsc::channel(EVENTS_IN_FLIGHT);
    tokio::spawn(async move {
        let mut draining = slot.draining.clone();
        let mut changes = store.changes(&tenant);
        // Read by the shutdown arm below while the stream moves it.
        let cursor = AtomicU64::new(after);
        let outcome = async {
            loop {
                changes.borrow_and_update();
                let page = next_page::<T>(&*store, &tenant, cursor.load(Ordering::Relaxed)).await?;
                if page.is_empty() {
                    tokio::select! {
                        changed = changes.changed() => if changed.is_err() { return Ok(()) },
                        () = tokio::time::sleep(POLL_EVERY) => {},
                        () = sender.closed() => return Ok(()),
                    }
                    continue;
                }
                for (id, event) in page {
                    if let Some(event) = event
                        && sender.send(Ok(convert(event))).await.is_err()
                    {
                        return Ok(());
                    }
                    cursor.store(id, Ordering::Relaxed);
                }
            }
        };
        let ended = tokio::select! {
            ended = outcome => ended,
            _ = draining.wait_for(|draining| *draining) => Err(WatchError::ShuttingDown {
                cursor: cursor.load(Ordering::Relaxed),
            }),
        };
        if let Err(err) = ended {
            // A watcher that takes nothing does not hold up the shutdown.
            let _ = tokio::time::timeout(Duration::from_millis(200), sender.send(Err(err))).await;
        }
        drop(slot);
    });
    ReceiverStream::new(receiver)
}

/// Fails when retention has removed events after `cursor` (0 never does).
pub async fn check_cursor<T: Pushed>(
    store: &dyn Store,
    tenant: &str,
    cursor: u64,
) -> Result<(), WatchError> {
    if cursor == 0 {
        return Ok(());
    }
    let kept = store.kept(tenant, T::KIND).await?;
    // Equal is fine: the watcher saw the newest pruned event itself.
    if cursor < kept.pruned_through {
        return Err(WatchError::Pruned {
            after: cursor,
            pruned_through: kept.pruned_through,
            oldest: kept.oldest,
        });
    }
    Ok(())
}

/// The events after `cursor`, with their ids; `None` for a content that no
/// longer reads as an event (skipped, but the cursor moves past it).
/// Fails when retention has removed events the watcher has not seen.
async fn next_page<T: Pushed>(
    store: &dyn Store,
    tenant: &str,
    cursor: u64,
) -> Result<Vec<(u64, Option<Event<T>>)>, WatchError> {
    let page = store
        .events_after(tenant, T::KIND, cursor, PAGE_EVENTS)
        .await?;
    // Checked after reading: an event pruned meanwhile is then either in
    // the page or counted here, never silently skipped.
    check_cursor::<T>(store, tenant, cursor).await?;
    Ok(page
        .into_iter()
        .map(|stored| (stored.id, read(stored, tenant)))
        .collect())
}

fn read<T: Pushed>(stored: StoredEvent, tenant: &str) -> Option<Event<T>> {
    let body = serde_json::from_str(&stored.content)
        .ok()
        .and_then(|content| T::read(&content));
    if body.is_none() {
        tracing::warn!(
            tenant,
            event_id = stored.id,
            "a kept event no longer reads as a push; skipped"
        );
    }
    Some(Event {
        id: stored.id,
        received_at: SystemTime::UNIX_EPOCH
            + Duration::from_millis(u64::try_from(stored.received_at_ms).unwrap_or(0)),
        body: body?,
    })
}
