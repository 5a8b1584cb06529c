//! `[sms]`: how text messages (one-time codes) leave the service (see `src/sms/`).

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::bail;
use serde::Deserialize;

use super::Secret;

/// Where text messages go.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmsTransportKind {
    /// One JSON file per message under `sms.file_dir` (the embedded default).
    File,
    /// A JSON POST to an SMS gateway (`sms.http_url`, `sms.http_token`).
    Http,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SmsSettings {
    /// `file` (default) or `http`.
    pub transport: SmsTransportKind,
    /// The gateway's endpoint: `https://…` (plain `http://` only on this
    /// machine); required with `transport = "http"`.
    pub http_url: Option<String>,
    /// The bearer token the gateway expects; required with `transport = "http"`.
    pub http_token: Option<Secret>,
    /// Seconds one request to the gateway may take.
    pub timeout_seconds: u64,
    /// Where the file transport writes; default `data_dir/sms`.
    pub file_dir: Option<PathBuf>,
}

impl Default for SmsSettings {
    fn default() -> Self {
        SmsSettings {
            transport: SmsTransportKind::File,
            http_url: None,
            http_token: None,
            timeout_seconds: 10,
            file_dir: None,
        }
    }
}

impl SmsSettings {
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if !(1..=120).contains(&self.timeout_seconds) {
            bail!("sms.timeout_seconds must be between 1 and 120");
        }
        if let Some(url) = &self.http_url {
            check_gateway_url(url)?;
        }
        if self.transport == SmsTransportKind::Http {
            if self.http_url.is_none() {
                bail!("sms.transport = http needs sms.http_url (STANDING_SMS_HTTP_URL)");
            }
            if self.http_token.as_ref().is_none_or(|t| t.expose().trim().is_empty()) {
                bail!("sms.transport = http needs sms.http_token (STANDING_SMS_HTTP_TOKEN)");
            }
        }
        Ok(())
    }
}

/// `https://` anywhere; `http://` only to this machine (codes and the token
/// would cross the network in the clear).
fn check_gateway_url(text: &str) -> anyhow::Result<()> {
    let Ok(url) = url::Url::parse(text) else {
        bail!("sms.http_url is not a URL like https://sms.example.com/v1/messages");
    };
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => bail!("sms.http_url names no host"),
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => bail!("sms.http_url must use https:// (plain http:// is accepted only on this machine)"),
        other => bail!("sms.http_url must start with https:// (got {other}://)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_needs_https_a_url_and_a_token() {
        assert!(SmsSettings::default().validate().is_ok());
        let http = |url: &str, token: Option<&str>| SmsSettings {
            transport: SmsTransportKind::Http,
            http_url: Some(url.into()),
            http_token: token.map(Secret::new),
            ..SmsSettings::default()
        };
        assert!(http("https://sms.example.com/v1/messages", Some("t")).validate().is_ok());
        assert!(http("http://127.0.0.1:9000/sms", Some("t")).validate().is_ok());
        assert!(http("http://sms.example.com/v1", Some("t")).validate().unwrap_err().to_string().contains("https"));
        assert!(http("https://sms.example.com", None).validate().unwrap_err().to_string().contains("http_token"));
        assert!(http("ftp://sms.example.com", Some("t")).validate().is_err());
        let no_url = SmsSettings { transport: SmsTransportKind::Http, ..SmsSettings::default() };
        assert!(no_url.validate().unwrap_err().to_string().contains("http_url"));
    }
}
