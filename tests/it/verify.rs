//! Verification as operators and officers run it: `standing verify` and
//! `standing keys`, rotation through the key store, and the JWKS.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use chrono::{TimeZone, Utc};
use sha2::{Digest, Sha256};
use standing::demo::demo_dir;
use standing::keys::{KeyAlgorithm, KeyRing, KeyStatus, KeyStore};
use standing::report::sample::sample_report;
use standing::signing::render_and_sign;
use standing::verify::verify_pdf;

use crate::helpers::*;

async fn demo_db() -> TestDb {
    let db = TestDb::new().await;
    let state = state(&db).await;
    state.load_demo_if_empty(&demo_dir()).await.unwrap();
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

    // An untouched report, offline: the signature holds (exit 0), the status
    // was not asked, and the text says so and where to ask; a script that
    // needs the status asks for it and gets exit 3.
    let (code, stdout, stderr) = run(&db, &["verify".as_ref(), pdf.as_os_str()]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.starts_with("SIGNATURE VALID; STATUS NOT CHECKED: "), "{stdout}");
    let (code, _, _) = run(&db, &["verify".as_ref(), pdf.as_os_str(), "--require-status".as_ref()]);
    assert_eq!(code, Some(3));
    let (code, v) = verify_json(&db, &pdf);
    assert_eq!(code, Some(0));
    assert_eq!(v["valid"], true);
    assert_eq!(v["registry"]["checked"], false);
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

    // keys list: the one key, active, ECDSA P-256 (the default) under an
    // ECDSA P-256 root.
    let (code, stdout, stderr) = run(&db, &["keys".as_ref(), "list".as_ref()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains(&old_kid) && stdout.contains("active") && stdout.contains("ecdsa-p256"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("root ") && l.contains("(ecdsa-p256)")), "{stdout}");

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
    assert_eq!(v["valid"], true, "{v}");
    let newer = dir.path().join("newer.pdf");
    let out = standing(&db).args(["report", "A1012", "--as-of", "2026-11-21", "--out"]).arg(&newer).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (code, v) = verify_json(&db, &newer);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_ne!(v["key_id"].as_str().unwrap(), old_kid);

    // The same check against the published JWKS instead of the key directory.
    let (_, jwks, _) = run(&db, &["keys".as_ref(), "list".as_ref(), "--json".as_ref()]);
    let jwks_file = dir.path().join("jwks.json");
    std::fs::write(&jwks_file, &jwks).unwrap();
    let (code, stdout, stderr) =
        run(&db, &["verify".as_ref(), pdf.as_os_str(), "--jwks".as_ref(), jwks_file.as_os_str()]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains(&format!("from the JWKS file {}", jwks_file.display())), "{stdout}");
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

/// `standing report` with the test's database and keys; the number issued.
fn issue_cli(db: &TestDb, account: &str, out: &std::path::Path, env: &[(&str, &str)]) -> String {
    let mut cmd = standing(db);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let done = cmd.args(["report", account, "--as-of", "2026-11-21", "--out"]).arg(out).output().unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    String::from_utf8_lossy(&done.stdout).split_whitespace().nth(1).unwrap().to_owned()
}

#[tokio::test]
async fn offline_verify_of_a_revoked_report_says_the_registry_was_not_asked() {
    let db = demo_db().await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("report.pdf");
    let number = issue_cli(&db, "A1012", &pdf, &[]);
    let out = standing(&db).args(["reports", "revoke", &number, "--reason", "issued in error"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // Offline nothing can know of the revocation: the answer must not read
    // as "valid", and must say where the status can be had.
    let (code, stdout, stderr) = run(&db, &["verify".as_ref(), pdf.as_os_str()]);

    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(!stdout.starts_with("VALID"), "{stdout}");
    assert!(stdout.starts_with("SIGNATURE VALID; STATUS NOT CHECKED:"), "{stdout}");
    assert!(stdout.contains("the registry was not asked"), "{stdout}");
    assert!(stdout.contains(&format!("check online at http://127.0.0.1:8080/verify/{number}?c=")), "{stdout}");
    assert!(stdout.contains("--jwks http://127.0.0.1:8080/.well-known/jwks.json"), "{stdout}");
    let (code, v) = verify_json(&db, &pdf);
    assert_eq!(code, Some(0));
    assert_eq!(v["registry"]["checked"], false, "{v:#}");
    assert!(v["registry"]["verify_online"].as_str().unwrap().contains(&number), "{v:#}");
    assert_eq!(v["registry"]["jwks_url"], "http://127.0.0.1:8080/.well-known/jwks.json");
}

#[tokio::test]
async fn verify_finds_the_keys_in_the_configured_data_directory_and_says_where_it_looked() {
    let db = demo_db().await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("report.pdf");
    issue_cli(&db, "A1012", &pdf, &[]);
    let keys = std::path::absolute(db.dir.join("var/keys")).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();

    // From another working directory (no ./var there): STANDING_DATA_DIR.
    let out = standing(&db).current_dir(elsewhere.path()).arg("verify").arg(&pdf).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("keys     from the key directory {}", keys.display())), "{stdout}");
    let out = standing(&db).current_dir(elsewhere.path()).arg("verify").arg(&pdf).arg("--json").output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["keys"], serde_json::json!({"source": "key_directory", "location": keys.display().to_string()}));

    // From a settings file's data_dir.
    let config = dir.path().join("standing.toml");
    std::fs::write(&config, format!("data_dir = {:?}\n", db.dir.join("var").display().to_string())).unwrap();
    let out = standing(&db)
        .env_remove("STANDING_DATA_DIR")
        .current_dir(elsewhere.path())
        .arg("--config")
        .arg(&config)
        .arg("verify")
        .arg(&pdf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    // A data directory without keys: the error names where it looked.
    let empty = std::path::absolute(elsewhere.path().join("empty")).unwrap();
    let out = standing(&db).env("STANDING_DATA_DIR", &empty).arg("verify").arg(&pdf).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&empty.join("keys").display().to_string()), "{stderr}");
    assert!(stderr.contains("STANDING_DATA_DIR") && stderr.contains("--jwks"), "{stderr}");
}

/// The CMS inside a signed PDF's `/Contents`, as DER.
fn cms_of(pdf: &[u8]) -> Vec<u8> {
    use der::{Decode, Encode};
    let sig = standing::pdf::scan::signature_dictionaries(pdf).pop().unwrap();
    let contents = sig.string(b"Contents").unwrap();
    let (info, _) = der::AnyRef::from_der_partial(contents).unwrap();
    info.to_der().unwrap()
}

/// `pdf` with `der` in `/Contents`, upper-case hex re-padded with `0` to the
/// same size, and how many bytes changed.
fn with_contents(pdf: &[u8], der: &[u8]) -> (Vec<u8>, usize) {
    let sig = standing::pdf::scan::signature_dictionaries(pdf).pop().unwrap();
    let span = sig.contents_span.unwrap();
    let mut hex = hex::encode_upper(der).into_bytes();
    hex.resize(span.len() - 2, b'0');
    let mut out = pdf.to_vec();
    out[span.start + 1..span.end - 1].copy_from_slice(&hex);
    let changed = out.iter().zip(pdf).filter(|(a, b)| a != b).count();
    (out, changed)
}

/// The CMS of `pdf` with its SignedData edited and re-encoded.
fn edited(pdf: &[u8], edit: impl FnOnce(&mut cms::signed_data::SignedData)) -> Vec<u8> {
    use der::{Decode, Encode};
    let mut info = cms::content_info::ContentInfo::from_der(&cms_of(pdf)).unwrap();
    let mut signed: cms::signed_data::SignedData = info.content.decode_as().unwrap();
    edit(&mut signed);
    info.content = der::Any::encode_from(&signed).unwrap();
    info.to_der().unwrap()
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).position(|w| w == needle).unwrap()
}

/// The attack of issue 10 (the root certificate removed from the CMS,
/// re-encoded and re-padded) and other edits of the signature's container,
/// refused by `standing verify` offline, by the upload API and by
/// `standing verify --jwks URL`.
#[tokio::test]
async fn container_edits_are_refused_offline_and_online() {
    use der::{Decode, Encode};
    let db = demo_db().await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("report.pdf");
    issue_cli(&db, "A1012", &pdf, &[]);
    let signed = std::fs::read(&pdf).unwrap();
    let root = {
        let pem = std::fs::read(db.dir.join("var/keys/root.pem")).unwrap();
        standing::keys::parse_certificate_pem_chain(&pem).unwrap().remove(0)
    };
    let is_root = |c: &cms::cert::CertificateChoices| matches!(c, cms::cert::CertificateChoices::Certificate(c) if c.to_der().unwrap() == root);

    let mut variants: Vec<(&str, Vec<u8>, &str)> = Vec::new();
    // The root removed, re-encoded, re-padded.
    let der = edited(&signed, |sd| {
        let certs: Vec<_> = sd.certificates.take().unwrap().0.into_vec().into_iter().filter(|c| !is_root(c)).collect();
        sd.certificates = Some(cms::signed_data::CertificateSet(der::asn1::SetOfVec::try_from(certs).unwrap()));
    });
    let (root_removed, changed) = with_contents(&signed, &der);
    assert!(changed > 500, "{changed} bytes of /Contents changed");
    variants.push(("root removed", root_removed, "certificates_removed"));
    // The two certificates swapped in place.
    let mut der = cms_of(&signed);
    let leaf = {
        let info = cms::content_info::ContentInfo::from_der(&der).unwrap();
        let sd: cms::signed_data::SignedData = info.content.decode_as().unwrap();
        let certs = sd.certificates.unwrap().0.into_vec();
        let leaf = certs.into_iter().find(|c| !is_root(c)).unwrap();
        let cms::cert::CertificateChoices::Certificate(leaf) = leaf else { panic!() };
        leaf.to_der().unwrap()
    };
    let (a, b) = (find(&der, &leaf), find(&der, &root));
    let (first, second) = if a < b { (&leaf, &root) } else { (&root, &leaf) };
    let at = a.min(b);
    der[at..at + first.len() + second.len()].copy_from_slice(&[second.as_slice(), first.as_slice()].concat());
    variants.push(("certificates reordered", with_contents(&signed, &der).0, "certificates_reordered"));
    // A certificate more.
    let other = {
        use rand::SeedableRng;
        let key =
            standing::keys::KeyPair::generate(KeyAlgorithm::EcdsaP256, &mut rand_chacha::ChaCha20Rng::seed_from_u64(5));
        standing::keys::root_certificate(&key, "Somebody Else", 7, Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap())
            .unwrap()
    };
    let der = edited(&signed, |sd| {
        let mut certs = sd.certificates.take().unwrap().0.into_vec();
        certs.push(cms::cert::CertificateChoices::Certificate(x509_cert::Certificate::from_der(&other).unwrap()));
        sd.certificates = Some(cms::signed_data::CertificateSet(der::asn1::SetOfVec::try_from(certs).unwrap()));
    });
    variants.push(("extra certificate", with_contents(&signed, &der).0, "certificates_added"));
    // An unsigned attribute.
    let der = edited(&signed, |sd| {
        let mut infos = sd.signer_infos.0.clone().into_vec();
        let attribute = x509_cert::attr::Attribute {
            oid: der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14"),
            values: der::asn1::SetOfVec::try_from(vec![der::Any::encode_from(&der::asn1::Null).unwrap()]).unwrap(),
        };
        infos[0].unsigned_attrs = Some(der::asn1::SetOfVec::try_from(vec![attribute]).unwrap());
        sd.signer_infos = cms::signed_data::SignerInfos(der::asn1::SetOfVec::try_from(infos).unwrap());
    });
    variants.push(("unsigned attribute", with_contents(&signed, &der).0, "unsigned_attributes_added"));

    let state =
        standing::web::AppState::open(db.settings(), std::sync::Arc::new(standing::clock::SystemClock)).await.unwrap();
    let app = spawn_app_with(state).await;
    let jwks_url = format!("{}/.well-known/jwks.json", app.base);

    for (what, bytes, change) in variants {
        let file = dir.path().join(format!("{}.pdf", what.replace(' ', "-")));
        std::fs::write(&file, &bytes).unwrap();
        let container = |v: &serde_json::Value| {
            v["problems"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["code"] == "signature_container_altered")
                .map(|p| p["changes"].clone())
        };

        // Offline.
        let (code, v) = verify_json(&db, &file);
        assert_eq!(code, Some(1), "{what}: {v:#}");
        assert_eq!(codes(&v), vec!["signature_container_altered"], "{what}: {v:#}");
        assert_eq!(container(&v), Some(serde_json::json!([change])), "{what}: {v:#}");

        // Online: the upload API.
        let verdict: serde_json::Value = app
            .client
            .post(format!("{}/api/v1/verify", app.base))
            .header("content-type", "application/pdf")
            .body(bytes.clone())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(verdict["valid"], false, "{what}: {verdict:#}");
        assert_eq!(container(&verdict), Some(serde_json::json!([change])), "{what}: {verdict:#}");

        // Online: the command against the service's keys and status.
        let mut cmd = standing(&db);
        cmd.env("STANDING_DATA_DIR", db.dir.join("elsewhere"));
        cmd.arg("verify").arg(&file).arg("--jwks").arg(&jwks_url).arg("--json");
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(1), "{what}: {v:#}");
        assert_eq!(container(&v), Some(serde_json::json!([change])), "{what}: {v:#}");
        assert_eq!(v["registry"]["checked"], true, "{what}: {v:#}");
    }

    // The untouched file, online: valid, status checked, exit 0.
    let mut cmd = standing(&db);
    cmd.arg("verify").arg(&pdf).arg("--jwks").arg(&jwks_url);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("VALID: "), "{stdout}");
}

/// `keys rotate --algorithm ed25519` under the default (ECDSA) root: the
/// Ed25519 key signs when configured, and pyHanko and `standing verify`
/// accept its reports; ECDSA reports of before stay valid.
#[tokio::test]
async fn an_ed25519_key_rotated_in_under_the_ecdsa_root_verifies() {
    let db = demo_db().await;
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("p256.pdf");
    issue_cli(&db, "A1012", &before, &[]);

    let (code, stdout, stderr) =
        run(&db, &["keys".as_ref(), "rotate".as_ref(), "--algorithm".as_ref(), "ed25519".as_ref()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("new ed25519 signing key "), "{stdout}");
    assert!(stdout.contains("set report.signature_algorithm"), "the default still signs: {stdout}");
    let kid = stdout.split_whitespace().nth(4).unwrap().to_owned();

    let pdf = dir.path().join("ed25519.pdf");
    issue_cli(&db, "A1012", &pdf, &[("STANDING_REPORT_SIGNATURE_ALGORITHM", "ed25519")]);

    let (code, v) = verify_json(&db, &pdf);
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["valid"], true, "{v:#}");
    assert_eq!(v["key_id"], kid.as_str(), "signed with the rotated-in key");
    let ring = KeyRing::load(&db.dir.join("var/keys")).unwrap();
    let root = standing::keys::summarize(ring.root_der.as_deref().unwrap()).unwrap();
    assert_eq!(root.public_key.algorithm(), KeyAlgorithm::EcdsaP256, "the same ECDSA root");
    if let Some(out) = crate::tools::pyhanko_validate(&pdf, &db.dir.join("var/keys/root.pem")) {
        assert!(out.text.contains("The signature is cryptographically sound."), "{}", out.text);
        assert!(out.text.contains("The signature covers the entire file."), "{}", out.text);
        assert!(out.text.contains("The signer's certificate is trusted."), "{}", out.text);
    }
    let (code, v) = verify_json(&db, &before);
    assert_eq!((code, v["valid"].clone()), (Some(0), serde_json::json!(true)), "{v:#}");
}
