//! Public keys: from `SubjectPublicKeyInfo`, as JWK (RFC 7517, RFC 8037),
//! their RFC 7638 thumbprint (our `kid`), and signature verification.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use der::Decode;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{KeyAlgorithm, KeyError, OID_EC_PUBLIC_KEY, OID_ED25519, OID_P256};

#[derive(Clone, PartialEq, Eq)]
enum Point {
    Ed25519([u8; 32]),
    /// Affine coordinates, big-endian.
    P256 {
        x: [u8; 32],
        y: [u8; 32],
    },
}

/// A signature verification key and its `kid`.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    point: Point,
    kid: String,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({}, kid={})", self.algorithm(), self.kid)
    }
}

impl PublicKey {
    /// From `SubjectPublicKeyInfo` DER (as in a certificate): Ed25519 (RFC
    /// 8410) or an uncompressed P-256 point (RFC 5480).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let spki = spki::SubjectPublicKeyInfoRef::from_der(der).map_err(|e| KeyError::MalformedKey(e.to_string()))?;
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| KeyError::MalformedKey("public key has unused bits".into()))?;
        let point = if spki.algorithm.oid == OID_ED25519 {
            let x: [u8; 32] =
                bits.try_into().map_err(|_| KeyError::MalformedKey("Ed25519 public key is not 32 bytes".into()))?;
            // Reject encodings that are not points on the curve.
            ed25519_dalek::VerifyingKey::from_bytes(&x).map_err(|e| KeyError::MalformedKey(e.to_string()))?;
            Point::Ed25519(x)
        } else if spki.algorithm.oid == OID_EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<der::oid::ObjectIdentifier>().ok())
                .ok_or_else(|| KeyError::MalformedKey("EC key without a named curve".into()))?;
            if curve != OID_P256 {
                return Err(KeyError::UnsupportedAlgorithm(format!("EC curve {curve}")));
            }
            let key =
                p256::ecdsa::VerifyingKey::from_sec1_bytes(bits).map_err(|e| KeyError::MalformedKey(e.to_string()))?;
            let sec1 = key.to_sec1_bytes();
            let (x, y) = match sec1.get(1..33).zip(sec1.get(33..65)) {
                Some((x, y)) if sec1.len() == 65 => (x, y),
                _ => return Err(KeyError::MalformedKey("P-256 point is not uncompressed".into())),
            };
            let mut xa = [0u8; 32];
            let mut ya = [0u8; 32];
            xa.copy_from_slice(x);
            ya.copy_from_slice(y);
            Point::P256 { x: xa, y: ya }
        } else {
            return Err(KeyError::UnsupportedAlgorithm(spki.algorithm.oid.to_string()));
        };
        let kid = thumbprint(&point);
        Ok(PublicKey { point, kid })
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        match self.point {
            Point::Ed25519(_) => KeyAlgorithm::Ed25519,
            Point::P256 { .. } => KeyAlgorithm::EcdsaP256,
        }
    }

    /// RFC 7638 JWK SHA-256 thumbprint, base64url without padding.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK: `{"kty":"OKP","crv":"Ed25519","x":..}` (RFC 8037) or
    /// `{"kty":"EC","crv":"P-256","x":..,"y":..}`, with `kid`, `alg`, `use`.
    pub fn jwk(&self) -> serde_json::Value {
        let alg = self.algorithm().jose_alg();
        match &self.point {
            Point::Ed25519(x) => json!({
                "kty": "OKP", "crv": "Ed25519", "x": B64URL.encode(x),
                "kid": self.kid, "alg": alg, "use": "sig",
            }),
            Point::P256 { x, y } => json!({
                "kty": "EC", "crv": "P-256", "x": B64URL.encode(x), "y": B64URL.encode(y),
                "kid": self.kid, "alg": alg, "use": "sig",
            }),
        }
    }

    /// Like [`PublicKey::verify`], and the signature must be in the one
    /// encoding our signer writes. ECDSA signatures are malleable — (r, n - s)
    /// verifies too, and DER can be padded — so without this a signed file
    /// could be re-encoded into other bytes that still verify. (Ed25519 is
    /// checked strictly either way.)
    pub fn verify_canonical(&self, message: &[u8], signature: &[u8]) -> Result<(), KeyError> {
        if let Point::P256 { .. } = &self.point {
            let sig = p256::ecdsa::Signature::from_der(signature).map_err(|_| KeyError::BadSignature)?;
            if sig.normalize_s() != sig || sig.to_der().as_bytes() != signature {
                return Err(KeyError::BadSignature);
            }
        }
        self.verify(message, signature)
    }

    /// Checks `signature` over `message`: Ed25519 (64 bytes, strict RFC 8032
    /// verification) or ECDSA P-256 with SHA-256 (DER `Ecdsa-Sig-Value`).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), KeyError> {
        match &self.point {
            Point::Ed25519(x) => {
                let key = ed25519_dalek::VerifyingKey::from_bytes(x).map_err(|_| KeyError::BadSignature)?;
                let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| KeyError::BadSignature)?;
                key.verify_strict(message, &sig).map_err(|_| KeyError::BadSignature)
            }
            Point::P256 { x, y } => {
                use signature::Verifier as _;
                let mut sec1 = [0u8; 65];
                sec1[0] = 4;
                sec1[1..33].copy_from_slice(x);
                sec1[33..].copy_from_slice(y);
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| KeyError::BadSignature)?;
                let sig = p256::ecdsa::Signature::from_der(signature).map_err(|_| KeyError::BadSignature)?;
                key.verify(message, &sig).map_err(|_| KeyError::BadSignature)
            }
        }
    }
}

/// RFC 7638: SHA-256 over the required members in lexicographic order, no
/// whitespace.
fn thumbprint(point: &Point) -> String {
    let canonical = match point {
        Point::Ed25519(x) => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, B64URL.encode(x)),
        Point::P256 { x, y } => {
            format!(r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#, B64URL.encode(x), B64URL.encode(y))
        }
    };
    B64URL.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;

    /// RFC 8037 appendix A.1 (private key) and A.3 (thumbprint).
    #[test]
    fn rfc8037_thumbprint() {
        let d = B64URL.decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A").unwrap();
        let key = KeyPair::ed25519_from_seed(&d.try_into().unwrap());
        let public = key.public_key().unwrap();
        let jwk = public.jwk();
        assert_eq!(jwk["x"], "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
        assert_eq!(public.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
        assert_eq!(jwk["kid"], "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(jwk["alg"], "EdDSA");
        assert_eq!(jwk["use"], "sig");
    }

    /// RFC 7638 section 3.1 describes the method; check the P-256 members
    /// and that x and y are the coordinates of the point.
    #[test]
    fn p256_jwk_members() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let key = KeyPair::generate(KeyAlgorithm::EcdsaP256, &mut rng);
        let public = key.public_key().unwrap();
        let jwk = public.jwk();
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-256");
        assert_eq!(jwk["alg"], "ES256");
        let x = B64URL.decode(jwk["x"].as_str().unwrap()).unwrap();
        let y = B64URL.decode(jwk["y"].as_str().unwrap()).unwrap();
        let spki = key.public_key_spki_der().unwrap();
        assert!(spki.ends_with(&[&[4u8][..], &x, &y].concat()));
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap()
        );
        assert_eq!(public.kid(), B64URL.encode(Sha256::digest(canonical)));
    }
}
