//! `standing import FILE...`: all or nothing, with the bad lines listed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use standing::clock::SharedClock;
use standing::config::Settings;
use standing::import::{ImportError, ImportOptions, Progress, import_files};
use standing::web::AppState;

pub async fn run(
    settings: Settings,
    clock: SharedClock,
    files: &[PathBuf],
    quiet: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let state = AppState::open(settings, clock).await?;
    let options = ImportOptions {
        batch_size: state.settings.import.batch_size,
        progress: if quiet { Progress::Quiet } else { Progress::for_stderr() },
        shift_days: 0,
    };
    let result = import_files(&state.store, &state.cipher, state.clock.as_ref(), files, &options).await;
    state.store.close().await;
    match result {
        Ok(report) => {
            writeln!(out, "{report}")?;
            Ok(ExitCode::SUCCESS)
        }
        Err(ImportError::Invalid { listed, total }) => {
            for issue in &listed {
                note!("{issue}");
            }
            if total > listed.len() as u64 {
                note!("... and {} more invalid line(s)", total - listed.len() as u64);
            }
            note!("error: {total} invalid line(s); nothing was imported");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e).context("import failed"),
    }
}
