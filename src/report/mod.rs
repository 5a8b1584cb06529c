//! The report: gathered data, the PDF, and its signature.

pub mod sign;
