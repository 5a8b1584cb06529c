//! The outbox on SQLite. A claim is one `UPDATE … RETURNING` inside `BEGIN
//! IMMEDIATE`: the write lock makes the choice of rows and their lease one
//! step, so two workers (or two processes) never claim the same message.

use chrono::{DateTime, Utc};
use sqlx::{Sqlite, SqlitePool, Transaction as DbTx};

use super::timestamp;
use crate::store::outbox::mail_columns;
use crate::store::rows::{self, StoreRow};
use crate::store::{AttemptOutcome, Claim, ClaimedMail, MailFilter, MailRow, NewMail, Result};

pub(in crate::store) async fn insert(tx: &mut DbTx<'static, Sqlite>, m: &NewMail) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (id, kind, report_number, subject, recipient_sealed, recipient_index, message_sealed, \
         message_bytes, reason, status, attempts, created_at, next_attempt_at, give_up_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
    )
    .bind(&m.id)
    .bind(&m.kind)
    .bind(m.report_number.as_ref().map(ToString::to_string))
    .bind(&m.subject)
    .bind(m.recipient_sealed.as_slice())
    .bind(m.recipient_index.as_slice())
    .bind(m.message_sealed.as_slice())
    .bind(m.message_bytes)
    .bind(m.reason.as_deref())
    .bind(timestamp(m.created_at))
    .bind(timestamp(m.created_at))
    .bind(timestamp(m.give_up_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(in crate::store) async fn claim(pool: &SqlitePool, c: Claim<'_>) -> Result<Vec<ClaimedMail>> {
    let now = timestamp(c.now);
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let rows = sqlx::query(
        "UPDATE outbox SET lease_owner = ?1, lease_until = ?2, attempts = attempts + 1, last_attempt_at = ?3 \
         WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?3 \
                      AND (lease_until IS NULL OR lease_until <= ?3) AND (?4 IS NULL OR id = ?4) \
                      ORDER BY next_attempt_at, id LIMIT ?5) \
         RETURNING id, recipient_sealed, message_sealed, attempts, created_at, give_up_at",
    )
    .bind(c.owner)
    .bind(timestamp(c.lease_until))
    .bind(&now)
    .bind(c.only)
    .bind(i64::from(c.limit))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter().map(rows::claimed_mail).collect()
}

pub(in crate::store) async fn finish(
    pool: &SqlitePool,
    id: &str,
    owner: &str,
    now: DateTime<Utc>,
    outcome: &AttemptOutcome,
) -> Result<bool> {
    let query = match outcome {
        AttemptOutcome::Sent { delivered_as } => sqlx::query(
            "UPDATE outbox SET status = 'sent', sent_at = ?1, delivered_as = ?2, sent_by = lease_owner, last_error = NULL, \
             lease_owner = NULL, lease_until = NULL WHERE id = ?3 AND lease_owner = ?4 AND status = 'pending'",
        )
        .bind(timestamp(now))
        .bind(delivered_as),
        AttemptOutcome::Retry { at, error } => sqlx::query(
            "UPDATE outbox SET next_attempt_at = ?1, last_error = ?2, lease_owner = NULL, lease_until = NULL \
             WHERE id = ?3 AND lease_owner = ?4 AND status = 'pending'",
        )
        .bind(timestamp(*at))
        .bind(error),
        AttemptOutcome::Dead { error } => sqlx::query(
            "UPDATE outbox SET status = 'dead', last_error = ?2, lease_owner = NULL, lease_until = NULL, \
             next_attempt_at = ?1 WHERE id = ?3 AND lease_owner = ?4 AND status = 'pending'",
        )
        .bind(timestamp(now))
        .bind(error),
    };
    let done = query.bind(id).bind(owner).execute(pool).await?;
    Ok(done.rows_affected() == 1)
}

pub(in crate::store) async fn list(pool: &SqlitePool, f: MailFilter<'_>, limit: u32) -> Result<Vec<MailRow>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        mail_columns!(),
        " FROM outbox WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR report_number = ?2) \
         AND (?3 IS NULL OR id = ?3) ORDER BY created_at DESC, id LIMIT ?4"
    ))
    .bind(f.status)
    .bind(f.report.map(ToString::to_string))
    .bind(f.id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(rows::mail).collect()
}

pub(in crate::store) async fn retry(
    pool: &SqlitePool,
    id: &str,
    now: DateTime<Utc>,
    give_up_at: DateTime<Utc>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE outbox SET status = 'pending', next_attempt_at = ?1, give_up_at = ?2 \
         WHERE id = ?3 AND status IN ('pending', 'dead')",
    )
    .bind(timestamp(now))
    .bind(timestamp(give_up_at))
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(in crate::store) async fn next_due(pool: &SqlitePool) -> Result<Option<DateTime<Utc>>> {
    let row = sqlx::query(
        "SELECT min(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at \
                    THEN lease_until ELSE next_attempt_at END) AS due \
         FROM outbox WHERE status = 'pending'",
    )
    .fetch_one(pool)
    .await?;
    row.optional_timestamp("due")
}
