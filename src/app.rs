//! Start-up only: the state ([`AppState::open`]) and its signing keys → the
//! router → a bound listener, the mail worker and the applications'
//! report generator, run until SIGTERM or Ctrl-C.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::applications::Generator;
use crate::mail::Worker;
use crate::web::AppState;
use crate::web::server::{ConnectionCounts, ConnectionLimits};

/// A built application with its listener bound (so the port is known before
/// it runs; tests bind port 0).
pub struct Application {
    state: AppState,
    listener: TcpListener,
    limits: ConnectionLimits,
    counts: Arc<ConnectionCounts>,
    mail: Arc<Worker>,
    generator: Generator,
}

impl Application {
    /// Binds the listener; also makes sure the signing keys exist, so the
    /// published keys and root certificate are there from the first start,
    /// and that the mail transport can be set up.
    pub async fn build(state: AppState) -> anyhow::Result<Self> {
        crate::keys::load_signer(&state.settings, &state.cipher, state.clock.now())
            .context("opening the report signing keys")?;
        let mail = Arc::new(state.mail_worker().context("setting up the mail transport")?);
        let listener = TcpListener::bind(state.settings.listen)
            .await
            .with_context(|| format!("binding {}", state.settings.listen))?;
        let limits = ConnectionLimits::from_settings(&state.settings.server)
            .fit_to_descriptors(u64::from(state.settings.database.max_connections));
        let generator = state.generator();
        Ok(Application { state, listener, limits, counts: Arc::default(), mail, generator })
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

    /// Serves (and sends mail) until `shutdown` completes, then finishes
    /// in-flight requests and sends until the shutdown deadline and drops
    /// what is left (an unfinished send keeps its lease; once it runs out
    /// the message is sent again, with the same Message-ID).
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let store = self.state.store.clone();
        let deadline = std::time::Duration::from_secs(self.state.settings.server.shutdown_timeout_seconds);
        let app = crate::web::router(self.state.clone());
        tracing::info!(
            address = %self.listener.local_addr()?,
            max_connections = self.limits.max_connections,
            "listening"
        );
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let generator = tokio::spawn(self.generator.run(stopped.clone()));
        let mut worker_stop = stopped.clone();
        let worker = tokio::spawn(self.mail.run(async move {
            let _ = worker_stop.wait_for(|s| *s).await;
        }));
        let shutdown = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        crate::web::server::serve(self.listener, app, self.limits, self.counts, shutdown).await;
        let abort = worker.abort_handle();
        if tokio::time::timeout(deadline, worker).await.is_err() {
            tracing::warn!("mail sends still running at the shutdown deadline were dropped");
            abort.abort();
        }
        // An issue in flight at the deadline is dropped before its commit:
        // its lease runs out and the next start issues it.
        if tokio::time::timeout(std::time::Duration::from_secs(1), generator).await.is_err() {
            tracing::warn!(
                "a report being generated at the shutdown deadline was dropped; it is issued on the next start"
            );
        }
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
