//! The two steps in the middle: the one-time code (with a resend) and the
//! identity photos.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{csrf_token, expired_form, journey_error, page, page_for, secure, see_other, session, with_csrf_cookie};
use crate::applications::{JourneyError, request_rng};
use crate::domain::application::ApplicationStatus;
use crate::identity::evidence::{EvidenceError, MAX_IMAGE_BYTES};
use crate::web::applicant::code_refusal_text;
use crate::web::csrf;
use crate::web::lookup::ClientAddr;
use crate::web::{ApiError, AppState};

#[derive(Template)]
#[template(path = "apply/code.html")]
struct CodePage<'a> {
    issuer: &'a str,
    id: &'a str,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
    minutes: i64,
}

#[derive(Debug, Default, Deserialize)]
pub struct CodeQuery {
    sent: Option<String>,
}

fn code_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    id: &str,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let token = csrf_token(state, headers);
    let html = CodePage {
        issuer: &state.settings.report.issuer_name,
        id,
        csrf: token.clone(),
        error,
        notice,
        minutes: state.applications.policy().ttl.num_minutes(),
    }
    .render();
    with_csrf_cookie(state, page(status, html), &token)
}

/// `GET /apply/{id}/code`.
pub async fn code_form(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(query): Query<CodeQuery>,
) -> Response {
    let row = match session(&state, &headers, &id).await {
        Ok(row) => row,
        Err(page) => return page,
    };
    if row.status != ApplicationStatus::AwaitingOtp {
        return see_other(&page_for(&id, row.status));
    }
    let notice = query.sent.map(|_| "We have sent a new code. Codes sent before it no longer work.".to_owned());
    code_page(&state, &headers, StatusCode::OK, &id, None, notice)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeFields {
    code: String,
    csrf: Option<String>,
}

/// `POST /apply/{id}/code`.
pub async fn code_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<CodeFields>,
) -> Response {
    if !state.csrf.matches(&headers, secure(&state), fields.csrf.as_deref(), state.clock.now()) {
        return expired_form(&state);
    }
    if let Err(page) = session(&state, &headers, &id).await {
        return page;
    }
    match state.applications.submit_code(&id, &fields.code).await {
        Ok(status) => see_other(&page_for(&id, status)),
        Err(JourneyError::Code(refusal)) => {
            code_page(&state, &headers, StatusCode::UNPROCESSABLE_ENTITY, &id, Some(code_refusal_text(refusal)), None)
        }
        Err(JourneyError::WrongStatus(status)) => see_other(&page_for(&id, status)),
        Err(e) => journey_error(&state, e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfOnly {
    csrf: Option<String>,
}

/// `POST /apply/{id}/code/resend`.
pub async fn code_resend(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<CsrfOnly>,
) -> Response {
    if !state.csrf.matches(&headers, secure(&state), fields.csrf.as_deref(), state.clock.now()) {
        return expired_form(&state);
    }
    if let Err(page) = session(&state, &headers, &id).await {
        return page;
    }
    let resent = match state.resend_limits.take(client, state.clock.now()) {
        Ok(()) => state.applications.resend_code(&id, &mut request_rng()).await,
        Err(r) => Err(JourneyError::RateLimited { retry_after: r.seconds }),
    };
    match resent {
        Ok(()) => see_other(&format!("/apply/{id}/code?sent=1")),
        Err(JourneyError::RateLimited { retry_after }) => {
            let wait = if retry_after < 90 {
                format!("{retry_after} seconds")
            } else {
                format!("{} minutes", retry_after.div_ceil(60))
            };
            let mut response = code_page(
                &state,
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                &id,
                Some(format!("A new code can be sent in {wait}. Codes can be sent once a minute and 3 times an hour.")),
                None,
            );
            response.headers_mut().insert(RETRY_AFTER, retry_after.into());
            response
        }
        Err(JourneyError::WrongStatus(status)) => see_other(&page_for(&id, status)),
        Err(e) => journey_error(&state, e),
    }
}

#[derive(Template)]
#[template(path = "apply/identity.html")]
struct IdentityPage<'a> {
    issuer: &'a str,
    id: &'a str,
    csrf: String,
    errors: BTreeMap<String, String>,
    max_mb: usize,
}

fn identity_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    id: &str,
    errors: BTreeMap<String, String>,
) -> Response {
    let token = csrf_token(state, headers);
    let html = IdentityPage {
        issuer: &state.settings.report.issuer_name,
        id,
        csrf: token.clone(),
        errors,
        max_mb: MAX_IMAGE_BYTES / (1024 * 1024),
    }
    .render();
    with_csrf_cookie(state, page(status, html), &token)
}

/// `GET /apply/{id}/identity`.
pub async fn identity_form(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let row = match session(&state, &headers, &id).await {
        Ok(row) => row,
        Err(page) => return page,
    };
    if row.status != ApplicationStatus::AwaitingIdentity {
        return see_other(&page_for(&id, row.status));
    }
    identity_page(&state, &headers, StatusCode::OK, &id, BTreeMap::new())
}

/// `POST /apply/{id}/identity` (multipart: `csrf`, `selfie`, `passport_page`).
pub async fn identity_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let row = match session(&state, &headers, &id).await {
        Ok(row) => row,
        Err(page) => return page,
    };
    if row.status != ApplicationStatus::AwaitingIdentity {
        return see_other(&page_for(&id, row.status));
    }
    let Ok(mut multipart) = multipart else {
        return identity_page(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            &id,
            [("selfie".to_owned(), "Choose the two photos again.".to_owned())].into(),
        );
    };
    let mut form_token = None;
    let photos = crate::web::applicant::api::read_photos(&mut multipart, |name, value| {
        if name == csrf::FIELD_NAME {
            form_token = Some(value);
        }
    })
    .await;
    if !state.csrf.matches(&headers, secure(&state), form_token.as_deref(), state.clock.now()) {
        return expired_form(&state);
    }
    let (selfie, page_photo) = match photos {
        Ok(photos) => photos,
        Err(ApiError::Invalid { fields, .. }) => {
            let fields = fields.into_iter().map(|(k, v)| (k, sentence(&v))).collect();
            return identity_page(&state, &headers, StatusCode::UNPROCESSABLE_ENTITY, &id, fields);
        }
        Err(ApiError::TooLarge(message)) => {
            return identity_page(
                &state,
                &headers,
                StatusCode::PAYLOAD_TOO_LARGE,
                &id,
                [("selfie".to_owned(), sentence(&message))].into(),
            );
        }
        Err(e) => return e.into_response(),
    };
    match state.applications.upload_evidence(&id, selfie, page_photo).await {
        Ok(()) => see_other(&format!("/apply/{id}")),
        Err(JourneyError::Evidence { field, error }) => {
            let status = if matches!(error, EvidenceError::TooLarge { .. }) {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            identity_page(&state, &headers, status, &id, [(field.to_owned(), sentence(&error.to_string()))].into())
        }
        Err(JourneyError::WrongStatus(status)) => see_other(&page_for(&id, status)),
        Err(e) => journey_error(&state, e),
    }
}

/// "the selfie is missing" → "The selfie is missing."
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let Some(first) = chars.next() else { return String::new() };
    let mut out: String = first.to_uppercase().chain(chars).collect();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
