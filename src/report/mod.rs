//! The report: gathered data, the PDF, and its signature.

pub mod build;
pub mod data;
pub mod issue;
pub mod sign;
