//! Scoring the 5-year demo account (A1013, about 20,000 transactions),
//! loading its data included, and assembling its report's data (load, score,
//! figures; no PDF), on SQLite and — with `BENCH_DATABASE_URL` — on
//! PostgreSQL. Prints the median and p99 of 300 runs after 20 warm-up runs.
//!
//! `cargo bench --bench scoring`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

mod common;

use std::time::Instant;

use chrono::NaiveDate;
use standing::demo::demo_dir;
use standing::domain::Currency;
use standing::report::build::build_report_data;
use standing::scoring;

const ACCOUNT: &str = "A1013";
const RUNS: usize = 300;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        run("sqlite", &format!("sqlite:{}", dir.path().join("bench.db").display())).await;
        common::with_fresh_postgres("scoring", |url| async move { run("postgres", &url).await }).await;
    });
}

async fn run(backend: &str, url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let state = common::open_state(url, dir.path()).await;
    state.load_demo_if_empty(&demo_dir()).await.unwrap();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    let account = standing::domain::AccountId::parse(ACCOUNT).unwrap();

    let mut times = Vec::with_capacity(RUNS);
    let mut score = 0;
    for i in 0..RUNS + 20 {
        let started = Instant::now();
        let (_, inputs) = scoring::load::load_inputs(&state.store, &account, as_of, Currency::CAD).await.unwrap();
        let decision = scoring::decide(&inputs, 750);
        let elapsed = started.elapsed();
        score = decision.score;
        if i >= 20 {
            times.push(elapsed);
        }
    }
    let (median, p99) = common::median_p99_ms(&mut times);
    println!(
        "{backend:<8} score {ACCOUNT} (load + decide): median {median:>7.3} ms  p99 {p99:>7.3} ms  (score {score}, {RUNS} runs)"
    );

    let ctx = common::issue_context(as_of);
    let mut times = Vec::with_capacity(RUNS);
    for i in 0..RUNS + 20 {
        let started = Instant::now();
        let data = build_report_data(&state.store, &state.cipher, &account, as_of, &ctx).await.unwrap();
        let elapsed = started.elapsed();
        assert_eq!(data.assets.days_of_data, 365);
        if i >= 20 {
            times.push(elapsed);
        }
    }
    let (median, p99) = common::median_p99_ms(&mut times);
    println!(
        "{backend:<8} report data {ACCOUNT} (load + score + figures): median {median:>7.3} ms  p99 {p99:>7.3} ms  ({RUNS} runs)"
    );
    state.store.close().await;
}
