//! What a report attests: its data, gathered from the store.
//!
//! - [`build`]: score the account and gather what the report attests.
//! - [`data`]: the shape of that data (also `report.json` in the PDF).
//! - [`sample`]: a fixed report for tests, benches and the README picture.
//!
//! The PDF bytes are [`crate::pdf`]'s, the signature [`crate::signing`]'s,
//! issuing and the issued reports
//! [`crate::registry`]'s, and checking a report
//! [`crate::verify`]'s.

pub mod build;
pub mod data;
pub mod sample;
