//! The service's own keys on disk (by default `var/keys/`):
//!
//! ```text
//! root.pem                     the root certificate (publish it: officers trust it)
//! root.key.sealed              its PKCS#8 private key, sealed with the master key
//! signing-<kid>.pem            a signing certificate issued by the root
//! signing-<kid>.key.sealed     its PKCS#8 private key, sealed with the master key
//! ```
//!
//! Sealed files are AES-256-GCM under the master key's field cipher with the
//! file name as associated data, so a key file renamed or copied over another
//! does not open. Key files are created with mode 0600, atomically (written
//! aside, then linked into place), so two instances starting together end up
//! using the same files.
//!
//! The signing key used is the newest (latest `notBefore`) certificate of the
//! requested algorithm that the root issued and that is valid now; when none
//! is, a new key and certificate are made. Older certificates stay on disk
//! and in [`KeyStore::published_keys`] so reports signed with them still
//! verify.
//!
//! A new directory gets an ECDSA P-256 root ([`ROOT_ALGORITHM`]). A root of
//! either algorithm issues signing keys of either algorithm, so the report
//! algorithm can change under the same root (`report.signature_algorithm`,
//! `standing keys rotate --algorithm`). A directory made before P-256 became
//! the default keeps its Ed25519 root: its reports keep verifying with our
//! tools and pyHanko, but viewers without EdDSA (Acrobat, poppler's pdfsig)
//! cannot check a certificate an Ed25519 root signed, so they can check a
//! P-256 report's signature but not that it comes from our root.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::cert::{
    CertificateSummary, certificate_pem, parse_certificate_pem_chain, root_certificate, signing_certificate, summarize,
};
use super::{KeyAlgorithm, KeyError, KeyPair, Signer, verify_issued_by};
use crate::crypto::FieldCipher;

const ROOT_CERT: &str = "root.pem";
const ROOT_KEY: &str = "root.key.sealed";

/// The algorithm of a new root: ECDSA P-256, whatever the reports are signed
/// with. Acrobat and poppler's pdfsig check a chain only if they can check
/// every certificate's signature in it, and both know ECDSA but not EdDSA.
/// P-256 rather than P-384: a chain is as strong as its weakest link, and
/// the reports themselves are P-256 signatures, so a P-384 root would add
/// no strength to any report while bringing a second curve implementation
/// to build, review and keep up to date; P-256 (128-bit security) stays
/// acceptable beyond 2031 (NIST SP 800-57 Part 1), which covers the root's
/// twenty years better than any report's life needs.
pub const ROOT_ALGORITHM: KeyAlgorithm = KeyAlgorithm::EcdsaP256;

/// A signing key as published for verifiers (JWKS), current or retired.
#[derive(Debug, Clone)]
pub struct PublishedKey {
    pub kid: String,
    pub algorithm: KeyAlgorithm,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub certificate_der: Vec<u8>,
    /// The public JWK (`kty`, `crv`, `x`[, `y`], `kid`, `alg`, `use`).
    pub jwk: serde_json::Value,
    /// When the next key of the same algorithm took over (its `notBefore`):
    /// reports signed with this key after that moment are refused.
    pub retired_at: Option<DateTime<Utc>>,
    /// The certificates our signer writes after this key's certificate in
    /// every signature it makes, issuer first: the root for the key
    /// directory's keys, the rest of the operator's chain file for an
    /// operator's key. Verification expects exactly these in a signature's
    /// container, byte for byte and in this order.
    pub chain: Vec<Vec<u8>>,
    /// The SHA-256 of the root certificate this certificate was checked to
    /// be issued by, when the ring was made (from the key directory, or from
    /// certificates and their root): see [`PublishedKey::checked_under`].
    issued_by: Option<[u8; 32]>,
}

/// Where a published key stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// Its certificate has not started yet.
    Pending,
    /// The key new reports are signed with.
    Active,
    /// A newer key of the same algorithm took over; old reports still verify.
    Retired,
    /// Its certificate has ended.
    Expired,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Pending => "pending",
            KeyStatus::Active => "active",
            KeyStatus::Retired => "retired",
            KeyStatus::Expired => "expired",
        }
    }
}

impl std::fmt::Display for KeyStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PublishedKey {
    /// The key a signing certificate describes, its window not yet cut by a
    /// successor; `chain` the certificates its signatures carry after it;
    /// `checked_root` is the root it was checked to be issued by, if it was.
    pub(super) fn described(
        certificate_der: Vec<u8>,
        chain: Vec<Vec<u8>>,
        summary: &CertificateSummary,
        checked_root: Option<&[u8]>,
    ) -> Self {
        PublishedKey {
            chain,
            kid: summary.public_key.kid().to_string(),
            algorithm: summary.public_key.algorithm(),
            not_before: summary.not_before,
            not_after: summary.not_after,
            jwk: summary.public_key.jwk(),
            certificate_der,
            retired_at: None,
            issued_by: checked_root.map(|root| Sha256::digest(root).into()),
        }
    }

    /// Whether this certificate was vouched for under exactly `root_der`
    /// when the ring was made (checked to be issued by it, or configured by
    /// the operator in a chain ending in it): a report carrying this very
    /// certificate under that root need not be checked again.
    pub fn checked_under(&self, root_der: &[u8]) -> bool {
        self.issued_by.is_some_and(|issuer| issuer == <[u8; 32]>::from(Sha256::digest(root_der)))
    }

    /// The last moment a report may have been signed with this key: when it
    /// was retired or when its certificate ends, whichever comes first.
    pub fn window_end(&self) -> DateTime<Utc> {
        self.retired_at.map_or(self.not_after, |r| r.min(self.not_after))
    }

    /// Whether a signature made at `at` falls inside this key's window. The
    /// window is half-open at retirement (the successor owns that second)
    /// and closed at the certificate's end (X.509 `notAfter` is inclusive).
    pub fn window_contains(&self, at: DateTime<Utc>) -> bool {
        let before_end = match self.retired_at {
            Some(retired) if retired <= self.not_after => at < retired,
            _ => at <= self.not_after,
        };
        self.not_before <= at && before_end
    }

    pub fn status(&self, now: DateTime<Utc>) -> KeyStatus {
        if now > self.not_after {
            KeyStatus::Expired
        } else if now < self.not_before {
            KeyStatus::Pending
        } else if self.retired_at.is_some_and(|r| r <= now) {
            KeyStatus::Retired
        } else {
            KeyStatus::Active
        }
    }
}

/// Sets each key's `retired_at` to the `notBefore` of the next key of the
/// same algorithm; `keys` must be sorted by `notBefore`.
pub(super) fn assign_retirement(keys: &mut [PublishedKey]) {
    for i in 0..keys.len() {
        let (algorithm, start) = (keys[i].algorithm, keys[i].not_before);
        keys[i].retired_at =
            keys[i + 1..].iter().find(|k| k.algorithm == algorithm && k.not_before > start).map(|k| k.not_before);
    }
}

/// The root and the signing keys under one directory.
#[derive(Debug)]
pub struct KeyStore {
    dir: PathBuf,
    root: Vec<u8>,
    signer: Signer,
    published: Vec<PublishedKey>,
}

impl KeyStore {
    /// Opens the key directory, creating the root (a [`ROOT_ALGORITHM`]
    /// key) on first use, and a signing key of `algorithm` when there is no
    /// current one (the root's subject carries `organization`; certificates
    /// start at `now`). The root may be of either algorithm: it signs
    /// signing certificates of either.
    pub fn load_or_create(
        dir: &Path,
        algorithm: KeyAlgorithm,
        organization: &str,
        cipher: &FieldCipher,
        now: DateTime<Utc>,
    ) -> Result<Self, KeyError> {
        create_private_dir(dir)?;
        let mut rng = rand::rng();

        let root_key = match read_sealed(dir, ROOT_KEY, cipher)? {
            Some(key) => key,
            None => {
                let key = KeyPair::generate(ROOT_ALGORITHM, &mut rng);
                write_sealed(dir, ROOT_KEY, &key, cipher)?;
                // Another instance may have won the race: use what is on disk.
                read_sealed(dir, ROOT_KEY, cipher)?.ok_or_else(|| store_error(dir, ROOT_KEY, "vanished"))?
            }
        };
        if root_key.algorithm() == KeyAlgorithm::Ed25519 && algorithm != KeyAlgorithm::Ed25519 {
            tracing::warn!(
                dir = %dir.display(),
                "the root key is Ed25519 (made before ECDSA became the default): Acrobat and pdfsig can check \
                 a report's {algorithm} signature but not that our root issued its certificate"
            );
        }

        let root = match read_certificate(dir, ROOT_CERT)? {
            Some(der) => der,
            None => {
                let der = root_certificate(&root_key, organization, random_serial(&mut rng), now)?;
                write_new(&dir.join(ROOT_CERT), certificate_pem(&der)?.as_bytes(), 0o644)?;
                read_certificate(dir, ROOT_CERT)?.ok_or_else(|| store_error(dir, ROOT_CERT, "vanished"))?
            }
        };
        let root_summary = summarize(&root)?;
        if root_summary.public_key != root_key.public_key()? {
            return Err(store_error(dir, ROOT_CERT, "does not match root.key.sealed"));
        }
        verify_issued_by(&root, &root).map_err(|e| store_error(dir, ROOT_CERT, &e.to_string()))?;
        if !root_summary.is_valid_at(now) {
            return Err(store_error(
                dir,
                ROOT_CERT,
                &format!("is valid {} to {}, not now ({now})", root_summary.not_before, root_summary.not_after),
            ));
        }

        let mut published = scan_signing_certificates(dir, &root)?;
        if current(&published, algorithm, now).is_none() {
            let key = KeyPair::generate(algorithm, &mut rng);
            let kid = key.public_key()?.kid().to_string();
            write_sealed(dir, &key_file(&kid), &key, cipher)?;
            let der = signing_certificate(&key, &root_key, &root, organization, random_serial(&mut rng), now)?;
            write_new(&dir.join(cert_file(&kid)), certificate_pem(&der)?.as_bytes(), 0o644)?;
            tracing::info!(kid = %kid, algorithm = %algorithm, "created a new report signing key");
            published = scan_signing_certificates(dir, &root)?;
        }
        let chosen = current(&published, algorithm, now)
            .ok_or_else(|| KeyError::Store(format!("{}: no usable signing key after creating one", dir.display())))?;
        let key = read_sealed(dir, &key_file(&chosen.kid), cipher)?
            .ok_or_else(|| store_error(dir, &key_file(&chosen.kid), "is missing"))?;
        let signer = Signer::new(key, chosen.certificate_der.clone(), vec![root.clone()])?;
        Ok(KeyStore { dir: dir.to_path_buf(), root, signer, published })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key reports are signed with now.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    pub fn into_signer(self) -> Signer {
        self.signer
    }

    /// The root certificate (DER), the trust anchor for our reports.
    pub fn root_certificate_der(&self) -> &[u8] {
        &self.root
    }

    /// Every signing certificate the root issued in this directory, current
    /// and retired, oldest first.
    pub fn published_keys(&self) -> &[PublishedKey] {
        &self.published
    }

    /// Rotates the signing key of `algorithm`: a new key whose certificate
    /// starts at `now` becomes the one reports are signed with; the old ones
    /// stay on disk and published (retired at `now`), so the reports they
    /// signed keep verifying while new signatures by them are refused.
    ///
    /// Creates the root and a first key instead when there are none yet.
    /// Refuses a second rotation within the same second: certificate times
    /// have one-second resolution, and two keys starting together would make
    /// the windows ambiguous.
    pub fn rotate(
        dir: &Path,
        algorithm: KeyAlgorithm,
        organization: &str,
        cipher: &FieldCipher,
        now: DateTime<Utc>,
    ) -> Result<PublishedKey, KeyError> {
        let keys_before = match read_certificate(dir, ROOT_CERT)? {
            Some(root) if dir.is_dir() => {
                scan_signing_certificates(dir, &root)?.iter().filter(|k| k.algorithm == algorithm).count()
            }
            _ => 0,
        };
        let store = KeyStore::load_or_create(dir, algorithm, organization, cipher, now)?;
        let newest = store.published.iter().filter(|k| k.algorithm == algorithm).max_by_key(|k| k.not_before);
        // Certificate times are whole seconds: a key made earlier in this
        // second would start at the same time as the new one.
        if let Some(newest) = newest.filter(|k| k.not_before.timestamp() >= now.timestamp()) {
            if keys_before == 0 {
                // load_or_create just made the first key: nothing to rotate away from.
                return Ok(newest.clone());
            }
            return Err(KeyError::Store(format!(
                "{}: the newest {algorithm} key starts at {}; rotate after that second",
                dir.display(),
                newest.not_before
            )));
        }
        let root_key = read_sealed(dir, ROOT_KEY, cipher)?.ok_or_else(|| store_error(dir, ROOT_KEY, "is missing"))?;
        let mut rng = rand::rng();
        let key = KeyPair::generate(algorithm, &mut rng);
        let kid = key.public_key()?.kid().to_string();
        write_sealed(dir, &key_file(&kid), &key, cipher)?;
        let der = signing_certificate(&key, &root_key, &store.root, organization, random_serial(&mut rng), now)?;
        write_new(&dir.join(cert_file(&kid)), certificate_pem(&der)?.as_bytes(), 0o644)?;
        tracing::info!(kid = %kid, algorithm = %algorithm, "rotated the report signing key");
        scan_signing_certificates(dir, &store.root)?
            .into_iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| store_error(dir, &cert_file(&kid), "vanished"))
    }
}

/// The root certificate in `dir` (DER), if there is one.
pub(super) fn read_root_certificate(dir: &Path) -> Result<Option<Vec<u8>>, KeyError> {
    read_certificate(dir, ROOT_CERT)
}

fn key_file(kid: &str) -> String {
    format!("signing-{kid}.key.sealed")
}

fn cert_file(kid: &str) -> String {
    format!("signing-{kid}.pem")
}

fn seal_context(file_name: &str) -> String {
    format!("standing/keys/{file_name}")
}

fn current(published: &[PublishedKey], algorithm: KeyAlgorithm, now: DateTime<Utc>) -> Option<&PublishedKey> {
    published
        .iter()
        .filter(|k| k.algorithm == algorithm && k.not_before <= now && now <= k.not_after)
        .max_by(|a, b| a.not_before.cmp(&b.not_before).then_with(|| a.kid.cmp(&b.kid)))
}

fn random_serial(rng: &mut impl RngCore) -> u64 {
    // Positive and non-zero (RFC 5280 4.1.2.2), 63 bits of randomness.
    (rng.next_u64() >> 1).max(1)
}

fn store_error(dir: &Path, file: &str, what: &str) -> KeyError {
    KeyError::Store(format!("{} {what}", dir.join(file).display()))
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io { path: path.display().to_string(), source }
}

/// Signing certificates named `signing-<kid>.pem` that the root issued and
/// whose file name matches their key.
pub(super) fn scan_signing_certificates(dir: &Path, root: &[u8]) -> Result<Vec<PublishedKey>, KeyError> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let file_name = entry.file_name();
        let Some(kid) =
            file_name.to_str().and_then(|n| n.strip_prefix("signing-")).and_then(|n| n.strip_suffix(".pem"))
        else {
            continue;
        };
        let Some(der) = read_certificate(dir, &cert_file(kid))? else { continue };
        if let Err(e) = verify_issued_by(&der, root) {
            tracing::warn!(kid = %kid, error = %e, "ignoring a signing certificate not issued by the root");
            continue;
        }
        let summary = summarize(&der)?;
        if summary.public_key.kid() != kid {
            tracing::warn!(kid = %kid, "ignoring a signing certificate whose file name does not match its key");
            continue;
        }
        found.push(PublishedKey::described(der, vec![root.to_vec()], &summary, Some(root)));
    }
    found.sort_by(|a, b| a.not_before.cmp(&b.not_before).then_with(|| a.kid.cmp(&b.kid)));
    assign_retirement(&mut found);
    Ok(found)
}

fn read_certificate(dir: &Path, file: &str) -> Result<Option<Vec<u8>>, KeyError> {
    let path = dir.join(file);
    let Some(text) = read_optional(&path)? else { return Ok(None) };
    let mut certs = parse_certificate_pem_chain(&text)?;
    if certs.len() != 1 {
        return Err(store_error(dir, file, "should hold exactly one certificate"));
    }
    Ok(certs.pop())
}

fn read_sealed(dir: &Path, file: &str, cipher: &FieldCipher) -> Result<Option<KeyPair>, KeyError> {
    let path = dir.join(file);
    let Some(sealed) = read_optional(&path)? else { return Ok(None) };
    let der = Zeroizing::new(
        cipher.open(&sealed, &seal_context(file)).map_err(|_| KeyError::Sealed { path: path.display().to_string() })?,
    );
    KeyPair::from_pkcs8_der(&der).map(Some)
}

fn write_sealed(dir: &Path, file: &str, key: &KeyPair, cipher: &FieldCipher) -> Result<(), KeyError> {
    let der = key.to_pkcs8_der()?;
    write_new(&dir.join(file), &cipher.seal(&der, &seal_context(file)), 0o600)
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, KeyError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path)(e)),
    }
}

fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    if dir.is_dir() {
        return Ok(());
    }
    crate::files::create_private_dir(dir).map_err(io_error(dir))
}

/// Writes `bytes` to `path` unless it exists: the content goes to a
/// temporary file first and is then hard-linked into place, so readers never
/// see a partial file and a concurrent writer's file is kept, not replaced.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    let mut suffix = [0u8; 8];
    rand::rng().fill_bytes(&mut suffix);
    let tmp = path.with_extension(format!("tmp-{}", hex::encode(suffix)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let result =
        options.open(&tmp).and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all())).and_then(|()| {
            match std::fs::hard_link(&tmp, path) {
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                other => other,
            }
        });
    let _ = std::fs::remove_file(&tmp);
    result.map_err(io_error(path))
}

#[cfg(test)]
mod tests;
