//! A real headless Chromium (Debian's `chromium` and `chromium-driver`,
//! driven over WebDriver) walks the applicant's journey at phone width,
//! 360 CSS pixels: the form (with a mistake first), the code read from
//! `var/sms/`, the two photos, approval with `standing reviews approve`,
//! the report page and the download, whose PDF must verify. Every page is
//! checked against the axe-core rules (no serious or critical violation)
//! and for horizontal scrolling, and photographed under
//! `target/browser/`.
//!
//! `.ci/run` installs Chromium, chromedriver and axe-core; elsewhere the
//! test is skipped (with a note) when they are missing.

mod webdriver;

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};
use standing::clock::SystemClock;
use standing::identity::evidence::sample_picture;
use webdriver::Browser;

use crate::helpers::*;
use crate::journey::{ELIGIBLE, demo_app, nth_sms};

const WIDTH: u32 = 360;

fn axe_js() -> Option<PathBuf> {
    let path = std::env::var_os("STANDING_AXE_JS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/browser-tools/node_modules/axe-core/axe.min.js")
    });
    path.exists().then_some(path)
}

fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/browser")
}

/// Whether the browser tools are here; in CI they must be.
fn tools_present() -> bool {
    let present = std::path::Path::new(webdriver::CHROMEDRIVER).exists()
        && std::path::Path::new(webdriver::CHROMIUM).exists()
        && axe_js().is_some();
    if !present {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must run the browser test: install chromium, chromium-driver and axe-core (see .ci/run)"
        );
        eprintln!("skipping the browser test: chromium, chromedriver or axe-core is missing (see .ci/run)");
    }
    present
}

/// Checks the page as it stands: no serious or critical axe violation, no
/// horizontal scrolling at phone width; then a screenshot.
async fn check_page(browser: &Browser, name: &str, axe: &str, findings: &mut Vec<String>) {
    browser.run(&format!("{axe}\n;return true;"), json!([])).await;
    let result = browser
        .run_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
               .then(r => done(JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length})))))
               .catch(e => done(JSON.stringify([{id: 'axe-error', impact: 'critical', help: String(e), nodes: 0}])));",
        )
        .await;
    let violations: Vec<Value> = serde_json::from_str(result.as_str().unwrap()).unwrap();
    for v in &violations {
        findings.push(format!("{name}: {} ({}): {} [{} nodes]", v["id"], v["impact"], v["help"], v["nodes"]));
    }
    // The status page refreshes itself while the service works, as the
    // issue asks (no JavaScript); axe flags any timed refresh. WCAG 2.2.1
    // is met by letting the reader turn it off: the page must offer that.
    let offers_stop = browser.run("return !!document.querySelector('a[href$=\"?auto=off\"]');", json!([])).await;
    let serious: Vec<&Value> = violations
        .iter()
        .filter(|v| v["impact"] == "serious" || v["impact"] == "critical")
        .filter(|v| !(v["id"] == "meta-refresh" && offers_stop == true))
        .collect();
    assert!(serious.is_empty(), "axe-core on the {name} page: {serious:#?}");
    let width = browser.run("return document.documentElement.scrollWidth;", json!([])).await;
    assert!(width.as_u64().unwrap() <= u64::from(WIDTH), "the {name} page scrolls sideways at {WIDTH} px: {width}");
    browser.screenshot(&shots().join(format!("{name}.png"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_applicant_finishes_the_journey_in_a_phone_browser() {
    if !tools_present() {
        return;
    }
    let axe = std::fs::read_to_string(axe_js().unwrap()).unwrap();
    let db = TestDb::new().await;
    // The real clock: `standing reviews approve` runs as its own process.
    let app = demo_app(&db, Arc::new(SystemClock)).await;
    let browser = Browser::start(WIDTH, 740).await;
    let mut findings = Vec::new();

    browser.goto(&app.url("/")).await;
    check_page(&browser, "1-home", &axe, &mut findings).await;
    browser.click("a.button").await;
    assert!(browser.url().await.ends_with("/apply"));

    // A first try with a mistake: the error is beside the field, what was typed is kept.
    let (name, passport, dob, phone) = ELIGIBLE;
    browser.type_into("#full_name", name).await;
    browser.type_into("#passport_number", passport).await;
    browser.run("document.getElementById('date_of_birth').value = arguments[0];", json!([dob])).await;
    browser.type_into("#phone", "138 0013 800").await;
    browser.type_into("#email", "zhang.wei@example.com").await;
    browser.click("#purpose option[value=study]").await;
    browser.click("#consent_financial_data").await;
    browser.click("#consent_email").await;
    browser.click("#consent_cross_border").await;
    browser.click("form.card button[type=submit]").await;
    let text = browser.wait_for_text("needs correcting", 10).await;
    assert!(text.contains("not valid") || text.contains("not a phone number"), "{text}");
    let kept = browser.run("return document.getElementById('full_name').value;", json!([])).await;
    assert_eq!(kept, name);
    check_page(&browser, "2-form-with-an-error", &axe, &mut findings).await;

    browser.run("document.getElementById('phone').value = '';", json!([])).await;
    browser.type_into("#phone", phone).await;
    browser.click("form.card button[type=submit]").await;
    browser.wait_for_text("6-digit code", 10).await;
    check_page(&browser, "3-code", &axe, &mut findings).await;

    let sms = nth_sms(&db.dir.join("var").join("sms"), 1).await;
    assert_eq!(sms["to"], phone, "the code goes to the phone on file");
    let code = sms["text"].as_str().unwrap()[..6].to_owned();
    browser.type_into("#code", &code).await;
    browser.click("form.card button[type=submit]").await;
    browser.wait_for_text("Show us it is you", 10).await;
    check_page(&browser, "4-photos", &axe, &mut findings).await;
    let id = browser.url().await.split('/').rev().nth(1).unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let selfie = dir.path().join("selfie.jpg");
    let page = dir.path().join("passport.png");
    std::fs::write(&selfie, sample_picture(720, 960, image::ImageFormat::Jpeg)).unwrap();
    std::fs::write(&page, sample_picture(1200, 850, image::ImageFormat::Png)).unwrap();
    browser.type_into("#selfie", selfie.to_str().unwrap()).await;
    browser.type_into("#passport_page", page.to_str().unwrap()).await;
    browser.click("form.card button[type=submit]").await;
    browser.wait_for_text("We are checking your photos", 10).await;
    check_page(&browser, "5-in-review", &axe, &mut findings).await;

    // Staff approve with the command; the status page refreshes itself.
    let approve = standing(&db).args(["reviews", "approve", &id, "--by", "browser-test"]).output().unwrap();
    assert!(approve.status.success(), "{}", String::from_utf8_lossy(&approve.stderr));
    let said = String::from_utf8_lossy(&approve.stdout);
    assert!(said.contains("issued"), "{said}");
    let text = browser.wait_for_text("Your report is ready", 30).await;
    assert!(text.contains("Report number") && text.contains("Verification code"), "{text}");
    check_page(&browser, "6-report-ready", &axe, &mut findings).await;

    // The download button's address, fetched with the browser's own session
    // cookie (the page's policy lets no script fetch it).
    let href = browser.run("return document.querySelector('a[download]').getAttribute('href');", json!([])).await;
    let cookie = browser.cookies().await;
    let response = app.client.get(app.url(href.as_str().unwrap())).header("cookie", cookie).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let pdf = response.bytes().await.unwrap().to_vec();
    assert!(pdf.starts_with(b"%PDF-"));
    let verdict: Value = app.verify_upload("application/pdf", pdf.clone()).await.json().await.unwrap();
    assert_eq!(verdict["valid"], true, "{verdict}");
    std::fs::write(shots().join("report.pdf"), &pdf).unwrap();

    std::fs::write(shots().join("axe-findings.txt"), findings.join("\n") + "\n").unwrap();
    browser.close().await;
    app.shut_down().await.unwrap();
}
