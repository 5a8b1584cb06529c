//! Settings: working defaults, then a TOML file, then environment variables.
//!
//! With no file and no variables the service runs on one machine: SQLite at
//! `var/standing.db`, listening on `127.0.0.1:8080`, working files under
//! `var/`. Every key is documented in `standing.example.toml`.
//!
//! Precedence, lowest first: defaults, the file named by `--config` or
//! `STANDING_CONFIG`, `DATABASE_URL`, `STANDING_*` variables, command-line
//! flags (applied by the caller).

mod applications;
pub mod layers;
mod mail;
mod sms;

pub use applications::ApplicationSettings;
pub use mail::{DkimAlgorithm, MailSettings, MailTransportKind, SmtpUrl};
pub use sms::{SmsSettings, SmsTransportKind};

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Format, Toml};
use serde::Deserialize;

use crate::domain::Currency;
use crate::domain::KeyAlgorithm;

/// A secret string: never shown by `Debug` or `Display`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// A database URL; `Debug` hides any password it carries.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(s: impl Into<String>) -> Self {
        DatabaseUrl(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_postgres(&self) -> bool {
        self.0.starts_with("postgres://") || self.0.starts_with("postgresql://")
    }

    pub fn is_sqlite(&self) -> bool {
        self.0.starts_with("sqlite:")
    }

    /// The URL with any `user:password@` part replaced, for logs.
    pub fn redacted(&self) -> String {
        match (self.0.split_once("://"), self.0.rfind('@')) {
            (Some((scheme, _)), Some(at)) => format!("{scheme}://[redacted]@{}", &self.0[at + 1..]),
            _ => self.0.clone(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address the web service listens on.
    pub listen: SocketAddr,
    /// The address officers reach; printed in QR codes and verification links.
    pub public_base_url: String,
    /// Working files: the SQLite database, the master key file, the signing keys.
    pub data_dir: PathBuf,
    /// Base64 of 32 bytes; encrypts personal data at rest. When absent, a key
    /// file `master.key` (mode 0600) under `data_dir` is created on first use.
    pub master_key: Option<Secret>,
    pub database: DatabaseSettings,
    pub import: ImportSettings,
    pub scoring: ScoringSettings,
    pub report: ReportSettings,
    pub verify: VerifySettings,
    pub server: ServerSettings,
    pub mail: MailSettings,
    pub sms: SmsSettings,
    pub applications: ApplicationSettings,
}

/// How the web service treats connections: timeouts, limits, proxies.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Seconds a client has to send a complete request line and headers:
    /// from the moment it connects for its first request, from its first
    /// byte for later ones. Then the connection is closed (slow-header
    /// clients cannot hold connections open).
    pub header_read_timeout_seconds: u64,
    /// Seconds a kept-alive connection may wait, with nothing in flight and
    /// nothing sent, for its next request before it is closed.
    pub idle_timeout_seconds: u64,
    /// Seconds one request may take to be answered (408 after that).
    pub request_timeout_seconds: u64,
    /// Seconds to finish in-flight requests after SIGTERM or Ctrl-C; the
    /// connections still open then are dropped, so the server always stops.
    pub shutdown_timeout_seconds: u64,
    /// Connections served at once. Beyond it new connections wait in the
    /// operating system's accept queue (holding no descriptor of ours) and
    /// are served as soon as a slot frees. Lowered at start-up, with a
    /// warning, when the descriptor limit (`ulimit -n`) cannot hold it.
    pub max_connections: usize,
    /// The reverse proxies (CIDR blocks or single addresses) whose
    /// `X-Forwarded-For` is believed. Empty: the socket's peer is the client.
    #[serde(deserialize_with = "layers::comma_list")]
    pub trusted_proxies: Vec<ProxyNet>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            header_read_timeout_seconds: 10,
            idle_timeout_seconds: 30,
            request_timeout_seconds: 30,
            shutdown_timeout_seconds: 20,
            max_connections: 1024,
            trusted_proxies: Vec::new(),
        }
    }
}

/// An address block of trusted reverse proxies: `10.0.0.0/8`,
/// `2001:db8::/32`, or one address (`192.0.2.7`, a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet(pub ipnet::IpNet);

impl ProxyNet {
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        self.0.contains(&ip)
    }
}

impl std::str::FromStr for ProxyNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(net) = s.parse::<ipnet::IpNet>() {
            return Ok(ProxyNet(net.trunc()));
        }
        s.parse::<std::net::IpAddr>()
            .map(|ip| ProxyNet(ipnet::IpNet::from(ip)))
            .map_err(|_| format!("`{s}` is not an address block like 10.0.0.0/8 or an address like 192.0.2.7"))
    }
}

impl<'de> Deserialize<'de> for ProxyNet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Officers' verification: pages, API and uploads.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct VerifySettings {
    /// Verification requests one client address may make per minute (a
    /// token bucket: this many at once, refilled evenly over the minute).
    pub requests_per_minute: u32,
    /// Lookups with an unknown number or a wrong code one client address may
    /// make per hour before all its lookups are refused for a while: codes
    /// cannot be guessed by trying.
    pub failed_lookups_per_hour: u32,
    /// Largest PDF accepted for an upload check, in bytes.
    pub max_upload_bytes: usize,
}

impl Default for VerifySettings {
    fn default() -> Self {
        VerifySettings { requests_per_minute: 60, failed_lookups_per_hour: 20, max_upload_bytes: 10 * 1024 * 1024 }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite:PATH` or `postgres://...`.
    pub url: DatabaseUrl,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ImportSettings {
    /// Records written per statement batch.
    pub batch_size: usize,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ScoringSettings {
    /// Eligible if and only if score > threshold.
    pub threshold: u16,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSettings {
    /// The issuer named on reports and in certificates.
    pub issuer_name: String,
    /// The issuer's registered legal name, printed on every report (empty:
    /// the issuer name).
    pub issuer_legal_name: String,
    /// The issuer's postal address, printed on every report (empty: not
    /// printed; set it in production).
    pub issuer_address: String,
    /// How an authority reaches the issuer (an email address, phone number
    /// or URL); empty: the public base URL.
    pub issuer_contact: String,
    /// A report's data must reach its as-of date: the account's latest
    /// balance at most this many days before it, and a holding without a
    /// balance in these days is not "current". Also how long a balance is
    /// carried forward in the report's averages.
    pub max_data_age_days: u32,
    /// The authority reports are addressed to.
    pub authority_code: String,
    pub authority_name: String,
    /// The currency reports convert totals into (the authority's, CAD for
    /// IRCC); also the pivot for cross rates.
    pub authority_currency: Currency,
    /// Days a report stays valid after its as-of date.
    pub validity_days: u32,
    /// Print the score itself, not only that the threshold was met.
    pub show_score: bool,
    /// `ecdsa-p256` (default: what Adobe Acrobat and poppler's pdfsig can
    /// check) or `ed25519` (ISO 32002; pyHanko and our own tools only).
    pub signature_algorithm: KeyAlgorithm,
    /// An operator-supplied signing certificate chain (PEM, leaf first) and
    /// its PKCS#8 private key (PEM). Both or neither; when set they replace
    /// the service's own root and key.
    pub signing_chain: Option<PathBuf>,
    pub signing_key: Option<PathBuf>,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            issuer_name: "standing".into(),
            issuer_legal_name: String::new(),
            issuer_address: String::new(),
            issuer_contact: String::new(),
            max_data_age_days: 7,
            authority_code: "IRCC".into(),
            authority_name: "Immigration, Refugees and Citizenship Canada".into(),
            authority_currency: Currency::CAD,
            validity_days: 90,
            show_score: false,
            signature_algorithm: KeyAlgorithm::EcdsaP256,
            signing_chain: None,
            signing_key: None,
        }
    }
}

/// Said when the retired setting is still used: it trusted every peer.
const RETIRED_FORWARDED_FOR: &str = "verify.trust_forwarded_for (STANDING_VERIFY_TRUST_FORWARDED_FOR) is no longer \
     supported: it believed X-Forwarded-For from any client. Remove it and list your reverse proxies in \
     server.trusted_proxies instead, e.g. [server] trusted_proxies = [\"10.0.0.0/8\"] (or STANDING_SERVER_TRUSTED_PROXIES=10.0.0.0/8,192.0.2.7)";

/// Where working files go unless `data_dir` says otherwise.
const DEFAULT_DATA_DIR: &str = "var";

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_base_url: "http://127.0.0.1:8080".into(),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            master_key: None,
            database: DatabaseSettings::default(),
            import: ImportSettings::default(),
            scoring: ScoringSettings::default(),
            report: ReportSettings::default(),
            verify: VerifySettings::default(),
            server: ServerSettings::default(),
            mail: MailSettings::default(),
            sms: SmsSettings::default(),
            applications: ApplicationSettings::default(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings { url: Settings::sqlite_in(Path::new(DEFAULT_DATA_DIR)), max_connections: 8 }
    }
}

impl Default for ImportSettings {
    fn default() -> Self {
        ImportSettings { batch_size: 25_000 }
    }
}

impl Default for ScoringSettings {
    fn default() -> Self {
        ScoringSettings { threshold: 750 }
    }
}

impl Settings {
    /// Defaults, then `file` (or `STANDING_CONFIG`), then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        Self::load_with(file, |name| std::env::var(name).ok())
    }

    /// [`Settings::load`] with the environment read through `env`.
    pub fn load_with(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let file = file.map(Path::to_path_buf).or_else(|| env("STANDING_CONFIG").map(PathBuf::from));
        match &file {
            Some(path) => {
                // Read here first so a missing file says so plainly.
                std::fs::metadata(path).with_context(|| format!("reading configuration file {}", path.display()))?;
                Self::layers(Some(Toml::file_exact(path)), env)
            }
            None => Self::layers(None::<figment::providers::Data<Toml>>, env),
        }
    }

    /// Defaults, then the TOML `file_text` (if any), then the environment
    /// read through `env` (see [`layers`]); checked.
    pub fn layered(file_text: Option<&str>, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        Self::layers(file_text.map(Toml::string), env)
    }

    fn layers(file: Option<impl figment::Provider>, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        if env("STANDING_VERIFY_TRUST_FORWARDED_FOR").is_some() {
            bail!("{RETIRED_FORWARDED_FOR}");
        }
        let mut figment = Figment::new();
        if let Some(file) = file {
            figment = figment.merge(file);
        }
        if figment.find_value("verify.trust_forwarded_for").is_ok() {
            bail!("{RETIRED_FORWARDED_FOR}");
        }
        let file_names_url = figment.find_value("database.url").is_ok();
        let environment = layers::EnvLayer::read(&env);
        let names_url = file_names_url || environment.names("database.url");
        let mut settings: Settings = figment.merge(environment).extract_lossy().map_err(|e| anyhow::anyhow!("{e}"))?;
        if !names_url {
            settings.database.url = Self::sqlite_in(&settings.data_dir);
        }
        settings.validate()?;
        Ok(settings)
    }

    /// The embedded database inside the working directory: where the SQLite
    /// file lives unless a database URL is given, so that moving `data_dir`
    /// moves the database with the master key file that sealed its data.
    pub fn sqlite_in(data_dir: &Path) -> DatabaseUrl {
        DatabaseUrl::new(format!("sqlite:{}", data_dir.join("standing.db").display()))
    }

    /// Settings from a TOML text alone (defaults for what it leaves out).
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        Self::layered(Some(text), |_| None)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let url = &self.database.url;
        if !url.is_sqlite() && !url.is_postgres() {
            bail!("database url must start with `sqlite:` or `postgres://` (got {})", url.redacted());
        }
        if self.import.batch_size == 0 || self.import.batch_size > 100_000 {
            bail!("import.batch_size must be between 1 and 100000");
        }
        if self.report.signing_chain.is_some() != self.report.signing_key.is_some() {
            bail!("report.signing_chain and report.signing_key go together: set both or neither");
        }
        if !(1..=3650).contains(&self.report.validity_days) {
            bail!("report.validity_days must be between 1 and 3650");
        }
        if !(1..=90).contains(&self.report.max_data_age_days) {
            bail!("report.max_data_age_days must be between 1 and 90");
        }
        for (name, value, max) in [
            ("report.issuer_legal_name", &self.report.issuer_legal_name, 200),
            ("report.issuer_address", &self.report.issuer_address, 300),
            ("report.issuer_contact", &self.report.issuer_contact, 200),
        ] {
            if value.chars().count() > max || value.chars().any(char::is_control) {
                bail!("{name} must be at most {max} characters on one line");
            }
        }
        if self.verify.requests_per_minute == 0 || self.verify.failed_lookups_per_hour == 0 {
            bail!("verify.requests_per_minute and verify.failed_lookups_per_hour must be at least 1");
        }
        if !(1024..=100 * 1024 * 1024).contains(&self.verify.max_upload_bytes) {
            bail!("verify.max_upload_bytes must be between 1 KiB and 100 MiB");
        }
        let server = &self.server;
        for (name, value) in [
            ("server.header_read_timeout_seconds", server.header_read_timeout_seconds),
            ("server.idle_timeout_seconds", server.idle_timeout_seconds),
            ("server.request_timeout_seconds", server.request_timeout_seconds),
            ("server.shutdown_timeout_seconds", server.shutdown_timeout_seconds),
        ] {
            if !(1..=3600).contains(&value) {
                bail!("{name} must be between 1 and 3600 seconds");
            }
        }
        if !(1..=1_000_000).contains(&server.max_connections) {
            bail!("server.max_connections must be between 1 and 1000000");
        }
        self.mail.validate()?;
        self.sms.validate()?;
        self.applications.validate()?;
        if !(350..=950).contains(&self.scoring.threshold) {
            bail!("scoring.threshold must lie on the score scale 350..=950");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
