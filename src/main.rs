//! The `standing` command: parse the arguments, set up logging, run the
//! command ([`cli`]) and map its outcome to an exit status. Logs go to
//! standard error, in colour only on a terminal.

#[macro_use]
mod cli;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use cli::{Cli, Output};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            note!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = Output::new(std::io::stdout());
    let result = runtime.block_on(cli::run(cli, &mut out)).and_then(|code| {
        out.flush().context("writing the output")?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            note!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to standard error; colours only when it is a terminal (and
/// `NO_COLOR` is unset), so captured logs hold no escape codes.
fn init_tracing() {
    let filter = EnvFilter::try_from_env("STANDING_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).init();
}
