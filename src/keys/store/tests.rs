use super::*;
use crate::crypto::MasterKey;
use chrono::TimeZone;

fn cipher() -> FieldCipher {
    MasterKey::from_bytes([5; 32]).field_cipher()
}

fn t(year: i32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, 3, 1, 12, 0, 0).unwrap()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn creates_once_then_loads_the_same_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("var/keys");
    let c = cipher();
    let first = KeyStore::load_or_create(&dir, KeyAlgorithm::Ed25519, "Example Credit", &c, t(2026)).unwrap();
    let kid = first.signer().kid().to_string();
    assert_eq!(
        names(&dir),
        vec![
            "root.key.sealed".to_string(),
            "root.pem".to_string(),
            format!("signing-{kid}.key.sealed"),
            format!("signing-{kid}.pem"),
        ]
    );
    assert_eq!(mode(&dir.join("root.key.sealed")), 0o600);
    assert_eq!(mode(&dir.join(format!("signing-{kid}.key.sealed"))), 0o600);
    assert_eq!(mode(&dir), 0o700);
    // The sealed files hold no plain PKCS#8.
    for file in ["root.key.sealed".to_string(), format!("signing-{kid}.key.sealed")] {
        let sealed = std::fs::read(dir.join(file)).unwrap();
        assert!(!sealed.windows(5).any(|w| w == [0x06, 0x03, 0x2b, 0x65, 0x70]), "no Ed25519 OID in the clear");
        let ec = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
        assert!(!sealed.windows(ec.len()).any(|w| w == ec), "no EC OID in the clear");
    }
    // A new directory's root is ECDSA P-256, whatever the reports use.
    let root = summarize(first.root_certificate_der()).unwrap();
    assert_eq!(root.public_key.algorithm(), ROOT_ALGORITHM);
    assert_eq!(ROOT_ALGORITHM, KeyAlgorithm::EcdsaP256);
    assert_eq!(first.signer().algorithm(), KeyAlgorithm::Ed25519);

    let again = KeyStore::load_or_create(&dir, KeyAlgorithm::Ed25519, "Example Credit", &c, t(2027)).unwrap();
    assert_eq!(again.signer().kid(), kid);
    assert_eq!(again.root_certificate_der(), first.root_certificate_der());
    assert_eq!(again.signer().chain_der(), &[first.root_certificate_der().to_vec()][..]);
    verify_issued_by(again.signer().certificate_der(), again.root_certificate_der()).unwrap();
    assert_eq!(again.published_keys().len(), 1);
    assert_eq!(again.published_keys()[0].jwk, again.signer().jwk());

    // A different master key cannot open the keys.
    let other = MasterKey::from_bytes([6; 32]).field_cipher();
    let err = KeyStore::load_or_create(&dir, KeyAlgorithm::Ed25519, "Example Credit", &other, t(2027)).unwrap_err();
    assert!(matches!(err, KeyError::Sealed { .. }), "{err}");

    // A renamed sealed file does not open either (the name is bound in).
    std::fs::copy(dir.join(format!("signing-{kid}.key.sealed")), dir.join("root.key.sealed.x")).unwrap();
    assert!(cipher().open(&std::fs::read(dir.join("root.key.sealed.x")).unwrap(), &seal_context(ROOT_KEY)).is_err());

    // Another algorithm under the same root: a key of its own, both published.
    let p256 = KeyStore::load_or_create(&dir, KeyAlgorithm::EcdsaP256, "Example Credit", &c, t(2027)).unwrap();
    assert_eq!(p256.root_certificate_der(), first.root_certificate_der(), "the same root");
    assert_eq!(p256.signer().algorithm(), KeyAlgorithm::EcdsaP256);
    verify_issued_by(p256.signer().certificate_der(), p256.root_certificate_der()).unwrap();
    let algorithms: Vec<KeyAlgorithm> = p256.published_keys().iter().map(|k| k.algorithm).collect();
    assert_eq!(algorithms, vec![KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256]);
    // Each keeps its own window: the Ed25519 key is not retired by it.
    assert_eq!(p256.published_keys()[0].retired_at, None);
    let again = KeyStore::load_or_create(&dir, KeyAlgorithm::Ed25519, "Example Credit", &c, t(2027)).unwrap();
    assert_eq!(again.signer().kid(), kid);
}

/// A directory made before ECDSA became the default: an Ed25519 root.
/// It keeps working, and signs keys of either algorithm.
#[test]
fn an_old_ed25519_root_keeps_working_for_both_algorithms() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("keys");
    let c = cipher();
    create_private_dir(&dir).unwrap();
    let root_key = KeyPair::ed25519_from_seed(&[4; 32]);
    write_sealed(&dir, ROOT_KEY, &root_key, &c).unwrap();
    let root = root_certificate(&root_key, "Example", 1, t(2025)).unwrap();
    write_new(&dir.join(ROOT_CERT), certificate_pem(&root).unwrap().as_bytes(), 0o644).unwrap();

    for algorithm in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
        let store = KeyStore::load_or_create(&dir, algorithm, "Example", &c, t(2026)).unwrap();
        assert_eq!(store.root_certificate_der(), &root[..], "the old root stays");
        assert_eq!(store.signer().algorithm(), algorithm);
        verify_issued_by(store.signer().certificate_der(), &root).unwrap();
    }
    let rotated = KeyStore::rotate(&dir, KeyAlgorithm::EcdsaP256, "Example", &c, t(2027)).unwrap();
    assert_eq!(rotated.algorithm, KeyAlgorithm::EcdsaP256);
    assert_eq!(scan_signing_certificates(&dir, &root).unwrap().len(), 3);
}

#[test]
fn an_expired_signing_key_is_replaced_and_stays_published() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("keys");
    let c = cipher();
    let first = KeyStore::load_or_create(&dir, KeyAlgorithm::EcdsaP256, "Example", &c, t(2026)).unwrap();
    // Signing certificates last three years, both ends included.
    let same = KeyStore::load_or_create(&dir, KeyAlgorithm::EcdsaP256, "Example", &c, t(2029)).unwrap();
    assert_eq!(same.signer().kid(), first.signer().kid());
    let after = t(2029) + chrono::Duration::seconds(1);
    let later = KeyStore::load_or_create(&dir, KeyAlgorithm::EcdsaP256, "Example", &c, after).unwrap();
    assert_ne!(later.signer().kid(), first.signer().kid());
    let kids: Vec<&str> = later.published_keys().iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids, vec![first.signer().kid(), later.signer().kid()]);
    assert_eq!(later.published_keys()[1].jwk["alg"], "ES256");
    // The root lasts twenty.
    assert!(KeyStore::load_or_create(&dir, KeyAlgorithm::EcdsaP256, "Example", &c, t(2047)).is_err());
}

#[test]
fn operator_supplied_chain_and_key() {
    use crate::keys::{certificate_pem, root_certificate, signing_certificate};
    let tmp = tempfile::tempdir().unwrap();
    let root_key = KeyPair::ed25519_from_seed(&[1; 32]);
    let leaf_key = KeyPair::ed25519_from_seed(&[2; 32]);
    let root = root_certificate(&root_key, "Operator", 10, t(2026)).unwrap();
    let leaf = signing_certificate(&leaf_key, &root_key, &root, "Operator", 11, t(2026)).unwrap();
    let chain = tmp.path().join("chain.pem");
    std::fs::write(&chain, certificate_pem(&leaf).unwrap() + &certificate_pem(&root).unwrap()).unwrap();
    let key = tmp.path().join("key.pem");
    let der = leaf_key.to_pkcs8_der().unwrap();
    std::fs::write(&key, der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &der).unwrap()).unwrap();

    let signer = Signer::from_operator(&chain, &key).unwrap();
    assert_eq!(signer.certificate_der(), &leaf[..]);
    assert_eq!(signer.chain_der(), &[root.clone()][..]);
    assert_eq!(signer.kid(), leaf_key.public_key().unwrap().kid());

    // The root's key with the leaf's certificate is refused.
    let wrong = root_key.to_pkcs8_der().unwrap();
    std::fs::write(&key, der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &wrong).unwrap()).unwrap();
    assert!(matches!(Signer::from_operator(&chain, &key), Err(KeyError::KeyCertificateMismatch)));
}
