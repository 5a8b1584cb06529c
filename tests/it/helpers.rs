//! Test fixtures: a fresh database per test, the app on a random port, and
//! small builders for import files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use standing::app::Application;
use standing::clock::{FixedClock, SharedClock};
use standing::config::{DatabaseUrl, Settings};
use standing::crypto::MasterKey;
use standing::import::{ImportError, ImportOptions, ImportReport, Progress, import_files};
use standing::web::AppState;
use tempfile::TempDir;

pub use standing::testing::MASTER_KEY;

/// `TEST_LOG=1` (or a filter such as `TEST_LOG=standing=debug`) shows the
/// service's tracing output for a failing test; silent otherwise.
pub fn init_test_log() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(filter) = std::env::var("TEST_LOG") else { return };
        let filter = if filter == "1" || filter == "true" { "info,sqlx=warn".to_owned() } else { filter };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    });
}

/// An account id, parsed as the command line and the import parse them.
pub fn acct(id: &str) -> standing::domain::AccountId {
    standing::domain::AccountId::parse(id).unwrap()
}

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    /// For PostgreSQL: (server URL, database name) to drop afterwards.
    pg: Option<(String, String)>,
    _dir: TempDir,
    pub dir: PathBuf,
}

impl TestDb {
    pub async fn new() -> TestDb {
        init_test_log();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        match std::env::var("TEST_DATABASE_URL") {
            Ok(server) if !server.is_empty() => {
                let name = format!("standing_test_{}", uuid::Uuid::new_v4().simple());
                let admin = sqlx::PgPool::connect(&server).await.expect("connect to TEST_DATABASE_URL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
                admin.close().await;
                let url = replace_database(&server, &name);
                TestDb { url, pg: Some((server, name)), _dir: dir, dir: path }
            }
            _ => {
                TestDb { url: format!("sqlite:{}", path.join("standing.db").display()), pg: None, _dir: dir, dir: path }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// Settings for this database, with a fixed master key and working files
    /// in the test's own directory.
    pub fn settings(&self) -> Settings {
        let mut s = Settings::default();
        s.database.url = DatabaseUrl::new(self.url.clone());
        s.database.max_connections = 4;
        s.data_dir = self.dir.join("var");
        s.master_key = Some(standing::config::Secret::new(MASTER_KEY));
        s.listen = "127.0.0.1:0".parse().unwrap();
        s
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((server, name)) = self.pg.take() {
            // Drop runs outside async; a short-lived runtime on its own thread
            // removes the database.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async {
                    if let Ok(admin) = sqlx::PgPool::connect(&server).await {
                        let _ =
                            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                                .execute(&admin)
                                .await;
                        admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

fn replace_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// The `standing` binary on this test's database, with a fixed master key
/// and none of the caller's `STANDING_*` settings leaking in.
pub fn standing(db: &TestDb) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_standing"));
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("STANDING_")) {
        cmd.env_remove(name);
    }
    cmd.env("DATABASE_URL", &db.url)
        .env("STANDING_DATA_DIR", db.dir.join("var"))
        .env("STANDING_MASTER_KEY", MASTER_KEY)
        .env("STANDING_LOG", "warn");
    cmd
}

pub fn clock() -> SharedClock {
    Arc::new(FixedClock(Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap()))
}

/// A clock the test moves forward: shared by the app and the test.
#[derive(Debug)]
pub struct TestClock(std::sync::Mutex<DateTime<Utc>>);

impl TestClock {
    pub fn at(t: DateTime<Utc>) -> Arc<TestClock> {
        Arc::new(TestClock(std::sync::Mutex::new(t)))
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap();
        *now += by;
    }
}

impl standing::clock::Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// The application state on a fresh database.
pub async fn state(db: &TestDb) -> AppState {
    AppState::open(db.settings(), clock()).await.unwrap()
}

/// A running app: its base URL and state. Dropping it stops the server.
pub struct TestApp {
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub state: AppState,
    pub client: reqwest::Client,
    /// Live connection counts of the server.
    pub connections: Arc<standing::web::server::ConnectionCounts>,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// One method per endpoint, so a test reads as what it asks the service.
impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET {path}` (with its query).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn healthz(&self) -> reqwest::Response {
        self.get("/healthz").await
    }

    pub async fn readyz(&self) -> reqwest::Response {
        self.get("/readyz").await
    }

    /// `GET /api/v1/reports/{number}?code={code}`: the status API.
    pub async fn report_status(&self, number: &str, code: &str) -> reqwest::Response {
        self.get(&format!("/api/v1/reports/{number}?code={code}")).await
    }

    /// `GET /verify/{number}?c={code}`: the QR code's page.
    pub async fn verify_page(&self, number: &str, code: &str) -> reqwest::Response {
        self.get(&format!("/verify/{number}?c={code}")).await
    }

    /// `GET /verify`: the form (number + code, or a PDF upload).
    pub async fn verify_form(&self) -> reqwest::Response {
        self.get("/verify").await
    }

    /// `POST /api/v1/verify` with `body` as `content_type`.
    pub async fn verify_upload(&self, content_type: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        let request = self.client.post(self.url("/api/v1/verify")).header("content-type", content_type);
        request.body(body).send().await.unwrap()
    }

    /// `GET /.well-known/jwks.json`: the published keys.
    pub async fn jwks(&self) -> reqwest::Response {
        self.get("/.well-known/jwks.json").await
    }

    /// `GET /.well-known/standing-root.pem`: the root certificate.
    pub async fn root_pem(&self) -> reqwest::Response {
        self.get("/.well-known/standing-root.pem").await
    }

    /// `GET /api/v1/openapi.json`.
    pub async fn openapi(&self) -> reqwest::Response {
        self.get("/api/v1/openapi.json").await
    }

    /// Asks the server to stop (as SIGTERM does) and waits until it has.
    pub async fn shut_down(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.server.await?
    }
}

pub async fn spawn_app(db: &TestDb) -> TestApp {
    spawn_app_with(state(db).await).await
}

/// Serves `state` (its settings and clock as the test arranged them).
pub async fn spawn_app_with(state: AppState) -> TestApp {
    let app = Application::build(state.clone()).await.unwrap();
    let addr = app.local_addr().unwrap();
    let base = format!("http://{addr}");
    let connections = app.connections();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    TestApp { base, addr, state, client: reqwest::Client::new(), connections, stop, server }
}

/// Writes `lines` to a file in `dir` and returns its path.
pub fn write_file(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    path
}

pub async fn import(state: &AppState, files: &[PathBuf]) -> Result<ImportReport, ImportError> {
    // Small batches so tests cross batch boundaries.
    let options = ImportOptions { batch_size: 3, progress: Progress::Quiet, shift_days: 0 };
    import_files(&state.store, &state.cipher, state.clock.as_ref(), files, &options).await
}

pub fn master_key() -> MasterKey {
    MasterKey::from_base64(MASTER_KEY).unwrap()
}

// Record builders, in the exact shape of DESIGN.md.

pub fn account(id: &str, name: &str, passport: &str) -> String {
    serde_json::json!({
        "type": "account", "id": id, "full_name": name, "date_of_birth": "1990-04-12",
        "nationality": "CHN", "passport_number": passport, "passport_country": "CHN",
        "phone": "+8613800138000", "email": "zhang.wei@example.com", "opened_on": "2014-03-01",
        "phone_since": "2012-06-01", "address_since": "2016-01-01"
    })
    .to_string()
}

pub fn transaction(id: &str, account: &str, posted_at: &str, amount: &str) -> String {
    serde_json::json!({
        "type": "transaction", "id": id, "account": account, "posted_at": posted_at,
        "amount": amount, "currency": "CNY", "category": "groceries", "merchant": "盒马鲜生 Hema"
    })
    .to_string()
}

pub fn balance(account: &str, holding: &str, kind: &str, date: &str, amount: &str, currency: &str) -> String {
    serde_json::json!({
        "type": "balance", "account": account, "holding": holding, "kind": kind,
        "date": date, "amount": amount, "currency": currency
    })
    .to_string()
}

pub fn bill(id: &str, account: &str, due_on: &str, paid_on: Option<&str>) -> String {
    let mut v = serde_json::json!({
        "type": "bill", "id": id, "account": account, "biller": "State Grid Shanghai", "kind": "utility",
        "due_on": due_on, "amount": "230.00", "currency": "CNY"
    });
    if let Some(p) = paid_on {
        v["paid_on"] = p.into();
    }
    v.to_string()
}

pub fn fx_rate(base: &str, quote: &str, date: &str, rate: &str) -> String {
    serde_json::json!({
        "type": "fx_rate", "base": base, "quote": quote, "date": date, "rate": rate,
        "source": "Bank of Canada (test)"
    })
    .to_string()
}
