//! Queueing and looking at queued messages. The recipient and the whole
//! message are sealed (AES-256-GCM, bound to the row's id and column), and
//! the recipient has a blind index so staff can find a person's mail
//! without the address being stored in the clear.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use tokio::sync::Notify;

use super::compose::Composed;
use super::{EmailAddress, MailError};
use crate::config::MailSettings;
use crate::crypto::FieldCipher;
use crate::domain::ReportNumber;
use crate::store::{MailFilter, MailRow, NewMail, Store};

/// The blind index's domain for email addresses.
pub const EMAIL_INDEX: &str = "email";

pub(super) fn recipient_context(id: &str) -> String {
    format!("outbox.recipient:{id}")
}

pub(super) fn message_context(id: &str) -> String {
    format!("outbox.message:{id}")
}

/// The outbox: the store, the cipher, and the bell that wakes this
/// process's worker. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Outbox {
    store: Store,
    cipher: FieldCipher,
    wake: Arc<Notify>,
    give_up_after: Duration,
}

/// A queued message as operators see it: the recipient masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuedMail {
    pub id: String,
    pub kind: String,
    pub report_number: Option<String>,
    pub subject: String,
    /// `z***@example.com`.
    pub to: String,
    pub status: String,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    /// Pending: when the next attempt may start.
    pub next_attempt_at: DateTime<Utc>,
    pub give_up_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The transport's answer: the file, or the SMTP server's reply.
    pub delivered_as: Option<String>,
    /// The worker that sent it (`pid 4242/3f9c2a1b`).
    pub sent_by: Option<String>,
    pub reason: Option<String>,
    pub message_bytes: i64,
}

impl Outbox {
    pub fn new(store: Store, cipher: FieldCipher, settings: &MailSettings) -> Self {
        let hours = i64::try_from(settings.give_up_after_hours).unwrap_or(24);
        Outbox { store, cipher, wake: Arc::new(Notify::new()), give_up_after: Duration::hours(hours) }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub(super) fn cipher(&self) -> &FieldCipher {
        &self.cipher
    }

    /// The bell this process's worker waits on.
    pub fn bell(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Wakes this process's worker (call after a commit that queued mail;
    /// other instances on PostgreSQL are woken by the commit itself).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The row that queues `mail`, sealed, due at `now`.
    pub fn seal(
        &self,
        mail: &Composed,
        report: Option<&ReportNumber>,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> NewMail {
        NewMail {
            id: mail.id.clone(),
            kind: mail.kind.to_owned(),
            report_number: report.cloned(),
            subject: mail.subject.clone(),
            recipient_sealed: self.cipher.seal(mail.to.as_str().as_bytes(), &recipient_context(&mail.id)),
            recipient_index: self.cipher.blind_index(EMAIL_INDEX, &mail.to.index_form()).to_vec(),
            message_sealed: self.cipher.seal(&mail.bytes, &message_context(&mail.id)),
            message_bytes: i64::try_from(mail.bytes.len()).unwrap_or(i64::MAX),
            reason: reason.map(str::to_owned),
            created_at: now,
            give_up_at: now + self.give_up_after,
        }
    }

    /// Queues `mail` in its own transaction (for messages no other change
    /// goes with, such as a resend) and wakes the worker.
    pub async fn queue(&self, mail: &NewMail) -> Result<(), MailError> {
        let mut tx = self.store.begin().await?;
        tx.queue_mail(mail).await?;
        tx.commit().await?;
        self.wake();
        Ok(())
    }

    /// Queued messages, newest first.
    pub async fn list(&self, filter: MailFilter<'_>, limit: u32) -> Result<Vec<QueuedMail>, MailError> {
        let rows = self.store.mail_rows(filter, limit).await?;
        rows.into_iter().map(|row| self.describe(row)).collect()
    }

    /// One message by id.
    pub async fn find(&self, id: &str) -> Result<Option<QueuedMail>, MailError> {
        let filter = MailFilter { id: Some(id), ..MailFilter::default() };
        Ok(self.list(filter, 1).await?.into_iter().next())
    }

    /// Makes a dead (or pending) message due now, with a fresh
    /// `give_up_after_hours`; false when no dead or pending message has this id.
    pub async fn retry(&self, id: &str, now: DateTime<Utc>) -> Result<bool, MailError> {
        let done = self.store.retry_mail(id, now, now + self.give_up_after).await?;
        if done {
            self.wake();
        }
        Ok(done)
    }

    /// The recipient of a stored row, opened.
    pub(super) fn open_recipient(&self, id: &str, sealed: &[u8]) -> Result<EmailAddress, MailError> {
        let bytes = self.cipher.open(sealed, &recipient_context(id)).map_err(|_| MailError::Sealed)?;
        let text = String::from_utf8(bytes).map_err(|_| MailError::Sealed)?;
        EmailAddress::parse(&text).map_err(MailError::Address)
    }

    fn describe(&self, row: MailRow) -> Result<QueuedMail, MailError> {
        let to = self.open_recipient(&row.id, &row.recipient_sealed)?.masked();
        Ok(QueuedMail {
            id: row.id,
            kind: row.kind,
            report_number: row.report_number,
            subject: row.subject,
            to,
            status: row.status,
            attempts: row.attempts,
            created_at: row.created_at,
            next_attempt_at: row.next_attempt_at,
            give_up_at: row.give_up_at,
            last_attempt_at: row.last_attempt_at,
            last_error: row.last_error,
            sent_at: row.sent_at,
            delivered_as: row.delivered_as,
            sent_by: row.sent_by,
            reason: row.reason,
            message_bytes: row.message_bytes,
        })
    }
}
