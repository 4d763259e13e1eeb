//! The outermost upstream layer: a call fails with
//! [`UpstreamErrorKind::DeadlineExceeded`] once its deadline passes,
//! whatever the layers below are doing (retrying, backing off, waiting for
//! the rate limit). The deadline travels with each [`UpstreamCall`].

use tokio::time::Instant;
use tower::ServiceExt;

use super::{Upstream, UpstreamCall};
use crate::upstream::UpstreamErrorKind;

/// `inner`, bounded by each call's deadline.
pub fn enforce(inner: impl Upstream) -> impl Upstream {
    tower::service_fn(move |call: UpstreamCall| {
        let deadline = call.deadline;
        let bounded = inner.clone().oneshot(call);
        async move {
            if Instant::now() >= deadline {
                return Err(UpstreamErrorKind::DeadlineExceeded);
            }
            tokio::time::timeout_at(deadline, bounded)
                .await
                .unwrap_or(Err(UpstreamErrorKind::DeadlineExceeded))
        }
    })
}
