//! What a status check shows beside the status: the key facts, sealed at
//! issue apart from the report JSON.

use serde::Serialize;

use super::*;

/// The part of [`KeyFacts`] taken from the report itself, sealed at issue.
#[derive(Serialize, serde::Deserialize)]
pub(super) struct StoredFacts {
    full_name: String,
    passport_masked: String,
    passport_country: String,
    total_assets: String,
    average_monthly_spending: String,
    on_time_bill_rate: String,
}

impl StoredFacts {
    pub(super) fn of(report: &serde_json::Value) -> Self {
        // A figure the report states as no data (`null`) is "no data" here too.
        let text = |pointer: &str| report.pointer(pointer).and_then(|v| v.as_str()).unwrap_or("no data").to_owned();
        StoredFacts {
            full_name: text("/applicant/full_name"),
            passport_masked: mask_passport(&text("/applicant/passport_number")),
            passport_country: text("/applicant/passport_country"),
            total_assets: text("/assets/total/current/authority/text"),
            average_monthly_spending: text("/spending/average_monthly/authority/text"),
            on_time_bill_rate: text("/bills/on_time_rate"),
        }
    }

    pub(super) fn with_row(self, issued_at: DateTime<Utc>, valid_until: NaiveDate, pdf_sha256: &[u8; 32]) -> KeyFacts {
        KeyFacts {
            full_name: self.full_name,
            passport_masked: self.passport_masked,
            passport_country: self.passport_country,
            issued_on: issued_at.date_naive(),
            valid_until,
            total_assets: self.total_assets,
            average_monthly_spending: self.average_monthly_spending,
            on_time_bill_rate: self.on_time_bill_rate,
            pdf_sha256: hex::encode(pdf_sha256),
        }
    }
}

/// `••••••123`: always six dots, so the mask does not tell the length.
pub(super) fn mask_passport(passport: &str) -> String {
    let chars: Vec<char> = passport.chars().collect();
    let shown: String = if chars.len() > 3 { chars[chars.len() - 3..].iter().collect() } else { String::new() };
    format!("••••••{shown}")
}

/// What the verification page and API show beside the status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct KeyFacts {
    pub full_name: String,
    /// `••••••123`: the last three characters only.
    pub passport_masked: String,
    pub passport_country: String,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
    /// In the authority's currency, as printed: `CAD 28,980.00`.
    pub total_assets: String,
    /// In the authority's currency, as printed.
    pub average_monthly_spending: String,
    /// `98.3%`, or `n/a` when no bill could be judged.
    pub on_time_bill_rate: String,
    /// Hex SHA-256 of the issued PDF.
    pub pdf_sha256: String,
}
