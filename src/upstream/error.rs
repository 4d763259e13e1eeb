//! What can go wrong talking to a warehouse, with the context a caller and an
//! operator need: tenant, operation, and the warehouse's own words. Never a
//! credential, a header or a query string. And what can go wrong setting a
//! tenant's protocol client up, which stops start-up.

use std::{sync::Arc, time::Duration};

/// A failed call to a warehouse.
#[derive(Debug, thiserror::Error)]
#[error("tenant {tenant}: {operation}: {kind}")]
pub struct UpstreamError {
    /// The tenant whose warehouse failed.
    pub tenant: Arc<str>,
    /// The protocol operation, e.g. `createOrder`.
    pub operation: &'static str,
    /// What happened.
    pub kind: UpstreamErrorKind,
}

/// What happened on a failed call.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamErrorKind {
    /// No connection could be made: the request provably never left.
    #[error("cannot connect to the warehouse: {0}")]
    Connect(String),
    /// The warehouse's TLS certificate was not trusted: the handshake
    /// failed, so the request never left. Holds rustls' words.
    #[error(
        "the warehouse's TLS certificate was not trusted ({0}): if a private CA signed it, give the tenant ca_file = that CA's PEM file"
    )]
    UntrustedCertificate(String),
    /// The warehouse did not answer in time; the request may have arrived.
    #[error("the warehouse did not answer in time")]
    Timeout,
    /// The connection failed after the request may have been sent.
    #[error("transport error talking to the warehouse: {0}")]
    Transport(String),
    /// The warehouse answered with a non-success HTTP status.
    #[error("the warehouse answered HTTP {status}: {message}")]
    Http {
        status: u16,
        /// The warehouse's words (its `errorMsg`/`message`, or the start of the body).
        message: String,
        /// The `Retry-After` the warehouse asked for.
        retry_after: Option<Duration>,
    },
    /// The answer was not the JSON the protocol promises.
    #[error("the warehouse answered with malformed JSON: {0}")]
    Malformed(String),
    /// The caller's deadline passed before the warehouse answered (or before
    /// a retry or rate-limit wait could fit).
    #[error("the call's deadline passed before the warehouse answered")]
    DeadlineExceeded,
    /// The tenant's rate limit does not allow another call before the deadline.
    #[error("the tenant's rate limit allows the next call in {} ms", retry_after.as_millis())]
    RateLimited { retry_after: Duration },
    /// The tenant's `max_in_flight` calls are busy and this one could not
    /// wait for a slot: the queue was full, or its deadline came first.
    #[error("{reason}; try again in {} ms", retry_after.as_millis())]
    Overloaded {
        reason: Overload,
        /// When the calls queued now should have had their turn.
        retry_after: Duration,
    },
    /// The warehouse understood and refused (`success: false`).
    #[error("the warehouse rejected the request: {message}")]
    Rejected {
        /// The warehouse's words.
        message: String,
        /// The warehouse's error code, when it sends one.
        code: String,
    },
}

/// Why a call found no slot among the tenant's calls in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Overload {
    #[error(
        "too many calls in flight to this warehouse: {max_in_flight} in flight and {max_queued} queued already"
    )]
    QueueFull {
        max_in_flight: usize,
        max_queued: usize,
    },
    #[error(
        "too many calls in flight to this warehouse: none of the {max_in_flight} in flight finished in the {} ms this call could wait",
        waited.as_millis()
    )]
    Waited {
        max_in_flight: usize,
        waited: Duration,
    },
}

impl UpstreamError {
    pub fn new(tenant: Arc<str>, operation: &'static str, kind: UpstreamErrorKind) -> Self {
        Self {
            tenant,
            operation,
            kind,
        }
    }

    /// Whether trying again may succeed (reads only: see
    /// [`Self::provably_not_sent`] for writes).
    pub fn is_retryable(&self) -> bool {
        self.kind.is_transient()
    }

    /// Whether the request never reached the warehouse, so even a write may
    /// be sent again without risk of doing it twice.
    pub fn provably_not_sent(&self) -> bool {
        self.kind.provably_not_sent()
    }

    /// Whether a write may have taken effect although it failed: the
    /// warehouse may have got it and its answer was lost (a timeout, a
    /// connection that broke after sending, an HTTP 5xx, an answer we could
    /// not read). A refusal, or an HTTP status saying the request itself
    /// was not taken (4xx, a redirect), is definite.
    pub fn may_have_reached_warehouse(&self) -> bool {
        match &self.kind {
            UpstreamErrorKind::Timeout
            | UpstreamErrorKind::Transport(_)
            | UpstreamErrorKind::Malformed(_)
            | UpstreamErrorKind::DeadlineExceeded => true,
            UpstreamErrorKind::Http { status, .. } => *status >= 500 || *status == 408,
            UpstreamErrorKind::Connect(_)
            | UpstreamErrorKind::UntrustedCertificate(_)
            | UpstreamErrorKind::RateLimited { .. }
            | UpstreamErrorKind::Overloaded { .. }
            | UpstreamErrorKind::Rejected { .. } => false,
        }
    }
}

impl UpstreamErrorKind {
    /// Whether the fault may go away on a second try.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Connect(_) | Self::Timeout | Self::Transport(_) => true,
            Self::Http { status, .. } => *status == 429 || *status >= 500,
            // A certificate does not become trusted a moment later.
            Self::Malformed(_)
            | Self::UntrustedCertificate(_)
            | Self::Rejected { .. }
            | Self::DeadlineExceeded
            | Self::RateLimited { .. }
            | Self::Overloaded { .. } => false,
        }
    }

    /// Whether the request provably never reached the warehouse.
    pub fn provably_not_sent(&self) -> bool {
        matches!(
            self,
            Self::Connect(_)
                | Self::UntrustedCertificate(_)
                | Self::RateLimited { .. }
                | Self::Overloaded { .. }
        )
    }
}

/// A tenant's protocol client cannot be built from its configuration. The
/// value itself is never quoted: it may be a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("base_url: not a URL requests can be sent to: {0}")]
    BaseUrl(String),
    #[error("the `{0}` header value is not one HTTP can carry")]
    Header(&'static str),
}
