//! The job that turns `generating` applications into issued reports, and
//! expires applications the applicant left unfinished.
//!
//! An application is claimed with a lease (see
//! [`crate::store::Store::claim_generation`]); the report is built and
//! signed through the same path as `standing report`, then recorded with
//! its email queued and the application moved to `issued` in one
//! transaction, only if the lease is still ours. A crash before that commit
//! leaves the application `generating` with a lease that runs out, and the
//! next pass (in this process or another instance) takes it again: never a
//! half-issued report. A failed attempt is retried with a growing delay,
//! its error kept for `standing reviews show`.

use std::time::Duration as StdDuration;

use chrono::Duration;
use rand::RngCore;
use tokio::sync::watch;

use super::{Applications, JourneyError};
use crate::domain::AccountId;
use crate::keys::{self, Signer};
use crate::mail::EmailAddress;
use crate::mail::notify::{Notifier, Recipient};
use crate::registry::{ForApplication, Registry};

/// How long one attempt may hold an application (a report takes
/// milliseconds; a lease that runs out means the worker died).
const LEASE: Duration = Duration::minutes(5);
/// Applications claimed per pass.
const BATCH: u32 = 8;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerationPass {
    /// Reports issued: (application id, report number).
    pub issued: Vec<(String, String)>,
    /// Attempts that failed (retried later).
    pub failed: usize,
    pub expired: usize,
}

/// The job: the journey's parts and what issuing needs.
#[derive(Debug, Clone)]
pub struct Generator {
    applications: Applications,
    registry: Registry,
    /// This worker's lease name.
    owner: String,
}

impl Generator {
    pub fn new(applications: Applications, registry: Registry) -> Self {
        let mut random = [0u8; 4];
        rand::rng().fill_bytes(&mut random);
        let owner = format!("generator:{}:{}", std::process::id(), hex::encode(random));
        Generator { applications, registry, owner }
    }

    /// One pass: expire what ran out, then issue what is due (`only` one
    /// application if given).
    pub async fn run_pass(
        &self,
        only: Option<&str>,
        rng: &mut (impl RngCore + Send),
    ) -> Result<GenerationPass, JourneyError> {
        let mut pass = GenerationPass { expired: self.applications.expire_due().await?, ..GenerationPass::default() };
        // The signing key is opened once per pass, when there is work (a
        // rotation takes effect from the next pass).
        let mut signer = None;
        loop {
            let now = self.applications.clock.now();
            let claimed = self.applications.store.claim_generation(&self.owner, now + LEASE, now, only, BATCH).await?;
            if claimed.is_empty() {
                break;
            }
            for claim in &claimed {
                match self.issue_one(&claim.id, &mut signer, rng).await {
                    Ok(number) => pass.issued.push((claim.id.clone(), number)),
                    Err(e) => {
                        pass.failed += 1;
                        let message = format!("{e:#}");
                        tracing::error!(application = %claim.id, attempt = claim.attempts, error = %message, "issuing the report failed; will retry");
                        self.retry_later(&claim.id, claim.attempts, &message).await?;
                    }
                }
            }
            if only.is_some() || (claimed.len() as u32) < BATCH {
                break;
            }
        }
        Ok(pass)
    }

    async fn issue_one(
        &self,
        id: &str,
        signer: &mut Option<Signer>,
        rng: &mut (impl RngCore + Send),
    ) -> anyhow::Result<String> {
        let apps = &self.applications;
        let row = apps.store.application(id).await?.ok_or_else(|| anyhow::anyhow!("application {id} vanished"))?;
        let account = row.account_id.as_deref().ok_or_else(|| anyhow::anyhow!("application {id} has no account"))?;
        let account = AccountId::parse(account).map_err(|e| anyhow::anyhow!(e.0))?;
        let details = apps.details(&row).map_err(|e| anyhow::anyhow!("{e}"))?;
        let recipient = if row.email_consent {
            Some(Recipient::Address(EmailAddress::parse(&details.email).map_err(|e| anyhow::anyhow!(e))?))
        } else {
            None
        };
        let now = apps.clock.now();
        let signer = match signer {
            Some(signer) => signer,
            None => signer.insert(keys::load_signer(&apps.settings, &apps.cipher, now)?),
        };
        let notifier = Notifier { settings: &apps.settings, registry: &self.registry, outbox: &apps.outbox };
        let this = ForApplication { id, lease_owner: &self.owner, at: now };
        let (issued, _) = notifier.issue(signer, &account, now.date_naive(), now, rng, recipient, Some(this)).await?;
        tracing::info!(application = %id, report = %issued.number, "report issued for the application");
        Ok(issued.number.to_string())
    }

    /// Hands a failed application back, due again after a delay that grows
    /// with its attempts (10 s doubling, at most an hour).
    async fn retry_later(&self, id: &str, attempts: i64, error: &str) -> Result<(), JourneyError> {
        let delay = 10i64.saturating_mul(1i64 << attempts.clamp(0, 9)).min(3600);
        let until = self.applications.clock.now() + Duration::seconds(delay);
        self.applications.store.release_generation(id, &self.owner, error, until).await?;
        Ok(())
    }

    /// Runs passes until `stop` turns true: woken by an approval in this
    /// process, or every `applications.poll_seconds` (approvals by another
    /// process, leases that ran out, applications to expire).
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let poll = StdDuration::from_secs(self.applications.settings.applications.poll_seconds);
        let work = self.applications.work().clone();
        let mut rng = super::request_rng();
        loop {
            if *stop.borrow() {
                return;
            }
            if let Err(e) = self.run_pass(None, &mut rng).await {
                tracing::error!(error = %e, "an application pass failed");
            }
            tokio::select! {
                _ = stop.changed() => return,
                () = work.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }
}
