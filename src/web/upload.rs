//! The upload check shared by the page and the API: the offline checks of
//! the file against the published keys, then the registry's view of the
//! report it claims to be.

use std::net::IpAddr;

use chrono::NaiveDate;

use super::AppState;
use super::lookup::{LookupError, admit, found_or_count};
use super::status::StatusBody;
use crate::domain::{ReportNumber, VerificationCode};
use crate::keys::published_keys;
use crate::registry::{RegisteredReport, Status};
use crate::verify::{FieldDiff, Verification, verify_pdf};

/// The answer of `POST /api/v1/verify`: every check and problem, and the
/// registry's report when the file names one (number and code matching).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[schema(as = VerifyAnswer)]
pub struct UploadAnswer {
    #[serde(flatten)]
    pub verification: Verification,
    pub report: Option<StatusBody>,
}

/// What an upload check found.
#[derive(Debug)]
pub struct UploadOutcome {
    pub verification: Verification,
    /// The issued report the file claims to be, when number and code match.
    pub report: Option<RegisteredReport>,
    pub today: NaiveDate,
}

pub async fn check_upload(state: &AppState, client: IpAddr, pdf: Vec<u8>) -> Result<UploadOutcome, LookupError> {
    admit(state, client)?;
    let settings = state.settings.clone();
    let now = state.clock.now();
    let _permit = state.limits.upload_checks.acquire().await.map_err(anyhow::Error::from)?;
    let mut verification = tokio::task::spawn_blocking(move || {
        let ring = published_keys(&settings)?;
        Ok::<_, anyhow::Error>(verify_pdf(&pdf, &ring, now))
    })
    .await
    .map_err(anyhow::Error::from)??;
    let claimed = verification
        .report_number
        .as_deref()
        .and_then(|n| ReportNumber::parse(n).ok())
        .zip(verification.verification_code.as_deref().and_then(|c| VerificationCode::parse(c).ok()));
    let today = state.clock.today();
    // A file that names no report (not a PDF, or not one of ours) has
    // nothing to look up; "unknown report" would only repeat that.
    let report = match claimed {
        Some((number, code)) => {
            let report = found_or_count(state, client, &number, &code).await?;
            // The issued report.json, for the field diff: only once number
            // and code have matched.
            let issued_json = match &report {
                Some(_) => state.registry.report_json(&number).await.map_err(anyhow::Error::from)?,
                None => None,
            };
            verification.apply_registry(report.as_ref().map(|r| r.issued_facts(issued_json.as_ref())).as_ref(), today);
            report
        }
        None => {
            // A file that verifies but names no report cannot be one we
            // issued and recorded: never "valid" without the registry.
            if verification.valid {
                verification.apply_registry(None, today);
            }
            None
        }
    };
    Ok(UploadOutcome { verification, report, today })
}

impl UploadOutcome {
    /// The CSS class and the headline: VALID, or the report's status when
    /// only the status is wrong, or NOT VALID.
    pub fn headline(&self) -> (&'static str, &'static str) {
        if self.verification.valid {
            return ("valid", "VALID");
        }
        match (&self.report, self.file_is_as_issued()) {
            (Some(report), true) => match report.status(self.today) {
                Status::Revoked => ("revoked", "REVOKED"),
                Status::Superseded => ("superseded", "SUPERSEDED"),
                Status::Expired => ("expired", "EXPIRED"),
                Status::Valid => ("invalid", "NOT VALID"),
            },
            _ => ("invalid", "NOT VALID"),
        }
    }

    /// See [`Verification::file_is_as_issued`].
    pub fn file_is_as_issued(&self) -> bool {
        self.verification.file_is_as_issued()
    }

    /// The heading of the card about the registry's report (`view`), and a
    /// note when the registry's answer is not the file's: a tampered copy
    /// of a valid report must never read as "VALID".
    pub fn registry_card(&self, view: &super::status::StatusView) -> (String, Option<String>) {
        let number = &view.number;
        if self.file_is_as_issued() {
            return (format!("Report {number}: {}", view.headline), None);
        }
        let note = if view.class == "valid" {
            format!(
                "We issued report {number} and it is valid, but this file is not that report: it is not the exact \
                 document we issued. Do not accept this file. Ask the applicant for the original PDF, or check the \
                 report by its number and verification code."
            )
        } else {
            format!(
                "This is the status of the report we issued as {number}. This file is not the exact document we \
                 issued either. Do not accept it."
            )
        };
        (format!("Our registry's report {number}: {} (not this file)", view.headline), Some(note))
    }

    pub fn summary(&self) -> String {
        if self.verification.valid {
            "This file is exactly the report we issued, unchanged, signed with our key, and the report is valid.".into()
        } else {
            match self.verification.problems.first() {
                Some(first) => format!("Do not accept this file: {}", first.message),
                None => "Do not accept this file.".into(),
            }
        }
    }

    /// See [`Verification::differences`].
    pub fn differences(&self) -> &[FieldDiff] {
        self.verification.differences()
    }

    /// The API's answer: the verification itself plus the report's status.
    pub fn answer(&self, today: NaiveDate) -> UploadAnswer {
        UploadAnswer {
            verification: self.verification.clone(),
            report: self.report.as_ref().map(|r| StatusBody::new(r, today)),
        }
    }
}
