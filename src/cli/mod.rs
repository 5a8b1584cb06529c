//! The `standing` command line, one file per command group: `import`,
//! `score`, `report` (issuing and the operators' `reports` commands),
//! `verify`, `keys`; `serve`, `migrate` and `demo-data` are a few lines each
//! and live in [`run`]. `output` holds what every command writes with.
//!
//! Every answer goes to standard output through one writer ([`Output`]): a
//! reader that goes away early (`standing verify FILE | head -1`) ends the
//! output quietly, not with a panic, and the exit status is still the
//! command's own. Messages go to standard error.

#[macro_use]
mod output;
mod import;
mod keys;
mod mail;
mod report;
mod reviews;
mod score;
mod verify;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use standing::app::Application;
use standing::clock::{SharedClock, SystemClock};
use standing::config::Settings;
use standing::demo::demo_dir;
use standing::domain::AccountId;
use standing::store::Store;
use standing::web::AppState;

pub use output::Output;

#[derive(Parser)]
#[command(name = "standing", version, about = "Signed proof-of-financial-standing reports for visa applicants")]
pub struct Cli {
    /// A TOML settings file (see standing.example.toml); also STANDING_CONFIG.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the web service.
    Serve {
        /// Listen on this address instead of the configured one.
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Load the demo data (fixtures/demo) into an empty database first.
        #[arg(long)]
        demo: bool,
    },
    /// Load financial data from JSON Lines files, all or nothing.
    Import {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// No progress output.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Score an account: every factor, the decision and the reasons.
    Score {
        account: AccountId,
        /// Score as of this date (YYYY-MM-DD); default today.
        #[arg(long, value_name = "DATE")]
        as_of: Option<chrono::NaiveDate>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Build, sign and record the report of an eligible account, and write
    /// the PDF. An ineligible account is refused with its reasons.
    Report {
        account: AccountId,
        /// Where to write the signed PDF.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The report's as-of date (YYYY-MM-DD); default today.
        #[arg(long, value_name = "DATE")]
        as_of: Option<chrono::NaiveDate>,
        /// Also email the report to the account's address on file: queued
        /// in the transaction that records the report, then sent at once
        /// (retried by the service's worker or `standing mail run` if that
        /// fails).
        #[arg(long)]
        email: bool,
    },
    /// Issued reports: list, show, revoke, reissue, resend (operators).
    Reports {
        #[command(subcommand)]
        action: ReportsCommand,
    },
    /// Check a report PDF: signature, whole-file coverage, key and window,
    /// and, with --jwks URL, its status at the service. Exit 0 when valid
    /// (offline: the file and its signature; the answer then says that the
    /// status was not checked), 1 when not valid, 2 when it could not be
    /// checked, 3 with --require-status when the status was not checked.
    Verify {
        #[arg(value_name = "FILE.pdf")]
        file: PathBuf,
        /// The published keys: a JWKS file, or the service's URL
        /// (https://host/.well-known/jwks.json), which also asks the service
        /// for the report's status. Default: the keys in the configured data
        /// directory (data_dir/keys; --config, STANDING_DATA_DIR).
        #[arg(long, value_name = "FILE|URL")]
        jwks: Option<String>,
        /// The root certificate (PEM) to trust with a JWKS file; default:
        /// the root in the keys' x5c chains.
        #[arg(long, value_name = "FILE")]
        root: Option<PathBuf>,
        /// Print the whole answer as JSON.
        #[arg(long)]
        json: bool,
        /// Count a valid signature as success only when the service also
        /// said the report is valid: offline answers exit 3 instead of 0
        /// (for scripts that must not accept a since-revoked report).
        #[arg(long)]
        require_status: bool,
    },
    /// The mail outbox: what is pending, sent or dead; retry; one sending pass.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Manual identity reviews of applications: list, show, approve, reject.
    Reviews {
        #[command(subcommand)]
        command: ReviewsCommand,
    },
    /// Signing keys: list them, or rotate to a new one.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Apply database migrations (serve does this too).
    Migrate,
    /// Write the deterministic demo data set.
    DemoData {
        #[arg(long, value_name = "DIR", default_value = "fixtures/demo")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum ReportsCommand {
    /// The latest issued reports, newest first.
    List {
        /// Only this account's reports.
        #[arg(long, value_name = "ACCOUNT")]
        account: Option<AccountId>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// One report: its state, dates, key facts (passport masked).
    Show {
        number: String,
        /// Also write the issued PDF, as stored, to this file.
        #[arg(long, value_name = "FILE")]
        pdf: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a valid report; officers see REVOKED with the reason at once,
    /// and the applicant is emailed the reason.
    Revoke {
        number: String,
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Do not email the applicant.
        #[arg(long)]
        no_email: bool,
    },
    /// Email a valid report again (a new message with the PDF attached), to
    /// the address on file or another one.
    Resend {
        number: String,
        /// Send to this address instead of the one on file.
        #[arg(long, value_name = "EMAIL")]
        to: Option<standing::mail::EmailAddress>,
        /// Why (kept with the message).
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// Issue a new report for the same account with today's data; the old
    /// one becomes superseded by it.
    Reissue {
        number: String,
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Where to write the new signed PDF (it is kept in the registry
        /// either way).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Do not email the new report to the applicant.
        #[arg(long)]
        no_email: bool,
    },
}

#[derive(Subcommand)]
pub enum MailCommand {
    /// Queued messages, newest first (recipients masked).
    List {
        /// Only messages in this state.
        #[arg(long, value_name = "STATUS")]
        status: Option<mail::StatusFilter>,
        /// Only messages about this report.
        #[arg(long, value_name = "NUMBER")]
        report: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Make a dead (or waiting) message due now, with a fresh retry window.
    Retry { id: String },
    /// Send every message due now, then exit (for operators and cron).
    Run,
}

#[derive(Subcommand)]
pub enum ReviewsCommand {
    /// Applications waiting for an identity review, oldest first.
    List {
        /// Every application, whatever its status.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// An application's details, consents, history and photos.
    Show {
        id: String,
        /// Write the two photos (selfie.jpg, passport_page.jpg) here.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Identity confirmed: the account is scored now and, above the
    /// threshold, the report is issued and emailed.
    Approve {
        id: String,
        /// Who decides (default: the login name).
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Identity not confirmed: the applicant is told the reason.
    Reject {
        id: String,
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Every published key: kid, algorithm, window and status.
    List {
        /// Print the JWKS document instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// A new signing key that starts now; old reports stay valid.
    Rotate {
        /// The algorithm: ecdsa-p256 or ed25519 (default: the configured
        /// report.signature_algorithm, which decides what reports use). The
        /// root signs keys of either algorithm.
        #[arg(long, value_name = "ALG")]
        algorithm: Option<standing::keys::KeyAlgorithm>,
    },
}

/// Runs one command; its answer goes to `out`.
pub async fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    let clock: SharedClock = Arc::new(SystemClock);
    match cli.command {
        Command::Serve { listen, demo } => {
            if let Some(addr) = listen {
                settings.listen = addr;
            }
            let state = AppState::open(settings, clock).await?;
            if demo {
                state.load_demo_if_empty(&demo_dir()).await?;
            }
            Application::build(state).await?.run_until_stopped().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { files, quiet } => import::run(settings, clock, &files, quiet, out).await,
        Command::Score { account, as_of, json } => score::run(&settings, clock, &account, as_of, json, out).await,
        Command::Report { account, out: path, as_of, email } => {
            report::issue(settings, clock, &account, &path, as_of, email, out).await
        }
        Command::Mail { command } => {
            let state = AppState::open(settings, clock).await?;
            let result = mail::run(&state, command, out).await;
            state.store.close().await;
            result
        }
        Command::Reports { action } => {
            let state = AppState::open(settings, clock).await?;
            let result = report::reports(&state, action, out).await;
            state.store.close().await;
            result
        }
        Command::Reviews { command } => {
            let state = AppState::open(settings, clock).await?;
            let result = reviews::run(&state, command, out).await;
            state.store.close().await;
            result
        }
        Command::Verify { file, jwks, root, json, require_status } => {
            let flags = verify::Flags { jwks, root, json, require_status };
            verify::run(&settings, clock.now(), &file, flags, out).await
        }
        Command::Keys { command } => keys::run(&settings, clock.now(), command, out),
        Command::Migrate => {
            let store = Store::open(&settings.database).await?;
            writeln!(out, "migrations applied ({})", store.backend_name())?;
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::DemoData { out: dir } => {
            let summary = standing::demo::generate(&dir)?;
            writeln!(out, "wrote demo data to {}: {summary:?}", dir.display())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
