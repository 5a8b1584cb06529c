//! The service over real HTTP on a random port.

use crate::helpers::*;

#[tokio::test]
async fn health_and_readiness() {
    let db = TestDb::new().await;
    let app = spawn_app(&db).await;

    let health = app.client.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(health.headers().contains_key("x-request-id"), "every response carries a request id");

    let ready: serde_json::Value =
        app.client.get(format!("{}/readyz", app.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], if db.is_postgres() { "postgres" } else { "sqlite" });
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let db = TestDb::new().await;
    let app = spawn_app(&db).await;
    app.state.store.close().await;

    let response = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();

    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
}

#[tokio::test]
async fn unknown_paths_get_a_json_404() {
    let db = TestDb::new().await;
    let app = spawn_app(&db).await;

    let response = app.client.get(format!("{}/no/such/thing", app.base)).send().await.unwrap();

    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    assert!(body["error"]["message"].as_str().unwrap().contains("no such"));
}

#[tokio::test]
async fn a_client_request_id_is_kept() {
    let db = TestDb::new().await;
    let app = spawn_app(&db).await;
    let response =
        app.client.get(format!("{}/healthz", app.base)).header("x-request-id", "trace-me-42").send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
}
