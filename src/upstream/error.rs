//! What can go wrong talking to a warehouse, with the context a caller and an
//! operator need: tenant, operation, and the warehouse's own words. Never a
//! credential, a header or a query string.

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
    /// The warehouse understood and refused (`success: false`).
    #[error("the warehouse rejected the request: {message}")]
    Rejected {
        /// The warehouse's words.
        message: String,
        /// The warehouse's error code, when it sends one.
        code: String,
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
        match &self.kind {
            UpstreamErrorKind::Connect(_)
            | UpstreamErrorKind::Timeout
            | UpstreamErrorKind::Transport(_) => true,
            UpstreamErrorKind::Http { status, .. } => *status == 429 || *status >= 500,
            UpstreamErrorKind::Malformed(_) | UpstreamErrorKind::Rejected { .. } => false,
        }
    }

    /// Whether the request never reached the warehouse, so even a write may
    /// be sent again without risk of doing it twice.
    pub fn provably_not_sent(&self) -> bool {
        matches!(self.kind, UpstreamErrorKind::Connect(_))
    }
}
