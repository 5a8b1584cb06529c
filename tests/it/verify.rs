//! Verification as operators and officers run it: `standing verify` and
//! `standing keys`, rotation through the key store, and the JWKS.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use chrono::{TimeZone, Utc};
use sha2::{Digest, Sha256};
use standing::app::{demo_dir, load_demo_if_empty};
use standing::keys::{KeyAlgorithm, KeyRing, KeyStatus, KeyStore};
use standing::report::issue::render_and_sign;
use standing::report::sample::sample_report;
use standing::report::verify::verify_pdf;

use crate::helpers::*;

async fn demo_db() -> TestDb {
    let db = TestDb::new().await;
    let state = state(&db).await;
    load_demo_if_empty(&state, &demo_dir()).await.unwrap();
    state.store.close().await;
    db
}

fn run(db: &TestDb, args: &[&std::ffi::OsStr]) -> (Option<i32>, String, String) {
    let out = standing(db).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn verify_json(db: &TestDb, file: &std::path::Path) -> (Option<i32>, serde_json::Value) {
    let (code, stdout, stderr) = run(db, &["verify".as_ref(), file.as_os_str(), "--json".as_ref()]);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    (code, json)
}

fn codes(v: &serde_json::Value) -> Vec<String> {
    v["problems"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_verify_and_keys_commands() {
    let db = demo_db().await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("report.pdf");
    let out = standing(&db).args(["report", "A1012", "--as-of", "2026-11-21", "--out"]).arg(&pdf).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // An untouched report: exit 0, the text names it.
    let (code, stdout, stderr) = run(&db, &["verify".as_ref(), pdf.as_os_str()]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.starts_with("VALID: "), "{stdout}");
    let (code, v) = verify_json(&db, &pdf);
    assert_eq!(code, Some(0));
    assert_eq!(v["valid"], true);
    assert!(v["report_number"].as_str().unwrap().starts_with("SR-"));
    let old_kid = v["key_id"].as_str().unwrap().to_owned();
    let bytes = std::fs::read(&pdf).unwrap();
    assert_eq!(v["sha256"], hex::encode(Sha256::digest(&bytes)));

    // One byte changed: exit 1, the reason in text and JSON.
    let bad = dir.path().join("tampered.pdf");
    let mut tampered = bytes.clone();
    tampered[bytes.len() / 3] ^= 0x04;
    std::fs::write(&bad, &tampered).unwrap();
    let (code, stdout, _) = run(&db, &["verify".as_ref(), bad.as_os_str()]);
    assert_eq!(code, Some(1));
    assert!(stdout.starts_with("NOT VALID"), "{stdout}");
    let (code, v) = verify_json(&db, &bad);
    assert_eq!(code, Some(1));
    assert_eq!(v["valid"], false);
    assert!(!codes(&v).is_empty());

    // Appended bytes are counted.
    let appended = dir.path().join("appended.pdf");
    std::fs::write(&appended, [&bytes[..], b"%%EOF\n"].concat()).unwrap();
    let (code, v) = verify_json(&db, &appended);
    assert_eq!(code, Some(1));
    assert_eq!(codes(&v), vec!["bytes_appended"]);
    assert_eq!(v["problems"][0]["count"], 6);
    assert_eq!(v["problems"][0]["message"], "6 bytes were added after signing");

    // Not a file, not a PDF.
    let (code, _, stderr) = run(&db, &["verify".as_ref(), dir.path().join("missing.pdf").as_os_str()]);
    assert_eq!(code, Some(2), "{stderr}");
    let text = dir.path().join("note.txt");
    std::fs::write(&text, "hello").unwrap();
    let (code, v) = verify_json(&db, &text);
    assert_eq!((code, codes(&v)), (Some(1), vec!["not_pdf".to_owned()]));

    // keys list: the one key, active.
    let (code, stdout, stderr) = run(&db, &["keys".as_ref(), "list".as_ref()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains(&old_kid) && stdout.contains("active") && stdout.contains("ed25519"), "{stdout}");

    // Rotate (certificate times are whole seconds: let one pass).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (code, stdout, stderr) = run(&db, &["keys".as_ref(), "rotate".as_ref()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stdout.contains(&old_kid), "{stdout}");
    let (_, listed, _) = run(&db, &["keys".as_ref(), "list".as_ref()]);
    let old_line = listed.lines().find(|l| l.contains(&old_kid)).unwrap();
    assert!(old_line.ends_with("retired"), "{listed}");
    assert_eq!(listed.lines().filter(|l| l.ends_with("active")).count(), 1, "{listed}");

    // The old report still verifies; a new one uses the new key.
    let (code, v) = verify_json(&db, &pdf);
    assert_eq!(code, Some(0), "{v}");
    let newer = dir.path().join("newer.pdf");
    let out = standing(&db).args(["report", "A1012", "--as-of", "2026-11-21", "--out"]).arg(&newer).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (code, v) = verify_json(&db, &newer);
    assert_eq!(code, Some(0), "{v}");
    assert_ne!(v["key_id"].as_str().unwrap(), old_kid);

    // The same check against the published JWKS instead of the key directory.
    let (_, jwks, _) = run(&db, &["keys".as_ref(), "list".as_ref(), "--json".as_ref()]);
    let jwks_file = dir.path().join("jwks.json");
    std::fs::write(&jwks_file, &jwks).unwrap();
    let (code, stdout, stderr) =
        run(&db, &["verify".as_ref(), pdf.as_os_str(), "--jwks".as_ref(), jwks_file.as_os_str()]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let (code, _, stderr) = run(&db, &["verify".as_ref(), pdf.as_os_str(), "--jwks".as_ref(), text.as_os_str()]);
    assert_eq!(code, Some(2), "{stderr}");
}

#[test]
fn rotation_through_the_key_store() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("keys");
    let cipher = master_key().field_cipher();
    let t = |m: u32, d: u32| Utc.with_ymd_and_hms(2026, m, d, 9, 0, 0).unwrap();
    let first = KeyStore::load_or_create(&dir, KeyAlgorithm::Ed25519, "Example", &cipher, t(1, 1)).unwrap();
    let old = first.into_signer();

    let rotated = KeyStore::rotate(&dir, KeyAlgorithm::Ed25519, "Example", &cipher, t(6, 1)).unwrap();
    assert!(KeyStore::rotate(&dir, KeyAlgorithm::Ed25519, "Example", &cipher, t(6, 1)).is_err(), "same second");
    let current = KeyStore::load_or_create(&dir, KeyAlgorithm::Ed25519, "Example", &cipher, t(7, 1)).unwrap();
    assert_eq!(current.signer().kid(), rotated.kid, "the new key is the current one");
    let ring = KeyRing::load(&dir).unwrap();
    assert_eq!(ring.keys.len(), 2);
    assert_eq!(ring.keys[0].kid, old.kid());
    assert_eq!(ring.keys[0].retired_at, Some(t(6, 1)));
    assert_eq!(ring.keys[0].status(t(7, 1)), KeyStatus::Retired);
    assert_eq!(ring.keys[1].status(t(7, 1)), KeyStatus::Active);

    let data = sample_report();
    let now = t(11, 22);
    let before = render_and_sign(&data, &old, t(5, 1), "Example").unwrap();
    let after = render_and_sign(&data, current.signer(), t(11, 21), "Example").unwrap();
    let stolen = render_and_sign(&data, &old, t(11, 21), "Example").unwrap();
    assert!(verify_pdf(&before, &ring, now).valid, "old reports stay valid");
    let v = verify_pdf(&after, &ring, now);
    assert!(v.valid, "{:?}", v.problems);
    assert_eq!(v.key_id.as_deref(), Some(rotated.kid.as_str()));
    let v = verify_pdf(&stolen, &ring, now);
    assert_eq!(v.problems.iter().map(|p| p.code()).collect::<Vec<_>>(), vec!["outside_key_window"]);
}

#[test]
fn the_jwks_follows_the_rfcs_and_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("keys");
    let cipher = master_key().field_cipher();
    let t = |m: u32| Utc.with_ymd_and_hms(2026, m, 1, 9, 0, 0).unwrap();
    KeyStore::load_or_create(&dir, KeyAlgorithm::EcdsaP256, "Example", &cipher, t(1)).unwrap();
    KeyStore::rotate(&dir, KeyAlgorithm::EcdsaP256, "Example", &cipher, t(3)).unwrap();
    let ring = KeyRing::load(&dir).unwrap();

    let jwks = ring.jwks(t(4));

    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    for (key, published) in keys.iter().zip(&ring.keys) {
        // RFC 7518 6.2.1: EC P-256 public key; RFC 7638 thumbprint as kid.
        assert_eq!(key["kty"], "EC");
        assert_eq!(key["crv"], "P-256");
        assert_eq!(key["alg"], "ES256");
        assert_eq!(key["use"], "sig");
        for coordinate in ["x", "y"] {
            assert_eq!(B64URL.decode(key[coordinate].as_str().unwrap()).unwrap().len(), 32);
        }
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            key["x"].as_str().unwrap(),
            key["y"].as_str().unwrap()
        );
        assert_eq!(key["kid"], B64URL.encode(Sha256::digest(canonical)));
        // RFC 7517 4.7 and 4.9: x5c standard base64 DER, leaf first; x5t#S256.
        let x5c = key["x5c"].as_array().unwrap();
        assert_eq!(B64.decode(x5c[0].as_str().unwrap()).unwrap(), published.certificate_der);
        assert_eq!(B64.decode(x5c[1].as_str().unwrap()).unwrap(), ring.root_der.clone().unwrap());
        assert_eq!(key["x5t#S256"], B64URL.encode(Sha256::digest(&published.certificate_der)));
        assert_eq!(key["not_before"], published.not_before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
    assert_eq!(keys[0]["retired_at"], "2026-03-01T09:00:00Z");
    assert_eq!(keys[0]["status"], "retired");
    assert_eq!(keys[1]["retired_at"], serde_json::Value::Null);
    assert_eq!(keys[1]["status"], "active");

    let back = KeyRing::from_jwks(&jwks, None).unwrap();
    assert_eq!(back.root_der, ring.root_der);
    let summary = |r: &KeyRing| r.keys.iter().map(|k| (k.kid.clone(), k.not_before, k.retired_at)).collect::<Vec<_>>();
    assert_eq!(summary(&back), summary(&ring));
    let with_pem = KeyRing::from_jwks(&jwks, ring.root_pem().as_deref()).unwrap();
    assert_eq!(with_pem.root_der, ring.root_der);

    // A key whose members do not match its certificate is refused.
    let mut forged = jwks.clone();
    forged["keys"][0]["x"] = keys[1]["x"].clone();
    assert!(KeyRing::from_jwks(&forged, None).is_err());
}
