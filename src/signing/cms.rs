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
use crate::keys::{CertificateSummary, KeyAlgorithm, PublicKey, Signer, chains_to, summarize};

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
    let leaf = Certificate::from_der(signer.certificate_der())?;
    let signed_attrs = signed_attributes(&leaf, signer.certificate_der(), digest(parts))?;
    // RFC 5652 5.4: the signature covers the DER of the attributes with the
    // SET OF tag, not the [0] IMPLICIT tag they carry inside SignerInfo.
    let signature = signer.sign(&signed_attrs.to_der()?)?;
    let mut certificates = vec![leaf];
    for der in signer.chain_der() {
        certificates.push(Certificate::from_der(der)?);
    }
    Ok(assemble(signer.algorithm(), certificates, signed_attrs, signature)?)
}

/// The signed attributes our signer writes: content-type id-data, the
/// message digest, and signing-certificate-v2 binding `leaf` (whose DER is
/// `leaf_der`).
fn signed_attributes(
    leaf: &Certificate,
    leaf_der: &[u8],
    message_digest: Vec<u8>,
) -> Result<SignedAttributes, der::Error> {
    let tbs = leaf.tbs_certificate();
    let (issuer, serial_number) = (tbs.issuer().clone(), tbs.serial_number().clone());
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(Sha256::digest(leaf_der).to_vec())?,
            issuer_serial: Some(IssuerSerial { issuer: vec![GeneralName::DirectoryName(issuer)], serial_number }),
        }],
    };
    SetOfVec::try_from(vec![
        attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA)?)?,
        attribute(ID_MESSAGE_DIGEST, Any::encode_from(&OctetString::new(message_digest)?)?)?,
        attribute(ID_AA_SIGNING_CERTIFICATE_V2, Any::encode_from(&ess)?)?,
    ])
}

/// The container our signer writes for a signature whose signing
/// certificate is `leaf_der`, carrying `chain` after it, over bytes whose
/// digest is `message_digest`, with the signature value `signature`: the
/// same code as [`signed_data`], so a signature from our signer matches it
/// byte for byte. The algorithm follows the certificate's key.
pub(crate) fn expected_container(
    leaf_der: &[u8],
    chain: &[Vec<u8>],
    message_digest: &[u8],
    signature: &[u8],
) -> Result<Vec<u8>, der::Error> {
    let leaf = Certificate::from_der(leaf_der)?;
    let key = leaf.tbs_certificate().subject_public_key_info().to_der()?;
    let algorithm = PublicKey::from_spki_der(&key).map_err(|_| der::ErrorKind::Failed)?.algorithm();
    let signed_attrs = signed_attributes(&leaf, leaf_der, message_digest.to_vec())?;
    let mut certificates = vec![leaf];
    for der in chain {
        certificates.push(Certificate::from_der(der)?);
    }
    assemble(algorithm, certificates, signed_attrs, signature.to_vec())
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
///
/// It does not judge the container around the signature: compare it with
/// [`expected_container`] (see [`container_changes`]).
#[derive(Debug, Clone)]
pub struct CmsFindings {
    pub public: PublicKey,
    pub leaf_der: Vec<u8>,
    /// Every certificate embedded in the signature, DER.
    pub embedded: Vec<Vec<u8>>,
    /// The message-digest attribute, as signed.
    pub message_digest: Vec<u8>,
    /// The signature value.
    pub signature: Vec<u8>,
    pub digest_matches: bool,
    pub signature_valid: bool,
}

/// Checks a detached CMS signature over `parts` and that its signer
/// certificate chains to `root_der`.
pub(super) fn verify(cms_der: &[u8], parts: &[&[u8]], root_der: &[u8]) -> Result<VerifiedSignature, VerifyError> {
    let found = inspect(cms_der, parts)?;
    // Without published keys to hold it to, the container must at least be
    // what our signer writes around these certificates.
    let others: Vec<Vec<u8>> = found.embedded.iter().filter(|c| **c != found.leaf_der).cloned().collect();
    let expected =
        expected_container(&found.leaf_der, &others, &found.message_digest, &found.signature).map_err(malformed)?;
    if let Some((_, what)) = container_changes(cms_der, &expected).first() {
        return Err(malformed(what));
    }
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

    let digest_matches = claimed.as_bytes() == digest(parts).as_slice();
    let signed_attrs_der = attrs.to_der().map_err(malformed)?;
    let signature = signer_info.signature.as_bytes().to_vec();
    let signature_valid = public.verify_canonical(&signed_attrs_der, &signature).is_ok();
    let embedded = certificates.iter().filter_map(|c| c.to_der().ok()).collect();
    Ok(CmsFindings {
        public,
        leaf_der,
        embedded,
        message_digest: claimed.as_bytes().to_vec(),
        signature,
        digest_matches,
        signature_valid,
    })
}

/// A part of a signature's container that differs from what our signer
/// writes. Nothing in the container but the signed attributes and the
/// signature value is protected by the signature itself, so each of these
/// could be edited without breaking it: the certificates carried, their
/// order, attributes added unsigned, revocation data, versions and
/// algorithm fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContainerChange {
    /// Certificates our signer writes are missing.
    CertificatesRemoved,
    /// Certificates our signer does not write were added (or a carried one
    /// was edited, which makes it another certificate).
    CertificatesAdded,
    /// The same certificates in another order.
    CertificatesReordered,
    /// The signed attributes are not the ones our signer writes.
    SignedAttributesChanged,
    /// Unsigned attributes were added to the signer's information.
    UnsignedAttributesAdded,
    /// Revocation data (CRLs) was added.
    RevocationDataAdded,
    /// Versions, identifiers, algorithm fields, the number of signers or the
    /// encoding differ.
    StructureChanged,
}

/// What differs between the container `found` (DER) and `expected`, the
/// one our signer would write for the same signature ([`expected_container`]),
/// each with a sentence naming it; empty when they are the same bytes.
///
/// The comparison walks the encoded bytes, not decoded values: decoding
/// puts a DER `SET OF` back in order, which would hide a reordering.
pub(crate) fn container_changes(found: &[u8], expected: &[u8]) -> Vec<(ContainerChange, String)> {
    if found == expected {
        return Vec::new();
    }
    let structure =
        |what: &str| (ContainerChange::StructureChanged, format!("its {what} differ from what our signer writes"));
    let (Some(found_sd), Some(expected_sd)) = (signed_data_fields(found), signed_data_fields(expected)) else {
        return vec![structure("outer structure and encoding")];
    };
    let mut changes = Vec::new();

    // The certificates, [0] IMPLICIT SET OF, element by element.
    match (certificates(&found_sd), certificates(&expected_sd)) {
        (Some(found_certs), Some(expected_certs)) => changes.extend(certificate_changes(&found_certs, &expected_certs)),
        _ => changes.push(structure("certificate list")),
    }

    // Revocation data, [1] IMPLICIT: our signer writes none.
    if field(&found_sd, 0xA1).is_some() && field(&expected_sd, 0xA1).is_none() {
        changes.push((ContainerChange::RevocationDataAdded, "revocation data (CRLs) was added".to_string()));
    }

    // The signer's information: signed and unsigned attributes, then the rest.
    match (signer_info(&found_sd), signer_info(&expected_sd)) {
        (Some(found_si), Some(expected_si)) => {
            if field(&found_si, 0xA0).map(|t| t.whole) != field(&expected_si, 0xA0).map(|t| t.whole) {
                changes.push((
                    ContainerChange::SignedAttributesChanged,
                    "the signed attributes are not the ones our signer writes".to_string(),
                ));
            }
            if field(&found_si, 0xA1).is_some() && field(&expected_si, 0xA1).is_none() {
                changes.push((
                    ContainerChange::UnsignedAttributesAdded,
                    "unsigned attributes were added to the signature".to_string(),
                ));
            }
            if others(&found_si, &[0xA0, 0xA1]) != others(&expected_si, &[0xA0, 0xA1]) {
                changes.push(structure("signer's version, identifier or algorithm fields"));
            }
        }
        _ => changes.push(structure("signer information")),
    }

    // The rest: version, digest algorithms, content type (all but the
    // certificates, the revocation data and the signer infos, which come last).
    let rest = |fields: &[Tlv<'_>]| -> Vec<Vec<u8>> {
        let body = fields.split_last().map_or(&[][..], |(_, body)| body);
        body.iter().filter(|f| !matches!(f.tag, 0xA0 | 0xA1)).map(|f| f.whole.to_vec()).collect()
    };
    if rest(&found_sd) != rest(&expected_sd) {
        changes.push(structure("version, digest algorithms or content type"));
    }
    if changes.is_empty() {
        // Same parts, other bytes: the wrapping around them changed.
        changes.push(structure("outer structure and encoding"));
    }
    changes
}

/// Certificates missing, added, or the same ones in another order.
fn certificate_changes(found: &[Tlv<'_>], expected: &[Tlv<'_>]) -> Vec<(ContainerChange, String)> {
    let mut left: Vec<&[u8]> = found.iter().map(|t| t.whole).collect();
    let mut removed: Vec<&[u8]> = Vec::new();
    for cert in expected.iter().map(|t| t.whole) {
        match left.iter().position(|c| *c == cert) {
            Some(i) => {
                left.remove(i);
            }
            None => removed.push(cert),
        }
    }
    let names = |certs: &[&[u8]]| {
        certs
            .iter()
            .map(|der| summarize(der).map_or_else(|_| "an unreadable certificate".to_string(), |s| s.subject))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut changes = Vec::new();
    if !removed.is_empty() {
        changes.push((
            ContainerChange::CertificatesRemoved,
            format!("{} certificate(s) our signer includes were removed: {}", removed.len(), names(&removed)),
        ));
    }
    if !left.is_empty() {
        changes.push((
            ContainerChange::CertificatesAdded,
            format!("{} certificate(s) our signer does not include were added: {}", left.len(), names(&left)),
        ));
    }
    let in_order = |certs: &[Tlv<'_>]| certs.iter().map(|t| t.whole.to_vec()).collect::<Vec<_>>();
    if changes.is_empty() && in_order(found) != in_order(expected) {
        changes.push((
            ContainerChange::CertificatesReordered,
            "the certificates are in another order than our signer writes them".to_string(),
        ));
    }
    changes
}

/// The first field with this tag.
fn field<'a>(fields: &[Tlv<'a>], tag: u8) -> Option<Tlv<'a>> {
    fields.iter().find(|f| f.tag == tag).copied()
}

/// The encodings of the fields whose tags are not in `skip`, in order.
fn others<'a>(fields: &[Tlv<'a>], skip: &[u8]) -> Vec<&'a [u8]> {
    fields.iter().filter(|f| !skip.contains(&f.tag)).map(|f| f.whole).collect()
}

/// The certificates of a `SignedData` as encoded, in order (none when the
/// field is absent); `None` when they are not DER.
fn certificates<'a>(signed_data: &[Tlv<'a>]) -> Option<Vec<Tlv<'a>>> {
    match field(signed_data, 0xA0) {
        Some(set) => elements(set.value),
        None => Some(Vec::new()),
    }
}

/// The fields of the one `SignerInfo` of a `SignedData`: its last field,
/// the `signerInfos` SET (the first SET is the digest algorithms).
fn signer_info<'a>(signed_data: &[Tlv<'a>]) -> Option<Vec<Tlv<'a>>> {
    let infos = signed_data.last().filter(|f| f.tag == 0x31)?;
    let infos = elements(infos.value)?;
    match infos.as_slice() {
        [one] => elements(one.value),
        _ => None,
    }
}

/// One DER element as encoded: its tag byte, the whole element and its
/// contents.
#[derive(Debug, Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    whole: &'a [u8],
    value: &'a [u8],
}

/// The elements encoded one after another in `bytes`, or `None` if they are
/// not DER.
fn elements(mut bytes: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (any, rest) = der::AnyRef::from_der_partial(bytes).ok()?;
        let whole = bytes.get(..bytes.len() - rest.len())?;
        // The identifier octet: every tag here is below 31, so one byte.
        out.push(Tlv { tag: *whole.first()?, whole, value: any.value() });
        bytes = rest;
    }
    Some(out)
}

/// The fields of the `SignedData` inside a `ContentInfo`, as encoded; `None`
/// when the bytes are not one `ContentInfo` with explicit content.
fn signed_data_fields(content_info: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let [outer] = elements(content_info)?.try_into().ok()?;
    let [_content_type, explicit] = elements(outer.value)?.try_into().ok()?;
    let [signed_data] = elements(explicit.value)?.try_into().ok()?;
    elements(signed_data.value)
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
    if chains_to(leaf_der, embedded, root_der) {
        Ok(())
    } else {
        Err(VerifyError::UntrustedCertificate("the signing certificate does not chain to the given root".into()))
    }
}
