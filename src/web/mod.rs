//! The HTTP face of the service: routers per audience, request ids, tracing,
//! errors. Handlers stay thin and call the library.

pub mod api;
pub mod applicant;
pub mod client_addr;
pub mod csrf;
pub mod error;
pub mod lookup;
pub mod pages;
pub mod rate_limit;
pub mod request_id;
pub mod server;
mod state;
pub mod status;
pub mod uniform_errors;
pub mod upload;
pub mod well_known;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::extract::{MatchedPath, State};
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{MethodFilter, MethodRouter, get, on};
use axum::{Json, Router};
use serde_json::json;
use tower::util::MapRequestLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request URI (path and query) served; longer ones get 414 in
/// the caller's format. Well below what hyper buffers, so it is we who answer.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// An HTTP method a documented route answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentedMethod {
    Get,
    Post,
}

impl DocumentedMethod {
    /// As the OpenAPI document names it.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentedMethod::Get => "get",
            DocumentedMethod::Post => "post",
        }
    }
}

/// One documented route: its method, path and handler.
pub type DocumentedRoute = (DocumentedMethod, &'static str, MethodRouter<AppState>);

fn documented<H, T>(method: DocumentedMethod, path: &'static str, handler: H) -> DocumentedRoute
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    let filter = match method {
        DocumentedMethod::Get => MethodFilter::GET,
        DocumentedMethod::Post => MethodFilter::POST,
    };
    (method, path, on(filter, handler))
}

/// The routes for software, each in the OpenAPI document ([`api::ApiDoc`]): declared in
/// this one list, which builds the router and which a test holds against the
/// document's paths and methods. (The document itself, the health checks and
/// the officers' pages are not part of it.)
pub fn documented_routes(upload_limit: DefaultBodyLimit) -> Vec<DocumentedRoute> {
    use DocumentedMethod::{Get, Post};
    let (method, path, verify) = documented(Post, "/api/v1/verify", api::verify_upload);
    let (photos_method, photos_path, photos) =
        documented(Post, "/api/v1/applications/{id}/identity", applicant::api::upload_identity);
    vec![
        documented(Get, "/api/v1/reports/{number}", api::report_status),
        (method, path, verify.layer(upload_limit)),
        documented(Post, "/api/v1/applications", applicant::api::start),
        documented(Get, "/api/v1/applications/{id}", applicant::api::status),
        documented(Post, "/api/v1/applications/{id}/otp", applicant::api::submit_code),
        documented(Post, "/api/v1/applications/{id}/otp/resend", applicant::api::resend_code),
        (photos_method, photos_path, photos.layer(photo_limit())),
        documented(Get, "/api/v1/applications/{id}/report.pdf", applicant::api::report_pdf),
        documented(Get, "/.well-known/jwks.json", well_known::jwks),
        documented(Get, "/.well-known/standing-root.pem", well_known::root_pem),
    ]
}

/// The body limit of the identity upload: two photos and the multipart
/// framing (each photo's own limit is checked as it is read).
fn photo_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(2 * crate::identity::evidence::MAX_IMAGE_BYTES + 256 * 1024)
}

/// The whole application; tests can call it without a socket.
pub fn router(state: AppState) -> Router {
    // Room for the multipart framing around the largest accepted PDF.
    let upload_limit = DefaultBodyLimit::max(state.settings.verify.max_upload_bytes + 64 * 1024);
    let request_timeout = Duration::from_secs(state.settings.server.request_timeout_seconds);
    // Answers carrying report data must not be kept by browsers or proxies;
    // the published keys set their own caching.
    let (mut api, mut published) = (Router::new(), Router::new());
    for (_, path, route) in documented_routes(upload_limit) {
        if path.starts_with("/api/") {
            api = api.route(path, route);
        } else {
            published = published.route(path, route);
        }
    }
    let api = api
        .route("/api/v1/openapi.json", get(api::openapi))
        .layer(SetResponseHeaderLayer::if_not_present(CACHE_CONTROL, HeaderValue::from_static("no-store")));
    Router::new()
        .merge(published)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/verify", get(pages::form).post(pages::upload).layer(upload_limit))
        .route("/verify/{number}", get(pages::status))
        .route("/", get(applicant::pages::home))
        .route("/apply", get(applicant::pages::form).post(applicant::pages::submit))
        .route("/apply/{id}", get(applicant::pages::status))
        .route("/apply/{id}/code", get(applicant::pages::code_form).post(applicant::pages::code_submit))
        .route("/apply/{id}/code/resend", axum::routing::post(applicant::pages::code_resend))
        .route(
            "/apply/{id}/identity",
            get(applicant::pages::identity_form).post(applicant::pages::identity_submit).layer(photo_limit()),
        )
        .route("/apply/{id}/report.pdf", get(applicant::pages::report_pdf))
        .merge(api)
        .fallback(not_found)
        .layer(
            tower::ServiceBuilder::new()
                // A client's id is kept only when short and plain; otherwise
                // (and when absent) we make one.
                .layer(MapRequestLayer::new(request_id::drop_unsafe))
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                // Report numbers and codes travel in URLs: never leak them
                // to other sites, never let the pages be framed or sniffed.
                .layer(SetResponseHeaderLayer::overriding(REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
                .layer(SetResponseHeaderLayer::overriding(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
                .layer(SetResponseHeaderLayer::overriding(X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                    // The route template, never the raw path: paths can carry
                    // report numbers and codes.
                    let route = request
                        .extensions()
                        .get::<MatchedPath>()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_else(|| "unmatched".into());
                    let request_id =
                        request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
                    tracing::info_span!("request", method = %request.method(), route, request_id)
                }))
                // Every error, ours or the framework's (extractor
                // rejections, 405, 408, 414), in the caller's format.
                .layer(axum::middleware::from_fn_with_state(state.clone(), uniform_errors::uniform_errors))
                .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, request_timeout)),
        )
        .with_state(state)
}

/// Alive: the process answers.
async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// Ready: the database answers too.
async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = ?e, "database not reachable");
        ApiError::Unavailable("database not reachable".into())
    })?;
    Ok(Json(json!({"status": "ready", "database": state.store.backend_name()})))
}

/// Unknown routes: a bare 404 that [`uniform_errors`] answers in the
/// caller's format (JSON for the API, a page for browsers).
async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "There is no such page or endpoint at this address.")
}
