//! `[applications]`: the applicant's journey — how long an application
//! waits for the applicant, the limits on one-time codes, the consents asked.

use anyhow::bail;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ApplicationSettings {
    /// Hours an applicant has to finish their own steps (the code and the
    /// photos); then the application is `expired`.
    pub expiry_hours: u32,
    /// Whether the cross-border transfer consent is required (the
    /// operator's data is held in China, and the report goes abroad).
    pub cross_border_consent_required: bool,
    /// The version of the consent texts the form shows, recorded with each
    /// consent given; change it when the texts change.
    pub consent_text_version: String,
    /// New applications accepted per client address per hour.
    pub applications_per_address_per_hour: u32,
    /// Codes resent (`…/otp/resend`) per client address per hour.
    pub resends_per_address_per_hour: u32,
    /// Codes sent to one phone per hour, over all its applications.
    pub codes_per_phone_per_hour: u32,
    /// Codes sent to one phone per day, over all its applications.
    pub codes_per_phone_per_day: u32,
    /// Seconds between the service's passes over its own work (reports to
    /// generate, applications to expire) when nothing wakes it sooner.
    pub poll_seconds: u64,
}

impl Default for ApplicationSettings {
    fn default() -> Self {
        ApplicationSettings {
            expiry_hours: 24,
            cross_border_consent_required: true,
            consent_text_version: "2026-12-01".into(),
            applications_per_address_per_hour: 30,
            resends_per_address_per_hour: 20,
            codes_per_phone_per_hour: 5,
            codes_per_phone_per_day: 10,
            poll_seconds: 5,
        }
    }
}

impl ApplicationSettings {
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if !(1..=24 * 30).contains(&self.expiry_hours) {
            bail!("applications.expiry_hours must be between 1 and 720");
        }
        if self.consent_text_version.trim().is_empty() {
            bail!("applications.consent_text_version must not be empty");
        }
        if self.applications_per_address_per_hour == 0 {
            bail!("applications.applications_per_address_per_hour must be at least 1");
        }
        if self.resends_per_address_per_hour == 0 {
            bail!("applications.resends_per_address_per_hour must be at least 1");
        }
        if self.codes_per_phone_per_hour == 0 || self.codes_per_phone_per_day < self.codes_per_phone_per_hour {
            bail!("applications.codes_per_phone_per_hour must be at least 1 and at most codes_per_phone_per_day");
        }
        if !(1..=300).contains(&self.poll_seconds) {
            bail!("applications.poll_seconds must be between 1 and 300");
        }
        Ok(())
    }
}
