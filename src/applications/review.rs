//! The identity review's decision and the score gate: approved and above
//! the threshold → `generating`; approved at or below it → `ineligible`,
//! the reasons stored and emailed; rejected → `rejected` with the reason.

use chrono::{DateTime, Utc};
use rand::RngCore;

use super::{Applications, JourneyError, ReviewDecision, next, reasons_context};
use crate::domain::application::{ApplicationEvent, ApplicationStatus};
use crate::mail::EmailAddress;
use crate::mail::notices;
use crate::mail::templates::{IRCC_ALTERNATIVES, IRCC_GUIDANCE, IdentityMail, IneligibleMail};
use crate::scoring;
use crate::store::{ApplicationRow, Move};

impl Applications {
    /// The staff decision on an identity review. Approval scores the
    /// account now: above the threshold the report is generated
    /// ([`generate`]); at or below it the application is `ineligible` and the
    /// applicant told why. Returns the new status.
    pub async fn decide(
        &self,
        id: &str,
        decision: &ReviewDecision,
        by: &str,
        rng: &mut (impl RngCore + Send),
    ) -> Result<ApplicationStatus, JourneyError> {
        let now = self.clock.now();
        let row = self.store.application(id).await?.ok_or(JourneyError::Unauthorized)?;
        if row.status != ApplicationStatus::IdentityReview {
            return Err(JourneyError::WrongStatus(row.status));
        }
        let details = self.details(&row)?;
        let to_address = EmailAddress::parse(&details.email).ok().filter(|_| row.email_consent);
        match decision {
            ReviewDecision::Reject { reason } => {
                let reason = crate::registry::check_reason(reason)
                    .map_err(|e| JourneyError::Invalid([("reason".to_owned(), e.to_string())].into()))?;
                let reasons = vec![format!("We could not confirm your identity: {reason}")];
                let mail = match &to_address {
                    Some(to) => {
                        let mail = IdentityMail {
                            application: id.to_owned(),
                            full_name: details.full_name.clone(),
                            approved: false,
                            reason: reason.to_owned(),
                            apply_page: format!("{}/apply", self.settings.public_base_url),
                            status_page: format!("{}/apply/{id}", self.settings.public_base_url),
                            signature: notices::signature(&self.settings),
                        };
                        let composed = notices::identity_outcome(&self.settings, &notices::new_id(rng), now, to, &mail)
                            .map_err(anyhow::Error::from)?;
                        Some(self.outbox.seal(&composed, None, None, now))
                    }
                    None => None,
                };
                let to = next(row.status, ApplicationEvent::IdentityRejected)?;
                self.finish_review(&row, to, "identity_rejected", by, None, Some(&reasons), mail.as_ref(), now).await?;
                Ok(to)
            }
            ReviewDecision::Approve => {
                let account = row
                    .account_id
                    .as_deref()
                    .ok_or_else(|| anyhow::anyhow!("an unmatched application reached review"))?;
                let account = crate::domain::AccountId::parse(account).map_err(|e| anyhow::anyhow!(e.0))?;
                let as_of = now.date_naive();
                let (_, inputs) =
                    scoring::load::load_inputs(&self.store, &account, as_of, self.settings.report.authority_currency)
                        .await
                        .map_err(anyhow::Error::from)?;
                let decision = scoring::decide(&inputs, self.settings.scoring.threshold);
                let score = Some(i64::from(decision.score));
                let to = next(row.status, ApplicationEvent::Approved { eligible: decision.eligible })?;
                if decision.eligible {
                    self.finish_review(&row, to, "identity_approved", by, score, None, None, now).await?;
                    self.work.notify_one();
                    return Ok(to);
                }
                let reasons: Vec<String> =
                    decision.reasons.iter().map(|r| format!("{} {}", r.text, r.improve).trim().to_owned()).collect();
                let mail = match &to_address {
                    Some(to) => {
                        let mail = IneligibleMail {
                            application: id.to_owned(),
                            full_name: details.full_name.clone(),
                            as_of,
                            threshold: self.settings.scoring.threshold,
                            reasons: reasons.clone(),
                            authority: self.settings.report.authority_name.clone(),
                            alternatives: IRCC_ALTERNATIVES.iter().map(|s| (*s).to_owned()).collect(),
                            authority_guidance: IRCC_GUIDANCE.to_owned(),
                            signature: notices::signature(&self.settings),
                        };
                        let composed =
                            notices::application_ineligible(&self.settings, &notices::new_id(rng), now, to, &mail)
                                .map_err(anyhow::Error::from)?;
                        Some(self.outbox.seal(&composed, None, None, now))
                    }
                    None => None,
                };
                self.finish_review(
                    &row,
                    to,
                    "score_not_above_threshold",
                    by,
                    score,
                    Some(&reasons),
                    mail.as_ref(),
                    now,
                )
                .await?;
                Ok(to)
            }
        }
    }

    #[allow(clippy::too_many_arguments)] // one decision's parts, written together
    async fn finish_review(
        &self,
        row: &ApplicationRow,
        to: ApplicationStatus,
        cause: &str,
        by: &str,
        score: Option<i64>,
        reasons: Option<&[String]>,
        mail: Option<&crate::store::NewMail>,
        now: DateTime<Utc>,
    ) -> Result<(), JourneyError> {
        let sealed = match reasons {
            Some(reasons) => {
                let json = serde_json::to_vec(reasons).map_err(anyhow::Error::from)?;
                Some(self.cipher.seal(&json, &reasons_context(&row.id)))
            }
            None => None,
        };
        let mut tx = self.store.begin().await?;
        let m = Move { id: &row.id, from: row.status, to, cause, actor: by, at: now };
        if !tx.move_application(&m).await? {
            let current = tx.application(&row.id).await?.map_or(row.status, |r| r.status);
            return Err(JourneyError::WrongStatus(current));
        }
        tx.record_decision(&row.id, by, now, score, sealed.as_deref()).await?;
        if let Some(mail) = mail {
            tx.queue_mail(mail).await?;
        }
        tx.commit().await?;
        if mail.is_some() {
            self.outbox.wake();
        }
        tracing::info!(application = %row.id, status = %to.as_str(), "identity review decided");
        Ok(())
    }
}
