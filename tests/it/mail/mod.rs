//! Email through real SMTP: a receiver the test starts
//! (`standing::testing::smtp`) that accepts, answers 421/451/550, drops the
//! connection during or after DATA, or stalls. The service's own worker
//! sends; the tests count what arrived.

mod faults;
mod processes;

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rand::SeedableRng;
use standing::clock::SharedClock;
use standing::config::{MailTransportKind, Settings, SmtpUrl};
use standing::demo::demo_dir;
use standing::mail::notices;
use standing::mail::notify::Recipient;
use standing::mail::templates::ReportFacts;
use standing::mail::{EmailAddress, QueuedMail};
use standing::store::MailFilter;
use standing::testing::smtp::{Fault, Received, SmtpReceiver};
use standing::web::AppState;

use crate::helpers::*;

/// Settings that send to `receiver` with short timeouts and retries.
pub fn smtp_settings(db: &TestDb, receiver: &SmtpReceiver) -> Settings {
    let mut s = db.settings();
    s.mail.transport = MailTransportKind::Smtp;
    s.mail.smtp_url = Some(SmtpUrl::new(format!("smtp://127.0.0.1:{}", receiver.port())));
    s.mail.from = "standing <reports@standing.example>".into();
    s.mail.connect_timeout_seconds = 1;
    s.mail.send_timeout_seconds = 2;
    s.mail.lease_seconds = 4;
    s.mail.retry_initial_seconds = 1;
    s.mail.retry_max_seconds = 60;
    s.mail.concurrency = 4;
    s.mail.poll_seconds = 1;
    s
}

pub fn start_of_test() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap()
}

/// Queues `n` small messages (no report behind them), each in its own
/// transaction as an event would; returns their Message-IDs.
pub async fn queue_messages(state: &AppState, n: usize, seed: u64) -> Vec<String> {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let now = state.clock.now();
    let mut ids = Vec::new();
    for i in 0..n {
        let to = EmailAddress::parse(&format!("applicant{i}@example.com")).unwrap();
        let facts = ReportFacts {
            number: format!("SR-TEST-{i:04}-0000"),
            code: "Q7RM-K2XP".into(),
            verification_url: "https://standing.example/verify".into(),
            full_name: format!("APPLICANT {i}"),
            as_of: now.date_naive(),
            valid_until: now.date_naive(),
            authority: "IRCC".into(),
        };
        let id = notices::new_id(&mut rng);
        let mail = notices::report_revoked(&state.settings, &id, now, &to, &facts, "test").unwrap();
        state.outbox.queue(&state.outbox.seal(&mail, None, None, now)).await.unwrap();
        ids.push(mail.message_id);
    }
    ids
}

pub async fn all_mail(state: &AppState) -> Vec<QueuedMail> {
    state.outbox.list(MailFilter::default(), 10_000).await.unwrap()
}

/// The attachment of a received message, decoded.
pub fn attachment(data: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let text = String::from_utf8_lossy(data);
    let start = text.find("Content-Disposition: attachment").expect("an attachment");
    let body = start + text[start..].find("\r\n\r\n").unwrap() + 4;
    let end = body + text[body..].find("\r\n--").unwrap();
    base64::engine::general_purpose::STANDARD.decode(text[body..end].replace("\r\n", "")).unwrap()
}

/// Copies of each Message-ID: (acknowledged with 250, stored without it).
pub fn copies(received: &[Received]) -> std::collections::BTreeMap<String, (usize, usize)> {
    let mut by_id = std::collections::BTreeMap::<String, (usize, usize)>::new();
    for r in received {
        let entry = by_id.entry(r.message_id.clone().expect("a Message-ID")).or_default();
        if r.acknowledged {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    by_id
}

/// The demo data on a fresh database, mail going to a receiver.
struct Demo {
    _db: TestDb,
    receiver: SmtpReceiver,
    state: AppState,
    now: DateTime<Utc>,
    signer: standing::keys::Signer,
}

impl Demo {
    async fn new() -> Demo {
        let db = TestDb::new().await;
        let receiver = SmtpReceiver::start().await.unwrap();
        let clock: SharedClock = clock();
        let state = AppState::open(smtp_settings(&db, &receiver), clock.clone()).await.unwrap();
        state.load_demo_if_empty(&demo_dir()).await.unwrap();
        let now = clock.now();
        let signer = standing::keys::load_signer(&state.settings, &state.cipher, now).unwrap();
        Demo { _db: db, receiver, state, now, signer }
    }
}

#[tokio::test]
async fn a_report_is_emailed_over_smtp_with_the_registry_pdf_attached_and_it_verifies() {
    let Demo { _db, receiver, state, now, signer } = Demo::new().await;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);

    let (issued, mail) = state
        .notifier()
        .issue(&signer, &acct("A1013"), now.date_naive(), now, &mut rng, Some(Recipient::OnFile), None)
        .await
        .unwrap();
    let mail = mail.expect("an email queued with the report");
    // Queued in the same transaction: there before anything is sent.
    let queued = all_mail(&state).await;
    assert_eq!(queued.len(), 1);
    assert_eq!((queued[0].status.as_str(), queued[0].kind.as_str()), ("pending", "report_issued"));
    assert_eq!(queued[0].report_number.as_deref(), Some(issued.data.report_number.as_str()));
    assert_eq!(queued[0].to, "m***@example.com", "the recipient is shown masked");

    let worker = state.mail_worker().unwrap();
    let summary = worker.run_pass().await.unwrap();
    assert_eq!(summary.sent, 1, "{summary:?}");
    let received = receiver.wait_for_accepted(1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1);
    let got = &received[0];
    assert_eq!(got.to, vec!["ma.jun@example.com".to_owned()], "the address on file");
    assert_eq!(got.from, "reports@standing.example");
    assert_eq!(got.message_id.as_deref(), Some(mail.message_id.as_str()));
    let id = mail.message_id.trim_matches(['<', '>']).split('@').next().unwrap().to_owned();
    assert_eq!(id, mail.id, "Message-ID is <outbox id@sender's domain>");

    let number = standing::domain::ReportNumber::parse(&issued.data.report_number).unwrap();
    let stored = state.registry.pdf(&number).await.unwrap().unwrap();
    let pdf = attachment(&got.data);
    assert_eq!(pdf, stored, "the attachment is the registry's copy, byte for byte");
    let ring = standing::keys::published_keys(&state.settings).unwrap();
    let verification = standing::verify::verify_pdf(&pdf, &ring, now);
    assert!(verification.valid, "{:?}", verification.problems);

    let sent = all_mail(&state).await;
    assert_eq!(sent[0].status, "sent");
    assert!(sent[0].delivered_as.as_deref().is_some_and(|r| r.starts_with("250")), "{:?}", sent[0].delivered_as);
    assert_eq!(sent[0].attempts, 1);
    // Nothing left: another pass sends nothing.
    assert_eq!(worker.run_pass().await.unwrap().attempts(), 0);
}

// Several threads: the receiver answers while this one waits for the command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_refusal_is_dead_with_its_error_and_retry_sends_it() {
    let db = TestDb::new().await;
    let receiver = SmtpReceiver::start().await.unwrap();
    let state = AppState::open(smtp_settings(&db, &receiver), clock()).await.unwrap();
    let ids = queue_messages(&state, 1, 1).await;
    receiver.push_faults([Fault::Permanent550AtRcpt]);

    let summary = state.mail_worker().unwrap().run_pass().await.unwrap();
    assert_eq!((summary.dead, summary.sent), (1, 0), "{summary:?}");
    let dead = all_mail(&state).await.remove(0);
    assert_eq!(dead.status, "dead");
    let error = dead.last_error.clone().unwrap();
    assert!(error.contains("550"), "{error}");
    assert!(!error.contains("applicant0@"), "the address is masked in stored errors: {error}");
    assert!(receiver.accepted().is_empty());

    // The operator's command: due now, sent at once.
    let output = standing(&db)
        .args(["mail", "retry", &dead.id])
        .env("STANDING_MAIL_TRANSPORT", "smtp")
        .env("STANDING_MAIL_SMTP_URL", format!("smtp://127.0.0.1:{}", receiver.port()))
        .env("STANDING_MAIL_FROM", "standing <reports@standing.example>")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("sent: 250"), "{stdout}");
    let received = receiver.wait_for_accepted(1, Duration::from_secs(10)).await;
    assert_eq!(received[0].message_id.as_deref(), Some(ids[0].as_str()), "the same message, the same Message-ID");
    assert_eq!(all_mail(&state).await[0].status, "sent");

    // A sent message is not retried; an unknown one is named.
    let again = standing(&db).args(["mail", "retry", &dead.id]).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    let unknown = standing(&db).args(["mail", "retry", "no-such-id"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
}

#[tokio::test]
async fn retries_end_in_dead_after_the_give_up_time() {
    let db = TestDb::new().await;
    let receiver = SmtpReceiver::start().await.unwrap();
    let clock = TestClock::at(start_of_test());
    let mut settings = smtp_settings(&db, &receiver);
    settings.mail.give_up_after_hours = 1;
    let state = AppState::open(settings, clock.clone()).await.unwrap();
    queue_messages(&state, 1, 2).await;
    receiver.push_faults(std::iter::repeat_n(Fault::Transient451AtMail, 1000));
    let worker = state.mail_worker().unwrap();
    let mut attempts = 0;
    for _ in 0..200 {
        attempts += worker.run_pass().await.unwrap().attempts();
        if all_mail(&state).await[0].status != "pending" {
            break;
        }
        clock.advance(chrono::Duration::seconds(61));
    }
    let mail = all_mail(&state).await.remove(0);
    assert_eq!(mail.status, "dead");
    assert!(mail.last_error.as_deref().unwrap().starts_with("gave up after"), "{:?}", mail.last_error);
    assert!(mail.last_error.as_deref().unwrap().contains("451"), "{:?}", mail.last_error);
    // About an hour of backoff capped at a minute: tens of attempts, not hundreds.
    assert!((5..=80).contains(&attempts), "{attempts}");
    assert_eq!(i64::from(attempts), mail.attempts);
}

#[tokio::test]
async fn resend_queues_a_new_message_and_revoke_tells_the_applicant() {
    let Demo { _db, receiver, state, now, signer } = Demo::new().await;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
    let (issued, _) =
        state.notifier().issue(&signer, &acct("A1013"), now.date_naive(), now, &mut rng, None, None).await.unwrap();
    let number = standing::domain::ReportNumber::parse(&issued.data.report_number).unwrap();
    assert!(all_mail(&state).await.is_empty(), "no email unless asked");

    let other = EmailAddress::parse("consultant@example.org").unwrap();
    let resent = state
        .notifier()
        .resend(&number, Recipient::Address(other), "applicant asked for a copy to their consultant", now, &mut rng)
        .await
        .unwrap();
    let (revoked, notice) =
        state.notifier().revoke(&number, "Passport reported stolen", now, &mut rng, true).await.unwrap();
    assert_eq!(revoked.state.name(), "revoked");
    let notice = notice.unwrap();
    // A revoked report is not resent.
    let refused = state.notifier().resend(&number, Recipient::OnFile, "again", now, &mut rng).await;
    assert!(matches!(
        refused,
        Err(standing::mail::notify::NotifyError::Registry(standing::registry::RegistryError::WrongState { .. }))
    ));

    assert_eq!(state.mail_worker().unwrap().run_pass().await.unwrap().sent, 2);
    let received = receiver.wait_for_accepted(2, Duration::from_secs(10)).await;
    let by_id = |id: &str| received.iter().find(|r| r.message_id.as_deref() == Some(id)).unwrap();
    let copy = by_id(&resent.message_id);
    assert_eq!(copy.to, vec!["consultant@example.org".to_owned()]);
    assert_eq!(attachment(&copy.data), state.registry.pdf(&number).await.unwrap().unwrap());
    let revocation = by_id(&notice.message_id);
    assert_eq!(revocation.to, vec!["ma.jun@example.com".to_owned()]);
    let text = String::from_utf8_lossy(&revocation.data);
    assert!(text.contains("Passport reported stolen") && text.contains("revoked"), "{text}");
    let listed = all_mail(&state).await;
    let resend_row = listed.iter().find(|m| m.id == resent.id).unwrap();
    assert_eq!(resend_row.reason.as_deref(), Some("applicant asked for a copy to their consultant"));
    assert_eq!(resend_row.to, "c***@example.org");
}

#[tokio::test]
async fn report_email_with_no_settings_leaves_an_eml_with_the_pdf_attached() {
    let db = TestDb::new().await;
    state(&db).await.load_demo_if_empty(&demo_dir()).await.unwrap();
    let out = db.dir.join("report.pdf");
    let output = standing(&db)
        .args(["report", "A1013", "--as-of", "2026-11-21", "--email", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("email sent"), "{stdout}");
    assert!(stdout.contains("m***@example.com") && !stdout.contains("ma.jun@"), "masked: {stdout}");
    let dir = db.dir.join("var/mail");
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
    let eml = std::fs::read(&files[0]).unwrap();
    assert_eq!(attachment(&eml), std::fs::read(&out).unwrap(), "the PDF written is the PDF attached");
    let text = String::from_utf8_lossy(&eml);
    assert!(text.contains("To: ma.jun@example.com\r\n") && text.contains("Message-ID: <"), "{text}");

    let listed = standing(&db).args(["mail", "list", "--status", "sent", "--json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["to"], "m***@example.com");
    assert_eq!(json[0]["delivered_as"], files[0].display().to_string());
    let pending = standing(&db).args(["mail", "list", "--status", "pending"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&pending.stdout).trim(), "no messages");
}

#[tokio::test]
async fn on_postgresql_mail_queued_by_another_instance_wakes_the_worker_at_once() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        println!("skipped: LISTEN/NOTIFY is PostgreSQL's (SQLite instances find mail by polling)");
        return;
    }
    let receiver = SmtpReceiver::start().await.unwrap();
    let mut settings = smtp_settings(&db, &receiver);
    // Without the notification it would wait an hour.
    settings.mail.poll_seconds = 3600;
    let system: SharedClock = std::sync::Arc::new(standing::clock::SystemClock);
    let sender = AppState::open(settings.clone(), system.clone()).await.unwrap();
    let other = AppState::open(settings, system).await.unwrap();
    let worker = std::sync::Arc::new(sender.mail_worker().unwrap());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut rx = stopped.clone();
    let running = tokio::spawn(worker.run(async move {
        let _ = rx.wait_for(|s| *s).await;
    }));
    // Let it start listening and find the queue empty.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ids = queue_messages(&other, 1, 11).await;
    let received = receiver.wait_for_accepted(1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1, "woken by the other instance's commit");
    assert_eq!(received[0].message_id.as_deref(), Some(ids[0].as_str()));
    let _ = stop.send(true);
    running.await.unwrap();
}
