//! The service over real HTTP on a random port.

use crate::helpers::*;

#[tokio::test]
async fn health_and_readiness() {
    let db = TestDb::new().await;
    let app = spawn_app(&db).await;

    let health = app.healthz().await;
    assert_eq!(health.status(), 200);
    assert!(health.headers().contains_key("x-request-id"), "every response carries a request id");

    let ready: serde_json::Value = app.readyz().await.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], if db.is_postgres() { "postgres" } else { "sqlite" });
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let db = TestDb::new().await;
    let app = spawn_app(&db).await;
    app.state.store.close().await;

    let response = app.readyz().await;

    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
}

#[tokio::test]
async fn unknown_paths_get_a_json_404() {
    let db = TestDb::new().await;
    let app = spawn_app(&db).await;

    let response = app.get("/no/such/thing").await;

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

// The connection limits (issue 10, 6a). Timeouts are small settings; no
// test measures time: each only waits, with a generous bound, for what must
// happen.

use std::time::Duration;

use standing::web::AppState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far more than any timeout these tests set: what must happen happens
/// before it.
const BOUND: Duration = Duration::from_secs(30);

async fn app_with(db: &TestDb, tweak: impl FnOnce(&mut standing::config::Settings)) -> TestApp {
    let mut settings = db.settings();
    tweak(&mut settings);
    spawn_app_with(AppState::open(settings, clock()).await.unwrap()).await
}

/// Reads until the server closes the connection: `true` once it has (end
/// of stream or reset), within [`BOUND`].
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    tokio::time::timeout(BOUND, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    })
    .await
    .unwrap_or(false)
}

/// Sends a whole `GET path` on `stream` and reads its (small) answer.
async fn get_on(stream: &mut TcpStream, path: &str) -> String {
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes()).await.unwrap();
    read_response(stream).await
}

/// One HTTP/1.1 response with a `Content-Length` body.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(BOUND, async {
        loop {
            let text = String::from_utf8_lossy(&data).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                if data.len() >= end + 4 + length {
                    return text;
                }
            }
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed before a whole response: {text}");
            data.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("a response in time")
}

async fn wait_until(mut condition: impl FnMut() -> bool) {
    tokio::time::timeout(BOUND, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the condition within the bound");
}

#[tokio::test]
async fn a_half_header_connection_is_closed_after_the_header_timeout() {
    let db = TestDb::new().await;
    let app = app_with(&db, |s| {
        s.server.header_read_timeout_seconds = 1;
        s.server.idle_timeout_seconds = 3600;
    })
    .await;
    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: ").await.unwrap();

    assert!(closed_by_server(&mut slow).await, "closed although the idle timeout is an hour");
    assert_eq!(app.connections.timed_out(), 1);
    wait_until(|| app.connections.open() == 0).await;
    // Others are served as before.
    assert_eq!(app.healthz().await.status(), 200);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let db = TestDb::new().await;
    let app = app_with(&db, |s| {
        s.server.header_read_timeout_seconds = 3600;
        s.server.idle_timeout_seconds = 1;
    })
    .await;
    let mut client = TcpStream::connect(app.addr).await.unwrap();
    // Kept alive between requests...
    assert!(get_on(&mut client, "/healthz").await.starts_with("HTTP/1.1 200"));
    assert!(get_on(&mut client, "/healthz").await.starts_with("HTTP/1.1 200"));
    // ...and closed once idle.
    assert!(closed_by_server(&mut client).await);
    assert_eq!(app.connections.timed_out(), 1);
}

#[tokio::test]
async fn at_the_connection_limit_new_clients_wait_and_are_served_when_a_slot_frees() {
    let db = TestDb::new().await;
    let app = app_with(&db, |s| {
        s.server.max_connections = 2;
        s.server.header_read_timeout_seconds = 3600;
        s.server.idle_timeout_seconds = 3600;
    })
    .await;
    // One served client and one that sends half a header fill both slots.
    let mut served = TcpStream::connect(app.addr).await.unwrap();
    assert!(get_on(&mut served, "/healthz").await.starts_with("HTTP/1.1 200"));
    let mut half = TcpStream::connect(app.addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: te").await.unwrap();
    wait_until(|| app.connections.open() == 2).await;

    // A third client connects (the kernel queues it) and asks.
    let mut waiting = TcpStream::connect(app.addr).await.unwrap();
    waiting.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n").await.unwrap();
    // The served client goes on being served meanwhile...
    assert!(get_on(&mut served, "/healthz").await.starts_with("HTTP/1.1 200"));
    // ...while the third was not taken on: no descriptor of ours for it.
    assert_eq!(app.connections.accepted(), 2);
    assert_eq!(app.connections.open(), 2);
    let mut probe = [0u8; 1];
    assert!(matches!(waiting.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock));

    // A slot frees: the waiting client is served.
    drop(half);
    let response = read_response(&mut waiting).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert_eq!(app.connections.accepted(), 3);
}

#[tokio::test]
async fn shutdown_completes_within_the_deadline_while_a_slow_client_is_connected() {
    let db = TestDb::new().await;
    let app = app_with(&db, |s| {
        s.server.header_read_timeout_seconds = 3600;
        s.server.idle_timeout_seconds = 3600;
        s.server.shutdown_timeout_seconds = 1;
    })
    .await;
    let mut half = TcpStream::connect(app.addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: te").await.unwrap();
    let mut idle = TcpStream::connect(app.addr).await.unwrap();
    assert!(get_on(&mut idle, "/healthz").await.starts_with("HTTP/1.1 200"));
    let connections = app.connections.clone();
    wait_until(|| connections.open() == 2).await;

    // Neither the idle nor the half-open client holds the server: it stops
    // long before their hour-long timeouts.
    let stopped = tokio::time::timeout(BOUND, app.shut_down()).await;
    assert!(matches!(stopped, Ok(Ok(()))), "the server stops within the deadline: {stopped:?}");
    assert!(closed_by_server(&mut half).await);
    assert!(closed_by_server(&mut idle).await);
    assert_eq!(connections.open(), 0);
}

// Request ids (issue 10, 6f).

#[tokio::test]
async fn only_short_plain_request_ids_are_taken_from_clients() {
    let db = TestDb::new().await;
    let app = spawn_app(&db).await;
    let url = format!("{}/healthz", app.base);
    for bad in ["x".repeat(8 * 1024), "x".repeat(65), "has spaces".into(), "<script>".into()] {
        let response = app.client.get(&url).header("x-request-id", bad.as_str()).send().await.unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap();
        assert_ne!(id, bad);
        assert!(uuid::Uuid::parse_str(id).is_ok(), "one of ours instead: {id}");
    }
    let fine = "a".repeat(64);
    let response = app.client.get(&url).header("x-request-id", fine.as_str()).send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], fine.as_str());
}

// Every error in the caller's format (issue 10, 6e).

async fn json_error(response: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(response.status(), status);
    assert!(
        response.headers()["content-type"].to_str().unwrap().starts_with("application/json"),
        "{:?}",
        response.headers()
    );
    assert!(response.headers().contains_key("x-request-id"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(!body["error"]["message"].as_str().unwrap().is_empty(), "{body}");
    body
}

async fn html_error(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains("<html"), "{html}");
    html
}

#[tokio::test]
async fn api_errors_are_json_whatever_fails() {
    let db = TestDb::new().await;
    let app = spawn_app(&db).await;
    let c = &app.client;
    let base = &app.base;
    let number = "SR-KYYF-9TKJ-6Q8Q";

    // A path segment that is not UTF-8.
    json_error(
        c.get(format!("{base}/api/v1/reports/%FF%FE?code=ABCD-EFGH")).send().await.unwrap(),
        400,
        "malformed_request",
    )
    .await;
    // A query parameter given twice.
    let body = json_error(
        c.get(format!("{base}/api/v1/reports/{number}?code=ABCD-EFGH&code=ABCD-EFGH")).send().await.unwrap(),
        400,
        "malformed_request",
    )
    .await;
    assert!(body["error"]["message"].as_str().unwrap().contains("duplicate"), "{body}");
    // Too long a URI: ours, not hyper's bare answer.
    let long = format!("{base}/api/v1/reports/{number}?code={}", "A".repeat(9000));
    let body = json_error(c.get(long).send().await.unwrap(), 414, "uri_too_long").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("8192"), "{body}");
    // A wrong method keeps its Allow header.
    let response = c.delete(format!("{base}/api/v1/reports/{number}")).send().await.unwrap();
    assert!(response.headers()["allow"].to_str().unwrap().contains("GET"));
    json_error(response, 405, "method_not_allowed").await;
    json_error(c.put(format!("{base}/api/v1/verify")).send().await.unwrap(), 405, "method_not_allowed").await;
    // An unknown route, even for a browser.
    let response = c.get(format!("{base}/api/v1/nothing")).header("accept", "text/html").send().await.unwrap();
    json_error(response, 404, "not_found").await;
}

#[tokio::test]
async fn page_errors_are_pages() {
    let db = TestDb::new().await;
    let app = spawn_app(&db).await;
    let c = &app.client;
    let base = &app.base;

    html_error(c.get(format!("{base}/verify/%FF%FE?c=ABCD-EFGH")).send().await.unwrap(), 400).await;
    html_error(c.get(format!("{base}/verify?number=a&number=b")).send().await.unwrap(), 400).await;
    let html = html_error(c.get(format!("{base}/verify?number={}", "A".repeat(9000))).send().await.unwrap(), 414).await;
    assert!(html.contains("The address is too long"), "{html}");
    html_error(c.delete(format!("{base}/verify")).send().await.unwrap(), 405).await;
    let html =
        html_error(c.get(format!("{base}/nowhere")).header("accept", "text/html").send().await.unwrap(), 404).await;
    assert!(html.contains("Page not found"), "{html}");
}

#[tokio::test]
async fn a_server_error_page_quotes_the_request_id() {
    let db = TestDb::new().await;
    let app = spawn_app(&db).await;
    app.state.store.close().await;
    let number = "SR-KYYF-9TKJ-6Q8Q";

    let response = app.verify_page(number, "ABCD-EFGH").await;
    let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let html = html_error(response, 500).await;
    assert!(html.contains(&id), "the page shows the reference {id}: {html}");
    assert!(html.contains("Something went wrong"), "{html}");

    let response = app.report_status(number, "ABCD-EFGH").await;
    let body = json_error(response, 500, "internal_error").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("x-request-id"));
}
