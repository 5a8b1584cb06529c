//! Officers' verification over HTTP, on a running app with a fresh database:
//! the status page and API, revocation, reissue and expiry showing at once,
//! the PDF upload check (page and API), rate limits, the published keys.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{TimeZone, Utc};
use rand::SeedableRng;
use sha2::{Digest, Sha256};
use standing::clock::Clock;
use standing::config::Settings;
use standing::demo::demo_dir;
use standing::domain::ReportNumber;
use standing::keys;
use standing::registry::issue::{self, IssuedReport};
use standing::web::AppState;

use crate::helpers::*;

/// An app on a fresh database with the demo data, a clock the test moves,
/// and `tweak` applied to its settings.
async fn app_with(db: &TestDb, tweak: impl FnOnce(&mut Settings)) -> (TestApp, Arc<TestClock>) {
    let clock = TestClock::at(Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap());
    let mut settings = db.settings();
    tweak(&mut settings);
    let state = AppState::open(settings, clock.clone()).await.unwrap();
    state.load_demo_if_empty(&demo_dir()).await.unwrap();
    (spawn_app_with(state).await, clock)
}

/// Issues and records a report for `account`, as `standing report` does.
async fn issue(state: &AppState, account: &str, seed: u64) -> IssuedReport {
    let now = state.clock.now();
    let signer = keys::load_signer(&state.settings, &state.cipher, now).unwrap();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let issued = issue::issue_report(
        &state.settings,
        &state.store,
        &state.cipher,
        &signer,
        &acct(account),
        now.date_naive(),
        now,
        &mut rng,
    )
    .await
    .unwrap();
    state.registry.record(&issued, None, None).await.unwrap();
    issued
}

fn status_url(app: &TestApp, issued: &IssuedReport) -> String {
    format!("{}/verify/{}?c={}", app.base, issued.data.report_number, issued.data.verification_code)
}

fn api_url(app: &TestApp, number: &str, code: &str) -> String {
    format!("{}/api/v1/reports/{number}?code={code}", app.base)
}

async fn get(app: &TestApp, url: &str) -> (u16, String) {
    let response = app.client.get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn api_status(app: &TestApp, issued: &IssuedReport) -> serde_json::Value {
    let url = api_url(app, &issued.data.report_number, &issued.data.verification_code);
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn api_verify(app: &TestApp, pdf: Vec<u8>) -> serde_json::Value {
    let response = app.verify_upload("application/pdf", pdf).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn problem_codes(verdict: &serde_json::Value) -> Vec<String> {
    verdict["problems"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn status_page_and_api_follow_revocation_reissue_and_expiry_at_once() {
    let db = TestDb::new().await;
    let (app, clock) = app_with(&db, |_| {}).await;
    let issued = issue(&app.state, "A1012", 1).await;
    let number = issued.data.report_number.clone();

    // VALID, with the key facts; the passport shows only its last 3 characters.
    let (status, html) = get(&app, &status_url(&app, &issued)).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(">VALID<"), "{html}");
    assert!(html.contains("Zoë Łucja ŌTSUKA-NÚÑEZ"), "the name, HTML-safe: {html}");
    let passport = &issued.data.applicant.passport_number;
    assert!(!html.contains(passport.as_str()), "the full passport number is never shown");
    assert!(html.contains(&passport[passport.len() - 3..]));
    assert!(html.contains(&hex::encode(issued.sha256)));
    assert!(html.contains(&issued.data.assets.total.current.as_ref().unwrap().authority.text), "total assets in CAD");
    assert!(html.contains(&issued.data.spending.average_monthly.as_ref().unwrap().authority.text));
    assert!(html.contains(&issued.data.bills.on_time_rate));

    let json = api_status(&app, &issued).await;
    assert_eq!(json["status"], "valid");
    assert_eq!(json["report_number"], number);
    assert_eq!(json["pdf_sha256"], hex::encode(issued.sha256));
    assert_eq!(json["key_facts"]["full_name"], "Zoë Łucja ŌTSUKA-NÚÑEZ");
    assert!(json["key_facts"]["passport_masked"].as_str().unwrap().ends_with(&passport[passport.len() - 3..]));
    assert!(!json.to_string().contains(passport.as_str()));

    // The form's submission leads to the same page.
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/verify?number={}&c={}", app.base, number.to_lowercase(), issued.data.verification_code))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        format!("/verify/{number}?c={}", issued.data.verification_code).as_str()
    );

    // Revoked: at once, on the page and in the API.
    let parsed = ReportNumber::parse(&number).unwrap();
    app.state.registry.revoke(&parsed, "Account closed at the applicant's request", clock.now(), None).await.unwrap();
    let (_, html) = get(&app, &status_url(&app, &issued)).await;
    assert!(html.contains(">REVOKED<"), "{html}");
    assert!(html.contains("Account closed at the applicant&#39;s request"), "{html}");
    let json = api_status(&app, &issued).await;
    assert_eq!(json["status"], "revoked");
    assert_eq!(json["revoked"]["reason"], "Account closed at the applicant's request");

    // Superseded: a reissue of another report names its successor.
    let second = issue(&app.state, "A1001", 2).await;
    let signer = keys::load_signer(&app.state.settings, &app.state.cipher, clock.now()).unwrap();
    let (newer, _old) = app
        .state
        .registry
        .reissue(
            &app.state.settings,
            &signer,
            &ReportNumber::parse(&second.data.report_number).unwrap(),
            "Corrected address",
            clock.now(),
            &mut rand_chacha::ChaCha20Rng::seed_from_u64(3),
            |_| Ok(None),
        )
        .await
        .unwrap();
    let (_, html) = get(&app, &status_url(&app, &second)).await;
    assert!(html.contains(">SUPERSEDED<"), "{html}");
    assert!(html.contains(&newer.data.report_number), "{html}");
    let json = api_status(&app, &second).await;
    assert_eq!(json["status"], "superseded");
    assert_eq!(json["superseded"]["by"], newer.data.report_number);
    assert_eq!(api_status(&app, &newer).await["status"], "valid");

    // Expired: the day after its last valid day, by the clock.
    let last_day = newer.data.valid_until;
    let days = (last_day - clock.now().date_naive()).num_days();
    clock.advance(chrono::Duration::days(days));
    assert_eq!(api_status(&app, &newer).await["status"], "valid", "valid through its last day");
    clock.advance(chrono::Duration::days(1));
    assert_eq!(api_status(&app, &newer).await["status"], "expired");
    let (_, html) = get(&app, &status_url(&app, &newer)).await;
    assert!(html.contains(">EXPIRED<"), "{html}");
}

#[tokio::test]
async fn a_wrong_code_answers_exactly_like_an_unknown_number() {
    let db = TestDb::new().await;
    let (app, _) = app_with(&db, |_| {}).await;
    let issued = issue(&app.state, "A1004", 4).await;
    let unknown = ReportNumber::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(99)).to_string();

    let wrong_code = app.report_status(&issued.data.report_number, "ZZZZ-ZZZZ").await;
    let no_such = app.report_status(&unknown, "ZZZZ-ZZZZ").await;
    assert_eq!(wrong_code.status(), 404);
    assert_eq!(no_such.status(), 404);
    assert_eq!(wrong_code.text().await.unwrap(), no_such.text().await.unwrap());

    // The pages differ only in the number typed.
    let (s1, page1) = get(&app, &format!("{}/verify/{}?c=ZZZZ-ZZZZ", app.base, issued.data.report_number)).await;
    let (s2, page2) = get(&app, &format!("{}/verify/{unknown}?c=ZZZZ-ZZZZ", app.base)).await;
    assert_eq!((s1, s2), (404, 404));
    assert!(page1.contains("NOT FOUND"));
    assert_eq!(page1.replace(&issued.data.report_number, "N"), page2.replace(&unknown, "N"));

    // A typing mistake is caught by the check symbol, before any lookup.
    let mut typo = issued.data.report_number.clone().into_bytes();
    let last = typo.len() - 1;
    typo[last] = if typo[last] == b'0' { b'1' } else { b'0' };
    let typo = String::from_utf8(typo).unwrap();
    let response = app.report_status(&typo, &issued.data.verification_code).await;
    assert_eq!(response.status(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_input");
    assert!(body["error"]["fields"]["number"].as_str().unwrap().contains("typing mistake"));
    // No code at all.
    let response = app.client.get(format!("{}/api/v1/reports/{}", app.base, issued.data.report_number)).send().await;
    assert_eq!(response.unwrap().status(), 422);
}

#[tokio::test]
async fn lookups_are_rate_limited_per_client() {
    let db = TestDb::new().await;
    let (app, clock) = app_with(&db, |s| {
        s.verify.requests_per_minute = 6;
        s.verify.failed_lookups_per_hour = 3;
    })
    .await;
    let issued = issue(&app.state, "A1004", 5).await;
    let good = api_url(&app, &issued.data.report_number, &issued.data.verification_code);
    let bad = api_url(&app, &issued.data.report_number, "ZZZZ-ZZZZ");

    // Three wrong codes use up the failed-lookup budget; then even the right
    // code gets no answer, so guessing cannot go on.
    for _ in 0..3 {
        assert_eq!(app.client.get(&bad).send().await.unwrap().status(), 404);
    }
    let refused = app.client.get(&good).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=1200).contains(&retry), "{retry}");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");

    // An hour later the budget is back; the request budget (6 a minute) is
    // spent on these and refuses the seventh.
    clock.advance(chrono::Duration::hours(1));
    for _ in 0..6 {
        assert_eq!(app.client.get(&good).send().await.unwrap().status(), 200);
    }
    assert_eq!(app.client.get(&good).send().await.unwrap().status(), 429);
    let (status, html) = get(&app, &status_url(&app, &issued)).await;
    assert_eq!(status, 429);
    assert!(html.contains("Too many checks"), "{html}");
    clock.advance(chrono::Duration::seconds(10));
    assert_eq!(app.client.get(&good).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_api_checks_an_uploaded_pdf_and_names_what_fails() {
    let db = TestDb::new().await;
    let (app, clock) = app_with(&db, |_| {}).await;
    let issued = issue(&app.state, "A1012", 6).await;

    let verdict = api_verify(&app, issued.pdf.clone()).await;
    assert_eq!(verdict["valid"], true, "{verdict:#}");
    assert!(problem_codes(&verdict).is_empty());
    assert_eq!(verdict["report"]["status"], "valid");
    assert_eq!(verdict["report_number"], issued.data.report_number);
    assert_eq!(verdict["sha256"], hex::encode(issued.sha256));

    // Bytes appended after signing: counted.
    let mut appended = issued.pdf.clone();
    appended.extend_from_slice(b"\n% a comment added later\n");
    let verdict = api_verify(&app, appended).await;
    assert_eq!(verdict["valid"], false);
    assert!(problem_codes(&verdict).contains(&"bytes_appended".to_owned()), "{verdict:#}");
    assert!(verdict.to_string().contains("25 bytes"), "{verdict:#}");

    // Not a PDF at all.
    let verdict = api_verify(&app, b"GIF89a not a report".to_vec()).await;
    assert_eq!(problem_codes(&verdict), vec!["not_pdf".to_owned()]);

    // A revoked report's file is intact but no longer valid.
    app.state
        .registry
        .revoke(&ReportNumber::parse(&issued.data.report_number).unwrap(), "Issued in error", clock.now(), None)
        .await
        .unwrap();
    let verdict = api_verify(&app, issued.pdf.clone()).await;
    assert_eq!(verdict["valid"], false);
    assert_eq!(problem_codes(&verdict), vec!["revoked".to_owned()], "{verdict:#}");
    assert_eq!(verdict["report"]["status"], "revoked");

    // The wrong media type, an empty body, and too large a body.
    let response = app.verify_upload("application/json", "{}").await;
    assert_eq!(response.status(), 415);
    let response = app.verify_upload("application/pdf", Vec::new()).await;
    assert_eq!(response.status(), 400);
    let huge = vec![b'%'; app.state.settings.verify.max_upload_bytes + 100 * 1024];
    let response = app.verify_upload("application/pdf", huge).await;
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_large");
}

#[tokio::test]
async fn the_upload_page_needs_its_csrf_token_and_shows_the_verdict() {
    let db = TestDb::new().await;
    let (app, _) = app_with(&db, |_| {}).await;
    let issued = issue(&app.state, "A1004", 7).await;

    let form = app.verify_form().await;
    assert_eq!(form.status(), 200);
    assert_eq!(form.headers()["cache-control"], "no-store");
    assert_eq!(form.headers()["referrer-policy"], "no-referrer");
    assert!(form.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let cookie = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let html = form.text().await.unwrap();
    assert!(!html.contains("<script"), "no JavaScript needed");
    let token = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert_eq!(cookie, format!("standing_csrf={token}"));
    // A second tab keeps the same token, so the first tab's form still works.
    let second_tab = app.client.get(format!("{}/verify", app.base)).header("cookie", &cookie).send().await.unwrap();
    assert!(second_tab.text().await.unwrap().contains(&format!("name=\"csrf\" value=\"{token}\"")));

    let upload = |pdf: Vec<u8>, token: Option<String>, cookie: Option<String>| {
        let mut form = reqwest::multipart::Form::new();
        if let Some(t) = token {
            form = form.text("csrf", t);
        }
        form = form.part("pdf", reqwest::multipart::Part::bytes(pdf).file_name("report.pdf"));
        let mut request = app.client.post(format!("{}/verify", app.base)).multipart(form);
        if let Some(c) = cookie {
            request = request.header("cookie", c);
        }
        request.send()
    };

    let response = upload(issued.pdf.clone(), Some(token.clone()), Some(cookie.clone())).await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains(">VALID<"), "{html}");
    assert!(html.contains(&issued.data.report_number));

    let mut changed = issued.pdf.clone();
    let at = changed.len() / 3;
    changed[at] ^= 0x01;
    let html = upload(changed, Some(token.clone()), Some(cookie.clone())).await.unwrap().text().await.unwrap();
    assert!(html.contains("NOT VALID"), "{html}");
    // The registry's report is valid, but the page never lets that read as
    // the file's verdict (issue 10, 7c).
    let number = &issued.data.report_number;
    assert!(html.contains(&format!("Our registry&#39;s report {number}: VALID (not this file)")), "{html}");
    assert!(
        html.contains(&format!("We issued report {number} and it is valid, but this file is not that report")),
        "{html}"
    );
    assert!(!html.contains(&format!("Report {number}: VALID")), "{html}");

    // Without the token, or with a token that is not the cookie's: refused.
    assert_eq!(upload(issued.pdf.clone(), None, Some(cookie.clone())).await.unwrap().status(), 403);
    assert_eq!(upload(issued.pdf.clone(), Some(token.clone()), None).await.unwrap().status(), 403);
    assert_eq!(upload(issued.pdf.clone(), Some("forged".into()), Some(cookie)).await.unwrap().status(), 403);

    // A forged pair that matches is refused too (issue 10, 6d): a cookie
    // planted by someone else and the same value in the field, in the old
    // token's shape and in the new one's.
    for forged in [URL_SAFE_NO_PAD.encode([7u8; 32]), URL_SAFE_NO_PAD.encode([7u8; 56])] {
        let cookie = format!("standing_csrf={forged}");
        let response = upload(issued.pdf.clone(), Some(forged.clone()), Some(cookie)).await.unwrap();
        assert_eq!(response.status(), 403, "forged {forged}");
    }
    // The real pair still works.
    assert_eq!(
        upload(issued.pdf.clone(), Some(token.clone()), Some(format!("standing_csrf={token}"))).await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn answers_with_report_data_are_never_stored() {
    let db = TestDb::new().await;
    let (app, _) = app_with(&db, |_| {}).await;
    let issued = issue(&app.state, "A1004", 10).await;
    let response = app.report_status(&issued.data.report_number, &issued.data.verification_code).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let response = app.report_status(&issued.data.report_number, "ZZZZ-ZZZZ").await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let response = app
        .client
        .post(format!("{}/api/v1/verify", app.base))
        .header("content-type", "application/pdf")
        .body(issued.pdf.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    // The pages were already so.
    let (status, _) = get(&app, &status_url(&app, &issued)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let db = TestDb::new().await;
    // The test client (127.0.0.1) is not a trusted proxy here.
    let (app, _) = app_with(&db, |s| {
        s.verify.requests_per_minute = 2;
        s.server.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    })
    .await;
    let issued = issue(&app.state, "A1004", 11).await;
    let url = api_url(&app, &issued.data.report_number, &issued.data.verification_code);
    let from = |xff: &str| app.client.get(&url).header("x-forwarded-for", xff).send();
    // A new made-up address each time does not buy new requests.
    assert_eq!(from("198.51.100.1").await.unwrap().status(), 200);
    assert_eq!(from("198.51.100.2").await.unwrap().status(), 200);
    assert_eq!(from("198.51.100.3").await.unwrap().status(), 429);

    let db = TestDb::new().await;
    // Now 127.0.0.1 is our proxy: it appends the client's address.
    let (app, _) = app_with(&db, |s| {
        s.verify.requests_per_minute = 2;
        s.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let issued = issue(&app.state, "A1004", 12).await;
    let url = api_url(&app, &issued.data.report_number, &issued.data.verification_code);
    let from = |xff: &str| app.client.get(&url).header("x-forwarded-for", xff).send();
    assert_eq!(from("198.51.100.1").await.unwrap().status(), 200);
    assert_eq!(from("198.51.100.1").await.unwrap().status(), 200);
    assert_eq!(from("198.51.100.1").await.unwrap().status(), 429);
    // The client's own claim left of what the proxy appended changes nothing.
    assert_eq!(from("203.0.113.50, 198.51.100.1").await.unwrap().status(), 429);
    // Another client behind the same proxy has its own budget.
    assert_eq!(from("203.0.113.50, 198.51.100.2").await.unwrap().status(), 200);
}

/// Issue 10, 7a: an example number must pass its own check symbol.
#[test]
fn documented_report_numbers_pass_their_check_symbol() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts: Vec<(String, String)> = Vec::new();
    let mut add = |path: std::path::PathBuf| {
        let text = std::fs::read_to_string(&path).unwrap();
        texts.push((path.display().to_string(), text));
    };
    add(root.join("README.md"));
    add(root.join("src/main.rs"));
    // Where error messages and page texts are written.
    for dir in
        ["src/web", "src/web/applicant", "src/web/applicant/pages", "src/domain", "templates/verify", "templates/apply"]
    {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                add(path);
            }
        }
    }
    // And the messages themselves, and the OpenAPI document's examples.
    texts.push(("the OpenAPI document".into(), standing::web::api::openapi_json().to_owned()));
    texts.push(("ReportNumber::parse".into(), ReportNumber::parse("nonsense").unwrap_err().0));
    texts.push(("not-found advice".into(), standing::web::status::StatusView::not_found("x").advice));

    let mut found = 0;
    for (name, text) in &texts {
        for (at, _) in text.match_indices("SR-") {
            let candidate: String = text[at..].chars().take(17).collect();
            let shaped = candidate.len() == 17
                && candidate.char_indices().all(|(i, c)| match i {
                    0..=2 => true,
                    7 | 12 => c == '-',
                    _ => c.is_ascii_uppercase() || c.is_ascii_digit(),
                });
            // `SR-XXXX-XXXX-XXXX` is a placeholder, not an example.
            if !shaped || candidate == "SR-XXXX-XXXX-XXXX" {
                continue;
            }
            found += 1;
            assert!(ReportNumber::parse(&candidate).is_ok(), "{name}: {candidate} fails its check symbol");
        }
    }
    assert!(found >= 5, "the examples were found ({found})");
}

/// RFC 7638: SHA-256 over the required members in lexicographic order.
fn thumbprint(jwk: &serde_json::Value) -> String {
    let canonical = match jwk["kty"].as_str().unwrap() {
        "OKP" => {
            format!(r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#, jwk["crv"].as_str().unwrap(), jwk["x"].as_str().unwrap())
        }
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["crv"].as_str().unwrap(),
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap()
        ),
        other => panic!("unexpected kty {other}"),
    };
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[tokio::test]
async fn published_keys_follow_the_rfc_formats() {
    let db = TestDb::new().await;
    let (app, _) = app_with(&db, |_| {}).await;
    let issued = issue(&app.state, "A1004", 8).await;

    let response = app.jwks().await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/jwk-set+json");
    let jwks: serde_json::Value = response.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    // The default: ECDSA P-256 (RFC 7518 6.2.1).
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    assert_eq!(key["alg"], "ES256");
    assert_eq!(key["use"], "sig");
    assert!(key.get("d").is_none(), "never a private member");
    for coordinate in ["x", "y"] {
        let c = key[coordinate].as_str().unwrap();
        assert!(!c.contains('=') && !c.contains('+') && !c.contains('/'), "base64url without padding");
        assert_eq!(URL_SAFE_NO_PAD.decode(c).unwrap().len(), 32);
    }
    assert_eq!(key["kid"], thumbprint(key));
    assert_eq!(key["kid"], issued.data.signing.key_id, "the report names the key that signed it");
    assert_eq!(key["status"], "active");
    // x5c: standard base64 DER, leaf first; its SHA-256 is x5t#S256.
    let leaf = STANDARD.decode(key["x5c"][0].as_str().unwrap()).unwrap();
    assert_eq!(key["x5t#S256"], URL_SAFE_NO_PAD.encode(Sha256::digest(&leaf)));

    let response = app.root_pem().await;
    assert_eq!(response.status(), 200);
    let pem = response.text().await.unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let root_der = STANDARD.decode(key["x5c"][1].as_str().unwrap()).unwrap();
    let (label, from_pem) = der::pem::decode_vec(pem.as_bytes()).unwrap();
    assert_eq!(label, "CERTIFICATE");
    assert_eq!(from_pem, root_der);

    let openapi: serde_json::Value = app.openapi().await.json().await.unwrap();
    assert!(openapi["paths"]["/api/v1/verify"]["post"].is_object());
}

#[tokio::test]
async fn the_offline_command_asks_the_service_for_keys_and_status() {
    let db = TestDb::new().await;
    let (app, clock) = app_with(&db, |_| {}).await;
    let issued = issue(&app.state, "A1004", 9).await;
    let file = db.dir.join("report.pdf");
    std::fs::write(&file, &issued.pdf).unwrap();
    let jwks_url = format!("{}/.well-known/jwks.json", app.base);

    let run = |file: std::path::PathBuf, url: String| {
        let mut cmd = standing(&db);
        // Another data directory: only the service's keys are known.
        cmd.env("STANDING_DATA_DIR", db.dir.join("elsewhere"));
        cmd.arg("verify").arg(file).arg("--jwks").arg(url).arg("--json");
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
    };

    let out = run(file.clone(), jwks_url.clone()).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{json:#} {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json["valid"], true);
    assert_eq!(json["registry"]["status"], "valid", "{json:#}");

    app.state
        .registry
        .revoke(&ReportNumber::parse(&issued.data.report_number).unwrap(), "Issued in error", clock.now(), None)
        .await
        .unwrap();
    let out = run(file.clone(), jwks_url.clone()).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{json:#}");
    assert_eq!(problem_codes(&json), vec!["revoked".to_owned()], "{json:#}");

    // A byte changed: rejected offline, before the status matters.
    let mut changed = issued.pdf.clone();
    changed[200] ^= 0x20;
    let tampered = db.dir.join("tampered.pdf");
    std::fs::write(&tampered, changed).unwrap();
    let out = run(tampered, jwks_url).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(problem_codes(&json).contains(&"content_changed".to_owned()), "{json:#}");
}

#[test]
fn the_documented_routes_and_the_openapi_document_name_the_same_paths_and_methods() {
    let doc: serde_json::Value = serde_json::from_str(standing::web::api::openapi_json()).unwrap();
    let documented: std::collections::BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |m| (path.clone(), m.to_uppercase())))
        .collect();
    let limit = axum::extract::DefaultBodyLimit::max(1024);
    let routed: std::collections::BTreeSet<(String, String)> = standing::web::documented_routes(limit)
        .into_iter()
        .map(|(method, path, _)| (path.to_owned(), method.as_str().to_uppercase()))
        .collect();
    assert_eq!(routed, documented, "the OpenAPI document and web::documented_routes disagree");
}

#[tokio::test]
async fn every_documented_path_is_served() {
    // Each path of the document reaches its handler (never the fallback's
    // "no such page or endpoint"), with the documented method.
    let db = TestDb::new().await;
    let app = spawn_app(&db).await;
    let doc: serde_json::Value = app.openapi().await.json().await.unwrap();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let url = app.url(&path.replace("{number}", "SR-KYYF-9TKJ-6Q8Q"));
        for method in ops.as_object().unwrap().keys() {
            let request = match method.as_str() {
                "get" => app.client.get(&url),
                "post" => app.client.post(&url).header("content-type", "application/pdf").body("x"),
                other => panic!("undocumented method {other}"),
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            assert!(!(status == 404 && body.contains("no such page or endpoint")), "{method} {path}: {status} {body}");
            assert_ne!(status, 405, "{method} {path}");
        }
    }
}
