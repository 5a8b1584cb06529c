//! The journey's writes (and the reads that must see them) inside a [`Tx`].

use chrono::{DateTime, Utc};

use super::{ApplicationRow, ConsentRow, EvidenceRow, Move, OtpRow, Ts, application, otp};
use crate::domain::ReportNumber;
use crate::store::rows::StoreRow;
use crate::store::{Result, Tx};

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
                "SELECT id, digest, issued_at, wrong_tries, used FROM otp_codes \
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
