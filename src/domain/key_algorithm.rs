//! The signature algorithms a report can be signed with: named in settings,
//! keys, certificates and the published JWKS, so every layer shares this one
//! type (it lives here, below all of them).

use std::fmt;
use std::str::FromStr;

/// The signature algorithms a report can be signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum KeyAlgorithm {
    /// EdDSA over Curve25519 (RFC 8032), in CMS per RFC 8419, in PDF per ISO/TS 32002.
    #[serde(rename = "ed25519")]
    Ed25519,
    /// ECDSA over NIST P-256 with SHA-256 (RFC 5758): the default, since
    /// Acrobat and poppler's pdfsig know ECDSA but not EdDSA.
    #[serde(rename = "ecdsa-p256")]
    EcdsaP256,
}

impl KeyAlgorithm {
    /// The name used in settings and file names: `ed25519`, `ecdsa-p256`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::Ed25519 => "ed25519",
            KeyAlgorithm::EcdsaP256 => "ecdsa-p256",
        }
    }

    /// The JOSE `alg` name (RFC 8037, RFC 7518): `EdDSA`, `ES256`.
    pub fn jose_alg(self) -> &'static str {
        match self {
            KeyAlgorithm::Ed25519 => "EdDSA",
            KeyAlgorithm::EcdsaP256 => "ES256",
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`KeyAlgorithm`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported signature algorithm `{0}` (expected ecdsa-p256 or ed25519)")]
pub struct UnknownAlgorithm(pub String);

impl FromStr for KeyAlgorithm {
    type Err = UnknownAlgorithm;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ed25519" | "eddsa" => Ok(KeyAlgorithm::Ed25519),
            "ecdsa-p256" | "p256" | "p-256" | "es256" => Ok(KeyAlgorithm::EcdsaP256),
            other => Err(UnknownAlgorithm(other.to_string())),
        }
    }
}

/// Read as [`FromStr`] reads it: the names, their aliases, any case.
impl<'de> serde::Deserialize<'de> for KeyAlgorithm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
