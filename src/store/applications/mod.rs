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
use super::{Result, StoreError};
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
            $crate::store::Tx::Sqlite(tx) => {
                let $c = &mut **tx;
                $body
            }
            $crate::store::Tx::Postgres(tx) => {
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
            $crate::store::Store::Sqlite(s) => {
                let $p = s.pool();
                $body
            }
            $crate::store::Store::Postgres(s) => {
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

pub(super) fn application(r: &impl StoreRow) -> Result<ApplicationRow> {
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

mod queries;
mod tx;

/// An application left to generate, claimed with a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedApplication {
    pub id: String,
    pub attempts: i64,
}

pub(super) fn otp(r: &impl StoreRow) -> Result<OtpRow> {
    Ok(OtpRow {
        id: r.text("id")?,
        digest: r.bytes("digest")?,
        issued_at: r.timestamp("issued_at")?,
        wrong_tries: r.int("wrong_tries")?,
        used: r.boolean("used")?,
    })
}

pub(super) fn event(r: &impl StoreRow) -> Result<ApplicationEventRow> {
    Ok(ApplicationEventRow {
        from_status: r.optional_text("from_status")?,
        to_status: r.text("to_status")?,
        cause: r.text("cause")?,
        actor: r.text("actor")?,
        at: r.timestamp("at")?,
    })
}

pub(super) fn evidence(r: &impl StoreRow) -> Result<EvidenceRow> {
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
