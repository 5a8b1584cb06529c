//! Crafted files, each with its answer; and single-byte changes anywhere.

use std::sync::OnceLock;

use chrono::TimeZone;
use proptest::prelude::*;
use serde_json::json;

use super::signature::parse_pdf_date;
use super::*;
use crate::keys::{KeyPair, Signer, root_certificate, signing_certificate};
use crate::pdf::render::{Fonts, render_pdf};
use crate::report::sample::sample_report;
use crate::signing::render_and_sign;
use der::Decode;
use sha2::{Digest, Sha256};

mod container;

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 9, 0, 0).unwrap()
}

/// A root and signing keys under it, from fixed seeds.
struct Issuer {
    root_key: KeyPair,
    root: Vec<u8>,
}

impl Issuer {
    fn new(seed: u8) -> Self {
        let root_key = KeyPair::ed25519_from_seed(&[seed; 32]);
        let root = root_certificate(&root_key, "standing (test)", 1, at(2026, 1, 1)).unwrap();
        Issuer { root_key, root }
    }

    fn signer(&self, seed: u8, from: DateTime<Utc>) -> Signer {
        let key = KeyPair::ed25519_from_seed(&[seed; 32]);
        let cert =
            signing_certificate(&key, &self.root_key, &self.root, "standing (test)", u64::from(seed), from).unwrap();
        Signer::new(key, cert, vec![self.root.clone()]).unwrap()
    }

    fn ring(&self, signers: &[&Signer]) -> KeyRing {
        let certs: Vec<Vec<u8>> = signers.iter().map(|s| s.certificate_der().to_vec()).collect();
        KeyRing::from_certificates(Some(self.root.clone()), &certs).unwrap()
    }
}

struct Fixture {
    ring: KeyRing,
    signed: Vec<u8>,
    unsigned_len: usize,
}

/// The sample report signed on 2026-11-21 with a key of 2026-01-01.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let issuer = Issuer::new(1);
        let signer = issuer.signer(2, at(2026, 1, 1));
        let data = sample_report();
        let signed = render_and_sign(&data, &signer, at(2026, 11, 21), "standing").unwrap();
        let unsigned_len = render_pdf(&data, Fonts::embedded().unwrap()).unwrap().len();
        Fixture { ring: issuer.ring(&[&signer]), signed, unsigned_len }
    })
}

fn now() -> DateTime<Utc> {
    at(2026, 11, 22)
}

fn codes(v: &Verification) -> Vec<&'static str> {
    v.problems.iter().map(Problem::code).collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    memchr::memmem::find(haystack, needle).unwrap()
}

/// Where `/Contents`' hex begins (just after `<`) and the DER length.
fn contents(pdf: &[u8]) -> (usize, usize) {
    let sig = scan::signature_dictionaries(pdf).pop().unwrap();
    let span = sig.contents_span.clone().unwrap();
    let der_len = sig.string(b"Contents").map(|c| {
        let (_, rest) = der::AnyRef::from_der_partial(c).unwrap();
        c.len() - rest.len()
    });
    (span.start + 1, der_len.unwrap())
}

#[test]
fn an_untouched_report_is_valid_and_names_itself() {
    let f = fixture();

    let v = verify_pdf(&f.signed, &f.ring, now());

    assert!(v.valid, "{:#?}", v.problems);
    assert!(v.checks.iter().all(|c| c.ok));
    let data = sample_report();
    assert_eq!(v.report_number.as_deref(), Some(data.report_number.as_str()));
    assert_eq!(v.verification_code.as_deref(), Some(data.verification_code.as_str()));
    assert_eq!(v.key_id.as_deref(), Some(f.ring.keys[0].kid.as_str()));
    assert_eq!(v.signing_time, Some(at(2026, 11, 21)));
    assert_eq!(v.sha256, hex::encode(Sha256::digest(&f.signed)));
    assert_eq!(v.attached_report.as_ref().unwrap()["report_number"], data.report_number.as_str());
    let names: Vec<&str> = v.checks.iter().map(|c| c.name).collect();
    for name in ["pdf", "signature_present", "byte_range", "whole_file", "padding", "key_known", "signature", "content"]
    {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["valid"], true);
    assert!(json.get("attached_report").is_none(), "the report JSON is not echoed back");
}

#[test]
fn not_a_pdf_empty_and_unsigned() {
    let f = fixture();
    for bytes in [&b""[..], b"hello world", b"%PDX-1.3"] {
        assert_eq!(codes(&verify_pdf(bytes, &f.ring, now())), vec!["not_pdf"]);
    }
    let unsigned = &f.signed[..f.unsigned_len];
    let v = verify_pdf(unsigned, &f.ring, now());
    assert_eq!(codes(&v), vec!["no_signature"]);
    assert!(v.problems[0].message.contains("removed"));
    assert!(v.report_number.is_some(), "the attachment still names the report");
}

#[test]
fn the_signature_dictionary_removed() {
    let f = fixture();
    let mut removed = f.signed.clone();
    let sig = find(&removed[f.unsigned_len..], b"/Type/Sig") + f.unsigned_len;
    removed[sig..sig + 9].copy_from_slice(b"/Type/Nil");

    assert_eq!(codes(&verify_pdf(&removed, &f.ring, now())), vec!["no_signature"]);
}

#[test]
fn a_byte_flipped_in_the_content() {
    let f = fixture();
    let mut tampered = f.signed.clone();
    let at = find(&tampered, b"stream") + 100;
    tampered[at] ^= 0x01;

    let v = verify_pdf(&tampered, &f.ring, now());

    assert_eq!(codes(&v), vec!["content_changed"]);
    assert!(v.problems[0].message.contains("changed after signing"));
}

#[test]
fn bytes_appended_are_counted() {
    let f = fixture();
    let mut appended = f.signed.clone();
    appended.extend_from_slice(b"% twelve b\n");

    let v = verify_pdf(&appended, &f.ring, now());

    assert_eq!(v.problems[0].kind, ProblemKind::BytesAppended { count: 11 });
    assert_eq!(codes(&v), vec!["bytes_appended"], "the signed part itself is intact");
    assert_eq!(v.problems[0].message, "11 bytes were added after signing");
}

#[test]
fn an_incremental_update_that_changes_a_page() {
    // What an editor does: a new revision of page 1 (drawing over it), with
    // its own cross-reference section pointing back at the signed one.
    let f = fixture();
    let doc = lopdf::Document::load_mem(&f.signed).unwrap();
    let page_id = *doc.get_pages().values().next().unwrap();
    let mut page = doc.get_dictionary(page_id).unwrap().clone();
    let size = doc.trailer.get(b"Size").unwrap().as_i64().unwrap() as u32;
    page.set("Contents", lopdf::Object::Reference((size, 0)));
    let prev = doc.xref_start;
    let mut update = f.signed.clone();
    let mut offsets = Vec::new();
    offsets.push((page_id.0, update.len()));
    update.extend_from_slice(format!("{} 0 obj\n", page_id.0).as_bytes());
    lopdf::Writer::write_object(&mut update, &lopdf::Object::Dictionary(page)).unwrap();
    update.extend_from_slice(b"\nendobj\n");
    offsets.push((size, update.len()));
    let content = b"BT /F1 40 Tf 100 700 Td (FORGED) Tj ET";
    update.extend_from_slice(format!("{size} 0 obj\n<</Length {}>>\nstream\n", content.len()).as_bytes());
    update.extend_from_slice(content);
    update.extend_from_slice(b"\nendstream\nendobj\n");
    let xref = update.len();
    update.extend_from_slice(b"xref\n");
    for (id, offset) in &offsets {
        update.extend_from_slice(format!("{id} 1\n{offset:010} 00000 n\r\n").as_bytes());
    }
    update.extend_from_slice(
        format!("trailer\n<</Size {} /Root 1 0 R /Prev {prev}>>\nstartxref\n{xref}\n%%EOF\n", size + 1).as_bytes(),
    );
    assert!(lopdf::Document::load_mem(&update).is_ok(), "a well-formed update");
    let added = (update.len() - f.signed.len()) as u64;

    let v = verify_pdf(&update, &f.ring, now());

    assert_eq!(codes(&v), vec!["bytes_appended"]);
    assert_eq!(v.problems[0].kind, ProblemKind::BytesAppended { count: added });
    assert!(v.problems[0].message.contains("incremental update"), "{}", v.problems[0].message);
}

#[test]
fn a_changed_byte_in_the_padding() {
    let f = fixture();
    let (hex_start, der_len) = contents(&f.signed);
    let mut tampered = f.signed.clone();
    let at = hex_start + 2 * der_len + 1000;
    assert_eq!(tampered[at], b'0');
    tampered[at] = b'7';

    let v = verify_pdf(&tampered, &f.ring, now());

    assert_eq!(codes(&v), vec!["padding_changed"]);
    assert!(v.problems[0].message.contains(&format!("first at byte {at}")), "{}", v.problems[0].message);
    // A space is no better than a digit.
    tampered[at] = b' ';
    assert_eq!(codes(&verify_pdf(&tampered, &f.ring, now())), vec!["padding_changed"]);
}

#[test]
fn hex_case_and_characters_in_the_signature() {
    let f = fixture();
    let (hex_start, der_len) = contents(&f.signed);
    let hex = &f.signed[hex_start..hex_start + 2 * der_len];
    // The last letter: deep in the signature value, which decodes the same
    // in lower case.
    let letter = hex_start + hex.iter().rposition(u8::is_ascii_uppercase).unwrap();
    let mut lower = f.signed.clone();
    lower[letter] = lower[letter].to_ascii_lowercase();

    let v = verify_pdf(&lower, &f.ring, now());

    assert_eq!(codes(&v), vec!["signature_altered"]);
    assert!(v.problems[0].message.contains("lower-case"), "{}", v.problems[0].message);

    let mut spaced = f.signed.clone();
    spaced[letter] = b' ';
    assert_eq!(codes(&verify_pdf(&spaced, &f.ring, now())), vec!["signature_altered"]);
}

#[test]
fn a_changed_signature_value_is_a_bad_signature() {
    let f = fixture();
    let (hex_start, der_len) = contents(&f.signed);
    // The signature value sits just before the certificates end... find the
    // Ed25519 signature: the 64-byte OCTET STRING (04 40) in the SignerInfo.
    let der = hex::decode(&f.signed[hex_start..hex_start + 2 * der_len]).unwrap();
    let sig_at = der.windows(2).rposition(|w| w == [0x04, 0x40]).unwrap() + 2 + 10;
    let mut tampered = f.signed.clone();
    let digit = hex_start + 2 * sig_at;
    tampered[digit] = if tampered[digit] == b'1' { b'2' } else { b'1' };

    assert_eq!(codes(&verify_pdf(&tampered, &f.ring, now())), vec!["bad_signature"]);
}

#[test]
fn byte_range_numbers_are_signed_and_checked() {
    let f = fixture();
    let at = find(&f.signed[f.unsigned_len..], b"/ByteRange[0 ") + f.unsigned_len + 13;
    let mut tampered = f.signed.clone();
    tampered[at] = if tampered[at] == b'9' { b'8' } else { tampered[at] + 1 };

    let v = verify_pdf(&tampered, &f.ring, now());

    assert_eq!(codes(&v), vec!["byte_range_invalid"]);
    // Cut short: the signature reaches past the end.
    let short = &f.signed[..f.signed.len() - 5];
    let v = verify_pdf(short, &f.ring, now());
    assert_eq!(codes(&v), vec!["byte_range_invalid"]);
    assert!(v.problems[0].message.contains("cut short"));
}

#[test]
fn a_report_signed_with_a_foreign_key() {
    let f = fixture();
    let foreign = Issuer::new(9);
    let signer = foreign.signer(10, at(2026, 1, 1));
    let forged = render_and_sign(&sample_report(), &signer, at(2026, 11, 21), "standing").unwrap();

    let v = verify_pdf(&forged, &f.ring, now());

    assert_eq!(codes(&v), vec!["unknown_key", "untrusted_certificate"]);
    assert_eq!(v.problems[0].kind, ProblemKind::UnknownKey { kid: signer.kid().to_string() });

    // Our root's name on a foreign key does not help either.
    let copycat = Issuer { root_key: KeyPair::ed25519_from_seed(&[9; 32]), root: f.ring.root_der.clone().unwrap() };
    assert!(
        signing_certificate(
            &KeyPair::ed25519_from_seed(&[3; 32]),
            &copycat.root_key,
            &copycat.root,
            "x",
            5,
            at(2026, 1, 1)
        )
        .is_err()
    );
}

#[test]
fn rotation_keeps_old_reports_valid_and_refuses_old_keys_afterwards() {
    let issuer = Issuer::new(1);
    let old = issuer.signer(2, at(2026, 1, 1));
    let new = issuer.signer(3, at(2026, 6, 1));
    let ring = issuer.ring(&[&old, &new]);
    assert_eq!(ring.keys[0].retired_at, Some(at(2026, 6, 1)));
    assert_eq!(ring.keys[0].status(at(2026, 7, 1)), crate::keys::KeyStatus::Retired);
    assert_eq!(ring.keys[1].status(at(2026, 7, 1)), crate::keys::KeyStatus::Active);
    let data = sample_report();

    let before = render_and_sign(&data, &old, at(2026, 5, 31), "standing").unwrap();
    let after_new = render_and_sign(&data, &new, at(2026, 6, 2), "standing").unwrap();
    let after_old = render_and_sign(&data, &old, at(2026, 6, 2), "standing").unwrap();

    let v = verify_pdf(&before, &ring, now());
    assert!(v.valid, "{:?}", v.problems);
    assert_eq!(v.key_id.as_deref(), Some(old.kid()));
    let v = verify_pdf(&after_new, &ring, now());
    assert!(v.valid, "{:?}", v.problems);
    assert_eq!(v.key_id.as_deref(), Some(new.kid()));
    let v = verify_pdf(&after_old, &ring, now());
    assert_eq!(codes(&v), vec!["outside_key_window"]);
    assert!(v.problems[0].message.contains("took over"), "{}", v.problems[0].message);
    assert!(v.problems[0].message.contains(new.kid()));

    // Before the key's certificate started, and in the future.
    let early = render_and_sign(&data, &new, at(2026, 5, 1), "standing").unwrap();
    assert_eq!(codes(&verify_pdf(&early, &ring, now())), vec!["outside_key_window"]);
    let future = render_and_sign(&data, &new, at(2027, 1, 1), "standing").unwrap();
    let v = verify_pdf(&future, &ring, now());
    assert_eq!(codes(&v), vec!["outside_key_window"]);
    assert!(v.problems[0].message.contains("future"));
}

#[test]
fn without_a_root_nothing_is_trusted() {
    let f = fixture();
    let ring = KeyRing { root_der: None, keys: f.ring.keys.clone() };
    assert_eq!(codes(&verify_pdf(&f.signed, &ring, now())), vec!["untrusted_certificate"]);
}

#[test]
fn a_certificate_the_ring_checked_is_trusted_only_under_the_root_it_was_checked_against() {
    let f = fixture();
    let root = f.ring.root_der.clone().unwrap();
    // Made from certificates and their root: checked against this root.
    assert!(f.ring.keys[0].checked_under(&root));
    assert!(verify_pdf(&f.signed, &f.ring, now()).valid);
    // The same mark is worth nothing under another root.
    let other = Issuer::new(9).root;
    assert!(!f.ring.keys[0].checked_under(&other));
    let ring = KeyRing { root_der: Some(other), keys: f.ring.keys.clone() };
    assert_eq!(codes(&verify_pdf(&f.signed, &ring, now())), vec!["untrusted_certificate"]);
}

fn facts<'a>(report: &'a Value, sha: [u8; 32], status: IssuedStatus) -> IssuedFacts<'a> {
    IssuedFacts {
        report_number: report["report_number"].as_str().unwrap().to_string(),
        report_json: Some(report),
        pdf_sha256: sha,
        valid_until: NaiveDate::from_ymd_opt(2027, 2, 19).unwrap(),
        status,
    }
}

#[test]
fn the_registry_view() {
    let f = fixture();
    let issued_sha: [u8; 32] = Sha256::digest(&f.signed).into();
    let base = verify_pdf(&f.signed, &f.ring, now());
    let report = base.attached_report.clone().unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();

    let mut v = base.clone();
    v.apply_registry(Some(&facts(&report, issued_sha, IssuedStatus::Valid)), today);
    assert!(v.valid, "{:?}", v.problems);
    assert_eq!(v.registry.as_ref().unwrap().status, Some("valid"));
    assert_eq!(v.registry.as_ref().unwrap().same_file_as_issued, Some(true));

    let mut v = base.clone();
    v.apply_registry(None, today);
    assert_eq!(codes(&v), vec!["report_unknown"]);

    let mut v = base.clone();
    let revoked = IssuedStatus::Revoked { at: at(2026, 12, 1), reason: "issued in error".into() };
    v.apply_registry(Some(&facts(&report, issued_sha, revoked)), today);
    assert_eq!(codes(&v), vec!["revoked"]);
    assert!(v.problems[0].message.contains("issued in error") && v.problems[0].message.contains("2026-12-01"));

    let mut v = base.clone();
    let superseded = IssuedStatus::Superseded { by: "SR-AAAA-BBBB-CCCC".into(), at: Some(at(2026, 12, 1)) };
    v.apply_registry(Some(&facts(&report, issued_sha, superseded)), today);
    assert_eq!(v.problems[0].kind, ProblemKind::Superseded { by: "SR-AAAA-BBBB-CCCC".into() });

    let mut v = base.clone();
    v.apply_registry(
        Some(&facts(&report, issued_sha, IssuedStatus::Valid)),
        NaiveDate::from_ymd_opt(2027, 2, 20).unwrap(),
    );
    assert_eq!(v.problems[0].kind, ProblemKind::Expired { on: NaiveDate::from_ymd_opt(2027, 2, 19).unwrap() });
    let mut v = base.clone();
    v.apply_registry(
        Some(&facts(&report, issued_sha, IssuedStatus::Valid)),
        NaiveDate::from_ymd_opt(2027, 2, 19).unwrap(),
    );
    assert!(v.valid, "the last day is still valid");

    // Another file, another report.json: both named, field by field.
    let mut issued = report.clone();
    issued["applicant"]["full_name"] = json!("ZHANG Wei");
    issued["applicant"]["passport_number"] = json!("E99999999");
    let mut v = base.clone();
    v.apply_registry(Some(&facts(&issued, [0; 32], IssuedStatus::Valid)), today);
    assert_eq!(codes(&v), vec!["file_differs_from_issued", "report_data_differs"]);
    let ProblemKind::ReportDataDiffers { fields } = &v.problems[1].kind else { panic!() };
    let paths: Vec<&str> = fields.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, vec!["/applicant/full_name", "/applicant/passport_number"]);
    assert_eq!(fields[0].issued, Some(json!("ZHANG Wei")));
    assert_eq!(fields[1].issued, Some(json!("••••••999")), "passport numbers are masked");
}

#[test]
fn json_diff_paths() {
    let a = json!({"a": {"b/c": 1, "d": [1, 2, 3]}, "e": "x", "gone": true});
    let b = json!({"a": {"b/c": 2, "d": [1, 2]}, "e": "x", "new": null});
    let d = json_diff(&a, &b);
    let paths: Vec<&str> = d.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, vec!["/a/b~1c", "/a/d/2", "/gone", "/new"]);
    assert_eq!(d[1].found, None);
    assert_eq!(d[3].issued, None);
    assert!(json_diff(&a, &a).is_empty());
    assert_eq!(json_diff(&json!(1), &json!(2))[0].path, "/");
}

#[test]
fn pdf_dates() {
    assert_eq!(parse_pdf_date(b"D:20261121090000Z"), Some(at(2026, 11, 21)));
    assert_eq!(parse_pdf_date(b"D:20261121100000+01'00'"), Some(at(2026, 11, 21)));
    assert_eq!(parse_pdf_date(b"D:20261121090000"), Some(at(2026, 11, 21)));
    for bad in [&b"D:2026"[..], b"20261121090000Z", b"D:20261321090000Z", b"D:2026112109000xZ"] {
        assert_eq!(parse_pdf_date(bad), None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any one byte changed, anywhere in the file, is rejected.
    #[test]
    fn any_single_byte_change_is_rejected(position in any::<prop::sample::Index>(), delta in 1u8..=255) {
        let f = fixture();
        let mut tampered = f.signed.clone();
        let at = position.index(tampered.len());
        tampered[at] = tampered[at].wrapping_add(delta);
        let v = verify_pdf(&tampered, &f.ring, now());
        prop_assert!(!v.valid, "a change at byte {at} of {} went unnoticed", tampered.len());
        prop_assert!(!v.problems.is_empty());
    }

    /// Arbitrary bytes, and truncations of a real report, never panic.
    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048), cut in any::<prop::sample::Index>()) {
        let f = fixture();
        let mut with_header = b"%PDF-1.7\n".to_vec();
        with_header.extend_from_slice(&bytes);
        prop_assert!(!verify_pdf(&with_header, &f.ring, now()).valid);
        let end = cut.index(f.signed.len());
        prop_assert!(!verify_pdf(&f.signed[..end], &f.ring, now()).valid);
    }
}

/// Every position in the signature's hexadecimal and padding, one by one:
/// cheap, and the part of the file the digest does not protect.
#[test]
fn every_byte_of_contents_is_accounted_for() {
    let f = fixture();
    let sig = scan::signature_dictionaries(&f.signed).pop().unwrap();
    let span = sig.contents_span.unwrap();
    let mut tampered = f.signed.clone();
    for at in span.clone().step_by(31) {
        let original = tampered[at];
        tampered[at] = match original {
            b'0' => b'1',
            b'F' => b'f',
            _ => b'0',
        };
        assert!(!verify_pdf(&tampered, &f.ring, now()).valid, "a change at byte {at} in /Contents went unnoticed");
        tampered[at] = original;
    }
}
