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
use standing::import::{ImportError, ImportOptions, Progress, import_files};
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
    /// Apply database migrations (serve does this too).
    Migrate,
    /// Write the deterministic demo data set.
    DemoData {
        #[arg(long, value_name = "DIR", default_value = "fixtures/demo")]
        out: PathBuf,
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
