use super::*;
use crate::keys::{KeyPair, root_certificate, signing_certificate};
use crate::testing::{pyhanko_validate_bytes as pyhanko_validate, run_on_pdf};
use chrono::TimeZone;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 9, 30, 0).unwrap()
}

/// A root and a signing key for `alg`, derived from fixed seeds.
fn signer(alg: KeyAlgorithm) -> (Signer, Vec<u8>) {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(42);
    let root_key = KeyPair::generate(alg, &mut rng);
    let leaf_key = KeyPair::generate(alg, &mut rng);
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let root = root_certificate(&root_key, "Example Credit Ltd", 1, start).unwrap();
    let leaf = signing_certificate(&leaf_key, &root_key, &root, "Example Credit Ltd", 2, start).unwrap();
    (Signer::new(leaf_key, leaf, vec![root.clone()]).unwrap(), root)
}

/// A minimal PDF 1.7 with a classic cross-reference table, written by
/// hand: one page with a text content stream.
fn tiny_pdf() -> Vec<u8> {
    let content = b"BT /F1 24 Tf 72 720 Td (Proof of Financial Standing) Tj ET";
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
           /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_vec(),
        [format!("<< /Length {} >>\nstream\n", content.len()).as_bytes(), content, b"\nendstream"].concat(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ];
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

/// A seven-page report-like PDF from printpdf (PDF 1.3, classic xref,
/// compressed content), about 10 KB.
fn printpdf_report() -> Vec<u8> {
    use printpdf::*;
    let mut doc = PdfDocument::new("Proof of Financial Standing");
    let mut pages = Vec::new();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for page in 1..=7 {
        let mut ops = vec![
            Op::StartTextSection,
            Op::SetTextCursor { pos: Point::new(Mm(20.0), Mm(277.0)) },
            Op::SetFont { font: PdfFontHandle::Builtin(BuiltinFont::Helvetica), size: Pt(9.0) },
            Op::SetLineHeight { lh: Pt(12.0) },
        ];
        for line in 0..60 {
            // A small xorshift generator: amounts that do not compress away.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ops.push(Op::ShowText {
                items: vec![TextItem::Text(format!(
                    "SR-KYYF-9TKJ-6Q8Q  page {page} of 7  2026-{:02}-{:02}  groceries  CNY {},{:03}.{:02}  {} tx",
                    line % 12 + 1,
                    x % 28 + 1,
                    x % 97,
                    (x >> 8) % 1000,
                    (x >> 20) % 100,
                    (x >> 30) % 300
                ))],
            });
            ops.push(Op::AddLineBreak);
        }
        ops.push(Op::EndTextSection);
        pages.push(PdfPage::new(Mm(210.0), Mm(297.0), ops));
    }
    let mut warnings = Vec::new();
    doc.with_pages(pages).save(&PdfSaveOptions::default(), &mut warnings)
}

fn opts() -> SignOptions {
    SignOptions {
        name: "Example Credit Ltd".into(),
        reason: "Proof of financial standing SR-KYYF-9TKJ-6Q8Q".into(),
        location: Some("Shanghai".into()),
        contact_info: None,
        contents_size: DEFAULT_CONTENTS_SIZE,
    }
}

const ALGS: [KeyAlgorithm; 2] = [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256];

#[test]
fn sign_extract_verify_round_trip() {
    for unsigned in [tiny_pdf(), printpdf_report()] {
        for alg in ALGS {
            let (signer, root) = signer(alg);
            let signed = sign_pdf(&unsigned, &signer, t0(), &opts()).unwrap();
            assert!(signed.starts_with(&unsigned), "the original bytes are kept verbatim");
            let parts = extract_signature(&signed).unwrap();
            assert!(parts.covers_whole_file);
            assert_eq!(parts.byte_range[0], 0);
            assert_eq!(parts.sub_filter.as_deref(), Some("ETSI.CAdES.detached"));
            assert_eq!(parts.signing_time.as_deref(), Some("D:20261121093000Z"));
            assert!(parts.cms_der.len() < 2000, "{} bytes", parts.cms_der.len());
            let verified = verify_cms(&signed, &parts, &root).unwrap();
            assert_eq!(verified.algorithm, alg);
            assert_eq!(verified.kid, signer.kid());

            // Another root does not vouch for it.
            let (_, other_root) = {
                use rand::SeedableRng;
                let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(99);
                let k = KeyPair::generate(alg, &mut rng);
                ((), root_certificate(&k, "Example Credit Ltd", 1, t0()).unwrap())
            };
            assert!(matches!(verify_cms(&signed, &parts, &other_root), Err(VerifyError::UntrustedCertificate(_))));

            // lopdf reads the result and sees the new revision.
            let doc = Document::load_mem(&signed).unwrap();
            let catalog = doc.catalog().unwrap();
            let form = catalog.get(b"AcroForm").unwrap().as_dict().unwrap();
            assert_eq!(form.get(b"SigFlags").unwrap().as_i64().unwrap(), 3);
            let version = catalog.get(b"Version").ok().map(|v| v.as_name().unwrap().to_vec());
            match alg {
                KeyAlgorithm::Ed25519 => {
                    assert_eq!(version.as_deref(), Some(&b"2.0"[..]));
                    let ext = catalog.get(b"Extensions").unwrap().as_dict().unwrap();
                    let iso = ext.get(b"ISO_").unwrap().as_array().unwrap()[0].as_dict().unwrap();
                    assert_eq!(iso.get(b"ExtensionLevel").unwrap().as_i64().unwrap(), 32002);
                }
                KeyAlgorithm::EcdsaP256 => assert!(version.is_none()),
            }
        }
    }
}

#[test]
fn a_changed_byte_is_detected() {
    let unsigned = tiny_pdf();
    for alg in ALGS {
        let (signer, root) = signer(alg);
        let signed = sign_pdf(&unsigned, &signer, t0(), &opts()).unwrap();
        let parts = extract_signature(&signed).unwrap();
        // In the page text, in the appended update, and in the signature value.
        let text = find(&signed, b"Proof of Financial Standing");
        let reason = find(&signed, b"/Reason");
        let in_signature = parts.byte_range[1] + 40;
        for (at, what) in [(text, "page content"), (reason + 3, "signature dictionary"), (in_signature, "cms")] {
            let mut tampered = signed.clone();
            tampered[at] ^= 0x01;
            let result = extract_signature(&tampered).and_then(|p| verify_cms(&tampered, &p, &root));
            assert!(result.is_err(), "{alg}: a change in the {what} went unnoticed");
        }
        // Appending after the signature is not covered.
        let mut appended = signed.clone();
        appended.extend_from_slice(b"\n% appended\n");
        let parts = extract_signature(&appended).unwrap();
        assert!(!parts.covers_whole_file);
    }
}

#[test]
fn output_is_deterministic() {
    for unsigned in [tiny_pdf(), printpdf_report()] {
        for alg in ALGS {
            let (signer, _) = signer(alg);
            let a = sign_pdf(&unsigned, &signer, t0(), &opts()).unwrap();
            let b = sign_pdf(&unsigned, &signer, t0(), &opts()).unwrap();
            assert!(a == b, "{alg}: two signatures of the same input differ");
            let later = sign_pdf(&unsigned, &signer, t0() + chrono::Duration::seconds(1), &opts()).unwrap();
            assert!(a != later);
        }
    }
}

#[test]
fn oversize_signature_is_refused() {
    let (signer, _) = signer(KeyAlgorithm::Ed25519);
    let small = SignOptions { contents_size: 512, ..opts() };
    let err = sign_pdf(&tiny_pdf(), &signer, t0(), &small).unwrap_err();
    assert!(matches!(err, SignError::SignatureTooLarge { reserved: 512, needed } if needed > 512), "unexpected {err}");
}

#[test]
fn not_a_pdf_and_unsigned_pdf() {
    assert_eq!(extract_signature(b"hello"), Err(VerifyError::NotPdf));
    assert_eq!(extract_signature(&tiny_pdf()), Err(VerifyError::NoSignature));
    let (signer, _) = signer(KeyAlgorithm::Ed25519);
    assert!(matches!(sign_pdf(b"%PDF-1.7 nothing", &signer, t0(), &opts()), Err(SignError::Pdf(_))));
}

#[test]
fn signing_twice_adds_a_second_field() {
    let (signer, root) = signer(KeyAlgorithm::EcdsaP256);
    let once = sign_pdf(&tiny_pdf(), &signer, t0(), &opts()).unwrap();
    let twice = sign_pdf(&once, &signer, t0(), &opts()).unwrap();
    let parts = extract_signature(&twice).unwrap();
    assert!(parts.covers_whole_file);
    verify_cms(&twice, &parts, &root).unwrap();
    assert!(find(&twice, b"(Signature2)") > once.len());
}

#[test]
fn cross_reference_streams_are_continued_in_kind() {
    // lopdf writes a file with a cross-reference stream when asked.
    let mut doc = Document::load_mem(&tiny_pdf()).unwrap();
    doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceStream;
    doc.version = "1.7".into();
    let mut unsigned = Vec::new();
    doc.save_to(&mut unsigned).unwrap();
    assert!(find(&unsigned, b"/XRef") > 0);
    let (signer, root) = signer(KeyAlgorithm::Ed25519);
    let signed = sign_pdf(&unsigned, &signer, t0(), &opts()).unwrap();
    let tail = &signed[unsigned.len()..];
    assert!(find(tail, b"/Type/XRef") > 0);
    let parts = extract_signature(&signed).unwrap();
    verify_cms(&signed, &parts, &root).unwrap();
    if let Some(out) = run_on_pdf("qpdf", &["--check", "{pdf}"], &signed) {
        assert!(out.success, "qpdf --check:\n{}", out.text);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).position(|w| w == needle).unwrap_or_else(|| {
        panic!("{:?} not found", String::from_utf8_lossy(needle));
    })
}

#[test]
fn pyhanko_qpdf_and_pdfsig_accept_the_signature() {
    let unsigned = printpdf_report();
    for alg in ALGS {
        let (signer, root) = signer(alg);
        let signed = sign_pdf(&unsigned, &signer, t0(), &opts()).unwrap();
        if std::env::var_os("STANDING_KEEP_SIGNED").is_some() {
            std::fs::write(format!("/tmp/standing-signed-{alg}.pdf"), &signed).unwrap();
            std::fs::write(format!("/tmp/standing-root-{alg}.pem"), crate::keys::certificate_pem(&root).unwrap())
                .unwrap();
        }

        if let Some(out) = pyhanko_validate(&signed, &root) {
            println!("pyhanko ({alg}):\n{}", out.text);
            assert!(out.success, "pyhanko ({alg}) failed:\n{}", out.text);
            for line in [
                "The signature is cryptographically sound.",
                "The signature covers the entire file.",
                "The signer's certificate is trusted.",
                "The signature is judged VALID.",
            ] {
                assert!(out.text.contains(line), "pyhanko ({alg}) did not say {line:?}:\n{}", out.text);
            }
        }
        if let Some(out) = run_on_pdf("qpdf", &["--check", "{pdf}"], &signed) {
            assert!(out.success, "qpdf --check ({alg}):\n{}", out.text);
        }
        if alg == KeyAlgorithm::EcdsaP256
            && let Some(out) = run_on_pdf("pdfsig", &["{pdf}"], &signed)
        {
            println!("pdfsig ({alg}):\n{}", out.text);
            assert!(out.text.contains("Signature Validation: Signature is Valid."), "pdfsig:\n{}", out.text);
            assert!(out.text.contains("Total document signed"), "pdfsig:\n{}", out.text);
        }
    }
}

/// A root of either algorithm certifies keys of either: what a key
/// directory made before ECDSA became the default (an Ed25519 root) does
/// after the switch, and what `keys rotate --algorithm ed25519` does
/// under an ECDSA root.
#[test]
fn mixed_chains_verify_and_what_pdfsig_makes_of_them() {
    use rand::SeedableRng;
    let unsigned = printpdf_report();
    for (root_alg, leaf_alg) in
        [(KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256), (KeyAlgorithm::EcdsaP256, KeyAlgorithm::Ed25519)]
    {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let root_key = KeyPair::generate(root_alg, &mut rng);
        let leaf_key = KeyPair::generate(leaf_alg, &mut rng);
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let root = root_certificate(&root_key, "Example Credit Ltd", 1, start).unwrap();
        let leaf = signing_certificate(&leaf_key, &root_key, &root, "Example Credit Ltd", 2, start).unwrap();
        let signer = Signer::new(leaf_key, leaf, vec![root.clone()]).unwrap();
        let signed = sign_pdf(&unsigned, &signer, t0(), &opts()).unwrap();
        if std::env::var_os("STANDING_KEEP_SIGNED").is_some() {
            std::fs::write(format!("/tmp/standing-mixed-{root_alg}-root-{leaf_alg}.pdf"), &signed).unwrap();
            let pem = crate::keys::certificate_pem(&root).unwrap();
            std::fs::write(format!("/tmp/standing-mixed-{root_alg}-root.pem"), pem).unwrap();
        }
        let parts = extract_signature(&signed).unwrap();
        assert_eq!(verify_cms(&signed, &parts, &root).unwrap().algorithm, leaf_alg);
        if let Some(out) = pyhanko_validate(&signed, &root) {
            println!("pyhanko ({root_alg} root, {leaf_alg} key):\n{}", out.text);
            assert!(out.text.contains("The signature is cryptographically sound."), "{}", out.text);
            assert!(out.text.contains("The signer's certificate is trusted."), "{}", out.text);
        }
        if leaf_alg == KeyAlgorithm::EcdsaP256
            && let Some(out) = run_on_pdf("pdfsig", &["{pdf}"], &signed)
        {
            // The signature itself checks; the chain (an Ed25519
            // signature on the certificate) is beyond NSS.
            println!("pdfsig ({root_alg} root, {leaf_alg} key):\n{}", out.text);
            assert!(out.text.contains("Signature Validation: Signature is Valid."), "pdfsig:\n{}", out.text);
        }
    }
}

#[test]
fn pyhanko_detects_a_changed_byte() {
    let unsigned = printpdf_report();
    for alg in ALGS {
        let (signer, root) = signer(alg);
        let signed = sign_pdf(&unsigned, &signer, t0(), &opts()).unwrap();
        let content = find(&signed, b"stream") + 40; // inside page 1's compressed content stream
        let appended = find(&signed[unsigned.len()..], b"/Reason") + unsigned.len() + 10;
        for (at, what) in [(content, "content stream"), (appended, "appended update")] {
            let mut tampered = signed.clone();
            tampered[at] ^= 0x01;
            let Some(out) = pyhanko_validate(&tampered, &root) else { return };
            println!("pyhanko ({alg}, {what} changed):\n{}", out.text);
            assert!(
                !out.success && !out.text.contains("The signature is cryptographically sound."),
                "pyhanko ({alg}) missed a change in the {what}:\n{}",
                out.text
            );
        }
    }
}

#[test]
fn report_json_round_trips_also_when_signed() {
    use crate::keys::{KeyAlgorithm, Signer};
    use crate::pdf::render::extract_report_json;
    let data = crate::report::sample::sample_report();
    let pdf = render_pdf(&data, Fonts::embedded().unwrap()).unwrap();
    let json = extract_report_json(&pdf).unwrap();
    assert_eq!(json, serde_json::to_vec_pretty(&data).unwrap());
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(value["report_number"], "SR-KYYF-9TKJ-6Q8Q");

    let signer = {
        use crate::keys::{KeyPair, root_certificate, signing_certificate};
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let root_key = KeyPair::generate(KeyAlgorithm::Ed25519, &mut rng);
        let leaf_key = KeyPair::generate(KeyAlgorithm::Ed25519, &mut rng);
        let start = data.issued_at - chrono::Duration::days(30);
        let root = root_certificate(&root_key, "Example Credit Ltd", 1, start).unwrap();
        let leaf = signing_certificate(&leaf_key, &root_key, &root, "Example Credit Ltd", 2, start).unwrap();
        Signer::new(leaf_key, leaf, vec![root]).unwrap()
    };
    let options = SignOptions {
        name: data.issuer.name.clone(),
        reason: format!("Proof of financial standing {}", data.report_number),
        location: None,
        contact_info: None,
        contents_size: DEFAULT_CONTENTS_SIZE,
    };
    let signed = sign_pdf(&pdf, &signer, data.issued_at, &options).unwrap();
    assert_eq!(extract_report_json(&signed).unwrap(), json);
    assert!(extract_report_json(b"%PDF-1.3 nothing").is_err());
}
