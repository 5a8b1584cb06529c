//! The keys the settings name: the service's key directory under
//! `data_dir`, or the operator's signing chain and key. What the web
//! service, the command line and the issuing sequence all load.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::{KeyError, KeyRing, KeyStore, Signer, parse_certificate_pem_chain};
use crate::config::Settings;
use crate::crypto::FieldCipher;

/// Where the service keeps its signing keys.
pub fn key_dir(settings: &Settings) -> PathBuf {
    settings.data_dir.join("keys")
}

/// The keys verifiers check reports against: the operator's signing
/// certificate and the root its chain ends in when configured, otherwise
/// every signing key in the service's key directory. Reads no private key.
pub fn published_keys(settings: &Settings) -> Result<KeyRing, KeyError> {
    if let Some(chain) = &settings.report.signing_chain {
        let pem = std::fs::read(chain).map_err(|source| KeyError::Io { path: chain.display().to_string(), source })?;
        let certificates = parse_certificate_pem_chain(&pem)?;
        if certificates.is_empty() {
            return Err(KeyError::Store(format!("{}: no certificate in the chain", chain.display())));
        }
        return KeyRing::from_operator_chain(certificates);
    }
    KeyRing::load(&key_dir(settings))
}

/// The operator's signing chain and key when configured; otherwise the
/// service's own key for the configured algorithm, created (with its root)
/// on first use.
pub fn load_signer(settings: &Settings, cipher: &FieldCipher, now: DateTime<Utc>) -> Result<Signer, KeyError> {
    if let (Some(chain), Some(key)) = (&settings.report.signing_chain, &settings.report.signing_key) {
        return Signer::from_operator(chain, key);
    }
    let store = KeyStore::load_or_create(
        &key_dir(settings),
        settings.report.signature_algorithm,
        &settings.report.issuer_name,
        cipher,
        now,
    )?;
    Ok(store.into_signer())
}
