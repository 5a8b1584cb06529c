//! # standing — signed proof-of-financial-standing reports
//!
//! A tour of the crate, in the order data flows through it. Each module
//! uses only those above it (`web` and `app` sit on top; nothing imports
//! them), so a newcomer can read top to bottom.
//!
//! Foundations, used everywhere:
//!
//! - [`domain`]: plain checked types — money, currencies, identifiers, the
//!   financial records, the signature algorithms.
//! - [`clock`]: time passed in, so tests and reports are reproducible.
//! - [`config`]: typed settings with working defaults, a TOML file and
//!   `STANDING_*` environment variables.
//! - [`crypto`]: the master key, field encryption (AES-256-GCM) and keyed
//!   blind indexes for personal data at rest.
//! - [`store`]: the only place with SQL — one contract, a SQLite and a
//!   PostgreSQL implementation, each with its own migrations.
//!
//! From the operator's data to a signed report:
//!
//! - [`import`]: `standing import` — JSON Lines from the operator's systems,
//!   validated line by line and loaded all-or-nothing.
//! - [`fx`]: currency conversion as of a date, keeping the rates used.
//! - [`scoring`]: the scorecard (`scorecard-v2`, 350..=950) and the
//!   eligibility decision with its reasons; pure, reproducible by hand.
//! - [`keys`]: signing keys and certificates — the service's root, sealed
//!   keys under `{data_dir}/keys/`, operator-supplied chains, JWK and `kid`.
//! - [`report`]: what a report attests ([`report::data`]), gathered from the
//!   store ([`report::build`]).
//! - [`pdf`]: every byte of PDF written or read — the rendered report, font
//!   subsets, the signature's incremental update, a bounded reader.
//! - [`signing`]: the PAdES signature — the CMS container, signing a report
//!   and reading a signature back.
//! - [`verify`]: checking a report file — offline against the keys, then
//!   against what the registry says, or a remote service.
//! - [`registry`]: issuing ([`registry::issue`]) and every issued report,
//!   its state (valid, revoked, superseded), its sealed data; revoke,
//!   reissue.
//! - [`files`]: directories private to the service's user.
//! - [`mail`]: email that loses nothing — an outbox written in the
//!   transaction that causes a message, a leased worker, lettre's file and
//!   SMTP transports, the templates.
//! - [`sms`]: text messages (one-time codes) to files or an HTTP gateway.
//! - [`identity`]: the applicant's checks as pure parts — the form, a
//!   passport's machine-readable zone, one-time codes, the identity photos,
//!   vendors' signed webhooks.
//! - [`applications`]: the applicant's journey, one state machine stored in
//!   the database — apply, code, photos, review, the score gate, the report
//!   issued by a leased job.
//! - [`demo`]: the deterministic demo data behind `fixtures/demo` and
//!   `serve --demo`.
//!
//! The people who use it:
//!
//! - [`web`]: the axum application — the applicant's and the officers' pages and the JSON API,
//!   the connection loop, errors, request ids, rate limits; [`web::AppState`]
//!   is what every handler (and every command) holds.
//! - [`app`]: start-up — the state, the keys, the router, a bound listener,
//!   the mail worker.
//!
//! The command line (`src/main.rs`, `src/cli/`) is a thin layer over these.
//! `testing` (hidden from the docs) runs the outside tools that judge our
//! PDFs and an SMTP receiver with fault injection, for the unit and the
//! integration tests alike.
//! The staff console (`staff/`) and the audit log (`audit/`) will each get a
//! module of their own beside `applications`, using the layers above them.

pub mod app;
pub mod applications;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod domain;
pub mod files;
pub mod fx;
pub mod identity;
pub mod import;
pub mod keys;
pub mod mail;
pub mod pdf;
pub mod registry;
pub mod report;
pub mod scoring;
pub mod signing;
pub mod sms;
pub mod store;
#[doc(hidden)]
pub mod testing;
pub mod verify;
pub mod web;
