//! Optional DKIM signing (lettre's `dkim`) with the operator's key, so
//! receivers can check that a message comes from the sender's domain
//! unchanged. Signed: From, Reply-To, To, Subject, Date and Message-ID,
//! relaxed canonicalization (it survives the whitespace changes relays
//! make). Publish the public key as a TXT record at
//! `{mail.dkim_selector}._domainkey.{domain}`.

use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm, DkimSigningKey,
};
use lettre::message::header::HeaderName;

use super::MailError;
use crate::config::{DkimAlgorithm, MailSettings};

/// The signing configuration the settings name, with its key read and
/// checked; `None` when DKIM is off (no selector).
pub fn config(settings: &MailSettings, sender_domain: &str) -> Result<Option<DkimConfig>, MailError> {
    if settings.dkim_selector.is_empty() {
        return Ok(None);
    }
    let path = settings
        .dkim_key_file
        .as_ref()
        .ok_or_else(|| MailError::Build("mail.dkim_selector needs mail.dkim_key_file".into()))?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| MailError::Build(format!("reading the DKIM key {}: {e}", path.display())))?;
    let algorithm = match settings.dkim_algorithm {
        DkimAlgorithm::Ed25519 => DkimSigningAlgorithm::Ed25519,
        DkimAlgorithm::Rsa => DkimSigningAlgorithm::Rsa,
    };
    let key = DkimSigningKey::new(text.trim(), algorithm).map_err(|e| {
        MailError::Build(format!(
            "the DKIM key {} is not a {:?} private key ({e:?}); see mail.dkim_algorithm",
            path.display(),
            settings.dkim_algorithm
        ))
    })?;
    let domain = if settings.dkim_domain.is_empty() { sender_domain } else { settings.dkim_domain.as_str() };
    let headers = ["From", "Reply-To", "To", "Subject", "Date", "Message-ID"]
        .into_iter()
        .map(HeaderName::new_from_ascii_str)
        .collect();
    let relaxed =
        DkimCanonicalization { header: DkimCanonicalizationType::Relaxed, body: DkimCanonicalizationType::Relaxed };
    Ok(Some(DkimConfig::new(settings.dkim_selector.clone(), domain.to_owned(), key, headers, relaxed)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn an_ed25519_key_signs_and_a_bad_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("dkim.key");
        std::fs::write(&key, base64::engine::general_purpose::STANDARD.encode([7u8; 32])).unwrap();
        let settings = MailSettings {
            dkim_selector: "standing2026".into(),
            dkim_key_file: Some(key.clone()),
            ..MailSettings::default()
        };
        assert!(config(&MailSettings::default(), "example.com").unwrap().is_none());
        assert!(config(&settings, "example.com").unwrap().is_some());
        std::fs::write(&key, "not a key").unwrap();
        let err = config(&settings, "example.com").unwrap_err().to_string();
        assert!(err.contains("dkim.key") && err.contains("Ed25519"), "{err}");
        let missing = MailSettings { dkim_key_file: Some(dir.path().join("nope")), ..settings };
        assert!(config(&missing, "example.com").unwrap_err().to_string().contains("reading the DKIM key"));
    }
}
