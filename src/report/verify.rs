//! Verifying a report PDF: what a visa officer's upload, `POST
//! /api/v1/verify` and `standing verify` all run.
//!
//! [`verify_pdf`] works offline, against a [`KeyRing`], and accounts for
//! every byte of the file:
//!
//! - the signature's `/ByteRange` must start at 0, frame exactly its own
//!   `/Contents` hex string and reach the end of the file (bytes after it
//!   are counted and reported);
//! - inside `/Contents`, the CMS must be written as our signer writes it,
//!   upper-case hexadecimal, followed only by `0` padding — hex digits decode
//!   the same in either case and a changed padding byte changes nothing a
//!   CMS parser sees, so both are checked character by character;
//! - the CMS container itself must be byte for byte the one our signer
//!   writes for this signature: it is rebuilt, with the signer's own code,
//!   from the published signing certificate, the chain published with it,
//!   the signed message digest and the signature value, and compared; any
//!   difference (a certificate removed, added or moved, attributes added,
//!   revocation data, other fields) is named, since none of it is protected
//!   by the signature;
//! - everything else is covered by the signature's message digest.
//!
//! The answer ([`Verification`]) lists each check and each problem, with a
//! stable code and a precise message. Offline, the registry of issued
//! reports is not asked, and the answer says so ([`RegistryFindings::checked`]
//! is false, with where to check online). [`Verification::apply_registry`]
//! adds what the registry knows (revoked, superseded, expired, not the exact
//! file issued, which fields of `report.json` differ).
//!
//! Nothing here panics on any input: the PDF is read by [`scan`], a small
//! reader with bounded nesting that only follows the objects it needs.

pub mod remote;
pub mod scan;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use der::Decode;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::render::REPORT_JSON_NAME;
use super::sign::{
    CmsFindings, ContainerChange, VerifyError, container_changes, expected_container, inspect_cms, verify_chain,
};
use crate::keys::{KeyRing, PublishedKey};

/// The outcome of verifying one file.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// True only when there is no problem at all.
    pub valid: bool,
    /// What was checked, in order.
    pub checks: Vec<Check>,
    /// What fails.
    pub problems: Vec<Problem>,
    /// From the attached `report.json`, or the signature's `/Reason`.
    pub report_number: Option<String>,
    /// From the attached `report.json`.
    pub verification_code: Option<String>,
    /// The `kid` of the key that made the signature.
    pub key_id: Option<String>,
    /// The signature dictionary's `/M`.
    pub signing_time: Option<DateTime<Utc>>,
    /// SHA-256 of the bytes checked, hex.
    pub sha256: String,
    /// The attached `report.json`, parsed.
    #[serde(skip)]
    pub attached_report: Option<Value>,
    /// What the registry says after [`Verification::apply_registry`];
    /// before that (offline), that it was not asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistryFindings>,
}

/// One thing checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable name: `pdf`, `signature_present`, `byte_range`, `whole_file`,
    /// `signature_encoding`, `padding`, `key_known`, `signature`, `content`,
    /// `certificate`, `signature_container`, `key_window`, `attachment`,
    /// `registry`, `status`, `issued_file`, `issued_data`.
    pub name: &'static str,
    pub ok: bool,
    pub message: String,
}

/// One thing wrong: a stable `code` (with its data) and a message for
/// people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(flatten)]
    pub kind: ProblemKind,
    pub message: String,
}

impl Problem {
    /// The stable code, e.g. `bytes_appended`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

/// The problems a verification can find. Serialised as `"code": "..."`
/// plus the variant's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum ProblemKind {
    /// The file does not start with `%PDF-`.
    NotPdf,
    /// The PDF structure around the signature cannot be read.
    Malformed,
    /// No signature dictionary.
    NoSignature,
    /// `/ByteRange` does not frame exactly this signature's `/Contents`, or
    /// reaches past the end of the file.
    ByteRangeInvalid,
    /// `count` bytes follow the signed ranges.
    BytesAppended {
        count: u64,
    },
    /// The message digest no longer matches the signed bytes.
    ContentChanged,
    /// Bytes in the zero padding of `/Contents` changed.
    PaddingChanged,
    /// The CMS in `/Contents` was altered: letter case, characters or
    /// structure.
    SignatureAltered,
    /// The CMS parses and its signature may hold, but its container is not
    /// what our signer writes: `changes` names what differs.
    SignatureContainerAltered {
        changes: Vec<ContainerChange>,
    },
    /// The signing key is not among the published ones.
    UnknownKey {
        kid: String,
    },
    /// The signature does not verify with the signer's key.
    BadSignature,
    /// The signing certificate does not come from our root.
    UntrustedCertificate,
    /// The signing time lies outside the key's window.
    OutsideKeyWindow,
    /// The registry has no such report.
    ReportUnknown,
    Revoked {
        at: DateTime<Utc>,
        reason: String,
    },
    Superseded {
        by: String,
    },
    /// `on` is the last day the report was valid.
    Expired {
        on: NaiveDate,
    },
    /// The attached `report.json` differs from what was issued.
    ReportDataDiffers {
        fields: Vec<FieldDiff>,
    },
    /// The file's SHA-256 is not the issued PDF's.
    FileDiffersFromIssued,
}

impl ProblemKind {
    pub fn code(&self) -> &'static str {
        match self {
            ProblemKind::NotPdf => "not_pdf",
            ProblemKind::Malformed => "malformed",
            ProblemKind::NoSignature => "no_signature",
            ProblemKind::ByteRangeInvalid => "byte_range_invalid",
            ProblemKind::BytesAppended { .. } => "bytes_appended",
            ProblemKind::ContentChanged => "content_changed",
            ProblemKind::PaddingChanged => "padding_changed",
            ProblemKind::SignatureAltered => "signature_altered",
            ProblemKind::SignatureContainerAltered { .. } => "signature_container_altered",
            ProblemKind::UnknownKey { .. } => "unknown_key",
            ProblemKind::BadSignature => "bad_signature",
            ProblemKind::UntrustedCertificate => "untrusted_certificate",
            ProblemKind::OutsideKeyWindow => "outside_key_window",
            ProblemKind::ReportUnknown => "report_unknown",
            ProblemKind::Revoked { .. } => "revoked",
            ProblemKind::Superseded { .. } => "superseded",
            ProblemKind::Expired { .. } => "expired",
            ProblemKind::ReportDataDiffers { .. } => "report_data_differs",
            ProblemKind::FileDiffersFromIssued => "file_differs_from_issued",
        }
    }
}

/// One field that differs between the issued `report.json` and the
/// attached one, by JSON Pointer (RFC 6901). `null` where a side lacks it.
/// Passport numbers are masked to their last three characters on both sides:
/// the diff must not hand the real number to whoever altered the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDiff {
    pub path: String,
    pub issued: Option<Value>,
    pub found: Option<Value>,
}

/// What the registry says about the report, as [`Verification::apply_registry`]
/// found it; or, offline, that it was not asked and where to ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistryFindings {
    /// Whether the registry was asked. When it was not (offline), a valid
    /// signature says nothing about whether the report was since revoked,
    /// superseded or has expired.
    pub checked: bool,
    /// Whether the registry knows the report; absent when not asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<bool>,
    /// `valid`, `revoked`, `superseded` or `expired`; absent when not found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    /// The file is byte for byte the PDF issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_file_as_issued: Option<bool>,
    /// When not asked: the report's own verification link (number and
    /// code), where its status can be checked online. Given only for a file
    /// whose signature holds, so a forged file cannot point elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_online: Option<String>,
    /// When not asked: the issuer's published keys, for
    /// `standing verify FILE --jwks URL`, which also asks for the status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
}

impl RegistryFindings {
    fn asked(found: bool) -> Self {
        RegistryFindings {
            checked: true,
            found: Some(found),
            status: None,
            valid_until: None,
            revoked_at: None,
            revoked_reason: None,
            superseded_by: None,
            same_file_as_issued: None,
            verify_online: None,
            jwks_url: None,
        }
    }
}

/// The state of an issued report as the registry (or the service's status
/// API) records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuedStatus {
    Valid,
    /// Only from the status API, which judges expiry by its own clock.
    Expired,
    Revoked {
        at: DateTime<Utc>,
        reason: String,
    },
    Superseded {
        by: String,
        at: Option<DateTime<Utc>>,
    },
}

/// What verification needs from the registry about one issued report.
#[derive(Debug, Clone)]
pub struct IssuedFacts<'a> {
    pub report_number: String,
    /// `report.json` as issued; `None` when only the status is known (the
    /// status API does not return it).
    pub report_json: Option<&'a Value>,
    pub pdf_sha256: [u8; 32],
    pub valid_until: NaiveDate,
    pub status: IssuedStatus,
}

impl Verification {
    fn new(pdf: &[u8]) -> Self {
        Verification {
            valid: false,
            checks: Vec::new(),
            problems: Vec::new(),
            report_number: None,
            verification_code: None,
            key_id: None,
            signing_time: None,
            sha256: hex::encode(Sha256::digest(pdf)),
            attached_report: None,
            registry: None,
        }
    }

    fn pass(&mut self, name: &'static str, message: impl Into<String>) {
        self.checks.push(Check { name, ok: true, message: message.into() });
    }

    fn fail(&mut self, name: &'static str, kind: ProblemKind, message: impl Into<String>) {
        let message = message.into();
        self.checks.push(Check { name, ok: false, message: message.clone() });
        self.problems.push(Problem { kind, message });
    }

    /// Whether a problem with this code was found.
    pub fn has(&self, code: &str) -> bool {
        self.problems.iter().any(|p| p.code() == code)
    }

    /// Whether the registry was asked about the report's status (online).
    /// A valid offline answer speaks for the file and its signature only.
    pub fn status_checked(&self) -> bool {
        self.registry.as_ref().is_some_and(|r| r.checked)
    }

    /// Records that the registry was not asked, pointing to where it can be:
    /// the report's own verification link and its issuer's keys, taken from
    /// the signed `report.json` and given only when the signature holds.
    fn not_asked(&mut self) {
        let field = |k: &str| {
            let report = self.attached_report.as_ref()?;
            let value = match k {
                "issuer_url" => report.get("issuer")?.get("url")?,
                _ => report.get(k)?,
            };
            value.as_str().filter(|s| s.starts_with("https://") || s.starts_with("http://")).map(str::to_owned)
        };
        let (verify_online, jwks_url) = if self.valid {
            let jwks = field("issuer_url").map(|base| format!("{}/.well-known/jwks.json", base.trim_end_matches('/')));
            (field("verification_url"), jwks)
        } else {
            (None, None)
        };
        self.registry = Some(RegistryFindings {
            checked: false,
            found: None,
            verify_online,
            jwks_url,
            ..RegistryFindings::asked(false)
        });
    }

    /// Adds the registry's view of the report: unknown (`issued` is `None`);
    /// revoked (reason, date), superseded (by which number) or expired
    /// (`today` after `valid_until`), in that order of precedence; the file
    /// not being the exact PDF issued; and, when the issued `report.json` is
    /// known, which of its fields the attached one changes.
    pub fn apply_registry(&mut self, issued: Option<&IssuedFacts<'_>>, today: NaiveDate) {
        let number = self.report_number.clone().unwrap_or_else(|| "(no number)".into());
        let Some(issued) = issued else {
            self.registry = Some(RegistryFindings::asked(false));
            self.fail(
                "registry",
                ProblemKind::ReportUnknown,
                format!("report {number} was not issued by this service"),
            );
            self.valid = self.problems.is_empty();
            return;
        };
        self.pass("registry", format!("report {} is in the registry", issued.report_number));
        let expired = matches!(issued.status, IssuedStatus::Expired)
            || (matches!(issued.status, IssuedStatus::Valid) && today > issued.valid_until);
        let mut findings = RegistryFindings {
            status: Some("valid"),
            valid_until: Some(issued.valid_until),
            ..RegistryFindings::asked(true)
        };
        match &issued.status {
            IssuedStatus::Revoked { at, reason } => {
                findings.status = Some("revoked");
                findings.revoked_at = Some(*at);
                findings.revoked_reason = Some(reason.clone());
                self.fail(
                    "status",
                    ProblemKind::Revoked { at: *at, reason: reason.clone() },
                    format!("report {} was revoked on {}: {reason}", issued.report_number, at.date_naive()),
                );
            }
            IssuedStatus::Superseded { by, at } => {
                findings.status = Some("superseded");
                findings.superseded_by = Some(by.clone());
                let when = at.map(|t| format!(" on {}", t.date_naive())).unwrap_or_default();
                self.fail(
                    "status",
                    ProblemKind::Superseded { by: by.clone() },
                    format!("report {} was superseded by report {by}{when}", issued.report_number),
                );
            }
            IssuedStatus::Valid | IssuedStatus::Expired if expired => {
                findings.status = Some("expired");
                self.fail(
                    "status",
                    ProblemKind::Expired { on: issued.valid_until },
                    format!("report {} expired: it was valid until {}", issued.report_number, issued.valid_until),
                );
            }
            IssuedStatus::Valid | IssuedStatus::Expired => {
                self.pass("status", format!("valid until {}", issued.valid_until));
            }
        }

        let same_file = hex::encode(issued.pdf_sha256) == self.sha256;
        findings.same_file_as_issued = Some(same_file);
        if same_file {
            self.pass("issued_file", "the file is byte for byte the PDF issued");
        } else {
            self.fail(
                "issued_file",
                ProblemKind::FileDiffersFromIssued,
                format!(
                    "this file (SHA-256 {}) is not the PDF issued (SHA-256 {})",
                    self.sha256,
                    hex::encode(issued.pdf_sha256)
                ),
            );
        }

        if let Some(issued_json) = issued.report_json {
            match &self.attached_report {
                Some(found) => {
                    let fields = json_diff(issued_json, found);
                    if fields.is_empty() {
                        self.pass("issued_data", "the attached report.json is what was issued");
                    } else {
                        let paths: Vec<&str> = fields.iter().map(|f| f.path.as_str()).take(10).collect();
                        let more = if fields.len() > 10 { ", ..." } else { "" };
                        let message = format!(
                            "the attached report.json differs from what was issued in {} field(s): {}{more}",
                            fields.len(),
                            paths.join(", ")
                        );
                        self.fail("issued_data", ProblemKind::ReportDataDiffers { fields }, message);
                    }
                }
                None => self.fail(
                    "issued_data",
                    ProblemKind::ReportDataDiffers { fields: Vec::new() },
                    "the file has no readable report.json to compare with what was issued",
                ),
            }
        }
        self.registry = Some(findings);
        self.valid = self.problems.is_empty();
    }
}

/// How far a signing time may lie ahead of the verifier's clock.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// Whether the signing certificate chains to `root`. A certificate the key
/// ring already checked against these very root bytes (the key directory's
/// keys) is not checked again: for P-256 that check is an ECDSA
/// verification, a third of an upload's time.
fn checked_chain(
    key: Option<&PublishedKey>,
    leaf_der: &[u8],
    embedded: &[Vec<u8>],
    root: &[u8],
) -> Result<(), VerifyError> {
    let already = key.is_some_and(|k| k.certificate_der == leaf_der && k.checked_under(root));
    if already { Ok(()) } else { verify_chain(leaf_der, embedded, root) }
}

/// Verifies `pdf` offline against the published `keys`, at `now` (a
/// signature dated after `now` is refused). Never panics, whatever the bytes.
#[tracing::instrument(skip_all, fields(bytes = pdf.len()))]
pub fn verify_pdf(pdf: &[u8], keys: &KeyRing, now: DateTime<Utc>) -> Verification {
    let mut v = Verification::new(pdf);
    check_signature(pdf, keys, now, &mut v);
    read_attachment(pdf, &mut v);
    v.valid = v.problems.is_empty();
    v.not_asked();
    v
}

fn check_signature(pdf: &[u8], keys: &KeyRing, now: DateTime<Utc>, v: &mut Verification) {
    if !pdf.starts_with(b"%PDF-") {
        let what = if pdf.is_empty() { "the file is empty".to_string() } else { "the file is not a PDF".to_string() };
        v.fail("pdf", ProblemKind::NotPdf, what);
        return;
    }
    v.pass("pdf", format!("a PDF of {} bytes", pdf.len()));

    let sigs = scan::signature_dictionaries(pdf);
    // The signature that reaches furthest into the file is the one that
    // vouches for the most; later unsigned updates are caught by coverage.
    let Some(sig) = sigs.iter().max_by_key(|s| s.byte_range().and_then(|[_, _, c, d]| c.checked_add(d)).unwrap_or(0))
    else {
        v.fail(
            "signature_present",
            ProblemKind::NoSignature,
            "the PDF has no signature: it was never signed, or its signature dictionary was removed",
        );
        return;
    };
    v.pass("signature_present", "a signature dictionary (/Type /Sig)");
    if let Some(reason) = sig.string(b"Reason") {
        v.report_number = text(reason).split_whitespace().find(|w| w.starts_with("SR-")).map(str::to_owned);
    }
    v.signing_time = sig.string(b"M").and_then(parse_pdf_date);

    let Some([a, b, c, d]) = sig.byte_range() else {
        v.fail(
            "byte_range",
            ProblemKind::ByteRangeInvalid,
            "the signature's /ByteRange is not four non-negative integers",
        );
        return;
    };
    let end = c.saturating_add(d);
    if a != 0 || sig.contents_span.as_ref() != Some(&(b..c)) {
        v.fail(
            "byte_range",
            ProblemKind::ByteRangeInvalid,
            format!("/ByteRange [{a} {b} {c} {d}] does not frame exactly this signature's /Contents: it was altered"),
        );
        return;
    }
    if end > pdf.len() {
        v.fail(
            "byte_range",
            ProblemKind::ByteRangeInvalid,
            format!("the signature covers {end} bytes but the file has {}: it was cut short", pdf.len()),
        );
        return;
    }
    v.pass("byte_range", format!("/ByteRange [{a} {b} {c} {d}] frames the signature"));

    if end < pdf.len() {
        let count = (pdf.len() - end) as u64;
        let tail = pdf.get(end..).unwrap_or_default();
        let update = if memchr::memmem::find(tail, b"startxref").is_some() {
            " (an incremental update, which can change what the document shows)"
        } else {
            ""
        };
        v.fail(
            "whole_file",
            ProblemKind::BytesAppended { count },
            format!("{count} byte{} added after signing{update}", if count == 1 { " was" } else { "s were" }),
        );
    } else {
        v.pass("whole_file", "the signature covers the whole file");
    }

    let gap = pdf.get(b..c).unwrap_or_default();
    let cms_der = match read_contents(gap, b) {
        Ok((cms_der, None)) => {
            v.pass("signature_encoding", "the signature is written as issued (upper-case hexadecimal)");
            v.pass("padding", "the padding after the signature is intact");
            cms_der
        }
        Ok((cms_der, Some(padding))) => {
            v.pass("signature_encoding", "the signature is written as issued (upper-case hexadecimal)");
            v.fail("padding", ProblemKind::PaddingChanged, padding);
            cms_der
        }
        Err(altered) => {
            v.fail("signature_encoding", ProblemKind::SignatureAltered, altered);
            return;
        }
    };

    let signed_parts = [pdf.get(..b).unwrap_or_default(), pdf.get(c..end).unwrap_or_default()];
    let found = match inspect_cms(&cms_der, &signed_parts) {
        Ok(found) => found,
        Err(VerifyError::UntrustedCertificate(why)) => {
            v.fail(
                "certificate",
                ProblemKind::UntrustedCertificate,
                format!("the signing certificate is not ours: {why}"),
            );
            return;
        }
        Err(e) => {
            v.fail("signature_encoding", ProblemKind::SignatureAltered, format!("the signature was altered: {e}"));
            return;
        }
    };
    let kid = found.public.kid().to_string();
    v.key_id = Some(kid.clone());
    let key = keys.find(&kid);
    match key {
        Some(k) => v.pass("key_known", format!("signed with published key {kid} ({})", k.algorithm)),
        None => v.fail(
            "key_known",
            ProblemKind::UnknownKey { kid: kid.clone() },
            format!("signed with key {kid}, which is not one of the published keys"),
        ),
    }

    if found.signature_valid {
        v.pass("signature", format!("the signature verifies with key {kid}"));
        if found.digest_matches {
            v.pass("content", "the signed bytes are unchanged");
        } else {
            v.fail(
                "content",
                ProblemKind::ContentChanged,
                "the content was changed after signing: the signed bytes no longer match the signature's digest",
            );
        }
    } else {
        v.fail(
            "signature",
            ProblemKind::BadSignature,
            format!("the signature does not verify with key {kid}: it was altered or made with another key"),
        );
    }

    let trusted = match &keys.root_der {
        None => Err("no trusted root certificate was given".to_string()),
        Some(root) => match checked_chain(key, &found.leaf_der, &found.embedded, root) {
            Err(_) => Err("the signing certificate was not issued by our root".to_string()),
            Ok(()) if key.is_some_and(|k| k.certificate_der != found.leaf_der) => {
                Err(format!("the signing certificate is not the one published for key {kid}"))
            }
            Ok(()) => Ok(()),
        },
    };
    match trusted {
        Ok(()) => v.pass("certificate", "the signing certificate was issued by our root"),
        Err(why) => v.fail("certificate", ProblemKind::UntrustedCertificate, why),
    }
    check_container(&cms_der, &found, key, v);

    if let Some(key) = key {
        check_window(key, keys, now, v);
    }
}

/// The container must be byte for byte what our signer writes for this
/// signature: for a published key, its published certificate and exactly
/// the chain published with it; for an unknown key (already refused), the
/// certificates found, so that other edits are still named.
fn check_container(cms_der: &[u8], found: &CmsFindings, key: Option<&PublishedKey>, v: &mut Verification) {
    let others: Vec<Vec<u8>>;
    let (leaf, chain) = match key {
        Some(k) => (&k.certificate_der, k.chain.as_slice()),
        None => {
            others = found.embedded.iter().filter(|c| **c != found.leaf_der).cloned().collect();
            (&found.leaf_der, others.as_slice())
        }
    };
    let changes = match expected_container(leaf, chain, &found.message_digest, &found.signature) {
        Ok(expected) => container_changes(cms_der, &expected),
        Err(e) => {
            vec![(ContainerChange::StructureChanged, format!("it cannot be rebuilt as our signer writes it ({e})"))]
        }
    };
    if changes.is_empty() {
        v.pass("signature_container", "the signature's container is exactly what our signer writes");
        return;
    }
    let what: Vec<&str> = changes.iter().map(|(_, what)| what.as_str()).collect();
    let message = format!("the signature's container was altered after signing: {}", what.join("; "));
    let kinds = changes.into_iter().map(|(kind, _)| kind).fold(Vec::new(), |mut kinds, kind| {
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
        kinds
    });
    v.fail("signature_container", ProblemKind::SignatureContainerAltered { changes: kinds }, message);
}

fn check_window(key: &PublishedKey, keys: &KeyRing, now: DateTime<Utc>, v: &mut Verification) {
    let window =
        format!("{} to {}", key.not_before.format("%Y-%m-%d %H:%M:%SZ"), key.window_end().format("%Y-%m-%d %H:%M:%SZ"));
    let Some(at) = v.signing_time else {
        v.fail(
            "key_window",
            ProblemKind::OutsideKeyWindow,
            "the signature has no readable signing time (/M), so it cannot be placed in its key's window",
        );
        return;
    };
    if at > now + CLOCK_SKEW {
        v.fail(
            "key_window",
            ProblemKind::OutsideKeyWindow,
            format!("signed at {at}, which is in the future (it is now {now})"),
        );
        return;
    }
    if key.window_contains(at) {
        v.pass("key_window", format!("signed at {at}, within key {}'s window ({window})", key.kid));
        return;
    }
    let why = match key.retired_at {
        Some(retired) if at >= retired && retired <= key.not_after => {
            let successor = keys.keys.iter().find(|k| k.not_before == retired && k.algorithm == key.algorithm);
            format!(
                "; the key was retired at {retired} when key {} took over",
                successor.map_or("(unknown)", |k| k.kid.as_str())
            )
        }
        _ if at > key.not_after => format!("; its certificate ended at {}", key.not_after),
        _ => format!("; its certificate starts at {}", key.not_before),
    };
    v.fail(
        "key_window",
        ProblemKind::OutsideKeyWindow,
        format!("signed at {at}, outside key {}'s window ({window}){why}", key.kid),
    );
}

fn read_attachment(pdf: &[u8], v: &mut Verification) {
    if !pdf.starts_with(b"%PDF-") {
        return;
    }
    let Some(json) = scan::Xref::read(pdf).and_then(|x| x.embedded_file(pdf, REPORT_JSON_NAME.as_bytes())) else {
        return;
    };
    let Ok(value) = serde_json::from_slice::<Value>(&json) else { return };
    let field = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
    if let Some(number) = field("report_number") {
        v.report_number = Some(number);
    }
    v.verification_code = field("verification_code");
    v.attached_report = Some(value);
}

/// Reads the `/Contents` hex string (`gap`, from `<` to `>`, at file offset
/// `at`): the DER signature in upper-case hex, then only `0`s. Returns the
/// DER and, when the padding was touched, what changed there; an error
/// says how the signature itself was altered.
fn read_contents(gap: &[u8], at: usize) -> Result<(Vec<u8>, Option<String>), String> {
    let inner = match gap {
        [b'<', inner @ .., b'>'] => inner,
        _ => return Err("/Contents is not a hexadecimal string".into()),
    };
    let at = at + 1;
    let nibble = |i: usize| -> Result<u8, String> {
        match inner.get(i).copied() {
            Some(ch @ b'0'..=b'9') => Ok(ch - b'0'),
            Some(ch @ b'A'..=b'F') => Ok(ch - b'A' + 10),
            Some(ch @ b'a'..=b'f') => Err(format!(
                "the signature's hexadecimal was changed at byte {}: lower-case `{}` where it was written in upper case",
                at + i,
                ch as char
            )),
            Some(ch) => Err(format!(
                "the signature was changed at byte {}: {:?} is not a hexadecimal digit",
                at + i,
                ch as char
            )),
            None => Err("the signature is cut short".into()),
        }
    };
    let byte = |i: usize| -> Result<u8, String> { Ok(nibble(2 * i)? << 4 | nibble(2 * i + 1)?) };
    // The DER header says how long the signature is.
    let first = byte(0)?;
    let len_byte = byte(1)?;
    let (header, content) = match len_byte {
        n if n < 0x80 => (2usize, usize::from(n)),
        0x81..=0x84 => {
            let count = usize::from(len_byte & 0x7f);
            let mut n = 0usize;
            for i in 0..count {
                n = (n << 8) | usize::from(byte(2 + i)?);
            }
            (2 + count, n)
        }
        _ => return Err("the signature's length field was altered".into()),
    };
    let der_len = header.checked_add(content).filter(|n| 2 * n <= inner.len() && first == 0x30);
    let Some(der_len) = der_len else {
        return Err("the signature's structure was altered: its length does not fit /Contents".into());
    };
    let der: Vec<u8> = (0..der_len).map(byte).collect::<Result<_, _>>()?;
    // A length field changed to a smaller value leaves signature bytes in
    // the padding; the CMS no longer parses then, which names the real change.
    if let Err(e) = cms::content_info::ContentInfo::from_der(&der) {
        return Err(format!("the signature's structure was altered: {e}"));
    }
    let padding = inner.get(2 * der_len..).unwrap_or_default();
    let changed: Vec<usize> = padding.iter().enumerate().filter(|(_, b)| **b != b'0').map(|(i, _)| i).collect();
    let note = changed.first().map(|first| {
        format!(
            "{} byte{} in the signature's padding changed (first at byte {}); the padding must be all `0`",
            changed.len(),
            if changed.len() == 1 { "" } else { "s" },
            at + 2 * der_len + first
        )
    });
    Ok((der, note))
}

/// A PDF text string: UTF-16BE with a byte order mark, or (approximately)
/// PDFDocEncoding.
fn text(bytes: &[u8]) -> String {
    match bytes {
        [0xFE, 0xFF, rest @ ..] => {
            let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16_lossy(&units)
        }
        _ => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// `D:YYYYMMDDHHmmSS` followed by `Z`, nothing, or `+HH'mm'` / `-HH'mm'`.
fn parse_pdf_date(raw: &[u8]) -> Option<DateTime<Utc>> {
    let s = std::str::from_utf8(raw).ok()?.strip_prefix("D:")?;
    let digits = s.get(..14)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| digits.get(r).and_then(|d| d.parse::<u32>().ok());
    let year = i32::try_from(n(0..4)?).ok()?;
    let naive = NaiveDate::from_ymd_opt(year, n(4..6)?, n(6..8)?)?.and_hms_opt(n(8..10)?, n(10..12)?, n(12..14)?)?;
    let zone = s.get(14..)?;
    let offset_secs = match zone.as_bytes() {
        [] | [b'Z'] | [b'Z', ..] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let rest = std::str::from_utf8(rest).ok()?.replace('\'', "");
            let hours: i32 = rest.get(..2)?.parse().ok()?;
            let minutes: i32 = rest.get(2..4).map_or(Some(0), |m| m.parse().ok())?;
            let secs = hours * 3600 + minutes * 60;
            if *sign == b'+' { secs } else { -secs }
        }
        _ => return None,
    };
    let local = chrono::FixedOffset::east_opt(offset_secs)?.from_local_datetime(&naive).single()?;
    Some(local.with_timezone(&Utc))
}

/// The fields in which `found` differs from `issued`, as JSON Pointers
/// (RFC 6901), in document order; at most 200.
pub fn json_diff(issued: &Value, found: &Value) -> Vec<FieldDiff> {
    let mut out = Vec::new();
    diff_into(String::new(), Some(issued), Some(found), &mut out);
    out
}

const MAX_DIFFS: usize = 200;

fn diff_into(path: String, issued: Option<&Value>, found: Option<&Value>, out: &mut Vec<FieldDiff>) {
    if out.len() >= MAX_DIFFS || issued == found {
        return;
    }
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    match (issued, found) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            for (k, va) in a {
                diff_into(format!("{path}/{}", escape(k)), Some(va), b.get(k), out);
            }
            for (k, vb) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                diff_into(format!("{path}/{}", escape(k)), None, Some(vb), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for i in 0..a.len().max(b.len()) {
                diff_into(format!("{path}/{i}"), a.get(i), b.get(i), out);
            }
        }
        _ => {
            let sensitive = path.ends_with("/passport_number");
            let show = |v: Option<&Value>| v.map(|v| if sensitive { mask(v) } else { v.clone() });
            out.push(FieldDiff {
                path: if path.is_empty() { "/".into() } else { path },
                issued: show(issued),
                found: show(found),
            });
        }
    }
}

/// `••••••123`: only the last three characters of a string.
fn mask(v: &Value) -> Value {
    // As the status page masks it: six dots whatever the length.
    let shown: String = match v.as_str() {
        Some(s) if s.chars().count() > 3 => s.chars().skip(s.chars().count() - 3).collect(),
        _ => String::new(),
    };
    Value::String(format!("••••••{shown}"))
}

#[cfg(test)]
mod tests;
