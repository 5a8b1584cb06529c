//! The signature container must be byte for byte what our signer writes;
//! and the offline answer says the registry was not asked.

use super::*;
use der::Decode;

/// The sample report signed with a fresh root and key of `algorithm`, and
/// the ring that publishes them.
fn signed_with(algorithm: crate::keys::KeyAlgorithm) -> (KeyRing, Vec<u8>, Vec<u8>) {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
    let root_key = KeyPair::generate(crate::keys::ROOT_ALGORITHM, &mut rng);
    let root = root_certificate(&root_key, "standing (test)", 1, at(2026, 1, 1)).unwrap();
    let key = KeyPair::generate(algorithm, &mut rng);
    let cert = signing_certificate(&key, &root_key, &root, "standing (test)", 2, at(2026, 1, 1)).unwrap();
    let signer = Signer::new(key, cert.clone(), vec![root.clone()]).unwrap();
    let signed = render_and_sign(&sample_report(), &signer, at(2026, 11, 21), "standing").unwrap();
    (KeyRing::from_certificates(Some(root.clone()), &[cert]).unwrap(), signed, root)
}

/// `pdf` with the DER in `/Contents` replaced by `der`, upper-case hex and
/// re-padded with `0` to the same size, as a careful attacker would; and
/// how many bytes of the file changed.
fn with_contents(pdf: &[u8], der: &[u8]) -> (Vec<u8>, usize) {
    let sig = scan::signature_dictionaries(pdf).pop().unwrap();
    let span = sig.contents_span.unwrap();
    let width = span.len() - 2;
    let mut hex = hex::encode_upper(der).into_bytes();
    assert!(hex.len() <= width);
    hex.resize(width, b'0');
    let mut out = pdf.to_vec();
    out[span.start + 1..span.end - 1].copy_from_slice(&hex);
    let changed = out.iter().zip(pdf).filter(|(a, b)| a != b).count();
    (out, changed)
}

/// The CMS of `pdf`, its `SignedData` edited by `edit` and re-encoded.
fn edited_cms(pdf: &[u8], edit: impl FnOnce(&mut cms::signed_data::SignedData)) -> Vec<u8> {
    use cms::content_info::ContentInfo;
    use der::Encode;
    let sig = scan::signature_dictionaries(pdf).pop().unwrap();
    let contents = sig.string(b"Contents").unwrap();
    let (info, _) = der::AnyRef::from_der_partial(contents).unwrap();
    let mut info = ContentInfo::from_der(&info.to_der().unwrap()).unwrap();
    let mut signed: cms::signed_data::SignedData = info.content.decode_as().unwrap();
    edit(&mut signed);
    info.content = der::Any::encode_from(&signed).unwrap();
    info.to_der().unwrap()
}

fn container_changes_of(v: &Verification) -> Vec<ContainerChange> {
    v.problems
        .iter()
        .find_map(|p| match &p.kind {
            ProblemKind::SignatureContainerAltered { changes } => Some(changes.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

#[test]
fn the_root_removed_from_the_signature_and_re_padded_is_named() {
    // Issue 10: the root certificate removed from the CMS, re-encoded and
    // re-padded (about 1,765 bytes of /Contents changed) was VALID.
    for algorithm in [crate::keys::KeyAlgorithm::EcdsaP256, crate::keys::KeyAlgorithm::Ed25519] {
        let (ring, signed, root) = signed_with(algorithm);
        assert!(verify_pdf(&signed, &ring, now()).valid, "{algorithm}: the untouched report");
        let der = edited_cms(&signed, |sd| {
            let certs = sd.certificates.take().unwrap();
            let kept: Vec<_> = certs
                .0
                .into_vec()
                .into_iter()
                .filter(|c| !matches!(c, cms::cert::CertificateChoices::Certificate(c) if der::Encode::to_der(c).unwrap() == root))
                .collect();
            sd.certificates = Some(cms::signed_data::CertificateSet(der::asn1::SetOfVec::try_from(kept).unwrap()));
        });
        let (tampered, changed) = with_contents(&signed, &der);
        assert!(changed > 500, "{algorithm}: {changed} bytes changed");

        let v = verify_pdf(&tampered, &ring, now());

        assert!(!v.valid);
        assert_eq!(codes(&v), vec!["signature_container_altered"], "{algorithm}: {:#?}", v.problems);
        assert_eq!(container_changes_of(&v), vec![ContainerChange::CertificatesRemoved]);
        let message = &v.problems[0].message;
        assert!(message.contains("removed") && message.contains("CN=standing demo root"), "{message}");
        // The signature itself, the content and the certificate hold: only
        // the container was changed, and only that is named.
        for check in ["signature", "content", "certificate"] {
            assert!(v.checks.iter().any(|c| c.name == check && c.ok), "{check} in {:#?}", v.checks);
        }
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["problems"][0]["code"], "signature_container_altered");
        assert_eq!(json["problems"][0]["changes"], json!(["certificates_removed"]));
    }
}

#[test]
fn other_edits_of_the_container_are_named() {
    let (ring, signed, root) = signed_with(crate::keys::KeyAlgorithm::EcdsaP256);
    let leaf = ring.keys[0].certificate_der.clone();

    // The two certificates swapped in place: the bytes of a DER SET OF out
    // of order, which a decoder would quietly sort back.
    let sig = scan::signature_dictionaries(&signed).pop().unwrap();
    let contents = sig.string(b"Contents").unwrap();
    let (info, _) = der::AnyRef::from_der_partial(contents).unwrap();
    let mut der = der::Encode::to_der(&info).unwrap();
    let (first, second) = match (find(&der, &leaf), find(&der, &root)) {
        (l, r) if l < r => ((l, leaf.as_slice()), (r, root.as_slice())),
        (l, r) => ((r, root.as_slice()), (l, leaf.as_slice())),
    };
    assert_eq!(first.0 + first.1.len(), second.0, "the certificates lie side by side");
    let swapped = [second.1, first.1].concat();
    der[first.0..first.0 + swapped.len()].copy_from_slice(&swapped);
    let (reordered, _) = with_contents(&signed, &der);
    let v = verify_pdf(&reordered, &ring, now());
    assert_eq!(codes(&v), vec!["signature_container_altered"], "{:#?}", v.problems);
    assert_eq!(container_changes_of(&v), vec![ContainerChange::CertificatesReordered]);

    // A certificate more: another root's.
    let other = Issuer::new(9).root;
    let der = edited_cms(&signed, |sd| {
        let mut certs = sd.certificates.take().unwrap().0.into_vec();
        certs.push(cms::cert::CertificateChoices::Certificate(x509_cert::Certificate::from_der(&other).unwrap()));
        sd.certificates = Some(cms::signed_data::CertificateSet(der::asn1::SetOfVec::try_from(certs).unwrap()));
    });
    let (extra, _) = with_contents(&signed, &der);
    let v = verify_pdf(&extra, &ring, now());
    assert_eq!(codes(&v), vec!["signature_container_altered"], "{:#?}", v.problems);
    assert_eq!(container_changes_of(&v), vec![ContainerChange::CertificatesAdded]);
    assert!(v.problems[0].message.contains("added"), "{}", v.problems[0].message);

    // An unsigned attribute (what a timestamp would add, unasked).
    let der = edited_cms(&signed, |sd| {
        let mut infos = sd.signer_infos.0.clone().into_vec();
        let attribute = x509_cert::attr::Attribute {
            oid: der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14"),
            values: der::asn1::SetOfVec::try_from(vec![der::Any::encode_from(&der::asn1::Null).unwrap()]).unwrap(),
        };
        infos[0].unsigned_attrs = Some(der::asn1::SetOfVec::try_from(vec![attribute]).unwrap());
        sd.signer_infos = cms::signed_data::SignerInfos(der::asn1::SetOfVec::try_from(infos).unwrap());
    });
    let (unsigned, _) = with_contents(&signed, &der);
    let v = verify_pdf(&unsigned, &ring, now());
    assert_eq!(codes(&v), vec!["signature_container_altered"], "{:#?}", v.problems);
    assert_eq!(container_changes_of(&v), vec![ContainerChange::UnsignedAttributesAdded]);

    // A field outside the signed attributes: the SignedData version.
    let der = edited_cms(&signed, |sd| sd.version = cms::content_info::CmsVersion::V3);
    let (version, _) = with_contents(&signed, &der);
    let v = verify_pdf(&version, &ring, now());
    assert_eq!(codes(&v), vec!["signature_container_altered"], "{:#?}", v.problems);
    assert_eq!(container_changes_of(&v), vec![ContainerChange::StructureChanged]);

    // Re-encoded unchanged: the same bytes, still valid.
    let der = edited_cms(&signed, |_| {});
    let (same, changed) = with_contents(&signed, &der);
    assert_eq!(changed, 0);
    assert!(verify_pdf(&same, &ring, now()).valid);
}

#[test]
fn the_offline_answer_says_the_registry_was_not_asked() {
    let f = fixture();
    let v = verify_pdf(&f.signed, &f.ring, now());
    assert!(v.valid);
    assert!(!v.status_checked());
    let registry = v.registry.as_ref().unwrap();
    let data = sample_report();
    assert_eq!(registry.verify_online.as_deref(), Some(data.verification_url.as_str()));
    assert_eq!(registry.jwks_url.as_deref(), Some(format!("{}/.well-known/jwks.json", data.issuer.url).as_str()));
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["registry"]["checked"], false);
    assert!(json["registry"].get("found").is_none());

    // A file whose signature fails does not get to point anywhere.
    let mut tampered = f.signed.clone();
    let at = find(&tampered, b"stream") + 100;
    tampered[at] ^= 0x01;
    let v = verify_pdf(&tampered, &f.ring, now());
    let registry = v.registry.as_ref().unwrap();
    assert!(!registry.checked && registry.verify_online.is_none() && registry.jwks_url.is_none());

    // Asked: checked, with what it found.
    let mut v = verify_pdf(&f.signed, &f.ring, now());
    v.apply_registry(None, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
    assert!(v.status_checked());
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!((json["registry"]["checked"].clone(), json["registry"]["found"].clone()), (json!(true), json!(false)));
}
