//! The service's messages, composed from what the registry holds: a report
//! issued or reissued (the signed PDF attached), a report revoked. The
//! application's messages (refused as ineligible, the identity review's
//! outcome) take their context from the caller.

use chrono::{DateTime, Utc};
use rand::RngCore;

use super::compose::{Composed, FileAttachment, compose};
use super::templates::{IdentityMail, IneligibleMail, ReissueMail, ReportFacts, ReportMail, RevokedMail, Signature};
use super::{EmailAddress, MailError};
use crate::config::Settings;
use crate::registry::issue::issuer;

/// The kinds of message, as stored in the outbox.
pub const REPORT_ISSUED: &str = "report_issued";
pub const REPORT_REISSUED: &str = "report_reissued";
pub const REPORT_REVOKED: &str = "report_revoked";
pub const APPLICATION_INELIGIBLE: &str = "application_ineligible";
pub const IDENTITY_OUTCOME: &str = "identity_outcome";

/// A new outbox id (a UUID) from the caller's generator.
pub fn new_id(rng: &mut impl RngCore) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

/// Who sends, from the settings (as the reports print it).
pub fn signature(settings: &Settings) -> Signature {
    let issuer = issuer(settings);
    Signature { issuer_name: issuer.name, issuer_legal_name: issuer.legal_name, contact: issuer.contact }
}

/// What an email says about a report, read from its `report.json`.
pub fn report_facts(report_json: &serde_json::Value) -> Result<ReportFacts, MailError> {
    let text = |path: &[&str]| -> Result<String, MailError> {
        let mut v = report_json;
        for key in path {
            v = v.get(key).ok_or_else(|| MailError::Report(format!("no {}", path.join("."))))?;
        }
        v.as_str().map(str::to_owned).ok_or_else(|| MailError::Report(format!("{} is not text", path.join("."))))
    };
    let date = |key: &str| -> Result<chrono::NaiveDate, MailError> {
        text(&[key])?.parse().map_err(|_| MailError::Report(format!("{key} is not a date")))
    };
    Ok(ReportFacts {
        number: text(&["report_number"])?,
        code: text(&["verification_code"])?,
        verification_url: text(&["verification_url"])?,
        full_name: text(&["applicant", "full_name"])?,
        as_of: date("as_of")?,
        valid_until: date("valid_until")?,
        authority: text(&["authority", "name"])?,
    })
}

/// The report's PDF as attached: `standing-report-SR-XXXX-XXXX-XXXX.pdf`.
pub fn attachment_name(number: &str) -> String {
    format!("standing-report-{number}.pdf")
}

/// A report issued (`replaces: None`) or reissued in place of `replaces`,
/// with its signed PDF attached.
pub fn report_issued(
    settings: &Settings,
    id: &str,
    now: DateTime<Utc>,
    to: &EmailAddress,
    report: ReportFacts,
    pdf: Vec<u8>,
    replaces: Option<String>,
) -> Result<Composed, MailError> {
    let base = settings.public_base_url.trim_end_matches('/');
    let filename = attachment_name(&report.number);
    let mail = ReportMail {
        report,
        replaces,
        attachment: filename.clone(),
        verify_page: format!("{base}/verify"),
        jwks_url: format!("{base}/.well-known/jwks.json"),
        signature: signature(settings),
    };
    let (kind, rendered) = match mail.replaces {
        None => (REPORT_ISSUED, mail.render()?),
        Some(_) => (REPORT_REISSUED, ReissueMail(mail).render()?),
    };
    let pdf = FileAttachment { filename, content_type: "application/pdf", bytes: pdf };
    compose(&settings.mail, id, kind, now, to, rendered, Some(pdf))
}

/// A report revoked, with the reason officers now see.
pub fn report_revoked(
    settings: &Settings,
    id: &str,
    now: DateTime<Utc>,
    to: &EmailAddress,
    report: &ReportFacts,
    reason: &str,
) -> Result<Composed, MailError> {
    let mail = RevokedMail {
        number: report.number.clone(),
        full_name: report.full_name.clone(),
        revoked_on: now.date_naive(),
        reason: reason.to_owned(),
        signature: signature(settings),
    };
    compose(&settings.mail, id, REPORT_REVOKED, now, to, mail.render()?, None)
}

/// An application refused because its score is not above the threshold.
pub fn application_ineligible(
    settings: &Settings,
    id: &str,
    now: DateTime<Utc>,
    to: &EmailAddress,
    mail: &IneligibleMail,
) -> Result<Composed, MailError> {
    compose(&settings.mail, id, APPLICATION_INELIGIBLE, now, to, mail.render()?, None)
}

/// An identity review's outcome.
pub fn identity_outcome(
    settings: &Settings,
    id: &str,
    now: DateTime<Utc>,
    to: &EmailAddress,
    mail: &IdentityMail,
) -> Result<Composed, MailError> {
    compose(&settings.mail, id, IDENTITY_OUTCOME, now, to, mail.render()?, None)
}
