//! CMS `SignedData` (RFC 5652) for a PAdES baseline B-B signature
//! (ETSI EN 319 142-1): detached, `id-data`, signed attributes content-type,
//! message-digest and signing-certificate-v2, no signing-time attribute (the
//! time is the `/M` entry of the signature dictionary).
//!
//! Ed25519 follows RFC 8419: SHA-512 message digest, signature algorithm
//! `id-Ed25519` without parameters, pure EdDSA over the DER of the signed
//! attributes. ECDSA P-256 uses SHA-256 and `ecdsa-with-SHA256`.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode, Sequence};
use sha2::{Digest, Sha256, Sha512};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

use super::{SignError, VerifyError};
use crate::keys::{CertificateSummary, KeyAlgorithm, PublicKey, Signer, summarize, verify_issued_by};

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const ID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// `SigningCertificateV2` (RFC 5035): the signer binds the hash of its own
/// certificate, so a look-alike certificate cannot be substituted.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EssCertIdV2 {
    /// DEFAULT id-sha256: absent in DER when SHA-256.
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// Hashes the concatenation of its parts.
type DigestFn = fn(&[&[u8]]) -> Vec<u8>;

/// The digest algorithm each signature algorithm is used with.
fn digest_for(algorithm: KeyAlgorithm) -> (ObjectIdentifier, DigestFn) {
    match algorithm {
        KeyAlgorithm::Ed25519 => (ID_SHA512, digest_parts::<Sha512>),
        KeyAlgorithm::EcdsaP256 => (ID_SHA256, digest_parts::<Sha256>),
    }
}

fn digest_parts<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
    let mut d = D::new();
    for part in parts {
        d.update(part);
    }
    d.finalize().to_vec()
}

fn algorithm_id(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid, parameters: None }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, der::Error> {
    Ok(Attribute { oid, values: SetOfVec::try_from(vec![value])? })
}

/// The DER `ContentInfo` holding a detached `SignedData` over `parts` (the
/// PDF byte ranges, in order).
pub(super) fn signed_data(signer: &Signer, parts: &[&[u8]]) -> Result<Vec<u8>, SignError> {
    let (_, digest) = digest_for(signer.algorithm());
    let message_digest = digest(parts);
    let leaf = Certificate::from_der(signer.certificate_der())?;
    let tbs = leaf.tbs_certificate();
    let (issuer, serial_number) = (tbs.issuer().clone(), tbs.serial_number().clone());

    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(Sha256::digest(signer.certificate_der()).to_vec())?,
            issuer_serial: Some(IssuerSerial { issuer: vec![GeneralName::DirectoryName(issuer)], serial_number }),
        }],
    };
    let signed_attrs: SignedAttributes = SetOfVec::try_from(vec![
        attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA)?)?,
        attribute(ID_MESSAGE_DIGEST, Any::encode_from(&OctetString::new(message_digest)?)?)?,
        attribute(ID_AA_SIGNING_CERTIFICATE_V2, Any::encode_from(&ess)?)?,
    ])?;
    // RFC 5652 5.4: the signature covers the DER of the attributes with the
    // SET OF tag, not the [0] IMPLICIT tag they carry inside SignerInfo.
    let signature = signer.sign(&signed_attrs.to_der()?)?;
    let mut certificates = vec![leaf];
    for der in signer.chain_der() {
        certificates.push(Certificate::from_der(der)?);
    }
    Ok(assemble(signer.algorithm(), certificates, signed_attrs, signature)?)
}

/// The DER `ContentInfo` our signer writes around a signature: also used by
/// verification to check that no unsigned part of a CMS was altered.
/// `certificates` starts with the signer's.
fn assemble(
    algorithm: KeyAlgorithm,
    certificates: Vec<Certificate>,
    signed_attrs: SignedAttributes,
    signature: Vec<u8>,
) -> Result<Vec<u8>, der::Error> {
    let (digest_oid, _) = digest_for(algorithm);
    let signature_oid = match algorithm {
        KeyAlgorithm::Ed25519 => ID_ED25519,
        KeyAlgorithm::EcdsaP256 => ECDSA_WITH_SHA256,
    };
    let tbs = certificates.first().map(|c| c.tbs_certificate()).ok_or(der::ErrorKind::Failed)?;
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: algorithm_id(digest_oid),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: algorithm_id(signature_oid),
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let certificates: Vec<CertificateChoices> = certificates.into_iter().map(CertificateChoices::Certificate).collect();
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![algorithm_id(digest_oid)])?,
        encap_content_info: EncapsulatedContentInfo { econtent_type: ID_DATA, econtent: None },
        certificates: Some(CertificateSet::try_from(certificates)?),
        crls: None,
        signer_infos: SignerInfos::try_from(vec![signer_info])?,
    };
    let info = ContentInfo { content_type: ID_SIGNED_DATA, content: Any::encode_from(&signed)? };
    info.to_der()
}

/// What a verified CMS signature tells.
#[derive(Debug, Clone)]
pub struct VerifiedSignature {
    pub algorithm: KeyAlgorithm,
    /// The signing key's `kid` (RFC 7638 thumbprint).
    pub kid: String,
    pub signer_certificate_der: Vec<u8>,
    pub signer: CertificateSummary,
}

fn malformed(what: impl std::fmt::Display) -> VerifyError {
    VerifyError::MalformedSignature(what.to_string())
}

/// What a structurally sound CMS signature says, before any verdict: the
/// signer's key and certificate, and whether the digest and the signature
/// hold. Keeping the two apart lets a verifier say *what* was altered: a
/// valid signature over a digest that no longer matches means the signed
/// bytes changed; an invalid one means the signature itself did.
#[derive(Debug, Clone)]
pub struct CmsFindings {
    pub public: PublicKey,
    pub leaf_der: Vec<u8>,
    /// Every certificate embedded in the signature, DER.
    pub embedded: Vec<Vec<u8>>,
    pub digest_matches: bool,
    pub signature_valid: bool,
}

/// Checks a detached CMS signature over `parts` and that its signer
/// certificate chains to `root_der`.
pub(super) fn verify(cms_der: &[u8], parts: &[&[u8]], root_der: &[u8]) -> Result<VerifiedSignature, VerifyError> {
    let found = inspect(cms_der, parts)?;
    if !found.digest_matches {
        return Err(VerifyError::DigestMismatch);
    }
    if !found.signature_valid {
        return Err(VerifyError::BadSignature);
    }
    verify_chain(&found.leaf_der, &found.embedded, root_der)?;
    let summary = summarize(&found.leaf_der).map_err(malformed)?;
    Ok(VerifiedSignature {
        algorithm: found.public.algorithm(),
        kid: found.public.kid().to_string(),
        signer_certificate_der: found.leaf_der,
        signer: summary,
    })
}

/// Parses a detached CMS signature over `parts` and checks its digest and
/// signature; errors are reserved for signatures that are malformed, use
/// other algorithms, or bind another certificate.
pub(crate) fn inspect(cms_der: &[u8], parts: &[&[u8]]) -> Result<CmsFindings, VerifyError> {
    let info = ContentInfo::from_der(cms_der).map_err(malformed)?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(malformed(format!("content type {} is not signed-data", info.content_type)));
    }
    let signed: SignedData = info.content.decode_as().map_err(malformed)?;
    if signed.encap_content_info.econtent_type != ID_DATA || signed.encap_content_info.econtent.is_some() {
        return Err(malformed("not a detached signature over id-data"));
    }
    let [signer_info] = signed.signer_infos.0.as_slice() else {
        return Err(malformed("expected exactly one SignerInfo"));
    };
    let certificates: Vec<&Certificate> = signed
        .certificates
        .as_ref()
        .map(|set| {
            set.0
                .iter()
                .filter_map(|c| match c {
                    CertificateChoices::Certificate(c) => Some(c),
                    CertificateChoices::Other(_) => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let leaf = certificates
        .iter()
        .find(|c| identifies(&signer_info.sid, c))
        .copied()
        .ok_or(VerifyError::UntrustedCertificate("the signer's certificate is not in the signature".into()))?;
    let leaf_der = leaf.to_der().map_err(malformed)?;
    let public =
        PublicKey::from_spki_der(&leaf.tbs_certificate().subject_public_key_info().to_der().map_err(malformed)?)
            .map_err(|e| VerifyError::UnsupportedAlgorithm(e.to_string()))?;

    // Algorithms: the key decides, and the declared ones must agree with it.
    let alg = public.algorithm();
    let (digest_oid, digest) = digest_for(alg);
    let expected_sig = match alg {
        KeyAlgorithm::Ed25519 => ID_ED25519,
        KeyAlgorithm::EcdsaP256 => ECDSA_WITH_SHA256,
    };
    if signer_info.digest_alg.oid != digest_oid {
        return Err(VerifyError::UnsupportedAlgorithm(format!(
            "digest {} with a {alg} key (expected {digest_oid})",
            signer_info.digest_alg.oid
        )));
    }
    if signer_info.signature_algorithm.oid != expected_sig {
        return Err(VerifyError::UnsupportedAlgorithm(format!(
            "signature algorithm {} with a {alg} key",
            signer_info.signature_algorithm.oid
        )));
    }

    let attrs = signer_info.signed_attrs.as_ref().ok_or_else(|| malformed("no signed attributes"))?;
    let single = |oid: ObjectIdentifier| -> Result<&Any, VerifyError> {
        let mut found = attrs.iter().filter(|a| a.oid == oid);
        match (found.next(), found.next()) {
            (Some(a), None) if a.values.len() == 1 => a.values.get(0).ok_or_else(|| malformed("empty attribute")),
            (None, _) => Err(malformed(format!("signed attribute {oid} is missing"))),
            _ => Err(malformed(format!("signed attribute {oid} is repeated"))),
        }
    };
    let content_type: ObjectIdentifier = single(ID_CONTENT_TYPE)?.decode_as().map_err(malformed)?;
    if content_type != ID_DATA {
        return Err(malformed("content-type attribute is not id-data"));
    }
    let claimed: OctetString = single(ID_MESSAGE_DIGEST)?.decode_as().map_err(malformed)?;
    let ess: SigningCertificateV2 = single(ID_AA_SIGNING_CERTIFICATE_V2)?.decode_as().map_err(malformed)?;
    let bound = ess.certs.first().ok_or_else(|| malformed("signing-certificate-v2 names no certificate"))?;
    if bound.hash_algorithm.as_ref().is_some_and(|a| a.oid != ID_SHA256) {
        return Err(VerifyError::UnsupportedAlgorithm("signing-certificate-v2 hash other than SHA-256".into()));
    }
    if bound.cert_hash.as_bytes() != Sha256::digest(&leaf_der).as_slice() {
        return Err(VerifyError::UntrustedCertificate("signing-certificate-v2 names another certificate".into()));
    }
    if attrs.iter().any(|a| a.oid == ID_SIGNING_TIME) {
        return Err(malformed("PAdES signatures carry no signing-time attribute"));
    }

    // Nothing outside the signed attributes and the signature value is
    // protected by the signature: the versions, identifiers and algorithm
    // fields must be exactly what our signer writes, so that no byte of
    // the CMS can change unnoticed.
    let mut in_order: Vec<Certificate> = vec![leaf.clone()];
    in_order.extend(certificates.iter().filter(|c| **c != leaf).map(|c| (*c).clone()));
    let rebuilt =
        assemble(alg, in_order, attrs.clone(), signer_info.signature.as_bytes().to_vec()).map_err(malformed)?;
    if rebuilt != cms_der {
        return Err(malformed("its structure differs from what our signer writes"));
    }

    let digest_matches = claimed.as_bytes() == digest(parts).as_slice();
    let signed_attrs_der = attrs.to_der().map_err(malformed)?;
    let signature_valid = public.verify_canonical(&signed_attrs_der, signer_info.signature.as_bytes()).is_ok();
    let embedded = certificates.iter().filter_map(|c| c.to_der().ok()).collect();
    Ok(CmsFindings { public, leaf_der, embedded, digest_matches, signature_valid })
}

fn identifies(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    let tbs = cert.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            &isn.issuer == tbs.issuer() && &isn.serial_number == tbs.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            matches!(tbs.get_extension::<SubjectKeyIdentifier>(), Ok(Some((_, own))) if &own == ski)
        }
    }
}

/// From the leaf up through the embedded certificates until `root_der`
/// issued one of them (at most a few steps).
pub(crate) fn verify_chain(leaf_der: &[u8], embedded: &[Vec<u8>], root_der: &[u8]) -> Result<(), VerifyError> {
    let mut current = leaf_der.to_vec();
    for _ in 0..8 {
        if current == root_der {
            return Ok(());
        }
        if verify_issued_by(&current, root_der).is_ok() {
            return Ok(());
        }
        let next = embedded.iter().find(|c| **c != current && verify_issued_by(&current, c).is_ok());
        match next {
            Some(issuer) => current = issuer.clone(),
            None => break,
        }
    }
    Err(VerifyError::UntrustedCertificate("the signing certificate does not chain to the given root".into()))
}
