//! The caller's deadline, carried from the gRPC handler to every upstream
//! attempt in a task-local, so retries and rate-limit waits fit inside it.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::time::Instant;
use tower::{Layer, Service};

use super::{DEFAULT_CALL_DEADLINE, UpstreamCall};
use crate::upstream::UpstreamErrorKind;

tokio::task_local! {
    static DEADLINE: Instant;
}

/// Runs `future` with `deadline` as the deadline of every upstream call it makes.
pub async fn with_deadline<F: Future>(deadline: Instant, future: F) -> F::Output {
    DEADLINE.scope(deadline, future).await
}

/// The deadline of the current call: the caller's, or the default from now.
pub fn current() -> Instant {
    DEADLINE
        .try_with(|deadline| *deadline)
        .unwrap_or_else(|_| Instant::now() + DEFAULT_CALL_DEADLINE)
}

/// Parses a `grpc-timeout` header value (`100m`, `5S`, `2H` …).
pub fn parse_grpc_timeout(value: &str) -> Option<std::time::Duration> {
    use std::time::Duration;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// Fails a call with [`UpstreamErrorKind::DeadlineExceeded`] once the
/// current deadline passes, whatever the layers below are doing.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeadlineLayer;

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadline { inner }
    }
}

/// See [`DeadlineLayer`].
#[derive(Debug, Clone)]
pub struct Deadline<S> {
    inner: S,
}

impl<S> Service<UpstreamCall> for Deadline<S>
where
    S: Service<UpstreamCall, Error = UpstreamErrorKind>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
{
    type Response = S::Response;
    type Error = UpstreamErrorKind;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, UpstreamErrorKind>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, call: UpstreamCall) -> Self::Future {
        let deadline = current();
        let future = self.inner.call(call);
        Box::pin(async move {
            if Instant::now() >= deadline {
                return Err(UpstreamErrorKind::DeadlineExceeded);
            }
            match tokio::time::timeout_at(deadline, future).await {
                Ok(result) => result,
                Err(_) => Err(UpstreamErrorKind::DeadlineExceeded),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn grpc_timeout_units() {
        assert_eq!(parse_grpc_timeout("100m"), Some(Duration::from_millis(100)));
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("123456789S"), None);
        assert_eq!(parse_grpc_timeout("5x"), None);
        assert_eq!(parse_grpc_timeout(""), None);
    }

    #[tokio::test]
    async fn the_task_local_deadline_applies_and_defaults() {
        let soon = Instant::now() + Duration::from_millis(50);
        assert_eq!(with_deadline(soon, async { current() }).await, soon);
        assert!(current() > Instant::now() + Duration::from_secs(20));
    }
}
