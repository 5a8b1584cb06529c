//! [`Tx`]: one write transaction on either backend, for changes that must
//! land together (a report recorded and its email queued).

use chrono::{DateTime, Utc};

use super::{NewMail, NewReport, Result, Store, postgres, sqlite};
use crate::domain::ReportNumber;

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
    /// 'valid'` so that of two racing reissues only one wins (on SQLite the
    /// second waits for the write lock, on PostgreSQL for the row lock, then
    /// finds the old report no longer valid); false when `old` is not valid
    /// (then roll back).
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
