//! Signing keys and their certificates.
//!
//! A report is signed by a [`Signer`]: a private key (ECDSA P-256 by
//! default, which Acrobat and poppler's pdfsig can check; Ed25519 as an
//! option), the X.509 certificate of its public key and the chain above it.
//! The certificate is issued by the service's own root ([`KeyStore`], an
//! ECDSA P-256 root with keys sealed under the master key on disk) or
//! supplied by the operator ([`Signer::from_operator`]).
//!
//! Keys are named by their `kid`: the RFC 7638 JWK thumbprint of the public
//! key, which is what `/.well-known/jwks.json` publishes and the report prints.

mod cert;
mod configured;
mod jwk;
mod ring;
mod store;

use std::fmt;
use std::path::Path;

use der::{Decode, Encode};
use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rand::RngCore;
use zeroize::Zeroizing;

pub use crate::domain::KeyAlgorithm;
use crate::domain::key_algorithm::UnknownAlgorithm;
pub use cert::{
    CertificateSummary, ROOT_COMMON_NAME, ROOT_VALIDITY_YEARS, SIGNING_COMMON_NAME, SIGNING_VALIDITY_YEARS,
    certificate_pem, chains_to, parse_certificate_pem_chain, root_certificate, signing_certificate, summarize,
    verify_issued_by,
};
pub use configured::{key_dir, load_signer, published_keys};
pub use jwk::PublicKey;
pub use ring::KeyRing;
pub use store::{KeyStatus, KeyStore, PublishedKey, ROOT_ALGORITHM};

/// `id-Ed25519` (RFC 8410).
pub(crate) const OID_ED25519: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("1.3.101.112");
/// `id-ecPublicKey` (RFC 5480).
pub(crate) const OID_EC_PUBLIC_KEY: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `secp256r1` / P-256 (RFC 5480).
pub(crate) const OID_P256: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// `ecdsa-with-SHA256` (RFC 5758).
pub(crate) const OID_ECDSA_WITH_SHA256: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot be opened with this master key (wrong key, or the file was altered)")]
    Sealed { path: String },
    #[error("unsupported key algorithm: {0}")]
    UnsupportedAlgorithm(String),
    #[error("malformed key: {0}")]
    MalformedKey(String),
    #[error("malformed certificate: {0}")]
    MalformedCertificate(String),
    #[error("the private key does not belong to the certificate's public key")]
    KeyCertificateMismatch,
    #[error("certificate {subject} is not issued by {issuer}: {reason}")]
    NotIssuedBy { subject: String, issuer: String, reason: String },
    #[error("building a certificate failed: {0}")]
    Builder(String),
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("signature does not verify")]
    BadSignature,
    #[error("{0}")]
    Store(String),
}

impl From<UnknownAlgorithm> for KeyError {
    fn from(e: UnknownAlgorithm) -> Self {
        KeyError::UnsupportedAlgorithm(e.0)
    }
}

impl From<der::Error> for KeyError {
    fn from(e: der::Error) -> Self {
        KeyError::MalformedCertificate(e.to_string())
    }
}

pub(crate) enum PrivateKey {
    Ed25519(ed25519_dalek::SigningKey),
    EcdsaP256(p256::ecdsa::SigningKey),
}

/// A private signing key. Never printed; the key material is wiped on drop
/// by the underlying key types.
pub struct KeyPair {
    pub(crate) key: PrivateKey,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPair({}, [redacted])", self.algorithm())
    }
}

impl KeyPair {
    /// A fresh key from `rng` (the operating system's generator in production,
    /// a seeded one in tests).
    pub fn generate(algorithm: KeyAlgorithm, rng: &mut impl RngCore) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        match algorithm {
            KeyAlgorithm::Ed25519 => {
                rng.fill_bytes(seed.as_mut());
                KeyPair { key: PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed)) }
            }
            KeyAlgorithm::EcdsaP256 => loop {
                // A 32-byte string is a valid scalar unless it is zero or at
                // least the group order: a chance of about 2^-32.
                rng.fill_bytes(seed.as_mut());
                if let Ok(key) = p256::ecdsa::SigningKey::from_slice(seed.as_ref()) {
                    break KeyPair { key: PrivateKey::EcdsaP256(key) };
                }
            },
        }
    }

    /// An Ed25519 key from its 32-byte secret (RFC 8032 seed).
    pub fn ed25519_from_seed(seed: &[u8; 32]) -> Self {
        KeyPair { key: PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(seed)) }
    }

    /// A key from PKCS#8 `PrivateKeyInfo` DER (RFC 5958), Ed25519 or P-256.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = pkcs8::PrivateKeyInfoRef::from_der(der).map_err(|e| KeyError::MalformedKey(e.to_string()))?;
        let oid = info.algorithm.oid;
        if oid == OID_ED25519 {
            let key =
                ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(|e| KeyError::MalformedKey(e.to_string()))?;
            Ok(KeyPair { key: PrivateKey::Ed25519(key) })
        } else if oid == OID_EC_PUBLIC_KEY {
            let key = p256::ecdsa::SigningKey::from_pkcs8_der(der)
                .map_err(|e| KeyError::UnsupportedAlgorithm(format!("EC key not on P-256 ({e})")))?;
            Ok(KeyPair { key: PrivateKey::EcdsaP256(key) })
        } else {
            Err(KeyError::UnsupportedAlgorithm(oid.to_string()))
        }
    }

    /// A key from a PEM `PRIVATE KEY` (unencrypted PKCS#8).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        let (label, der) =
            pkcs8::SecretDocument::from_pem(pem).map_err(|e| KeyError::MalformedKey(format!("PEM: {e}")))?;
        if label != "PRIVATE KEY" {
            return Err(KeyError::MalformedKey(format!("expected a PEM PRIVATE KEY (PKCS#8), found {label}")));
        }
        Self::from_pkcs8_der(der.as_bytes())
    }

    /// PKCS#8 `PrivateKeyInfo` DER; wiped from memory when dropped.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let doc = match &self.key {
            PrivateKey::Ed25519(k) => k.to_pkcs8_der(),
            PrivateKey::EcdsaP256(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| KeyError::MalformedKey(e.to_string()))?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        match self.key {
            PrivateKey::Ed25519(_) => KeyAlgorithm::Ed25519,
            PrivateKey::EcdsaP256(_) => KeyAlgorithm::EcdsaP256,
        }
    }

    /// The public key as `SubjectPublicKeyInfo` DER.
    pub fn public_key_spki_der(&self) -> Result<Vec<u8>, KeyError> {
        let doc = match &self.key {
            PrivateKey::Ed25519(k) => k.verifying_key().to_public_key_der(),
            PrivateKey::EcdsaP256(k) => k.verifying_key().to_public_key_der(),
        }
        .map_err(|e| KeyError::MalformedKey(e.to_string()))?;
        Ok(doc.as_bytes().to_vec())
    }

    pub fn public_key(&self) -> Result<PublicKey, KeyError> {
        PublicKey::from_spki_der(&self.public_key_spki_der()?)
    }

    /// Signs `message`: Ed25519 gives the 64-byte signature (RFC 8032);
    /// ECDSA P-256 hashes with SHA-256 and gives the DER `Ecdsa-Sig-Value`,
    /// with the nonce derived per RFC 6979 (the same input gives the same
    /// signature).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        use signature::Signer as _;
        match &self.key {
            PrivateKey::Ed25519(k) => {
                let sig: ed25519_dalek::Signature =
                    k.try_sign(message).map_err(|e| KeyError::Signing(e.to_string()))?;
                Ok(sig.to_bytes().to_vec())
            }
            PrivateKey::EcdsaP256(k) => {
                let sig: p256::ecdsa::Signature = k.try_sign(message).map_err(|e| KeyError::Signing(e.to_string()))?;
                // Low S: the only form verifiers here accept (see `PublicKey::verify`).
                Ok(sig.normalize_s().to_der().as_bytes().to_vec())
            }
        }
    }
}

/// A key ready to sign reports: the private key, its certificate, the chain
/// above it and its `kid`.
pub struct Signer {
    key: KeyPair,
    public: PublicKey,
    certificate: Vec<u8>,
    chain: Vec<Vec<u8>>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("algorithm", &self.algorithm())
            .field("kid", &self.kid())
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// `certificate_der` must certify `key`'s public key; `chain_der` are
    /// the certificates above it, issuer first, up to and including the root.
    pub fn new(key: KeyPair, certificate_der: Vec<u8>, chain_der: Vec<Vec<u8>>) -> Result<Self, KeyError> {
        let cert = x509_cert::Certificate::from_der(&certificate_der)?;
        let cert_spki = cert.tbs_certificate().subject_public_key_info().to_der()?;
        if cert_spki != key.public_key_spki_der()? {
            return Err(KeyError::KeyCertificateMismatch);
        }
        for der in &chain_der {
            x509_cert::Certificate::from_der(der)?;
        }
        let public = PublicKey::from_spki_der(&cert_spki)?;
        Ok(Signer { key, public, certificate: certificate_der, chain: chain_der })
    }

    /// An operator-supplied key: `chain_pem` holds the signing certificate
    /// first, then its issuers; `key_pem` the unencrypted PKCS#8 private key
    /// (keeping that file private is the operator's responsibility).
    pub fn from_operator(chain_pem: &Path, key_pem: &Path) -> Result<Self, KeyError> {
        let chain_text = read_file(chain_pem)?;
        let key_text = Zeroizing::new(String::from_utf8_lossy(&read_file(key_pem)?).into_owned());
        let mut certs = parse_certificate_pem_chain(&chain_text)?;
        if certs.is_empty() {
            return Err(KeyError::MalformedCertificate(format!("{}: no CERTIFICATE in file", chain_pem.display())));
        }
        let leaf = certs.remove(0);
        let key = KeyPair::from_pkcs8_pem(&key_text)?;
        Signer::new(key, leaf, certs)
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        self.key.algorithm()
    }

    /// RFC 7638 JWK thumbprint (SHA-256, base64url without padding).
    pub fn kid(&self) -> &str {
        self.public.kid()
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The signing certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate
    }

    /// The certificates above the signing certificate, issuer first.
    pub fn chain_der(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// The public key as a JWK with `kid`, `alg` and `use`.
    pub fn jwk(&self) -> serde_json::Value {
        self.public.jwk()
    }

    /// See [`KeyPair::sign`].
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.key.sign(message)
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Io { path: path.display().to_string(), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn algorithm_names_round_trip() {
        for alg in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
            assert_eq!(alg.as_str().parse::<KeyAlgorithm>().unwrap(), alg);
        }
        assert!("rsa".parse::<KeyAlgorithm>().is_err());
        assert_eq!(KeyAlgorithm::Ed25519.jose_alg(), "EdDSA");
        assert_eq!(KeyAlgorithm::EcdsaP256.jose_alg(), "ES256");
    }

    #[test]
    fn pkcs8_round_trip_and_sign_verify() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        for alg in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
            let key = KeyPair::generate(alg, &mut rng);
            let der = key.to_pkcs8_der().unwrap();
            let again = KeyPair::from_pkcs8_der(&der).unwrap();
            assert_eq!(again.algorithm(), alg);
            assert_eq!(again.public_key_spki_der().unwrap(), key.public_key_spki_der().unwrap());
            let sig = key.sign(b"message").unwrap();
            assert_eq!(sig, key.sign(b"message").unwrap(), "{alg} signing is deterministic");
            let public = key.public_key().unwrap();
            public.verify(b"message", &sig).unwrap();
            assert!(public.verify(b"messagf", &sig).is_err());
            assert!(format!("{key:?}").contains("redacted"));
        }
        assert!(KeyPair::from_pkcs8_der(b"not a key").is_err());
    }

    #[test]
    fn a_p256_signature_has_one_accepted_encoding() {
        let key = KeyPair::generate(KeyAlgorithm::EcdsaP256, &mut rand_chacha::ChaCha20Rng::seed_from_u64(3));
        let public = key.public_key().unwrap();
        for n in 0..20u8 {
            let message = [n; 16];
            let der = key.sign(&message).unwrap();
            public.verify_canonical(&message, &der).unwrap();
            // The same signature with S mirrored (n - s) is mathematically
            // valid; it must still be refused, or a signed file could be
            // re-encoded and keep verifying.
            let sig = p256::ecdsa::Signature::from_der(&der).unwrap();
            let mirrored = p256::ecdsa::Signature::from_scalars(sig.r(), -sig.s()).unwrap();
            assert!(public.verify(&message, mirrored.to_der().as_bytes()).is_ok(), "valid ECDSA");
            assert!(public.verify_canonical(&message, mirrored.to_der().as_bytes()).is_err(), "but high S refused");
        }
    }
}
