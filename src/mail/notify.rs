//! The report operations that tell the applicant: issue, reissue, revoke,
//! resend. Each composes its email first and hands it to the registry, which
//! queues it in the transaction that records the change; after the commit
//! the worker is woken. One place for these sequences, used by the command
//! line (and the staff console and the applicant's journey as they come).

use chrono::{DateTime, Utc};
use rand::RngCore;

use super::compose::Composed;
use super::notices::{self, report_facts};
use super::{EmailAddress, MailError, Outbox};
use crate::config::Settings;
use crate::domain::{AccountId, ReportNumber};
use crate::keys::Signer;
use crate::registry::issue::IssuedReport;
use crate::registry::{ForApplication, RegisteredReport, Registry, RegistryError, ReportState, Status, check_reason};
use crate::store::NewMail;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Mail(#[from] MailError),
    /// The account's address on file cannot be mailed.
    #[error("account {account} has no usable email address on file: {problem}")]
    NoAddress { account: String, problem: String },
}

/// The registry and the outbox, with the settings the emails need.
#[derive(Debug, Clone)]
pub struct Notifier<'a> {
    pub settings: &'a Settings,
    pub registry: &'a Registry,
    pub outbox: &'a Outbox,
}

/// Who gets the email: the account's address on file, or one given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    OnFile,
    Address(EmailAddress),
}

impl Notifier<'_> {
    /// The account's email address on file.
    pub async fn address_on_file(&self, account: &AccountId) -> Result<EmailAddress, NotifyError> {
        let row = self.registry.store().account(account).await.map_err(RegistryError::Store)?;
        let row = row.ok_or_else(|| RegistryError::NotFound(format!("account {account}")))?;
        EmailAddress::parse(&row.email)
            .map_err(|problem| NotifyError::NoAddress { account: account.to_string(), problem })
    }

    async fn address(&self, recipient: &Recipient, account: &AccountId) -> Result<EmailAddress, NotifyError> {
        match recipient {
            Recipient::OnFile => self.address_on_file(account).await,
            Recipient::Address(a) => Ok(a.clone()),
        }
    }

    /// The report-issued email for `issued`, composed and sealed.
    fn issued_mail(
        &self,
        issued: &IssuedReport,
        to: &EmailAddress,
        replaces: Option<&ReportNumber>,
        reason: Option<&str>,
        id: String,
        now: DateTime<Utc>,
    ) -> Result<(Composed, NewMail), MailError> {
        let json = serde_json::to_value(&issued.data).map_err(|e| MailError::Report(e.to_string()))?;
        let facts = report_facts(&json)?;
        let composed = notices::report_issued(
            self.settings,
            &id,
            now,
            to,
            facts,
            issued.pdf.clone(),
            replaces.map(ToString::to_string),
        )?;
        let row = self.outbox.seal(&composed, Some(&issued.number), reason, now);
        Ok((composed, row))
    }

    /// Issues and records the report of `account` as of `as_of`; with
    /// `email`, its email to the address on file is queued in the same
    /// transaction. Returns the report and the queued message.
    #[allow(clippy::too_many_arguments)] // the issuing inputs, each passed in for determinism
    pub async fn issue(
        &self,
        signer: &Signer,
        account: &AccountId,
        as_of: chrono::NaiveDate,
        now: DateTime<Utc>,
        rng: &mut (impl RngCore + Send),
        email: Option<Recipient>,
        application: Option<ForApplication<'_>>,
    ) -> Result<(IssuedReport, Option<Composed>), NotifyError> {
        let to = match &email {
            Some(recipient) => Some(self.address(recipient, account).await?),
            None => None,
        };
        let id = notices::new_id(rng);
        let mut composed = None;
        let issued = self
            .registry
            .issue(
                self.settings,
                signer,
                account,
                as_of,
                now,
                rng,
                |issued| {
                    let Some(to) = &to else { return Ok(None) };
                    let (mail, row) = self.issued_mail(issued, to, None, None, id, now).map_err(registry_error)?;
                    composed = Some(mail);
                    Ok(Some(row))
                },
                application,
            )
            .await?;
        if composed.is_some() {
            self.outbox.wake();
        }
        Ok((issued, composed))
    }

    /// Reissues `number` (see [`Registry::reissue`]); unless `notify` is
    /// false, the new report's email to the address on file is queued in the
    /// same transaction.
    #[allow(clippy::too_many_arguments)] // the issuing inputs, each passed in for determinism
    pub async fn reissue(
        &self,
        signer: &Signer,
        number: &ReportNumber,
        reason: &str,
        now: DateTime<Utc>,
        rng: &mut (impl RngCore + Send),
        notify: bool,
    ) -> Result<(IssuedReport, RegisteredReport, Option<Composed>), NotifyError> {
        let to = match (notify, self.registry.find(number).await?) {
            (true, Some(old)) => Some(self.address_on_file(&old.account_id).await?),
            _ => None,
        };
        let id = notices::new_id(rng);
        let mut composed = None;
        let (issued, old) = self
            .registry
            .reissue(self.settings, signer, number, reason, now, rng, |issued| {
                let Some(to) = &to else { return Ok(None) };
                let (mail, row) = self.issued_mail(issued, to, Some(number), None, id, now).map_err(registry_error)?;
                composed = Some(mail);
                Ok(Some(row))
            })
            .await?;
        if composed.is_some() {
            self.outbox.wake();
        }
        Ok((issued, old, composed))
    }

    /// Revokes `number`; unless `notify` is false, the applicant's notice
    /// (with the reason officers now see) is queued in the same transaction.
    pub async fn revoke(
        &self,
        number: &ReportNumber,
        reason: &str,
        now: DateTime<Utc>,
        rng: &mut impl RngCore,
        notify: bool,
    ) -> Result<(RegisteredReport, Option<Composed>), NotifyError> {
        let reason = check_reason(reason)?;
        let report = self.registry.find(number).await?.ok_or_else(|| RegistryError::NotFound(number.to_string()))?;
        let mut composed = None;
        let mut row = None;
        if notify && report.state == ReportState::Valid {
            let to = self.address_on_file(&report.account_id).await?;
            let facts = self.stored_facts(number).await?;
            let id = notices::new_id(rng);
            let mail = notices::report_revoked(self.settings, &id, now, &to, &facts, reason)?;
            row = Some(self.outbox.seal(&mail, Some(number), None, now));
            composed = Some(mail);
        }
        let revoked = self.registry.revoke(number, reason, now, row.as_ref()).await?;
        if composed.is_some() {
            self.outbox.wake();
        }
        Ok((revoked, composed))
    }

    /// Queues a fresh copy of a valid report's email (a new message, with a
    /// new Message-ID), to the address on file or to `to`, with the
    /// operator's reason. Revoked, superseded and expired reports are
    /// refused: an officer would be told they are not valid.
    pub async fn resend(
        &self,
        number: &ReportNumber,
        to: Recipient,
        reason: &str,
        now: DateTime<Utc>,
        rng: &mut impl RngCore,
    ) -> Result<Composed, NotifyError> {
        let reason = check_reason(reason)?;
        let report = self.registry.find(number).await?.ok_or_else(|| RegistryError::NotFound(number.to_string()))?;
        let status = report.status(now.date_naive());
        if status != Status::Valid {
            return Err(RegistryError::WrongState { number: number.to_string(), state: status.as_str() }.into());
        }
        let to = self.address(&to, &report.account_id).await?;
        let facts = self.stored_facts(number).await?;
        let pdf = self.registry.pdf(number).await?.ok_or_else(|| RegistryError::NotFound(number.to_string()))?;
        let id = notices::new_id(rng);
        let mail = notices::report_issued(self.settings, &id, now, &to, facts, pdf, None)?;
        self.outbox.queue(&self.outbox.seal(&mail, Some(number), Some(reason), now)).await?;
        Ok(mail)
    }

    async fn stored_facts(&self, number: &ReportNumber) -> Result<super::templates::ReportFacts, NotifyError> {
        let json =
            self.registry.report_json(number).await?.ok_or_else(|| RegistryError::NotFound(number.to_string()))?;
        Ok(report_facts(&json)?)
    }
}

fn registry_error(e: MailError) -> RegistryError {
    RegistryError::Mail(e.to_string())
}
