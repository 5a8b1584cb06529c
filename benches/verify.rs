//! Offline verification of one report, warm process, one thread: the median
//! and p99 of `verify_pdf` on the 5-year demo account's report (A1013),
//! signed with Ed25519 and with ECDSA P-256.
//!
//! `cargo bench --bench verify`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

mod common;

use std::time::Instant;

use chrono::{TimeZone, Utc};
use standing::keys::KeyAlgorithm;
use standing::signing::render_and_sign;

const RUNS: usize = 2000;

fn main() {
    let (ed, ed_ring) = common::identity(KeyAlgorithm::Ed25519);
    let (p256, p256_ring) = common::identity(KeyAlgorithm::EcdsaP256);
    let time = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();

    let data = common::five_year_report_data(&ed);

    for (label, signer, ring) in [("Ed25519", &ed, &ed_ring), ("ECDSA P-256", &p256, &p256_ring)] {
        let pdf = render_and_sign(&data, signer, time, "standing").unwrap();
        let mut times = Vec::with_capacity(RUNS);
        for i in 0..RUNS + 50 {
            let started = Instant::now();
            let v = standing::verify::verify_pdf(&pdf, ring, now);
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
