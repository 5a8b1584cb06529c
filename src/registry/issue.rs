//! Issuing a report: score → data → PDF → PAdES signature (recorded by
//! [`super::Registry::issue`]; nothing is issued unrecorded, which is why
//! the sequence lives with the registry).
//!
//! Time and randomness come in from the caller (a clock and a generator),
//! so the same data, clock, seed and key give the same bytes.

use chrono::{DateTime, NaiveDate, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::crypto::FieldCipher;
use crate::domain::{AccountId, ReportNumber, VerificationCode};
use crate::keys::{KeyAlgorithm, KeyError, Signer};
use crate::report::build::{BuildError, IssueContext, build_report_data};
use crate::report::data::{Authority, Issuer, ReportData, Signing};
use crate::signing::SignError;
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error(transparent)]
    Build(#[from] BuildError),
    /// Rendering or signing the PDF failed.
    #[error("making the signed PDF failed")]
    Sign(#[from] SignError),
    #[error("signing key unavailable")]
    Key(#[from] KeyError),
}

/// A signed report and what it attests.
#[derive(Debug, Clone)]
pub struct IssuedReport {
    /// The report's number and code as issued (also in `data` as text).
    pub number: ReportNumber,
    pub code: VerificationCode,
    /// The account it attests.
    pub account_id: AccountId,
    pub data: ReportData,
    pub pdf: Vec<u8>,
    /// SHA-256 of the signed PDF, as published for verification.
    pub sha256: [u8; 32],
}

/// The issuer as reports print it, from the settings (empty settings fall
/// back to the issuer name and the public URL).
pub fn issuer(settings: &Settings) -> Issuer {
    let report = &settings.report;
    let or = |value: &str, fallback: &str| if value.trim().is_empty() { fallback.to_owned() } else { value.to_owned() };
    Issuer {
        name: report.issuer_name.clone(),
        url: settings.public_base_url.clone(),
        legal_name: or(&report.issuer_legal_name, &report.issuer_name),
        address: Some(report.issuer_address.clone()).filter(|a| !a.trim().is_empty()),
        contact: or(&report.issuer_contact, &settings.public_base_url),
    }
}

fn algorithm_label(a: KeyAlgorithm) -> &'static str {
    match a {
        KeyAlgorithm::Ed25519 => "Ed25519",
        KeyAlgorithm::EcdsaP256 => "ECDSA P-256",
    }
}

/// Everything about an issuance that the settings, the signer and the clock
/// decide; a fresh report number and verification code from `rng`.
pub fn issue_context(
    settings: &Settings,
    signing: Signing,
    issued_at: DateTime<Utc>,
    rng: &mut impl RngCore,
) -> IssueContext {
    let report = &settings.report;
    IssueContext {
        issuer: issuer(settings),
        authority: Authority {
            code: report.authority_code.clone(),
            name: report.authority_name.clone(),
            currency: report.authority_currency.code().to_owned(),
        },
        authority_currency: report.authority_currency,
        threshold: settings.scoring.threshold,
        show_score: report.show_score,
        validity_days: report.validity_days,
        max_data_age_days: report.max_data_age_days,
        report_number: ReportNumber::generate(rng),
        verification_code: VerificationCode::generate(rng),
        issued_at,
        signing,
    }
}

/// Builds, renders and signs the report of `account_id` as of `as_of`.
#[allow(clippy::too_many_arguments)] // each is a separate input the caller controls
pub async fn issue_report(
    settings: &Settings,
    store: &Store,
    cipher: &FieldCipher,
    signer: &Signer,
    account_id: &AccountId,
    as_of: NaiveDate,
    issued_at: DateTime<Utc>,
    rng: &mut (impl RngCore + Send),
) -> Result<IssuedReport, IssueError> {
    let signing =
        Signing { key_id: signer.kid().to_owned(), algorithm: algorithm_label(signer.algorithm()).to_owned() };
    let ctx = issue_context(settings, signing, issued_at, rng);
    let data = build_report_data(store, cipher, account_id, as_of, &ctx).await?;
    let pdf = crate::signing::render_and_sign(&data, signer, issued_at, &settings.report.issuer_name)?;
    let sha256 = Sha256::digest(&pdf).into();
    Ok(IssuedReport {
        number: ctx.report_number,
        code: ctx.verification_code,
        account_id: account_id.clone(),
        data,
        pdf,
        sha256,
    })
}
