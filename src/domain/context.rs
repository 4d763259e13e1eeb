//! The call context: what one API call hands every backend call it makes,
//! and the backend every upstream attempt: when the caller stops waiting,
//! and the span the attempts' traces continue. Passed by hand, so a backend
//! that runs work elsewhere (another task, a stream polled later) keeps it.

use std::time::Duration;

use tokio::time::Instant;

/// The deadline of a call whose caller set none.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// See the module docs.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// Every attempt, backoff and rate-limit wait of the call fits before it;
    /// past it the call fails with `DeadlineExceeded` at once.
    pub deadline: Instant,
    /// The call's span: each upstream attempt's span is its child, and its
    /// trace context goes to the warehouse.
    pub span: tracing::Span,
}

impl CallContext {
    /// A call that ends at `deadline`, in the current span.
    pub fn until(deadline: Instant) -> Self {
        Self {
            deadline,
            span: tracing::Span::current(),
        }
    }

    /// A call that may take `timeout` from now, in the current span.
    pub fn within(timeout: Duration) -> Self {
        Self::until(Instant::now() + timeout)
    }
}
