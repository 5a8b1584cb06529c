//! Where messages go: lettre's file transport (one `.eml` per message, the
//! embedded default) or an SMTP server (STARTTLS, implicit TLS, or plain
//! only to a loopback relay; see `config::SmtpUrl::check`), with pooled
//! connections and timeouts.
//!
//! A failure is *permanent* only when the server said so (a 5xx reply):
//! retrying cannot help. Everything else (refused or dropped connections,
//! timeouts, 4xx replies, a disk that is full) is *transient*. A connection
//! lost after the final "." of DATA is transient too, although the server
//! may have taken the message: it is sent again with the same Message-ID.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::{MailSettings, MailTransportKind, SmtpUrl};

/// Why a send failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    pub permanent: bool,
    /// What went wrong, for the outbox row and the operator (the password of
    /// the SMTP URL never appears: lettre's errors do not carry it).
    pub message: String,
}

/// The configured transport; cheap to share.
#[derive(Clone)]
pub enum Mailer {
    File { transport: AsyncFileTransport<Tokio1Executor>, dir: PathBuf },
    Smtp(Arc<SmtpMailer>),
}

/// lettre's SMTP transport and its connection pool, replaced after a send
/// times out: lettre parks a connection whose send was cancelled mid-command
/// back in its pool, and the next send on it would read the late reply as
/// the answer to its own command. Sends already under way keep the old
/// transport (they have their connections); its pool goes with the last.
pub struct SmtpMailer {
    current: Mutex<Arc<AsyncSmtpTransport<Tokio1Executor>>>,
    url: SmtpUrl,
    connect_timeout: Duration,
    send_timeout: Duration,
    pool_size: u32,
}

impl SmtpMailer {
    fn build(&self) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
        build_smtp(&self.url, self.connect_timeout, self.pool_size)
    }

    fn transport(&self) -> Arc<AsyncSmtpTransport<Tokio1Executor>> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn renew(&self) {
        match self.build() {
            Ok(fresh) => *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(fresh),
            Err(e) => tracing::warn!(error = %e, "cannot renew the SMTP transport"),
        }
    }
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Mailer {
    /// The transport the settings name. The file transport's directory is
    /// created (private to this user: messages hold personal data).
    pub fn from_settings(settings: &MailSettings, data_dir: &Path) -> anyhow::Result<Self> {
        // A DKIM key that does not load would fail every message: say so now.
        let sender = super::compose::sender(settings)?;
        super::dkim::config(settings, sender.email.domain())?;
        match settings.transport {
            MailTransportKind::File => {
                let dir = settings.file_dir.clone().unwrap_or_else(|| data_dir.join("mail"));
                crate::files::create_private_dir(&dir)
                    .map_err(|e| anyhow::anyhow!("creating the mail directory {}: {e}", dir.display()))?;
                Ok(Mailer::File { transport: AsyncFileTransport::new(&dir), dir })
            }
            MailTransportKind::Smtp => {
                let url = settings
                    .smtp_url
                    .as_ref()
                    .ok_or_else(|| anyhow::anyhow!("mail.transport = smtp needs mail.smtp_url"))?;
                url.check()?;
                let connect_timeout = Duration::from_secs(settings.connect_timeout_seconds);
                let transport = build_smtp(url, connect_timeout, settings.concurrency)?;
                let smtp = SmtpMailer {
                    current: Mutex::new(Arc::new(transport)),
                    url: url.clone(),
                    connect_timeout,
                    send_timeout: Duration::from_secs(settings.send_timeout_seconds),
                    pool_size: settings.concurrency,
                };
                Ok(Mailer::Smtp(Arc::new(smtp)))
            }
        }
    }

    /// For logs: the directory, or the SMTP URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Mailer::File { dir, .. } => format!("files in {}", dir.display()),
            Mailer::Smtp(smtp) => format!("smtp {}", smtp.url.redacted()),
        }
    }

    /// Sends `message` from `from` to `to`; returns what the transport
    /// answered (the file's name, or the server's reply to DATA).
    pub async fn send(
        &self,
        from: &lettre::Address,
        to: &lettre::Address,
        message: &[u8],
    ) -> Result<String, SendFailure> {
        let envelope = Envelope::new(Some(from.clone()), vec![to.clone()])
            .map_err(|e| SendFailure { permanent: true, message: format!("envelope: {e}") })?;
        match self {
            Mailer::File { transport, dir } => match transport.send_raw(&envelope, message).await {
                Ok(id) => Ok(format!("{}", dir.join(format!("{id}.eml")).display())),
                Err(e) => Err(SendFailure { permanent: false, message: format!("writing the file failed: {e}") }),
            },
            Mailer::Smtp(smtp) => {
                let transport = smtp.transport();
                match tokio::time::timeout(smtp.send_timeout, transport.send_raw(&envelope, message)).await {
                    Ok(Ok(reply)) => {
                        let text: Vec<&str> = reply.message().collect();
                        Ok(format!("{} {}", reply.code(), text.join(" ")).trim_end().to_owned())
                    }
                    Ok(Err(e)) => Err(SendFailure { permanent: e.is_permanent(), message: smtp_error(&e) }),
                    Err(_) => {
                        smtp.renew();
                        Err(SendFailure {
                            permanent: false,
                            message: format!(
                                "no answer within {} s (mail.send_timeout_seconds)",
                                smtp.send_timeout.as_secs()
                            ),
                        })
                    }
                }
            }
        }
    }
}

/// lettre's error with its cause chain ("Connection error: Connection
/// refused (os error 111)").
fn smtp_error(e: &lettre::transport::smtp::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// lettre's transport for `url` (TLS as the URL says), with a pool of
/// `pool_size` connections.
fn build_smtp(
    url: &SmtpUrl,
    connect_timeout: Duration,
    pool_size: u32,
) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    Ok(AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
        .map_err(|e| anyhow::anyhow!("mail.smtp_url {}: {e}", url.redacted()))?
        .timeout(Some(connect_timeout))
        .pool_config(PoolConfig::new().max_size(pool_size))
        .build())
}
