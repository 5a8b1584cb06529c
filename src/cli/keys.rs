//! `standing keys list|rotate`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use standing::config::Settings;
use standing::crypto::MasterKey;
use standing::keys::{self, KeyStore, summarize};

use super::KeysCommand;
use super::verify::KeySource;

/// `standing keys list|rotate`.
pub fn run(
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
    command: KeysCommand,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let dir = keys::key_dir(settings);
    match command {
        KeysCommand::List { json } => {
            let source = KeySource::local(settings);
            let ring = keys::published_keys(settings)
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
            let cipher =
                MasterKey::load(settings.master_key.as_ref().map(|k| k.expose()), &settings.data_dir)?.field_cipher();
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
