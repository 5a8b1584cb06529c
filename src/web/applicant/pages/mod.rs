//! The applicant's pages (askama, no JavaScript, readable at 360 pixels):
//! the home page, the form, the code page, the photo upload and a status
//! page that refreshes itself while the service works. The session is a
//! cookie holding the application's id and token (stored only hashed);
//! every form carries a CSRF token.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::header::{LOCATION, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

mod steps;

use super::{session_cookie, session_token};
use crate::applications::{ApplicationView, JourneyError, request_rng};
use crate::domain::application::ApplicationStatus;
use crate::domain::country::CountryCode;
use crate::identity::input::{ApplicationForm, Consents, FieldErrors, Purpose};
use crate::store::ApplicationRow;
use crate::web::csrf;
use crate::web::lookup::ClientAddr;
use crate::web::pages::error_page;
use crate::web::{ApiError, AppState};
pub use steps::{code_form, code_resend, code_submit, identity_form, identity_submit};

/// No scripts, nothing from elsewhere; forms post only here; the status
/// page refreshes itself with a meta tag.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; \
                        frame-ancestors 'none'; base-uri 'none'";

fn page(status: StatusCode, html: Result<String, askama::Error>) -> Response {
    crate::web::pages::page_with_policy(status, html, PAGE_CSP)
}

fn secure(state: &AppState) -> bool {
    state.settings.public_base_url.starts_with("https://")
}

/// A fresh CSRF token (or the browser's own, still good) and its cookie.
fn csrf_token(state: &AppState, headers: &HeaderMap) -> String {
    csrf::cookie_token(headers, secure(state))
        .filter(|t| state.csrf.reusable(t, state.clock.now()))
        .map(str::to_owned)
        .unwrap_or_else(|| state.csrf.new_token(state.clock.now(), &mut rand::rng()))
}

fn with_csrf_cookie(state: &AppState, mut response: Response, token: &str) -> Response {
    let (name, value) = csrf::set_cookie(token, secure(state));
    response.headers_mut().append(name, value);
    response
}

fn see_other(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(to) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

#[derive(Template)]
#[template(path = "apply/home.html")]
struct HomePage<'a> {
    issuer: &'a str,
    threshold: u16,
    authority: &'a str,
}

/// `GET /`: what the service is, in a few lines, and the way in.
pub async fn home(State(state): State<AppState>) -> Response {
    let html = HomePage {
        issuer: &state.settings.report.issuer_name,
        threshold: state.settings.scoring.threshold,
        authority: &state.settings.report.authority_name,
    }
    .render();
    page(StatusCode::OK, html)
}

/// The form's fields as typed (the page's names).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FormFields {
    full_name: String,
    passport_number: String,
    passport_country: String,
    nationality: String,
    date_of_birth: String,
    phone_country: String,
    phone: String,
    email: String,
    purpose: String,
    mrz: String,
    consent_financial_data: Option<String>,
    consent_email: Option<String>,
    consent_cross_border: Option<String>,
    csrf: Option<String>,
}

impl FormFields {
    fn form(&self, authority: &str) -> ApplicationForm {
        ApplicationForm {
            full_name: self.full_name.clone(),
            passport_number: self.passport_number.clone(),
            passport_country: self.passport_country.clone(),
            nationality: self.nationality.clone(),
            date_of_birth: self.date_of_birth.clone(),
            phone: self.phone.clone(),
            phone_country: Some(self.phone_country.clone()).filter(|c| !c.is_empty()),
            email: self.email.clone(),
            authority: Some(authority.to_owned()),
            purpose: self.purpose.clone(),
            mrz: Some(self.mrz.clone()).filter(|m| !m.trim().is_empty()),
            consents: Consents {
                financial_data: self.consent_financial_data.is_some(),
                email: self.consent_email.is_some(),
                cross_border: self.consent_cross_border.is_some(),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "apply/form.html")]
struct FormPage<'a> {
    issuer: &'a str,
    authority: &'a str,
    csrf: String,
    values: FormFields,
    errors: FieldErrors,
    problem: Option<String>,
    countries: &'a [(String, String)],
    purposes: Vec<(&'static str, &'static str)>,
    cross_border_required: bool,
}

impl FormPage<'_> {
    fn error(&self, field: &str) -> &str {
        self.errors.get(field).map_or("", String::as_str)
    }

    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }

    fn checked(&self, value: &Option<String>) -> bool {
        value.is_some()
    }
}

/// The countries for the selects: (code, "Name (CODE)"), by name.
fn countries() -> &'static [(String, String)] {
    static LIST: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        CountryCode::all_named()
            .into_iter()
            .map(|(code, name)| (code.to_string(), format!("{name} ({code})")))
            .collect()
    })
}

fn form_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    values: FormFields,
    errors: FieldErrors,
    problem: Option<String>,
) -> Response {
    let token = csrf_token(state, headers);
    let html = FormPage {
        issuer: &state.settings.report.issuer_name,
        authority: &state.settings.report.authority_name,
        csrf: token.clone(),
        values,
        errors,
        problem,
        countries: countries(),
        purposes: Purpose::ALL.iter().map(|p| (p.as_str(), p.label())).collect(),
        cross_border_required: state.settings.applications.cross_border_consent_required,
    }
    .render();
    with_csrf_cookie(state, page(status, html), &token)
}

/// `GET /apply`: the form.
pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let values = FormFields {
        passport_country: "CHN".into(),
        nationality: "CHN".into(),
        phone_country: "CHN".into(),
        ..FormFields::default()
    };
    form_page(&state, &headers, StatusCode::OK, values, FieldErrors::new(), None)
}

fn expired_form(state: &AppState) -> Response {
    error_page(
        state,
        StatusCode::FORBIDDEN,
        "For your security this form is valid for a limited time and only on this site. Go back, reload the page \
         and send it again."
            .into(),
        None,
    )
}

/// `POST /apply`: starts the application, or the form again with what is
/// wrong beside each field (and what was typed kept).
pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Form(fields): Form<FormFields>,
) -> Response {
    if !state.csrf.matches(&headers, secure(&state), fields.csrf.as_deref(), state.clock.now()) {
        return expired_form(&state);
    }
    let form = fields.form(&state.settings.report.authority_code);
    if let Err(errors) = state.applications.check(&form) {
        let count = errors.len();
        let problem = Some(if count == 1 {
            "One detail needs correcting; it is marked below.".to_owned()
        } else {
            format!("{count} details need correcting; they are marked below.")
        });
        return form_page(&state, &headers, StatusCode::UNPROCESSABLE_ENTITY, fields, errors, problem);
    }
    if let Err(r) = state.apply_limits.take(client, state.clock.now()) {
        return too_many(&state, r.seconds);
    }
    match state.applications.apply(&form, &mut request_rng()).await {
        Ok(started) => {
            let hours = i64::from(state.settings.applications.expiry_hours);
            let cookie = session_cookie(&started.id, &started.token, secure(&state), hours * 3600 * 30);
            let mut response = see_other(&format!("/apply/{}/code", started.id));
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(SET_COOKIE, value);
            }
            response
        }
        Err(e) => journey_error(&state, e),
    }
}

fn too_many(state: &AppState, seconds: u64) -> Response {
    let minutes = seconds.div_ceil(60);
    let mut response = error_page(
        state,
        StatusCode::TOO_MANY_REQUESTS,
        format!("Please wait {minutes} minute{} and try again.", if minutes == 1 { "" } else { "s" }),
        None,
    );
    response.headers_mut().insert(RETRY_AFTER, seconds.into());
    response
}

/// An error of a step, as a page.
fn journey_error(state: &AppState, e: JourneyError) -> Response {
    match e {
        JourneyError::Unauthorized => not_yours(state),
        JourneyError::WrongStatus(_) => StatusCode::CONFLICT.into_response(),
        JourneyError::RateLimited { retry_after } => too_many(state, retry_after),
        JourneyError::Internal(e) => ApiError::Internal(e).into_response(),
        other => error_page(state, StatusCode::UNPROCESSABLE_ENTITY, other.to_string(), None),
    }
}

fn not_yours(state: &AppState) -> Response {
    error_page(
        state,
        StatusCode::FORBIDDEN,
        "This application was started in another browser, or your session has ended. Open the link from the device \
         you applied on, or start a new application."
            .into(),
        None,
    )
}

/// The session's application, or the page to show instead.
async fn session(state: &AppState, headers: &HeaderMap, id: &str) -> Result<ApplicationRow, Response> {
    let Some(token) = session_token(headers, id, secure(state)) else {
        return Err(not_yours(state));
    };
    state.applications.authenticate(id, token).await.map_err(|e| journey_error(state, e))
}

/// Where the applicant belongs for `status`.
fn page_for(id: &str, status: ApplicationStatus) -> String {
    match status {
        ApplicationStatus::AwaitingOtp => format!("/apply/{id}/code"),
        ApplicationStatus::AwaitingIdentity => format!("/apply/{id}/identity"),
        _ => format!("/apply/{id}"),
    }
}

#[derive(Template)]
#[template(path = "apply/status.html")]
struct StatusPage<'a> {
    issuer: &'a str,
    view: ApplicationView,
    /// Seconds between refreshes while the service works; 0: none.
    refresh: u32,
    /// Whether the service is working on it (a refresh would show news).
    working: bool,
    verification_url: Option<String>,
    verification_code: Option<String>,
    authority: &'a str,
    expires: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct StatusQuery {
    /// `off`: do not refresh (WCAG 2.2.1: a refresh the reader can turn off).
    auto: Option<String>,
}

/// `GET /apply/{id}`: where the application stands.
pub async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(query): Query<StatusQuery>,
) -> Response {
    if let Err(page) = session(&state, &headers, &id).await {
        return page;
    }
    let view = match state.applications.view(&id).await {
        Ok(view) => view,
        Err(e) => return journey_error(&state, e),
    };
    let working = match view.status {
        ApplicationStatus::Generating => 3,
        ApplicationStatus::IdentityReview => 15,
        _ => 0,
    };
    let stopped = query.auto.as_deref() == Some("off");
    let refresh = if stopped { 0 } else { working };
    let (mut verification_url, mut verification_code) = (None, None);
    if let Some(number) = view.report_number.as_deref().and_then(|n| crate::domain::ReportNumber::parse(n).ok())
        && let Ok(Some(json)) = state.registry.report_json(&number).await
    {
        verification_url = json["verification_url"].as_str().map(str::to_owned);
        verification_code = json["verification_code"].as_str().map(str::to_owned);
    }
    let expires = view.expires_at.format("%-d %B %Y, %H:%M UTC").to_string();
    let html = StatusPage {
        issuer: &state.settings.report.issuer_name,
        view,
        refresh,
        working: working > 0,
        verification_url,
        verification_code,
        authority: &state.settings.report.authority_name,
        expires,
    }
    .render();
    page(StatusCode::OK, html)
}

/// `GET /apply/{id}/report.pdf`.
pub async fn report_pdf(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let row = match session(&state, &headers, &id).await {
        Ok(row) => row,
        Err(page) => return page,
    };
    if row.status != ApplicationStatus::Issued {
        return see_other(&format!("/apply/{id}"));
    }
    match super::api::report_download(&state, &row).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}
