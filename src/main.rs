//! The `standing` command: parse arguments, set up logging, call the library.

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
use standing::keys::{KeyRing, KeyStore};
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
    /// Build and sign a report without the web flow (operators, tests).
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
    /// Check a report PDF: signature, whole-file coverage, key and window.
    /// Exit 0 only when valid, 1 when not, 2 when it could not be checked.
    Verify {
        #[arg(value_name = "FILE.pdf")]
        file: PathBuf,
        /// The published keys: a JWKS file, or the service's URL
        /// (https://host/.well-known/jwks.json), which also asks the service
        /// for the report's status. Default: the local key directory.
        #[arg(long, value_name = "FILE|URL")]
        jwks: Option<String>,
        /// The root certificate (PEM) to trust with a JWKS file; default:
        /// the root in the keys' x5c chains.
        #[arg(long, value_name = "FILE")]
        root: Option<PathBuf>,
        /// Print the whole answer as JSON.
        #[arg(long)]
        json: bool,
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
        /// The algorithm (default: the configured one).
        #[arg(long, value_name = "ALG")]
        algorithm: Option<standing::keys::KeyAlgorithm>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = EnvFilter::try_from_env("STANDING_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
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
            };
            let result = import_files(&state.store, &state.cipher, state.clock.as_ref(), &files, &options).await;
            state.store.close().await;
            match result {
                Ok(report) => {
                    println!("{report}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(ImportError::Invalid { listed, total }) => {
                    for issue in &listed {
                        eprintln!("{issue}");
                    }
                    if total > listed.len() as u64 {
                        eprintln!("... and {} more invalid line(s)", total - listed.len() as u64);
                    }
                    eprintln!("error: {total} invalid line(s); nothing was imported");
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => Err(e).context("import failed"),
            }
        }
        Command::Score { account, as_of, json } => {
            let store = Store::open(&settings.database).await?;
            let as_of = as_of.unwrap_or_else(|| clock.today());
            let loaded = scoring::load::load_inputs(&store, &account, as_of, settings.report.authority_currency).await;
            store.close().await;
            let (_, inputs) = match loaded {
                Err(scoring::load::LoadError::UnknownAccount(id)) => {
                    eprintln!("error: no account `{id}` (import it first, or check the id)");
                    return Ok(ExitCode::from(2));
                }
                other => other?,
            };
            let decision = scoring::decide(&inputs, settings.scoring.threshold);
            if json {
                let mut value = serde_json::to_value(&decision)?;
                value["account"] = account.into();
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                println!("account {account}\n{}", scoring::render_text(&decision));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { account, out, as_of } => {
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
                    eprintln!("account {account} is not eligible for a report; nothing was written.\n");
                    eprintln!("{}", scoring::render_text(&decision));
                    return Ok(ExitCode::FAILURE);
                }
                Err(issue::IssueError::Build(BuildError::UnknownAccount(id))) => {
                    state.store.close().await;
                    eprintln!("error: no account `{id}` (import it first, or check the id)");
                    return Ok(ExitCode::from(2));
                }
                other => other?,
            };
            // A report the registry does not know would fail every officer's
            // check and could not be revoked, so the file appears only once
            // the record has committed. It is staged first, so a full disk
            // fails before anything is recorded.
            let staged = Staged::write(&out, &issued.pdf)?;
            let recorded = state.registry.record(&issued, &account).await;
            state.store.close().await;
            recorded.context("recording the report failed; no report was handed out")?;
            staged.publish().with_context(|| {
                format!(
                    "report {} is recorded but its file could not be written; \
                     export it with `standing reports show {} --pdf FILE`",
                    issued.data.report_number, issued.data.report_number
                )
            })?;
            println!("report {} for account {account} as of {as_of}", issued.data.report_number);
            print_issued(&issued);
            println!("  written to        {} ({} bytes)", out.display(), issued.pdf.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Reports { action } => {
            let state = AppState::open(settings, clock).await?;
            let result = run_reports(&state, action).await;
            state.store.close().await;
            result
        }
        Command::Verify { file, jwks, root, json } => verify(&settings, clock.now(), &file, jwks, root, json).await,
        Command::Keys { command } => keys(&settings, clock.now(), command),
        Command::Migrate => {
            let store = Store::open(&settings.database).await?;
            println!("migrations applied ({})", store.backend_name());
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::DemoData { out } => {
            let summary = standing::demo::generate(&out)?;
            println!("wrote demo data to {}: {summary:?}", out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The operators' commands on issued reports.
async fn run_reports(state: &AppState, action: ReportsCommand) -> anyhow::Result<ExitCode> {
    let registry = &state.registry;
    let now = state.clock.now();
    let today = now.date_naive();
    match action {
        ReportsCommand::List { account, limit } => {
            let reports = registry.list(account.as_deref(), limit).await?;
            if reports.is_empty() {
                println!("no reports");
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:<19}  {:<12}  {:<10}  {:<10}  {:<11}  {:<10}",
                "NUMBER", "ACCOUNT", "AS OF", "ISSUED", "VALID UNTIL", "STATUS"
            );
            for r in &reports {
                println!(
                    "{:<19}  {:<12}  {:<10}  {:<10}  {:<11}  {:<10}",
                    r.number.to_string(),
                    r.account_id,
                    r.as_of,
                    r.issued_at.date_naive(),
                    r.valid_until,
                    r.status(today).as_str()
                );
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
                println!("{}", serde_json::to_string_pretty(&describe_json(&report, today))?);
            } else {
                print_report(&report, today);
            }
            if let Some(path) = &pdf {
                println!("  PDF written to    {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        ReportsCommand::Revoke { number, reason } => {
            let Some(number) = parse_number(&number) else { return Ok(ExitCode::from(2)) };
            match registry.revoke(&number, &reason, now).await {
                Ok(report) => {
                    println!("report {number} revoked");
                    print_report(&report, today);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(&number, e),
            }
        }
        ReportsCommand::Reissue { number, reason, out } => {
            let Some(number) = parse_number(&number) else { return Ok(ExitCode::from(2)) };
            let signer = issue::load_signer(&state.settings, &state.cipher, now)?;
            let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng();
            // Staged before the transaction and published after it commits,
            // for the same reason as `standing report`.
            let result = registry.reissue(&state.settings, &signer, &number, &reason, now, &mut rng).await;
            let (issued, old) = match result {
                Ok(done) => done,
                Err(RegistryError::Issue(issue::IssueError::Build(BuildError::Ineligible(decision)))) => {
                    eprintln!("account is no longer eligible for a report; {number} stays as it was.\n");
                    eprintln!("{}", scoring::render_text(&decision));
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => return refused(&number, e),
            };
            println!(
                "report {} issued for account {} as of {}",
                issued.data.report_number, old.account_id, issued.data.as_of
            );
            print_issued(&issued);
            match &out {
                Some(path) => {
                    Staged::write(path, &issued.pdf).and_then(Staged::publish).with_context(|| {
                        format!(
                            "the new report is recorded but its file could not be written; \
                             export it with `standing reports show {} --pdf FILE`",
                            issued.data.report_number
                        )
                    })?;
                    println!("  written to        {} ({} bytes)", path.display(), issued.pdf.len());
                }
                None => println!(
                    "  the PDF is kept in the registry: `standing reports show {} --pdf FILE`",
                    issued.data.report_number
                ),
            }
            println!("report {number} is now superseded by {}", issued.data.report_number);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `standing verify`: offline against the local keys or a JWKS file, or
/// against the service (keys and status) when given its URL.
async fn verify(
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
    file: &std::path::Path,
    jwks: Option<String>,
    root: Option<PathBuf>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let cannot = |e: anyhow::Error| {
        eprintln!("error: {e:#}");
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
    let ring = match (&service, jwks.as_deref()) {
        (Some(service), _) => service.key_ring().await.map_err(anyhow::Error::from),
        (None, Some(path)) => std::fs::read(path)
            .with_context(|| format!("reading {path}"))
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).with_context(|| format!("{path}: not JSON")))
            .and_then(|v| Ok(KeyRing::from_jwks(&v, root_pem.as_deref())?)),
        (None, None) => issue::published_keys(settings)
            .with_context(|| format!("the local keys in {}", issue::key_dir(settings).display())),
    };
    let ring = match ring {
        Ok(ring) => ring,
        Err(e) => return cannot(e),
    };
    let mut verification = verify_pdf(&pdf, &ring, now);
    if let Some(service) = &service {
        match (verification.report_number.clone(), verification.verification_code.clone()) {
            (Some(number), Some(code)) => match service.status(&number, &code).await {
                Ok(found) => verification.apply_registry(found.as_ref(), now.date_naive()),
                Err(e) => return cannot(anyhow::Error::from(e).context("asking the service for the report's status")),
            },
            _ => eprintln!("note: the file names no report number and code; the service was not asked for a status"),
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&verification)?);
    } else {
        print_verification(file, &verification);
    }
    Ok(if verification.valid { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn print_verification(file: &std::path::Path, v: &Verification) {
    let number = v.report_number.as_deref().unwrap_or("(no report number)");
    if v.valid {
        println!("VALID: {} is report {number}, as issued", file.display());
    } else {
        println!("NOT VALID: {} ({number})", file.display());
    }
    for check in &v.checks {
        println!("  [{}] {:<18} {}", if check.ok { "ok" } else { "!!" }, check.name, check.message);
    }
    if let Some(kid) = &v.key_id {
        println!("  key      {kid}");
    }
    if let Some(at) = v.signing_time {
        println!("  signed   {at}");
    }
    println!("  sha-256  {}", v.sha256);
    if !v.problems.is_empty() {
        println!("problems:");
        for p in &v.problems {
            println!("  {}: {}", p.code(), p.message);
        }
    }
}

/// `standing keys list|rotate`.
fn keys(settings: &Settings, now: chrono::DateTime<chrono::Utc>, command: KeysCommand) -> anyhow::Result<ExitCode> {
    let dir = issue::key_dir(settings);
    match command {
        KeysCommand::List { json } => {
            let ring = issue::published_keys(settings).with_context(|| format!("the keys in {}", dir.display()))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&ring.jwks(now))?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("{:<43}  {:<10}  {:<41}  status", "kid", "algorithm", "window (UTC)");
            for key in &ring.keys {
                let window = format!(
                    "{} .. {}",
                    key.not_before.format("%Y-%m-%d %H:%M:%S"),
                    key.window_end().format("%Y-%m-%d %H:%M:%S")
                );
                println!("{:<43}  {:<10}  {window:<41}  {}", key.kid, key.algorithm.as_str(), key.status(now));
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Rotate { algorithm } => {
            if settings.report.signing_chain.is_some() {
                eprintln!(
                    "error: reports are signed with the operator's own key (report.signing_chain); rotate it there"
                );
                return Ok(ExitCode::from(2));
            }
            let cipher = MasterKey::load(settings)?.field_cipher();
            let algorithm = algorithm.unwrap_or(settings.report.signature_algorithm);
            let key = KeyStore::rotate(&dir, algorithm, &settings.report.issuer_name, &cipher, now)?;
            println!("new {} signing key {}", key.algorithm, key.kid);
            println!("  valid from {} to {}", key.not_before, key.not_after);
            println!("  reports are signed with it from now on; older keys stay published for the reports they signed");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_number(text: &str) -> Option<ReportNumber> {
    match ReportNumber::parse(text) {
        Ok(n) => Some(n),
        Err(e) => {
            eprintln!("error: `{}`: {}", text.trim(), e.0);
            None
        }
    }
}

fn unknown(number: &ReportNumber) -> ExitCode {
    eprintln!("error: no report {number}");
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
            eprintln!("error: report {number} is {state}: {why}");
            Ok(ExitCode::FAILURE)
        }
        e @ (RegistryError::EmptyReason
        | RegistryError::ReasonTooLong { .. }
        | RegistryError::ReasonHasControlCharacters) => {
            eprintln!("error: --reason: {e}");
            Ok(ExitCode::from(2))
        }
        other => Err(other.into()),
    }
}

fn print_issued(issued: &IssuedReport) {
    println!("  verification code {}", issued.data.verification_code);
    println!("  verify at         {}", issued.data.verification_url);
    println!("  valid until       {}", issued.data.valid_until);
    println!("  signed with       {} key {}", issued.data.signing.algorithm, issued.data.signing.key_id);
    println!("  sha-256           {}", hex::encode(issued.sha256));
}

fn print_report(r: &RegisteredReport, today: chrono::NaiveDate) {
    let facts = r.key_facts();
    println!("report {}  {}", r.number, r.status(today).as_str().to_uppercase());
    match &r.state {
        ReportState::Valid => {}
        ReportState::Revoked { at, reason } => println!("  revoked           {at} ({reason})"),
        ReportState::Superseded { by, at, reason } => println!("  superseded by     {by} on {at} ({reason})"),
    }
    println!("  account           {}", r.account_id);
    println!("  name              {}", facts.full_name);
    println!("  passport          {} ({})", facts.passport_masked, facts.passport_country);
    println!("  as of             {}", r.as_of);
    println!("  issued at         {}", r.issued_at);
    println!("  valid until       {}", r.valid_until);
    println!("  total assets      {}", facts.total_assets);
    println!("  monthly spending  {}", facts.average_monthly_spending);
    println!("  bills on time     {}", facts.on_time_bill_rate);
    println!("  key id            {}", r.key_id);
    println!("  sha-256           {}", facts.pdf_sha256);
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
