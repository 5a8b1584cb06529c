//! The applicant's journey through the JSON API, end to end: the app on a
//! random port with a fresh database (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`) and the demo data; codes read from the SMS files
//! the service writes; the review decided as staff do.

use std::path::{Path, PathBuf};
use std::time::Duration;

use image::ImageFormat;
use reqwest::StatusCode;
use serde_json::{Value, json};
use standing::applications::ReviewDecision;
use standing::demo::demo_dir;
use standing::identity::evidence::sample_picture;
use standing::web::AppState;

use crate::helpers::*;

/// A demo applicant above the threshold, and one at or below it.
pub const ELIGIBLE: (&str, &str, &str, &str) = ("ZHANG Wei", "E12345678", "1990-04-12", "+8613800138000");
pub const INELIGIBLE: (&str, &str, &str, &str) = ("WU Xiaoming", "E90125734", "2003-05-14", "+8619512873046");

pub fn body(who: (&str, &str, &str, &str)) -> Value {
    let (name, passport, dob, phone) = who;
    json!({
        "full_name": name, "passport_number": passport, "passport_country": "CHN", "nationality": "CHN",
        "date_of_birth": dob, "phone": phone, "email": "applicant@example.com", "authority": "IRCC",
        "purpose": "study", "consents": {"financial_data": true, "email": true, "cross_border": true}
    })
}

pub async fn demo_app(db: &TestDb, clock: standing::clock::SharedClock) -> TestApp {
    let state = AppState::open(db.settings(), clock).await.unwrap();
    state.load_demo_if_empty(&demo_dir()).await.unwrap();
    spawn_app_with(state).await
}

pub struct Applicant<'a> {
    pub app: &'a TestApp,
    pub id: String,
    pub token: String,
}

impl TestApp {
    pub async fn apply(&self, body: &Value) -> reqwest::Response {
        self.client.post(self.url("/api/v1/applications")).json(body).send().await.unwrap()
    }

    pub async fn start(&self, body: &Value) -> Applicant<'_> {
        let response = self.apply(body).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let answer: Value = response.json().await.unwrap();
        Applicant {
            app: self,
            id: answer["id"].as_str().unwrap().to_owned(),
            token: answer["token"].as_str().unwrap().to_owned(),
        }
    }
}

impl Applicant<'_> {
    fn url(&self, tail: &str) -> String {
        self.app.url(&format!("/api/v1/applications/{}{tail}", self.id))
    }

    pub async fn status(&self) -> (StatusCode, Value) {
        let r = self.app.client.get(self.url("")).bearer_auth(&self.token).send().await.unwrap();
        (r.status(), r.json().await.unwrap())
    }

    pub async fn code(&self, code: &str) -> (StatusCode, Value) {
        let r = self.app.client.post(self.url("/otp")).bearer_auth(&self.token).json(&json!({"code": code})).send();
        let r = r.await.unwrap();
        (r.status(), r.json().await.unwrap())
    }

    pub async fn resend(&self) -> reqwest::Response {
        self.app.client.post(self.url("/otp/resend")).bearer_auth(&self.token).send().await.unwrap()
    }

    pub async fn upload(&self, selfie: Vec<u8>, page: Vec<u8>) -> (StatusCode, Value) {
        let form = reqwest::multipart::Form::new()
            .part("selfie", reqwest::multipart::Part::bytes(selfie).file_name("selfie.jpg"))
            .part("passport_page", reqwest::multipart::Part::bytes(page).file_name("page.png"));
        let r = self.app.client.post(self.url("/identity")).bearer_auth(&self.token).multipart(form).send();
        let r = r.await.unwrap();
        (r.status(), r.json().await.unwrap())
    }

    pub async fn photos(&self) -> (StatusCode, Value) {
        self.upload(sample_picture(640, 480, ImageFormat::Jpeg), sample_picture(900, 640, ImageFormat::Png)).await
    }

    pub async fn report(&self) -> reqwest::Response {
        self.app.client.get(self.url("/report.pdf")).bearer_auth(&self.token).send().await.unwrap()
    }

    /// Polls until the status is not `from` (the service working).
    pub async fn wait_past(&self, from: &str) -> Value {
        for _ in 0..200 {
            let (_, answer) = self.status().await;
            if answer["status"] != from {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the application stayed {from}");
    }
}

/// The text messages the file transport wrote, oldest first.
pub fn sms_files(dir: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "json")).collect()
        })
        .unwrap_or_default();
    files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    files.iter().map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()).collect()
}

/// Waits for the `n`th text message (they are sent in the background).
pub async fn nth_sms(dir: &Path, n: usize) -> Value {
    for _ in 0..100 {
        let files = sms_files(dir);
        if files.len() >= n {
            return files[n - 1].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no text message number {n} in {}", dir.display());
}

pub fn code_in(sms: &Value) -> String {
    sms["text"].as_str().unwrap()[..6].to_owned()
}

fn sms_dir(db: &TestDb) -> PathBuf {
    db.dir.join("var").join("sms")
}

#[tokio::test]
async fn the_whole_journey_through_the_api_issues_emails_and_verifies_the_report() {
    let db = TestDb::new().await;
    let app = demo_app(&db, clock()).await;
    let applicant = app.start(&body(ELIGIBLE)).await;
    let (_, status) = applicant.status().await;
    assert_eq!(status["status"], "awaiting_otp");

    // The code went to the phone on file, and only there.
    let sms = nth_sms(&sms_dir(&db), 1).await;
    assert_eq!(sms["to"], "+8613800138000");
    let code = code_in(&sms);

    // Steps out of order answer 409 with the status as it is.
    let (status_code, refused) = applicant.photos().await;
    assert_eq!(status_code, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["error"]["status"], "awaiting_otp");
    assert_eq!(applicant.report().await.status(), StatusCode::CONFLICT);

    let (status_code, answer) = applicant.code(&code).await;
    assert_eq!(status_code, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "awaiting_identity");
    // A code is used once.
    assert_eq!(applicant.code(&code).await.0, StatusCode::CONFLICT);

    let (status_code, answer) = applicant.photos().await;
    assert_eq!(status_code, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["status"], "identity_review");
    let stored = app.state.store.identity_evidence(&applicant.id).await.unwrap();
    assert_eq!(stored.len(), 2);

    // Staff approve; the running service issues the report.
    let status = app
        .state
        .applications
        .decide(&applicant.id, &ReviewDecision::Approve, "staff:test", &mut standing::applications::request_rng())
        .await
        .unwrap();
    assert_eq!(status.as_str(), "generating");
    let done = applicant.wait_past("generating").await;
    assert_eq!(done["status"], "issued", "{done}");
    let number = done["report_number"].as_str().unwrap().to_owned();

    let pdf = applicant.report().await;
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let pdf = pdf.bytes().await.unwrap().to_vec();
    // The downloaded PDF is exactly the registry's, and an officer's check of it passes.
    let upload = app.verify_upload("application/pdf", pdf.clone()).await;
    let verdict: Value = upload.json().await.unwrap();
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["report"]["number"].as_str().unwrap_or(&number), number);

    // The email with the PDF was queued with the report.
    let mails = app.state.outbox.list(standing::store::MailFilter::default(), 10).await.unwrap();
    let mail = serde_json::to_value(&mails).unwrap();
    assert!(
        mail.as_array().unwrap().iter().any(|m| m["kind"] == "report_issued" && m["report_number"] == number.as_str()),
        "{mail}"
    );

    // Every move is recorded with its cause and actor.
    let events = app.state.store.application_events(&applicant.id).await.unwrap();
    let moves: Vec<(String, String)> = events.iter().map(|e| (e.to_status.clone(), e.actor.clone())).collect();
    assert_eq!(
        moves,
        [
            ("awaiting_otp", "applicant"),
            ("awaiting_identity", "applicant"),
            ("identity_review", "applicant"),
            ("generating", "staff:test"),
            ("issued", "service")
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    app.shut_down().await.unwrap();
}

#[tokio::test]
async fn matched_and_unmatched_applications_get_the_same_answer_and_only_the_phone_on_file_a_code() {
    let db = TestDb::new().await;
    let app = demo_app(&db, clock()).await;
    let mut unmatched = body(ELIGIBLE);
    unmatched["date_of_birth"] = json!("1990-04-13");
    let mut other_phone = body(ELIGIBLE);
    other_phone["phone"] = json!("+8613912345678");
    let mut answers = Vec::new();
    for request in [body(ELIGIBLE), unmatched, other_phone] {
        let response = app.apply(&request).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let answer: Value = response.json().await.unwrap();
        let mut keys: Vec<&String> = answer.as_object().unwrap().keys().collect();
        keys.sort();
        answers.push((
            keys.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
            answer["status"].clone(),
            answer["message"].clone(),
        ));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = sms_files(&sms_dir(&db));
    assert_eq!(sent.len(), 1, "only the matched application sends a code: {sent:?}");
    assert_eq!(sent[0]["to"], "+8613800138000");

    // An unmatched application never passes the code step, whatever is typed.
    let mut typed_phone = body(ELIGIBLE);
    typed_phone["phone"] = json!("+8613912345678");
    let stranger = app.start(&typed_phone).await;
    let (status, _) = stranger.status().await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = stranger.code(&code_in(&sent[0])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(stranger.status().await.1["status"], "awaiting_otp");
    app.shut_down().await.unwrap();
}

#[tokio::test]
async fn five_wrong_codes_void_the_code_and_the_right_one_then_fails() {
    let db = TestDb::new().await;
    let app = demo_app(&db, clock()).await;
    let applicant = app.start(&body(ELIGIBLE)).await;
    let code = code_in(&nth_sms(&sms_dir(&db), 1).await);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in (1..=4).rev() {
        let (status, answer) = applicant.code(wrong).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            answer["error"]["fields"]["code"].as_str().unwrap().contains(&format!("{left} tries left")),
            "{answer}"
        );
    }
    let (_, fifth) = applicant.code(wrong).await;
    assert!(fifth["error"]["message"].as_str().unwrap().contains("no longer works"), "{fifth}");
    let (status, sixth) = applicant.code(&code).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(sixth["error"]["message"].as_str().unwrap().contains("no longer works"), "{sixth}");
    assert_eq!(applicant.status().await.1["status"], "awaiting_otp");
    app.shut_down().await.unwrap();
}

#[tokio::test]
async fn resending_is_limited_to_once_a_minute_and_three_times_an_hour() {
    let db = TestDb::new().await;
    let clock = TestClock::at(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 21, 9, 0, 0).unwrap());
    let app = demo_app(&db, clock.clone()).await;
    let applicant = app.start(&body(ELIGIBLE)).await;
    let first = code_in(&nth_sms(&sms_dir(&db), 1).await);
    let too_soon = applicant.resend().await;
    assert_eq!(too_soon.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(too_soon.headers().contains_key("retry-after"));
    clock.advance(chrono::Duration::seconds(61));
    assert_eq!(applicant.resend().await.status(), StatusCode::ACCEPTED);
    let second = code_in(&nth_sms(&sms_dir(&db), 2).await);
    clock.advance(chrono::Duration::seconds(61));
    assert_eq!(applicant.resend().await.status(), StatusCode::ACCEPTED);
    clock.advance(chrono::Duration::seconds(61));
    // The fourth send within the hour is refused.
    assert_eq!(applicant.resend().await.status(), StatusCode::TOO_MANY_REQUESTS);
    let third = code_in(&nth_sms(&sms_dir(&db), 3).await);
    // Only the latest code works.
    if first != third {
        assert_eq!(applicant.code(&first).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let _ = second;
    let (status, answer) = applicant.code(&third).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    app.shut_down().await.unwrap();
}

#[tokio::test]
async fn an_ineligible_applicant_sees_the_reasons_and_no_report_is_issued() {
    let db = TestDb::new().await;
    let app = demo_app(&db, clock()).await;
    let applicant = app.start(&body(INELIGIBLE)).await;
    let code = code_in(&nth_sms(&sms_dir(&db), 1).await);
    assert_eq!(applicant.code(&code).await.0, StatusCode::OK);
    assert_eq!(applicant.photos().await.0, StatusCode::ACCEPTED);
    let status = app
        .state
        .applications
        .decide(&applicant.id, &ReviewDecision::Approve, "staff:test", &mut standing::applications::request_rng())
        .await
        .unwrap();
    assert_eq!(status.as_str(), "ineligible");
    let (_, answer) = applicant.status().await;
    assert_eq!(answer["status"], "ineligible");
    assert!(!answer["reasons"].as_array().unwrap().is_empty(), "{answer}");
    assert!(answer.get("report_number").is_none());
    assert_eq!(applicant.report().await.status(), StatusCode::CONFLICT);
    let reports = app.state.registry.list(Some(&acct("A1009")), 10).await.unwrap();
    assert!(reports.is_empty());
    let mails = serde_json::to_value(app.state.outbox.list(Default::default(), 10).await.unwrap()).unwrap();
    assert!(mails.as_array().unwrap().iter().any(|m| m["kind"] == "application_ineligible"), "{mails}");
    app.shut_down().await.unwrap();
}

#[tokio::test]
async fn a_rejected_identity_ends_the_application_with_the_reason() {
    let db = TestDb::new().await;
    let app = demo_app(&db, clock()).await;
    let applicant = app.start(&body(ELIGIBLE)).await;
    let code = code_in(&nth_sms(&sms_dir(&db), 1).await);
    applicant.code(&code).await;
    applicant.photos().await;
    let reject = ReviewDecision::Reject { reason: "the selfie does not show a face".into() };
    app.state
        .applications
        .decide(&applicant.id, &reject, "staff:test", &mut standing::applications::request_rng())
        .await
        .unwrap();
    let (_, answer) = applicant.status().await;
    assert_eq!(answer["status"], "rejected");
    assert!(answer["reasons"][0].as_str().unwrap().contains("does not show a face"));
    // A decided application cannot be decided again.
    let mut rng = standing::applications::request_rng();
    let again = app.state.applications.decide(&applicant.id, &ReviewDecision::Approve, "staff:test", &mut rng).await;
    assert!(matches!(again, Err(standing::applications::JourneyError::WrongStatus(_))));
    app.shut_down().await.unwrap();
}

#[tokio::test]
async fn an_application_left_for_24_hours_expires() {
    let db = TestDb::new().await;
    let clock = TestClock::at(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 21, 9, 0, 0).unwrap());
    let app = demo_app(&db, clock.clone()).await;
    let applicant = app.start(&body(ELIGIBLE)).await;
    let code = code_in(&nth_sms(&sms_dir(&db), 1).await);
    clock.advance(chrono::Duration::hours(24));
    let (status, answer) = applicant.code(&code).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["error"]["status"], "expired");
    assert_eq!(applicant.status().await.1["status"], "expired");
    app.shut_down().await.unwrap();
}

#[tokio::test]
async fn tokens_ids_bodies_and_photos_are_checked() {
    let db = TestDb::new().await;
    let app = demo_app(&db, clock()).await;
    let applicant = app.start(&body(ELIGIBLE)).await;
    // No token, a wrong token, an unknown id: 401.
    let url = app.url(&format!("/api/v1/applications/{}", applicant.id));
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let wrong = app.client.get(&url).bearer_auth("not-the-token").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.headers()["www-authenticate"], "Bearer");
    let unknown = app.url("/api/v1/applications/00000000-0000-4000-8000-000000000000");
    let unknown = app.client.get(unknown).bearer_auth(&applicant.token).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);

    // Field errors name every field.
    let mut bad = body(ELIGIBLE);
    bad["phone"] = json!("12");
    bad["date_of_birth"] = json!("1990-13-40");
    bad["consents"]["financial_data"] = json!(false);
    let response = app.apply(&bad).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let answer: Value = response.json().await.unwrap();
    let fields = answer["error"]["fields"].as_object().unwrap();
    assert!(
        fields.contains_key("phone")
            && fields.contains_key("date_of_birth")
            && fields.contains_key("consents.financial_data"),
        "{answer}"
    );
    let malformed =
        app.client.post(app.url("/api/v1/applications")).header("content-type", "application/json").body("{").send();
    assert_eq!(malformed.await.unwrap().status(), StatusCode::BAD_REQUEST);

    // Photos that are not pictures are refused by name.
    let code = code_in(&nth_sms(&sms_dir(&db), 1).await);
    applicant.code(&code).await;
    let (status, answer) = applicant.upload(b"%PDF-1.7".to_vec(), sample_picture(400, 400, ImageFormat::Png)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer["error"]["fields"]["selfie"].is_string(), "{answer}");
    assert_eq!(applicant.status().await.1["status"], "awaiting_identity");
    app.shut_down().await.unwrap();
}

#[tokio::test]
async fn the_pages_refuse_forged_forms_and_other_browsers() {
    let db = TestDb::new().await;
    let app = demo_app(&db, clock()).await;
    let home = app.get("/").await;
    assert_eq!(home.status(), StatusCode::OK);
    assert!(home.text().await.unwrap().contains("href=\"/apply\""));
    let form = app.get("/apply").await;
    assert_eq!(form.status(), StatusCode::OK);
    assert!(form.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));

    // A form posted without the page's CSRF token is refused, and starts nothing.
    let forged = app
        .client
        .post(app.url("/apply"))
        .form(&[("full_name", "ZHANG Wei"), ("passport_number", "E12345678")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(app.state.store.applications(None, 10).await.unwrap().is_empty());

    // An application's pages need its session cookie.
    let applicant = app.start(&body(ELIGIBLE)).await;
    for page in ["", "/code", "/identity", "/report.pdf"] {
        let response = app.get(&format!("/apply/{}{page}", applicant.id)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{page}");
    }
    let with_cookie = app
        .client
        .get(app.url(&format!("/apply/{}/code", applicant.id)))
        .header("cookie", format!("standing_application={}.{}", applicant.id, applicant.token))
        .send()
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), StatusCode::OK);
    assert!(with_cookie.text().await.unwrap().contains("6-digit code"));
    app.shut_down().await.unwrap();
}

/// Drives an application to `identity_review` through the library (no server).
async fn to_review(state: &AppState, db: &TestDb, who: (&str, &str, &str, &str)) -> String {
    let form: standing::identity::input::ApplicationForm = serde_json::from_value(body(who)).unwrap();
    let mut rng = standing::applications::request_rng();
    let started = state.applications.apply(&form, &mut rng).await.unwrap();
    let code = code_in(&nth_sms(&sms_dir(db), sms_files(&sms_dir(db)).len() + 1).await);
    state.applications.submit_code(&started.id, &code).await.unwrap();
    let photos = (sample_picture(400, 300, ImageFormat::Png), sample_picture(400, 300, ImageFormat::Jpeg));
    state.applications.upload_evidence(&started.id, photos.0, photos.1).await.unwrap();
    started.id
}

#[tokio::test]
async fn a_generation_interrupted_by_a_crash_is_finished_once_by_the_next_worker() {
    let db = TestDb::new().await;
    let clock = TestClock::at(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 21, 9, 0, 0).unwrap());
    let state = AppState::open(db.settings(), clock.clone()).await.unwrap();
    state.load_demo_if_empty(&demo_dir()).await.unwrap();
    let id = to_review(&state, &db, ELIGIBLE).await;
    let mut rng = standing::applications::request_rng();
    state.applications.decide(&id, &ReviewDecision::Approve, "staff:test", &mut rng).await.unwrap();

    // A worker claims it and dies before recording anything.
    let now = state.clock.now();
    let claimed = state
        .store
        .claim_generation("dead-worker", now + chrono::Duration::minutes(5), now, Some(&id), 1)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    // While its lease holds, nobody else takes the application…
    let generator = state.generator();
    assert!(generator.run_pass(None, &mut rng).await.unwrap().issued.is_empty());
    assert_eq!(state.store.application(&id).await.unwrap().unwrap().status.as_str(), "generating");
    // …once it has run out, the next pass issues the report.
    clock.advance(chrono::Duration::minutes(6));
    let pass = generator.run_pass(None, &mut rng).await.unwrap();
    assert_eq!(pass.issued.len(), 1);
    let row = state.store.application(&id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "issued");
    assert_eq!(row.report_number.as_deref(), Some(pass.issued[0].1.as_str()));

    // The dead worker, coming back, cannot record a second report for it.
    let signer = standing::keys::load_signer(&state.settings, &state.cipher, state.clock.now()).unwrap();
    let late = standing::registry::ForApplication { id: &id, lease_owner: "dead-worker", at: state.clock.now() };
    let now = state.clock.now();
    let again =
        state.notifier().issue(&signer, &acct("A1001"), now.date_naive(), now, &mut rng, None, Some(late)).await;
    assert!(matches!(
        again,
        Err(standing::mail::notify::NotifyError::Registry(standing::registry::RegistryError::LeaseLost(_)))
    ));
    assert_eq!(state.registry.list(Some(&acct("A1001")), 10).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_review_with_the_command_line() {
    let db = TestDb::new().await;
    let state = AppState::open(db.settings(), std::sync::Arc::new(standing::clock::SystemClock)).await.unwrap();
    state.load_demo_if_empty(&demo_dir()).await.unwrap();
    let id = to_review(&state, &db, ELIGIBLE).await;
    let run = |args: &[&str]| standing(&db).args(args).output().unwrap();

    let list = run(&["reviews", "list"]);
    assert!(list.status.success());
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(listed.contains(&id) && listed.contains("ZHANG Wei"), "{listed}");

    let out = db.dir.join("photos");
    let show = run(&["reviews", "show", &id, "--out", out.to_str().unwrap()]);
    assert!(show.status.success(), "{}", String::from_utf8_lossy(&show.stderr));
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(
        shown.contains("E12345678") && shown.contains("identity_review") && shown.contains("financial_data"),
        "{shown}"
    );
    for photo in ["selfie.jpg", "passport_page.jpg"] {
        let bytes = std::fs::read(out.join(photo)).unwrap();
        assert_eq!(image::guess_format(&bytes).unwrap(), ImageFormat::Jpeg);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(out.join(photo)).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    let no_reason = run(&["reviews", "reject", &id, "--reason", "  "]);
    assert_eq!(no_reason.status.code(), Some(2));
    let reject = run(&["reviews", "reject", &id, "--reason", "the photo page is unreadable", "--by", "ana"]);
    assert!(reject.status.success(), "{}", String::from_utf8_lossy(&reject.stderr));
    let row = state.store.application(&id).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.decided_by.as_deref()), ("rejected", Some("staff:ana")));
    // A decided application cannot be decided again.
    assert_eq!(run(&["reviews", "approve", &id]).status.code(), Some(3));
    assert_eq!(run(&["reviews", "approve", "00000000-0000-4000-8000-000000000000"]).status.code(), Some(2));
}
