//! Import throughput: 1,000,000 generated transactions into a fresh SQLite
//! database, and into a fresh PostgreSQL database when `BENCH_DATABASE_URL`
//! names a server. Prints rows per second for a first import into empty
//! tables (all inserts), a second import of the same file (all unchanged),
//! and a third file of new rows into the now full tables (the everyday
//! incremental load).
//!
//! `cargo bench --bench import`; `BENCH_ROWS=N` changes the size.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

mod common;

use std::io::BufWriter;

use standing::import::{ImportOptions, Progress, import_files};

fn main() {
    let rows: usize = std::env::var("BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let file = dir.path().join("bulk.jsonl");
    let more = dir.path().join("more.jsonl");
    for (path, account, seed) in [(&file, "BULK1", 42), (&more, "BULK2", 43)] {
        let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
        standing::demo::write_bulk_transactions(&mut out, account, rows, seed).unwrap();
    }
    let size = std::fs::metadata(&file).unwrap().len();
    println!("generated {rows} transactions ({:.1} MB) in {:.2} s", size as f64 / 1e6, started.elapsed().as_secs_f64());

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        // BENCH_ONLY=postgres (or sqlite) runs one backend, e.g. under a profiler.
        let only = std::env::var("BENCH_ONLY").unwrap_or_default();
        if only.is_empty() || only == "sqlite" {
            let sqlite = format!("sqlite:{}", dir.path().join("bench.db").display());
            run("sqlite", &sqlite, &file, &more).await;
        }
        if only == "sqlite" {
            return;
        }
        common::with_fresh_postgres("import", |url| async move { run("postgres", &url, &file, &more).await }).await;
    });
}

async fn run(backend: &str, url: &str, file: &std::path::Path, more: &std::path::Path) {
    let dir = tempfile::tempdir().unwrap();
    let state = common::open_state(url, dir.path()).await;
    let options =
        ImportOptions { batch_size: state.settings.import.batch_size, progress: Progress::Quiet, shift_days: 0 };
    let runs =
        [("first import (inserts)", file), ("same file again (unchanged)", file), ("new rows, full table", more)];
    for (label, path) in runs {
        let report = import_files(&state.store, &state.cipher, state.clock.as_ref(), &[path.to_path_buf()], &options)
            .await
            .unwrap();
        println!(
            "{backend:<8} {label:<28} {:>9} rows in {:>6.2} s = {:>9.0} rows/s",
            report.total_records(),
            report.seconds,
            report.rows_per_second()
        );
    }
    state.store.close().await;
}
