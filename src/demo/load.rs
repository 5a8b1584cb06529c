//! Loading the demo fixtures into a database (`serve --demo`, tests).

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::DEMO_AS_OF;
use crate::clock::Clock;
use crate::crypto::FieldCipher;
use crate::import::{ImportOptions, Progress, import_files};
use crate::store::Store;

/// The demo fixtures: `fixtures/demo` under the working directory, or under
/// the source tree this binary was built from.
pub fn demo_dir() -> PathBuf {
    let local = PathBuf::from("fixtures/demo");
    if local.is_dir() { local } else { Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo") }
}

/// Imports the demo fixtures into an empty database; leaves a database with
/// accounts alone. Returns whether it imported.
///
/// The fixtures end on [`DEMO_AS_OF`]'s eve (2026-11-20); their dates (but
/// dates of birth) are moved by whole days so that they end yesterday by
/// `clock`. Reports refuse data that does not reach their as-of date,
/// so unmoved fixtures would make the demo refuse every report a week after
/// they were generated; moved, the demo works on any day with the same
/// profiles, and a fixed clock on the fixtures' day moves nothing.
pub async fn load_if_empty(
    store: &Store,
    cipher: &FieldCipher,
    clock: &dyn Clock,
    batch_size: usize,
    dir: &Path,
) -> anyhow::Result<bool> {
    if store.counts().await?.accounts > 0 {
        tracing::info!("database already holds accounts; demo data not loaded");
        return Ok(false);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading demo directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    // The file names carry the import order (accounts first).
    files.sort();
    let data_end = DEMO_AS_OF.pred_opt().unwrap_or(DEMO_AS_OF);
    let yesterday = clock.today().pred_opt().unwrap_or(data_end);
    let shift_days = (yesterday - data_end).num_days();
    let options = ImportOptions { batch_size, progress: Progress::Quiet, shift_days };
    let report = import_files(store, cipher, clock, &files, &options).await.map_err(|e| match e {
        crate::import::ImportError::Invalid { listed, total } => anyhow::anyhow!(
            "demo data is invalid ({total} lines), first: {}",
            listed.first().map(ToString::to_string).unwrap_or_default()
        ),
        other => other.into(),
    })?;
    tracing::info!(
        records = report.total_records(),
        seconds = report.seconds,
        shifted_days = shift_days,
        data_ends = %yesterday,
        "demo data loaded"
    );
    Ok(true)
}
