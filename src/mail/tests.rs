//! Golden files of every message (`fixtures/golden/mail/<kind>.eml`): the
//! same inputs give the same bytes. Regenerate after an intended change with
//! `STANDING_UPDATE_GOLDEN=1 cargo test --lib mail::tests`, and read the diff.

use chrono::{NaiveDate, TimeZone, Utc};

use super::compose::Composed;
use super::notices;
use super::templates::{IRCC_ALTERNATIVES, IRCC_GUIDANCE, IdentityMail, IneligibleMail, ReportFacts};
use super::*;
use crate::config::Settings;

fn settings() -> Settings {
    Settings::from_toml(
        r#"
        public_base_url = "https://standing.example"
        [report]
        issuer_name = "standing"
        issuer_legal_name = "Standing Reports Ltd."
        issuer_contact = "support@standing.example"
        [mail]
        from = "standing <reports@standing.example>"
        reply_to = "support@standing.example"
        "#,
    )
    .unwrap()
}

fn to() -> EmailAddress {
    EmailAddress::parse("zhang.wei@example.com").unwrap()
}

fn facts() -> ReportFacts {
    ReportFacts {
        number: "SR-KYYF-9TKJ-6Q8Q".into(),
        code: "Q7RM-K2XP".into(),
        verification_url: "https://standing.example/verify/SR-KYYF-9TKJ-6Q8Q?c=Q7RM-K2XP".into(),
        full_name: "ZHANG Wei".into(),
        as_of: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
        valid_until: NaiveDate::from_ymd_opt(2027, 2, 19).unwrap(),
        authority: "Immigration, Refugees and Citizenship Canada".into(),
    }
}

const ID: &str = "0b7e6a52-3c1d-4f8e-9a2b-5d6c7e8f9a0b";

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 9, 30, 0).unwrap()
}

/// A stand-in PDF: the attachment's encoding is what is pinned here, and
/// the real report has its own golden file.
const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n%%EOF\n";

fn golden(kind: &str, mail: &Composed) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/golden/mail/{kind}.eml"));
    if std::env::var("STANDING_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &mail.bytes).unwrap();
    }
    let expected = std::fs::read(&path).expect("golden file; create it with STANDING_UPDATE_GOLDEN=1");
    assert!(
        expected == mail.bytes,
        "{kind}: the message differs from {}; if the change is intended, regenerate with \
         STANDING_UPDATE_GOLDEN=1 cargo test --lib mail::tests and review the diff",
        path.display()
    );
}

fn text(mail: &Composed) -> String {
    String::from_utf8(mail.bytes.clone()).unwrap()
}

#[test]
fn report_issued_golden() {
    let mail = notices::report_issued(&settings(), ID, now(), &to(), facts(), PDF.to_vec(), None).unwrap();
    golden("report_issued", &mail);
    let t = text(&mail);
    assert_eq!(mail.kind, notices::REPORT_ISSUED);
    assert_eq!(mail.message_id, format!("<{ID}@standing.example>"));
    assert_eq!(mail.subject, "Your proof-of-financial-standing report SR-KYYF-9TKJ-6Q8Q");
    for header in [
        "From: standing <reports@standing.example>\r\n",
        "Reply-To: support@standing.example\r\n",
        "To: zhang.wei@example.com\r\n",
        "Date: Sat, 21 Nov 2026 09:30:00 +0000\r\n",
        "Auto-Submitted: auto-generated\r\n",
        "Content-Type: application/pdf\r\n",
        "filename*0=\"standing-report-SR-KYYF-9TKJ-6Q8Q.pdf\"",
    ] {
        assert!(t.contains(header), "missing {header:?} in\n{t}");
    }
    assert!(t.contains(&format!("Message-ID: <{ID}@standing.example>")), "{t}");
    // No remote images or scripts in the HTML.
    assert!(!t.contains("<img") && !t.contains("<script"), "{t}");
}

#[test]
fn the_pdf_arrives_as_attached() {
    let pdf: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let mail = notices::report_issued(&settings(), ID, now(), &to(), facts(), pdf.clone(), None).unwrap();
    let t = text(&mail);
    let start = t.find("Content-Disposition: attachment").unwrap();
    let body = &t[t[start..].find("\r\n\r\n").unwrap() + start + 4..];
    let end = body.find("\r\n--").unwrap();
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD.decode(body[..end].replace("\r\n", "")).unwrap();
    assert_eq!(decoded, pdf);
}

#[test]
fn report_reissued_golden() {
    let mail =
        notices::report_issued(&settings(), ID, now(), &to(), facts(), PDF.to_vec(), Some("SR-AAAA-BBBB-CCCC".into()))
            .unwrap();
    golden("report_reissued", &mail);
    assert_eq!(mail.kind, notices::REPORT_REISSUED);
    assert_eq!(mail.subject, "Your report has been reissued: SR-KYYF-9TKJ-6Q8Q replaces SR-AAAA-BBBB-CCCC");
}

#[test]
fn report_revoked_golden() {
    let mail = notices::report_revoked(&settings(), ID, now(), &to(), &facts(), "Passport reported stolen").unwrap();
    golden("report_revoked", &mail);
    assert_eq!(mail.subject, "Your report SR-KYYF-9TKJ-6Q8Q has been revoked");
    assert!(!text(&mail).contains("application/pdf"));
}

#[test]
fn application_ineligible_golden() {
    let mail = IneligibleMail {
        application: "AP-7Q2M-XK4R".into(),
        full_name: "LI Na".into(),
        as_of: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
        threshold: 750,
        reasons: vec![
            "Bills paid late: 4 of the last 24".into(),
            "Average balance below three months of spending".into(),
        ],
        authority: "Immigration, Refugees and Citizenship Canada".into(),
        alternatives: IRCC_ALTERNATIVES.iter().map(|s| (*s).to_owned()).collect(),
        authority_guidance: IRCC_GUIDANCE.into(),
        signature: notices::signature(&settings()),
    };
    let mail = notices::application_ineligible(&settings(), ID, now(), &to(), &mail).unwrap();
    golden("application_ineligible", &mail);
    assert_eq!(mail.subject, "Your application AP-7Q2M-XK4R: we cannot issue a report");
}

#[test]
fn identity_outcome_golden() {
    let mut mail = IdentityMail {
        application: "AP-7Q2M-XK4R".into(),
        full_name: "LI Na".into(),
        approved: true,
        reason: String::new(),
        apply_page: "https://standing.example/apply".into(),
        status_page: "https://standing.example/applications/AP-7Q2M-XK4R".into(),
        signature: notices::signature(&settings()),
    };
    let approved = notices::identity_outcome(&settings(), ID, now(), &to(), &mail).unwrap();
    golden("identity_approved", &approved);
    assert_eq!(approved.subject, "Your identity is confirmed (AP-7Q2M-XK4R)");
    mail.approved = false;
    mail.reason = "The photo of the passport page is too blurred to read".into();
    let rejected = notices::identity_outcome(&settings(), ID, now(), &to(), &mail).unwrap();
    golden("identity_rejected", &rejected);
    assert_eq!(rejected.subject, "We could not confirm your identity (AP-7Q2M-XK4R)");
}

#[test]
fn html_escapes_what_it_quotes() {
    let mut f = facts();
    f.full_name = "<b>O'Brien & Sons</b>".into();
    let mail = notices::report_issued(&settings(), ID, now(), &to(), f, PDF.to_vec(), None).unwrap();
    let rendered = super::templates::ReportMail {
        report: facts(),
        replaces: None,
        attachment: "x.pdf".into(),
        verify_page: "v".into(),
        jwks_url: "j".into(),
        signature: notices::signature(&settings()),
    };
    assert!(rendered.render().unwrap().html.contains("ZHANG Wei"));
    let html = {
        let mut r = rendered.clone();
        r.report.full_name = "<b>O'Brien & Sons</b>".into();
        r.render().unwrap().html
    };
    assert!(html.contains("&#60;b&#62;O&#39;Brien &#38; Sons&#60;/b&#62;") || html.contains("&lt;b&gt;"), "{html}");
    assert!(!html.contains("<b>O'Brien"));
    assert!(!mail.bytes.is_empty());
}

#[test]
fn the_same_inputs_give_the_same_bytes_and_another_id_another_message() {
    let a = notices::report_issued(&settings(), ID, now(), &to(), facts(), PDF.to_vec(), None).unwrap();
    let b = notices::report_issued(&settings(), ID, now(), &to(), facts(), PDF.to_vec(), None).unwrap();
    assert_eq!(a.bytes, b.bytes);
    let other = "1b7e6a52-3c1d-4f8e-9a2b-5d6c7e8f9a0b";
    let c = notices::report_issued(&settings(), other, now(), &to(), facts(), PDF.to_vec(), None).unwrap();
    assert_ne!(a.message_id, c.message_id);
}

#[test]
fn report_facts_read_the_report_json() {
    let json = serde_json::json!({
        "report_number": "SR-KYYF-9TKJ-6Q8Q", "verification_code": "Q7RM-K2XP",
        "verification_url": "https://standing.example/verify/SR-KYYF-9TKJ-6Q8Q?c=Q7RM-K2XP",
        "as_of": "2026-11-21", "valid_until": "2027-02-19",
        "applicant": {"full_name": "ZHANG Wei"},
        "authority": {"name": "Immigration, Refugees and Citizenship Canada"}
    });
    assert_eq!(notices::report_facts(&json).unwrap(), facts());
    let mut broken = json.clone();
    broken["as_of"] = "yesterday".into();
    assert!(notices::report_facts(&broken).is_err());
}

#[test]
fn with_a_dkim_key_every_message_is_signed() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("dkim.key");
    std::fs::write(&key, base64::engine::general_purpose::STANDARD.encode([7u8; 32])).unwrap();
    let mut settings = settings();
    settings.mail.dkim_selector = "standing2026".into();
    settings.mail.dkim_key_file = Some(key);
    let mail = notices::report_revoked(&settings, ID, now(), &to(), &facts(), "Passport reported stolen").unwrap();
    let t = text(&mail);
    let start = t.find("DKIM-Signature: ").expect("a DKIM-Signature header");
    let header: String = t[start..].split("\r\n").take_while(|l| !l.is_empty()).take(12).collect();
    for tag in ["a=ed25519-sha256", "d=standing.example", "s=standing2026", "c=relaxed/relaxed", "bh=", "b="] {
        assert!(header.contains(tag), "{tag} missing in {header}");
    }
    assert!(header.to_lowercase().contains("h=from:reply-to:to:subject:date:message-id"), "{header}");
    // Without a selector nothing is signed.
    let plain = notices::report_revoked(&self::settings(), ID, now(), &to(), &facts(), "x").unwrap();
    assert!(!text(&plain).contains("DKIM-Signature"));
}
