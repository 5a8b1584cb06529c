//! Every error in the format its caller reads: the API (and the JSON
//! endpoints beside it) answers `{"error": {"code", "message"}}`, the
//! officers' pages answer a page. Our handlers already do; this layer
//! catches what comes from elsewhere — axum's extractor rejections (a path
//! that is not UTF-8, a query parameter given twice), 405 from the method
//! router, 408 from the request timeout, a bare 404 for unknown routes —
//! and the 414 for a URI longer than [`super::MAX_URI_BYTES`], which it
//! answers itself.

use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use super::error::json_error;
use super::{MAX_URI_BYTES, pages, request_id};

/// Longest framework message read back to be reshaped.
const MAX_MESSAGE_BYTES: usize = 16 * 1024;
/// Longest message shown.
const MAX_MESSAGE_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Html,
}

impl Format {
    /// The API, the published keys and the health checks are read by
    /// software; the verification pages by people. Anywhere else (an
    /// unknown address) a browser gets a page, other clients JSON.
    fn of(request: &Request) -> Format {
        let path = request.uri().path();
        let machine = path == "/api"
            || path.starts_with("/api/")
            || path.starts_with("/.well-known/")
            || path == "/healthz"
            || path == "/readyz";
        if machine {
            Format::Json
        } else if path == "/"
            || path == "/verify"
            || path.starts_with("/verify/")
            || path == "/apply"
            || path.starts_with("/apply/")
            || accepts_html(request.headers())
        {
            Format::Html
        } else {
            Format::Json
        }
    }

    fn matches(self, response: &Response) -> bool {
        let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        match self {
            Format::Json => essence == "application/json",
            Format::Html => essence == "text/html",
        }
    }
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers.get_all(ACCEPT).iter().filter_map(|v| v.to_str().ok()).any(|v| v.contains("text/html"))
}

/// The middleware (see the module documentation).
pub async fn uniform_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let format = Format::of(&request);
    let reference = request_id::of(request.headers()).map(str::to_owned);
    let uri_len = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri_len > MAX_URI_BYTES {
        let message = format!("the request URI is {uri_len} bytes long; this service accepts at most {MAX_URI_BYTES}");
        return render(&state, format, StatusCode::URI_TOO_LONG, message, reference.as_deref(), HeaderMap::new());
    }
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || format.matches(&response) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_MESSAGE_BYTES).await.unwrap_or_default();
    let message = message_of(&bytes).unwrap_or_else(|| default_message(status).to_owned());
    render(&state, format, status, message, reference.as_deref(), parts.headers)
}

/// The message a framework or handler put in the body: the `message` of a
/// JSON error, or the text.
fn message_of(body: &[u8]) -> Option<String> {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => json["error"]["message"].as_str().map(str::to_owned)?,
        Err(_) => String::from_utf8_lossy(body).trim().to_owned(),
    };
    if text.is_empty() {
        return None;
    }
    Some(match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    })
}

fn default_message(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "the request could not be read",
        StatusCode::NOT_FOUND => "There is no such page or endpoint at this address.",
        StatusCode::METHOD_NOT_ALLOWED => {
            "this address does not accept this method; the Allow header lists those it does"
        }
        StatusCode::REQUEST_TIMEOUT => "the request took too long to answer; try again",
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is larger than this service accepts",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "the body is not of a type this address reads",
        StatusCode::SERVICE_UNAVAILABLE => "the service is temporarily unavailable; try again in a moment",
        s if s.is_server_error() => "internal error",
        _ => "the request was refused",
    }
}

/// The stable `code` of a JSON error with this status.
pub fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "malformed_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::CONFLICT => "wrong_state",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_input",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal_error",
        _ => "request_refused",
    }
}

/// The error in `format`, keeping the headers the original answer had
/// (`Allow`, `Retry-After`, ...) except its type and length.
fn render(
    state: &AppState,
    format: Format,
    status: StatusCode,
    message: String,
    reference: Option<&str>,
    mut headers: HeaderMap,
) -> Response {
    headers.remove(CONTENT_TYPE);
    headers.remove(CONTENT_LENGTH);
    let mut response = match format {
        Format::Json => {
            let message = if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
                "internal error; quote the x-request-id header when reporting it".to_owned()
            } else {
                message
            };
            json_error(status, code_for(status), message)
        }
        Format::Html => pages::error_page(state, status, message, reference),
    };
    for (name, value) in headers.iter() {
        if !response.headers().contains_key(name) {
            response.headers_mut().insert(name.clone(), value.clone());
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::response::IntoResponse;

    /// A response with no body, for tests of the format rules.
    fn bare(status: StatusCode, content_type: Option<&str>) -> Response {
        let mut r = (status, Body::empty()).into_response();
        if let Some(t) = content_type {
            r.headers_mut().insert(CONTENT_TYPE, t.parse().unwrap());
        }
        r
    }

    fn request(path: &str, accept: Option<&str>) -> Request {
        let mut b = Request::builder().uri(path);
        if let Some(a) = accept {
            b = b.header(ACCEPT, a);
        }
        b.body(Body::empty()).unwrap()
    }

    #[test]
    fn the_format_follows_the_address_then_the_client() {
        assert_eq!(Format::of(&request("/api/v1/reports/x", Some("text/html"))), Format::Json);
        assert_eq!(Format::of(&request("/.well-known/jwks.json", None)), Format::Json);
        assert_eq!(Format::of(&request("/verify/x", None)), Format::Html);
        assert_eq!(Format::of(&request("/verify", Some("application/json"))), Format::Html);
        assert_eq!(Format::of(&request("/nowhere", Some("text/html,application/xhtml+xml"))), Format::Html);
        assert_eq!(Format::of(&request("/nowhere", Some("*/*"))), Format::Json);
        assert!(Format::Json.matches(&bare(StatusCode::NOT_FOUND, Some("application/json"))));
        assert!(!Format::Json.matches(&bare(StatusCode::NOT_FOUND, Some("text/plain; charset=utf-8"))));
        assert!(Format::Html.matches(&bare(StatusCode::NOT_FOUND, Some("text/html; charset=utf-8"))));
    }

    #[test]
    fn messages_are_read_back_and_capped() {
        assert_eq!(message_of(b"Failed to deserialize query string").unwrap(), "Failed to deserialize query string");
        assert_eq!(message_of(br#"{"error":{"code":"x","message":"gone"}}"#).unwrap(), "gone");
        assert_eq!(message_of(b"  "), None);
        let long = message_of("é".repeat(2000).as_bytes()).unwrap();
        assert_eq!(long.chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
