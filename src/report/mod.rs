//! The report: gathered data, the PDF, and its signature.
//!
//! - [`build`]: score the account and gather what the report attests.
//! - [`data`]: the shape of that data (also `report.json` in the PDF).
//! - [`render`]: the PDF itself (printpdf, embedded fonts, QR code).
//! - [`sign`]: the PAdES signature, added as an incremental update.
//! - `subset`: font subsets that keep glyph ids, for the PDF's fonts.
//! - [`issue`]: the whole pipeline, from account to signed bytes.
//! - [`registry`]: every issued report, its state (valid, revoked,
//!   superseded), its sealed JSON and PDF; revoke and reissue.
//! - [`verify`]: checking an uploaded PDF, offline or against the registry.

pub mod build;
pub mod data;
pub mod issue;
pub mod registry;
pub mod render;
pub mod sample;
pub mod sign;
mod subset;
#[cfg(test)]
mod tools;
pub mod verify;
