//! The HTTP face of the service: routers per audience, request ids, tracing,
//! errors. Handlers stay thin and call the library.

pub mod api;
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
use axum::routing::{get, post};
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

/// The whole application; tests can call it without a socket.
pub fn router(state: AppState) -> Router {
    // Room for the multipart framing around the largest accepted PDF.
    let upload_limit = DefaultBodyLimit::max(state.settings.verify.max_upload_bytes + 64 * 1024);
    let request_timeout = Duration::from_secs(state.settings.server.request_timeout_seconds);
    // Answers carrying report data must not be kept by browsers or proxies.
    let api = Router::new()
        .route("/api/v1/reports/{number}", get(api::report_status))
        .route("/api/v1/verify", post(api::verify_upload).layer(upload_limit))
        .route("/api/v1/openapi.json", get(api::openapi))
        .layer(SetResponseHeaderLayer::if_not_present(CACHE_CONTROL, HeaderValue::from_static("no-store")));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/verify", get(pages::form).post(pages::upload).layer(upload_limit))
        .route("/verify/{number}", get(pages::status))
        .route("/.well-known/jwks.json", get(well_known::jwks))
        .route("/.well-known/standing-root.pem", get(well_known::root_pem))
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
