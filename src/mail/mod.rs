//! Email that loses nothing: messages are composed, sealed and queued in an
//! outbox row **in the same database transaction** as the event that causes
//! them (a report recorded, revoked or reissued; an operator's resend), then
//! sent by a [`Worker`] that claims them with a lease.
//!
//! - [`templates`]: the words (askama; subject, text and HTML per message).
//! - [`compose`]: the MIME message, with our own Message-ID
//!   `<{outbox id}@{sender's domain}>`, so every attempt of one message
//!   carries the same id and a receiver can drop a duplicate.
//! - [`outbox`]: queueing (recipient and message sealed), listing, retry.
//! - [`dkim`]: optional DKIM signing with the operator's key.
//! - [`transport`]: lettre's file transport (the embedded default) or SMTP.
//! - [`worker`]: claims, sends, records; backs off on transient failures,
//!   gives up on permanent ones; woken by new mail (in-process, and on
//!   PostgreSQL by `LISTEN/NOTIFY` from any instance).
//! - [`notices`]: the service's messages (report issued, reissued, revoked,
//!   …) built from what the registry holds.

pub mod address;
pub mod compose;
pub mod dkim;
pub mod notices;
pub mod notify;
pub mod outbox;
pub mod templates;
pub mod transport;
pub mod worker;

pub use address::EmailAddress;
pub use outbox::{Outbox, QueuedMail};
pub use transport::Mailer;
pub use worker::{PassSummary, Worker};

/// What can go wrong before a message is queued.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("rendering the message failed: {0}")]
    Template(#[from] askama::Error),
    #[error("building the message failed: {0}")]
    Build(String),
    #[error("{0}")]
    Address(String),
    #[error("the stored report cannot be read: {0}")]
    Report(String),
    #[error("mail storage failed")]
    Store(#[from] crate::store::StoreError),
    #[error("a sealed message does not open (wrong master key, or the row was tampered with)")]
    Sealed,
}

#[cfg(test)]
mod tests;
