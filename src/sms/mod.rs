//! Text messages: the one-time codes of the applicant journey go to the
//! phone on file. Two transports, chosen in settings (`[sms]`):
//!
//! - `file` (the embedded default): one JSON file per message under
//!   `var/sms/` (`{"id", "to", "text", "created_at"}`), private to this
//!   user, written whole (a temporary file renamed into place);
//! - `http`: a JSON POST of `{"id", "to", "text"}` to the gateway with
//!   `Authorization: Bearer {sms.http_token}` and `Idempotency-Key: {id}`,
//!   so a retried request is not sent twice by a gateway that honours it.
//!
//! A message's text holds a code: it never appears in logs or errors, and
//! `Debug` hides it and masks the number.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{Secret, SmsSettings, SmsTransportKind};
use crate::domain::PhoneNumber;

/// A text message to send.
#[derive(Clone, PartialEq, Eq)]
pub struct SmsMessage {
    /// Unique per message (a UUID): the file's name, the idempotency key.
    pub id: String,
    pub to: PhoneNumber,
    pub text: String,
}

impl std::fmt::Debug for SmsMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsMessage")
            .field("id", &self.id)
            .field("to", &self.to.masked())
            .field("text", &format_args!("[redacted]"))
            .finish()
    }
}

/// Why a send failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SmsFailure {
    pub permanent: bool,
    pub message: String,
}

/// The configured transport; cheap to clone.
#[derive(Clone)]
pub enum SmsSender {
    File { dir: PathBuf },
    Http { client: reqwest::Client, url: String, token: Secret },
}

impl std::fmt::Debug for SmsSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SmsSender::File { dir } => write!(f, "SmsSender::File({})", dir.display()),
            SmsSender::Http { url, .. } => write!(f, "SmsSender::Http({url})"),
        }
    }
}

#[derive(Serialize)]
struct FileRecord<'a> {
    id: &'a str,
    to: &'a str,
    text: &'a str,
    created_at: DateTime<Utc>,
}

impl SmsSender {
    /// The transport the settings name (the file transport's directory is
    /// created, private to this user).
    pub fn from_settings(settings: &SmsSettings, data_dir: &Path) -> anyhow::Result<Self> {
        match settings.transport {
            SmsTransportKind::File => {
                let dir = settings.file_dir.clone().unwrap_or_else(|| data_dir.join("sms"));
                crate::files::create_private_dir(&dir)
                    .map_err(|e| anyhow::anyhow!("creating the SMS directory {}: {e}", dir.display()))?;
                Ok(SmsSender::File { dir })
            }
            SmsTransportKind::Http => {
                let url = settings.http_url.clone().ok_or_else(|| anyhow::anyhow!("sms.http_url is required"))?;
                let token = settings.http_token.clone().ok_or_else(|| anyhow::anyhow!("sms.http_token is required"))?;
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(settings.timeout_seconds))
                    .connect_timeout(Duration::from_secs(settings.timeout_seconds))
                    .build()?;
                Ok(SmsSender::Http { client, url, token })
            }
        }
    }

    /// Sends `message`; returns what the transport answered (the file, or
    /// the gateway's status and the start of its answer).
    pub async fn send(&self, message: &SmsMessage, now: DateTime<Utc>) -> Result<String, SmsFailure> {
        match self {
            SmsSender::File { dir } => write_file(dir, message, now).await,
            SmsSender::Http { client, url, token } => {
                let body = serde_json::json!({"id": message.id, "to": message.to.as_str(), "text": message.text});
                let answer = client
                    .post(url)
                    .bearer_auth(token.expose())
                    .header("Idempotency-Key", &message.id)
                    .json(&body)
                    .send()
                    .await
                    .map_err(|e| SmsFailure {
                        permanent: false,
                        message: format!("the SMS gateway did not answer: {}", without_url(&e)),
                    })?;
                let status = answer.status();
                let text: String = answer.text().await.unwrap_or_default().chars().take(200).collect();
                if status.is_success() {
                    return Ok(format!("{} {}", status.as_u16(), text.trim()).trim_end().to_owned());
                }
                // Refusals of this request stay refused; overload and server
                // trouble pass.
                let permanent = status.is_client_error()
                    && status != reqwest::StatusCode::REQUEST_TIMEOUT
                    && status != reqwest::StatusCode::TOO_MANY_REQUESTS;
                Err(SmsFailure { permanent, message: format!("the SMS gateway answered {status}: {}", text.trim()) })
            }
        }
    }
}

/// reqwest's error without the URL (it may carry a key in its query).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn write_file(dir: &Path, message: &SmsMessage, now: DateTime<Utc>) -> Result<String, SmsFailure> {
    let failure =
        |e: std::io::Error| SmsFailure { permanent: false, message: format!("writing the SMS file failed: {e}") };
    let record = FileRecord { id: &message.id, to: message.to.as_str(), text: &message.text, created_at: now };
    let bytes = serde_json::to_vec_pretty(&record).map_err(|e| failure(std::io::Error::other(e)))?;
    let path = dir.join(format!("{}.json", message.id));
    let partial = dir.join(format!(".{}.json.partial", message.id));
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(&partial).await.map_err(failure)?;
    tokio::io::AsyncWriteExt::write_all(&mut file, &bytes).await.map_err(failure)?;
    file.sync_all().await.map_err(failure)?;
    tokio::fs::rename(&partial, &path).await.map_err(failure)?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests;
