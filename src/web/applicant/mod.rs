//! The applicant's side: the JSON API (`/api/v1/applications…`, a bearer
//! token) and the pages (`/apply…`, a session cookie), both thin over
//! [`crate::applications`].

pub mod api;
pub mod pages;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use super::ApiError;
use crate::applications::{CodeRefusal, JourneyError};
use crate::identity::evidence::EvidenceError;

/// The web session's cookie: `{id}.{token}`, host-only and `Secure` when
/// served over HTTPS.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-standing_application" } else { "standing_application" }
}

/// The `Set-Cookie` value of a session for application `id`.
pub fn session_cookie(id: &str, token: &str, secure: bool, max_age_seconds: i64) -> String {
    let name = session_cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={id}.{token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}")
}

/// The session cookie's token for application `id`, if the browser sent one.
pub fn session_token<'h>(headers: &'h HeaderMap, id: &str, secure: bool) -> Option<&'h str> {
    super::csrf::cookies(headers, session_cookie_name(secure))
        .filter_map(|value| value.split_once('.'))
        .find(|(cookie_id, _)| *cookie_id == id)
        .map(|(_, token)| token)
}

/// The bearer token of an API call.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|t| !t.is_empty())
}

impl From<JourneyError> for ApiError {
    fn from(e: JourneyError) -> Self {
        let field = |name: &str, message: String| [(name.to_owned(), message)].into();
        match e {
            JourneyError::Invalid(fields) => {
                ApiError::Invalid { message: "some details need correcting".into(), fields }
            }
            JourneyError::Unauthorized => {
                ApiError::Unauthorized("this application does not exist or the bearer token does not match it".into())
            }
            JourneyError::WrongStatus(status) => ApiError::WrongStatus {
                message: format!("the application is {}; this step does not apply now", status.as_str()),
                status: status.as_str().to_owned(),
            },
            JourneyError::Code(refusal) => {
                let message = refusal.to_string();
                ApiError::Invalid { message: message.clone(), fields: field("code", message) }
            }
            JourneyError::RateLimited { retry_after } => ApiError::RateLimited { retry_after },
            JourneyError::Evidence { field: name, error } => match error {
                EvidenceError::TooLarge { .. } => ApiError::TooLarge(error.to_string()),
                other => {
                    let message = other.to_string();
                    ApiError::Invalid { message: message.clone(), fields: field(name, message) }
                }
            },
            JourneyError::Internal(e) => ApiError::Internal(e),
        }
    }
}

/// A code refusal in a sentence for the code page.
pub fn code_refusal_text(refusal: CodeRefusal) -> String {
    match refusal {
        CodeRefusal::Wrong { tries_left: 1 } => "That code is not right. You have 1 more try.".into(),
        CodeRefusal::Wrong { tries_left } => format!("That code is not right. You have {tries_left} more tries."),
        CodeRefusal::Voided => "Too many wrong codes: this code no longer works. Ask for a new code below.".into(),
        CodeRefusal::Expired => "This code has expired. Ask for a new code below.".into(),
        CodeRefusal::Used => "This code was already used. Ask for a new code below.".into(),
        CodeRefusal::NoCode => "No code has been sent yet. Ask for a code below.".into(),
    }
}
