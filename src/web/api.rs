//! The officers' JSON API (v1): report status by number and code, and the
//! upload check of a PDF.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::ApiError;
use super::AppState;
use super::lookup::{ClientAddr, LookupError, lookup};
use super::status::StatusBody;
use super::upload::check_upload;

impl From<LookupError> for ApiError {
    fn from(e: LookupError) -> Self {
        match e {
            LookupError::RateLimited(retry_after) => ApiError::RateLimited { retry_after },
            LookupError::BadNumber(message) => {
                ApiError::Invalid { message: message.clone(), fields: field("number", message) }
            }
            LookupError::BadCode(message) => {
                ApiError::Invalid { message: message.clone(), fields: field("code", message) }
            }
            LookupError::Internal(e) => ApiError::Internal(e),
        }
    }
}

fn field(name: &str, message: String) -> std::collections::BTreeMap<String, String> {
    [(name.to_owned(), message)].into()
}

#[derive(Debug, Deserialize)]
pub struct CodeQuery {
    code: Option<String>,
}

/// `GET /api/v1/reports/{number}?code=...`: the status and key facts. An
/// unknown number and a wrong code are the same 404.
pub async fn report_status(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(number): Path<String>,
    Query(query): Query<CodeQuery>,
) -> Result<Json<StatusBody>, ApiError> {
    let code = query.code.filter(|c| !c.trim().is_empty()).ok_or_else(|| ApiError::Invalid {
        message: "the verification code is required: ?code=...".into(),
        fields: field("code", "required".into()),
    })?;
    match lookup(&state, client, &number, &code).await? {
        Some(report) => Ok(Json(StatusBody::new(&report, state.clock.today()))),
        None => Err(ApiError::NotFound("no report matches this number and verification code".into())),
    }
}

/// `POST /api/v1/verify` with the PDF as an `application/pdf` body: every
/// check, what fails, and the report's status. A file that fails is still a
/// successful check (200 with `"valid": false`).
pub async fn verify_upload(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let limit = state.settings.verify.max_upload_bytes;
    let too_large = || ApiError::TooLarge(format!("the PDF is larger than the {limit} bytes this service accepts"));
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::Malformed(format!("the body could not be read: {rejection}"))
        }
    })?;
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/pdf") && !essence.eq_ignore_ascii_case("application/octet-stream") {
        return Err(ApiError::UnsupportedMediaType(format!(
            "send the PDF itself as the body with Content-Type: application/pdf (got {:?})",
            if essence.is_empty() { "nothing" } else { essence }
        )));
    }
    // The route's body limit leaves room for the page's multipart framing;
    // a bare PDF gets the exact limit.
    if body.len() > limit {
        return Err(too_large());
    }
    if body.is_empty() {
        return Err(ApiError::Malformed("the body is empty: send the PDF as the request body".into()));
    }
    let outcome = check_upload(&state, client, body.to_vec()).await?;
    Ok(Json(outcome.to_json(state.clock.today())).into_response())
}

/// `GET /api/v1/openapi.json`: the same for everyone, so it may be cached
/// (every other API answer is `no-store`).
pub async fn openapi() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json"), (CACHE_CONTROL, "public, max-age=300")], include_str!("openapi.json"))
}
