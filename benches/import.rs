//! Import throughput: 1,000,000 generated transactions into a fresh SQLite
//! database, and into a fresh PostgreSQL database when `BENCH_DATABASE_URL`
//! names a server. Prints rows per second for a first import (all inserts)
//! and a second import of the same file (all unchanged).
//!
//! `cargo bench --bench import`; `BENCH_ROWS=N` changes the size.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

mod common;

use std::io::BufWriter;

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
            run("sqlite", &sqlite, &file).await;
        }
        if only == "sqlite" {
            return;
        }
        common::with_fresh_postgres("import", |url| async move { run("postgres", &url, &file).await }).await;
    });
}

async fn run(backend: &str, url: &str, file: &std::path::Path) {
    let dir = tempfile::tempdir().unwrap();
    let state = common::open_state(url, dir.path()).await;
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
