//! The PDF side of a signature: an incremental update (ISO 32000-2 7.5.6)
//! appended to the original bytes, which stay untouched, holding
//!
//! - a new revision of the catalog with an `/AcroForm` (`/SigFlags 3`) that
//!   lists the signature field (and, for Ed25519, PDF 2.0 and the ISO/TS
//!   32002 developer extension),
//! - a new revision of page 1 whose `/Annots` include the field's widget,
//! - the field merged with its widget: invisible (`/Rect [0 0 0 0]`), `/F 132`
//!   (print + locked),
//! - the `/Type /Sig` dictionary with a fixed-width `/ByteRange` slot and a
//!   zero-filled `/Contents` placeholder,
//! - a cross-reference section of the same kind as the original's (table or
//!   stream) with `/Prev` pointing at the original one.
//!
//! The objects are written here rather than by lopdf's writer so the offsets
//! of the two placeholders are known exactly; lopdf parses the original and
//! serialises the dictionaries that are copied and changed.

use std::collections::BTreeSet;
use std::io::Write;
use std::ops::Range;

use chrono::{DateTime, Utc};
use lopdf::xref::XrefType;
use lopdf::{Dictionary, Document, Object, ObjectId, StringFormat};
use sha2::{Digest, Sha256};

use super::PdfError;

/// Why a signature could not be placed in a PDF.
#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error("{0}")]
    Pdf(PdfError),
    #[error("the PDF is encrypted")]
    Encrypted,
    #[error("the PDF has no pages")]
    NoPages,
    #[error("the signature needs {needed} bytes but only {reserved} are reserved")]
    SignatureTooLarge { needed: usize, reserved: usize },
}

/// Room for `[0 a b c]` with offsets of up to 19 digits.
const BYTE_RANGE_WIDTH: usize = 80;

/// What goes into the signature dictionary.
pub(crate) struct SigFields<'a> {
    pub name: &'a str,
    pub reason: &'a str,
    pub location: Option<&'a str>,
    pub contact_info: Option<&'a str>,
    pub signing_time: DateTime<Utc>,
    /// Declare PDF 2.0 and ISO/TS 32002 (EdDSA) in the catalog.
    pub declare_iso32002: bool,
    /// Bytes reserved for the DER signature (twice as many hex digits).
    pub contents_size: usize,
}

/// The signed file except for the signature value.
pub(crate) struct Prepared {
    bytes: Vec<u8>,
    /// From the `<` to just past the `>` of `/Contents`.
    contents: Range<usize>,
}

impl Prepared {
    /// `/ByteRange`: everything but the `/Contents` hex string.
    pub fn byte_range(&self) -> [usize; 4] {
        [0, self.contents.start, self.contents.end, self.bytes.len() - self.contents.end]
    }

    /// The two signed byte ranges.
    pub fn signed_parts(&self) -> [&[u8]; 2] {
        [&self.bytes[..self.contents.start], &self.bytes[self.contents.end..]]
    }

    /// Writes the DER signature as hex into `/Contents`; the rest stays `0`.
    pub fn finish(mut self, cms_der: &[u8]) -> Result<Vec<u8>, PlaceError> {
        let reserved = (self.contents.len() - 2) / 2;
        if cms_der.len() > reserved {
            return Err(PlaceError::SignatureTooLarge { needed: cms_der.len(), reserved });
        }
        let hex = hex::encode_upper(cms_der);
        let start = self.contents.start + 1;
        self.bytes[start..start + hex.len()].copy_from_slice(hex.as_bytes());
        Ok(self.bytes)
    }
}

fn pdf_error(what: impl std::fmt::Display) -> PlaceError {
    PlaceError::Pdf(super::pdf_error(what))
}

/// Appends the signature's incremental update to `original` and fills in
/// `/ByteRange`; `/Contents` is left as zeros.
pub(crate) fn prepare(original: &[u8], fields: &SigFields<'_>) -> Result<Prepared, PlaceError> {
    if fields.contents_size == 0 {
        return Err(PlaceError::SignatureTooLarge { needed: 1, reserved: 0 });
    }
    let doc = Document::load_mem(original).map_err(pdf_error)?;
    if doc.trailer.has(b"Encrypt") || doc.encryption_state.is_some() {
        return Err(PlaceError::Encrypted);
    }
    if doc.xref_recovery.is_some() || doc.xref_start == 0 {
        return Err(pdf_error("the cross-reference data is damaged; refusing to append to it"));
    }
    let root_id = doc.trailer.get(b"Root").and_then(Object::as_reference).map_err(|_| pdf_error("no /Root"))?;
    let mut catalog = doc.get_dictionary(root_id).map_err(pdf_error)?.clone();
    let page_id = *doc.get_pages().values().next().ok_or(PlaceError::NoPages)?;
    let mut page = doc.get_dictionary(page_id).map_err(pdf_error)?.clone();

    let size_in_trailer = doc.trailer.get(b"Size").and_then(Object::as_i64).unwrap_or(0);
    let first_new = u32::try_from(size_in_trailer).unwrap_or(0).max(doc.max_id.saturating_add(1));
    let widget_id: ObjectId = (first_new, 0);
    let sig_id: ObjectId = (first_new + 1, 0);
    let xref_stream_id = first_new + 2;

    // Page 1 lists the widget.
    let mut annots = match page.get(b"Annots") {
        Ok(obj) => deref(&doc, obj)?.as_array().map_err(|_| pdf_error("page /Annots is not an array"))?.clone(),
        Err(_) => Vec::new(),
    };
    annots.push(Object::Reference(widget_id));
    page.set("Annots", Object::Array(annots));

    // The catalog's AcroForm lists the field and says the file holds signatures.
    let mut form = match catalog.get(b"AcroForm") {
        Ok(obj) => deref(&doc, obj)?.as_dict().map_err(|_| pdf_error("/AcroForm is not a dictionary"))?.clone(),
        Err(_) => Dictionary::new(),
    };
    let mut form_fields = match form.get(b"Fields") {
        Ok(obj) => deref(&doc, obj)?.as_array().map_err(|_| pdf_error("/Fields is not an array"))?.clone(),
        Err(_) => Vec::new(),
    };
    let taken: BTreeSet<Vec<u8>> = form_fields
        .iter()
        .filter_map(|f| deref(&doc, f).ok()?.as_dict().ok()?.get(b"T").ok()?.as_str().ok().map(<[u8]>::to_vec))
        .collect();
    let field_name = (1..)
        .map(|n| format!("Signature{n}"))
        .find(|n| !taken.contains(n.as_bytes()))
        .unwrap_or_else(|| "Signature".to_string());
    form_fields.push(Object::Reference(widget_id));
    form.set("Fields", Object::Array(form_fields));
    let flags = form.get(b"SigFlags").and_then(Object::as_i64).unwrap_or(0);
    form.set("SigFlags", Object::Integer(flags | 3));
    catalog.set("AcroForm", Object::Dictionary(form));

    if fields.declare_iso32002 {
        declare_iso32002(&doc, &mut catalog)?;
    }

    let mut widget = Dictionary::new();
    widget.set("Type", Object::Name(b"Annot".to_vec()));
    widget.set("Subtype", Object::Name(b"Widget".to_vec()));
    widget.set("FT", Object::Name(b"Sig".to_vec()));
    widget.set("T", Object::String(field_name.into_bytes(), StringFormat::Literal));
    widget.set("V", Object::Reference(sig_id));
    widget.set("F", Object::Integer(132));
    widget.set("Rect", Object::Array(vec![0.into(), 0.into(), 0.into(), 0.into()]));
    widget.set("P", Object::Reference(page_id));

    // Write the update.
    let mut out = Vec::with_capacity(original.len() + 2 * fields.contents_size + 4096);
    out.extend_from_slice(original);
    if !matches!(out.last(), Some(b'\n' | b'\r')) {
        out.push(b'\n');
    }
    let mut offsets: Vec<(ObjectId, usize)> = Vec::new();
    for (id, object) in [
        (root_id, Object::Dictionary(catalog)),
        (page_id, Object::Dictionary(page)),
        (widget_id, Object::Dictionary(widget)),
    ] {
        offsets.push((id, out.len()));
        writeln!(out, "{} {} obj", id.0, id.1).map_err(pdf_error)?;
        lopdf::Writer::write_object(&mut out, &object).map_err(pdf_error)?;
        out.extend_from_slice(b"\nendobj\n");
    }

    offsets.push((sig_id, out.len()));
    write!(out, "{} 0 obj\n<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached", sig_id.0)
        .map_err(pdf_error)?;
    let mut entry = |key: &[u8], value: Object| -> Result<(), PlaceError> {
        out.extend_from_slice(key);
        lopdf::Writer::write_object(&mut out, &value).map_err(pdf_error)
    };
    entry(b"/M", Object::String(pdf_date(fields.signing_time).into_bytes(), StringFormat::Literal))?;
    entry(b"/Name", text_string(fields.name))?;
    entry(b"/Reason", text_string(fields.reason))?;
    if let Some(location) = fields.location {
        entry(b"/Location", text_string(location))?;
    }
    if let Some(contact) = fields.contact_info {
        entry(b"/ContactInfo", text_string(contact))?;
    }
    out.extend_from_slice(b"/ByteRange[");
    let byte_range_slot = out.len()..out.len() + BYTE_RANGE_WIDTH;
    out.resize(byte_range_slot.end, b' ');
    out.extend_from_slice(b"]/Contents");
    let contents_start = out.len();
    out.push(b'<');
    out.resize(out.len() + 2 * fields.contents_size, b'0');
    out.push(b'>');
    let contents = contents_start..out.len();
    out.extend_from_slice(b">>\nendobj\n");

    let mut trailer = Dictionary::new();
    for key in [&b"Root"[..], b"Info"] {
        if let Ok(value) = doc.trailer.get(key) {
            trailer.set(key, value.clone());
        }
    }
    let id = match doc.trailer.get(b"ID") {
        Ok(id) => id.clone(),
        // Required in PDF 2.0; derived from the original bytes so it is reproducible.
        Err(_) => {
            let h = Sha256::digest(original)[..16].to_vec();
            Object::Array(vec![
                Object::String(h.clone(), StringFormat::Hexadecimal),
                Object::String(h, StringFormat::Hexadecimal),
            ])
        }
    };
    trailer.set("ID", id);
    trailer.set("Prev", Object::Integer(i64::try_from(doc.xref_start).map_err(pdf_error)?));

    match doc.reference_table.cross_reference_type {
        XrefType::CrossReferenceTable => write_xref_table(&mut out, offsets, trailer, xref_stream_id)?,
        XrefType::CrossReferenceStream => write_xref_stream(&mut out, offsets, trailer, xref_stream_id)?,
    }

    let mut prepared = Prepared { bytes: out, contents };
    let [a, b, c, d] = prepared.byte_range();
    let text = format!("{a} {b} {c} {d}");
    if text.len() > BYTE_RANGE_WIDTH {
        return Err(pdf_error("file too large"));
    }
    prepared.bytes[byte_range_slot.start..byte_range_slot.start + text.len()].copy_from_slice(text.as_bytes());
    Ok(prepared)
}

fn deref<'a>(doc: &'a Document, obj: &'a Object) -> Result<&'a Object, PlaceError> {
    doc.dereference(obj).map(|(_, o)| o).map_err(pdf_error)
}

/// `/Version /2.0` and `/Extensions << /ISO_ [<< ... /ExtensionLevel 32002 ... >>] >>`
/// as pyHanko writes them (ISO 32000-2 7.12, ISO/TS 32002 Table 1; multivalued).
fn declare_iso32002(doc: &Document, catalog: &mut Dictionary) -> Result<(), PlaceError> {
    catalog.set("Version", Object::Name(b"2.0".to_vec()));
    let mut extensions = match catalog.get(b"Extensions") {
        Ok(obj) => deref(doc, obj)?.as_dict().map_err(|_| pdf_error("/Extensions is not a dictionary"))?.clone(),
        Err(_) => Dictionary::new(),
    };
    let mut iso: Vec<Object> = match extensions.get(b"ISO_") {
        Ok(obj) => match deref(doc, obj)? {
            Object::Array(items) => items.clone(),
            other => vec![other.clone()],
        },
        Err(_) => Vec::new(),
    };
    let present = iso.iter().any(|e| {
        deref(doc, e)
            .ok()
            .and_then(|o| o.as_dict().ok())
            .and_then(|d| d.get(b"ExtensionLevel").ok())
            .and_then(|l| l.as_i64().ok())
            == Some(32002)
    });
    if !present {
        let mut ext = Dictionary::new();
        ext.set("Type", Object::Name(b"DeveloperExtensions".to_vec()));
        ext.set("BaseVersion", Object::Name(b"2.0".to_vec()));
        ext.set("ExtensionLevel", Object::Integer(32002));
        ext.set("ExtensionRevision", Object::String(b":2022".to_vec(), StringFormat::Literal));
        ext.set("URL", Object::String(b"https://www.iso.org/standard/45875.html".to_vec(), StringFormat::Literal));
        iso.push(Object::Dictionary(ext));
    }
    extensions.set("ISO_", Object::Array(iso));
    catalog.set("Extensions", Object::Dictionary(extensions));
    Ok(())
}

/// `D:YYYYMMDDHHmmSSZ` (ISO 32000-2 7.9.4), UTC.
fn pdf_date(at: DateTime<Utc>) -> String {
    at.format("D:%Y%m%d%H%M%SZ").to_string()
}

/// A PDF text string: printable ASCII as a literal, anything else UTF-16BE
/// with a byte order mark.
/// [`crate::pdf::text_string`] as lopdf 0.47 writes it.
fn text_string(s: &str) -> Object {
    let t = crate::pdf::text_string(s);
    Object::String(t.bytes, if t.literal { StringFormat::Literal } else { StringFormat::Hexadecimal })
}

/// Consecutive object numbers as `(first, count)` runs, sorted.
fn runs(ids: &[u32]) -> Vec<(u32, u32)> {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &id in ids {
        match runs.last_mut() {
            Some((first, count)) if *first + *count == id => *count += 1,
            _ => runs.push((id, 1)),
        }
    }
    runs
}

fn write_xref_table(
    out: &mut Vec<u8>,
    mut offsets: Vec<(ObjectId, usize)>,
    mut trailer: Dictionary,
    size: u32,
) -> Result<(), PlaceError> {
    offsets.sort();
    let xref_at = out.len();
    out.extend_from_slice(b"xref\n");
    let ids: Vec<u32> = offsets.iter().map(|((id, _), _)| *id).collect();
    let mut entries = offsets.iter();
    for (first, count) in runs(&ids) {
        writeln!(out, "{first} {count}").map_err(pdf_error)?;
        for ((_, generation), offset) in entries.by_ref().take(count as usize) {
            // Each entry is exactly 20 bytes, ending in CR LF.
            write!(out, "{offset:010} {generation:05} n\r\n").map_err(pdf_error)?;
        }
    }
    trailer.set("Size", Object::Integer(i64::from(size)));
    out.extend_from_slice(b"trailer\n");
    lopdf::Writer::write_object(out, &Object::Dictionary(trailer)).map_err(pdf_error)?;
    write!(out, "\nstartxref\n{xref_at}\n%%EOF\n").map_err(pdf_error)?;
    Ok(())
}

fn write_xref_stream(
    out: &mut Vec<u8>,
    mut offsets: Vec<(ObjectId, usize)>,
    mut trailer: Dictionary,
    stream_id: u32,
) -> Result<(), PlaceError> {
    let xref_at = out.len();
    offsets.push(((stream_id, 0), xref_at));
    offsets.sort();
    let mut data = Vec::with_capacity(offsets.len() * 7);
    for ((_, generation), offset) in &offsets {
        let offset = u32::try_from(*offset).map_err(|_| pdf_error("file too large for this cross-reference stream"))?;
        data.push(1u8);
        data.extend_from_slice(&offset.to_be_bytes());
        data.extend_from_slice(&generation.to_be_bytes());
    }
    let ids: Vec<u32> = offsets.iter().map(|((id, _), _)| *id).collect();
    let index: Vec<Object> =
        runs(&ids).into_iter().flat_map(|(f, c)| [Object::Integer(f.into()), Object::Integer(c.into())]).collect();
    trailer.set("Type", Object::Name(b"XRef".to_vec()));
    trailer.set("Size", Object::Integer(i64::from(stream_id) + 1));
    trailer.set("W", Object::Array(vec![1.into(), 4.into(), 2.into()]));
    trailer.set("Index", Object::Array(index));
    trailer.set("Length", Object::Integer(i64::try_from(data.len()).map_err(pdf_error)?));
    writeln!(out, "{stream_id} 0 obj").map_err(pdf_error)?;
    lopdf::Writer::write_object(out, &Object::Dictionary(trailer)).map_err(pdf_error)?;
    out.extend_from_slice(b"\nstream\n");
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    write!(out, "startxref\n{xref_at}\n%%EOF\n").map_err(pdf_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_strings_and_runs() {
        assert_eq!(pdf_date(Utc.with_ymd_and_hms(2026, 11, 21, 9, 30, 5).unwrap()), "D:20261121093005Z");
        assert_eq!(text_string("ZHANG Wei"), Object::String(b"ZHANG Wei".to_vec(), StringFormat::Literal));
        assert_eq!(
            text_string("张"),
            Object::String(vec![0xFE, 0xFF, 0x5F, 0x20], StringFormat::Hexadecimal),
            "UTF-16BE with BOM"
        );
        assert_eq!(runs(&[3, 4, 7, 8, 9, 12]), vec![(3, 2), (7, 3), (12, 1)]);
    }
}
