//! Offline verification of one report, warm process, one thread: the median
//! and p99 of `verify_pdf` on the 5-year demo account's report (A1013),
//! signed with Ed25519 and with ECDSA P-256.
//!
//! `cargo bench --bench verify`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

mod common;

use std::time::Instant;

use chrono::{NaiveDate, TimeZone, Utc};
use rand::SeedableRng;
use standing::app::{demo_dir, load_demo_if_empty};
use standing::keys::KeyAlgorithm;
use standing::report::issue::{issue_report, render_and_sign};

const RUNS: usize = 2000;

fn main() {
    let (ed, ed_ring) = common::identity(KeyAlgorithm::Ed25519);
    let (p256, p256_ring) = common::identity(KeyAlgorithm::EcdsaP256);
    let time = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let data = runtime.block_on(async {
        let state = common::open_state(&format!("sqlite:{}", dir.path().join("bench.db").display()), dir.path()).await;
        load_demo_if_empty(&state, &demo_dir()).await.unwrap();
        issue_report(
            &state.settings,
            &state.store,
            &state.cipher,
            &ed,
            "A1013",
            NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            time,
            &mut rand_chacha::ChaCha20Rng::seed_from_u64(2),
        )
        .await
        .unwrap()
        .data
    });

    for (label, signer, ring) in [("Ed25519", &ed, &ed_ring), ("ECDSA P-256", &p256, &p256_ring)] {
        let pdf = render_and_sign(&data, signer, time, "standing").unwrap();
        let mut times = Vec::with_capacity(RUNS);
        for i in 0..RUNS + 50 {
            let started = Instant::now();
            let v = standing::report::verify::verify_pdf(&pdf, ring, now);
            let elapsed = started.elapsed();
            assert!(v.valid, "{:?}", v.problems);
            std::hint::black_box(v);
            if i >= 50 {
                times.push(elapsed);
            }
        }
        let (median, p99) = common::median_p99_ms(&mut times);
        println!(
            "verify A1013 report, {label:<11}  median {median:>6.3} ms  p99 {p99:>6.3} ms  {:>7} bytes",
            pdf.len()
        );
    }
}
