//! The applicant's journey, as one state machine stored in the database
//! (the statuses and moves are [`crate::domain::application`]):
//!
//! 1. [`Applications::apply`]: the form is checked, an account is looked for
//!    (passport number through its blind index, date of birth, phone), and a
//!    one-time code is sent to the phone **on file**. The answer is the same
//!    whether or not anything matched; an unmatched application gets a code
//!    that is never sent and can never be accepted.
//! 2. [`Applications::submit_code`] / [`Applications::resend_code`].
//! 3. [`Applications::upload_evidence`]: a selfie and the passport page.
//! 4. [`Applications::decide`] (staff, `standing reviews`): identity
//!    approved → the account is scored now → `ineligible` (the reasons
//!    emailed) or `generating`; or rejected.
//! 5. [`generate`]: a job claims `generating` applications with a lease and
//!    issues the report through the registry, the application moving to
//!    `issued` and the email queued in the same transaction.
//!
//! Every move is a guarded update with its event row in one transaction,
//! so a second instance (or a restart) carries on where the first stopped.

mod code;
pub mod generate;
mod review;
mod text;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::CryptoRng;
use tokio::sync::{Notify, Semaphore};

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::crypto::FieldCipher;
use crate::domain::PhoneNumber;
use crate::domain::application::{ApplicationEvent, ApplicationStatus};
use crate::identity::evidence::{self, CleanImage, EvidenceError, EvidenceKind};
use crate::identity::input::{self, ApplicationForm, Details, FieldErrors, FormRules};
use crate::identity::otp::OtpPolicy;
use crate::mail::Outbox;
use crate::mail::notices;
use crate::mail::templates::{IRCC_ALTERNATIVES, IRCC_GUIDANCE};
use crate::sms::SmsSender;
use crate::store::{ApplicationRow, ConsentRow, EvidenceRow, Move, Store, StoreError, Tx};

pub use generate::Generator;

/// Who an applicant's own steps are recorded as.
const APPLICANT: &str = "applicant";
/// Who the service's own moves (expiry, issuing) are recorded as.
pub const SERVICE: &str = "service";

/// Why a step was refused.
#[derive(Debug, thiserror::Error)]
pub enum JourneyError {
    /// 422, with a message per field.
    #[error("some details need correcting")]
    Invalid(FieldErrors),
    /// 401: no such application for this token.
    #[error("this application does not exist or the token does not match it")]
    Unauthorized,
    /// 409: the step does not apply in the application's status.
    #[error("the application is {0}; this step does not apply now")]
    WrongStatus(ApplicationStatus),
    /// 422 on the `code` field: wrong, voided, expired or used.
    #[error("{0}")]
    Code(CodeRefusal),
    /// 429.
    #[error("please wait {retry_after} seconds before asking again")]
    RateLimited { retry_after: u64 },
    /// 422 on a photo.
    #[error("{error}")]
    Evidence { field: &'static str, error: EvidenceError },
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for JourneyError {
    fn from(e: StoreError) -> Self {
        JourneyError::Internal(e.into())
    }
}

/// Why a one-time code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeRefusal {
    #[error("this code is not right; {tries_left} tries left")]
    Wrong { tries_left: u32 },
    #[error("too many wrong codes: this code no longer works; ask for a new one")]
    Voided,
    #[error("this code has expired; ask for a new one")]
    Expired,
    #[error("this code was already used; ask for a new one")]
    Used,
    #[error("no code has been sent yet; ask for one")]
    NoCode,
}

/// A started application: its id and the bearer token (shown once).
#[derive(Clone, PartialEq, Eq)]
pub struct Started {
    pub id: String,
    pub token: String,
}

impl std::fmt::Debug for Started {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Started").field("id", &self.id).finish_non_exhaustive()
    }
}

/// A staff decision on an identity review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewDecision {
    Approve,
    Reject { reason: String },
}

/// What the applicant sees of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationView {
    pub id: String,
    pub status: ApplicationStatus,
    pub report_number: Option<String>,
    /// Why it was refused (ineligible, rejected).
    pub reasons: Vec<String>,
    /// For an ineligible applicant: what the authority accepts instead.
    pub alternatives: Vec<&'static str>,
    pub authority_guidance: Option<&'static str>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Whether the report (or the outcome) is emailed.
    pub emailed: bool,
}

/// The journey's parts; cheap to clone.
#[derive(Debug, Clone)]
pub struct Applications {
    store: Store,
    cipher: FieldCipher,
    settings: Arc<Settings>,
    clock: SharedClock,
    outbox: Outbox,
    sms: SmsSender,
    policy: OtpPolicy,
    /// Wakes the generation job.
    work: Arc<Notify>,
    /// Photos decoded at once: one per core. Decoding is CPU-bound and a
    /// large photo may take over 100 MB while decoded, so requests beyond
    /// this wait their turn rather than exhaust memory.
    photo_slots: Arc<Semaphore>,
}

fn details_context(id: &str) -> String {
    format!("applications.details:{id}")
}

fn reasons_context(id: &str) -> String {
    format!("applications.reasons:{id}")
}

fn token_context(id: &str) -> String {
    format!("applications.token:{id}")
}

fn evidence_context(id: &str, kind: &str) -> String {
    format!("identity_evidence:{id}:{kind}")
}

impl Applications {
    pub fn new(
        store: Store,
        cipher: FieldCipher,
        settings: Arc<Settings>,
        clock: SharedClock,
        outbox: Outbox,
        sms: SmsSender,
    ) -> Self {
        Applications {
            store,
            cipher,
            settings,
            clock,
            outbox,
            sms,
            policy: OtpPolicy::default(),
            work: Arc::new(Notify::new()),
            photo_slots: Arc::new(Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))),
        }
    }

    pub fn policy(&self) -> &OtpPolicy {
        &self.policy
    }

    fn rules(&self) -> FormRules<'_> {
        FormRules {
            authorities: std::slice::from_ref(&self.settings.report.authority_code),
            cross_border_required: self.settings.applications.cross_border_consent_required,
            today: self.clock.today(),
        }
    }

    /// Checks a form without starting anything (the web form's errors).
    pub fn check(&self, form: &ApplicationForm) -> Result<Details, FieldErrors> {
        input::check(form, &self.rules())
    }

    /// Starts an application. The same answer whether or not the details
    /// match an account; the code goes only to the phone on file.
    pub async fn apply(
        &self,
        form: &ApplicationForm,
        rng: &mut (impl CryptoRng + Send),
    ) -> Result<Started, JourneyError> {
        let now = self.clock.now();
        let details = self.check(form).map_err(JourneyError::Invalid)?;

        // Exactly one account with this passport number, date of birth and
        // phone. The work is the same whatever the outcome.
        let index = self.cipher.blind_index("passport", &details.passport_number);
        let candidates = self.store.accounts_by_passport(&index).await?;
        let matching: Vec<_> = candidates
            .into_iter()
            .filter(|a| a.date_of_birth == details.date_of_birth && a.phone == details.phone)
            .collect();
        let account = match matching.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        };

        let id = notices::new_id(rng);
        let mut token_bytes = [0u8; 32];
        rng.fill_bytes(&mut token_bytes);
        let token = URL_SAFE_NO_PAD.encode(token_bytes);
        let json = serde_json::to_vec(&details).map_err(anyhow::Error::from)?;
        let phone_on_file = account.as_ref().and_then(|a| PhoneNumber::parse(&a.phone).ok());
        let phone_index = phone_on_file.as_ref().map(|p| self.cipher.blind_index("phone", p.as_str()).to_vec());
        let row = ApplicationRow {
            id: id.clone(),
            status: ApplicationStatus::AwaitingOtp,
            account_id: account.as_ref().map(|a| a.id.as_str().to_owned()),
            token_hash: self.cipher.secret_digest(&token_context(&id), &token).to_vec(),
            details_sealed: self.cipher.seal(&json, &details_context(&id)),
            phone_index: phone_index.clone(),
            authority: details.authority.clone(),
            purpose: details.purpose.clone(),
            email_consent: form.consents.email,
            created_at: now,
            updated_at: now,
            expires_at: now + Duration::hours(i64::from(self.settings.applications.expiry_hours)),
            reasons_sealed: None,
            decided_by: None,
            decided_at: None,
            score: None,
            report_number: None,
            generation_attempts: 0,
            last_error: None,
        };
        let version = &self.settings.applications.consent_text_version;
        let consents = [
            ("financial_data", form.consents.financial_data),
            ("email", form.consents.email),
            ("cross_border", form.consents.cross_border),
        ];
        let mut tx = self.store.begin().await?;
        tx.insert_application(&row, APPLICANT).await?;
        for (kind, given) in consents {
            if given {
                let consent = ConsentRow { kind: kind.into(), text_version: version.clone(), given_at: now };
                tx.insert_consent(&id, &consent).await?;
            }
        }
        let code = self.new_code(&mut tx, &id, phone_index.as_deref(), now, rng).await?;
        tx.commit().await?;
        tracing::info!(application = %id, "application started");
        if let (Some(code), Some(phone)) = (code, phone_on_file) {
            self.send_code(&id, phone, code, rng);
        }
        Ok(Started { id, token })
    }

    /// The application `id` if `token` is its token (constant-time); the
    /// same refusal for an unknown id and a wrong token.
    pub async fn authenticate(&self, id: &str, token: &str) -> Result<ApplicationRow, JourneyError> {
        let row = if uuid::Uuid::parse_str(id).is_ok() { self.store.application(id).await? } else { None };
        let Some(row) = row else {
            // The same digest work as for a known id.
            let _ = self.cipher.secret_matches(&token_context(id), token, &[0u8; 32]);
            return Err(JourneyError::Unauthorized);
        };
        if self.cipher.secret_matches(&token_context(id), token, &row.token_hash) {
            Ok(row)
        } else {
            Err(JourneyError::Unauthorized)
        }
    }

    /// Reads the application inside `tx`, expiring it first if its time
    /// ran out (then the caller's step is refused with `expired`).
    pub(super) async fn current(
        &self,
        tx: &mut Tx,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<ApplicationRow, JourneyError> {
        let mut row = tx.application(id).await?.ok_or(JourneyError::Unauthorized)?;
        if timed_out(&row, now) {
            let m = Move {
                id,
                from: row.status,
                to: ApplicationStatus::Expired,
                cause: "timed_out",
                actor: SERVICE,
                at: now,
            };
            if tx.move_application(&m).await? {
                row.status = ApplicationStatus::Expired;
            }
        }
        Ok(row)
    }

    /// Begins the transaction of an applicant's step that applies only in
    /// `expected`: the application read (and expired if its time ran out),
    /// or, in any other status, the refusal (with the expiry committed).
    pub(super) async fn step(
        &self,
        id: &str,
        expected: ApplicationStatus,
    ) -> Result<(Tx, ApplicationRow, DateTime<Utc>), JourneyError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let row = self.current(&mut tx, id, now).await?;
        if row.status != expected {
            tx.commit().await?;
            return Err(JourneyError::WrongStatus(row.status));
        }
        Ok((tx, row, now))
    }

    /// Checks and stores the selfie and the passport page; the application
    /// goes to review.
    pub async fn upload_evidence(&self, id: &str, selfie: Vec<u8>, passport_page: Vec<u8>) -> Result<(), JourneyError> {
        // Refuse early (before decoding) when the step does not apply.
        let row = self.store.application(id).await?.ok_or(JourneyError::Unauthorized)?;
        if row.status != ApplicationStatus::AwaitingIdentity && !timed_out(&row, self.clock.now()) {
            return Err(JourneyError::WrongStatus(row.status));
        }
        let slot = self.photo_slots.acquire().await.map_err(|e| anyhow::anyhow!("photo slots closed: {e}"))?;
        let images = tokio::task::spawn_blocking(move || -> Result<[CleanImage; 2], JourneyError> {
            let selfie = evidence::clean(EvidenceKind::Selfie, &selfie)
                .map_err(|error| JourneyError::Evidence { field: "selfie", error })?;
            let page = evidence::clean(EvidenceKind::PassportPage, &passport_page)
                .map_err(|error| JourneyError::Evidence { field: "passport_page", error })?;
            Ok([selfie, page])
        })
        .await
        .map_err(|e| anyhow::anyhow!("checking the photos stopped: {e}"))??;
        drop(slot);
        let (mut tx, row, now) = self.step(id, ApplicationStatus::AwaitingIdentity).await?;
        for image in &images {
            let kind = image.kind.as_str();
            let sha256: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&image.jpeg).into();
            let stored = EvidenceRow {
                kind: kind.to_owned(),
                media_type: image.media_type.to_owned(),
                width: i64::from(image.width),
                height: i64::from(image.height),
                bytes: i64::try_from(image.jpeg.len()).unwrap_or(i64::MAX),
                sha256: sha256.to_vec(),
                image_sealed: self.cipher.seal(&image.jpeg, &evidence_context(id, kind)),
                uploaded_at: now,
            };
            tx.put_evidence(id, &stored).await?;
        }
        let to = next(row.status, ApplicationEvent::EvidenceUploaded)?;
        let m = Move { id, from: row.status, to, cause: "evidence_uploaded", actor: APPLICANT, at: now };
        if !tx.move_application(&m).await? {
            return Err(JourneyError::WrongStatus(row.status));
        }
        tx.commit().await?;
        Ok(())
    }

    /// The applicant's view (expiring the application first if its time ran out).
    pub async fn view(&self, id: &str) -> Result<ApplicationView, JourneyError> {
        let now = self.clock.now();
        let mut row = self.store.application(id).await?.ok_or(JourneyError::Unauthorized)?;
        if timed_out(&row, now) {
            let mut tx = self.store.begin().await?;
            row = self.current(&mut tx, id, now).await?;
            tx.commit().await?;
        }
        self.view_of(&row)
    }

    pub fn view_of(&self, row: &ApplicationRow) -> Result<ApplicationView, JourneyError> {
        let reasons = match &row.reasons_sealed {
            Some(sealed) => {
                let json = self.cipher.open(sealed, &reasons_context(&row.id)).map_err(anyhow::Error::from)?;
                serde_json::from_slice(&json).map_err(anyhow::Error::from)?
            }
            None => Vec::new(),
        };
        let ineligible = row.status == ApplicationStatus::Ineligible;
        Ok(ApplicationView {
            id: row.id.clone(),
            status: row.status,
            report_number: row.report_number.clone(),
            reasons,
            alternatives: if ineligible { IRCC_ALTERNATIVES.to_vec() } else { Vec::new() },
            authority_guidance: ineligible.then_some(IRCC_GUIDANCE),
            created_at: row.created_at,
            updated_at: row.updated_at,
            expires_at: row.expires_at,
            emailed: row.email_consent,
        })
    }

    /// The typed details, opened.
    pub fn details(&self, row: &ApplicationRow) -> Result<Details, JourneyError> {
        let json = self.cipher.open(&row.details_sealed, &details_context(&row.id)).map_err(anyhow::Error::from)?;
        Ok(serde_json::from_slice(&json).map_err(anyhow::Error::from)?)
    }

    /// An uploaded photo, opened (for the reviewer).
    pub fn evidence_image(&self, id: &str, row: &EvidenceRow) -> Result<Vec<u8>, JourneyError> {
        Ok(self.cipher.open(&row.image_sealed, &evidence_context(id, &row.kind)).map_err(anyhow::Error::from)?)
    }

    /// Moves every application whose own steps ran out to `expired`;
    /// returns how many.
    pub async fn expire_due(&self) -> Result<usize, JourneyError> {
        let now = self.clock.now();
        let mut expired = 0;
        for (id, status) in self.store.expired_applications(now, 500).await? {
            let mut tx = self.store.begin().await?;
            let m = Move {
                id: &id,
                from: status,
                to: ApplicationStatus::Expired,
                cause: "timed_out",
                actor: SERVICE,
                at: now,
            };
            if tx.move_application(&m).await? {
                expired += 1;
            }
            tx.commit().await?;
        }
        Ok(expired)
    }

    /// The notifier the generation job wakes on.
    pub(crate) fn work(&self) -> &Arc<Notify> {
        &self.work
    }
}

fn next(status: ApplicationStatus, event: ApplicationEvent) -> Result<ApplicationStatus, JourneyError> {
    status.next(event).map_err(|e| JourneyError::WrongStatus(e.current))
}

/// Whether the applicant's own step has run out of time.
fn timed_out(row: &ApplicationRow, now: DateTime<Utc>) -> bool {
    now >= row.expires_at && row.status.next(ApplicationEvent::TimedOut).is_ok()
}

/// A generator for one request: a CSPRNG seeded from the operating
/// system's (through the thread's), which can be held across awaits.
pub fn request_rng() -> rand_chacha::ChaCha20Rng {
    rand::SeedableRng::from_rng(&mut rand::rng())
}
