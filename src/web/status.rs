//! A report's status as officers see it: one view for the page and the JSON
//! API, so both always say the same thing.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::registry::{KeyFacts, RegisteredReport, ReportState, Status};

/// The JSON body of `GET /api/v1/reports/{number}` (and the `report` member
/// of an upload check).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ReportStatus)]
pub struct StatusBody {
    #[schema(example = "SR-KYYF-9TKJ-6Q8Q")]
    pub report_number: String,
    pub status: Status,
    pub issued_at: DateTime<Utc>,
    pub as_of: NaiveDate,
    pub valid_until: NaiveDate,
    pub key_id: String,
    pub pdf_sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Revoked>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded: Option<Superseded>,
    pub key_facts: KeyFacts,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Revoked {
    pub at: DateTime<Utc>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Superseded {
    pub by: String,
    pub at: DateTime<Utc>,
}

impl StatusBody {
    pub fn new(report: &RegisteredReport, today: NaiveDate) -> Self {
        let (revoked, superseded) = match &report.state {
            ReportState::Valid => (None, None),
            ReportState::Revoked { at, reason } => (Some(Revoked { at: *at, reason: reason.clone() }), None),
            ReportState::Superseded { by, at, .. } => (None, Some(Superseded { by: by.clone(), at: *at })),
        };
        StatusBody {
            report_number: report.number.to_string(),
            status: report.status(today),
            issued_at: report.issued_at,
            as_of: report.as_of,
            valid_until: report.valid_until,
            key_id: report.key_id.clone(),
            pdf_sha256: hex::encode(report.pdf_sha256),
            revoked,
            superseded,
            key_facts: report.key_facts(),
        }
    }
}

/// What the status page shows.
#[derive(Debug, Clone)]
pub struct StatusView {
    pub number: String,
    /// CSS class: `valid`, `revoked`, `superseded`, `expired`, `not_found`.
    pub class: &'static str,
    /// `VALID`, `REVOKED`, ...
    pub headline: &'static str,
    /// One sentence under the headline.
    pub summary: String,
    /// What to do when nothing was found.
    pub advice: String,
    pub facts: Option<KeyFacts>,
    /// Extra facts for the status: revocation date and reason, successor.
    pub details: Vec<(&'static str, String)>,
}

impl StatusView {
    pub fn found(report: &RegisteredReport, today: NaiveDate) -> Self {
        let number = report.number.to_string();
        let facts = report.key_facts();
        let mut details = Vec::new();
        let (class, headline, summary) = match (&report.state, report.status(today)) {
            (ReportState::Revoked { at, reason }, _) => {
                details.push(("Revoked on", at.format("%Y-%m-%d %H:%M UTC").to_string()));
                details.push(("Reason", reason.clone()));
                ("revoked", "REVOKED", format!("This report was revoked on {}. Do not accept it.", at.date_naive()))
            }
            (ReportState::Superseded { by, at, .. }, _) => {
                details.push(("Superseded by", by.clone()));
                details.push(("Superseded on", at.format("%Y-%m-%d").to_string()));
                (
                    "superseded",
                    "SUPERSEDED",
                    format!("This report was replaced by report {by}. Ask the applicant for the newer report."),
                )
            }
            (ReportState::Valid, Status::Expired) => (
                "expired",
                "EXPIRED",
                format!(
                    "This report was genuine but expired on {}. Ask the applicant for a new report.",
                    report.valid_until
                ),
            ),
            (ReportState::Valid, _) => (
                "valid",
                "VALID",
                format!(
                    "We issued this report on {} and it is valid until {}.",
                    report.issued_at.date_naive(),
                    report.valid_until
                ),
            ),
        };
        StatusView { number, class, headline, summary, advice: String::new(), facts: Some(facts), details }
    }

    pub fn not_found(number: &str) -> Self {
        StatusView {
            number: number.to_owned(),
            class: "not_found",
            headline: "NOT FOUND",
            summary: "No report matches this number and verification code.".into(),
            advice: "Check both against page 1 of the report: the number looks like SR-KYYF-9TKJ-6Q8Q and the \
                     code has 8 letters and digits. If they are typed correctly and still not found, the report \
                     was not issued by us: do not accept it."
                .into(),
            facts: None,
            details: Vec::new(),
        }
    }
}
