//! The applicant's journey in the database: applications, their events,
//! one-time codes, consents and identity evidence (migration
//! `0005_applications`).
//!
//! Unlike the older parts of the store, these statements are written once
//! for both backends: SQLite accepts PostgreSQL's `$1` placeholders, and a
//! timestamp is bound through [`Ts`], which each backend encodes its own
//! way (fixed-width RFC 3339 text on SQLite, `timestamptz` on PostgreSQL).
//! Only claiming generation work differs (`FOR UPDATE SKIP LOCKED`).
//!
//! A move between statuses is one guarded `UPDATE … WHERE status =
//! {expected}` inside a [`Tx`]: of two racing requests (or instances) one
//! moves the application and the other finds it moved and is refused.

use chrono::{DateTime, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Encode, Postgres, Sqlite, Type};

use super::rows::StoreRow;
use super::{Result, Store, StoreError, Tx};
use crate::domain::ReportNumber;
use crate::domain::application::ApplicationStatus;

/// A timestamp bound the way the backend stores it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ts(pub DateTime<Utc>);

impl Type<Sqlite> for Ts {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl Encode<'_, Sqlite> for Ts {
    fn encode_by_ref(&self, buf: &mut <Sqlite as sqlx::Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <String as Encode<Sqlite>>::encode(super::sqlite::timestamp(self.0), buf)
    }
}

impl Type<Postgres> for Ts {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for Ts {
    fn encode_by_ref(&self, buf: &mut <Postgres as sqlx::Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <DateTime<Utc> as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}

/// Runs `$body` with `$c` the transaction's connection, on either backend.
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            Tx::Sqlite(tx) => {
                let $c = &mut **tx;
                $body
            }
            Tx::Postgres(tx) => {
                let $c = &mut **tx;
                $body
            }
        }
    };
}

/// Runs `$body` with `$p` the pool, on either backend.
macro_rules! on_pool {
    ($store:expr, $p:ident => $body:expr) => {
        match $store {
            Store::Sqlite(s) => {
                let $p = s.pool();
                $body
            }
            Store::Postgres(s) => {
                let $p = s.pool();
                $body
            }
        }
    };
}

/// The columns [`application`] reads; a macro so the queries can `concat!` it.
macro_rules! application_columns {
    () => {
        "id, status, account_id, token_hash, details_sealed, phone_index, authority, purpose, email_consent, \
         created_at, updated_at, expires_at, reasons_sealed, decided_by, decided_at, score, report_number, \
         generation_attempts, last_error"
    };
}

/// An application as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct ApplicationRow {
    pub id: String,
    pub status: ApplicationStatus,
    /// The matched account; `None` when nothing matched.
    pub account_id: Option<String>,
    pub token_hash: Vec<u8>,
    /// The typed details as JSON, sealed (bound to the id).
    pub details_sealed: Vec<u8>,
    /// Blind index of the phone on file the codes go to.
    pub phone_index: Option<Vec<u8>>,
    pub authority: String,
    pub purpose: String,
    pub email_consent: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub reasons_sealed: Option<Vec<u8>>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub score: Option<i64>,
    pub report_number: Option<String>,
    pub generation_attempts: i64,
    pub last_error: Option<String>,
}

impl std::fmt::Debug for ApplicationRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplicationRow")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("matched", &self.account_id.is_some())
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

fn application(r: &impl StoreRow) -> Result<ApplicationRow> {
    let status = r.text("status")?;
    Ok(ApplicationRow {
        id: r.text("id")?,
        status: ApplicationStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("application status `{status}`")))?,
        account_id: r.optional_text("account_id")?,
        token_hash: r.bytes("token_hash")?,
        details_sealed: r.bytes("details_sealed")?,
        phone_index: r.optional_bytes("phone_index")?,
        authority: r.text("authority")?,
        purpose: r.text("purpose")?,
        email_consent: r.boolean("email_consent")?,
        created_at: r.timestamp("created_at")?,
        updated_at: r.timestamp("updated_at")?,
        expires_at: r.timestamp("expires_at")?,
        reasons_sealed: r.optional_bytes("reasons_sealed")?,
        decided_by: r.optional_text("decided_by")?,
        decided_at: r.optional_timestamp("decided_at")?,
        score: r.optional_int("score")?,
        report_number: r.optional_text("report_number")?,
        generation_attempts: r.int("generation_attempts")?,
        last_error: r.optional_text("last_error")?,
    })
}

/// One move of an application, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApplicationEventRow {
    pub from_status: Option<String>,
    pub to_status: String,
    pub cause: String,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A stored one-time code.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpRow {
    pub id: String,
    pub digest: Vec<u8>,
    pub issued_at: DateTime<Utc>,
    pub wrong_tries: i64,
    pub used: bool,
    /// Whether it was sent (to the phone on file).
    pub sent: bool,
}

impl std::fmt::Debug for OtpRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtpRow").field("id", &self.id).field("issued_at", &self.issued_at).finish_non_exhaustive()
    }
}

/// A consent given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub kind: String,
    pub text_version: String,
    pub given_at: DateTime<Utc>,
}

/// An uploaded image, re-encoded and sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct EvidenceRow {
    pub kind: String,
    pub media_type: String,
    pub width: i64,
    pub height: i64,
    pub bytes: i64,
    pub sha256: Vec<u8>,
    pub image_sealed: Vec<u8>,
    pub uploaded_at: DateTime<Utc>,
}

impl std::fmt::Debug for EvidenceRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvidenceRow").field("kind", &self.kind).field("bytes", &self.bytes).finish_non_exhaustive()
    }
}

/// A move to make: from `from` to `to`, for `cause`, by `actor`.
#[derive(Debug, Clone, Copy)]
pub struct Move<'a> {
    pub id: &'a str,
    pub from: ApplicationStatus,
    pub to: ApplicationStatus,
    pub cause: &'a str,
    pub actor: &'a str,
    pub at: DateTime<Utc>,
}

/// An application left to generate, claimed with a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedApplication {
    pub id: String,
    pub attempts: i64,
}

impl Tx {
    /// Records a new application (status `awaiting_otp`) and its first event.
    pub async fn insert_application(&mut self, a: &ApplicationRow, actor: &str) -> Result<()> {
        on_tx!(self, c => {
            sqlx::query(
                "INSERT INTO applications (id, status, account_id, token_hash, details_sealed, phone_index, authority, \
                 purpose, email_consent, created_at, updated_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11)",
            )
            .bind(&a.id)
            .bind(a.status.as_str())
            .bind(a.account_id.as_deref())
            .bind(a.token_hash.as_slice())
            .bind(a.details_sealed.as_slice())
            .bind(a.phone_index.as_deref())
            .bind(&a.authority)
            .bind(&a.purpose)
            .bind(a.email_consent)
            .bind(Ts(a.created_at))
            .bind(Ts(a.expires_at))
            .execute(&mut *c)
            .await?;
            sqlx::query(
                "INSERT INTO application_events (application_id, from_status, to_status, cause, actor, at) \
                 VALUES ($1, NULL, $2, 'applied', $3, $4)",
            )
            .bind(&a.id)
            .bind(a.status.as_str())
            .bind(actor)
            .bind(Ts(a.created_at))
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// The application, read inside the transaction.
    pub async fn application(&mut self, id: &str) -> Result<Option<ApplicationRow>> {
        on_tx!(self, c => {
            let row = sqlx::query(concat!("SELECT ", application_columns!(), " FROM applications WHERE id = $1")).bind(id).fetch_optional(&mut *c).await?;
            row.as_ref().map(application).transpose()
        })
    }

    /// Moves an application from `m.from` to `m.to` and records the event;
    /// false (nothing written) when it is no longer in `m.from`.
    pub async fn move_application(&mut self, m: &Move<'_>) -> Result<bool> {
        on_tx!(self, c => {
            let moved = sqlx::query("UPDATE applications SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
                .bind(m.to.as_str())
                .bind(Ts(m.at))
                .bind(m.id)
                .bind(m.from.as_str())
                .execute(&mut *c)
                .await?
                .rows_affected();
            if moved != 1 {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO application_events (application_id, from_status, to_status, cause, actor, at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(m.id)
            .bind(m.from.as_str())
            .bind(m.to.as_str())
            .bind(m.cause)
            .bind(m.actor)
            .bind(Ts(m.at))
            .execute(&mut *c)
            .await?;
        });
        Ok(true)
    }

    /// Records the identity decision (who and when), the score at the gate
    /// and the reasons of a refusal.
    pub async fn record_decision(
        &mut self,
        id: &str,
        by: &str,
        at: DateTime<Utc>,
        score: Option<i64>,
        reasons_sealed: Option<&[u8]>,
    ) -> Result<()> {
        on_tx!(self, c => {
            sqlx::query("UPDATE applications SET decided_by = $1, decided_at = $2, score = $3, reasons_sealed = $4 WHERE id = $5")
                .bind(by)
                .bind(Ts(at))
                .bind(score)
                .bind(reasons_sealed)
                .bind(id)
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }

    /// Marks a generating application issued with its report, if `owner`
    /// still holds its lease; false (nothing written) otherwise.
    pub async fn complete_application(
        &mut self,
        id: &str,
        owner: &str,
        report: &ReportNumber,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let done = on_tx!(self, c => {
            sqlx::query(
                "UPDATE applications SET status = 'issued', report_number = $1, updated_at = $2, lease_owner = NULL, \
                 lease_until = NULL, last_error = NULL WHERE id = $3 AND status = 'generating' AND lease_owner = $4",
            )
            .bind(report.to_string())
            .bind(Ts(at))
            .bind(id)
            .bind(owner)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        if done != 1 {
            return Ok(false);
        }
        on_tx!(self, c => {
            sqlx::query(
                "INSERT INTO application_events (application_id, from_status, to_status, cause, actor, at) \
                 VALUES ($1, 'generating', 'issued', 'report_issued', 'service', $2)",
            )
            .bind(id)
            .bind(Ts(at))
            .execute(&mut *c)
            .await?;
        });
        Ok(true)
    }

    pub async fn insert_consent(&mut self, id: &str, consent: &ConsentRow) -> Result<()> {
        on_tx!(self, c => {
            sqlx::query(
                "INSERT INTO application_consents (application_id, kind, text_version, given_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(&consent.kind)
            .bind(&consent.text_version)
            .bind(Ts(consent.given_at))
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    pub async fn insert_code(&mut self, application_id: &str, code: &OtpRow, phone_index: Option<&[u8]>) -> Result<()> {
        on_tx!(self, c => {
            sqlx::query(
                "INSERT INTO otp_codes (id, application_id, digest, issued_at, wrong_tries, used, phone_index) \
                 VALUES ($1, $2, $3, $4, 0, $5, $6)",
            )
            .bind(&code.id)
            .bind(application_id)
            .bind(code.digest.as_slice())
            .bind(Ts(code.issued_at))
            .bind(false)
            .bind(phone_index)
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// The application's latest code.
    pub async fn latest_code(&mut self, application_id: &str) -> Result<Option<OtpRow>> {
        on_tx!(self, c => {
            let row = sqlx::query(
                "SELECT id, digest, issued_at, wrong_tries, used, phone_index FROM otp_codes \
                 WHERE application_id = $1 ORDER BY issued_at DESC, id DESC LIMIT 1",
            )
            .bind(application_id)
            .fetch_optional(&mut *c)
            .await?;
            row.as_ref().map(otp).transpose()
        })
    }

    /// Stores a try's outcome, guarded by the tries seen, so two racing
    /// tries cannot both count as the first.
    pub async fn update_code(&mut self, code: &OtpRow, seen_wrong_tries: i64) -> Result<bool> {
        let changed = on_tx!(self, c => {
            sqlx::query("UPDATE otp_codes SET wrong_tries = $1, used = $2 WHERE id = $3 AND wrong_tries = $4 AND used = $5")
                .bind(code.wrong_tries)
                .bind(code.used)
                .bind(&code.id)
                .bind(seen_wrong_tries)
                .bind(false)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(changed == 1)
    }

    /// When codes were issued for the application (resend limits).
    pub async fn code_times(&mut self, application_id: &str) -> Result<Vec<DateTime<Utc>>> {
        on_tx!(self, c => {
            let rows = sqlx::query("SELECT issued_at FROM otp_codes WHERE application_id = $1")
                .bind(application_id)
                .fetch_all(&mut *c)
                .await?;
            rows.iter().map(|r| r.timestamp("issued_at")).collect()
        })
    }

    /// Codes sent to one phone since `since`, over all applications.
    pub async fn codes_sent_to_phone(&mut self, phone_index: &[u8], since: DateTime<Utc>) -> Result<i64> {
        on_tx!(self, c => {
            let row = sqlx::query("SELECT count(*) AS n FROM otp_codes WHERE phone_index = $1 AND issued_at > $2")
                .bind(phone_index)
                .bind(Ts(since))
                .fetch_one(&mut *c)
                .await?;
            row.int("n")
        })
    }

    /// Stores an uploaded image (replacing an earlier one of the same kind).
    pub async fn put_evidence(&mut self, application_id: &str, e: &EvidenceRow) -> Result<()> {
        on_tx!(self, c => {
            sqlx::query("DELETE FROM identity_evidence WHERE application_id = $1 AND kind = $2")
                .bind(application_id)
                .bind(&e.kind)
                .execute(&mut *c)
                .await?;
            sqlx::query(
                "INSERT INTO identity_evidence (application_id, kind, media_type, width, height, bytes, sha256, \
                 image_sealed, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(application_id)
            .bind(&e.kind)
            .bind(&e.media_type)
            .bind(e.width)
            .bind(e.height)
            .bind(e.bytes)
            .bind(e.sha256.as_slice())
            .bind(e.image_sealed.as_slice())
            .bind(Ts(e.uploaded_at))
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }
}

fn otp(r: &impl StoreRow) -> Result<OtpRow> {
    Ok(OtpRow {
        id: r.text("id")?,
        digest: r.bytes("digest")?,
        issued_at: r.timestamp("issued_at")?,
        wrong_tries: r.int("wrong_tries")?,
        used: r.boolean("used")?,
        sent: r.optional_bytes("phone_index")?.is_some(),
    })
}

fn event(r: &impl StoreRow) -> Result<ApplicationEventRow> {
    Ok(ApplicationEventRow {
        from_status: r.optional_text("from_status")?,
        to_status: r.text("to_status")?,
        cause: r.text("cause")?,
        actor: r.text("actor")?,
        at: r.timestamp("at")?,
    })
}

fn evidence(r: &impl StoreRow) -> Result<EvidenceRow> {
    Ok(EvidenceRow {
        kind: r.text("kind")?,
        media_type: r.text("media_type")?,
        width: r.int("width")?,
        height: r.int("height")?,
        bytes: r.int("bytes")?,
        sha256: r.bytes("sha256")?,
        image_sealed: r.bytes("image_sealed")?,
        uploaded_at: r.timestamp("uploaded_at")?,
    })
}

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
    pub async fn accounts_by_passport(&self, index: &[u8]) -> Result<Vec<super::AccountRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT id, full_name, date_of_birth, nationality, passport_sealed, passport_index, passport_country, \
                 phone, email, opened_on, phone_since, address_since FROM accounts WHERE passport_index = $1 ORDER BY id",
            )
            .bind(index)
            .fetch_all(p)
            .await?;
            rows.iter().map(super::rows::account).collect()
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
