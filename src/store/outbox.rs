//! The mail outbox's rows and the one transaction type that writes them
//! together with the change that causes them.
//!
//! A message is `pending` until a worker has sent it (`sent`) or given up
//! (`dead`). A worker claims due messages with a lease (its owner id and an
//! expiry); only the lease holder can record the outcome, and a lease that
//! runs out (the worker crashed) lets another worker claim the message again.

use chrono::{DateTime, Utc};

use super::{NewReport, Result, Store, postgres, sqlite};
use crate::domain::ReportNumber;

/// A message to queue; the recipient and the message are sealed by the
/// caller (see `mail::Outbox`).
#[derive(Clone, PartialEq, Eq)]
pub struct NewMail {
    pub id: String,
    pub kind: String,
    pub report_number: Option<ReportNumber>,
    pub subject: String,
    pub recipient_sealed: Vec<u8>,
    pub recipient_index: Vec<u8>,
    pub message_sealed: Vec<u8>,
    pub message_bytes: i64,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub give_up_at: DateTime<Utc>,
}

impl std::fmt::Debug for NewMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewMail").field("id", &self.id).field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// A queued message as stored, without the message itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailRow {
    pub id: String,
    pub kind: String,
    pub report_number: Option<String>,
    pub subject: String,
    pub recipient_sealed: Vec<u8>,
    pub message_bytes: i64,
    pub reason: Option<String>,
    /// `pending`, `sent` or `dead`.
    pub status: String,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub give_up_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_as: Option<String>,
}

/// The columns [`MailRow`] is read from (a macro so both backends can
/// `concat!` it into `'static` SQL).
macro_rules! mail_columns {
    () => {
        "id, kind, report_number, subject, recipient_sealed, message_bytes, reason, status, attempts, created_at, \
         next_attempt_at, give_up_at, lease_until, last_error, last_attempt_at, sent_at, delivered_as"
    };
}
pub(crate) use mail_columns;

/// A message claimed by a worker: what it needs to send it.
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimedMail {
    pub id: String,
    pub recipient_sealed: Vec<u8>,
    pub message_sealed: Vec<u8>,
    /// Including this one.
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    pub give_up_at: DateTime<Utc>,
}

impl std::fmt::Debug for ClaimedMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimedMail").field("id", &self.id).field("attempts", &self.attempts).finish_non_exhaustive()
    }
}

/// How one attempt ended, as recorded by the lease holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Sent {
        delivered_as: String,
    },
    /// A transient failure: pending again, not before `at`.
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    /// A permanent failure, or retries exhausted.
    Dead {
        error: String,
    },
}

/// A claim: who claims, when, until when, and how many at most.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub owner: &'a str,
    pub now: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
    pub limit: u32,
    /// Only this message (a command sending what it just queued).
    pub only: Option<&'a str>,
}

/// The PostgreSQL channel a commit that queued mail notifies, so workers of
/// every instance wake at once.
pub const OUTBOX_CHANNEL: &str = "standing_outbox";

/// A write transaction on either backend: nothing is visible to others
/// until [`Tx::commit`], and dropping it rolls everything back.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Store {
    /// Begins a write transaction (on SQLite `BEGIN IMMEDIATE`: it takes the
    /// write lock at once, so two writers queue instead of one failing when
    /// it first writes).
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Store::Sqlite(s) => Tx::Sqlite(s.pool().begin_with("BEGIN IMMEDIATE").await?),
            Store::Postgres(p) => Tx::Postgres(p.pool().begin().await?),
        })
    }

    /// Claims due messages (see [`Claim`]), oldest due first.
    pub async fn claim_mail(&self, claim: Claim<'_>) -> Result<Vec<ClaimedMail>> {
        match self {
            Store::Sqlite(s) => sqlite::outbox::claim(s.pool(), claim).await,
            Store::Postgres(p) => postgres::outbox::claim(p.pool(), claim).await,
        }
    }

    /// Records an attempt's outcome; false (nothing changed) when `owner`
    /// no longer holds the message's lease.
    pub async fn finish_attempt(
        &self,
        id: &str,
        owner: &str,
        now: DateTime<Utc>,
        outcome: &AttemptOutcome,
    ) -> Result<bool> {
        match self {
            Store::Sqlite(s) => sqlite::outbox::finish(s.pool(), id, owner, now, outcome).await,
            Store::Postgres(p) => postgres::outbox::finish(p.pool(), id, owner, now, outcome).await,
        }
    }

    /// Queued messages, newest first: all, or of one status, or of one report.
    pub async fn mail_rows(&self, filter: MailFilter<'_>, limit: u32) -> Result<Vec<MailRow>> {
        match self {
            Store::Sqlite(s) => sqlite::outbox::list(s.pool(), filter, limit).await,
            Store::Postgres(p) => postgres::outbox::list(p.pool(), filter, limit).await,
        }
    }

    /// Makes a dead or pending message due at once, with a fresh give-up
    /// time; false when no such message is dead or pending.
    pub async fn retry_mail(&self, id: &str, now: DateTime<Utc>, give_up_at: DateTime<Utc>) -> Result<bool> {
        match self {
            Store::Sqlite(s) => sqlite::outbox::retry(s.pool(), id, now, give_up_at).await,
            Store::Postgres(p) => postgres::outbox::retry(p.pool(), id, now, give_up_at).await,
        }
    }

    /// On PostgreSQL, a task that rings `bell` whenever any instance commits
    /// queued mail (`LISTEN` on [`OUTBOX_CHANNEL`]); `None` on SQLite, whose
    /// writers in other processes are found by polling.
    pub async fn listen_for_mail(
        &self,
        bell: std::sync::Arc<tokio::sync::Notify>,
    ) -> Result<Option<tokio::task::JoinHandle<()>>> {
        match self {
            Store::Sqlite(_) => Ok(None),
            Store::Postgres(p) => postgres::outbox::listen(p.pool(), bell).await.map(Some),
        }
    }

    /// When the next pending message falls due (its next attempt, or the
    /// end of the lease a crashed worker left on it).
    pub async fn next_mail_due(&self) -> Result<Option<DateTime<Utc>>> {
        match self {
            Store::Sqlite(s) => sqlite::outbox::next_due(s.pool()).await,
            Store::Postgres(p) => postgres::outbox::next_due(p.pool()).await,
        }
    }
}

/// Which queued messages to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct MailFilter<'a> {
    pub status: Option<&'a str>,
    pub report: Option<&'a ReportNumber>,
    pub id: Option<&'a str>,
}

impl Tx {
    /// Records a report as `valid`.
    pub async fn insert_report(&mut self, report: &NewReport) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => sqlite::insert_report(tx, report).await,
            Tx::Postgres(tx) => postgres::insert_report(tx, report).await,
        }
    }

    /// Marks a valid report revoked; false when no valid report has the number.
    pub async fn revoke_report(&mut self, number: &ReportNumber, reason: &str, at: DateTime<Utc>) -> Result<bool> {
        match self {
            Tx::Sqlite(tx) => sqlite::revoke_report(tx, number, reason, at).await,
            Tx::Postgres(tx) => postgres::revoke_report(tx, number, reason, at).await,
        }
    }

    /// Records `new` and marks `old` superseded by it, guarded by `status =
    /// 'valid'`; false when `old` is not valid (then roll back).
    pub async fn supersede_report(
        &mut self,
        old: &ReportNumber,
        new: &NewReport,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        match self {
            Tx::Sqlite(tx) => sqlite::supersede_report(tx, old, new, reason, at).await,
            Tx::Postgres(tx) => postgres::supersede_report(tx, old, new, reason, at).await,
        }
    }

    /// Queues a message, due at once. On PostgreSQL the commit also
    /// notifies [`OUTBOX_CHANNEL`].
    pub async fn queue_mail(&mut self, mail: &NewMail) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => sqlite::outbox::insert(tx, mail).await,
            Tx::Postgres(tx) => postgres::outbox::insert(tx, mail).await,
        }
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}
