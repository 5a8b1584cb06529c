//! The applicant's JSON API (v1), as DESIGN.md fixes it: start an
//! application, the one-time code, the identity photos, the status and the
//! report. Every call after the first sends `Authorization: Bearer {token}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::bearer;
use crate::applications::{ApplicationView, request_rng};
use crate::domain::application::ApplicationStatus;
use crate::identity::evidence::MAX_IMAGE_BYTES;
use crate::identity::input::ApplicationForm;
use crate::store::ApplicationRow;
use crate::web::error::ErrorBody;
use crate::web::lookup::ClientAddr;
use crate::web::{ApiError, AppState};

/// What the applicant is told after applying, matched or not.
pub const APPLIED_MESSAGE: &str = "If the details match our records, we have sent a one-time code by text message \
                                   to the phone number registered with your account. It is valid for 10 minutes.";

/// `202` to `POST /api/v1/applications`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Started {
    #[schema(example = "0b5c3f7e-8d0f-4d35-9d0a-3c1f1f1b2a77")]
    pub id: String,
    /// Always `awaiting_otp`.
    #[schema(example = "awaiting_otp")]
    pub status: String,
    /// Send it as `Authorization: Bearer {token}` on every later call. Shown
    /// only here; keep it.
    pub token: String,
    pub message: String,
}

/// An application's status.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApplicationStatusBody {
    pub id: String,
    /// `awaiting_otp`, `awaiting_identity`, `identity_review`, `generating`,
    /// `issued`, `ineligible`, `rejected` or `expired`.
    #[schema(example = "identity_review")]
    pub status: String,
    /// When issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_number: Option<String>,
    /// When ineligible or rejected: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<String>>,
    /// When ineligible: the documents the authority accepts instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alternatives: Option<Vec<String>>,
    /// When issued: where to download the signed PDF (with the bearer token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_url: Option<String>,
    /// Until the applicant's own steps are done: when the application expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl ApplicationStatusBody {
    pub fn new(view: &ApplicationView) -> Self {
        let own_step = matches!(view.status, ApplicationStatus::AwaitingOtp | ApplicationStatus::AwaitingIdentity);
        ApplicationStatusBody {
            id: view.id.clone(),
            status: view.status.as_str().to_owned(),
            report_number: view.report_number.clone(),
            reasons: (!view.reasons.is_empty()).then(|| view.reasons.clone()),
            alternatives: (!view.alternatives.is_empty())
                .then(|| view.alternatives.iter().map(|s| (*s).to_owned()).collect()),
            report_url: view.report_number.as_ref().map(|_| format!("/api/v1/applications/{}/report.pdf", view.id)),
            expires_at: own_step.then_some(view.expires_at),
        }
    }
}

/// `POST …/otp`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CodeBody {
    /// The six digits from the text message.
    #[schema(example = "123456")]
    pub code: String,
}

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    match body {
        Ok(Json(value)) => Ok(value),
        Err(JsonRejection::MissingJsonContentType(_)) => {
            Err(ApiError::UnsupportedMediaType("send a JSON body with Content-Type: application/json".into()))
        }
        Err(e) => Err(ApiError::Malformed(format!("the body is not the JSON this endpoint reads: {}", e.body_text()))),
    }
}

async fn authorized(state: &AppState, id: &str, headers: &HeaderMap) -> Result<ApplicationRow, ApiError> {
    let token = bearer(headers)
        .ok_or_else(|| ApiError::Unauthorized("send the application's token: Authorization: Bearer {token}".into()))?;
    Ok(state.applications.authenticate(id, token).await?)
}

/// `POST /api/v1/applications`: starts an application.
#[utoipa::path(
    post,
    path = "/api/v1/applications",
    operation_id = "startApplication",
    summary = "Start an application: the same answer whether or not the details match an account",
    request_body(content = ApplicationForm, content_type = "application/json"),
    responses(
        (status = 202, description = "Started; a code was sent to the phone on file if the details match", body = Started),
        (status = 400, description = "The body is not JSON of this shape", body = ErrorBody),
        (status = 415, description = "The body is not application/json", body = ErrorBody),
        (status = 422, description = "Some fields are invalid; `error.fields` names each", body = ErrorBody),
        (status = 429, description = "Too many applications from this address; see Retry-After", body = ErrorBody),
    ),
)]
pub async fn start(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    body: Result<Json<ApplicationForm>, JsonRejection>,
) -> Result<Response, ApiError> {
    let form = json_body(body)?;
    // Invalid forms are answered before the address is charged.
    state
        .applications
        .check(&form)
        .map_err(|fields| ApiError::Invalid { message: "some details need correcting".into(), fields })?;
    state.apply_limits.take(client, state.clock.now()).map_err(|r| ApiError::RateLimited { retry_after: r.seconds })?;
    let started = state.applications.apply(&form, &mut request_rng()).await?;
    let location = format!("/api/v1/applications/{}", started.id);
    let body = Started {
        id: started.id,
        status: "awaiting_otp".into(),
        token: started.token,
        message: APPLIED_MESSAGE.into(),
    };
    let mut response = (StatusCode::ACCEPTED, Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

/// `GET /api/v1/applications/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/applications/{id}",
    operation_id = "applicationStatus",
    summary = "An application's status, its report number when issued, the reasons when refused",
    params(("id" = String, Path, description = "The application's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The status", body = ApplicationStatusBody),
        (status = 401, description = "No token, or not this application's", body = ErrorBody),
    ),
)]
pub async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<ApplicationStatusBody>, ApiError> {
    authorized(&state, &id, &headers).await?;
    let view = state.applications.view(&id).await?;
    Ok(Json(ApplicationStatusBody::new(&view)))
}

/// `POST /api/v1/applications/{id}/otp`.
#[utoipa::path(
    post,
    path = "/api/v1/applications/{id}/otp",
    operation_id = "submitCode",
    summary = "The one-time code from the text message",
    params(("id" = String, Path, description = "The application's id")),
    security(("bearer" = [])),
    request_body(content = CodeBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Accepted; the application now awaits the identity photos", body = ApplicationStatusBody),
        (status = 401, description = "No token, or not this application's", body = ErrorBody),
        (status = 409, description = "Not awaiting a code; `error.status` is the status now", body = ErrorBody),
        (status = 422, description = "Wrong (with the tries left), voided after 5 wrong tries, expired or used", body = ErrorBody),
    ),
)]
pub async fn submit_code(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<CodeBody>, JsonRejection>,
) -> Result<Json<ApplicationStatusBody>, ApiError> {
    authorized(&state, &id, &headers).await?;
    let body = json_body(body)?;
    state.applications.submit_code(&id, &body.code).await?;
    let view = state.applications.view(&id).await?;
    Ok(Json(ApplicationStatusBody::new(&view)))
}

/// `POST /api/v1/applications/{id}/otp/resend`.
#[utoipa::path(
    post,
    path = "/api/v1/applications/{id}/otp/resend",
    operation_id = "resendCode",
    summary = "A new code to the phone on file: at most once a minute and 3 times an hour",
    params(("id" = String, Path, description = "The application's id")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "A new code was sent if the details matched", body = ApplicationStatusBody),
        (status = 401, description = "No token, or not this application's", body = ErrorBody),
        (status = 409, description = "Not awaiting a code", body = ErrorBody),
        (status = 429, description = "Too soon for this application, or too many resends from this address; see Retry-After", body = ErrorBody),
    ),
)]
pub async fn resend_code(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorized(&state, &id, &headers).await?;
    state
        .resend_limits
        .take(client, state.clock.now())
        .map_err(|r| ApiError::RateLimited { retry_after: r.seconds })?;
    state.applications.resend_code(&id, &mut request_rng()).await?;
    let view = state.applications.view(&id).await?;
    Ok((StatusCode::ACCEPTED, Json(ApplicationStatusBody::new(&view))).into_response())
}

/// The two photos as multipart parts.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the request body only
pub struct IdentityUpload {
    /// A photo of your face: JPEG or PNG, at most 8 MB.
    #[schema(value_type = String, format = Binary)]
    selfie: Vec<u8>,
    /// A photo of your passport's data page: JPEG or PNG, at most 8 MB.
    #[schema(value_type = String, format = Binary)]
    passport_page: Vec<u8>,
}

/// Reads the `selfie` and `passport_page` parts; other parts are ignored.
pub(super) async fn read_photos(
    multipart: &mut Multipart,
    mut other: impl FnMut(&str, String),
) -> Result<(Vec<u8>, Vec<u8>), ApiError> {
    let (mut selfie, mut page) = (None, None);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::TooLarge(format!(
                    "each photo may be at most {} MB",
                    MAX_IMAGE_BYTES / (1024 * 1024)
                )));
            }
            Err(e) => return Err(ApiError::Malformed(format!("the multipart body cannot be read: {}", e.body_text()))),
        };
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "selfie" | "passport_page" => {
                let bytes: Bytes = field.bytes().await.map_err(|e| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        ApiError::TooLarge(format!("each photo may be at most {} MB", MAX_IMAGE_BYTES / (1024 * 1024)))
                    } else {
                        ApiError::Malformed(format!("the part `{name}` cannot be read: {}", e.body_text()))
                    }
                })?;
                if name == "selfie" {
                    selfie = Some(bytes.to_vec());
                } else {
                    page = Some(bytes.to_vec());
                }
            }
            _ => {
                if let Ok(text) = field.text().await {
                    other(&name, text);
                }
            }
        }
    }
    let mut missing = std::collections::BTreeMap::new();
    if selfie.as_ref().is_none_or(Vec::is_empty) {
        missing.insert("selfie".to_owned(), "a photo of your face is required".to_owned());
    }
    if page.as_ref().is_none_or(Vec::is_empty) {
        missing.insert("passport_page".to_owned(), "a photo of your passport's data page is required".to_owned());
    }
    match (selfie, page) {
        (Some(s), Some(p)) if missing.is_empty() => Ok((s, p)),
        _ => Err(ApiError::Invalid { message: "both photos are required".into(), fields: missing }),
    }
}

/// `POST /api/v1/applications/{id}/identity` (multipart: `selfie`, `passport_page`).
#[utoipa::path(
    post,
    path = "/api/v1/applications/{id}/identity",
    operation_id = "uploadIdentity",
    summary = "The selfie and the passport's data page, for the identity review",
    params(("id" = String, Path, description = "The application's id")),
    security(("bearer" = [])),
    request_body(content = IdentityUpload, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Received; the application is in identity review", body = ApplicationStatusBody),
        (status = 400, description = "The multipart body cannot be read", body = ErrorBody),
        (status = 401, description = "No token, or not this application's", body = ErrorBody),
        (status = 409, description = "Not awaiting the photos; `error.status` is the status now", body = ErrorBody),
        (status = 413, description = "A photo is larger than 8 MB", body = ErrorBody),
        (status = 422, description = "A photo is missing, not a JPEG or PNG, damaged or too small", body = ErrorBody),
    ),
)]
pub async fn upload_identity(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    let row = authorized(&state, &id, &headers).await?;
    // Checked again (with the expiry) when storing; this spares reading the photos.
    if row.status != ApplicationStatus::AwaitingIdentity {
        return Err(crate::applications::JourneyError::WrongStatus(row.status).into());
    }
    let mut multipart = multipart.map_err(|e| {
        ApiError::UnsupportedMediaType(format!("send the photos as multipart/form-data: {}", e.body_text()))
    })?;
    let (selfie, page) = read_photos(&mut multipart, |_, _| {}).await?;
    state.applications.upload_evidence(&id, selfie, page).await?;
    let view = state.applications.view(&id).await?;
    Ok((StatusCode::ACCEPTED, Json(ApplicationStatusBody::new(&view))).into_response())
}

/// The signed PDF.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct SignedPdf(#[allow(dead_code)] Vec<u8>);

/// `GET /api/v1/applications/{id}/report.pdf`.
#[utoipa::path(
    get,
    path = "/api/v1/applications/{id}/report.pdf",
    operation_id = "applicationReport",
    summary = "The signed report PDF, once issued",
    params(("id" = String, Path, description = "The application's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed PDF", body = SignedPdf, content_type = "application/pdf"),
        (status = 401, description = "No token, or not this application's", body = ErrorBody),
        (status = 409, description = "No report has been issued for it; `error.status` is the status now", body = ErrorBody),
    ),
)]
pub async fn report_pdf(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let row = authorized(&state, &id, &headers).await?;
    report_download(&state, &row).await
}

/// The report of an issued application as a download (API and pages).
pub async fn report_download(state: &AppState, row: &ApplicationRow) -> Result<Response, ApiError> {
    let wrong = || crate::applications::JourneyError::WrongStatus(row.status);
    let number = row.report_number.as_deref().ok_or_else(wrong)?;
    let number = crate::domain::ReportNumber::parse(number).map_err(|e| ApiError::Internal(anyhow::anyhow!(e.0)))?;
    let pdf = state
        .registry
        .pdf(&number)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("issued report {number} is not in the registry")))?;
    let disposition =
        format!("attachment; filename=\"{}\"", crate::mail::notices::attachment_name(&number.to_string()));
    let mut response = ([(CONTENT_TYPE, "application/pdf")], pdf).into_response();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
