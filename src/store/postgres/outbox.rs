//! The outbox on PostgreSQL, shared by every instance. A claim locks the
//! rows it takes with `FOR UPDATE SKIP LOCKED`, so concurrent workers take
//! different messages without waiting on each other; a queued message
//! notifies [`OUTBOX_CHANNEL`] when its transaction commits.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction as DbTx};

use crate::store::outbox::mail_columns;
use crate::store::rows::{self, StoreRow};
use crate::store::{AttemptOutcome, Claim, ClaimedMail, MailFilter, MailRow, NewMail, OUTBOX_CHANNEL, Result};

pub(in crate::store) async fn insert(tx: &mut DbTx<'static, Postgres>, m: &NewMail) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (id, kind, report_number, subject, recipient_sealed, recipient_index, message_sealed, \
         message_bytes, reason, status, attempts, created_at, next_attempt_at, give_up_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', 0, $10, $10, $11)",
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
    .bind(m.created_at)
    .bind(m.give_up_at)
    .execute(&mut **tx)
    .await?;
    // Delivered to listeners only when (and if) the transaction commits.
    sqlx::query("SELECT pg_notify($1, '')").bind(OUTBOX_CHANNEL).execute(&mut **tx).await?;
    Ok(())
}

pub(in crate::store) async fn claim(pool: &PgPool, c: Claim<'_>) -> Result<Vec<ClaimedMail>> {
    let rows = sqlx::query(
        "UPDATE outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1, last_attempt_at = $3 \
         WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $3 \
                      AND (lease_until IS NULL OR lease_until <= $3) AND ($4::text IS NULL OR id = $4) \
                      ORDER BY next_attempt_at, id LIMIT $5 FOR UPDATE SKIP LOCKED) \
         RETURNING id, recipient_sealed, message_sealed, attempts, created_at, give_up_at",
    )
    .bind(c.owner)
    .bind(c.lease_until)
    .bind(c.now)
    .bind(c.only)
    .bind(i64::from(c.limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(rows::claimed_mail).collect()
}

pub(in crate::store) async fn finish(
    pool: &PgPool,
    id: &str,
    owner: &str,
    now: DateTime<Utc>,
    outcome: &AttemptOutcome,
) -> Result<bool> {
    let query = match outcome {
        AttemptOutcome::Sent { delivered_as } => sqlx::query(
            "UPDATE outbox SET status = 'sent', sent_at = $1, delivered_as = $2, sent_by = lease_owner, last_error = NULL, \
             lease_owner = NULL, lease_until = NULL WHERE id = $3 AND lease_owner = $4 AND status = 'pending'",
        )
        .bind(now)
        .bind(delivered_as),
        AttemptOutcome::Retry { at, error } => sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1, last_error = $2, lease_owner = NULL, lease_until = NULL \
             WHERE id = $3 AND lease_owner = $4 AND status = 'pending'",
        )
        .bind(*at)
        .bind(error),
        AttemptOutcome::Dead { error } => sqlx::query(
            "UPDATE outbox SET status = 'dead', last_error = $2, lease_owner = NULL, lease_until = NULL, \
             next_attempt_at = $1 WHERE id = $3 AND lease_owner = $4 AND status = 'pending'",
        )
        .bind(now)
        .bind(error),
    };
    let done = query.bind(id).bind(owner).execute(pool).await?;
    Ok(done.rows_affected() == 1)
}

pub(in crate::store) async fn list(pool: &PgPool, f: MailFilter<'_>, limit: u32) -> Result<Vec<MailRow>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        mail_columns!(),
        " FROM outbox WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR report_number = $2) \
         AND ($3::text IS NULL OR id = $3) ORDER BY created_at DESC, id LIMIT $4"
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
    pool: &PgPool,
    id: &str,
    now: DateTime<Utc>,
    give_up_at: DateTime<Utc>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE outbox SET status = 'pending', next_attempt_at = $1, give_up_at = $2 \
         WHERE id = $3 AND status IN ('pending', 'dead')",
    )
    .bind(now)
    .bind(give_up_at)
    .bind(id)
    .execute(pool)
    .await?;
    if done.rows_affected() == 1 {
        sqlx::query("SELECT pg_notify($1, '')").bind(OUTBOX_CHANNEL).execute(pool).await?;
    }
    Ok(done.rows_affected() == 1)
}

pub(in crate::store) async fn next_due(pool: &PgPool) -> Result<Option<DateTime<Utc>>> {
    let row = sqlx::query(
        "SELECT min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at))) AS due \
         FROM outbox WHERE status = 'pending'",
    )
    .fetch_one(pool)
    .await?;
    row.optional_timestamp("due")
}

/// Listens on [`OUTBOX_CHANNEL`] on a connection of its own and rings `bell`
/// for every notification. When the connection drops, sqlx reconnects on the
/// next `recv`; notifications sent meanwhile are lost, so the bell also rings
/// then (the worker looks at the queue) and the worker's poll covers the rest.
pub(in crate::store) async fn listen(
    pool: &PgPool,
    bell: std::sync::Arc<tokio::sync::Notify>,
) -> Result<tokio::task::JoinHandle<()>> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(OUTBOX_CHANNEL).await?;
    Ok(tokio::spawn(async move {
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => bell.notify_one(),
                Ok(None) => {
                    // The connection was lost and will be re-established.
                    bell.notify_one();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "listening for new mail failed; retrying in 1 s");
                    bell.notify_one();
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    }))
}
