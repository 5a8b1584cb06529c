//! Personal data at rest: the master key, field encryption and blind indexes.
//!
//! Passport numbers and issued reports (their JSON, key facts and PDF) are
//! encrypted with AES-256-GCM under a key derived from the master key; the
//! ciphertext is bound to where it is stored (the associated data names the table, column
//! and record) so a value copied to another row does not decrypt. Equality
//! lookups use a blind index: HMAC-SHA256 of the value under a second derived
//! key, so the database never holds a searchable plain passport number.
//! Short secrets that are only ever checked, never looked up (report
//! verification codes), are kept as an HMAC under a third derived key: a
//! plain hash of a 40-bit code could be reversed by trying every code.

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// Format byte of a sealed value, so the scheme can change later.
const SEALED_V1: u8 = 1;
const NONCE_LEN: usize = 12;

/// The root secret. Never printed; wiped from memory when dropped.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value does not decrypt under this key and context")]
    Undecryptable,
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        MasterKey(Zeroizing::new(bytes))
    }

    pub fn from_base64(text: &str) -> anyhow::Result<Self> {
        let raw = Zeroizing::new(BASE64.decode(text.trim()).context("master key is not base64")?);
        let bytes: [u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| anyhow::anyhow!("master key must be 32 bytes (got {})", raw.len()))?;
        Ok(Self::from_bytes(bytes))
    }

    /// The configured key (base64, from `master_key` or
    /// `STANDING_MASTER_KEY`), or else the key file `master.key` under
    /// `data_dir`, created with mode 0600 on first use.
    pub fn load(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        if let Some(secret) = configured {
            return Self::from_base64(secret).context("STANDING_MASTER_KEY / master_key");
        }
        Self::load_or_create_file(&data_dir.join("master.key"))
    }

    fn load_or_create_file(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                check_private(path)?;
                return Self::from_base64(&text).with_context(|| format!("key file {}", path.display()));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("reading key file {}", path.display())),
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.is_dir()) {
            // The data directory holds the database and keys: private to
            // this user, as the store and the key store create it too.
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(bytes.as_mut());
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                let encoded = Zeroizing::new(BASE64.encode(bytes.as_ref()));
                file.write_all(encoded.as_bytes())
                    .and_then(|()| file.sync_all())
                    .with_context(|| format!("writing key file {}", path.display()))?;
                tracing::info!(path = %path.display(), "generated a new master key file");
                Ok(Self::from_bytes(*bytes))
            }
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load_or_create_file(path),
            Err(e) => Err(e).with_context(|| format!("creating key file {}", path.display())),
        }
    }

    /// A purpose-specific key: HMAC-SHA256(master, label).
    pub(crate) fn derive(&self, label: &str) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        // HMAC accepts keys of any length; 32 bytes cannot fail.
        if let Ok(mut mac) = HmacSha256::new_from_slice(self.0.as_ref()) {
            mac.update(label.as_bytes());
            out.copy_from_slice(&mac.finalize().into_bytes());
        }
        out
    }

    pub fn field_cipher(&self) -> FieldCipher {
        FieldCipher {
            key: self.derive("standing/field-encryption/v1"),
            index_key: self.derive("standing/blind-index/v1"),
            secret_key: self.derive("standing/secret-digest/v1"),
        }
    }
}

fn check_private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            bail!("key file {} is readable by others (mode {:o}); run `chmod 600` on it", path.display(), mode & 0o777);
        }
    }
    Ok(())
}

/// Encrypts fields and computes blind indexes.
#[derive(Clone)]
pub struct FieldCipher {
    key: Zeroizing<[u8; 32]>,
    index_key: Zeroizing<[u8; 32]>,
    secret_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for FieldCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FieldCipher([redacted])")
    }
}

impl FieldCipher {
    /// `version || nonce || ciphertext+tag`; `context` (e.g.
    /// `accounts.passport:A1001`) must be given again to open it.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*self.key));
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher.encrypt(&Nonce::from(nonce), Payload { msg: plaintext, aad: context.as_bytes() });
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + 16);
        out.push(SEALED_V1);
        out.extend_from_slice(&nonce);
        // AES-GCM encryption fails only for messages over 64 GiB.
        out.extend_from_slice(&sealed.unwrap_or_default());
        out
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, CryptoError> {
        let (version, rest) = sealed.split_first().ok_or(CryptoError::Malformed)?;
        if *version != SEALED_V1 || rest.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| CryptoError::Malformed)?;
        let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*self.key));
        cipher.decrypt(&nonce, Payload { msg: body, aad: context.as_bytes() }).map_err(|_| CryptoError::Undecryptable)
    }

    /// HMAC-SHA256 of `value` in `domain`: equal values give equal indexes,
    /// and nothing about the value can be learnt without the key.
    pub fn blind_index(&self, domain: &str, value: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        if let Ok(mut mac) = HmacSha256::new_from_slice(self.index_key.as_ref()) {
            mac.update(domain.as_bytes());
            mac.update(&[0]);
            mac.update(value.as_bytes());
            out.copy_from_slice(&mac.finalize().into_bytes());
        }
        out
    }

    /// HMAC-SHA256 of a short secret bound to `context` (e.g. the report
    /// number it belongs to), under a key used for nothing else: the stored
    /// form of a secret that is checked but never looked up.
    pub fn secret_digest(&self, context: &str, secret: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        if let Ok(mut mac) = HmacSha256::new_from_slice(self.secret_key.as_ref()) {
            mac.update(context.as_bytes());
            mac.update(&[0]);
            mac.update(secret.as_bytes());
            out.copy_from_slice(&mac.finalize().into_bytes());
        }
        out
    }

    /// Whether `secret` is the one whose [`secret_digest`](Self::secret_digest)
    /// is `stored`, compared in constant time.
    pub fn secret_matches(&self, context: &str, secret: &str, stored: &[u8]) -> bool {
        self.secret_digest(context, secret).as_slice().ct_eq(stored).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> FieldCipher {
        MasterKey::from_bytes([7; 32]).field_cipher()
    }

    #[test]
    fn seal_and_open_round_trip_with_context() {
        let c = cipher();
        let sealed = c.seal(b"E12345678", "accounts.passport:A1001");
        assert!(!sealed.windows(9).any(|w| w == b"E12345678"));
        assert_eq!(c.open(&sealed, "accounts.passport:A1001").unwrap(), b"E12345678");
        assert!(c.open(&sealed, "accounts.passport:A1002").is_err());
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(c.open(&tampered, "accounts.passport:A1001").is_err());
        assert!(c.open(&[], "x").is_err());
    }

    #[test]
    fn blind_index_is_keyed_and_stable() {
        let a = cipher().blind_index("passport", "E12345678");
        assert_eq!(a, cipher().blind_index("passport", "E12345678"));
        assert_ne!(a, cipher().blind_index("passport", "E12345679"));
        assert_ne!(a, MasterKey::from_bytes([8; 32]).field_cipher().blind_index("passport", "E12345678"));
    }

    #[test]
    fn secret_digest_is_keyed_bound_and_apart_from_the_blind_index() {
        let c = cipher();
        let d = c.secret_digest("reports.code:SR-1", "Q7RMK2XP");
        assert!(c.secret_matches("reports.code:SR-1", "Q7RMK2XP", &d));
        assert!(!c.secret_matches("reports.code:SR-2", "Q7RMK2XP", &d));
        assert!(!c.secret_matches("reports.code:SR-1", "Q7RMK2XQ", &d));
        assert!(!c.secret_matches("reports.code:SR-1", "Q7RMK2XP", &d[..31]));
        assert_ne!(d, c.blind_index("reports.code:SR-1", "Q7RMK2XP"));
        assert_ne!(d, MasterKey::from_bytes([8; 32]).field_cipher().secret_digest("reports.code:SR-1", "Q7RMK2XP"));
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/master.key");
        let k1 = MasterKey::load_or_create_file(&path).unwrap();
        let k2 = MasterKey::load_or_create_file(&path).unwrap();
        assert_eq!(k1.0.as_ref(), k2.0.as_ref());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode();
            assert_eq!(dir_mode & 0o777, 0o700, "the directory it creates is private too");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(MasterKey::load_or_create_file(&path).is_err());
        }
    }
}
