//! Settings: working defaults, then a TOML file, then environment variables.
//!
//! With no file and no variables the service runs on one machine: SQLite at
//! `var/standing.db`, listening on `127.0.0.1:8080`, working files under
//! `var/`. Every key is documented in `standing.example.toml`.
//!
//! Precedence, lowest first: defaults, the file named by `--config` or
//! `STANDING_CONFIG`, `DATABASE_URL`, `STANDING_*` variables, command-line
//! flags (applied by the caller).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::domain::Currency;
use crate::keys::KeyAlgorithm;

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
    /// The address applicants and officers reach; printed in QR codes and emails.
    pub public_base_url: String,
    /// Working files: the SQLite database, keys, mail and SMS files.
    pub data_dir: PathBuf,
    /// Base64 of 32 bytes; encrypts personal data at rest. When absent, a key
    /// file `master.key` (mode 0600) under `data_dir` is created on first use.
    pub master_key: Option<Secret>,
    pub database: DatabaseSettings,
    pub import: ImportSettings,
    pub scoring: ScoringSettings,
    pub report: ReportSettings,
    pub verify: VerifySettings,
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
    /// Behind a reverse proxy: take the client address from the last entry
    /// of `X-Forwarded-For` (which the proxy appends) instead of the socket.
    pub trust_forwarded_for: bool,
}

impl Default for VerifySettings {
    fn default() -> Self {
        VerifySettings {
            requests_per_minute: 60,
            failed_lookups_per_hour: 20,
            max_upload_bytes: 10 * 1024 * 1024,
            trust_forwarded_for: false,
        }
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
    fn load_with(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let file = file.map(Path::to_path_buf).or_else(|| env("STANDING_CONFIG").map(PathBuf::from));
        let (mut settings, file_names_url) = match file {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading configuration file {}", path.display()))?;
                let settings =
                    Self::from_toml(&text).with_context(|| format!("in configuration file {}", path.display()))?;
                let names_url = toml::from_str::<toml::Value>(&text)
                    .is_ok_and(|v| v.get("database").and_then(|d| d.get("url")).is_some());
                (settings, names_url)
            }
            None => (Settings::default(), false),
        };
        let env_names_url = env("DATABASE_URL").is_some() || env("STANDING_DATABASE_URL").is_some();
        settings.apply_env(&env)?;
        if !file_names_url && !env_names_url {
            settings.database.url = Self::sqlite_in(&settings.data_dir);
        }
        Ok(settings)
    }

    /// The embedded database inside the working directory: where the SQLite
    /// file lives unless a database URL is given, so that moving `data_dir`
    /// moves the database with the master key file that sealed its data.
    pub fn sqlite_in(data_dir: &Path) -> DatabaseUrl {
        DatabaseUrl::new(format!("sqlite:{}", data_dir.join("standing.db").display()))
    }

    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        Ok(toml::from_str(text)?)
    }

    /// Applies `DATABASE_URL` and the `STANDING_*` variables, read through
    /// `get` so tests need not touch the process environment.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        fn parse<T: std::str::FromStr>(name: &str, v: &str) -> anyhow::Result<T>
        where
            T::Err: fmt::Display,
        {
            v.parse().map_err(|e| anyhow::anyhow!("{name}: {e}"))
        }
        if let Some(v) = get("DATABASE_URL") {
            self.database.url = DatabaseUrl::new(v);
        }
        if let Some(v) = get("STANDING_DATABASE_URL") {
            self.database.url = DatabaseUrl::new(v);
        }
        if let Some(v) = get("STANDING_DATABASE_MAX_CONNECTIONS") {
            self.database.max_connections = parse("STANDING_DATABASE_MAX_CONNECTIONS", &v)?;
        }
        if let Some(v) = get("STANDING_LISTEN") {
            self.listen = parse("STANDING_LISTEN", &v)?;
        }
        if let Some(v) = get("STANDING_PUBLIC_BASE_URL") {
            self.public_base_url = v;
        }
        if let Some(v) = get("STANDING_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("STANDING_MASTER_KEY") {
            self.master_key = Some(Secret::new(v));
        }
        if let Some(v) = get("STANDING_IMPORT_BATCH_SIZE") {
            self.import.batch_size = parse("STANDING_IMPORT_BATCH_SIZE", &v)?;
        }
        if let Some(v) = get("STANDING_REPORT_AUTHORITY_CURRENCY") {
            self.report.authority_currency = parse("STANDING_REPORT_AUTHORITY_CURRENCY", &v)?;
        }
        if let Some(v) = get("STANDING_REPORT_ISSUER_NAME") {
            self.report.issuer_name = v;
        }
        if let Some(v) = get("STANDING_REPORT_VALIDITY_DAYS") {
            self.report.validity_days = parse("STANDING_REPORT_VALIDITY_DAYS", &v)?;
        }
        if let Some(v) = get("STANDING_REPORT_SHOW_SCORE") {
            self.report.show_score = parse("STANDING_REPORT_SHOW_SCORE", &v)?;
        }
        if let Some(v) = get("STANDING_REPORT_SIGNATURE_ALGORITHM") {
            self.report.signature_algorithm = parse("STANDING_REPORT_SIGNATURE_ALGORITHM", &v)?;
        }
        if let Some(v) = get("STANDING_REPORT_SIGNING_CHAIN") {
            self.report.signing_chain = Some(PathBuf::from(v));
        }
        if let Some(v) = get("STANDING_REPORT_SIGNING_KEY") {
            self.report.signing_key = Some(PathBuf::from(v));
        }
        if let Some(v) = get("STANDING_VERIFY_REQUESTS_PER_MINUTE") {
            self.verify.requests_per_minute = parse("STANDING_VERIFY_REQUESTS_PER_MINUTE", &v)?;
        }
        if let Some(v) = get("STANDING_VERIFY_FAILED_LOOKUPS_PER_HOUR") {
            self.verify.failed_lookups_per_hour = parse("STANDING_VERIFY_FAILED_LOOKUPS_PER_HOUR", &v)?;
        }
        if let Some(v) = get("STANDING_VERIFY_MAX_UPLOAD_BYTES") {
            self.verify.max_upload_bytes = parse("STANDING_VERIFY_MAX_UPLOAD_BYTES", &v)?;
        }
        if let Some(v) = get("STANDING_VERIFY_TRUST_FORWARDED_FOR") {
            self.verify.trust_forwarded_for = parse("STANDING_VERIFY_TRUST_FORWARDED_FOR", &v)?;
        }
        if let Some(v) = get("STANDING_SCORING_THRESHOLD") {
            self.scoring.threshold = parse("STANDING_SCORING_THRESHOLD", &v)?;
        }
        self.validate()
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
        if self.verify.requests_per_minute == 0 || self.verify.failed_lookups_per_hour == 0 {
            bail!("verify.requests_per_minute and verify.failed_lookups_per_hour must be at least 1");
        }
        if !(1024..=100 * 1024 * 1024).contains(&self.verify.max_upload_bytes) {
            bail!("verify.max_upload_bytes must be between 1 KiB and 100 MiB");
        }
        if !(350..=950).contains(&self.scoring.threshold) {
            bail!("scoring.threshold must lie on the score scale 350..=950");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn defaults_run_on_one_machine() {
        let s = Settings::default();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database.url.expose(), "sqlite:var/standing.db");
        assert_eq!(s.scoring.threshold, 750);
    }

    #[test]
    fn example_file_parses_and_documents_every_key() {
        let text = include_str!("../standing.example.toml");
        let parsed = Settings::from_toml(text).unwrap();
        assert_eq!(parsed, Settings { master_key: parsed.master_key.clone(), ..Settings::default() });
    }

    #[test]
    fn the_embedded_database_follows_the_working_directory() {
        assert_eq!(Settings::sqlite_in(Path::new("var")), Settings::default().database.url);
        fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
            let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        }
        let moved = Settings::load_with(None, env(&[("STANDING_DATA_DIR", "/srv/standing")])).unwrap();
        assert_eq!(moved.database.url.expose(), "sqlite:/srv/standing/standing.db");
        // A database named anywhere stays where it was named.
        let named = [("STANDING_DATA_DIR", "/srv/standing"), ("DATABASE_URL", "sqlite:/data/x.db")];
        assert_eq!(Settings::load_with(None, env(&named)).unwrap().database.url.expose(), "sqlite:/data/x.db");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("standing.toml");
        std::fs::write(&file, "data_dir = \"/srv/standing\"\n[database]\nurl = \"sqlite:var/standing.db\"\n").unwrap();
        let from_file = Settings::load_with(Some(&file), env(&[])).unwrap();
        assert_eq!(from_file.database.url.expose(), "sqlite:var/standing.db");
    }

    #[test]
    fn environment_overrides_file() {
        let mut s = Settings::from_toml("listen = \"0.0.0.0:9000\"\n[database]\nurl = \"sqlite:x.db\"").unwrap();
        let env: HashMap<&str, &str> = [
            ("DATABASE_URL", "postgres://u:pw@db/standing"),
            ("STANDING_LISTEN", "127.0.0.1:7000"),
            ("STANDING_MASTER_KEY", "c2VjcmV0"),
        ]
        .into();
        s.apply_env(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:7000");
        assert!(s.database.url.is_postgres());
        let debug = format!("{s:?}");
        assert!(!debug.contains("pw"), "{debug}");
        assert!(!debug.contains("c2VjcmV0"), "{debug}");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        assert!(Settings::from_toml("lisen = \"x\"").is_err());
        let mut s = Settings::default();
        assert!(s.apply_env(|k| (k == "STANDING_LISTEN").then(|| "nowhere".into())).is_err());
        let mut s = Settings::default();
        assert!(s.apply_env(|k| (k == "DATABASE_URL").then(|| "mysql://x".into())).is_err());
    }
}
