//! The one-time code step: codes issued (and sent, only to the phone on
//! file, only for a matched application), checked, resent within limits.

use chrono::{DateTime, Duration, Utc};
use rand::{CryptoRng, RngCore};

use super::{APPLICANT, Applications, CodeRefusal, JourneyError, next, text};
use crate::domain::PhoneNumber;
use crate::domain::application::{ApplicationEvent, ApplicationStatus};
use crate::identity::otp::{self, IssuedCode, Verdict};
use crate::mail::notices;
use crate::sms::SmsMessage;
use crate::store::{ApplicationRow, Move, OtpRow, StoreError, Tx};

impl Applications {
    /// Issues and stores a code; returns it when it is to be sent (the
    /// application matched and the phone's limits allow it).
    pub(super) async fn new_code(
        &self,
        tx: &mut Tx,
        id: &str,
        phone_index: Option<&[u8]>,
        now: DateTime<Utc>,
        rng: &mut impl CryptoRng,
    ) -> Result<Option<String>, JourneyError> {
        let (code, issued) = otp::issue(&self.cipher, id, now, rng);
        // The same queries either way; an unmatched application counts
        // against an index no phone has.
        let counted = phone_index.unwrap_or(&[0u8; 32]);
        let last_hour = tx.codes_sent_to_phone(counted, now - Duration::hours(1)).await?;
        let last_day = tx.codes_sent_to_phone(counted, now - Duration::days(1)).await?;
        let limits = &self.settings.applications;
        let within = last_hour < i64::from(limits.codes_per_phone_per_hour)
            && last_day < i64::from(limits.codes_per_phone_per_day);
        let send = phone_index.is_some() && within;
        if phone_index.is_some() && !within {
            tracing::warn!(application = %id, "per-phone code limit reached; code not sent");
        }
        // A code that is not sent is stored as a random digest that no six
        // digits can match: an unmatched application can never pass this
        // step, and its tries count like any other.
        let digest = if send {
            issued.digest
        } else {
            let mut random = [0u8; 32];
            rng.fill_bytes(&mut random);
            random
        };
        let row =
            OtpRow { id: notices::new_id(rng), digest: digest.to_vec(), issued_at: now, wrong_tries: 0, used: false };
        tx.insert_code(id, &row, if send { phone_index } else { None }).await?;
        Ok(send.then_some(code))
    }

    /// Sends a code in the background, so that the answer (and its timing)
    /// does not depend on whether a code was sent. A failed send is logged
    /// (without the code or the number); the applicant can ask again.
    pub(super) fn send_code(&self, application: &str, to: PhoneNumber, code: String, rng: &mut impl RngCore) {
        let minutes = self.policy.ttl.num_minutes();
        let text = text::code_message(&self.settings.report.issuer_name, &code, minutes);
        let message = SmsMessage { id: notices::new_id(rng), to, text };
        let sms = self.sms.clone();
        let now = self.clock.now();
        let application = application.to_owned();
        tokio::spawn(async move {
            for attempt in 1..=3u32 {
                match sms.send(&message, now).await {
                    Ok(_) => {
                        tracing::info!(application = %application, sms = %message.id, "code sent");
                        return;
                    }
                    Err(e) if e.permanent || attempt == 3 => {
                        tracing::error!(application = %application, sms = %message.id, error = %e, "sending the code failed");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(application = %application, error = %e, attempt, "sending the code failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_millis(500 * u64::from(attempt))).await;
                    }
                }
            }
        });
    }

    /// Checks a one-time code.
    pub async fn submit_code(&self, id: &str, typed: &str) -> Result<ApplicationStatus, JourneyError> {
        let (mut tx, row, now) = self.step(id, ApplicationStatus::AwaitingOtp).await?;
        let Some(mut stored) = tx.latest_code(id).await? else {
            return Err(JourneyError::Code(CodeRefusal::NoCode));
        };
        let seen = stored.wrong_tries;
        let mut code = IssuedCode {
            digest: stored.digest.as_slice().try_into().map_err(|_| StoreError::Corrupt("code digest".into()))?,
            issued_at: stored.issued_at,
            wrong_tries: u32::try_from(stored.wrong_tries).unwrap_or(u32::MAX),
            used: stored.used,
        };
        let verdict = otp::check(&self.cipher, &self.policy, id, &mut code, typed, now);
        stored.wrong_tries = i64::from(code.wrong_tries);
        stored.used = code.used;
        let changed_tries = matches!(verdict, Verdict::Accepted | Verdict::Wrong { .. } | Verdict::Voided);
        if changed_tries && !tx.update_code(&stored, seen).await? {
            // Another try of the same code landed first; this one is not counted.
            return Err(JourneyError::WrongStatus(row.status));
        }
        let outcome = match verdict {
            Verdict::Accepted => {
                let to = next(row.status, ApplicationEvent::CodeAccepted)?;
                let m = Move { id, from: row.status, to, cause: "code_accepted", actor: APPLICANT, at: now };
                if !tx.move_application(&m).await? {
                    return Err(JourneyError::WrongStatus(row.status));
                }
                Ok(to)
            }
            Verdict::Wrong { tries_left } => Err(JourneyError::Code(CodeRefusal::Wrong { tries_left })),
            Verdict::Voided => Err(JourneyError::Code(CodeRefusal::Voided)),
            Verdict::Expired => Err(JourneyError::Code(CodeRefusal::Expired)),
            Verdict::AlreadyUsed => Err(JourneyError::Code(CodeRefusal::Used)),
        };
        // A wrong try is stored whatever the answer.
        tx.commit().await?;
        outcome
    }

    /// Sends a new code, within the resend limits.
    pub async fn resend_code(&self, id: &str, rng: &mut (impl CryptoRng + Send)) -> Result<(), JourneyError> {
        let (mut tx, row, now) = self.step(id, ApplicationStatus::AwaitingOtp).await?;
        let sent = tx.code_times(id).await?;
        if let Err(when) = otp::may_send(&self.policy, &sent, now) {
            let retry_after = u64::try_from((when - now).num_seconds()).unwrap_or(1).max(1);
            return Err(JourneyError::RateLimited { retry_after });
        }
        let code = self.new_code(&mut tx, id, row.phone_index.as_deref(), now, rng).await?;
        tx.commit().await?;
        let phone = self.phone_on_file(&row).await?;
        if let (Some(code), Some(phone)) = (code, phone) {
            self.send_code(id, phone, code, rng);
        }
        Ok(())
    }

    async fn phone_on_file(&self, row: &ApplicationRow) -> Result<Option<PhoneNumber>, JourneyError> {
        let Some(account) = &row.account_id else { return Ok(None) };
        let account = crate::domain::AccountId::parse(account).map_err(|e| anyhow::anyhow!(e.0))?;
        let found = self.store.account(&account).await?;
        Ok(found.and_then(|a| PhoneNumber::parse(&a.phone).ok()))
    }
}
