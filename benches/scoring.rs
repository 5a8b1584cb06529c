//! Scoring the 5-year demo account (A1013, about 20,000 transactions),
//! loading its data included, on SQLite and — with `BENCH_DATABASE_URL` — on
//! PostgreSQL. Prints the median and p99 of 300 runs after 20 warm-up runs.
//!
//! `cargo bench --bench scoring`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use standing::app::{AppState, demo_dir, load_demo_if_empty};
use standing::clock::FixedClock;
use standing::config::{DatabaseUrl, Secret, Settings};
use standing::domain::Currency;
use standing::scoring;

const ACCOUNT: &str = "A1013";
const RUNS: usize = 300;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        run("sqlite", &format!("sqlite:{}", dir.path().join("bench.db").display()), dir.path()).await;
        if let Ok(server) = std::env::var("BENCH_DATABASE_URL") {
            let name = format!("standing_bench_scoring_{}", std::process::id());
            let admin = sqlx::PgPool::connect(&server).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
            let url = format!("{}/{name}", server.rsplit_once('/').map(|(b, _)| b).unwrap_or(&server));
            run("postgres", &url, dir.path()).await;
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
                .execute(&admin)
                .await
                .unwrap();
        } else {
            println!("postgres: skipped (set BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres)");
        }
    });
}

async fn run(backend: &str, url: &str, dir: &std::path::Path) {
    let mut settings = Settings::default();
    // STANDING_IMPORT_BATCH_SIZE and friends apply, as for the real command.
    settings.apply_env(|k| std::env::var(k).ok()).unwrap();
    settings.database.url = DatabaseUrl::new(url);
    settings.data_dir = dir.join("var");
    settings.master_key = Some(Secret::new("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="));
    let clock = Arc::new(FixedClock(Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap()));
    let state = AppState::open(settings, clock).await.unwrap();
    load_demo_if_empty(&state, &demo_dir()).await.unwrap();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();

    let mut times = Vec::with_capacity(RUNS);
    let mut score = 0;
    for i in 0..RUNS + 20 {
        let started = Instant::now();
        let (_, inputs) = scoring::load::load_inputs(&state.store, ACCOUNT, as_of, Currency::CAD).await.unwrap();
        let decision = scoring::decide(&inputs, 750);
        let elapsed = started.elapsed();
        score = decision.score;
        if i >= 20 {
            times.push(elapsed);
        }
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "{backend:<8} score {ACCOUNT} (load + decide): median {:>7.3} ms  p99 {:>7.3} ms  (score {score}, {RUNS} runs)",
        ms(at(0.5)),
        ms(at(0.99))
    );
    state.store.close().await;
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
