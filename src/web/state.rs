//! [`AppState`]: what every request handler (and every command that opens
//! the database) holds.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use super::csrf::CsrfKey;
use super::rate_limit::{RateLimiter, VerifyLimits};
use crate::applications::{Applications, Generator};
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::crypto::{FieldCipher, MasterKey};
use crate::mail::notify::Notifier;
use crate::mail::{Mailer, Outbox, Worker};
use crate::registry::Registry;
use crate::sms::SmsSender;
use crate::store::Store;

/// Everything a request handler may need; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub clock: SharedClock,
    pub cipher: FieldCipher,
    /// Issued reports: numbers, codes (hashed), status, sealed PDFs.
    pub registry: Registry,
    /// Per-client limits on verification requests.
    pub limits: Arc<VerifyLimits>,
    /// Signs the upload form's CSRF tokens (derived from the master key).
    pub csrf: CsrfKey,
    /// Email to send, queued with the changes that cause it.
    pub outbox: Outbox,
    /// The applicant's journey.
    pub applications: Applications,
    /// New applications per client address.
    pub apply_limits: Arc<RateLimiter>,
    /// Codes resent per client address (beside the per-application and
    /// per-phone limits).
    pub resend_limits: Arc<RateLimiter>,
}

impl AppState {
    /// Opens and migrates the database and loads the master key.
    pub async fn open(settings: Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let store = Store::open(&settings.database)
            .await
            .with_context(|| format!("opening database {}", settings.database.url.redacted()))?;
        let master = MasterKey::load(settings.master_key.as_ref().map(|k| k.expose()), &settings.data_dir)?;
        let cipher = master.field_cipher();
        let csrf = CsrfKey::new(master.derive("standing/csrf/v1"));
        let registry = Registry::new(store.clone(), cipher.clone());
        let limits = Arc::new(VerifyLimits::new(&settings.verify));
        let outbox = Outbox::new(store.clone(), cipher.clone(), &settings.mail);
        let sms =
            SmsSender::from_settings(&settings.sms, &settings.data_dir).context("setting up the SMS transport")?;
        let apply_limits = Arc::new(RateLimiter::new(settings.applications.applications_per_address_per_hour, 3600));
        let resend_limits = Arc::new(RateLimiter::new(settings.applications.resends_per_address_per_hour, 3600));
        let settings = Arc::new(settings);
        let applications =
            Applications::new(store.clone(), cipher.clone(), settings.clone(), clock.clone(), outbox.clone(), sms);
        Ok(AppState {
            store,
            settings,
            clock,
            cipher,
            registry,
            limits,
            csrf,
            outbox,
            applications,
            apply_limits,
            resend_limits,
        })
    }

    /// Report operations that email the applicant.
    pub fn notifier(&self) -> Notifier<'_> {
        Notifier { settings: &self.settings, registry: &self.registry, outbox: &self.outbox }
    }

    /// The job that issues the reports of approved applications.
    pub fn generator(&self) -> Generator {
        Generator::new(self.applications.clone(), self.registry.clone())
    }

    /// A mail worker on the configured transport (creating the mail
    /// directory of the file transport).
    pub fn mail_worker(&self) -> anyhow::Result<Worker> {
        let mailer = Mailer::from_settings(&self.settings.mail, &self.settings.data_dir)?;
        Ok(Worker::new(self.outbox.clone(), mailer, &self.settings.mail, self.clock.clone())?)
    }
}

impl AppState {
    /// Imports the demo fixtures in `dir` into an empty database, moved to
    /// end yesterday by this state's clock (see [`crate::demo::load_if_empty`]).
    pub async fn load_demo_if_empty(&self, dir: &Path) -> anyhow::Result<bool> {
        let batch_size = self.settings.import.batch_size;
        crate::demo::load_if_empty(&self.store, &self.cipher, self.clock.as_ref(), batch_size, dir).await
    }
}
