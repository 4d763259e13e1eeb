//! A bounded number of upstream calls in flight per tenant. When all permits
//! are taken a call fails at once ([`UpstreamErrorKind::Overloaded`]) rather
//! than queueing without bound: one slow warehouse cannot pile up memory or
//! starve the others, which have their own permits.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::{Upstream, UpstreamCall};
use crate::{metrics::Metrics, upstream::UpstreamErrorKind};

/// `inner`, with at most `permits` calls in flight through it; one more
/// fails at once, recorded as shed.
pub fn limit(
    inner: impl Upstream,
    permits: Arc<Semaphore>,
    metrics: Arc<Metrics>,
) -> impl Upstream {
    tower::service_fn(move |call: UpstreamCall| {
        let permit = permits.clone().try_acquire_owned();
        if permit.is_err() {
            metrics.record_load_shed(&call.tenant);
            tracing::warn!(tenant = %call.tenant, operation = call.operation, "too many upstream calls in flight; shedding");
        }
        let inner = inner.clone();
        async move {
            let Ok(_permit) = permit else {
                return Err(UpstreamErrorKind::Overloaded);
            };
            inner.oneshot(call).await
        }
    })
}

/// The permits of `max_in_flight` calls (at least one).
pub fn permits(max_in_flight: usize) -> Arc<Semaphore> {
    Arc::new(Semaphore::new(max_in_flight.max(1)))
}
