//! Start-up: settings → store, keys, clock → router → a bound listener, run
//! until SIGTERM or Ctrl-C.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::crypto::{FieldCipher, MasterKey};
use crate::demo::DEMO_AS_OF;
use crate::import::{ImportOptions, Progress, import_files};
use crate::report::registry::Registry;
use crate::store::Store;
use crate::web::csrf::CsrfKey;
use crate::web::rate_limit::VerifyLimits;
use crate::web::server::{ConnectionCounts, ConnectionLimits};

/// Everything a request handler may need; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub clock: SharedClock,
    pub cipher: FieldCipher,
    /// Issued reports: numbers, codes (hashed), status, sealed PDFs.
    pub registry: Registry,
    /// Per-client limits on verification requests.
    pub limits: Arc<VerifyLimits>,
    /// Signs the upload form's CSRF tokens (derived from the master key).
    pub csrf: CsrfKey,
}

impl AppState {
    /// Opens and migrates the database and loads the master key.
    pub async fn open(settings: Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let store = Store::open(&settings.database)
            .await
            .with_context(|| format!("opening database {}", settings.database.url.redacted()))?;
        let master = MasterKey::load(&settings)?;
        let cipher = master.field_cipher();
        let csrf = CsrfKey::new(master.derive("standing/csrf/v1"));
        let registry = Registry::new(store.clone(), cipher.clone());
        let limits = Arc::new(VerifyLimits::new(&settings.verify));
        Ok(AppState { store, settings: Arc::new(settings), clock, cipher, registry, limits, csrf })
    }
}

/// A built application with its listener bound (so the port is known before
/// it runs; tests bind port 0).
pub struct Application {
    state: AppState,
    listener: TcpListener,
    limits: ConnectionLimits,
    counts: Arc<ConnectionCounts>,
}

impl Application {
    /// Binds the listener; also makes sure the signing keys exist, so the
    /// published keys and root certificate are there from the first start.
    pub async fn build(state: AppState) -> anyhow::Result<Self> {
        crate::report::issue::load_signer(&state.settings, &state.cipher, state.clock.now())
            .context("opening the report signing keys")?;
        let listener = TcpListener::bind(state.settings.listen)
            .await
            .with_context(|| format!("binding {}", state.settings.listen))?;
        let limits = ConnectionLimits::from_settings(&state.settings.server)
            .fit_to_descriptors(u64::from(state.settings.database.max_connections));
        Ok(Application { state, listener, limits, counts: Arc::default() })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The connection counts, live while the application runs.
    pub fn connections(&self) -> Arc<ConnectionCounts> {
        self.counts.clone()
    }

    /// The connection limits it serves with (after fitting the descriptor
    /// limit).
    pub fn limits(&self) -> ConnectionLimits {
        self.limits
    }

    /// Serves until SIGTERM or Ctrl-C, then finishes in-flight requests
    /// (for at most `server.shutdown_timeout_seconds`).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests
    /// until the shutdown deadline and drops the connections left.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let store = self.state.store.clone();
        let app = crate::web::router(self.state);
        tracing::info!(
            address = %self.listener.local_addr()?,
            max_connections = self.limits.max_connections,
            "listening"
        );
        crate::web::server::serve(self.listener, app, self.limits, self.counts, shutdown).await;
        store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received; shutting down"),
        () = terminate => tracing::info!("SIGTERM received; shutting down"),
    }
}

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
/// dates of birth) are moved by whole days so that they end yesterday by the
/// state's clock. Reports refuse data that does not reach their as-of date,
/// so unmoved fixtures would make the demo refuse every report a week after
/// they were generated; moved, the demo works on any day with the same
/// profiles, and a fixed clock on the fixtures' day moves nothing.
pub async fn load_demo_if_empty(state: &AppState, dir: &Path) -> anyhow::Result<bool> {
    if state.store.counts().await?.accounts > 0 {
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
    let yesterday = state.clock.today().pred_opt().unwrap_or(data_end);
    let shift_days = (yesterday - data_end).num_days();
    let options = ImportOptions { batch_size: state.settings.import.batch_size, progress: Progress::Quiet, shift_days };
    let report = import_files(&state.store, &state.cipher, state.clock.as_ref(), &files, &options).await.map_err(
        |e| match e {
            crate::import::ImportError::Invalid { listed, total } => anyhow::anyhow!(
                "demo data is invalid ({total} lines), first: {}",
                listed.first().map(ToString::to_string).unwrap_or_default()
            ),
            other => other.into(),
        },
    )?;
    tracing::info!(
        records = report.total_records(),
        seconds = report.seconds,
        shifted_days = shift_days,
        data_ends = %yesterday,
        "demo data loaded"
    );
    Ok(true)
}
