//! The sending side of the outbox: claim due messages with a lease, send
//! them, record the outcome.
//!
//! - Sent: `sent`, with the transport's answer.
//! - Transient failure: pending again after a delay that doubles with each
//!   attempt (`mail.retry_initial_seconds` up to `mail.retry_max_seconds`),
//!   each delay drawn between half and all of its nominal length so that
//!   workers retrying after an outage do not all come back at once; once
//!   the next attempt would start after `give_up_at`, `dead`.
//! - Permanent failure (a 5xx reply): `dead` at once, with the reply.
//!
//! A worker that dies mid-send leaves its lease; when it runs out another
//! worker takes the message and sends it again, with the same Message-ID.
//! Only the lease holder records an outcome, so a late worker cannot
//! overwrite a newer one's result.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::compose::sender;
use super::outbox::message_context;
use super::transport::Mailer;
use super::{MailError, Outbox};
use crate::clock::SharedClock;
use crate::config::MailSettings;
use crate::store::{AttemptOutcome, Claim, ClaimedMail};

/// Exponential backoff with jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub initial: Duration,
    pub max: Duration,
}

impl RetryPolicy {
    pub fn from_settings(settings: &MailSettings) -> Self {
        let secs = |s: u64| Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000));
        RetryPolicy { initial: secs(settings.retry_initial_seconds), max: secs(settings.retry_max_seconds) }
    }

    /// The delay after the `attempts`-th failed attempt: `initial ×
    /// 2^(attempts-1)`, at most `max`, scaled by `0.5 + jitter / 2`
    /// (`jitter` in `[0, 1]`).
    pub fn delay(&self, attempts: i64, jitter: f64) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let nominal =
            self.initial.num_milliseconds().saturating_mul(1_i64 << doublings).min(self.max.num_milliseconds());
        // Whole milliseconds; the float only scales a value below 2^53.
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let scaled = (nominal as f64 * (0.5 + jitter.clamp(0.0, 1.0) / 2.0)) as i64;
        Duration::milliseconds(scaled.max(1))
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PassSummary {
    pub sent: u32,
    /// Failed transiently; pending again.
    pub retrying: u32,
    pub dead: u32,
    /// Taken over by another worker before this one finished (its lease ran
    /// out); nothing recorded by this one.
    pub lease_lost: u32,
}

impl PassSummary {
    fn add(&mut self, outcome: &AttemptOutcome, recorded: bool) {
        match (outcome, recorded) {
            (_, false) => self.lease_lost += 1,
            (AttemptOutcome::Sent { .. }, true) => self.sent += 1,
            (AttemptOutcome::Retry { .. }, true) => self.retrying += 1,
            (AttemptOutcome::Dead { .. }, true) => self.dead += 1,
        }
    }

    pub fn attempts(&self) -> u32 {
        self.sent + self.retrying + self.dead + self.lease_lost
    }
}

/// Sends what the outbox holds. One per process (or per `mail run`).
pub struct Worker {
    outbox: Outbox,
    mailer: Mailer,
    clock: SharedClock,
    from: lettre::Address,
    /// This worker's lease owner id (random per start).
    owner: String,
    policy: RetryPolicy,
    lease: Duration,
    concurrency: u32,
    poll: StdDuration,
    jitter: Mutex<rand::rngs::StdRng>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("owner", &self.owner).field("mailer", &self.mailer).finish_non_exhaustive()
    }
}

impl Worker {
    pub fn new(outbox: Outbox, mailer: Mailer, settings: &MailSettings, clock: SharedClock) -> Result<Self, MailError> {
        let from = sender(settings)?.email;
        let lease = Duration::seconds(i64::try_from(settings.lease_seconds).unwrap_or(300));
        Ok(Worker {
            outbox,
            mailer,
            clock,
            from,
            // Names the process in `sent_by`; the random part keeps two
            // workers apart even if a pid is reused.
            owner: format!("pid {}/{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8]),
            policy: RetryPolicy::from_settings(settings),
            lease,
            concurrency: settings.concurrency.max(1),
            poll: StdDuration::from_secs(settings.poll_seconds),
            jitter: Mutex::new(rand::rngs::StdRng::from_os_rng()),
        })
    }

    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// Sends every message due now (and those that fall due while it runs),
    /// `mail.concurrency` at a time, until none is left.
    pub async fn run_pass(&self) -> Result<PassSummary, MailError> {
        self.pass(None, &|| false).await
    }

    /// Sends one message now if it is due and nobody holds it (a command
    /// sending what it has just queued); `None` when it was not claimed.
    pub async fn deliver_now(&self, id: &str) -> Result<Option<AttemptOutcome>, MailError> {
        let now = self.clock.now();
        let claim = Claim { owner: &self.owner, now, lease_until: now + self.lease, limit: 1, only: Some(id) };
        let Some(claimed) = self.outbox.store().claim_mail(claim).await?.into_iter().next() else {
            return Ok(None);
        };
        let (outcome, _) = self.attempt(claimed).await?;
        Ok(Some(outcome))
    }

    /// Runs until `stop` resolves: a pass whenever woken (new mail in this
    /// process, a PostgreSQL notification from another), when the next
    /// retry falls due, and at least every `mail.poll_seconds`. After `stop`
    /// it claims nothing new and returns once the sends in flight end.
    pub async fn run(self: Arc<Self>, stop: impl Future<Output = ()> + Send) {
        let bell = self.outbox.bell();
        let listener = match self.outbox.store().listen_for_mail(bell.clone()).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for new mail; polling instead");
                None
            }
        };
        tracing::info!(transport = %self.mailer.describe(), "mail worker started");
        let stopping = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stopping.clone();
        let stop = async move {
            stop.await;
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        };
        tokio::pin!(stop);
        loop {
            let stopped = || stopping.load(std::sync::atomic::Ordering::SeqCst);
            let pass = self.pass(None, &stopped);
            tokio::pin!(pass);
            let result = tokio::select! {
                result = &mut pass => result,
                () = &mut stop => pass.await,
            };
            if let Err(e) = result {
                tracing::error!(error = %e, "mail pass failed");
            }
            if stopped() {
                break;
            }
            let wait = self.until_next_due().await;
            tokio::select! {
                () = bell.notified() => {}
                () = tokio::time::sleep(wait) => {}
                () = &mut stop => break,
            }
        }
        if let Some(listener) = listener {
            listener.abort();
        }
        tracing::info!("mail worker stopped");
    }

    /// How long to sleep: until the next message falls due, at most the poll
    /// interval.
    async fn until_next_due(&self) -> StdDuration {
        match self.outbox.store().next_mail_due().await {
            Ok(Some(due)) => (due - self.clock.now()).to_std().unwrap_or(StdDuration::ZERO).min(self.poll),
            Ok(None) => self.poll,
            Err(e) => {
                tracing::warn!(error = %e, "reading the outbox failed");
                self.poll
            }
        }
    }

    /// Claims and sends with at most `concurrency` sends in flight, until
    /// nothing is due or `stopped()`.
    async fn pass(&self, only: Option<&str>, stopped: &(dyn Fn() -> bool + Sync)) -> Result<PassSummary, MailError> {
        let mut summary = PassSummary::default();
        let mut in_flight = FuturesUnordered::new();
        let mut drained = false;
        loop {
            let free = self.concurrency.saturating_sub(u32::try_from(in_flight.len()).unwrap_or(u32::MAX));
            if !drained && free > 0 && !stopped() {
                let now = self.clock.now();
                let claim = Claim { owner: &self.owner, now, lease_until: now + self.lease, limit: free, only };
                let claimed = self.outbox.store().claim_mail(claim).await?;
                drained = claimed.is_empty();
                for mail in claimed {
                    in_flight.push(self.attempt(mail));
                }
            }
            match in_flight.next().await {
                Some(done) => {
                    let (outcome, recorded) = done?;
                    summary.add(&outcome, recorded);
                    // A freed slot may find new mail that fell due meanwhile.
                    drained = false;
                }
                None if drained || stopped() => return Ok(summary),
                None => {}
            }
        }
    }

    /// One attempt: open, send, record. Returns the outcome and whether it
    /// was recorded (false: the lease was lost).
    async fn attempt(&self, mail: ClaimedMail) -> Result<(AttemptOutcome, bool), MailError> {
        let outcome = self.send(&mail).await;
        let now = self.clock.now();
        let recorded = self.outbox.store().finish_attempt(&mail.id, &self.owner, now, &outcome).await?;
        match (&outcome, recorded) {
            (_, false) => {
                tracing::warn!(mail = %mail.id, "another worker took this message over; outcome not recorded")
            }
            (AttemptOutcome::Sent { .. }, true) => {
                tracing::info!(mail = %mail.id, attempts = mail.attempts, "mail sent")
            }
            (AttemptOutcome::Retry { at, error }, true) => {
                tracing::warn!(mail = %mail.id, attempts = mail.attempts, retry_at = %at, error = %error, "mail not sent; will retry")
            }
            (AttemptOutcome::Dead { error }, true) => {
                tracing::error!(mail = %mail.id, attempts = mail.attempts, error = %error, "mail dead")
            }
        }
        Ok((outcome, recorded))
    }

    async fn send(&self, mail: &ClaimedMail) -> AttemptOutcome {
        let to = match self.outbox.open_recipient(&mail.id, &mail.recipient_sealed) {
            Ok(to) => to,
            Err(e) => return AttemptOutcome::Dead { error: e.to_string() },
        };
        let Ok(message) = self.outbox.cipher().open(&mail.message_sealed, &message_context(&mail.id)) else {
            return AttemptOutcome::Dead { error: MailError::Sealed.to_string() };
        };
        match self.mailer.send(&self.from, to.lettre(), &message).await {
            Ok(delivered_as) => AttemptOutcome::Sent { delivered_as },
            Err(failure) => {
                // Servers quote the recipient in their replies: keep it masked.
                let error = failure.message.replace(to.as_str(), &to.masked());
                if failure.permanent {
                    return AttemptOutcome::Dead { error };
                }
                let jitter = self.jitter.lock().map(|mut rng| rng.random::<f64>()).unwrap_or(1.0);
                let at = self.clock.now() + self.policy.delay(mail.attempts, jitter);
                self.after_transient(mail, at, error)
            }
        }
    }

    fn after_transient(&self, mail: &ClaimedMail, at: DateTime<Utc>, error: String) -> AttemptOutcome {
        if at > mail.give_up_at {
            let error = format!(
                "gave up after {} attempts since {}: {error}",
                mail.attempts,
                mail.created_at.format("%Y-%m-%d %H:%M UTC")
            );
            return AttemptOutcome::Dead { error };
        }
        AttemptOutcome::Retry { at, error }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_initial_delay_up_to_the_cap_with_jitter() {
        let policy = RetryPolicy { initial: Duration::seconds(30), max: Duration::hours(1) };
        assert_eq!(policy.delay(1, 1.0), Duration::seconds(30));
        assert_eq!(policy.delay(1, 0.0), Duration::seconds(15));
        assert_eq!(policy.delay(2, 1.0), Duration::seconds(60));
        assert_eq!(policy.delay(5, 1.0), Duration::seconds(480));
        assert_eq!(policy.delay(8, 1.0), Duration::hours(1));
        assert_eq!(policy.delay(1000, 1.0), Duration::hours(1));
        assert_eq!(policy.delay(1000, 0.0), Duration::minutes(30));
        for attempts in 0..40 {
            for jitter in [0.0, 0.3, 1.0, -1.0, 7.0] {
                let d = policy.delay(attempts, jitter);
                assert!(d >= Duration::seconds(15) && d <= Duration::hours(1), "{attempts} {jitter} {d}");
            }
        }
    }

    #[test]
    fn over_a_day_the_default_policy_makes_about_thirty_attempts() {
        let policy = RetryPolicy::from_settings(&MailSettings::default());
        let (mut elapsed, mut attempts) = (Duration::zero(), 0);
        while elapsed <= Duration::hours(24) {
            attempts += 1;
            elapsed += policy.delay(attempts, 1.0);
        }
        assert!((25..=35).contains(&attempts), "{attempts}");
    }
}
