//! The `standing` command: parse arguments, set up logging, call the library.
//!
//! Every answer goes to standard output through one writer ([`Output`]): a
//! reader that goes away early (`standing verify FILE | head -1`) ends the
//! output quietly, not with a panic, and the exit status is still the
//! command's own. Messages and logs go to standard error, in colour only
//! on a terminal.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use standing::app::{AppState, Application, demo_dir, load_demo_if_empty};
use standing::clock::{SharedClock, SystemClock};
use standing::config::Settings;
use standing::crypto::MasterKey;
use standing::domain::ReportNumber;
use standing::import::{ImportError, ImportOptions, Progress, import_files};
use standing::keys::{KeyRing, KeyStore, summarize};
use standing::report::build::BuildError;
use standing::report::issue::{self, IssuedReport};
use standing::report::registry::{RegisteredReport, RegistryError, ReportState};
use standing::report::verify::remote::Service;
use standing::report::verify::{Verification, verify_pdf};
use standing::scoring;
use standing::store::Store;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "standing", version, about = "Signed proof-of-financial-standing reports for visa applicants")]
struct Cli {
    /// A TOML settings file (see standing.example.toml); also STANDING_CONFIG.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
        account: String,
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
        account: String,
        /// Where to write the signed PDF.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The report's as-of date (YYYY-MM-DD); default today.
        #[arg(long, value_name = "DATE")]
        as_of: Option<chrono::NaiveDate>,
    },
    /// Issued reports: list, show, revoke, reissue (operators).
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
enum ReportsCommand {
    /// The latest issued reports, newest first.
    List {
        /// Only this account's reports.
        #[arg(long, value_name = "ACCOUNT")]
        account: Option<String>,
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
    /// Revoke a valid report; officers see REVOKED with the reason at once.
    Revoke {
        number: String,
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
    },
}

#[derive(Subcommand)]
enum KeysCommand {
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

/// A line on standard error. If standard error itself is gone there is no
/// one left to tell, so a failed write is ignored rather than a panic.
macro_rules! note {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Standard output for a command's answer. When the reader has gone away
/// (a closed pipe), the rest of the answer is dropped without an error, so
/// the command finishes what it was doing and exits with its own status
/// (under `set -o pipefail` a NOT VALID report still fails). Other write
/// errors (a full disk) are returned.
struct Output<W> {
    inner: W,
    closed: bool,
}

impl<W: Write> Output<W> {
    fn new(inner: W) -> Self {
        Output { inner, closed: false }
    }

    fn quietly(&mut self, result: std::io::Result<()>) -> std::io::Result<()> {
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

impl<W: Write> Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let result = self.inner.write_all(buf);
        self.quietly(result).map(|()| buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = self.inner.flush();
        self.quietly(result)
    }
}

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
    let result = runtime.block_on(run(cli, &mut out)).and_then(|code| {
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

async fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    let clock: SharedClock = Arc::new(SystemClock);
    match cli.command {
        Command::Serve { listen, demo } => {
            if let Some(addr) = listen {
                settings.listen = addr;
            }
            let state = AppState::open(settings, clock).await?;
            if demo {
                load_demo_if_empty(&state, &demo_dir()).await?;
            }
            Application::build(state).await?.run_until_stopped().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { files, quiet } => {
            let state = AppState::open(settings, clock).await?;
            let options = ImportOptions {
                batch_size: state.settings.import.batch_size,
                progress: if quiet { Progress::Quiet } else { Progress::for_stderr() },
                shift_days: 0,
            };
            let result = import_files(&state.store, &state.cipher, state.clock.as_ref(), &files, &options).await;
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
        Command::Score { account, as_of, json } => {
            let as_of = as_of.unwrap_or_else(|| clock.today());
            if let Err(e) = standing::report::build::check_not_future(as_of, clock.today()) {
                note!("error: {e}");
                return Ok(ExitCode::from(2));
            }
            let store = Store::open(&settings.database).await?;
            let loaded = scoring::load::load_inputs(&store, &account, as_of, settings.report.authority_currency).await;
            store.close().await;
            let (_, inputs) = match loaded {
                Err(scoring::load::LoadError::UnknownAccount(id)) => {
                    note!("error: no account `{id}` (import it first, or check the id)");
                    return Ok(ExitCode::from(2));
                }
                other => other?,
            };
            let decision = scoring::decide(&inputs, settings.scoring.threshold);
            if json {
                let mut value = serde_json::to_value(&decision)?;
                value["account"] = account.into();
                writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
            } else {
                writeln!(out, "account {account}\n{}", scoring::render_text(&decision))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { account, out: path, as_of } => {
            let state = AppState::open(settings, clock).await?;
            let now = state.clock.now();
            let as_of = as_of.unwrap_or_else(|| now.date_naive());
            let signer = issue::load_signer(&state.settings, &state.cipher, now)?;
            let result = issue::issue_report(
                &state.settings,
                &state.store,
                &state.cipher,
                &signer,
                &account,
                as_of,
                now,
                &mut <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng(),
            )
            .await;
            let issued = match result {
                Err(issue::IssueError::Build(BuildError::Ineligible(decision))) => {
                    state.store.close().await;
                    note!("account {account} is not eligible for a report; nothing was written.\n");
                    note!("{}", scoring::render_text(&decision));
                    return Ok(ExitCode::FAILURE);
                }
                Err(issue::IssueError::Build(BuildError::UnknownAccount(id))) => {
                    state.store.close().await;
                    note!("error: no account `{id}` (import it first, or check the id)");
                    return Ok(ExitCode::from(2));
                }
                Err(issue::IssueError::Build(
                    e @ (BuildError::FutureAsOf { .. } | BuildError::StaleData { .. } | BuildError::TooLarge(_)),
                )) => {
                    state.store.close().await;
                    note!("error: {e}. Nothing was written.");
                    return Ok(ExitCode::from(2));
                }
                other => other?,
            };
            // A signed report the registry does not know would verify
            // offline yet fail every officer's online check, and could not be
            // revoked. So nothing signed touches the disk before the record
            // has committed: killed at any moment, this command leaves either
            // nothing or (part of) a recorded report. A disk that fails
            // afterwards leaves a recorded report to export or revoke.
            let recorded = state.registry.record(&issued, &account).await;
            state.store.close().await;
            recorded.context("recording the report failed; nothing was written")?;
            Staged::write(&path, &issued.pdf).and_then(Staged::publish).with_context(|| {
                format!(
                    "report {} is recorded but its file could not be written; \
                     export it with `standing reports show {} --pdf FILE`",
                    issued.data.report_number, issued.data.report_number
                )
            })?;
            writeln!(out, "report {} for account {account} as of {as_of}", issued.data.report_number)?;
            print_issued(out, &issued)?;
            writeln!(out, "  written to        {} ({} bytes)", path.display(), issued.pdf.len())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Reports { action } => {
            let state = AppState::open(settings, clock).await?;
            let result = run_reports(&state, action, out).await;
            state.store.close().await;
            result
        }
        Command::Verify { file, jwks, root, json, require_status } => {
            verify(&settings, clock.now(), &file, VerifyFlags { jwks, root, json, require_status }, out).await
        }
        Command::Keys { command } => keys(&settings, clock.now(), command, out),
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

/// The operators' commands on issued reports.
async fn run_reports(state: &AppState, action: ReportsCommand, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let registry = &state.registry;
    let now = state.clock.now();
    let today = now.date_naive();
    match action {
        ReportsCommand::List { account, limit } => {
            let reports = registry.list(account.as_deref(), limit).await?;
            if reports.is_empty() {
                writeln!(out, "no reports")?;
                return Ok(ExitCode::SUCCESS);
            }
            writeln!(
                out,
                "{:<19}  {:<12}  {:<10}  {:<10}  {:<11}  {:<10}",
                "NUMBER", "ACCOUNT", "AS OF", "ISSUED", "VALID UNTIL", "STATUS"
            )?;
            for r in &reports {
                writeln!(
                    out,
                    "{:<19}  {:<12}  {:<10}  {:<10}  {:<11}  {:<10}",
                    r.number.to_string(),
                    r.account_id,
                    r.as_of,
                    r.issued_at.date_naive(),
                    r.valid_until,
                    r.status(today).as_str()
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ReportsCommand::Show { number, pdf, json } => {
            let Some(number) = parse_number(&number) else { return Ok(ExitCode::from(2)) };
            let Some(report) = registry.find(&number).await? else { return Ok(unknown(&number)) };
            if let Some(path) = &pdf {
                let bytes =
                    registry.pdf(&number).await?.ok_or_else(|| anyhow::anyhow!("report {number} has no PDF"))?;
                Staged::write(path, &bytes)?.publish()?;
            }
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&describe_json(&report, today))?)?;
            } else {
                print_report(out, &report, today)?;
            }
            if let Some(path) = &pdf {
                writeln!(out, "  PDF written to    {}", path.display())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ReportsCommand::Revoke { number, reason } => {
            let Some(number) = parse_number(&number) else { return Ok(ExitCode::from(2)) };
            match registry.revoke(&number, &reason, now).await {
                Ok(report) => {
                    writeln!(out, "report {number} revoked")?;
                    print_report(out, &report, today)?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(&number, e),
            }
        }
        ReportsCommand::Reissue { number, reason, out: path } => {
            let Some(number) = parse_number(&number) else { return Ok(ExitCode::from(2)) };
            let signer = issue::load_signer(&state.settings, &state.cipher, now)?;
            let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng();
            // The new PDF is written only once the transaction that records
            // it has committed, for the same reason as `standing report`.
            let result = registry.reissue(&state.settings, &signer, &number, &reason, now, &mut rng).await;
            let (issued, old) = match result {
                Ok(done) => done,
                Err(RegistryError::Issue(issue::IssueError::Build(BuildError::Ineligible(decision)))) => {
                    note!("account is no longer eligible for a report; {number} stays as it was.\n");
                    note!("{}", scoring::render_text(&decision));
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => return refused(&number, e),
            };
            writeln!(
                out,
                "report {} issued for account {} as of {}",
                issued.data.report_number, old.account_id, issued.data.as_of
            )?;
            print_issued(out, &issued)?;
            match &path {
                Some(path) => {
                    Staged::write(path, &issued.pdf).and_then(Staged::publish).with_context(|| {
                        format!(
                            "the new report is recorded but its file could not be written; \
                             export it with `standing reports show {} --pdf FILE`",
                            issued.data.report_number
                        )
                    })?;
                    writeln!(out, "  written to        {} ({} bytes)", path.display(), issued.pdf.len())?;
                }
                None => writeln!(
                    out,
                    "  the PDF is kept in the registry: `standing reports show {} --pdf FILE`",
                    issued.data.report_number
                )?,
            }
            writeln!(out, "report {number} is now superseded by {}", issued.data.report_number)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Where `standing verify` found the keys it checks against: said in its
/// answer and in its errors, so a wrong data directory is plain to see.
struct KeySource {
    /// `service`, `jwks_file`, `signing_chain` or `key_directory`.
    kind: &'static str,
    /// The URL or the absolute path.
    location: String,
}

impl KeySource {
    fn local(settings: &Settings) -> Self {
        let absolute =
            |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned()).display().to_string();
        match &settings.report.signing_chain {
            Some(chain) => KeySource { kind: "signing_chain", location: absolute(chain) },
            None => KeySource { kind: "key_directory", location: absolute(&issue::key_dir(settings)) },
        }
    }

    fn describe(&self) -> String {
        match self.kind {
            "service" => format!("the service at {}", self.location),
            "jwks_file" => format!("the JWKS file {}", self.location),
            "signing_chain" => format!("the operator's signing chain {} (report.signing_chain)", self.location),
            _ => format!("the key directory {} (data_dir/keys)", self.location),
        }
    }
}

/// `standing verify`: offline against the local keys or a JWKS file, or
/// against the service (keys and status) when given its URL.
///
/// Exit 0 when the report is valid: with the service's status when it was
/// asked, otherwise the file and its signature (DESIGN: "exit 0 only if
/// valid"); the answer then says, in the first line of text and in the
/// JSON's `registry.checked`, that the registry was not asked and where to
/// ask. 1 when it is not valid; 2 when it could not be checked; 3 instead of
/// 0 with `--require-status` when the status was not checked, for scripts
/// that must not accept a report revoked since.
async fn verify(
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
    file: &std::path::Path,
    flags: VerifyFlags,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let VerifyFlags { jwks, root, json, require_status } = flags;
    let cannot = |e: anyhow::Error| {
        note!("error: {e:#}");
        Ok(ExitCode::from(2))
    };
    let pdf = match std::fs::read(file).with_context(|| format!("reading {}", file.display())) {
        Ok(bytes) => bytes,
        Err(e) => return cannot(e),
    };
    let root_pem = match root.map(|p| std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))) {
        Some(Err(e)) => return cannot(e),
        Some(Ok(text)) => Some(text),
        None => None,
    };
    let service = match jwks.as_deref() {
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => match Service::new(url) {
            Ok(s) => Some(s),
            Err(e) => return cannot(e.into()),
        },
        _ => None,
    };
    let (source, ring) = match (&service, jwks.as_deref()) {
        (Some(service), _) => (
            KeySource { kind: "service", location: service.base().to_owned() },
            service.key_ring().await.map_err(anyhow::Error::from),
        ),
        (None, Some(path)) => (
            KeySource { kind: "jwks_file", location: path.to_owned() },
            std::fs::read(path)
                .with_context(|| format!("reading {path}"))
                .and_then(|b| {
                    serde_json::from_slice::<serde_json::Value>(&b).with_context(|| format!("{path}: not JSON"))
                })
                .and_then(|v| Ok(KeyRing::from_jwks(&v, root_pem.as_deref())?)),
        ),
        (None, None) => (KeySource::local(settings), issue::published_keys(settings).map_err(anyhow::Error::from)),
    };
    let ring = match ring {
        Ok(ring) => ring,
        Err(e) => {
            let hint = match source.kind {
                "key_directory" | "signing_chain" => {
                    " (point --config or STANDING_DATA_DIR at the service's data directory, or pass --jwks with \
                     the service's published keys)"
                }
                _ => "",
            };
            return cannot(e.context(format!("reading the keys from {}{hint}", source.describe())));
        }
    };
    let mut verification = verify_pdf(&pdf, &ring, now);
    if let Some(service) = &service {
        match (verification.report_number.clone(), verification.verification_code.clone()) {
            (Some(number), Some(code)) => match service.status(&number, &code).await {
                Ok(found) => verification.apply_registry(found.as_ref(), now.date_naive()),
                Err(e) => return cannot(anyhow::Error::from(e).context("asking the service for the report's status")),
            },
            _ => note!("note: the file names no report number and code; the service was not asked for a status"),
        }
    }
    if json {
        let mut value = serde_json::to_value(&verification)?;
        value["keys"] = serde_json::json!({ "source": source.kind, "location": source.location });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        print_verification(out, file, &verification, &source)?;
    }
    Ok(match (verification.valid, verification.status_checked()) {
        (true, false) if require_status => ExitCode::from(3),
        (true, _) => ExitCode::SUCCESS,
        (false, _) => ExitCode::FAILURE,
    })
}

/// `standing verify`'s options.
struct VerifyFlags {
    jwks: Option<String>,
    root: Option<PathBuf>,
    json: bool,
    require_status: bool,
}

fn print_verification(
    out: &mut dyn Write,
    file: &std::path::Path,
    v: &Verification,
    keys: &KeySource,
) -> std::io::Result<()> {
    let number = v.report_number.as_deref().unwrap_or("(no report number)");
    match (v.valid, v.status_checked()) {
        (true, true) => writeln!(out, "VALID: {} is report {number}, as issued", file.display())?,
        (true, false) => writeln!(
            out,
            "SIGNATURE VALID; STATUS NOT CHECKED: {} is report {number}, exactly as signed",
            file.display()
        )?,
        (false, _) => writeln!(out, "NOT VALID: {} ({number})", file.display())?,
    }
    for check in &v.checks {
        writeln!(out, "  [{}] {:<19} {}", if check.ok { "ok" } else { "!!" }, check.name, check.message)?;
    }
    if let Some(kid) = &v.key_id {
        writeln!(out, "  key      {kid}")?;
    }
    if let Some(at) = v.signing_time {
        writeln!(out, "  signed   {at}")?;
    }
    writeln!(out, "  sha-256  {}", v.sha256)?;
    writeln!(out, "  keys     from {}", keys.describe())?;
    if v.valid
        && let Some(registry) = v.registry.as_ref().filter(|r| !r.checked)
    {
        writeln!(
            out,
            "status not checked: the registry was not asked, so this report may since have been revoked, \
             superseded or expired"
        )?;
        let jwks = registry.jwks_url.as_deref().unwrap_or("https://HOST/.well-known/jwks.json");
        match &registry.verify_online {
            Some(url) => writeln!(out, "  check online at {url}")?,
            None => writeln!(out, "  check online on the issuer's verification page")?,
        }
        writeln!(out, "  or run: standing verify {} --jwks {jwks}", file.display())?;
    }
    if !v.problems.is_empty() {
        writeln!(out, "problems:")?;
        for p in &v.problems {
            writeln!(out, "  {}: {}", p.code(), p.message)?;
        }
    }
    Ok(())
}

/// `standing keys list|rotate`.
fn keys(
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
    command: KeysCommand,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let dir = issue::key_dir(settings);
    match command {
        KeysCommand::List { json } => {
            let source = KeySource::local(settings);
            let ring = issue::published_keys(settings)
                .with_context(|| format!("reading the keys from {}", source.describe()))?;
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&ring.jwks(now))?)?;
                return Ok(ExitCode::SUCCESS);
            }
            writeln!(out, "keys from {}", source.describe())?;
            if let Some(root) = ring.root_der.as_deref().and_then(|der| summarize(der).ok()) {
                writeln!(
                    out,
                    "root {} ({}), valid {} .. {}",
                    root.subject,
                    root.public_key.algorithm(),
                    root.not_before.format("%Y-%m-%d"),
                    root.not_after.format("%Y-%m-%d")
                )?;
            }
            writeln!(out, "{:<43}  {:<10}  {:<41}  status", "kid", "algorithm", "window (UTC)")?;
            for key in &ring.keys {
                let window = format!(
                    "{} .. {}",
                    key.not_before.format("%Y-%m-%d %H:%M:%S"),
                    key.window_end().format("%Y-%m-%d %H:%M:%S")
                );
                writeln!(out, "{:<43}  {:<10}  {window:<41}  {}", key.kid, key.algorithm.as_str(), key.status(now))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Rotate { algorithm } => {
            if settings.report.signing_chain.is_some() {
                note!("error: reports are signed with the operator's own key (report.signing_chain); rotate it there");
                return Ok(ExitCode::from(2));
            }
            let cipher = MasterKey::load(settings)?.field_cipher();
            let configured = settings.report.signature_algorithm;
            let algorithm = algorithm.unwrap_or(configured);
            let key = KeyStore::rotate(&dir, algorithm, &settings.report.issuer_name, &cipher, now)?;
            writeln!(out, "new {} signing key {}", key.algorithm, key.kid)?;
            writeln!(out, "  valid from {} to {}", key.not_before, key.not_after)?;
            if algorithm == configured {
                writeln!(
                    out,
                    "  reports are signed with it from now on; older keys stay published for the reports they signed"
                )?;
            } else {
                writeln!(
                    out,
                    "  reports are signed with {configured} keys as configured; set report.signature_algorithm \
                     (STANDING_REPORT_SIGNATURE_ALGORITHM) to {algorithm} to sign them with this one"
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_number(text: &str) -> Option<ReportNumber> {
    match ReportNumber::parse(text) {
        Ok(n) => Some(n),
        Err(e) => {
            note!("error: `{}`: {}", text.trim(), e.0);
            None
        }
    }
}

fn unknown(number: &ReportNumber) -> ExitCode {
    note!("error: no report {number}");
    ExitCode::from(2)
}

/// Exit codes: 2 for an unknown number or an unusable reason (the command
/// was wrong), 1 when the report's state forbids the action.
fn refused(number: &ReportNumber, e: RegistryError) -> anyhow::Result<ExitCode> {
    match e {
        RegistryError::NotFound(_) => Ok(unknown(number)),
        RegistryError::WrongState { state, .. } => {
            let why = match state {
                "revoked" => "a revoked report cannot be revoked again or reissued",
                "superseded" => "it was already replaced by a newer report; act on that one",
                _ => "its state does not allow this",
            };
            note!("error: report {number} is {state}: {why}");
            Ok(ExitCode::FAILURE)
        }
        e @ (RegistryError::EmptyReason
        | RegistryError::ReasonTooLong { .. }
        | RegistryError::ReasonHasControlCharacters) => {
            note!("error: --reason: {e}");
            Ok(ExitCode::from(2))
        }
        other => Err(other.into()),
    }
}

fn print_issued(out: &mut dyn Write, issued: &IssuedReport) -> std::io::Result<()> {
    writeln!(out, "  verification code {}", issued.data.verification_code)?;
    writeln!(out, "  verify at         {}", issued.data.verification_url)?;
    writeln!(out, "  valid until       {}", issued.data.valid_until)?;
    writeln!(out, "  signed with       {} key {}", issued.data.signing.algorithm, issued.data.signing.key_id)?;
    writeln!(out, "  sha-256           {}", hex::encode(issued.sha256))?;
    Ok(())
}

fn print_report(out: &mut dyn Write, r: &RegisteredReport, today: chrono::NaiveDate) -> std::io::Result<()> {
    let facts = r.key_facts();
    writeln!(out, "report {}  {}", r.number, r.status(today).as_str().to_uppercase())?;
    match &r.state {
        ReportState::Valid => {}
        ReportState::Revoked { at, reason } => writeln!(out, "  revoked           {at} ({reason})")?,
        ReportState::Superseded { by, at, reason } => writeln!(out, "  superseded by     {by} on {at} ({reason})")?,
    }
    writeln!(out, "  account           {}", r.account_id)?;
    writeln!(out, "  name              {}", facts.full_name)?;
    writeln!(out, "  passport          {} ({})", facts.passport_masked, facts.passport_country)?;
    writeln!(out, "  as of             {}", r.as_of)?;
    writeln!(out, "  issued at         {}", r.issued_at)?;
    writeln!(out, "  valid until       {}", r.valid_until)?;
    writeln!(out, "  total assets      {}", facts.total_assets)?;
    writeln!(out, "  monthly spending  {}", facts.average_monthly_spending)?;
    writeln!(out, "  bills on time     {}", facts.on_time_bill_rate)?;
    writeln!(out, "  key id            {}", r.key_id)?;
    writeln!(out, "  sha-256           {}", facts.pdf_sha256)?;
    Ok(())
}

fn describe_json(r: &RegisteredReport, today: chrono::NaiveDate) -> serde_json::Value {
    let mut v = serde_json::json!({
        "report_number": r.number,
        "status": r.status(today),
        "account": r.account_id,
        "as_of": r.as_of,
        "issued_at": r.issued_at,
        "valid_until": r.valid_until,
        "key_id": r.key_id,
        "pdf_sha256": hex::encode(r.pdf_sha256),
        "key_facts": r.key_facts(),
    });
    match &r.state {
        ReportState::Valid => {}
        ReportState::Revoked { at, reason } => v["revoked"] = serde_json::json!({ "at": at, "reason": reason }),
        ReportState::Superseded { by, at, reason } => {
            v["superseded_by"] = by.as_str().into();
            v["superseded"] = serde_json::json!({ "by": by, "at": at, "reason": reason });
        }
    }
    v
}

/// A file written beside its destination under a temporary name, moved into
/// place by [`Staged::publish`] (so a reader never sees half a report) or
/// removed when dropped unpublished.
struct Staged {
    tmp: PathBuf,
    path: PathBuf,
    published: bool,
}

impl Staged {
    fn write(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<Self> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        let tmp = dir.join(format!(".{}.tmp", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
        std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
        Ok(Staged { tmp, path: path.to_owned(), published: false })
    }

    fn publish(mut self) -> anyhow::Result<()> {
        std::fs::rename(&self.tmp, &self.path)
            .with_context(|| format!("moving the report to {}", self.path.display()))?;
        self.published = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails every call with `kind`, counting the calls.
    struct Failing(std::io::ErrorKind, usize);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            self.1 += 1;
            Err(self.0.into())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            self.1 += 1;
            Err(self.0.into())
        }
    }

    #[test]
    fn a_closed_pipe_ends_the_output_quietly_and_other_errors_are_kept() {
        let mut out = Output::new(Failing(std::io::ErrorKind::BrokenPipe, 0));
        writeln!(out, "first line").unwrap();
        writeln!(out, "second line").unwrap();
        out.flush().unwrap();
        assert_eq!(out.inner.1, 1, "nothing is written once the reader has gone");

        let mut out = Output::new(Failing(std::io::ErrorKind::StorageFull, 0));
        assert!(writeln!(out, "a line").is_err(), "a full disk is an error");

        let mut out = Output::new(Vec::new());
        writeln!(out, "kept").unwrap();
        assert_eq!(out.inner, b"kept\n");
    }
}
