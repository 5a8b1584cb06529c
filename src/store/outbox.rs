//! The mail outbox's rows (operations in `mail.rs`; queueing, together
//! with the change that causes it, on `tx.rs`'s [`super::Tx`]).
//!
//! A message is `pending` until a worker has sent it (`sent`) or given up
//! (`dead`). A worker claims due messages with a lease (its owner id and an
//! expiry); only the lease holder can record the outcome, and a lease that
//! runs out (the worker crashed) lets another worker claim the message again.

use chrono::{DateTime, Utc};

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
    /// The worker that sent it.
    pub sent_by: Option<String>,
}

/// The columns [`MailRow`] is read from (a macro so both backends can
/// `concat!` it into `'static` SQL).
macro_rules! mail_columns {
    () => {
        "id, kind, report_number, subject, recipient_sealed, message_bytes, reason, status, attempts, created_at, \
         next_attempt_at, give_up_at, lease_until, last_error, last_attempt_at, sent_at, delivered_as, sent_by"
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

/// Which queued messages to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct MailFilter<'a> {
    pub status: Option<&'a str>,
    pub report: Option<&'a ReportNumber>,
    pub id: Option<&'a str>,
}
