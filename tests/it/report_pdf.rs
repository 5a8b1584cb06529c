//! The signed report end to end, as an operator issues it and as a visa
//! officer's tools judge it: pyHanko, poppler's pdfsig, qpdf, pdftotext.

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use standing::demo::demo_dir;
use standing::keys::{KeyPair, Signer, root_certificate, signing_certificate};
use standing::pdf::render::extract_report_json;
use standing::signing::render_and_sign;

use crate::helpers::*;
use crate::tools;

async fn demo_db() -> TestDb {
    let db = TestDb::new().await;
    let state = state(&db).await;
    state.load_demo_if_empty(&demo_dir()).await.unwrap();
    state.store.close().await;
    db
}

fn issue(db: &TestDb, account: &str, out: &Path, algorithm: Option<&str>) -> std::process::Output {
    let mut cmd = standing(db);
    if let Some(a) = algorithm {
        cmd.env("STANDING_REPORT_SIGNATURE_ALGORITHM", a);
    }
    cmd.args(["report", account, "--as-of", "2026-11-21", "--out"]).arg(out).output().unwrap()
}

/// The last balance of the demo account's USD holding, printed as the
/// report must print it: recomputed from the fixture file.
fn usd_holding_balance_text(account: &str) -> String {
    let text = std::fs::read_to_string(demo_dir().join("03-balances.jsonl")).unwrap();
    let last = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["account"] == account && v["currency"] == "USD")
        .max_by_key(|v| v["date"].as_str().unwrap().to_owned())
        .unwrap();
    let amount = last["amount"].as_str().unwrap();
    let money = standing::domain::Money::parse(amount, standing::domain::Currency::USD).unwrap();
    money.to_string()
}

#[tokio::test]
async fn an_issued_report_is_intact_trusted_and_says_what_the_data_says() {
    let db = demo_db().await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("report.pdf");

    let out = issue(&db, "A1012", &pdf, None);

    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let number = stdout.split_whitespace().nth(1).unwrap().to_owned();
    assert!(number.starts_with("SR-"), "{stdout}");
    let bytes = std::fs::read(&pdf).unwrap();

    // The attached report.json is what was attested.
    let json: serde_json::Value = serde_json::from_slice(&extract_report_json(&bytes).unwrap()).unwrap();
    assert_eq!(json["report_number"], number.as_str());
    assert_eq!(json["applicant"]["full_name"], "Zoë Łucja ŌTSUKA-NÚÑEZ");

    // Default settings: an ECDSA P-256 signature under an ECDSA P-256 root,
    // which both pyHanko and poppler's pdfsig (like Acrobat) can check.
    let root = db.dir.join("var/keys/root.pem");
    let ring = standing::keys::KeyRing::load(&db.dir.join("var/keys")).unwrap();
    let root_summary = standing::keys::summarize(ring.root_der.as_deref().unwrap()).unwrap();
    assert_eq!(root_summary.public_key.algorithm(), standing::keys::KeyAlgorithm::EcdsaP256);
    assert_eq!(json["signing"]["algorithm"], "ECDSA P-256");
    if let Some(v) = tools::pyhanko_validate(&pdf, &root) {
        assert!(v.text.contains("The signature is cryptographically sound."), "{}", v.text);
        assert!(v.text.contains("The signature covers the entire file."), "{}", v.text);
        assert!(v.text.contains("The signer's certificate is trusted."), "{}", v.text);
    }
    if let Some(v) = tools::run("pdfsig", &[pdf.as_os_str()]) {
        assert!(v.text.contains("Signature Validation: Signature is Valid."), "{}", v.text);
        assert!(v.text.contains("Total document signed"), "{}", v.text);
    }
    // With our root trusted in an NSS database (as an officer's viewer
    // would hold it), pdfsig trusts the whole chain too.
    let nss = format!("sql:{}", dir.path().join("nss").display());
    std::fs::create_dir(dir.path().join("nss")).unwrap();
    if let Some(made) =
        tools::run("certutil", &["-N".as_ref(), "-d".as_ref(), nss.as_ref(), "--empty-password".as_ref()])
    {
        assert!(made.success, "{}", made.text);
        let trust = ["-A", "-d", &nss, "-n", "standing root", "-t", "CT,CT,CT", "-i"];
        let mut args: Vec<&std::ffi::OsStr> = trust.iter().map(|a| a.as_ref()).collect();
        args.push(root.as_os_str());
        let added = tools::run("certutil", &args).unwrap();
        assert!(added.success, "{}", added.text);
        if let Some(v) = tools::run("pdfsig", &["-nssdir".as_ref(), nss.as_ref(), pdf.as_os_str()]) {
            assert!(v.text.contains("Signature Validation: Signature is Valid."), "{}", v.text);
            assert!(v.text.contains("Certificate Validation: Certificate is Trusted."), "{}", v.text);
        }
    }
    if let Some(check) = tools::run("qpdf", &["--check".as_ref(), pdf.as_os_str()]) {
        assert!(check.success, "{}", check.text);
    }
    if let Some(text) = tools::pdftotext(&pdf) {
        assert!(text.contains("Zoë Łucja ŌTSUKA-NÚÑEZ"), "the name with its diacritics: {text}");
        assert!(text.contains(&number));
        assert!(text.contains(&usd_holding_balance_text("A1012")), "USD holding balance in: {text}");
        assert!(text.contains("Proof of Financial Standing"));
    }

    // One byte changed anywhere is caught.
    let mut tampered = bytes.clone();
    let middle = tampered.len() / 3;
    tampered[middle] ^= 0x01;
    let bad = dir.path().join("tampered.pdf");
    std::fs::write(&bad, &tampered).unwrap();
    if let Some(v) = tools::pyhanko_validate(&bad, &root) {
        assert!(!v.text.contains("The signature is cryptographically sound."), "{}", v.text);
    }
}

#[tokio::test]
async fn the_ed25519_option_satisfies_pyhanko_under_the_ecdsa_root() {
    let db = demo_db().await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("report-ed25519.pdf");

    let out = issue(&db, "A1001", &pdf, Some("ed25519"));

    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&extract_report_json(&std::fs::read(&pdf).unwrap()).unwrap()).unwrap();
    assert_eq!(json["signing"]["algorithm"], "Ed25519");
    if let Some(v) = tools::pyhanko_validate(&pdf, &db.dir.join("var/keys/root.pem")) {
        assert!(v.text.contains("The signature is cryptographically sound."), "{}", v.text);
        assert!(v.text.contains("The signer's certificate is trusted."), "{}", v.text);
    }
}

#[tokio::test]
async fn an_ineligible_account_is_refused_with_reasons_and_no_file() {
    let db = demo_db().await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("never.pdf");

    let out = issue(&db, "A1003", &pdf, None);

    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not eligible"), "{stderr}");
    assert!(stderr.contains("750"), "{stderr}");
    assert!(!pdf.exists(), "no file is written for a refused account");
}

/// A fixed signing identity, the default kind (ECDSA P-256 under an ECDSA
/// P-256 root): the same seed, names and dates every run. (ECDSA signing
/// derives its nonce from the key and message, RFC 6979: deterministic.)
fn fixed_signer() -> Signer {
    use rand::SeedableRng;
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2026);
    let root_key = KeyPair::generate(standing::keys::KeyAlgorithm::EcdsaP256, &mut rng);
    let root = root_certificate(&root_key, "standing (golden test)", 1, at).unwrap();
    let key = KeyPair::generate(standing::keys::KeyAlgorithm::EcdsaP256, &mut rng);
    let cert = signing_certificate(&key, &root_key, &root, "standing (golden test)", 2, at).unwrap();
    Signer::new(key, cert, vec![root]).unwrap()
}

/// The QR code on page 1, scanned from a rendered picture as a phone would,
/// carries the verification link with the report's number and code.
#[test]
fn the_qr_code_scans_to_the_verification_link() {
    let data = standing::report::sample::sample_report();
    let time = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();
    let pdf = render_and_sign(&data, &fixed_signer(), time, "standing").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.pdf");
    std::fs::write(&file, pdf).unwrap();
    let prefix = dir.path().join("page");
    let Some(rendered) = tools::run(
        "pdftoppm",
        &[
            "-png".as_ref(),
            "-r".as_ref(),
            "150".as_ref(),
            "-f".as_ref(),
            "1".as_ref(),
            "-l".as_ref(),
            "1".as_ref(),
            "-singlefile".as_ref(),
            file.as_os_str(),
            prefix.as_os_str(),
        ],
    ) else {
        return;
    };
    assert!(rendered.success, "{}", rendered.text);
    let Some(scanned) =
        tools::run("zbarimg", &["--quiet".as_ref(), "--raw".as_ref(), prefix.with_extension("png").as_os_str()])
    else {
        return;
    };
    assert!(scanned.success, "{}", scanned.text);
    // stdout first; zbarimg may add notices on stderr after it.
    assert_eq!(scanned.text.lines().next().unwrap_or_default(), data.verification_url, "{}", scanned.text);
    assert!(data.verification_url.contains(&data.report_number) && data.verification_url.contains("?c="));
}

fn golden_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/golden/report-sample.pdf")
}

#[test]
fn the_same_data_clock_and_key_give_the_golden_bytes() {
    let data = standing::report::sample::sample_report();
    let time = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();

    let first = render_and_sign(&data, &fixed_signer(), time, "standing").unwrap();
    let second = render_and_sign(&data, &fixed_signer(), time, "standing").unwrap();

    assert!(first == second, "rendering and signing are deterministic");
    if std::env::var("STANDING_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(golden_path().parent().unwrap()).unwrap();
        std::fs::write(golden_path(), &first).unwrap();
    }
    let golden = std::fs::read(golden_path()).expect("golden file; create it with STANDING_UPDATE_GOLDEN=1");
    assert!(
        first == golden,
        "the report bytes changed ({} vs {} bytes); if intended, review the PDF and run \
         STANDING_UPDATE_GOLDEN=1 cargo test --test it golden",
        first.len(),
        golden.len()
    );
}

#[tokio::test]
async fn an_operator_supplied_chain_and_key_sign_the_report() {
    let db = demo_db().await;
    let dir = tempfile::tempdir().unwrap();
    // The operator's own CA and signing key, as PEM files.
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let ca_key = KeyPair::ed25519_from_seed(&[9; 32]);
    let ca = root_certificate(&ca_key, "Operator Trust Services", 11, at).unwrap();
    let key = KeyPair::ed25519_from_seed(&[10; 32]);
    let leaf = signing_certificate(&key, &ca_key, &ca, "Operator Trust Services", 12, at).unwrap();
    let chain = dir.path().join("chain.pem");
    let pem = |der: &[u8]| standing::keys::certificate_pem(der).unwrap();
    std::fs::write(&chain, format!("{}{}", pem(&leaf), pem(&ca))).unwrap();
    let key_file = dir.path().join("key.pem");
    let key_pem =
        der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, key.to_pkcs8_der().unwrap().as_slice())
            .unwrap();
    std::fs::write(&key_file, key_pem).unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, pem(&ca)).unwrap();
    let pdf = dir.path().join("report.pdf");

    let out = standing(&db)
        .env("STANDING_REPORT_SIGNING_CHAIN", &chain)
        .env("STANDING_REPORT_SIGNING_KEY", &key_file)
        .args(["report", "A1001", "--as-of", "2026-11-21", "--out"])
        .arg(&pdf)
        .output()
        .unwrap();

    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!db.dir.join("var/keys/root.pem").exists(), "the service made no root of its own");
    if let Some(v) = tools::pyhanko_validate(&pdf, &ca_file) {
        assert!(v.text.contains("The signer's certificate is trusted."), "{}", v.text);
        assert!(v.text.contains("The signature is cryptographically sound."), "{}", v.text);
    }
    // Our own check holds it to the configured chain.
    let out = standing(&db)
        .env("STANDING_REPORT_SIGNING_CHAIN", &chain)
        .env("STANDING_REPORT_SIGNING_KEY", &key_file)
        .args(["verify", "--json"])
        .arg(&pdf)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(v["valid"], true, "{v:#}");
    assert_eq!(v["keys"]["source"], "signing_chain", "{v:#}");
}

#[tokio::test]
async fn page_one_names_the_issuer_and_the_data_coverage_and_each_holding_its_institution() {
    let db = demo_db().await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("report.pdf");
    let out = standing(&db)
        .env("STANDING_REPORT_ISSUER_LEGAL_NAME", "Example Credit Co., Ltd.")
        .env("STANDING_REPORT_ISSUER_ADDRESS", "1 Test Road, Shanghai")
        .env("STANDING_REPORT_ISSUER_CONTACT", "officers@example.com")
        .args(["report", "A1012", "--as-of", "2026-11-21", "--out"])
        .arg(&pdf)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&standing::pdf::render::extract_report_json(&std::fs::read(&pdf).unwrap()).unwrap())
            .unwrap();
    assert_eq!(json["issuer"]["legal_name"], "Example Credit Co., Ltd.");
    assert_eq!(json["issuer"]["address"], "1 Test Road, Shanghai");
    assert_eq!(json["issuer"]["contact"], "officers@example.com");
    assert_eq!(json["coverage"]["balances_to"], "2026-11-20");
    for h in json["assets"]["holdings"].as_array().unwrap() {
        assert_eq!(h["current"], true, "{h}");
        assert!(h["institution"].as_str().is_some_and(|i| !i.is_empty()), "{h}");
    }
    if let Some(text) = tools::pdftotext(&pdf) {
        let page_one = text.split('\u{c}').next().unwrap();
        for needle in
            ["Example Credit Co., Ltd.", "1 Test Road, Shanghai", "officers@example.com", "balances to 2026-11-20"]
        {
            assert!(page_one.contains(needle), "{needle} on page 1: {page_one}");
        }
        // The holding column is narrow: the date of the current balance is
        // on the line after "current as of".
        assert!(text.contains("current as of"), "{text}");
        let institution = json["assets"]["holdings"][0]["institution"].as_str().unwrap();
        let first_word = institution.split_whitespace().next().unwrap();
        assert!(text.contains(first_word), "{institution} in {text}");
    }
}
