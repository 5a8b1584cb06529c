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

/// A PDF could not be read or written: the message of the layer that
/// failed (printpdf, lopdf). One type for every layer here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PdfError(pub String);

/// Wraps any layer's error as a [`PdfError`].
pub(crate) fn pdf_error(e: impl std::fmt::Display) -> PdfError {
    PdfError(e.to_string())
}

/// A text string for a PDF dictionary (ISO 32000-1, 7.9.2.2), as bytes and
/// how to write them: printable ASCII as a literal string, anything else
/// (accents, CJK, control characters) as UTF-16BE with its byte order mark,
/// written in hex. Both lopdf versions here wrap it in their own `Object`.
pub(crate) struct TextString {
    pub bytes: Vec<u8>,
    /// Write as a literal `( … )` string; otherwise as hex `< … >`.
    pub literal: bool,
}

pub(crate) fn text_string(s: &str) -> TextString {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return TextString { bytes: s.as_bytes().to_vec(), literal: true };
    }
    let mut bytes = vec![0xFE, 0xFF];
    for unit in s.encode_utf16() {
        bytes.extend_from_slice(&unit.to_be_bytes());
    }
    TextString { bytes, literal: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_strings_are_literal_only_for_printable_ascii() {
        let t = text_string("Proof of Financial Standing SR-KYYF-9TKJ-6Q8Q");
        assert!(t.literal);
        assert_eq!(t.bytes, b"Proof of Financial Standing SR-KYYF-9TKJ-6Q8Q");
        let t = text_string("Zoë");
        assert!(!t.literal);
        assert_eq!(t.bytes, [0xFE, 0xFF, 0, b'Z', 0, b'o', 0, 0xEB]);
        assert!(!text_string("tab\there").literal, "a control character is not written literally");
    }
}
