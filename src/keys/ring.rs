//! The published keys, read-only: what a verifier needs and nothing more.
//!
//! A [`KeyRing`] holds the root certificate and every signing key the root
//! issued, current and retired, with their windows. It is read from the key
//! directory ([`KeyRing::load`], no master key needed: it never opens a
//! private key and never creates anything) or from a JWKS document
//! ([`KeyRing::from_jwks`]), and writes the JWKS the service publishes
//! ([`KeyRing::jwks`]).
//!
//! Each JWKS entry is a public JWK (RFC 7517; RFC 8037 `OKP`/`Ed25519` or
//! RFC 7518 `EC`/`P-256`) whose `kid` is its RFC 7638 thumbprint, with
//! `alg`, `use: "sig"`, `x5c` (the signing certificate, then the
//! certificates above it that its signatures carry, up to the root; standard
//! base64 DER, RFC 7517 4.7) and `x5t#S256` (RFC 7517 4.9), plus
//! members of our own (RFC 7517 4 allows them; clients ignore what they do
//! not know):
//!
//! - `not_before`, `not_after`: the signing certificate's validity (RFC 3339);
//! - `retired_at`: when the next key of the same algorithm took over, or
//!   `null` for the current key; a report signed by this key after that
//!   moment is refused;
//! - `status`: `active`, `retired`, `expired` (or `pending`) when the
//!   document was made.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::KeyError;
use super::cert::{certificate_pem, chains_to, parse_certificate_pem_chain, summarize, verify_issued_by};
use super::store::{PublishedKey, assign_retirement, read_root_certificate, scan_signing_certificates};

/// The root certificate and the published signing keys, oldest first.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    /// The trust anchor (DER); `None` when a JWKS came without one.
    pub root_der: Option<Vec<u8>>,
    pub keys: Vec<PublishedKey>,
}

impl KeyRing {
    /// The keys in a key directory (`var/keys`): `root.pem` and every
    /// `signing-<kid>.pem` the root issued. Never creates or opens a private
    /// key.
    pub fn load(dir: &Path) -> Result<Self, KeyError> {
        let root = read_root_certificate(dir)?.ok_or_else(|| {
            KeyError::Store(format!(
                "{}: no root.pem (no keys yet: they are made when the first report is signed)",
                dir.display()
            ))
        })?;
        let keys = scan_signing_certificates(dir, &root)?;
        Ok(KeyRing { root_der: Some(root), keys })
    }

    /// The keys of a JWKS document as [`KeyRing::jwks`] writes it. Each key
    /// needs its `x5c` chain (the windows come from the certificate, not
    /// from our extra members) and must match its certificate. The root is
    /// `root_pem` when given; otherwise the self-signed last certificate of
    /// the chains, which is only as trustworthy as the channel the JWKS came
    /// over.
    pub fn from_jwks(jwks: &Value, root_pem: Option<&str>) -> Result<Self, KeyError> {
        let bad = |what: String| KeyError::MalformedKey(format!("JWKS: {what}"));
        let entries = jwks.get("keys").and_then(Value::as_array).ok_or_else(|| bad("no `keys` array".into()))?;
        let mut root_der = match root_pem {
            Some(pem) => {
                let mut certs = parse_certificate_pem_chain(pem.as_bytes())?;
                if certs.len() != 1 {
                    return Err(KeyError::MalformedCertificate("the root PEM should hold one certificate".into()));
                }
                certs.pop()
            }
            None => None,
        };
        let from_pem = root_der.is_some();
        let mut keys = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let kid = entry.get("kid").and_then(Value::as_str).ok_or_else(|| bad(format!("key {i} has no kid")))?;
            let chain: Vec<Vec<u8>> = entry
                .get("x5c")
                .and_then(Value::as_array)
                .ok_or_else(|| bad(format!("key {kid} has no x5c")))?
                .iter()
                .map(|c| c.as_str().and_then(|s| B64.decode(s).ok()))
                .collect::<Option<_>>()
                .ok_or_else(|| bad(format!("key {kid}: x5c is not base64 DER")))?;
            let leaf = chain.first().ok_or_else(|| bad(format!("key {kid}: x5c is empty")))?;
            let summary = summarize(leaf)?;
            let public = summary.public_key.jwk();
            let members: &[&str] = if public["kty"] == "EC" { &["kty", "crv", "x", "y"] } else { &["kty", "crv", "x"] };
            if summary.public_key.kid() != kid || members.iter().any(|m| entry.get(*m) != public.get(*m)) {
                return Err(bad(format!("key {kid} does not match its certificate")));
            }
            if !from_pem && let Some(last) = chain.last().filter(|c| chain.len() > 1 && verify_issued_by(c, c).is_ok())
            {
                match &root_der {
                    None => root_der = Some(last.clone()),
                    Some(r) if r == last => {}
                    Some(_) => return Err(bad("the keys' chains end in different roots".into())),
                }
            }
            let chain = chain.get(1..).unwrap_or_default().to_vec();
            keys.push(PublishedKey::described(leaf.clone(), chain, &summary, None));
        }
        keys.sort_by(|a, b| a.not_before.cmp(&b.not_before).then_with(|| a.kid.cmp(&b.kid)));
        assign_retirement(&mut keys);
        Ok(KeyRing { root_der, keys })
    }

    /// A ring from a root and signing certificates (DER) that the root
    /// issued directly, as the key directory's are: each signature carries
    /// the signing certificate and then the root. See
    /// [`KeyRing::from_signing_chains`].
    pub fn from_certificates(root_der: Option<Vec<u8>>, certificates: &[Vec<u8>]) -> Result<Self, KeyError> {
        let chains: Vec<Vec<Vec<u8>>> =
            certificates.iter().map(|leaf| std::iter::once(leaf.clone()).chain(root_der.clone()).collect()).collect();
        Self::from_signing_chains(root_der, &chains)
    }

    /// A ring from a root and, per signing key, the certificates its
    /// signatures carry (DER, the signing certificate first, then its
    /// issuers as the signer writes them). Each key is described by its
    /// certificate, windows computed from their start times. Each
    /// certificate is checked against the root here, once, rather than for
    /// every report it verifies; one the root did not issue stays listed and
    /// its reports fail as untrusted.
    pub fn from_signing_chains(root_der: Option<Vec<u8>>, chains: &[Vec<Vec<u8>>]) -> Result<Self, KeyError> {
        let mut keys = Vec::with_capacity(chains.len());
        for chain in chains {
            let Some((der, above)) = chain.split_first() else {
                return Err(KeyError::MalformedCertificate("an empty signing chain".into()));
            };
            let summary = summarize(der)?;
            let checked_root = root_der.as_deref().filter(|root| chains_to(der, above, root));
            keys.push(PublishedKey::described(der.clone(), above.to_vec(), &summary, checked_root));
        }
        keys.sort_by(|a, b| a.not_before.cmp(&b.not_before).then_with(|| a.kid.cmp(&b.kid)));
        assign_retirement(&mut keys);
        Ok(KeyRing { root_der, keys })
    }

    /// The ring of an operator-supplied signing chain (DER, the signing
    /// certificate first, then its issuers, as in `report.signing_chain`):
    /// one key, whose signatures carry the rest of the chain, under the
    /// chain's last certificate as root.
    ///
    /// The chain file is the operator's trust decision, as `root.pem` is in
    /// the key directory: the signing certificate it names is the one
    /// trusted, byte for byte. Each link's signature is checked where this
    /// crate can (ECDSA P-256, Ed25519 issuers); a link signed with another
    /// algorithm (RSA and P-384 are common among CAs that Acrobat trusts)
    /// is taken as configured, and Acrobat checks it. A link that can be
    /// checked and fails leaves the key untrusted: the chain is wrong.
    pub fn from_operator_chain(chain: Vec<Vec<u8>>) -> Result<Self, KeyError> {
        let (Some(leaf), Some(root)) = (chain.first().cloned(), chain.last().cloned()) else {
            return Err(KeyError::MalformedCertificate("an empty signing chain".into()));
        };
        let mut sound = true;
        for link in chain.windows(2) {
            match verify_issued_by(&link[0], &link[1]) {
                Ok(()) => {}
                Err(KeyError::UnsupportedAlgorithm(alg)) => {
                    tracing::info!(algorithm = %alg, "the signing chain has a link this service cannot check; taken as configured");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the configured signing chain is broken: reports signed with it will not verify");
                    sound = false;
                }
            }
        }
        let summary = summarize(&leaf)?;
        let above = chain.get(1..).unwrap_or_default().to_vec();
        let key = PublishedKey::described(leaf, above, &summary, sound.then_some(root.as_slice()));
        let mut keys = vec![key];
        assign_retirement(&mut keys);
        Ok(KeyRing { root_der: Some(root), keys })
    }

    /// The `/.well-known/jwks.json` document: every key ever used, with its
    /// window and its status at `now` (see the module documentation).
    pub fn jwks(&self, now: DateTime<Utc>) -> Value {
        let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let keys: Vec<Value> = self
            .keys
            .iter()
            .map(|k| {
                let mut jwk = k.jwk.clone();
                // RFC 7517 4.7: the key's certificate, then each one that
                // certified the previous: exactly what its signatures carry.
                let x5c: Vec<Value> = std::iter::once(&k.certificate_der)
                    .chain(&k.chain)
                    .map(|der| Value::String(B64.encode(der)))
                    .collect();
                if let Some(members) = jwk.as_object_mut() {
                    members.insert("x5c".into(), Value::Array(x5c));
                    members.insert("x5t#S256".into(), B64URL.encode(Sha256::digest(&k.certificate_der)).into());
                    members.insert("not_before".into(), time(k.not_before).into());
                    members.insert("not_after".into(), time(k.not_after).into());
                    members.insert("retired_at".into(), k.retired_at.map(time).into());
                    members.insert("status".into(), k.status(now).as_str().into());
                }
                jwk
            })
            .collect();
        json!({ "keys": keys })
    }

    /// The root certificate as PEM, for viewers' trust lists.
    pub fn root_pem(&self) -> Option<String> {
        self.root_der.as_deref().and_then(|der| certificate_pem(der).ok())
    }

    /// The key named `kid`.
    pub fn find(&self, kid: &str) -> Option<&PublishedKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }
}
