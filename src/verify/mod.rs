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

mod diff;
pub mod remote;
mod signature;

pub use diff::json_diff;
pub use signature::verify_pdf;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::keys::{KeyRing, PublishedKey};
use crate::pdf::render::REPORT_JSON_NAME;
use crate::pdf::scan;
use crate::signing::{
    CmsFindings, ContainerChange, VerifyError, container_changes, expected_container, inspect_cms, verify_chain,
};

/// The outcome of verifying one file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Check {
    /// Stable name: `pdf`, `signature_present`, `byte_range`, `whole_file`,
    /// `signature_encoding`, `padding`, `key_known`, `signature`, `content`,
    /// `certificate`, `signature_container`, `key_window`, `attachment`,
    /// `registry`, `status`, `issued_file`, `issued_data`.
    #[schema(value_type = String)]
    pub name: &'static str,
    pub ok: bool,
    pub message: String,
}

/// One thing wrong: a stable `code` (with its data) and a message for
/// people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldDiff {
    pub path: String,
    #[schema(value_type = Option<Object>)]
    pub issued: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub found: Option<Value>,
}

/// What the registry says about the report, as [`Verification::apply_registry`]
/// found it; or, offline, that it was not asked and where to ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
    #[schema(value_type = Option<String>)]
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
    /// Whether the file itself is the exact document issued: every problem
    /// (if any) is about the report's status (revoked, superseded,
    /// expired), none about the file. A tampered copy of a valid report is
    /// not; the registry's answer about the report must then never be read
    /// as the file's.
    pub fn file_is_as_issued(&self) -> bool {
        self.problems.iter().all(|p| {
            matches!(p.kind, ProblemKind::Revoked { .. } | ProblemKind::Superseded { .. } | ProblemKind::Expired { .. })
        })
    }

    /// The fields of the attached `report.json` that differ from what was
    /// issued (none when the registry was not asked or they agree).
    pub fn differences(&self) -> &[FieldDiff] {
        self.problems
            .iter()
            .find_map(|p| match &p.kind {
                ProblemKind::ReportDataDiffers { fields } => Some(fields.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }
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

#[cfg(test)]
mod tests;
