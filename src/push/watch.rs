//! Following one of a tenant's event streams: replay from the store in
//! pages after the watcher's cursor, then wait for a wake-up (or a second
//! at most, in case one was lost) and read after the cursor again. The
//! cursor only moves past events delivered, so replay and live meet with no
//! gap and no repeat. A spawned pager per watcher writes into a small
//! bounded channel and stops when the watcher goes away; a slow watcher
//! only holds its own pager.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use serde_json::Value;
use tokio::sync::mpsc;
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
/// kept), each turned into `M` by `convert`.
pub fn follow<T: Pushed, M: Send + 'static>(
    store: Arc<dyn Store>,
    tenant: Arc<str>,
    after: u64,
    convert: fn(Event<T>) -> M,
) -> ReceiverStream<Result<M, WatchError>> {
    let (sender, receiver) = mpsc::channel(EVENTS_IN_FLIGHT);
    tokio::spawn(async move {
        let mut changes = store.changes(&tenant);
        let mut cursor = after;
        loop {
            changes.borrow_and_update();
            let page = match next_page::<T>(&*store, &tenant, cursor).await {
                Ok(page) => page,
                Err(err) => {
                    let _ = sender.send(Err(err)).await;
                    return;
                }
            };
            if page.is_empty() {
                tokio::select! {
                    changed = changes.changed() => if changed.is_err() { return },
                    () = tokio::time::sleep(POLL_EVERY) => {},
                    () = sender.closed() => return,
                }
                continue;
            }
            for (id, event) in page {
                cursor = id;
                let Some(event) = event else { continue };
                if sender.send(Ok(convert(event))).await.is_err() {
                    return;
                }
            }
        }
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
