//! The report: gathered data, the PDF, and its signature.

pub mod data;
pub mod render;
pub mod sample;
pub mod sign;
