//! `standing verify FILE.pdf`: offline against the local keys or a JWKS
//! file, or against the service.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use standing::config::Settings;
use standing::keys::{self, KeyRing};
use standing::verify::remote::Service;
use standing::verify::{Verification, verify_pdf};

/// Where `standing verify` found the keys it checks against: said in its
/// answer and in its errors, so a wrong data directory is plain to see.
pub struct KeySource {
    /// `service`, `jwks_file`, `signing_chain` or `key_directory`.
    kind: &'static str,
    /// The URL or the absolute path.
    location: String,
}

impl KeySource {
    pub fn local(settings: &Settings) -> Self {
        let absolute =
            |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned()).display().to_string();
        match &settings.report.signing_chain {
            Some(chain) => KeySource { kind: "signing_chain", location: absolute(chain) },
            None => KeySource { kind: "key_directory", location: absolute(&keys::key_dir(settings)) },
        }
    }

    pub fn describe(&self) -> String {
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
pub async fn run(
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
    file: &std::path::Path,
    flags: Flags,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let Flags { jwks, root, json, require_status } = flags;
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
        (None, None) => (KeySource::local(settings), keys::published_keys(settings).map_err(anyhow::Error::from)),
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
pub struct Flags {
    pub jwks: Option<String>,
    pub root: Option<PathBuf>,
    pub json: bool,
    pub require_status: bool,
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
