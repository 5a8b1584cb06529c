//! The applicant's journey under load: `BENCH_APPLICANTS` (200) applicants
//! at once through the JSON API, from apply to the issued report's
//! download, on SQLite and (with `BENCH_DATABASE_URL`) PostgreSQL.
//!
//! Each applicant has an account of their own (the demo's A1001, cloned
//! with its own id, passport number and phone), so every application
//! matches. Codes go through the `http` SMS transport to a gateway this
//! benchmark runs; the identity review is approved by a script calling the
//! same decision as `standing reviews approve`; the report is issued by
//! `standing serve`'s own generator. Printed: the wall time, applicants per
//! second, and p50 / p99 of every step, and the errors (there must be none).
//!
//! `cargo bench --bench journey`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use standing::app::Application;
use standing::applications::{ReviewDecision, request_rng};
use standing::config::SmsTransportKind;
use standing::identity::evidence::sample_picture;
use tokio::sync::Notify;

/// The gateway's inbox: phone → latest code.
#[derive(Default)]
struct Gateway {
    codes: Mutex<HashMap<String, String>>,
    arrived: Notify,
}

async fn receive(State(gateway): State<Arc<Gateway>>, Json(message): Json<Value>) -> Json<Value> {
    let to = message["to"].as_str().unwrap_or_default().to_owned();
    let code = message["text"].as_str().unwrap_or_default().chars().take(6).collect();
    gateway.codes.lock().unwrap().insert(to, code);
    gateway.arrived.notify_waiters();
    Json(json!({"status": "queued"}))
}

impl Gateway {
    async fn code_for(&self, phone: &str) -> String {
        loop {
            let notified = self.arrived.notified();
            if let Some(code) = self.codes.lock().unwrap().get(phone) {
                return code.clone();
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
        }
    }
}

/// The demo directory with `n` clones of A1001 (and the rates), shifted
/// like the demo itself when loaded.
fn cloned_demo(dir: &Path, n: usize) {
    let demo = standing::demo::demo_dir();
    let read = |name: &str| std::fs::read_to_string(demo.join(name)).unwrap();
    std::fs::write(dir.join("02-fx_rates.jsonl"), read("02-fx_rates.jsonl")).unwrap();
    let of_a1001 = |name: &str| -> Vec<String> {
        read(name).lines().filter(|l| l.contains("\"A1001\"")).map(str::to_owned).collect()
    };
    let account = of_a1001("01-accounts.jsonl");
    let balances = of_a1001("03-balances.jsonl");
    let bills = of_a1001("04-bills.jsonl");
    let transactions = [of_a1001("05-transactions-1.jsonl"), of_a1001("05-transactions-2.jsonl")].concat();
    for (file, lines) in [
        ("01-accounts.jsonl", &account),
        ("03-balances.jsonl", &balances),
        ("04-bills.jsonl", &bills),
        ("05-transactions.jsonl", &transactions),
    ] {
        let mut out = String::new();
        for i in 0..n {
            let id = format!("B{i:04}");
            for line in lines {
                out.push_str(
                    &line.replace("A1001", &id).replace("E12345678", &passport(i)).replace("+8613800138000", &phone(i)),
                );
                out.push('\n');
            }
        }
        std::fs::write(dir.join(file), out).unwrap();
    }
}

fn passport(i: usize) -> String {
    format!("G{:08}", 10_000_000 + i)
}

fn phone(i: usize) -> String {
    format!("+86138{:08}", 20_000_000 + i)
}

/// One applicant's times per step.
#[derive(Debug, Default, Clone)]
struct Steps {
    apply: Duration,
    code_arrives: Duration,
    code: Duration,
    photos: Duration,
    approve: Duration,
    issued_after_approval: Duration,
    download: Duration,
    total: Duration,
}

async fn applicant(
    i: usize,
    base: String,
    client: reqwest::Client,
    gateway: Arc<Gateway>,
    state: standing::web::AppState,
    selfie: Vec<u8>,
    page: Vec<u8>,
) -> Result<Steps, String> {
    let mut steps = Steps::default();
    let start = Instant::now();
    let check = |r: &reqwest::Response, want: u16, step: &str| {
        if r.status().as_u16() == want { Ok(()) } else { Err(format!("applicant {i}: {step} answered {}", r.status())) }
    };
    let t = Instant::now();
    let body = json!({
        "full_name": "ZHANG Wei", "passport_number": passport(i), "passport_country": "CHN", "nationality": "CHN",
        "date_of_birth": "1990-04-12", "phone": phone(i), "email": format!("applicant{i}@example.com"),
        "purpose": "study", "consents": {"financial_data": true, "email": true, "cross_border": true}
    });
    let r = client.post(format!("{base}/api/v1/applications")).json(&body).send().await.map_err(|e| e.to_string())?;
    check(&r, 202, "apply")?;
    let started: Value = r.json().await.map_err(|e| e.to_string())?;
    steps.apply = t.elapsed();
    let (id, token) = (started["id"].as_str().unwrap().to_owned(), started["token"].as_str().unwrap().to_owned());
    let url = |tail: &str| format!("{base}/api/v1/applications/{id}{tail}");

    let t = Instant::now();
    let code = gateway.code_for(&phone(i)).await;
    steps.code_arrives = t.elapsed();

    let t = Instant::now();
    let r = client
        .post(url("/otp"))
        .bearer_auth(&token)
        .json(&json!({"code": code}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    check(&r, 200, "otp")?;
    steps.code = t.elapsed();

    let t = Instant::now();
    let form = reqwest::multipart::Form::new()
        .part("selfie", reqwest::multipart::Part::bytes(selfie).file_name("selfie.jpg"))
        .part("passport_page", reqwest::multipart::Part::bytes(page).file_name("page.png"));
    let r =
        client.post(url("/identity")).bearer_auth(&token).multipart(form).send().await.map_err(|e| e.to_string())?;
    check(&r, 202, "identity")?;
    steps.photos = t.elapsed();

    let t = Instant::now();
    let decided = state.applications.decide(&id, &ReviewDecision::Approve, "staff:bench", &mut request_rng()).await;
    let decided = decided.map_err(|e| format!("applicant {i}: approve: {e}"))?;
    if decided.as_str() != "generating" {
        return Err(format!("applicant {i}: approved into {}", decided.as_str()));
    }
    steps.approve = t.elapsed();

    let t = Instant::now();
    loop {
        let r = client.get(url("")).bearer_auth(&token).send().await.map_err(|e| e.to_string())?;
        check(&r, 200, "status")?;
        let status: Value = r.json().await.map_err(|e| e.to_string())?;
        match status["status"].as_str() {
            Some("issued") => break,
            // A client checking back every quarter second (the status page refreshes every 3 s).
            Some("generating") => tokio::time::sleep(Duration::from_millis(250)).await,
            other => return Err(format!("applicant {i}: ended {other:?}")),
        }
    }
    steps.issued_after_approval = t.elapsed();

    let t = Instant::now();
    let r = client.get(url("/report.pdf")).bearer_auth(&token).send().await.map_err(|e| e.to_string())?;
    check(&r, 200, "report.pdf")?;
    let pdf = r.bytes().await.map_err(|e| e.to_string())?;
    if !pdf.starts_with(b"%PDF-") {
        return Err(format!("applicant {i}: the download is not a PDF"));
    }
    steps.download = t.elapsed();
    steps.total = start.elapsed();
    Ok(steps)
}

async fn run(label: &str, url: String) {
    let applicants: usize = std::env::var("BENCH_APPLICANTS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let gateway = Arc::new(Gateway::default());
    let sms_app = axum::Router::new().route("/sms", axum::routing::post(receive)).with_state(gateway.clone());
    let sms_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sms_port = sms_listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(sms_listener, sms_app).await });

    let mut state = common::open_state(&url, dir.path()).await;
    let mut settings = (*state.settings).clone();
    settings.listen = "127.0.0.1:0".parse().unwrap();
    settings.sms.transport = SmsTransportKind::Http;
    settings.sms.http_url = Some(format!("http://127.0.0.1:{sms_port}/sms"));
    settings.sms.http_token = Some(standing::config::Secret::new("bench-token"));
    // All applicants come from this one address.
    settings.applications.applications_per_address_per_hour = 1_000_000;
    settings.applications.poll_seconds = 1;
    state = standing::web::AppState::open(settings, state.clock.clone()).await.unwrap();
    let demo = dir.path().join("demo");
    std::fs::create_dir_all(&demo).unwrap();
    cloned_demo(&demo, applicants);
    let t = Instant::now();
    state.load_demo_if_empty(&demo).await.unwrap();
    println!("{label}: {applicants} accounts imported in {:.1} s", t.elapsed().as_secs_f64());

    let app = Application::build(state.clone()).await.unwrap();
    let base = format!("http://{}", app.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    let selfie = sample_picture(960, 1280, image::ImageFormat::Jpeg);
    let page = sample_picture(1600, 1130, image::ImageFormat::Jpeg);

    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..applicants {
        tasks.spawn(applicant(
            i,
            base.clone(),
            client.clone(),
            gateway.clone(),
            state.clone(),
            selfie.clone(),
            page.clone(),
        ));
    }
    let mut done = Vec::new();
    let mut errors = Vec::new();
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            Ok(steps) => done.push(steps),
            Err(e) => errors.push(e),
        }
    }
    let wall = start.elapsed();
    println!(
        "{label}: {} of {applicants} applicants from apply to download in {:.1} s: {:.1} applicants/s; errors: {}",
        done.len(),
        wall.as_secs_f64(),
        done.len() as f64 / wall.as_secs_f64(),
        errors.len()
    );
    for e in errors.iter().take(5) {
        println!("  error: {e}");
    }
    type Pick = fn(&Steps) -> Duration;
    let columns: [(&str, Pick); 8] = [
        ("apply (POST /applications)", |s| s.apply),
        ("code reaches the SMS gateway", |s| s.code_arrives),
        ("POST /otp", |s| s.code),
        ("POST /identity (2 photos, 3 MP)", |s| s.photos),
        ("approve (score + gate)", |s| s.approve),
        ("approved -> issued (generator)", |s| s.issued_after_approval),
        ("GET /report.pdf", |s| s.download),
        ("whole journey", |s| s.total),
    ];
    println!("  {:<36} {:>10} {:>10}", "step", "p50 ms", "p99 ms");
    for (name, pick) in columns {
        let mut times: Vec<Duration> = done.iter().map(pick).collect();
        if times.is_empty() {
            continue;
        }
        let (p50, p99) = common::median_p99_ms(&mut times);
        println!("  {name:<36} {p50:>10.1} {p99:>10.1}");
    }

    // The answer to a matched and an unmatched application, one at a time,
    // alternating: the same status and shape, and (what an enumerating
    // client could measure) how long each takes.
    let (mut matched, mut unmatched) = (Vec::new(), Vec::new());
    for i in 0..applicants {
        for wrong_birth in [false, true] {
            let body = json!({
                "full_name": "ZHANG Wei", "passport_number": passport(i), "passport_country": "CHN", "nationality": "CHN",
                "date_of_birth": if wrong_birth { "1990-04-13" } else { "1990-04-12" }, "phone": phone(i),
                "email": "a@example.com", "purpose": "study",
                "consents": {"financial_data": true, "email": true, "cross_border": true}
            });
            let t = Instant::now();
            let r = client.post(format!("{base}/api/v1/applications")).json(&body).send().await.unwrap();
            assert_eq!(r.status(), 202);
            let _ = r.bytes().await.unwrap();
            if wrong_birth { unmatched.push(t.elapsed()) } else { matched.push(t.elapsed()) }
        }
    }
    let (m50, m99) = common::median_p99_ms(&mut matched);
    let (u50, u99) = common::median_p99_ms(&mut unmatched);
    println!(
        "  apply, one at a time: matched p50 {m50:.2} ms p99 {m99:.2} ms; unmatched p50 {u50:.2} ms p99 {u99:.2} ms"
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        run("sqlite", format!("sqlite:{}", dir.path().join("bench.db").display())).await;
        common::with_fresh_postgres("journey", |url| run("postgres", url)).await;
    });
}
