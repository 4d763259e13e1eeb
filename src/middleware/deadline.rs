//! The outermost upstream layer: a call fails with
//! [`UpstreamErrorKind::DeadlineExceeded`] once its deadline passes,
//! whatever the layers below are doing (retrying, backing off, waiting for
//! the rate limit). The deadline travels with each [`UpstreamCall`].

use std::future::Future;

use bytes::Bytes;
use tokio::time::Instant;
use tower::{Service, ServiceExt};

use super::UpstreamCall;
use crate::upstream::UpstreamErrorKind;

/// `inner`, bounded by each call's deadline.
pub fn enforce<S>(
    inner: S,
) -> impl Service<
    UpstreamCall,
    Response = Bytes,
    Error = UpstreamErrorKind,
    Future = impl Future<Output = Result<Bytes, UpstreamErrorKind>> + Send + 'static,
> + Clone
+ Send
+ Sync
+ 'static
where
    S: Service<UpstreamCall, Response = Bytes, Error = UpstreamErrorKind>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
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
