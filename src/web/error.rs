//! The JSON API's error type: `{"error": {"code", "message", "fields"}}` with
//! the status DESIGN.md assigns to each kind of failure.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request cannot be read (bad JSON, an empty or unreadable body).
    #[error("{0}")]
    Malformed(String),
    /// 401: no credentials, or not the right ones (`WWW-Authenticate: Bearer`).
    #[error("{0}")]
    Unauthorized(String),
    /// 409 for an application: the step does not apply in its status, which
    /// the answer names (`error.status`).
    #[error("{message}")]
    WrongStatus { message: String, status: String },
    /// 404: no such resource (or not visible to the caller).
    #[error("{0}")]
    NotFound(String),
    /// 409: the resource is not in a state that allows this.
    #[error("{0}")]
    Conflict(String),
    /// 422: well-formed but invalid, with a message per field.
    #[error("{message}")]
    Invalid { message: String, fields: BTreeMap<String, String> },
    /// 413: the body is larger than the endpoint accepts.
    #[error("{0}")]
    TooLarge(String),
    /// 415: the body is not of the type the endpoint reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 429: too many requests; `Retry-After` says when to try again.
    #[error("too many requests from this address; try again in {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    /// 503: a dependency (the database) is unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// 500: logged with its cause chain; the client sees only the request id.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Every error of the API: `{"error": {"code", "message", "fields"?}}`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable: `not_found`, `invalid`, `rate_limited`, …
    code: String,
    /// For people.
    message: String,
    /// For `invalid`: a message per field.
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<BTreeMap<String, String>>,
    /// For `wrong_state` on an application: its status now.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::WrongStatus { .. } => StatusCode::CONFLICT,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Malformed(_) => "malformed_request",
            ApiError::NotFound(_) => "not_found",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::WrongStatus { .. } => "wrong_state",
            ApiError::Conflict(_) => "wrong_state",
            ApiError::Invalid { .. } => "invalid_input",
            ApiError::TooLarge(_) => "too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = match &self {
            ApiError::Internal(cause) => {
                // Logged once, whole; the request id in the span ties it to
                // the response header the client sees.
                tracing::error!(error = ?cause, "request failed");
                "internal error; quote the x-request-id header when reporting it".to_owned()
            }
            other => other.to_string(),
        };
        let fields = match &self {
            ApiError::Invalid { fields, .. } => Some(fields.clone()),
            _ => None,
        };
        let status = match &self {
            ApiError::WrongStatus { status, .. } => Some(status.clone()),
            _ => None,
        };
        let body = ErrorBody { error: ErrorDetail { code: self.code().to_owned(), message, fields, status } };
        let mut response = (self.status(), Json(body)).into_response();
        if let ApiError::Unauthorized(_) = self {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        if let ApiError::RateLimited { retry_after } = self {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, retry_after.into());
        }
        response
    }
}

/// An error answer in the API's shape from a status, a code and a message
/// (for errors that do not come from an [`ApiError`]: see
/// [`super::uniform_errors`]).
pub fn json_error(status: StatusCode, code: &str, message: String) -> Response {
    (status, Json(ErrorBody { error: ErrorDetail { code: code.to_owned(), message, fields: None, status: None } }))
        .into_response()
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::Internal(e.into())
    }
}
