//! The registry of issued reports: what is recorded, what a code check
//! answers, what is sealed at rest, and how revoke and reissue change a
//! report's state — in the library and through the `standing` command.

use chrono::{DateTime, Days, Utc};
use rand::SeedableRng;
use standing::demo::demo_dir;
use standing::domain::ReportNumber;
use standing::keys::load_signer;
use standing::registry::issue::{IssuedReport, issue_report};
use standing::registry::{Registry, RegistryError, ReportState, Status};
use standing::store::Store;
use standing::web::AppState;

use crate::helpers::*;

const ACCOUNT: &str = "A1012";

struct Fixture {
    _db: TestDb,
    state: AppState,
    registry: Registry,
    now: DateTime<Utc>,
}

async fn fixture() -> Fixture {
    let db = TestDb::new().await;
    let state = state(&db).await;
    state.load_demo_if_empty(&demo_dir()).await.unwrap();
    let registry = Registry::new(state.store.clone(), state.cipher.clone());
    let now = state.clock.now();
    Fixture { _db: db, state, registry, now }
}

impl Fixture {
    async fn issue(&self, seed: u64) -> IssuedReport {
        let signer = load_signer(&self.state.settings, &self.state.cipher, self.now).unwrap();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let s = &self.state;
        issue_report(
            &s.settings,
            &s.store,
            &s.cipher,
            &signer,
            &acct(ACCOUNT),
            self.now.date_naive(),
            self.now,
            &mut rng,
        )
        .await
        .unwrap()
    }

    async fn issue_and_record(&self, seed: u64) -> (IssuedReport, ReportNumber) {
        let issued = self.issue(seed).await;
        self.registry.record(&issued, None, None).await.unwrap();
        let number = ReportNumber::parse(&issued.data.report_number).unwrap();
        (issued, number)
    }

    async fn reissue(&self, number: &ReportNumber, reason: &str, seed: u64) -> Result<IssuedReport, RegistryError> {
        let s = &self.state;
        let signer = load_signer(&s.settings, &s.cipher, self.now).unwrap();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        self.registry
            .reissue(&s.settings, &signer, number, reason, self.now, &mut rng, |_| Ok(None))
            .await
            .map(|(new, _)| new)
    }
}

/// The sealed columns and code hash of every stored report, read with SQL.
async fn raw_rows(store: &Store) -> Vec<(String, Vec<u8>, Vec<u8>, Vec<u8>)> {
    let sql = "SELECT report_number, report_json_sealed, pdf_sealed, code_hash FROM reports ORDER BY report_number";
    match store {
        Store::Sqlite(s) => sqlx::query_as(sql).fetch_all(s.pool()).await.unwrap(),
        Store::Postgres(p) => sqlx::query_as(sql).fetch_all(p.pool()).await.unwrap(),
    }
}

async fn report_count(store: &Store) -> i64 {
    let sql = "SELECT count(*) FROM reports";
    match store {
        Store::Sqlite(s) => sqlx::query_scalar(sql).fetch_one(s.pool()).await.unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p.pool()).await.unwrap(),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_recorded_report_is_found_by_number_and_by_number_with_its_code() {
    let f = fixture().await;
    let (issued, number) = f.issue_and_record(1).await;

    let found = f.registry.find(&number).await.unwrap().expect("recorded");

    assert_eq!(found.number, number);
    assert_eq!(found.account_id.as_str(), ACCOUNT);
    assert_eq!(found.as_of, issued.data.as_of);
    assert_eq!(found.issued_at, issued.data.issued_at);
    assert_eq!(found.valid_until, issued.data.valid_until);
    assert_eq!(found.pdf_sha256, issued.sha256);
    assert_eq!(found.key_id, issued.data.signing.key_id);
    assert_eq!(found.state, ReportState::Valid);
    let json = f.registry.report_json(&number).await.unwrap().unwrap();
    assert_eq!(json, serde_json::to_value(&issued.data).unwrap(), "report.json as issued");
    assert_eq!(found.status(f.now.date_naive()), Status::Valid);
    let facts = found.key_facts();
    assert_eq!(facts.full_name, issued.data.applicant.full_name);
    let passport = &issued.data.applicant.passport_number;
    assert_eq!(facts.passport_masked, format!("••••••{}", &passport[passport.len() - 3..]));
    assert_eq!(facts.total_assets, issued.data.assets.total.current.as_ref().unwrap().authority.text);
    assert!(facts.total_assets.starts_with("CAD "), "{}", facts.total_assets);
    assert_eq!(facts.pdf_sha256, hex::encode(issued.sha256));
    assert_eq!(f.registry.pdf(&number).await.unwrap().unwrap(), issued.pdf);
    let listed = f.registry.list(Some(&acct(ACCOUNT)), 10).await.unwrap();
    assert_eq!(listed.iter().map(|r| &r.number).collect::<Vec<_>>(), vec![&number]);
    assert!(f.registry.list(Some(&acct("A1001")), 10).await.unwrap().is_empty());

    // The code as printed, typed in lower case or without its dash: found.
    let code = &issued.data.verification_code;
    for typed in [code.clone(), code.to_lowercase(), code.replace('-', "")] {
        let hit = f.registry.find_with_code(&number, &typed).await.unwrap();
        assert_eq!(hit.map(|r| r.number), Some(number.clone()), "code typed as {typed}");
    }
    // A wrong code, a malformed one and an unknown number all get the same
    // answer: nothing.
    let mut wrong = code.clone().into_bytes();
    wrong[0] = if wrong[0] == b'A' { b'B' } else { b'A' };
    let wrong = String::from_utf8(wrong).unwrap();
    assert!(f.registry.find_with_code(&number, &wrong).await.unwrap().is_none());
    assert!(f.registry.find_with_code(&number, "").await.unwrap().is_none());
    assert!(f.registry.find_with_code(&number, &"X".repeat(10_000)).await.unwrap().is_none());
    let unknown = ReportNumber::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(999));
    assert!(f.registry.find_with_code(&unknown, code).await.unwrap().is_none());
    assert!(f.registry.find(&unknown).await.unwrap().is_none());
    assert!(f.registry.pdf(&unknown).await.unwrap().is_none());
    // Recording the same number twice is refused by the database.
    assert!(matches!(f.registry.record(&issued, None, None).await, Err(RegistryError::Store(_))));
}

#[tokio::test]
async fn the_code_the_json_and_the_pdf_are_sealed_at_rest_and_bound_to_their_number() {
    let f = fixture().await;
    let (first, first_number) = f.issue_and_record(1).await;
    let (_, second_number) = f.issue_and_record(2).await;

    let rows = raw_rows(&f.state.store).await;

    assert_eq!(rows.len(), 2);
    let passport = first.data.applicant.passport_number.as_bytes();
    let code = first.data.verification_code.replace('-', "");
    for (number, json, pdf, code_hash) in &rows {
        assert!(!contains(json, passport) && !contains(pdf, passport), "passport number in the clear in {number}");
        assert!(!contains(pdf, b"%PDF") && !contains(json, b"report_number"), "plain PDF or JSON in {number}");
        assert_eq!(code_hash.len(), 32);
        assert!(!contains(code_hash, code.as_bytes()));
    }
    // A sealed value moved to another report's row does not open.
    let (from, to) = (first_number.to_string(), second_number.to_string());
    let sql_sqlite = "UPDATE reports SET (report_json_sealed, key_facts_sealed) = (SELECT report_json_sealed, key_facts_sealed FROM reports WHERE report_number = ?) WHERE report_number = ?";
    let sql_pg = "UPDATE reports SET (report_json_sealed, key_facts_sealed) = (SELECT report_json_sealed, key_facts_sealed FROM reports WHERE report_number = $1) WHERE report_number = $2";
    match &f.state.store {
        Store::Sqlite(s) => {
            sqlx::query(sql_sqlite).bind(&from).bind(&to).execute(s.pool()).await.unwrap().rows_affected()
        }
        Store::Postgres(p) => {
            sqlx::query(sql_pg).bind(&from).bind(&to).execute(p.pool()).await.unwrap().rows_affected()
        }
    };
    assert!(matches!(f.registry.find(&second_number).await, Err(RegistryError::Sealed)));
    assert!(matches!(f.registry.report_json(&second_number).await, Err(RegistryError::Sealed)));
    assert!(f.registry.find(&first_number).await.unwrap().is_some());
    assert!(f.registry.report_json(&first_number).await.unwrap().is_some());
}

#[tokio::test]
async fn revoking_shows_at_once_and_only_once() {
    let f = fixture().await;
    let (issued, number) = f.issue_and_record(1).await;

    let revoked = f.registry.revoke(&number, "  passport reported stolen \n", f.now, None).await.unwrap();

    assert_eq!(revoked.state, ReportState::Revoked { at: f.now, reason: "passport reported stolen".into() });
    assert_eq!(revoked.status(f.now.date_naive()), Status::Revoked);
    let by_code = f.registry.find_with_code(&number, &issued.data.verification_code).await.unwrap().unwrap();
    assert_eq!(by_code.status(f.now.date_naive()), Status::Revoked);
    match f.registry.revoke(&number, "again", f.now, None).await {
        Err(RegistryError::WrongState { state, .. }) => assert_eq!(state, "revoked"),
        other => panic!("expected wrong state, got {other:?}"),
    }
    let unknown = ReportNumber::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(999));
    assert!(matches!(f.registry.revoke(&unknown, "x", f.now, None).await, Err(RegistryError::NotFound(_))));
    let (_, other) = f.issue_and_record(2).await;
    assert!(matches!(f.registry.revoke(&other, " ", f.now, None).await, Err(RegistryError::EmptyReason)));
    assert!(matches!(
        f.registry.revoke(&other, &"x".repeat(501), f.now, None).await,
        Err(RegistryError::ReasonTooLong { .. })
    ));
    assert_eq!(
        f.registry.find(&other).await.unwrap().unwrap().state,
        ReportState::Valid,
        "refused reasons change nothing"
    );
}

#[tokio::test]
async fn reissuing_supersedes_the_old_report_with_a_new_one_for_the_same_account() {
    let f = fixture().await;
    let (_, old_number) = f.issue_and_record(1).await;

    let new = f.reissue(&old_number, " name misspelt ", 2).await.unwrap();

    let new_number = ReportNumber::parse(&new.data.report_number).unwrap();
    assert_ne!(new_number, old_number);
    assert_eq!(new.data.applicant.account, ACCOUNT);
    assert_eq!(new.data.as_of, f.now.date_naive(), "as of today");
    let old = f.registry.find(&old_number).await.unwrap().unwrap();
    assert_eq!(
        old.state,
        ReportState::Superseded { by: new_number.to_string(), at: f.now, reason: "name misspelt".into() }
    );
    assert_eq!(old.status(f.now.date_naive()), Status::Superseded);
    let recorded = f.registry.find_with_code(&new_number, &new.data.verification_code).await.unwrap().unwrap();
    assert_eq!(recorded.state, ReportState::Valid);
    assert_eq!(recorded.pdf_sha256, new.sha256);
    assert_eq!(f.registry.list(Some(&acct(ACCOUNT)), 10).await.unwrap().len(), 2);

    // Superseded and revoked reports are refused, and nothing is recorded.
    match f.reissue(&old_number, "again", 3).await {
        Err(RegistryError::WrongState { state, .. }) => assert_eq!(state, "superseded"),
        other => panic!("expected wrong state, got {:?}", other.map(|r| r.data.report_number)),
    }
    f.registry.revoke(&new_number, "fraud", f.now, None).await.unwrap();
    match f.reissue(&new_number, "again", 4).await {
        Err(RegistryError::WrongState { state, .. }) => assert_eq!(state, "revoked"),
        other => panic!("expected wrong state, got {:?}", other.map(|r| r.data.report_number)),
    }
    assert!(matches!(f.reissue(&old_number, "", 5).await, Err(RegistryError::EmptyReason)));
    assert_eq!(report_count(&f.state.store).await, 2);
}

#[tokio::test]
async fn of_two_racing_reissues_exactly_one_wins_and_the_loser_records_nothing() {
    let f = fixture().await;
    let (_, number) = f.issue_and_record(1).await;

    let (a, b) = tokio::join!(f.reissue(&number, "first", 2), f.reissue(&number, "second", 3));

    let outcomes = [a, b];
    let winners: Vec<_> = outcomes.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one reissue wins");
    assert!(
        outcomes.iter().any(|r| matches!(r, Err(RegistryError::WrongState { state: "superseded", .. }))),
        "the other is told the report is already superseded"
    );
    assert_eq!(report_count(&f.state.store).await, 2, "the old report and the winner's new one");
    let old = f.registry.find(&number).await.unwrap().unwrap();
    match old.state {
        ReportState::Superseded { by, .. } => assert_eq!(by, winners[0].data.report_number),
        other => panic!("expected superseded, got {other:?}"),
    }
}

#[tokio::test]
async fn a_report_expires_after_its_valid_until_date() {
    let f = fixture().await;
    let (_, number) = f.issue_and_record(1).await;
    let report = f.registry.find(&number).await.unwrap().unwrap();
    let valid_until = report.valid_until;

    assert_eq!(valid_until, f.now.date_naive() + Days::new(u64::from(f.state.settings.report.validity_days)));
    assert_eq!(report.status(valid_until), Status::Valid, "good through its last day");
    assert_eq!(report.status(valid_until + Days::new(1)), Status::Expired);
    // An expired report can still be revoked (it stays revoked after expiry).
    let revoked = f.registry.revoke(&number, "withdrawn", f.now, None).await.unwrap();
    assert_eq!(revoked.status(valid_until + Days::new(1)), Status::Revoked);
}

fn run(cmd: &mut std::process::Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn operators_list_show_revoke_and_reissue_from_the_command_line() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    // Reissue uses today's data (by the wall clock of the command), so the
    // demo data is loaded as `serve --demo` loads it: ending yesterday.
    let live = AppState::open(db.settings(), std::sync::Arc::new(standing::clock::SystemClock)).await.unwrap();
    live.load_demo_if_empty(&demo_dir()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let first_pdf = dir.path().join("first.pdf");

    // `standing report` records what it issues.
    let (code, stdout, stderr) =
        run(standing(&db).args(["report", ACCOUNT, "--as-of", "2026-11-21", "--out"]).arg(&first_pdf));
    assert_eq!(code, 0, "{stderr}");
    let first = stdout.split_whitespace().nth(1).unwrap().to_owned();
    let number = ReportNumber::parse(&first).unwrap();
    let registry = Registry::new(state.store.clone(), state.cipher.clone());
    let recorded = registry.find(&number).await.unwrap().expect("the issued report is recorded");
    assert_eq!(registry.pdf(&number).await.unwrap().unwrap(), std::fs::read(&first_pdf).unwrap());
    assert_eq!(hex::encode(recorded.pdf_sha256), hex::encode(sha2_of(&first_pdf)));

    let (code, stdout, _) = run(standing(&db).args(["reports", "list", "--account", ACCOUNT]));
    assert_eq!(code, 0);
    assert!(stdout.contains(&first) && stdout.contains("valid"), "{stdout}");

    let (code, stdout, stderr) = run(standing(&db).args(["reports", "show", &first, "--json"]));
    assert_eq!(code, 0, "{stderr}");
    let shown: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(shown["report_number"], first.as_str());
    assert_eq!(shown["status"], "valid");
    assert!(shown["key_facts"]["passport_masked"].as_str().unwrap().starts_with("••••••"));
    let json = registry.report_json(&number).await.unwrap().unwrap();
    let passport = json["applicant"]["passport_number"].as_str().unwrap();
    assert!(!stdout.contains(passport), "the passport number is masked");

    // Reissue with a file: the old one is superseded by the new one.
    let second_pdf = dir.path().join("second.pdf");
    let (code, stdout, stderr) = run(standing(&db)
        .args(["reports", "reissue", &first, "--reason", "address changed", "--out"])
        .arg(&second_pdf));
    assert_eq!(code, 0, "{stderr}");
    let second = stdout.split_whitespace().nth(1).unwrap().to_owned();
    assert!(second.starts_with("SR-") && second != first, "{stdout}");
    assert!(second_pdf.exists());
    let (_, stdout, _) = run(standing(&db).args(["reports", "show", &first]));
    assert!(stdout.contains("SUPERSEDED") && stdout.contains(&second), "{stdout}");

    // Revoke: bad reason → 2; then once → 0; twice → 1 with why.
    let (code, _, stderr) = run(standing(&db).args(["reports", "revoke", &second, "--reason", "  "]));
    assert_eq!(code, 2, "{stderr}");
    let (code, stdout, stderr) = run(standing(&db).args(["reports", "revoke", &second, "--reason", "fraud suspected"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("REVOKED") && stdout.contains("fraud suspected"), "{stdout}");
    let (code, _, stderr) = run(standing(&db).args(["reports", "revoke", &second, "--reason", "again"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("is revoked"), "{stderr}");
    let (code, _, stderr) = run(standing(&db).args(["reports", "reissue", &first, "--reason", "again"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("is superseded"), "{stderr}");

    // Unknown and mistyped numbers → 2.
    let unknown = ReportNumber::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(999)).to_string();
    for cmd in [vec!["reports", "show", &unknown], vec!["reports", "revoke", &unknown, "--reason", "x"]] {
        let (code, _, stderr) = run(standing(&db).args(&cmd));
        assert_eq!(code, 2, "{cmd:?}: {stderr}");
        assert!(stderr.contains("no report"), "{stderr}");
    }
    let (code, _, stderr) = run(standing(&db).args(["reports", "show", "SR-0000-0000-0001"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("typing mistake"), "{stderr}");

    // The stored PDF can be exported again.
    let copy = dir.path().join("copy.pdf");
    let (code, _, stderr) = run(standing(&db).args(["reports", "show", &first, "--pdf"]).arg(&copy));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&first_pdf).unwrap());
}

fn sha2_of(path: &std::path::Path) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap()).into()
}
