//! # standing — signed proof-of-financial-standing reports
//!
//! A tour of the crate, in the order data flows through it:
//!
//! - [`config`]: typed settings with working defaults, a TOML file and
//!   `STANDING_*` environment variables.
//! - [`domain`]: plain checked types — money, currencies, identifiers and the
//!   financial records (accounts, transactions, balances, bills, FX rates).
//! - [`fx`]: currency conversion as of a date, keeping the rates used.
//! - [`crypto`]: the master key, field encryption (AES-256-GCM) and keyed
//!   blind indexes for personal data at rest.
//! - [`import`]: `standing import` — JSON Lines from the operator's systems,
//!   validated line by line and loaded all-or-nothing.
//! - [`scoring`]: the scorecard (`scorecard-v2`, 350..=950) and the
//!   eligibility decision with its reasons; pure, reproducible by hand.
//! - [`store`]: the only place with SQL — one contract, a SQLite and a
//!   PostgreSQL implementation, each with its own migrations.
//! - [`demo`]: the deterministic generator behind `fixtures/demo`.
//! - [`keys`]: signing keys and certificates — the service's root, sealed
//!   keys under `var/keys/`, operator-supplied chains, JWK and `kid`.
//! - [`report`]: the report — its PAdES signature ([`report::sign`]) and
//!   its verification ([`report::verify`]).
//! - [`web`]: the axum application — routes, request ids, errors.
//! - [`app`]: builds the application from settings and runs it until stopped.
//! - [`clock`]: time passed in, so tests and reports are reproducible.

pub mod app;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod domain;
pub mod fx;
pub mod import;
pub mod keys;
pub mod pdf;
pub mod registry;
pub mod report;
pub mod scoring;
pub mod signing;
pub mod store;
#[cfg(test)]
mod tools;
pub mod verify;
pub mod web;
