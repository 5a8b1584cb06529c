//! The mail outbox's operations, dispatched to the backend in use (the
//! rows are in `outbox.rs`; queueing is on [`super::Tx`]).

use chrono::{DateTime, Utc};

use super::{AttemptOutcome, Claim, ClaimedMail, MailFilter, MailRow, Result, Store, postgres, sqlite};

impl Store {
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
