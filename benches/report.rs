//! Render + sign one report, warm process, one thread: the median, p99 and
//! size, for the sample report and for the 5-year demo account (A1013),
//! with the default ECDSA P-256 key and with Ed25519.
//!
//! `cargo bench --bench report`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

mod common;

use std::time::Instant;

use chrono::{TimeZone, Utc};
use standing::keys::{KeyAlgorithm, Signer};
use standing::report::data::ReportData;
use standing::signing::render_and_sign;

const RUNS: usize = 500;

fn measure(label: &str, data: &ReportData, signer: &Signer) {
    let time = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();
    let mut bytes = 0;
    let mut times = Vec::with_capacity(RUNS);
    for i in 0..RUNS + 20 {
        let started = Instant::now();
        let pdf = render_and_sign(data, signer, time, "standing").unwrap();
        let elapsed = started.elapsed();
        bytes = pdf.len();
        if i >= 20 {
            times.push(elapsed);
        }
    }
    let (median, p99) = common::median_p99_ms(&mut times);
    println!("{label:<34} render+sign median {median:>6.3} ms  p99 {p99:>6.3} ms  {bytes:>7} bytes");
}

fn main() {
    let ed = common::identity(KeyAlgorithm::Ed25519).0;
    let p256 = common::identity(KeyAlgorithm::EcdsaP256).0;
    let sample = standing::report::sample::sample_report();
    measure("sample report, Ed25519", &sample, &ed);
    measure("sample report, ECDSA P-256", &sample, &p256);

    // The 5-year demo account's real report data, with the default
    // algorithm (ECDSA P-256) and with Ed25519.
    let data = common::five_year_report_data(&p256);
    measure("5-year account A1013, ECDSA P-256", &data, &p256);
    measure("5-year account A1013, Ed25519", &data, &ed);
}
