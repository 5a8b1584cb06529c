//! What the benchmark binaries share: a fresh application state on a given
//! database, a throw-away PostgreSQL database, and percentiles.
#![allow(dead_code)] // each benchmark uses a different part

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use standing::clock::FixedClock;
use standing::config::{DatabaseUrl, Secret, Settings};
use standing::keys::{KeyAlgorithm, KeyPair, KeyRing, Signer, root_certificate, signing_certificate};
use standing::web::AppState;

/// The application state on `url`, with working files under `dir`, the
/// `STANDING_*` settings of the environment and the demo as-of clock.
pub async fn open_state(url: &str, dir: &Path) -> AppState {
    let mut settings = Settings::layered(None, |k| std::env::var(k).ok()).unwrap();
    settings.database.url = DatabaseUrl::new(url);
    settings.data_dir = dir.join("var");
    settings.master_key = Some(Secret::new(standing::testing::MASTER_KEY));
    let clock = Arc::new(FixedClock(Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap()));
    AppState::open(settings, clock).await.unwrap()
}

/// Runs `body` with the URL of a new database on the server
/// `BENCH_DATABASE_URL` names, dropping it afterwards; says so and skips
/// when the variable is unset.
pub async fn with_fresh_postgres<F, Fut>(label: &str, body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let Ok(server) = std::env::var("BENCH_DATABASE_URL") else {
        println!("postgres: skipped (set BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres)");
        return;
    };
    let name = format!("standing_bench_{label}_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&server).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
    let url = format!("{}/{name}", server.rsplit_once('/').map(|(b, _)| b).unwrap_or(&server));
    body(url).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).execute(&admin).await.unwrap();
}

/// (median, p99) in milliseconds.
pub fn median_p99_ms(times: &mut [Duration]) -> (f64, f64) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    (at(0.5), at(0.99))
}

/// A fixed root (of the kind a new key directory gets) and signing key of
/// `algorithm` (seeded), and the ring a verifier would check them against.
pub fn identity(algorithm: KeyAlgorithm) -> (Signer, KeyRing) {
    use rand::SeedableRng;
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let root_key = KeyPair::generate(standing::keys::ROOT_ALGORITHM, &mut rng);
    let root = root_certificate(&root_key, "standing (bench)", 1, at).unwrap();
    let key = KeyPair::generate(algorithm, &mut rng);
    let cert = signing_certificate(&key, &root_key, &root, "standing (bench)", 2, at).unwrap();
    let ring = KeyRing::from_certificates(Some(root.clone()), std::slice::from_ref(&cert)).unwrap();
    (Signer::new(key, cert, vec![root]).unwrap(), ring)
}

/// The report data of the 5-year demo account (A1013) as of the demo date,
/// from a fresh SQLite database with the demo data.
pub fn five_year_report_data(signer: &Signer) -> standing::report::data::ReportData {
    use rand::SeedableRng;
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let state = open_state(&format!("sqlite:{}", dir.path().join("bench.db").display()), dir.path()).await;
        state.load_demo_if_empty(&standing::demo::demo_dir()).await.unwrap();
        standing::registry::issue::issue_report(
            &state.settings,
            &state.store,
            &state.cipher,
            signer,
            &standing::domain::AccountId::parse("A1013").unwrap(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap(),
            &mut rand_chacha::ChaCha20Rng::seed_from_u64(2),
        )
        .await
        .unwrap()
        .data
    })
}

/// The context of a report issued on `as_of` by the default settings.
pub fn issue_context(as_of: chrono::NaiveDate) -> standing::report::build::IssueContext {
    use rand::SeedableRng;
    let signing = standing::report::data::Signing { key_id: "bench".into(), algorithm: "ECDSA P-256".into() };
    let issued_at = as_of.and_hms_opt(9, 0, 0).unwrap().and_utc();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    standing::registry::issue::issue_context(&standing::config::Settings::default(), signing, issued_at, &mut rng)
}
