use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::TimeZone;

use super::*;

fn message() -> SmsMessage {
    SmsMessage {
        id: "0b7e6a52-3c1d-4f8e-9a2b-5d6c7e8f9a0b".into(),
        to: PhoneNumber::parse("+8613800138000").unwrap(),
        text: "Your standing code is 493817. It expires in 10 minutes.".into(),
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

#[test]
fn debug_hides_the_code_and_masks_the_number() {
    let shown = format!("{:?}", message());
    assert!(!shown.contains("493817") && !shown.contains("13800138000"), "{shown}");
}

#[tokio::test]
async fn the_file_transport_writes_one_private_json_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let settings = SmsSettings { file_dir: Some(dir.path().join("sms")), ..SmsSettings::default() };
    let sender = SmsSender::from_settings(&settings, dir.path()).unwrap();
    let written = sender.send(&message(), now()).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path().join("sms")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "no partial file left: {files:?}");
    assert_eq!(files[0].display().to_string(), written);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(json["to"], "+8613800138000");
    assert_eq!(json["text"], message().text);
    assert_eq!(json["id"], message().id);
    assert_eq!(json["created_at"], "2026-12-01T09:00:00Z");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

/// What the gateway received, and what it answers.
#[derive(Default)]
struct Gateway {
    requests: Vec<(HeaderMap, serde_json::Value)>,
    answer: Option<(StatusCode, String)>,
}

async fn gateway(gw: Arc<Mutex<Gateway>>) -> String {
    async fn handle(
        State(gw): State<Arc<Mutex<Gateway>>>,
        headers: HeaderMap,
        Json(body): Json<serde_json::Value>,
    ) -> (StatusCode, String) {
        let mut gw = gw.lock().unwrap();
        gw.requests.push((headers, body));
        gw.answer.clone().unwrap_or((StatusCode::ACCEPTED, "queued 42".into()))
    }
    let app = axum::Router::new().route("/v1/messages", post(handle)).with_state(gw);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1/messages")
}

fn http_sender(url: String) -> SmsSender {
    let settings = SmsSettings {
        transport: SmsTransportKind::Http,
        http_url: Some(url),
        http_token: Some(Secret::new("gw-token-7")),
        timeout_seconds: 2,
        ..SmsSettings::default()
    };
    SmsSender::from_settings(&settings, Path::new("unused")).unwrap()
}

#[tokio::test]
async fn the_http_transport_posts_json_with_the_token_and_an_idempotency_key() {
    let gw = Arc::new(Mutex::new(Gateway::default()));
    let sender = http_sender(gateway(gw.clone()).await);
    assert_eq!(sender.send(&message(), now()).await.unwrap(), "202 queued 42");
    let (headers, body) = gw.lock().unwrap().requests.remove(0);
    assert_eq!(headers["authorization"], "Bearer gw-token-7");
    assert_eq!(headers["idempotency-key"], message().id.as_str());
    assert_eq!(body, serde_json::json!({"id": message().id, "to": "+8613800138000", "text": message().text}));
}

#[tokio::test]
async fn gateway_refusals_are_permanent_and_its_trouble_transient() {
    let gw = Arc::new(Mutex::new(Gateway::default()));
    let sender = http_sender(gateway(gw.clone()).await);
    for (status, permanent) in [
        (StatusCode::BAD_REQUEST, true),
        (StatusCode::UNAUTHORIZED, true),
        (StatusCode::TOO_MANY_REQUESTS, false),
        (StatusCode::REQUEST_TIMEOUT, false),
        (StatusCode::INTERNAL_SERVER_ERROR, false),
        (StatusCode::SERVICE_UNAVAILABLE, false),
    ] {
        gw.lock().unwrap().answer = Some((status, "nope".into()));
        let failure = sender.send(&message(), now()).await.unwrap_err();
        assert_eq!(failure.permanent, permanent, "{status}: {failure:?}");
        assert!(failure.message.contains(status.as_str()), "{failure:?}");
    }
    // Nobody listening: transient, and neither the token nor the code shows.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let failure = http_sender(format!("http://{closed}/v1/messages")).send(&message(), now()).await.unwrap_err();
    assert!(!failure.permanent, "{failure:?}");
    assert!(!failure.message.contains("gw-token-7") && !failure.message.contains("493817"), "{failure:?}");
}
