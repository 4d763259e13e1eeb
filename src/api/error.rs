//! The one place that decides gRPC status codes and details for every error
//! the facade returns. A unary handler's errors pass through
//! [`FacadeApi::unary`] (a batch handler's through [`FacadeApi::batch`], or
//! [`failed`]), which logs and converts them here.

use std::collections::HashMap;

use futures::future::BoxFuture;

use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

use super::{FacadeApi, convert, status};
use crate::{
    domain::{CallContext, WarehouseBackend},
    tenant::{Tenant, TenantError},
    upstream::{UpstreamError, UpstreamErrorKind},
    writes::WriteError,
};

/// The `domain` of the `google.rpc.ErrorInfo` details the facade sends.
pub const ERROR_DOMAIN: &str = "qlink-facade";

/// The most of a status message, and of any warehouse text in its details,
/// sent to a caller, in bytes. A warehouse that quotes a huge request back
/// must not produce a `grpc-message` that gRPC clients refuse (C-core and
/// grpc-python cap metadata at 8 KiB) so that they never see the error.
pub const RELAYED_TEXT_LIMIT: usize = 1024;

/// `text` cut to at most `limit` bytes, on a character boundary, marked
/// with `…` when cut.
pub fn cut(text: &str, limit: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= limit {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = limit.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!("{}…", &text[..end]))
}

/// What a unary handler answers.
pub(super) type Answer<T> = Result<Response<T>, Status>;

/// A handler's error as the status its caller gets, logged on the way.
pub(super) fn failed(err: impl Into<ApiError>) -> Status {
    status(err.into())
}

impl FacadeApi {
    /// What every unary call does around its own work: the tenant and the
    /// call's context first, then `work` on the request's message; its
    /// answer, or its error as the status.
    pub(super) async fn unary<M, A>(
        &self,
        request: Request<M>,
        work: impl AsyncFnOnce(&Tenant, &CallContext, M) -> Result<A, ApiError>,
    ) -> Answer<A> {
        let (tenant, ctx) = self.begin(&request).map_err(status)?;
        let answer = work(&tenant, &ctx, request.into_inner()).await;
        answer.map(Response::new).map_err(status)
    }

    /// What every batch call does: [`unary`](Self::unary) with the request
    /// read as a [`Batch`](convert::Batch), `call` on the tenant's backend
    /// with its warehouse and items, and `answer` made of each result in its
    /// proto form.
    pub(super) async fn batch<M, I, R, P, A>(
        &self,
        request: Request<M>,
        call: impl for<'a> FnOnce(
            &'a dyn WarehouseBackend,
            &'a CallContext,
            &'a str,
            &'a [I],
        ) -> BoxFuture<'a, Result<Vec<R>, UpstreamError>>,
        answer: impl FnOnce(Vec<P>) -> A,
    ) -> Answer<A>
    where
        convert::Batch<I>: TryFrom<M, Error = Violations>,
        P: From<R>,
    {
        self.unary(request, async |tenant, ctx, request| {
            let batch = convert::Batch::try_from(request)?;
            let backend = tenant.backend.as_ref();
            let results = call(backend, ctx, &batch.warehouse_code, &batch.items).await?;
            Ok(answer(results.into_iter().map(P::from).collect()))
        })
        .await
    }
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error("{0}")]
    Invalid(#[from] Violations),
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// The most field violations one refusal reports. A request with thousands
/// of bad lines must not produce thousands of violations: their details
/// travel in a trailer, which gRPC clients cap at 8 KiB of metadata.
pub const MAX_REPORTED_VIOLATIONS: usize = 16;

/// Field violations found while validating a request: the first
/// [`MAX_REPORTED_VIOLATIONS`], and how many there were.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Violations {
    reported: Vec<(String, String)>,
    found: usize,
}

impl Violations {
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.found += 1;
        if self.reported.len() < MAX_REPORTED_VIOLATIONS {
            self.reported.push((field.into(), description.into()));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.found == 0
    }

    /// `Ok(value)` when nothing was found, else the violations.
    pub fn into_result<T>(self, value: T) -> Result<T, Violations> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// The violations reported (the first found).
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.reported
            .iter()
            .map(|(field, description)| (field.as_str(), description.as_str()))
    }
}

impl std::fmt::Display for Violations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid request")?;
        // First, so that cutting the message to its limit keeps it.
        if self.found > self.reported.len() {
            write!(
                f,
                " ({} problems, the first {} of them)",
                self.found,
                self.reported.len()
            )?;
        }
        for (index, (field, description)) in self.fields().enumerate() {
            f.write_str(if index == 0 { ": " } else { "; " })?;
            write!(f, "{field}: {description}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Violations {}

impl From<ApiError> for Status {
    fn from(err: ApiError) -> Self {
        let message = cut(&err.to_string(), RELAYED_TEXT_LIMIT).into_owned();
        match err {
            ApiError::Tenant(TenantError::Missing) => Status::with_error_details(
                Code::InvalidArgument,
                message,
                ErrorDetails::with_bad_request(vec![FieldViolation::new(
                    "x-tenant-id",
                    "required metadata: the tenant the call is for",
                )]),
            ),
            ApiError::Tenant(TenantError::Invalid(why)) => Status::with_error_details(
                Code::InvalidArgument,
                message,
                ErrorDetails::with_bad_request(vec![FieldViolation::new("x-tenant-id", why)]),
            ),
            ApiError::Tenant(TenantError::Unknown(_)) => Status::not_found(message),
            ApiError::Tenant(TenantError::BadToken(_)) => Status::unauthenticated(message),
            ApiError::Tenant(
                TenantError::OtherTenantsToken(_) | TenantError::ClientNotAllowed { .. },
            ) => Status::permission_denied(message),
            ApiError::Invalid(violations) => Status::with_error_details(
                Code::InvalidArgument,
                message,
                ErrorDetails::with_bad_request(
                    violations
                        .fields()
                        .map(|(field, description)| FieldViolation::new(field, description))
                        .collect::<Vec<_>>(),
                ),
            ),
            ApiError::Upstream(err) | ApiError::Write(WriteError::Upstream(err)) => {
                upstream_status(err, message)
            }
            ApiError::Write(WriteError::Conflict {
                tenant,
                field,
                number,
                ..
            }) => Status::with_error_details(
                Code::AlreadyExists,
                message,
                ErrorDetails::with_error_info(
                    "NUMBER_ALREADY_USED",
                    ERROR_DOMAIN,
                    HashMap::from([
                        ("tenant".to_owned(), tenant.to_string()),
                        (field.to_owned(), number),
                        (
                            "reason".to_owned(),
                            "the number was already used for different content".to_owned(),
                        ),
                    ]),
                ),
            ),
            ApiError::Write(WriteError::Store { .. }) => Status::unavailable(message),
            ApiError::Write(WriteError::StillInFlight { .. }) => Status::deadline_exceeded(message),
        }
    }
}

fn upstream_status(err: UpstreamError, message: String) -> Status {
    match err.kind {
        UpstreamErrorKind::Connect(_)
        | UpstreamErrorKind::Transport(_)
        | UpstreamErrorKind::UntrustedCertificate(_) => Status::unavailable(message),
        UpstreamErrorKind::Timeout | UpstreamErrorKind::DeadlineExceeded => {
            Status::deadline_exceeded(message)
        }
        // The tenant's own limits: its rate, or its calls in flight and
        // queued (the warehouse is busy with this tenant's other calls).
        UpstreamErrorKind::RateLimited { retry_after }
        | UpstreamErrorKind::Overloaded { retry_after, .. } => {
            let mut details = ErrorDetails::new();
            details.set_retry_info(Some(retry_after));
            Status::with_error_details(Code::ResourceExhausted, message, details)
        }
        UpstreamErrorKind::Malformed(_) => Status::internal(message),
        UpstreamErrorKind::Http {
            status,
            retry_after,
            ..
        } => match status {
            429 => {
                let mut details = ErrorDetails::new();
                if let Some(delay) = retry_after {
                    details.set_retry_info(Some(delay));
                }
                Status::with_error_details(Code::ResourceExhausted, message, details)
            }
            401 | 403 => Status::permission_denied(message),
            // Not followed (signed headers, writes): the endpoint is wrong.
            300..=399 => Status::failed_precondition(message),
            404 | 405 | 501 => Status::unimplemented(message),
            408 | 504 => Status::deadline_exceeded(message),
            500..=599 => Status::unavailable(message),
            _ => Status::internal(message),
        },
        UpstreamErrorKind::Rejected {
            message: words,
            code,
        } => {
            let mut metadata = HashMap::from([
                ("tenant".to_owned(), err.tenant.to_string()),
                ("operation".to_owned(), err.operation.to_owned()),
                (
                    "warehouse_message".to_owned(),
                    cut(&words, RELAYED_TEXT_LIMIT).into_owned(),
                ),
            ]);
            // The warehouse's own error code (qlink's `code`: `SIGN_ERROR`,
            // `PARAM_ERROR`, …), when it sends one.
            if !code.is_empty() {
                metadata.insert(
                    "warehouse_error_code".to_owned(),
                    cut(&code, RELAYED_TEXT_LIMIT).into_owned(),
                );
            }
            Status::with_error_details(
                Code::FailedPrecondition,
                message,
                ErrorDetails::with_error_info("WAREHOUSE_REJECTED", ERROR_DOMAIN, metadata),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relayed_text_is_cut_on_a_character_boundary() {
        assert_eq!(cut("short", 10), "short");
        let long = "库".repeat(1000);
        let shown = cut(&long, RELAYED_TEXT_LIMIT);
        assert!(shown.len() <= RELAYED_TEXT_LIMIT, "{}", shown.len());
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn a_warehouse_quoting_a_huge_request_back_gives_a_status_clients_read() {
        let words = "x".repeat(200_000);
        let status = Status::from(ApiError::Upstream(UpstreamError::new(
            "t".into(),
            "createOrder",
            UpstreamErrorKind::Rejected {
                message: words,
                code: String::new(),
            },
        )));
        assert!(status.message().len() <= RELAYED_TEXT_LIMIT);
        let info = status.get_details_error_info().expect("ErrorInfo");
        let relayed = info.metadata.get("warehouse_message").expect("words");
        assert!(relayed.len() <= RELAYED_TEXT_LIMIT);
        assert!(status.details().len() < 4 * RELAYED_TEXT_LIMIT);
    }
}
