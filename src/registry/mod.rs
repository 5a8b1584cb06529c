//! The registry of issued reports: what a visa officer's check is answered
//! from, and what operators revoke and reissue.
//!
//! Every report the service hands out is recorded here first (see
//! [`Registry::record`]). The verification code is kept only as an HMAC
//! bound to the report number ([`FieldCipher::secret_digest`]); the report
//! JSON (which holds the passport number) and the PDF are sealed with
//! AES-256-GCM, each bound to its report number, so a sealed value copied to
//! another row does not open.
//!
//! A report changes state at most once: `valid` → `revoked`, or `valid` →
//! `superseded` (by a reissue). Both changes are guarded by `status =
//! 'valid'` in the database, so two operators racing cannot both win.
//! `expired` is not stored: it follows from `valid_until` and the date.

mod facts;
pub mod issue;

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use rand::RngCore;
use serde::Serialize;

use crate::config::Settings;
use crate::crypto::FieldCipher;
use crate::domain::{AccountId, ReportNumber, VerificationCode};
use crate::keys::Signer;
use crate::store::{NewMail, NewReport, ReportRow, Store, StoreError};
use crate::verify::{IssuedFacts, IssuedStatus};
pub use facts::KeyFacts;
use facts::StoredFacts;
#[cfg(test)]
use facts::mask_passport;
use issue::{IssueError, IssuedReport, issue_report};

/// The longest revocation or reissue reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// What happened to a report since it was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportState {
    Valid,
    Revoked { at: DateTime<Utc>, reason: String },
    Superseded { by: String, at: DateTime<Utc>, reason: String },
}

impl ReportState {
    /// The stored name: `valid`, `revoked` or `superseded`.
    pub fn name(&self) -> &'static str {
        match self {
            ReportState::Valid => "valid",
            ReportState::Revoked { .. } => "revoked",
            ReportState::Superseded { .. } => "superseded",
        }
    }
}

/// What an officer is told; `Expired` is computed from `valid_until` and today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Valid,
    Revoked,
    Superseded,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Revoked => "revoked",
            Status::Superseded => "superseded",
            Status::Expired => "expired",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An issued report as recorded, with its report JSON opened.
#[derive(Clone, PartialEq)]
pub struct RegisteredReport {
    pub number: ReportNumber,
    pub account_id: AccountId,
    pub as_of: NaiveDate,
    pub issued_at: DateTime<Utc>,
    pub valid_until: NaiveDate,
    pub pdf_sha256: [u8; 32],
    pub key_id: String,
    pub state: ReportState,
    /// What a status check shows, opened from its own sealed column; the
    /// whole `report.json` is read only when needed ([`Registry::report_json`]).
    pub facts: KeyFacts,
}

/// Leaves out the report JSON, so a stray `{:?}` cannot put a passport
/// number in a log.
impl fmt::Debug for RegisteredReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisteredReport")
            .field("number", &self.number)
            .field("account_id", &self.account_id)
            .field("as_of", &self.as_of)
            .field("issued_at", &self.issued_at)
            .field("valid_until", &self.valid_until)
            .field("pdf_sha256", &hex::encode(self.pdf_sha256))
            .field("key_id", &self.key_id)
            .field("state", &self.state)
            .field("facts", &format_args!("[redacted]"))
            .finish()
    }
}

impl RegisteredReport {
    /// Revoked or superseded whatever the date; otherwise expired once
    /// `today` is past `valid_until` (the report is good through that day).
    pub fn status(&self, today: NaiveDate) -> Status {
        match self.state {
            ReportState::Revoked { .. } => Status::Revoked,
            ReportState::Superseded { .. } => Status::Superseded,
            ReportState::Valid if today > self.valid_until => Status::Expired,
            ReportState::Valid => Status::Valid,
        }
    }

    /// The facts an officer compares with the applicant's documents, from
    /// the report as issued; the passport number masked to its last three
    /// characters.
    pub fn key_facts(&self) -> KeyFacts {
        self.facts.clone()
    }

    /// What an upload check compares the file with; `report_json` is the
    /// issued `report.json` ([`Registry::report_json`]) for a field diff.
    pub fn issued_facts<'a>(&self, report_json: Option<&'a serde_json::Value>) -> IssuedFacts<'a> {
        let status = match &self.state {
            ReportState::Valid => IssuedStatus::Valid,
            ReportState::Revoked { at, reason } => IssuedStatus::Revoked { at: *at, reason: reason.clone() },
            ReportState::Superseded { by, at, .. } => IssuedStatus::Superseded { by: by.clone(), at: Some(*at) },
        };
        IssuedFacts {
            report_number: self.number.to_string(),
            report_json,
            pdf_sha256: self.pdf_sha256,
            valid_until: self.valid_until,
            status,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No report has this number.
    #[error("no report {0}")]
    NotFound(String),
    /// The report is not in a state that allows the action (409).
    #[error("report {number} is {state}")]
    WrongState { number: String, state: &'static str },
    #[error("a reason is required")]
    EmptyReason,
    #[error("the reason is longer than {max} characters")]
    ReasonTooLong { max: usize },
    #[error("the reason contains control characters")]
    ReasonHasControlCharacters,
    /// What was to be recorded cannot be encoded (its JSON).
    #[error("invalid report: {0}")]
    Invalid(String),
    #[error("registry storage failed")]
    Store(#[from] StoreError),
    /// A sealed value does not open under this key and report number.
    #[error("a sealed report value does not open (wrong master key, or the row was tampered with)")]
    Sealed,
    #[error("issuing the new report failed")]
    Issue(#[from] IssueError),
    /// The email that goes with the change could not be composed; nothing
    /// was recorded.
    #[error("composing the email failed: {0}")]
    Mail(String),
    /// The application the report was for is no longer held by this
    /// worker; nothing was recorded.
    #[error("application {0} was taken over by another worker")]
    LeaseLost(String),
}

/// The application a report answers: it moves from `generating` to
/// `issued` in the transaction that records the report, if the worker
/// `lease_owner` still holds it.
#[derive(Debug, Clone, Copy)]
pub struct ForApplication<'a> {
    pub id: &'a str,
    pub lease_owner: &'a str,
    pub at: DateTime<Utc>,
}

/// Trims a revocation or reissue reason and checks it: required, at most
/// [`MAX_REASON_CHARS`] characters, one line of printable text.
pub fn check_reason(reason: &str) -> Result<&str, RegistryError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RegistryError::EmptyReason);
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(RegistryError::ReasonTooLong { max: MAX_REASON_CHARS });
    }
    if reason.chars().any(char::is_control) {
        return Err(RegistryError::ReasonHasControlCharacters);
    }
    Ok(reason)
}

/// Associated data and HMAC contexts: each sealed value or digest names its
/// column and report, so it cannot be moved to another.
fn code_context(number: &ReportNumber) -> String {
    format!("reports.code:{number}")
}

fn json_context(number: &ReportNumber) -> String {
    format!("reports.report_json:{number}")
}

fn facts_context(number: &ReportNumber) -> String {
    format!("reports.key_facts:{number}")
}

fn pdf_context(number: &ReportNumber) -> String {
    format!("reports.pdf:{number}")
}

/// The registry: the store and the cipher that seals what it keeps.
#[derive(Debug, Clone)]
pub struct Registry {
    store: Store,
    cipher: FieldCipher,
}

impl Registry {
    pub fn new(store: Store, cipher: FieldCipher) -> Self {
        Registry { store, cipher }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Records an issued report as `valid`, and queues `mail` (its email)
    /// in the same transaction: both or neither. Callers hand the PDF out
    /// only after this returns `Ok`.
    #[tracing::instrument(skip_all, fields(report = %issued.number))]
    pub async fn record(
        &self,
        issued: &IssuedReport,
        mail: Option<&NewMail>,
        application: Option<ForApplication<'_>>,
    ) -> Result<(), RegistryError> {
        let row = self.new_report(issued)?;
        let mut tx = self.store.begin().await?;
        tx.insert_report(&row).await?;
        if let Some(mail) = mail {
            tx.queue_mail(mail).await?;
        }
        if let Some(app) = application
            && !tx.complete_application(app.id, app.lease_owner, &issued.number, app.at).await?
        {
            // Another worker took the application over (our lease ran out):
            // dropping the transaction records nothing.
            return Err(RegistryError::LeaseLost(app.id.to_owned()));
        }
        tx.commit().await?;
        tracing::info!(emailed = mail.is_some(), "report recorded");
        Ok(())
    }

    /// The row to store for `issued`: code hashed, JSON and PDF sealed.
    fn new_report(&self, issued: &IssuedReport) -> Result<NewReport, RegistryError> {
        let (data, number, code) = (&issued.data, &issued.number, &issued.code);
        let value = serde_json::to_value(data).map_err(|e| RegistryError::Invalid(format!("report JSON: {e}")))?;
        let json = serde_json::to_vec(&value).map_err(|e| RegistryError::Invalid(format!("report JSON: {e}")))?;
        let facts = serde_json::to_vec(&StoredFacts::of(&value))
            .map_err(|e| RegistryError::Invalid(format!("key facts: {e}")))?;
        Ok(NewReport {
            report_number: number.clone(),
            code_hash: self.cipher.secret_digest(&code_context(number), code.compact()).to_vec(),
            account_id: issued.account_id.clone(),
            as_of: data.as_of,
            issued_at: data.issued_at,
            valid_until: data.valid_until,
            pdf_sha256: issued.sha256.to_vec(),
            key_id: data.signing.key_id.clone(),
            report_json_sealed: self.cipher.seal(&json, &json_context(number)),
            key_facts_sealed: self.cipher.seal(&facts, &facts_context(number)),
            pdf_sealed: self.cipher.seal(&issued.pdf, &pdf_context(number)),
        })
    }

    /// The report with this number, whatever its state.
    pub async fn find(&self, number: &ReportNumber) -> Result<Option<RegisteredReport>, RegistryError> {
        match self.store.report(number).await? {
            Some(row) => Ok(Some(self.open_row(row)?)),
            None => Ok(None),
        }
    }

    /// None when the number is unknown OR the code is wrong — indistinguishable,
    /// same work: one lookup of the row by number, the HMAC of the given code
    /// computed either way (of a fixed placeholder when the code is
    /// malformed, so its length costs nothing), compared in constant time.
    /// Only the key facts are opened: this is the officers' hot path.
    pub async fn find_with_code(
        &self,
        number: &ReportNumber,
        code: &str,
    ) -> Result<Option<RegisteredReport>, RegistryError> {
        let row = self.store.report(number).await?;
        // A malformed code never matches: no stored hash is of the empty string.
        let code = VerificationCode::parse(code).map(|c| c.compact().to_owned()).unwrap_or_default();
        let stored = row.as_ref().map_or(&[0u8; 32][..], |r| r.code_hash.as_slice());
        let matches = self.cipher.secret_matches(&code_context(number), &code, stored);
        match row {
            Some(row) if matches => Ok(Some(self.open_row(row)?)),
            _ => Ok(None),
        }
    }

    /// The `report.json` issued under `number`, opened (it holds the
    /// passport number: never log it).
    pub async fn report_json(&self, number: &ReportNumber) -> Result<Option<serde_json::Value>, RegistryError> {
        let Some(sealed) = self.store.report_json_sealed(number).await? else {
            return Ok(None);
        };
        let json = self.cipher.open(&sealed, &json_context(number)).map_err(|_| RegistryError::Sealed)?;
        let value = serde_json::from_slice(&json)
            .map_err(|_| RegistryError::Store(StoreError::Corrupt("reports.report_json_sealed".into())))?;
        Ok(Some(value))
    }

    /// The issued PDF, opened.
    pub async fn pdf(&self, number: &ReportNumber) -> Result<Option<Vec<u8>>, RegistryError> {
        let Some(sealed) = self.store.report_pdf_sealed(number).await? else {
            return Ok(None);
        };
        self.cipher.open(&sealed, &pdf_context(number)).map(Some).map_err(|_| RegistryError::Sealed)
    }

    /// Revokes a valid (possibly expired) report, queueing `mail` (the
    /// applicant's notice) in the same transaction. Revoked and superseded
    /// reports are refused with [`RegistryError::WrongState`], and nothing
    /// is queued.
    #[tracing::instrument(skip_all, fields(report = %number))]
    pub async fn revoke(
        &self,
        number: &ReportNumber,
        reason: &str,
        now: DateTime<Utc>,
        mail: Option<&NewMail>,
    ) -> Result<RegisteredReport, RegistryError> {
        let reason = check_reason(reason)?;
        let mut tx = self.store.begin().await?;
        let changed = tx.revoke_report(number, reason, now).await?;
        if changed {
            if let Some(mail) = mail {
                tx.queue_mail(mail).await?;
            }
            tx.commit().await?;
        } else {
            drop(tx);
        }
        let report = self.find(number).await?.ok_or_else(|| RegistryError::NotFound(number.to_string()))?;
        if !changed {
            return Err(RegistryError::WrongState { number: number.to_string(), state: report.state.name() });
        }
        tracing::info!("report revoked");
        Ok(report)
    }

    /// The latest reports first, of one account or of all, at most `limit`.
    pub async fn list(&self, account: Option<&AccountId>, limit: u32) -> Result<Vec<RegisteredReport>, RegistryError> {
        let rows = self.store.reports(account, limit).await?;
        rows.into_iter().map(|row| self.open_row(row)).collect()
    }

    /// Issues the report of `account_id` as of `as_of` and records it: the
    /// whole issuing sequence, for `standing report` (and, once it exists,
    /// the applicant's journey). `mail` may compose the report's email from
    /// it; the email is queued in the transaction that records the report.
    /// What it returns is recorded; nothing signed leaves it otherwise.
    #[allow(clippy::too_many_arguments)] // the issuing inputs, each passed in for determinism
    #[tracing::instrument(skip_all)]
    pub async fn issue(
        &self,
        settings: &Settings,
        signer: &Signer,
        account_id: &AccountId,
        as_of: NaiveDate,
        now: DateTime<Utc>,
        rng: &mut (impl RngCore + Send),
        mail: impl FnOnce(&IssuedReport) -> Result<Option<NewMail>, RegistryError>,
        application: Option<ForApplication<'_>>,
    ) -> Result<IssuedReport, RegistryError> {
        let issued = issue_report(settings, &self.store, &self.cipher, signer, account_id, as_of, now, rng).await?;
        let mail = mail(&issued)?;
        self.record(&issued, mail.as_ref(), application).await?;
        Ok(issued)
    }

    /// Issues a new report for the same account as of `now`'s date and, in
    /// one transaction, records it, marks the old one superseded by it and
    /// queues the email `mail` composes from the new report (if any).
    /// Returns the new report and the old one in its new state. Only a valid
    /// (possibly expired) report can be reissued; when another reissue or a
    /// revocation wins a race, nothing is recorded and the answer is
    /// [`RegistryError::WrongState`].
    #[allow(clippy::too_many_arguments)] // the issuing inputs, each passed in for determinism
    #[tracing::instrument(skip_all, fields(report = %number))]
    pub async fn reissue(
        &self,
        settings: &Settings,
        signer: &Signer,
        number: &ReportNumber,
        reason: &str,
        now: DateTime<Utc>,
        rng: &mut (impl RngCore + Send),
        mail: impl FnOnce(&IssuedReport) -> Result<Option<NewMail>, RegistryError>,
    ) -> Result<(IssuedReport, RegisteredReport), RegistryError> {
        let reason = check_reason(reason)?;
        let old = self.find(number).await?.ok_or_else(|| RegistryError::NotFound(number.to_string()))?;
        if old.state != ReportState::Valid {
            return Err(RegistryError::WrongState { number: number.to_string(), state: old.state.name() });
        }
        let issued =
            issue_report(settings, &self.store, &self.cipher, signer, &old.account_id, now.date_naive(), now, rng)
                .await?;
        let new = self.new_report(&issued)?;
        let mail = mail(&issued)?;
        let mut tx = self.store.begin().await?;
        let won = tx.supersede_report(number, &new, reason, now).await?;
        if won {
            if let Some(mail) = &mail {
                tx.queue_mail(mail).await?;
            }
            tx.commit().await?;
        } else {
            drop(tx);
        }
        let old = self.find(number).await?.ok_or_else(|| RegistryError::NotFound(number.to_string()))?;
        if !won {
            return Err(RegistryError::WrongState { number: number.to_string(), state: old.state.name() });
        }
        tracing::info!(new_report = %new.report_number, "report reissued");
        Ok((issued, old))
    }

    fn open_row(&self, row: ReportRow) -> Result<RegisteredReport, RegistryError> {
        let corrupt = |what: &str| RegistryError::Store(StoreError::Corrupt(format!("reports.{what}")));
        let number = row.report_number.clone();
        let facts =
            self.cipher.open(&row.key_facts_sealed, &facts_context(&number)).map_err(|_| RegistryError::Sealed)?;
        let facts: StoredFacts = serde_json::from_slice(&facts).map_err(|_| corrupt("key_facts_sealed"))?;
        let pdf_sha256 = row.pdf_sha256.as_slice().try_into().map_err(|_| corrupt("pdf_sha256"))?;
        let state = match row.status.as_str() {
            "valid" => ReportState::Valid,
            "revoked" => ReportState::Revoked {
                at: row.revoked_at.ok_or_else(|| corrupt("revoked_at"))?,
                reason: row.revoked_reason.ok_or_else(|| corrupt("revoked_reason"))?,
            },
            "superseded" => ReportState::Superseded {
                by: row.superseded_by.ok_or_else(|| corrupt("superseded_by"))?,
                at: row.superseded_at.ok_or_else(|| corrupt("superseded_at"))?,
                reason: row.supersede_reason.ok_or_else(|| corrupt("supersede_reason"))?,
            },
            _ => return Err(corrupt("status")),
        };
        Ok(RegisteredReport {
            number,
            account_id: row.account_id,
            as_of: row.as_of,
            issued_at: row.issued_at,
            valid_until: row.valid_until,
            pdf_sha256,
            facts: facts.with_row(row.issued_at, row.valid_until, &pdf_sha256),
            key_id: row.key_id,
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rand::SeedableRng;

    fn report(state: ReportState) -> RegisteredReport {
        let issued_at = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();
        let valid_until = NaiveDate::from_ymd_opt(2027, 2, 19).unwrap();
        let json = serde_json::json!({
            "applicant": {"full_name": "ZHANG Wei", "passport_number": "E12345678", "passport_country": "CHN"},
            "assets": {"total": {"current": {"authority": {"text": "CAD 28,980.00"}}}},
            "spending": {"average_monthly": {"authority": {"text": "CAD 1,234.50"}}},
            "bills": {"on_time_rate": "98.3%"}
        });
        RegisteredReport {
            number: ReportNumber::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(1)),
            account_id: AccountId::parse("A1001").unwrap(),
            as_of: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            issued_at,
            valid_until,
            pdf_sha256: [0xab; 32],
            key_id: "kid".into(),
            state,
            facts: StoredFacts::of(&json).with_row(issued_at, valid_until, &[0xab; 32]),
        }
    }

    #[test]
    fn status_puts_revoked_and_superseded_before_expiry() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let last_day = NaiveDate::from_ymd_opt(2027, 2, 19).unwrap();
        let after = NaiveDate::from_ymd_opt(2027, 2, 20).unwrap();
        assert_eq!(report(ReportState::Valid).status(last_day), Status::Valid);
        assert_eq!(report(ReportState::Valid).status(after), Status::Expired);
        let revoked = report(ReportState::Revoked { at, reason: "x".into() });
        assert_eq!(revoked.status(last_day), Status::Revoked);
        assert_eq!(revoked.status(after), Status::Revoked);
        let superseded = report(ReportState::Superseded { by: "SR-X".into(), at, reason: "x".into() });
        assert_eq!(superseded.status(after), Status::Superseded);
        assert_eq!(serde_json::to_value(Status::Expired).unwrap(), "expired");
    }

    #[test]
    fn key_facts_mask_the_passport_and_use_the_authority_currency() {
        let facts = report(ReportState::Valid).key_facts();
        assert_eq!(facts.passport_masked, "••••••678");
        assert_eq!(facts.full_name, "ZHANG Wei");
        assert_eq!(facts.total_assets, "CAD 28,980.00");
        assert_eq!(facts.average_monthly_spending, "CAD 1,234.50");
        assert_eq!(facts.on_time_bill_rate, "98.3%");
        assert_eq!(facts.issued_on, NaiveDate::from_ymd_opt(2026, 11, 21).unwrap());
        assert_eq!(facts.pdf_sha256, "ab".repeat(32));
        assert_eq!(mask_passport("AB"), "••••••");
        assert!(!format!("{:?}", report(ReportState::Valid)).contains("E12345678"));
    }

    #[test]
    fn reasons_are_trimmed_required_and_bounded() {
        assert_eq!(check_reason("  lost passport \n").unwrap(), "lost passport");
        assert!(matches!(check_reason(" \t"), Err(RegistryError::EmptyReason)));
        assert!(check_reason(&"é".repeat(MAX_REASON_CHARS)).is_ok());
        assert!(matches!(check_reason(&"a".repeat(MAX_REASON_CHARS + 1)), Err(RegistryError::ReasonTooLong { .. })));
        assert!(matches!(check_reason("a\u{0}b"), Err(RegistryError::ReasonHasControlCharacters)));
    }
}
