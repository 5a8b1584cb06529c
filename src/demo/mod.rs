//! The deterministic demo data behind `fixtures/demo`.
//!
//! [`generate`] simulates the applicants in [`profiles::PROFILES`] day by
//! day up to [`DEMO_AS_OF`] and writes them in the JSON Lines import format
//! of DESIGN.md. Randomness comes from ChaCha20 seeded from a constant, so the
//! same code writes the same bytes; a test checks that the committed fixtures
//! are exactly what the code generates. Never edit the fixtures by hand:
//! change a profile and run
//!
//! ```text
//! cargo test --lib demo::tests::regenerate_fixtures -- --ignored
//! ```
//!
//! Files are named so that sorting by name gives a valid import order
//! (accounts first). [`write_bulk_transactions`] writes large synthetic files
//! for import benchmarks.

mod bulk;
pub mod catalog;
mod dice;
mod fx;
mod jsonl;
mod load;
pub mod profiles;
mod sim;

use std::fmt;
use std::path::Path;

use anyhow::Context;
use chrono::NaiveDate;

pub use bulk::write_bulk_transactions;
pub use fx::FX_SOURCE;
pub use load::{demo_dir, load_if_empty};
pub use profiles::{Band, PROFILES, Profile};

/// The day the demo is "now": all data ends the day before, 2026-11-20.
pub const DEMO_AS_OF: NaiveDate = profiles::ymd(2026, 11, 21);

/// A file larger than this is split at account boundaries.
const MAX_FILE_BYTES: usize = 5_000_000;

/// What [`generate`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub accounts: usize,
    pub transactions: usize,
    pub balances: usize,
    pub bills: usize,
    pub fx_rates: usize,
    /// File names (in import order) and their sizes in bytes.
    pub files: Vec<(String, u64)>,
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} accounts, {} transactions, {} balances, {} bills, {} FX rates in {} files",
            self.accounts,
            self.transactions,
            self.balances,
            self.bills,
            self.fx_rates,
            self.files.len()
        )
    }
}

/// One record type's lines, one chunk per account.
struct Output {
    stem: &'static str,
    chunks: Vec<String>,
}

impl Output {
    fn new(stem: &'static str) -> Self {
        Output { stem, chunks: Vec::new() }
    }

    /// One file, or `stem-1.jsonl`, `stem-2.jsonl`, … of at most
    /// [`MAX_FILE_BYTES`] each (an account's lines stay together).
    fn into_files(self) -> Vec<(String, String)> {
        let mut parts: Vec<String> = Vec::new();
        for chunk in self.chunks {
            match parts.last_mut() {
                Some(last) if last.len() + chunk.len() <= MAX_FILE_BYTES => last.push_str(&chunk),
                _ => parts.push(chunk),
            }
        }
        if parts.len() <= 1 {
            let all = parts.pop().unwrap_or_default();
            return vec![(format!("{}.jsonl", self.stem), all)];
        }
        parts.into_iter().enumerate().map(|(i, part)| (format!("{}-{}.jsonl", self.stem, i + 1), part)).collect()
    }
}

/// Is `name` one of ours (`NN-….jsonl`)? Only those are replaced.
fn is_generated_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 9 && b[0].is_ascii_digit() && b[1].is_ascii_digit() && b[2] == b'-' && name.ends_with(".jsonl")
}

/// Writes the demo fixtures into `out_dir` (created if missing), replacing
/// files named like ours (`NN-….jsonl`) and leaving anything else alone.
pub fn generate(out_dir: &Path) -> anyhow::Result<DemoSummary> {
    let mut summary = DemoSummary::default();
    let mut accounts = Output::new("01-accounts");
    let mut fx_rates = Output::new("02-fx_rates");
    let mut balances = Output::new("03-balances");
    let mut bills = Output::new("04-bills");
    let mut transactions = Output::new("05-transactions");

    let mut buf = String::new();
    for profile in PROFILES {
        let s = sim::simulate(profile, DEMO_AS_OF).with_context(|| format!("simulating {}", profile.id))?;
        jsonl::account(&mut buf, &s.account);
        accounts.chunks.push(std::mem::take(&mut buf));
        for b in &s.balances {
            jsonl::balance(&mut buf, b);
        }
        balances.chunks.push(std::mem::take(&mut buf));
        for b in &s.bills {
            jsonl::bill(&mut buf, b);
        }
        bills.chunks.push(std::mem::take(&mut buf));
        for t in &s.transactions {
            jsonl::transaction(&mut buf, t);
        }
        transactions.chunks.push(std::mem::take(&mut buf));
        summary.accounts += 1;
        summary.balances += s.balances.len();
        summary.bills += s.bills.len();
        summary.transactions += s.transactions.len();
    }
    let rates = fx::rates(DEMO_AS_OF)?;
    for r in &rates {
        jsonl::fx_rate(&mut buf, r);
    }
    fx_rates.chunks.push(std::mem::take(&mut buf));
    summary.fx_rates = rates.len();

    let files: Vec<(String, String)> =
        [accounts, fx_rates, balances, bills, transactions].into_iter().flat_map(Output::into_files).collect();

    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    for entry in std::fs::read_dir(out_dir).with_context(|| format!("reading {}", out_dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_generated_name(&name) && !files.iter().any(|(n, _)| *n == name) {
            std::fs::remove_file(entry.path()).with_context(|| format!("removing stale {}", entry.path().display()))?;
        }
    }
    for (name, content) in files {
        let path = out_dir.join(&name);
        std::fs::write(&path, &content).with_context(|| format!("writing {}", path.display()))?;
        summary.files.push((name, content.len() as u64));
    }
    Ok(summary)
}

#[cfg(test)]
mod tests;
