//! The HTTP face of the service: routers per audience, request ids, tracing,
//! errors. Handlers stay thin and call the library.

pub mod error;

use std::time::Duration;

use axum::extract::{MatchedPath, State};
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
pub use error::ApiError;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application; tests can call it without a socket.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .with_state(state)
        .layer(
            tower::ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
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
                .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
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

async fn not_found() -> ApiError {
    ApiError::NotFound("no such page or endpoint".into())
}
