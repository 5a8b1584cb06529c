//! `[mail]`: how email leaves the service (see `src/mail/`).

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::bail;
use serde::Deserialize;

/// Where messages go.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    /// One `.eml` file per message under `mail.file_dir` (the embedded default).
    File,
    /// An SMTP server (`mail.smtp_url`).
    Smtp,
}

/// The DKIM key's algorithm.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DkimAlgorithm {
    /// RFC 8463 (`ed25519-sha256`): the key file holds the base64 of the
    /// 32-byte private key.
    Ed25519,
    /// `rsa-sha256`: the key file is a PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`).
    Rsa,
}

/// An SMTP server's URL; `Debug` and [`SmtpUrl::redacted`] hide its password.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct SmtpUrl(String);

impl SmtpUrl {
    pub fn new(s: impl Into<String>) -> Self {
        SmtpUrl(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password replaced, for logs and error messages.
    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(mut url) => {
                if url.password().is_none() {
                    return url.to_string();
                }
                // A placeholder the URL keeps as it is, then the readable mark.
                let _ = url.set_password(Some("REDACTED"));
                url.to_string().replacen(":REDACTED@", ":[redacted]@", 1)
            }
            Err(_) => "[unparseable URL]".to_owned(),
        }
    }

    /// Checks the URL: `smtp://` or `smtps://`, a host, and encryption
    /// unless the server is on this machine. `?tls=required` is STARTTLS
    /// that must succeed; `smtps://` is TLS from the first byte. Plain SMTP
    /// (no `tls`, or `tls=opportunistic`, which an attacker on the path can
    /// strip) would show passwords and reports to the network, so it is
    /// accepted only for a loopback relay.
    pub fn check(&self) -> anyhow::Result<()> {
        let Ok(url) = url::Url::parse(&self.0) else {
            bail!("mail.smtp_url is not a URL like smtp://user:pass@host:587?tls=required");
        };
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => bail!("mail.smtp_url names no host ({})", self.redacted()),
        };
        let tls = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
        let encrypted = match (url.scheme(), tls.as_deref()) {
            ("smtps", None) => true,
            ("smtp", Some("required")) => true,
            ("smtp", None | Some("opportunistic")) => false,
            ("smtp" | "smtps", Some(other)) => {
                bail!("mail.smtp_url: tls={other} is not one of required, opportunistic ({})", self.redacted())
            }
            (scheme, _) => bail!("mail.smtp_url must start with smtp:// or smtps:// (got {scheme}://)"),
        };
        let loopback =
            host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !encrypted && !loopback {
            bail!(
                "mail.smtp_url would send mail unencrypted to {host}: use smtps://{host} or add ?tls=required \
                 (plain SMTP is accepted only to a relay on this machine)"
            );
        }
        Ok(())
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmtpUrl({})", self.redacted())
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// `file` (default) or `smtp`.
    pub transport: MailTransportKind,
    /// The SMTP server, e.g. `smtp://user:pass@host:587?tls=required` or
    /// `smtps://user:pass@host`; required with `transport = "smtp"`.
    pub smtp_url: Option<SmtpUrl>,
    /// The sender, `Name <address>`; its domain also names our Message-IDs.
    pub from: String,
    /// Where replies go; empty: the sender.
    pub reply_to: String,
    /// Where the file transport writes; default `data_dir/mail`.
    pub file_dir: Option<PathBuf>,
    /// Seconds to open an SMTP connection (and its TLS).
    pub connect_timeout_seconds: u64,
    /// Seconds one message may take to send, from taking a connection to
    /// the server's reply after DATA.
    pub send_timeout_seconds: u64,
    /// The first retry's delay after a transient failure, in seconds; each
    /// later one doubles, with jitter, up to `retry_max_seconds`.
    pub retry_initial_seconds: u64,
    pub retry_max_seconds: u64,
    /// Hours after queueing (or an operator's retry) when no new attempt
    /// starts: the message is then dead.
    pub give_up_after_hours: u64,
    /// Seconds a worker holds a claimed message; another worker may take
    /// it after that (the first one crashed). Longer than a whole send.
    pub lease_seconds: u64,
    /// Messages sent at once by one worker (and SMTP connections it keeps).
    pub concurrency: u32,
    /// Seconds between looks at the queue when nothing wakes the worker
    /// (messages queued by another process on SQLite).
    pub poll_seconds: u64,
    /// DKIM: the selector of the published public key (`{selector}._domainkey.{domain}`);
    /// empty: messages are not DKIM-signed (the mail server may sign them).
    pub dkim_selector: String,
    /// The signing domain (`d=`); empty: the sender's domain.
    pub dkim_domain: String,
    /// The private key's file (see [`DkimAlgorithm`]).
    pub dkim_key_file: Option<PathBuf>,
    pub dkim_algorithm: DkimAlgorithm,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            transport: MailTransportKind::File,
            smtp_url: None,
            from: "standing <reports@standing.localhost>".into(),
            reply_to: String::new(),
            file_dir: None,
            connect_timeout_seconds: 10,
            send_timeout_seconds: 60,
            retry_initial_seconds: 30,
            retry_max_seconds: 3600,
            give_up_after_hours: 24,
            lease_seconds: 300,
            concurrency: 4,
            poll_seconds: 10,
            dkim_selector: String::new(),
            dkim_domain: String::new(),
            dkim_key_file: None,
            dkim_algorithm: DkimAlgorithm::Ed25519,
        }
    }
}

impl MailSettings {
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        for (name, value) in [("mail.from", &self.from), ("mail.reply_to", &self.reply_to)] {
            if (name == "mail.from" || !value.is_empty()) && value.parse::<lettre::message::Mailbox>().is_err() {
                bail!("{name} must be an address like `standing <reports@example.com>` (got `{value}`)");
            }
        }
        match (&self.transport, &self.smtp_url) {
            (MailTransportKind::Smtp, None) => {
                bail!("mail.transport = smtp needs mail.smtp_url (STANDING_MAIL_SMTP_URL)")
            }
            (_, Some(url)) => url.check()?,
            (MailTransportKind::File, None) => {}
        }
        for (name, value, range) in [
            ("mail.connect_timeout_seconds", self.connect_timeout_seconds, 1..=300),
            ("mail.send_timeout_seconds", self.send_timeout_seconds, 1..=3600),
            ("mail.retry_initial_seconds", self.retry_initial_seconds, 1..=86_400),
            ("mail.retry_max_seconds", self.retry_max_seconds, 1..=86_400),
            ("mail.give_up_after_hours", self.give_up_after_hours, 1..=720),
            ("mail.lease_seconds", self.lease_seconds, 2..=86_400),
            ("mail.poll_seconds", self.poll_seconds, 1..=3600),
        ] {
            if !range.contains(&value) {
                bail!("{name} must be between {} and {}", range.start(), range.end());
            }
        }
        if self.retry_max_seconds < self.retry_initial_seconds {
            bail!("mail.retry_max_seconds must be at least mail.retry_initial_seconds");
        }
        if self.lease_seconds <= self.connect_timeout_seconds + self.send_timeout_seconds {
            bail!(
                "mail.lease_seconds must be longer than mail.connect_timeout_seconds + mail.send_timeout_seconds, \
                 or a slow send could be taken over and sent twice"
            );
        }
        if !(1..=64).contains(&self.concurrency) {
            bail!("mail.concurrency must be between 1 and 64");
        }
        let label = |s: &str| {
            !s.is_empty()
                && s.split('.').all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        };
        if !self.dkim_selector.is_empty() {
            if !label(&self.dkim_selector) {
                bail!("mail.dkim_selector must be a DNS label like `standing2026`");
            }
            if self.dkim_key_file.is_none() {
                bail!("mail.dkim_selector needs mail.dkim_key_file (STANDING_MAIL_DKIM_KEY_FILE)");
            }
        }
        if !self.dkim_domain.is_empty() && !label(&self.dkim_domain) {
            bail!("mail.dkim_domain must be a domain like example.com");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str) -> Result<(), String> {
        SmtpUrl::new(url).check().map_err(|e| e.to_string())
    }

    #[test]
    fn smtp_urls_need_tls_unless_loopback() {
        assert!(check("smtp://user:pw@mail.example.com:587?tls=required").is_ok());
        assert!(check("smtps://user:pw@mail.example.com").is_ok());
        assert!(check("smtp://127.0.0.1:2525").is_ok());
        assert!(check("smtp://localhost:25").is_ok());
        assert!(check("smtp://[::1]:25").is_ok());
        let plain = check("smtp://user:pw@mail.example.com:25").unwrap_err();
        assert!(plain.contains("unencrypted to mail.example.com"), "{plain}");
        assert!(!plain.contains("pw"), "{plain}");
        assert!(check("smtp://mail.example.com?tls=opportunistic").is_err());
        assert!(check("smtp://mail.example.com?tls=sometimes").is_err());
        assert!(check("http://mail.example.com").is_err());
        assert!(check("not a url").is_err());
    }

    #[test]
    fn the_password_never_shows() {
        let url = SmtpUrl::new("smtp://reports:hunter2@mail.example.com:587?tls=required");
        assert_eq!(url.redacted(), "smtp://reports:[redacted]@mail.example.com:587?tls=required");
        assert!(!format!("{url:?}").contains("hunter2"));
        let err = check("smtp://reports:hunter2@mail.example.com?tls=bogus").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn defaults_are_valid_and_smtp_needs_a_url() {
        assert!(MailSettings::default().validate().is_ok());
        let smtp = MailSettings { transport: MailTransportKind::Smtp, ..MailSettings::default() };
        assert!(smtp.validate().unwrap_err().to_string().contains("mail.smtp_url"));
        let bad_from = MailSettings { from: "not an address".into(), ..MailSettings::default() };
        assert!(bad_from.validate().is_err());
        let short_lease = MailSettings { lease_seconds: 30, ..MailSettings::default() };
        assert!(short_lease.validate().unwrap_err().to_string().contains("sent twice"));
    }
}
