//! A rendered message made into RFC 5322 bytes: `From`, `Reply-To`, `To`,
//! `Subject`, `Date`, our own `Message-ID`, a plain-text and an HTML
//! alternative, and the attachment if any.
//!
//! Everything is a function of the inputs: the date comes from the caller's
//! clock and the MIME boundaries from the message id, so the same message
//! gives the same bytes (golden tests; a DKIM signature, when configured,
//! also carries its signing time) and a retry sends exactly what was queued.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

use super::templates::Rendered;
use super::{EmailAddress, MailError};
use crate::config::MailSettings;

/// A file to attach.
#[derive(Clone, PartialEq, Eq)]
pub struct FileAttachment {
    pub filename: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// A message ready to queue.
#[derive(Clone, PartialEq, Eq)]
pub struct Composed {
    /// The outbox id (a UUID).
    pub id: String,
    /// `report_issued`, `report_revoked`, …
    pub kind: &'static str,
    pub subject: String,
    pub to: EmailAddress,
    /// `<{id}@{domain}>`.
    pub message_id: String,
    /// The whole message.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Composed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Composed")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("to", &self.to)
            .field("bytes", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// The sender's mailbox (checked at start-up, see `MailSettings`).
pub fn sender(settings: &MailSettings) -> Result<Mailbox, MailError> {
    settings.from.parse::<Mailbox>().map_err(|e| MailError::Address(format!("mail.from: {e}")))
}

/// Where replies go: `mail.reply_to`, or the sender.
fn reply_to(settings: &MailSettings) -> Result<Mailbox, MailError> {
    if settings.reply_to.trim().is_empty() {
        return sender(settings);
    }
    settings.reply_to.parse::<Mailbox>().map_err(|e| MailError::Address(format!("mail.reply_to: {e}")))
}

/// `Auto-Submitted: auto-generated` (RFC 3834): no vacation auto-replies.
#[derive(Clone)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// Builds the message `id` of `kind` to `to`, dated `date`.
pub fn compose(
    settings: &MailSettings,
    id: &str,
    kind: &'static str,
    date: DateTime<Utc>,
    to: &EmailAddress,
    rendered: Rendered,
    attachment: Option<FileAttachment>,
) -> Result<Composed, MailError> {
    let from = sender(settings)?;
    let domain = from.email.domain().to_owned();
    let message_id = format!("<{id}@{domain}>");
    let alternative = MultiPart::alternative()
        .boundary(format!("alt-{id}"))
        .singlepart(SinglePart::plain(rendered.text))
        .singlepart(SinglePart::html(rendered.html));
    let body = match attachment {
        None => alternative,
        Some(file) => {
            let content_type = ContentType::parse(file.content_type)
                .map_err(|e| MailError::Build(format!("content type {}: {e}", file.content_type)))?;
            MultiPart::mixed()
                .boundary(format!("mixed-{id}"))
                .multipart(alternative)
                .singlepart(Attachment::new(file.filename).body(file.bytes, content_type))
        }
    };
    let mut message = Message::builder()
        .from(from)
        .reply_to(reply_to(settings)?)
        .to(Mailbox::new(None, to.lettre().clone()))
        .subject(rendered.subject.clone())
        .date(SystemTime::from(date))
        .message_id(Some(message_id.clone()))
        .header(AutoSubmitted)
        .multipart(body)
        .map_err(|e| MailError::Build(e.to_string()))?;
    if let Some(dkim) = super::dkim::config(settings, &domain)? {
        message.sign(&dkim);
    }
    Ok(Composed {
        id: id.to_owned(),
        kind,
        subject: rendered.subject,
        to: to.clone(),
        message_id,
        bytes: message.formatted(),
    })
}
