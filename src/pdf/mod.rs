//! Everything that reads or writes PDF bytes, and nothing else.
//!
//! - [`render`]: the report's PDF, from [`crate::report::data::ReportData`]
//!   (printpdf, embedded font subsets, the QR code, the attached
//!   `report.json`).
//! - `subset`: font subsets that keep glyph ids.
//! - [`signature`]: the incremental update that carries a signature (its
//!   dictionary, the `/ByteRange` and the reserved `/Contents`); the CMS
//!   inside it is [`crate::signing`]'s.
//! - [`scan`]: a small, bounded reader that finds the signature
//!   dictionaries and the attached files of any input, for verification.

pub mod render;
pub mod scan;
pub mod signature;
mod subset;
