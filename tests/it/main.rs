//! The integration tests: one binary, so the crate links once.
//!
//! Every test gets a fresh database: a new SQLite file by default, or a new
//! PostgreSQL database on the server `TEST_DATABASE_URL` names.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod browser;
mod cli;
mod cli_output;
mod figures;
mod helpers;
mod http;
mod import;
mod journey;
mod mail;
mod registry;
mod report;
mod report_kill;
mod report_pdf;
mod scoring;
mod store;
mod tools;
mod verify;
mod verify_http;
