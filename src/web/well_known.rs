//! Published verification material: the signing keys as a JWK Set and the
//! root certificate, read from the key directory on each request so a
//! rotation (`standing keys rotate`) shows at once.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::ApiError;
use super::AppState;
use crate::keys::KeyRing;
use crate::keys::published_keys;

async fn key_ring(state: &AppState) -> Result<KeyRing, ApiError> {
    let settings = state.settings.clone();
    tokio::task::spawn_blocking(move || published_keys(&settings))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(|e| ApiError::Internal(e.into()))
}

/// A JWK Set (RFC 7517): `{"keys": [...]}`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // describes the answer for the OpenAPI document
pub struct JwkSet {
    #[schema(value_type = Vec<Object>)]
    keys: Vec<serde_json::Value>,
}

/// `GET /.well-known/jwks.json`: every signing key ever used, with its
/// window and status (RFC 7517, 8037, 7638).
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    operation_id = "jwks",
    summary = "Every report signing key ever used, current and retired (RFC 7517/8037, kid per RFC 7638)",
    responses((status = 200, description = "A JWK Set", body = JwkSet, content_type = "application/jwk-set+json")),
)]
pub async fn jwks(State(state): State<AppState>) -> Result<Response, ApiError> {
    let ring = key_ring(&state).await?;
    let body = serde_json::to_vec_pretty(&ring.jwks(state.clock.now())).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(([(CONTENT_TYPE, "application/jwk-set+json"), (CACHE_CONTROL, "public, max-age=300")], body).into_response())
}

/// `GET /.well-known/standing-root.pem`: the root certificate, for viewers'
/// trust lists.
#[utoipa::path(
    get,
    path = "/.well-known/standing-root.pem",
    operation_id = "rootCertificate",
    summary = "The root certificate that issues the signing certificates",
    responses(
        (status = 200, description = "PEM", body = String, content_type = "application/x-pem-file"),
        (status = 404, description = "No root yet", body = super::error::ErrorBody),
    ),
)]
pub async fn root_pem(State(state): State<AppState>) -> Result<Response, ApiError> {
    let ring = key_ring(&state).await?;
    let pem = ring.root_pem().ok_or_else(|| ApiError::NotFound("no root certificate has been created yet".into()))?;
    Ok(([(CONTENT_TYPE, "application/x-pem-file"), (CACHE_CONTROL, "public, max-age=3600")], pem).into_response())
}
