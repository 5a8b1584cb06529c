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
use super::error::ErrorBody;
use super::lookup::{ClientAddr, LookupError, lookup};
use super::status::StatusBody;
use super::upload::UploadAnswer;
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
#[utoipa::path(
    get,
    path = "/api/v1/reports/{number}",
    operation_id = "reportStatus",
    summary = "Status and key facts of a report, by number and verification code",
    params(
        ("number" = String, Path, description = "The report number", example = "SR-KYYF-9TKJ-6Q8Q"),
        ("code" = String, Query, description = "The verification code printed beside it", example = "Q7RM-K2XP"),
    ),
    responses(
        (status = 200, description = "The report's status", body = StatusBody),
        (status = 400, description = "The path or query cannot be read (not UTF-8, a parameter given twice)", body = ErrorBody),
        (status = 404, description = "No report with this number and code (an unknown number and a wrong code are the same answer)", body = ErrorBody),
        (status = 414, description = "The URI is longer than 8192 bytes", body = ErrorBody),
        (status = 422, description = "The number or code is malformed", body = ErrorBody),
        (status = 429, description = "Too many requests or failed lookups from this address; see Retry-After", body = ErrorBody),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/api/v1/verify",
    operation_id = "verifyPdf",
    summary = "Check a report PDF: signature, integrity of every byte, key, and the report's status",
    request_body(content = PdfFile, content_type = "application/pdf", description = "The PDF file itself"),
    responses(
        (status = 200, description = "The checks; `valid` is true only when every check passes", body = UploadAnswer),
        (status = 400, description = "Empty or unreadable body", body = ErrorBody),
        (status = 413, description = "The file is larger than the configured limit", body = ErrorBody),
        (status = 415, description = "The body is not application/pdf", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    ),
)]
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
    Ok(Json(outcome.answer(state.clock.today())).into_response())
}

/// `GET /api/v1/openapi.json`: the same for everyone, so it may be cached
/// (every other API answer is `no-store`).
pub async fn openapi() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json"), (CACHE_CONTROL, "public, max-age=300")], openapi_json())
}

/// A PDF sent as the request body.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PdfFile(#[allow(dead_code)] Vec<u8>);

/// The OpenAPI document, generated from the handlers above and the types
/// they answer with; the routes it lists are [`super::documented_routes`]
/// (a test holds the two together).
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "standing API",
        version = "1",
        description = "Proof-of-financial-standing reports: applications (apply, one-time code, identity photos, \
status, the signed PDF) for applicants, status checks and file verification for visa officers. \
Every error under /api/ is {\"error\": {\"code\", \"message\", \"fields\"?}} with a fitting status, including 400 \
for an unreadable path or query (e.g. a parameter given twice), 404 for unknown paths, 405 for a wrong method, 408 \
when a request takes too long, and 414 for a URI over 8192 bytes. Answers carrying report data are sent with \
Cache-Control: no-store. An X-Request-Id of at most 64 characters from A-Z a-z 0-9 - _ . : is kept; otherwise the \
service sets its own."
    ),
    paths(
        report_status,
        verify_upload,
        super::well_known::jwks,
        super::well_known::root_pem,
        super::applicant::api::start,
        super::applicant::api::status,
        super::applicant::api::submit_code,
        super::applicant::api::resend_code,
        super::applicant::api::upload_identity,
        super::applicant::api::report_pdf,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The applicant's calls carry the token from `POST /api/v1/applications`.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The application's token, from POST /api/v1/applications"))
                    .build(),
            ),
        );
    }
}

/// The document as JSON, made once.
pub fn openapi_json() -> &'static str {
    static JSON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    JSON.get_or_init(|| {
        use utoipa::OpenApi;
        ApiDoc::openapi().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    })
}
