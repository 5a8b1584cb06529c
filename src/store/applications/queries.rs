//! The journey's reads, and the generation job's claims, on the pool.

use chrono::{DateTime, Utc};

use super::{
    ApplicationEventRow, ApplicationRow, ClaimedApplication, ConsentRow, EvidenceRow, Ts, application, event, evidence,
};
use crate::domain::application::ApplicationStatus;
use crate::store::rows::StoreRow;
use crate::store::{Result, Store, StoreError};

impl Store {
    pub async fn application(&self, id: &str) -> Result<Option<ApplicationRow>> {
        on_pool!(self, p => {
            let row = sqlx::query(concat!("SELECT ", application_columns!(), " FROM applications WHERE id = $1")).bind(id).fetch_optional(p).await?;
            row.as_ref().map(application).transpose()
        })
    }

    /// Applications in `status` (all when `None`), oldest change first.
    pub async fn applications(&self, status: Option<ApplicationStatus>, limit: u32) -> Result<Vec<ApplicationRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query(concat!(
                "SELECT ",
                application_columns!(),
                " FROM applications WHERE ($1 IS NULL OR status = $1) ORDER BY updated_at, id LIMIT $2"
            ))
                .bind(status.map(ApplicationStatus::as_str))
                .bind(i64::from(limit))
                .fetch_all(p)
                .await?;
            rows.iter().map(application).collect()
        })
    }

    pub async fn application_events(&self, id: &str) -> Result<Vec<ApplicationEventRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT from_status, to_status, cause, actor, at FROM application_events \
                 WHERE application_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(p)
            .await?;
            rows.iter().map(event).collect()
        })
    }

    pub async fn application_consents(&self, id: &str) -> Result<Vec<ConsentRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT kind, text_version, given_at FROM application_consents WHERE application_id = $1 ORDER BY kind",
            )
            .bind(id)
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|r| Ok(ConsentRow { kind: r.text("kind")?, text_version: r.text("text_version")?, given_at: r.timestamp("given_at")? }))
                .collect()
        })
    }

    pub async fn identity_evidence(&self, id: &str) -> Result<Vec<EvidenceRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT kind, media_type, width, height, bytes, sha256, image_sealed, uploaded_at \
                 FROM identity_evidence WHERE application_id = $1 ORDER BY kind",
            )
            .bind(id)
            .fetch_all(p)
            .await?;
            rows.iter().map(evidence).collect()
        })
    }

    /// Accounts whose passport number has this blind index.
    pub async fn accounts_by_passport(&self, index: &[u8]) -> Result<Vec<crate::store::AccountRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT id, full_name, date_of_birth, nationality, passport_sealed, passport_index, passport_country, \
                 phone, email, opened_on, phone_since, address_since FROM accounts WHERE passport_index = $1 ORDER BY id",
            )
            .bind(index)
            .fetch_all(p)
            .await?;
            rows.iter().map(crate::store::rows::account).collect()
        })
    }

    /// Applications of the applicant's own steps whose time ran out.
    pub async fn expired_applications(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(String, ApplicationStatus)>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT id, status FROM applications WHERE status IN ('awaiting_otp', 'awaiting_identity') \
                 AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
            )
            .bind(Ts(now))
            .bind(i64::from(limit))
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|r| {
                    let status = r.text("status")?;
                    let status = ApplicationStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("application status `{status}`")))?;
                    Ok((r.text("id")?, status))
                })
                .collect()
        })
    }

    /// Claims applications in `generating` whose lease is free or has run
    /// out (a crashed job), oldest first, `only` one if given.
    pub async fn claim_generation(
        &self,
        owner: &str,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
        only: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ClaimedApplication>> {
        // The choice of rows and their lease must be one step: SQLite's
        // write lock (BEGIN IMMEDIATE) gives that; PostgreSQL's row locks,
        // skipping rows another instance holds.
        let sql = match self {
            Store::Sqlite(_) => {
                "UPDATE applications SET lease_owner = $1, lease_until = $2, generation_attempts = generation_attempts + 1 \
                 WHERE id IN (SELECT id FROM applications WHERE status = 'generating' \
                 AND (lease_until IS NULL OR lease_until <= $3) AND ($4 IS NULL OR id = $4) ORDER BY updated_at, id LIMIT $5) \
                 RETURNING id, generation_attempts"
            }
            Store::Postgres(_) => {
                "UPDATE applications SET lease_owner = $1, lease_until = $2, generation_attempts = generation_attempts + 1 \
                 WHERE id IN (SELECT id FROM applications WHERE status = 'generating' \
                 AND (lease_until IS NULL OR lease_until <= $3) AND ($4::text IS NULL OR id = $4) ORDER BY updated_at, id \
                 LIMIT $5 FOR UPDATE SKIP LOCKED) RETURNING id, generation_attempts"
            }
        };
        let mut tx = self.begin().await?;
        let claimed = on_tx!(&mut tx, c => {
            let rows = sqlx::query(sql)
                .bind(owner)
                .bind(Ts(lease_until))
                .bind(Ts(now))
                .bind(only)
                .bind(i64::from(limit))
                .fetch_all(&mut *c)
                .await?;
            rows.iter()
                .map(|r| Ok(ClaimedApplication { id: r.text("id")?, attempts: r.int("generation_attempts")? }))
                .collect::<Result<Vec<_>>>()?
        });
        tx.commit().await?;
        Ok(claimed)
    }

    /// Gives a claimed application back after a failed attempt, due again
    /// at `retry_at` (a lease nobody holds until then), the error kept.
    pub async fn release_generation(&self, id: &str, owner: &str, error: &str, retry_at: DateTime<Utc>) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "UPDATE applications SET lease_owner = 'retry', lease_until = $1, last_error = $2 \
                 WHERE id = $3 AND lease_owner = $4",
            )
            .bind(Ts(retry_at))
            .bind(error)
            .bind(id)
            .bind(owner)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// The earliest time an application's own steps run out.
    pub async fn next_application_expiry(&self) -> Result<Option<DateTime<Utc>>> {
        on_pool!(self, p => {
            let row = sqlx::query(
                "SELECT expires_at FROM applications WHERE status IN ('awaiting_otp', 'awaiting_identity') \
                 ORDER BY expires_at LIMIT 1",
            )
            .fetch_optional(p)
            .await?;
            row.as_ref().map(|r| r.timestamp("expires_at")).transpose()
        })
    }
}
