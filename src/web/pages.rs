//! The officers' verification pages (askama, no JavaScript): the form, the
//! status page the QR code points at, and the PDF upload check.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::AppState;
use super::csrf;
use super::lookup::{ClientAddr, LookupError, lookup};
use super::status::StatusView;
use super::upload::{UploadOutcome, check_upload};
use crate::domain::{ReportNumber, VerificationCode};

/// Pages carry report data and codes in their URLs: not cached, not
/// framed, no referrer, nothing loaded from elsewhere.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; \
                        base-uri 'none'";

fn page(status: StatusCode, html: Result<String, askama::Error>) -> Response {
    page_with_policy(status, html, PAGE_CSP)
}

/// A rendered page, not cached, under the content security policy `csp`;
/// a page that failed to render becomes the error page.
pub fn page_with_policy(status: StatusCode, html: Result<String, askama::Error>, csp: &'static str) -> Response {
    match html {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            let headers = response.headers_mut();
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            // Made into the error page, with the request id, by
            // `uniform_errors`.
            (StatusCode::INTERNAL_SERVER_ERROR, "The page could not be shown. Please try again in a moment.")
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "verify/form.html")]
struct FormPage<'a> {
    issuer: &'a str,
    csrf: String,
    number: String,
    error: Option<String>,
    max_upload_mb: usize,
}

#[derive(Template)]
#[template(path = "verify/status.html")]
struct StatusPage<'a> {
    issuer: &'a str,
    view: StatusView,
}

#[derive(Template)]
#[template(path = "verify/message.html")]
struct MessagePage<'a> {
    issuer: &'a str,
    title: &'a str,
    message: String,
    /// The request id, on error pages, to quote when reporting the problem.
    reference: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "verify/upload.html")]
struct UploadPage<'a> {
    issuer: &'a str,
    class: &'static str,
    headline: &'static str,
    summary: String,
    problems: Vec<String>,
    checks: Vec<(bool, String)>,
    diff: Vec<(String, String, String)>,
    /// The registry's report the file names, and what its status means
    /// for this file.
    status: Option<StatusView>,
    registry_heading: String,
    registry_note: Option<String>,
    sha256: String,
}

fn message(state: &AppState, status: StatusCode, title: &str, text: String) -> Response {
    let issuer = &state.settings.report.issuer_name;
    page(status, MessagePage { issuer, title, message: text, reference: None }.render())
}

/// An error page for `status`; server errors quote the request id.
pub fn error_page(state: &AppState, status: StatusCode, message: String, reference: Option<&str>) -> Response {
    let title = match status {
        StatusCode::BAD_REQUEST => "The request could not be read",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::METHOD_NOT_ALLOWED => "Not possible at this address",
        StatusCode::REQUEST_TIMEOUT => "The request took too long",
        StatusCode::PAYLOAD_TOO_LARGE => "The file is too large",
        StatusCode::URI_TOO_LONG => "The address is too long",
        StatusCode::TOO_MANY_REQUESTS => "Too many checks",
        StatusCode::SERVICE_UNAVAILABLE => "Temporarily unavailable",
        s if s.is_server_error() => "Something went wrong",
        _ => "The request was refused",
    };
    let reference = reference.filter(|_| status.is_server_error());
    let issuer = &state.settings.report.issuer_name;
    match (MessagePage { issuer, title, message, reference }).render() {
        Ok(html) => page(status, Ok(html)),
        Err(e) => {
            tracing::error!(error = %e, "rendering the error page failed");
            (status, format!("{title}. Reference: {}", reference.unwrap_or("-"))).into_response()
        }
    }
}

fn lookup_failure(state: &AppState, error: LookupError) -> Response {
    match error {
        LookupError::RateLimited(seconds) => {
            let mut response = message(
                state,
                StatusCode::TOO_MANY_REQUESTS,
                "Too many checks",
                format!("Too many checks came from your network. Please try again in {seconds} seconds."),
            );
            response.headers_mut().insert(RETRY_AFTER, seconds.into());
            response
        }
        LookupError::BadNumber(text) | LookupError::BadCode(text) => {
            form_page(state, StatusCode::BAD_REQUEST, String::new(), Some(text))
        }
        LookupError::Internal(e) => {
            tracing::error!(error = ?e, "report lookup failed");
            // Made into the error page, with the request id to quote, by
            // `uniform_errors`.
            (StatusCode::INTERNAL_SERVER_ERROR, "The check could not be completed. Please try again in a moment.")
                .into_response()
        }
    }
}

fn form_page(state: &AppState, status: StatusCode, number: String, error: Option<String>) -> Response {
    form_page_with(state, status, number, error, None)
}

/// The form, keeping the browser's CSRF token when it already has one, so
/// a second tab does not invalidate the first tab's form.
fn form_page_with(
    state: &AppState,
    status: StatusCode,
    number: String,
    error: Option<String>,
    token: Option<String>,
) -> Response {
    let token = token.unwrap_or_else(|| state.csrf.new_token(state.clock.now(), &mut rand::rng()));
    let html = FormPage {
        issuer: &state.settings.report.issuer_name,
        csrf: token.clone(),
        number,
        error,
        max_upload_mb: state.settings.verify.max_upload_bytes.div_ceil(1024 * 1024),
    }
    .render();
    let mut response = page(status, html);
    let (name, value) = csrf::set_cookie(&token, secure_cookies(state));
    response.headers_mut().insert(name, value);
    response
}

/// Served over HTTPS: cookies are `Secure` and host-only (`__Host-`).
fn secure_cookies(state: &AppState) -> bool {
    state.settings.public_base_url.starts_with("https://")
}

#[derive(Debug, Deserialize)]
pub struct FormQuery {
    number: Option<String>,
    c: Option<String>,
}

/// `GET /verify`: the form; submitted (`?number=&c=`), it goes on to the
/// status page, whose address is the one the QR code carries.
pub async fn form(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<FormQuery>) -> Response {
    let Some(number) = query.number.filter(|n| !n.trim().is_empty()) else {
        let token = csrf::cookie_token(&headers, secure_cookies(&state))
            .filter(|t| state.csrf.reusable(t, state.clock.now()))
            .map(str::to_owned);
        return form_page_with(&state, StatusCode::OK, String::new(), None, token);
    };
    let number_text = number.trim().to_owned();
    let number = match ReportNumber::parse(&number_text) {
        Ok(n) => n,
        Err(e) => return form_page(&state, StatusCode::BAD_REQUEST, number_text, Some(e.0)),
    };
    let code = match VerificationCode::parse(query.c.as_deref().unwrap_or_default()) {
        Ok(c) => c,
        Err(e) => return form_page(&state, StatusCode::BAD_REQUEST, number.to_string(), Some(e.0)),
    };
    Redirect::to(&format!("/verify/{number}?c={code}")).into_response()
}

#[derive(Debug, Deserialize)]
pub struct CodeQuery {
    c: Option<String>,
}

/// `GET /verify/{number}?c={code}`: VALID, REVOKED, SUPERSEDED, EXPIRED or
/// NOT FOUND, with the key facts.
pub async fn status(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(number): Path<String>,
    Query(query): Query<CodeQuery>,
) -> Response {
    let Some(code) = query.c.filter(|c| !c.trim().is_empty()) else {
        return form_page(
            &state,
            StatusCode::BAD_REQUEST,
            number,
            Some("Enter the verification code printed beside the report number.".into()),
        );
    };
    let issuer = &state.settings.report.issuer_name;
    match lookup(&state, client, &number, &code).await {
        Ok(Some(report)) => {
            let view = StatusView::found(&report, state.clock.today());
            page(StatusCode::OK, StatusPage { issuer, view }.render())
        }
        Ok(None) => {
            let shown = ReportNumber::parse(&number).map(|n| n.to_string()).unwrap_or(number);
            page(StatusCode::NOT_FOUND, StatusPage { issuer, view: StatusView::not_found(&shown) }.render())
        }
        Err(e) => lookup_failure(&state, e),
    }
}

/// `POST /verify` (multipart: `csrf`, then `pdf`): the upload check.
pub async fn upload(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let limit = state.settings.verify.max_upload_bytes;
    let mut form_token = None;
    let mut pdf: Option<Vec<u8>> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return upload_read_error(&state, e.status(), limit),
        };
        match field.name() {
            Some(csrf::FIELD_NAME) => form_token = field.text().await.ok(),
            Some("pdf") => match field.bytes().await {
                Ok(bytes) => pdf = Some(bytes.to_vec()),
                Err(e) => return upload_read_error(&state, e.status(), limit),
            },
            _ => {}
        }
    }
    if !state.csrf.matches(&headers, secure_cookies(&state), form_token.as_deref(), state.clock.now()) {
        return message(
            &state,
            StatusCode::FORBIDDEN,
            "The form has expired",
            "For your security the upload form is valid for a limited time and only on this site. Open the \
             verification page again and choose the file once more."
                .into(),
        );
    }
    let Some(pdf) = pdf.filter(|p| !p.is_empty()) else {
        return form_page(&state, StatusCode::BAD_REQUEST, String::new(), Some("Choose the report's PDF file.".into()));
    };
    if pdf.len() > limit {
        return upload_read_error(&state, StatusCode::PAYLOAD_TOO_LARGE, limit);
    }
    match check_upload(&state, client, pdf).await {
        Ok(outcome) => upload_page(&state, outcome),
        Err(e) => lookup_failure(&state, e),
    }
}

fn upload_read_error(state: &AppState, status: StatusCode, limit: usize) -> Response {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        message(
            state,
            status,
            "The file is too large",
            format!(
                "Reports we issue are well under 1 MB; this service accepts files up to {} MB.",
                limit.div_ceil(1024 * 1024)
            ),
        )
    } else {
        message(state, StatusCode::BAD_REQUEST, "The upload could not be read", "Please choose the file again.".into())
    }
}

fn upload_page(state: &AppState, outcome: UploadOutcome) -> Response {
    let today = state.clock.today();
    let status = outcome.report.as_ref().map(|r| StatusView::found(r, today));
    let (registry_heading, registry_note) = status.as_ref().map(|view| outcome.registry_card(view)).unwrap_or_default();
    let (class, headline) = outcome.headline();
    let html = UploadPage {
        issuer: &state.settings.report.issuer_name,
        class,
        headline,
        summary: outcome.summary(),
        problems: outcome.verification.problems.iter().map(|p| p.message.clone()).collect(),
        checks: outcome.verification.checks.iter().map(|c| (c.ok, c.message.clone())).collect(),
        diff: outcome
            .differences()
            .iter()
            .map(|d| (d.path.clone(), compact_json(&d.issued), compact_json(&d.found)))
            .collect(),
        status,
        registry_heading,
        registry_note,
        sha256: outcome.verification.sha256.clone(),
    }
    .render();
    page(StatusCode::OK, html)
}

fn compact_json(v: &Option<serde_json::Value>) -> String {
    match v {
        None => "(absent)".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}
