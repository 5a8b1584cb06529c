//! Import throughput: 1,000,000 generated transactions into a fresh SQLite
//! database, and into a fresh PostgreSQL database when `BENCH_DATABASE_URL`
//! names a server. Prints rows per second for a first import (all inserts)
//! and a second import of the same file (all unchanged).
//!
//! `cargo bench --bench import`; `BENCH_ROWS=N` changes the size.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

use std::io::BufWriter;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use standing::app::AppState;
use standing::clock::FixedClock;
use standing::config::{DatabaseUrl, Secret, Settings};
use standing::import::{ImportOptions, Progress, import_files};

fn main() {
    let rows: usize = std::env::var("BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bulk.jsonl");
    let started = std::time::Instant::now();
    let mut out = BufWriter::new(std::fs::File::create(&file).unwrap());
    standing::demo::write_bulk_transactions(&mut out, "BULK1", rows, 42).unwrap();
    drop(out);
    let size = std::fs::metadata(&file).unwrap().len();
    println!("generated {rows} transactions ({:.1} MB) in {:.2} s", size as f64 / 1e6, started.elapsed().as_secs_f64());

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        // BENCH_ONLY=postgres (or sqlite) runs one backend, e.g. under a profiler.
        let only = std::env::var("BENCH_ONLY").unwrap_or_default();
        if only.is_empty() || only == "sqlite" {
            let sqlite = format!("sqlite:{}", dir.path().join("bench.db").display());
            run("sqlite", &sqlite, dir.path(), &file).await;
        }
        if only == "sqlite" {
            return;
        }
        if let Ok(server) = std::env::var("BENCH_DATABASE_URL") {
            let name = format!("standing_bench_{}", std::process::id());
            let admin = sqlx::PgPool::connect(&server).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
            let url = format!("{}/{name}", server.rsplit_once('/').map(|(b, _)| b).unwrap_or(&server));
            run("postgres", &url, dir.path(), &file).await;
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
                .execute(&admin)
                .await
                .unwrap();
        } else {
            println!("postgres: skipped (set BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres)");
        }
    });
}

async fn run(backend: &str, url: &str, dir: &std::path::Path, file: &std::path::Path) {
    let mut settings = Settings::default();
    // STANDING_IMPORT_BATCH_SIZE and friends apply, as for the real command.
    settings.apply_env(|k| std::env::var(k).ok()).unwrap();
    settings.database.url = DatabaseUrl::new(url);
    settings.data_dir = dir.join("var");
    settings.master_key = Some(Secret::new("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="));
    let clock = Arc::new(FixedClock(Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap()));
    let state = AppState::open(settings, clock).await.unwrap();
    let options = ImportOptions { batch_size: state.settings.import.batch_size, progress: Progress::Quiet };
    for label in ["first import (inserts)", "second import (unchanged)"] {
        let report = import_files(&state.store, &state.cipher, state.clock.as_ref(), &[file.to_path_buf()], &options)
            .await
            .unwrap();
        println!(
            "{backend:<8} {label:<26} {:>9} rows in {:>6.2} s = {:>9.0} rows/s",
            report.total_records(),
            report.seconds,
            report.rows_per_second()
        );
    }
    state.store.close().await;
}
