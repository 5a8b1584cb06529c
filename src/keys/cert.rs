//! X.509 certificates for report signing: the service's root, the signing
//! certificates it issues, and checks that one certificate issued another.
//!
//! Serial numbers and the start of validity are parameters, so the same key,
//! serial and time give the same certificate bytes (both algorithms sign
//! deterministically).

use chrono::{DateTime, Months, TimeZone, Utc};
use der::asn1::{Any, Utf8StringRef};
use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoRef;
use x509_cert::Certificate;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::{Name, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use super::{KeyAlgorithm, KeyError, KeyPair, OID_ECDSA_WITH_SHA256, OID_ED25519, PrivateKey, PublicKey};

pub const ROOT_COMMON_NAME: &str = "standing demo root";
pub const SIGNING_COMMON_NAME: &str = "standing report signing";
pub const ROOT_VALIDITY_YEARS: u32 = 20;
pub const SIGNING_VALIDITY_YEARS: u32 = 3;

const OID_CN: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_O: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("2.5.4.10");

/// A self-signed root: CN "standing demo root", O `organization`, valid
/// [`ROOT_VALIDITY_YEARS`] from `not_before`; CA, may sign certificates and
/// CRLs, no intermediates below it (path length 0).
pub fn root_certificate(
    key: &KeyPair,
    organization: &str,
    serial: u64,
    not_before: DateTime<Utc>,
) -> Result<Vec<u8>, KeyError> {
    let subject = name(ROOT_COMMON_NAME, organization)?;
    let profile = CaProfile { subject };
    let builder = CertificateBuilder::new(
        profile,
        SerialNumber::from(serial),
        validity(not_before, ROOT_VALIDITY_YEARS)?,
        spki(key)?,
    )
    .map_err(builder_error)?;
    build(builder, key)
}

/// A signing certificate for `subject`'s public key issued by the holder of
/// `issuer` (whose certificate is `issuer_certificate_der`): CN "standing
/// report signing", O `organization`, valid [`SIGNING_VALIDITY_YEARS`] from
/// `not_before`, key usage digitalSignature + nonRepudiation, not a CA.
pub fn signing_certificate(
    subject: &KeyPair,
    issuer: &KeyPair,
    issuer_certificate_der: &[u8],
    organization: &str,
    serial: u64,
    not_before: DateTime<Utc>,
) -> Result<Vec<u8>, KeyError> {
    let issuer_cert = Certificate::from_der(issuer_certificate_der)?;
    let issuer_tbs = issuer_cert.tbs_certificate();
    if issuer_tbs.subject_public_key_info().to_der()? != issuer.public_key_spki_der()? {
        return Err(KeyError::KeyCertificateMismatch);
    }
    let profile =
        LeafProfile { subject: name(SIGNING_COMMON_NAME, organization)?, issuer: issuer_tbs.subject().clone() };
    let builder = CertificateBuilder::new(
        profile,
        SerialNumber::from(serial),
        validity(not_before, SIGNING_VALIDITY_YEARS)?,
        spki(subject)?,
    )
    .map_err(builder_error)?;
    build(builder, issuer)
}

/// Checks that `issuer_der` issued `certificate_der`: the issuer name
/// matches the issuer's subject, the issuer is a CA, and the signature
/// verifies with the issuer's key (Ed25519, or ECDSA P-256 with SHA-256).
/// Validity periods are not checked here: that needs a time and a policy.
pub fn verify_issued_by(certificate_der: &[u8], issuer_der: &[u8]) -> Result<(), KeyError> {
    let cert = Certificate::from_der(certificate_der)?;
    let issuer = Certificate::from_der(issuer_der)?;
    let not_issued = |reason: &str| KeyError::NotIssuedBy {
        subject: cert.tbs_certificate().subject().to_string(),
        issuer: issuer.tbs_certificate().subject().to_string(),
        reason: reason.to_string(),
    };
    if cert.tbs_certificate().issuer() != issuer.tbs_certificate().subject() {
        return Err(not_issued("issuer name differs"));
    }
    let is_ca = matches!(issuer.tbs_certificate().get_extension::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca);
    if !is_ca {
        return Err(not_issued("the issuer is not a CA"));
    }
    let issuer_key = PublicKey::from_spki_der(&issuer.tbs_certificate().subject_public_key_info().to_der()?)?;
    let alg = cert.signature_algorithm();
    let expected = match issuer_key.algorithm() {
        KeyAlgorithm::Ed25519 => OID_ED25519,
        KeyAlgorithm::EcdsaP256 => OID_ECDSA_WITH_SHA256,
    };
    if alg.oid != expected || cert.tbs_certificate().signature().oid != expected {
        return Err(not_issued(&format!("unexpected signature algorithm {}", alg.oid)));
    }
    let signature = cert.signature().as_bytes().ok_or_else(|| not_issued("signature has unused bits"))?;
    let tbs = cert.tbs_certificate().to_der()?;
    issuer_key.verify(&tbs, signature).map_err(|_| not_issued("signature does not verify"))
}

/// Whether `root_der` issued `certificate_der`, directly or through some of
/// `intermediates` (each issued by the next; at most a few steps), or is
/// that certificate itself.
pub fn chains_to(certificate_der: &[u8], intermediates: &[Vec<u8>], root_der: &[u8]) -> bool {
    let mut current = certificate_der;
    for _ in 0..8 {
        if current == root_der || verify_issued_by(current, root_der).is_ok() {
            return true;
        }
        match intermediates.iter().find(|c| c.as_slice() != current && verify_issued_by(current, c).is_ok()) {
            Some(issuer) => current = issuer,
            None => return false,
        }
    }
    false
}

/// What callers need to know about a certificate without x509-cert types.
#[derive(Debug, Clone)]
pub struct CertificateSummary {
    pub subject: String,
    pub issuer: String,
    /// Hexadecimal, as printed by common tools.
    pub serial: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub is_ca: bool,
    pub public_key: PublicKey,
}

impl CertificateSummary {
    pub fn is_valid_at(&self, at: DateTime<Utc>) -> bool {
        self.not_before <= at && at <= self.not_after
    }
}

pub fn summarize(certificate_der: &[u8]) -> Result<CertificateSummary, KeyError> {
    let cert = Certificate::from_der(certificate_der)?;
    let tbs = cert.tbs_certificate();
    let is_ca = matches!(tbs.get_extension::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca);
    Ok(CertificateSummary {
        subject: tbs.subject().to_string(),
        issuer: tbs.issuer().to_string(),
        serial: hex::encode(tbs.serial_number().as_bytes()),
        not_before: to_chrono(tbs.validity().not_before),
        not_after: to_chrono(tbs.validity().not_after),
        is_ca,
        public_key: PublicKey::from_spki_der(&tbs.subject_public_key_info().to_der()?)?,
    })
}

/// PEM `CERTIFICATE` with LF line endings.
pub fn certificate_pem(certificate_der: &[u8]) -> Result<String, KeyError> {
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, certificate_der)
        .map_err(|e| KeyError::MalformedCertificate(e.to_string()))
}

/// All `CERTIFICATE` blocks of a PEM file, in order, as DER.
pub fn parse_certificate_pem_chain(pem: &[u8]) -> Result<Vec<Vec<u8>>, KeyError> {
    let certs = Certificate::load_pem_chain(pem)?;
    certs.iter().map(|c| c.to_der().map_err(KeyError::from)).collect()
}

fn to_chrono(time: Time) -> DateTime<Utc> {
    let secs = i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    Utc.timestamp_opt(secs, 0).single().unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn to_x509_time(at: DateTime<Utc>) -> Result<Time, KeyError> {
    let secs =
        u64::try_from(at.timestamp()).map_err(|_| KeyError::Builder(format!("certificate time before 1970: {at}")))?;
    Ok(Time::from(der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))?))
}

fn validity(not_before: DateTime<Utc>, years: u32) -> Result<Validity, KeyError> {
    let not_after = not_before
        .checked_add_months(Months::new(years * 12))
        .ok_or_else(|| KeyError::Builder("validity end out of range".into()))?;
    Ok(Validity::new(to_x509_time(not_before)?, to_x509_time(not_after)?))
}

fn name(common_name: &str, organization: &str) -> Result<Name, KeyError> {
    let atv = |oid, value: &str| -> Result<AttributeTypeAndValue, KeyError> {
        Ok(AttributeTypeAndValue { oid, value: Any::encode_from(&Utf8StringRef::new(value)?)? })
    };
    let mut rdns = Vec::new();
    if !organization.is_empty() {
        rdns.push(RelativeDistinguishedName::try_from(vec![atv(OID_O, organization)?])?);
    }
    rdns.push(RelativeDistinguishedName::try_from(vec![atv(OID_CN, common_name)?])?);
    // `Name` is a SEQUENCE OF RelativeDistinguishedName.
    Ok(Name::from_der(&rdns.to_der()?)?)
}

fn spki(key: &KeyPair) -> Result<spki::SubjectPublicKeyInfoOwned, KeyError> {
    spki::SubjectPublicKeyInfoOwned::from_der(&key.public_key_spki_der()?).map_err(KeyError::from)
}

fn builder_error(e: x509_cert::builder::Error) -> KeyError {
    KeyError::Builder(e.to_string())
}

fn build<P: BuilderProfile>(builder: CertificateBuilder<P>, issuer: &KeyPair) -> Result<Vec<u8>, KeyError> {
    let cert = match &issuer.key {
        PrivateKey::Ed25519(k) => builder.build::<_, ed25519_dalek::Signature>(k),
        PrivateKey::EcdsaP256(k) => builder.build::<_, p256::ecdsa::DerSignature>(k),
    }
    .map_err(builder_error)?;
    Ok(cert.to_der()?)
}

fn key_id(spk: SubjectPublicKeyInfoRef<'_>) -> x509_cert::builder::Result<SubjectKeyIdentifier> {
    Ok(SubjectKeyIdentifier::try_from(spk)?)
}

/// Self-signed CA that issues only end-entity certificates.
struct CaProfile {
    subject: Name,
}

impl BuilderProfile for CaProfile {
    fn get_issuer(&self, subject: &Name) -> Name {
        subject.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut ext: Vec<Extension> = Vec::new();
        let ski = key_id(spk)?;
        ext.push(BasicConstraints { ca: true, path_len_constraint: Some(0) }.to_extension(tbs.subject(), &ext)?);
        ext.push(KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign).to_extension(tbs.subject(), &ext)?);
        ext.push(ski.to_extension(tbs.subject(), &ext)?);
        Ok(ext)
    }
}

/// End-entity certificate for document signatures.
struct LeafProfile {
    subject: Name,
    issuer: Name,
}

impl BuilderProfile for LeafProfile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut ext: Vec<Extension> = Vec::new();
        ext.push(BasicConstraints { ca: false, path_len_constraint: None }.to_extension(tbs.subject(), &ext)?);
        ext.push(KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation).to_extension(tbs.subject(), &ext)?);
        ext.push(key_id(spk)?.to_extension(tbs.subject(), &ext)?);
        let aki = AuthorityKeyIdentifier { key_identifier: Some(key_id(issuer_spk)?.0), ..Default::default() };
        ext.push(aki.to_extension(tbs.subject(), &ext)?);
        Ok(ext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn root_and_signing_certificates() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        for alg in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
            let root_key = KeyPair::generate(alg, &mut rng);
            let leaf_key = KeyPair::generate(alg, &mut rng);
            let root = root_certificate(&root_key, "Example Credit Ltd", 1, t0()).unwrap();
            assert_eq!(root, root_certificate(&root_key, "Example Credit Ltd", 1, t0()).unwrap(), "deterministic");
            let leaf = signing_certificate(&leaf_key, &root_key, &root, "Example Credit Ltd", 2, t0()).unwrap();

            verify_issued_by(&root, &root).unwrap();
            verify_issued_by(&leaf, &root).unwrap();
            assert!(verify_issued_by(&root, &leaf).is_err(), "a leaf is not a CA");

            let r = summarize(&root).unwrap();
            assert!(r.is_ca);
            assert_eq!(r.subject, "CN=standing demo root,O=Example Credit Ltd");
            assert_eq!(r.not_before, t0());
            assert_eq!(r.not_after, Utc.with_ymd_and_hms(2046, 1, 1, 0, 0, 0).unwrap());
            let l = summarize(&leaf).unwrap();
            assert!(!l.is_ca);
            assert_eq!(l.issuer, r.subject);
            assert_eq!(l.not_after, Utc.with_ymd_and_hms(2029, 1, 1, 0, 0, 0).unwrap());
            assert_eq!(l.public_key, leaf_key.public_key().unwrap());
            assert_eq!(l.serial, "02");

            let cert = Certificate::from_der(&leaf).unwrap();
            let (critical, ku) = cert.tbs_certificate().get_extension::<KeyUsage>().unwrap().unwrap();
            assert!(critical);
            assert!(ku.digital_signature() && ku.non_repudiation() && !ku.key_cert_sign());

            // Another root with the same name but a different key did not issue it.
            let other_key = KeyPair::generate(alg, &mut rng);
            let other = root_certificate(&other_key, "Example Credit Ltd", 1, t0()).unwrap();
            assert!(matches!(verify_issued_by(&leaf, &other), Err(KeyError::NotIssuedBy { .. })));
            // Issuing with a key that does not match the issuer certificate fails.
            assert!(signing_certificate(&leaf_key, &other_key, &root, "O", 3, t0()).is_err());

            let pem = certificate_pem(&leaf).unwrap() + &certificate_pem(&root).unwrap();
            assert_eq!(parse_certificate_pem_chain(pem.as_bytes()).unwrap(), vec![leaf.clone(), root.clone()]);
        }
    }

    #[test]
    fn far_future_times_use_generalized_time() {
        let key = KeyPair::ed25519_from_seed(&[9; 32]);
        let start = Utc.with_ymd_and_hms(2040, 6, 1, 0, 0, 0).unwrap();
        let root = root_certificate(&key, "O", 1, start).unwrap();
        assert_eq!(summarize(&root).unwrap().not_after, Utc.with_ymd_and_hms(2060, 6, 1, 0, 0, 0).unwrap());
    }
}
