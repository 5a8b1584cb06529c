//! The report's signature: PAdES baseline B-B (ETSI EN 319 142-1).
//!
//! [`sign_pdf`] appends an incremental update to the unsigned PDF (whose
//! bytes stay as they are) with an invisible signature field on page 1 and a
//! `/Type /Sig` dictionary whose `/Contents` holds a detached CMS
//! `SignedData` over everything but itself (`/SubFilter
//! /ETSI.CAdES.detached`). The same bytes, key and time give the same output.
//!
//! [`extract_signature`] and [`verify_cms`] read such a file back: the
//! signed byte ranges, whether they cover the whole file, the message digest,
//! the signature and the chain to a trusted root.

mod cms;

use crate::pdf::render::{Fonts, RenderError, render_pdf};
use crate::pdf::signature::{self as pdf, PlaceError};
use crate::report::data::ReportData;

pub(crate) use cms::{CmsFindings, container_changes, expected_container, inspect as inspect_cms, verify_chain};

use chrono::{DateTime, Utc};
use der::Decode;
use lopdf::{Dictionary, Document, Object};

pub use cms::{ContainerChange, VerifiedSignature};

use crate::keys::{KeyAlgorithm, KeyError, Signer};

/// Bytes reserved for the CMS signature: about 1.3 KB is used with two
/// certificates; the rest leaves room for longer chains (and, later,
/// timestamps).
pub const DEFAULT_CONTENTS_SIZE: usize = 8192;

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("cannot sign this PDF: {0}")]
    Pdf(crate::pdf::PdfError),
    #[error("cannot sign an encrypted PDF")]
    Encrypted,
    #[error("the PDF has no pages")]
    NoPages,
    #[error("the signature needs {needed} bytes but only {reserved} are reserved")]
    SignatureTooLarge { needed: usize, reserved: usize },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("rendering the PDF failed: {0}")]
    Render(#[from] RenderError),
    #[error("encoding the signature: {0}")]
    Asn1(#[from] der::Error),
}

impl From<PlaceError> for SignError {
    fn from(e: PlaceError) -> Self {
        match e {
            PlaceError::Pdf(e) => SignError::Pdf(e),
            PlaceError::Encrypted => SignError::Encrypted,
            PlaceError::NoPages => SignError::NoPages,
            PlaceError::SignatureTooLarge { needed, reserved } => SignError::SignatureTooLarge { needed, reserved },
        }
    }
}

/// What a check of a signed PDF found wrong; each names one thing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("not a PDF")]
    NotPdf,
    #[error("the PDF cannot be read: {0}")]
    Malformed(String),
    #[error("the PDF has no signature")]
    NoSignature,
    #[error("the signature's byte range is invalid: {0}")]
    BadByteRange(String),
    #[error("the signature is malformed: {0}")]
    MalformedSignature(String),
    #[error("unsupported signature algorithm: {0}")]
    UnsupportedAlgorithm(String),
    #[error("the signed bytes were changed after signing")]
    DigestMismatch,
    #[error("the signature does not verify with the signer's key")]
    BadSignature,
    #[error("the signing certificate is not trusted: {0}")]
    UntrustedCertificate(String),
}

/// The entries of the signature dictionary besides the signature itself.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// `/Name`: who signed.
    pub name: String,
    /// `/Reason`.
    pub reason: String,
    /// `/Location`, if any.
    pub location: Option<String>,
    /// `/ContactInfo`, if any (e.g. the verification URL).
    pub contact_info: Option<String>,
    /// Bytes reserved in `/Contents` for the DER signature.
    pub contents_size: usize,
}

impl Default for SignOptions {
    fn default() -> Self {
        SignOptions {
            name: "standing".to_string(),
            reason: "Proof of financial standing".to_string(),
            location: None,
            contact_info: None,
            contents_size: DEFAULT_CONTENTS_SIZE,
        }
    }
}

/// Signs `unsigned` (any PDF with a classic cross-reference table or
/// cross-reference streams, not encrypted) with `signer`, recording
/// `signing_time` as the signature dictionary's `/M`.
///
/// With an Ed25519 key the new catalog revision declares PDF 2.0 and the
/// ISO/TS 32002 extension, as EdDSA in PDF requires.
#[tracing::instrument(skip_all, fields(kid = signer.kid(), bytes = unsigned.len()))]
pub fn sign_pdf(
    unsigned: &[u8],
    signer: &Signer,
    signing_time: DateTime<Utc>,
    options: &SignOptions,
) -> Result<Vec<u8>, SignError> {
    let fields = pdf::SigFields {
        name: &options.name,
        reason: &options.reason,
        location: options.location.as_deref(),
        contact_info: options.contact_info.as_deref(),
        signing_time,
        declare_iso32002: signer.algorithm() == KeyAlgorithm::Ed25519,
        contents_size: options.contents_size,
    };
    let prepared = pdf::prepare(unsigned, &fields)?;
    let cms = cms::signed_data(signer, &prepared.signed_parts())?;
    Ok(prepared.finish(&cms)?)
}

/// A signature found in a PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedParts {
    /// `/ByteRange`: `[0, a, b, c]` signs bytes `0..a` and `b..b+c`.
    pub byte_range: [usize; 4],
    /// The DER `ContentInfo` from `/Contents`, without the zero padding.
    pub cms_der: Vec<u8>,
    /// The signed ranges reach the end of the file: nothing was appended.
    pub covers_whole_file: bool,
    /// `/SubFilter`, e.g. `ETSI.CAdES.detached`.
    pub sub_filter: Option<String>,
    /// `/M` as written, e.g. `D:20261121093000Z`.
    pub signing_time: Option<String>,
}

impl SignedParts {
    /// The two signed byte ranges of `pdf`.
    pub fn signed_bytes<'a>(&self, pdf: &'a [u8]) -> Result<[&'a [u8]; 2], VerifyError> {
        let [a, b, c, d] = self.byte_range;
        let first = pdf.get(a..a + b).ok_or_else(|| VerifyError::BadByteRange("outside the file".into()))?;
        let second = pdf.get(c..c + d).ok_or_else(|| VerifyError::BadByteRange("outside the file".into()))?;
        Ok([first, second])
    }
}

/// Finds the last signature of `pdf` (the one whose byte range reaches
/// furthest) and checks that its byte range frames exactly its `/Contents`.
pub fn extract_signature(pdf: &[u8]) -> Result<SignedParts, VerifyError> {
    if !pdf.get(..1024.min(pdf.len())).is_some_and(|head| head.windows(5).any(|w| w == b"%PDF-")) {
        return Err(VerifyError::NotPdf);
    }
    let doc = Document::load_mem(pdf).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    let mut best: Option<([usize; 4], &Dictionary)> = None;
    for object in doc.objects.values() {
        let Ok(dict) = object.as_dict() else { continue };
        // The signature dictionary itself, or a field holding it directly.
        let candidates = [Some(dict), dict.get(b"V").ok().and_then(|v| v.as_dict().ok())];
        for sig in candidates.into_iter().flatten() {
            if !sig.get(b"Type").and_then(Object::as_name).is_ok_and(|t| t == b"Sig") {
                continue;
            }
            let range = byte_range(sig)?;
            if best.is_none_or(|(r, _)| r[2] + r[3] < range[2] + range[3]) {
                best = Some((range, sig));
            }
        }
    }
    let (range, sig) = best.ok_or(VerifyError::NoSignature)?;
    let [a, b, c, d] = range;
    if a != 0 || b >= c || c.checked_add(d).is_none_or(|end| end > pdf.len()) {
        return Err(VerifyError::BadByteRange(format!("{range:?} does not fit a file of {} bytes", pdf.len())));
    }
    let gap = &pdf[b..c];
    let hex = match gap {
        [b'<', hex @ .., b'>'] => hex,
        _ => return Err(VerifyError::BadByteRange("the unsigned gap is not the /Contents hex string".into())),
    };
    let raw = hex::decode(hex).map_err(|_| VerifyError::BadByteRange("the unsigned gap is not hexadecimal".into()))?;
    let contents = sig.get(b"Contents").and_then(Object::as_str).map_err(|_| VerifyError::NoSignature)?;
    if raw != contents {
        return Err(VerifyError::BadByteRange("the unsigned gap is not this signature's /Contents".into()));
    }
    let (_, rest) = der::AnyRef::from_der_partial(contents)
        .map_err(|e| VerifyError::MalformedSignature(format!("/Contents is not DER: {e}")))?;
    if rest.iter().any(|&byte| byte != 0) {
        return Err(VerifyError::MalformedSignature("data after the signature in /Contents".into()));
    }
    let cms_der = contents[..contents.len() - rest.len()].to_vec();
    let name =
        |key: &[u8]| sig.get(key).and_then(Object::as_name).ok().map(|n| String::from_utf8_lossy(n).into_owned());
    let string =
        |key: &[u8]| sig.get(key).and_then(Object::as_str).ok().map(|s| String::from_utf8_lossy(s).into_owned());
    Ok(SignedParts {
        byte_range: range,
        cms_der,
        covers_whole_file: c + d == pdf.len(),
        sub_filter: name(b"SubFilter"),
        signing_time: string(b"M"),
    })
}

fn byte_range(sig: &Dictionary) -> Result<[usize; 4], VerifyError> {
    let bad = || VerifyError::BadByteRange("/ByteRange is not four non-negative integers".into());
    let items = sig.get(b"ByteRange").and_then(Object::as_array).map_err(|_| bad())?;
    let numbers: Vec<usize> = items
        .iter()
        .map(|o| o.as_i64().ok().and_then(|n| usize::try_from(n).ok()))
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    numbers.try_into().map_err(|_| bad())
}

/// Checks the CMS signature of `parts` over `pdf`: the message digest of the
/// signed ranges, the signature with the embedded signing certificate, and
/// that the certificate was issued by `root_der` (directly or through
/// certificates embedded in the signature). It does not decide whether a
/// signature that leaves part of the file unsigned is acceptable: look at
/// [`SignedParts::covers_whole_file`].
pub fn verify_cms(pdf: &[u8], parts: &SignedParts, root_der: &[u8]) -> Result<VerifiedSignature, VerifyError> {
    let signed = parts.signed_bytes(pdf)?;
    cms::verify(&parts.cms_der, &signed, root_der)
}

/// Renders `data` and signs it: the part of issuing that needs no database.
pub fn render_and_sign(
    data: &ReportData,
    signer: &Signer,
    signing_time: DateTime<Utc>,
    issuer_name: &str,
) -> Result<Vec<u8>, SignError> {
    let unsigned = render_pdf(data, Fonts::embedded()?)?;
    let options = SignOptions {
        name: issuer_name.to_owned(),
        reason: format!("Proof of financial standing {}", data.report_number),
        contact_info: Some(data.verification_url.clone()),
        ..SignOptions::default()
    };
    sign_pdf(&unsigned, signer, signing_time, &options)
}

#[cfg(test)]
mod tests;
