//! What a process keeps in memory of its writes: who waits for a key to
//! settle, and the successes it settled or read, so that a repeat is
//! answered without a round trip to the store.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
};

use tokio::sync::Notify;

use super::KEPT_ANSWERS;
use crate::{domain::fingerprint::Fingerprint, store::WriteKey};

/// Wakes this process's waiting duplicates when a key settles.
#[derive(Debug, Default)]
pub(super) struct Settled {
    by_key: Mutex<std::collections::HashMap<WriteKey, Arc<Notify>>>,
}

impl Settled {
    pub(super) fn notify_for(&self, key: &WriteKey) -> Arc<Notify> {
        self.by_key
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(key.clone())
            .or_default()
            .clone()
    }

    pub(super) fn wake(&self, key: &WriteKey) {
        let notify = self
            .by_key
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
        if let Some(notify) = notify {
            notify.notify_waiters();
        }
    }
}

/// A settled success as a repeat needs it.
#[derive(Debug, Clone)]
pub(super) struct KeptAnswer {
    pub(super) fingerprint: Fingerprint,
    pub(super) answer: Arc<str>,
    pub(super) expires_at_ms: i64,
}

/// The successes this process settled or read, at most [`KEPT_ANSWERS`].
/// A copy is as good as the row: only a success's own window ends it.
#[derive(Debug, Default)]
pub(super) struct KeptAnswers {
    inner: Mutex<KeptAnswersInner>,
}

#[derive(Debug, Default)]
struct KeptAnswersInner {
    by_key: HashMap<WriteKey, KeptAnswer>,
    /// Keys in the order they were remembered, to forget the oldest.
    order: VecDeque<WriteKey>,
}

impl KeptAnswers {
    pub(super) fn get(&self, key: &WriteKey, now_ms: i64) -> Option<KeptAnswer> {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner
            .by_key
            .get(key)
            .filter(|kept| kept.expires_at_ms > now_ms)
            .cloned()
    }

    pub(super) fn remember(&self, key: &WriteKey, kept: KeptAnswer) {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if inner.by_key.insert(key.clone(), kept).is_some() {
            return;
        }
        inner.order.push_back(key.clone());
        while inner.order.len() > KEPT_ANSWERS {
            if let Some(oldest) = inner.order.pop_front() {
                inner.by_key.remove(&oldest);
            }
        }
    }
}
