//! A bounded number of upstream calls in flight per tenant, with a bounded
//! queue in front of them. A call over `max_in_flight` waits its turn (in
//! arrival order) while its deadline allows; it is refused
//! ([`UpstreamErrorKind::Overloaded`]) only when `max_queued` calls wait
//! already or its deadline comes before a slot frees. So a burst is smoothed
//! instead of shed, while one slow warehouse still cannot pile up memory or
//! starve the others, which have their own slots and queue.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{
    sync::{Semaphore, SemaphorePermit},
    time::Instant,
};
use tower::ServiceExt;

use super::{Upstream, UpstreamCall};
use crate::{
    metrics::{Held, Metrics},
    upstream::{Overload, UpstreamErrorKind},
};

/// The shortest and longest `RetryInfo` delay a refusal suggests.
const RETRY_HINT_RANGE: (Duration, Duration) = (Duration::from_millis(10), Duration::from_secs(10));

/// One tenant's slots and queue, shared by all its calls.
#[derive(Debug)]
pub struct InFlight {
    slots: Semaphore,
    max_in_flight: usize,
    max_queued: usize,
    /// Calls waiting for a slot now.
    queued: AtomicUsize,
    /// How long a call holds its slot, on average (µs, a moving average):
    /// only for the delay a refusal suggests.
    mean_hold_micros: AtomicU64,
}

impl InFlight {
    /// `max_in_flight` slots (at least one) and room for `max_queued`
    /// waiting calls (0: refuse at once when every slot is taken).
    pub fn new(max_in_flight: usize, max_queued: usize) -> Arc<Self> {
        let max_in_flight = max_in_flight.max(1);
        Arc::new(Self {
            slots: Semaphore::new(max_in_flight),
            max_in_flight,
            max_queued,
            queued: AtomicUsize::new(0),
            mean_hold_micros: AtomicU64::new(0),
        })
    }

    /// A slot for a call of `tenant`: at once when one is free, else after
    /// waiting in the queue until `deadline` at the latest.
    async fn slot(
        &self,
        tenant: &str,
        operation: &'static str,
        deadline: Instant,
        metrics: &Metrics,
    ) -> Result<SemaphorePermit<'_>, UpstreamErrorKind> {
        // Tokio's semaphore hands freed permits to waiters first, so this
        // never jumps the queue.
        if let Ok(slot) = self.slots.try_acquire() {
            return Ok(slot);
        }
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return Err(self.refuse(
                tenant,
                operation,
                metrics,
                Overload::QueueFull {
                    max_in_flight: self.max_in_flight,
                    max_queued: self.max_queued,
                },
            ));
        }
        // Leaves the queue however the wait ends, the caller going away included.
        let _in_queue = Queued(&self.queued);
        let started = Instant::now();
        let waited = tokio::time::timeout_at(deadline, self.slots.acquire()).await;
        metrics.record_queue_wait(tenant, started.elapsed().as_secs_f64());
        match waited {
            Ok(Ok(slot)) => Ok(slot),
            // Past the deadline (the semaphore is never closed).
            Ok(Err(_)) | Err(_) => Err(self.refuse(
                tenant,
                operation,
                metrics,
                Overload::Waited {
                    max_in_flight: self.max_in_flight,
                    waited: started.elapsed(),
                },
            )),
        }
    }

    /// Refuses a call of `tenant` for `reason`: counted as shed, logged,
    /// and suggesting a retry once the calls queued now would have had
    /// their turn.
    fn refuse(
        &self,
        tenant: &str,
        operation: &'static str,
        metrics: &Metrics,
        reason: Overload,
    ) -> UpstreamErrorKind {
        metrics.record_held(tenant, Held::LoadShed);
        tracing::warn!(
            tenant,
            operation,
            ?reason,
            "no upstream slot for the call; refusing"
        );
        let queued = self.queued.load(Ordering::Relaxed).max(1) as u64;
        let hold = self.mean_hold_micros.load(Ordering::Relaxed);
        let drain = Duration::from_micros(queued.saturating_mul(hold) / self.max_in_flight as u64);
        UpstreamErrorKind::Overloaded {
            reason,
            retry_after: drain.clamp(RETRY_HINT_RANGE.0, RETRY_HINT_RANGE.1),
        }
    }

    /// Folds one call's time in its slot into the moving average (weight
    /// 1/8). Concurrent updates may overwrite each other: a hint needs no more.
    fn record_hold(&self, held: Duration) {
        let sample = u64::try_from(held.as_micros()).unwrap_or(u64::MAX);
        let mean = self.mean_hold_micros.load(Ordering::Relaxed);
        let updated = mean - mean / 8 + sample / 8;
        self.mean_hold_micros.store(updated, Ordering::Relaxed);
    }
}

/// A place in the queue, given up on drop.
struct Queued<'a>(&'a AtomicUsize);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// `inner`, with at most the tenant's `max_in_flight` calls through it at
/// once and the next `max_queued` waiting their turn.
pub fn limit(
    inner: impl Upstream,
    in_flight: Arc<InFlight>,
    metrics: Arc<Metrics>,
) -> impl Upstream {
    tower::service_fn(move |call: UpstreamCall| {
        let (inner, in_flight, metrics) = (inner.clone(), in_flight.clone(), metrics.clone());
        async move {
            let _slot = in_flight
                .slot(&call.tenant, call.operation, call.deadline, &metrics)
                .await?;
            let started = Instant::now();
            let answer = inner.oneshot(call).await;
            in_flight.record_hold(started.elapsed());
            answer
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::sync::Notify;

    use super::*;

    /// A call of tenant `t` due by `deadline`.
    fn call(deadline: Instant) -> UpstreamCall {
        UpstreamCall {
            tenant: Arc::from("t"),
            deadline,
            span: tracing::Span::none(),
            operation: "initWarehouses",
            attempt: 1,
            url: "http://127.0.0.1:9/".parse().expect("url"),
            headers: Default::default(),
            body: Default::default(),
            access: warehouse_protocol::Access::Read,
        }
    }

    /// An upstream that answers once `release` is notified.
    fn held_upstream(release: Arc<Notify>) -> impl Upstream {
        tower::service_fn(move |_call: UpstreamCall| {
            let release = release.clone();
            async move {
                release.notified().await;
                Ok::<_, UpstreamErrorKind>(bytes::Bytes::from_static(b"{}"))
            }
        })
    }

    /// One slot and room for one queued call, in front of an upstream
    /// that answers a call each time `release` is notified.
    struct OneSlot<S> {
        release: Arc<Notify>,
        in_flight: Arc<InFlight>,
        service: S,
    }

    fn one_slot_one_queued() -> OneSlot<impl Upstream> {
        let release = Arc::new(Notify::new());
        let in_flight = InFlight::new(1, 1);
        let service = limit(
            held_upstream(release.clone()),
            in_flight.clone(),
            Metrics::shared(),
        );
        OneSlot {
            release,
            in_flight,
            service,
        }
    }

    #[tokio::test]
    async fn a_call_past_the_slots_queues_and_runs_when_one_frees() {
        let OneSlot {
            release, service, ..
        } = one_slot_one_queued();
        let later = Instant::now() + Duration::from_secs(10);
        let first = tokio::spawn(service.clone().oneshot(call(later)));
        let second = tokio::spawn(service.clone().oneshot(call(later)));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!second.is_finished(), "the second call waits in the queue");
        release.notify_one();
        first.await.expect("join").expect("the first call answers");
        release.notify_one();
        second
            .await
            .expect("join")
            .expect("the queued call answers");
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_with_a_delay_to_retry_after() {
        let OneSlot { service, .. } = one_slot_one_queued();
        let later = Instant::now() + Duration::from_secs(10);
        let _held = tokio::spawn(service.clone().oneshot(call(later)));
        let _queued = tokio::spawn(service.clone().oneshot(call(later)));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let refused = service.oneshot(call(later)).await.expect_err("no room");
        let UpstreamErrorKind::Overloaded {
            reason,
            retry_after,
        } = refused
        else {
            panic!("{refused:?}");
        };
        assert!(
            matches!(
                reason,
                Overload::QueueFull {
                    max_in_flight: 1,
                    max_queued: 1
                }
            ),
            "{reason:?}"
        );
        assert!(retry_after >= RETRY_HINT_RANGE.0, "{retry_after:?}");
    }

    #[tokio::test]
    async fn a_queued_call_whose_deadline_comes_first_is_refused_and_leaves_the_queue() {
        let OneSlot {
            in_flight, service, ..
        } = one_slot_one_queued();
        let _held = tokio::spawn(
            service
                .clone()
                .oneshot(call(Instant::now() + Duration::from_secs(10))),
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        let started = Instant::now();
        let refused = service
            .clone()
            .oneshot(call(Instant::now() + Duration::from_millis(100)))
            .await
            .expect_err("no slot in time");
        assert!(
            started.elapsed() >= Duration::from_millis(90),
            "{:?}",
            started.elapsed()
        );
        assert!(
            matches!(
                refused,
                UpstreamErrorKind::Overloaded {
                    reason: Overload::Waited { .. },
                    ..
                }
            ),
            "{refused:?}"
        );
        assert_eq!(
            in_flight.queued.load(Ordering::Relaxed),
            0,
            "the queue is empty again"
        );
    }
}
