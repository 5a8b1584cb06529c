//! The offline checks of a file: the signature and every byte around it,
//! the key and its window, the attached `report.json`.

use chrono::{DateTime, TimeZone, Utc};
use der::Decode;

use super::*;

/// How far a signing time may lie ahead of the verifier's clock.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// Whether the signing certificate chains to `root`. A certificate the key
/// ring already checked against these very root bytes (the key directory's
/// keys) is not checked again: for P-256 that check is an ECDSA
/// verification, a third of an upload's time.
pub(super) fn checked_chain(
    key: Option<&PublishedKey>,
    leaf_der: &[u8],
    embedded: &[Vec<u8>],
    root: &[u8],
) -> Result<(), VerifyError> {
    let already = key.is_some_and(|k| k.certificate_der == leaf_der && k.checked_under(root));
    if already { Ok(()) } else { verify_chain(leaf_der, embedded, root) }
}

/// Verifies `pdf` offline against the published `keys`, at `now` (a
/// signature dated after `now` is refused). Never panics, whatever the bytes.
#[tracing::instrument(skip_all, fields(bytes = pdf.len()))]
pub fn verify_pdf(pdf: &[u8], keys: &KeyRing, now: DateTime<Utc>) -> Verification {
    let mut v = Verification::new(pdf);
    check_signature(pdf, keys, now, &mut v);
    read_attachment(pdf, &mut v);
    v.valid = v.problems.is_empty();
    v.not_asked();
    v
}

pub(super) fn check_signature(pdf: &[u8], keys: &KeyRing, now: DateTime<Utc>, v: &mut Verification) {
    if !pdf.starts_with(b"%PDF-") {
        let what = if pdf.is_empty() { "the file is empty".to_string() } else { "the file is not a PDF".to_string() };
        v.fail("pdf", ProblemKind::NotPdf, what);
        return;
    }
    v.pass("pdf", format!("a PDF of {} bytes", pdf.len()));

    let sigs = scan::signature_dictionaries(pdf);
    // The signature that reaches furthest into the file is the one that
    // vouches for the most; later unsigned updates are caught by coverage.
    let Some(sig) = sigs.iter().max_by_key(|s| s.byte_range().and_then(|[_, _, c, d]| c.checked_add(d)).unwrap_or(0))
    else {
        v.fail(
            "signature_present",
            ProblemKind::NoSignature,
            "the PDF has no signature: it was never signed, or its signature dictionary was removed",
        );
        return;
    };
    v.pass("signature_present", "a signature dictionary (/Type /Sig)");
    if let Some(reason) = sig.string(b"Reason") {
        v.report_number = text(reason).split_whitespace().find(|w| w.starts_with("SR-")).map(str::to_owned);
    }
    v.signing_time = sig.string(b"M").and_then(parse_pdf_date);

    let Some([a, b, c, d]) = sig.byte_range() else {
        v.fail(
            "byte_range",
            ProblemKind::ByteRangeInvalid,
            "the signature's /ByteRange is not four non-negative integers",
        );
        return;
    };
    let end = c.saturating_add(d);
    if a != 0 || sig.contents_span.as_ref() != Some(&(b..c)) {
        v.fail(
            "byte_range",
            ProblemKind::ByteRangeInvalid,
            format!("/ByteRange [{a} {b} {c} {d}] does not frame exactly this signature's /Contents: it was altered"),
        );
        return;
    }
    if end > pdf.len() {
        v.fail(
            "byte_range",
            ProblemKind::ByteRangeInvalid,
            format!("the signature covers {end} bytes but the file has {}: it was cut short", pdf.len()),
        );
        return;
    }
    v.pass("byte_range", format!("/ByteRange [{a} {b} {c} {d}] frames the signature"));

    if end < pdf.len() {
        let count = (pdf.len() - end) as u64;
        let tail = pdf.get(end..).unwrap_or_default();
        let update = if memchr::memmem::find(tail, b"startxref").is_some() {
            " (an incremental update, which can change what the document shows)"
        } else {
            ""
        };
        v.fail(
            "whole_file",
            ProblemKind::BytesAppended { count },
            format!("{count} byte{} added after signing{update}", if count == 1 { " was" } else { "s were" }),
        );
    } else {
        v.pass("whole_file", "the signature covers the whole file");
    }

    let gap = pdf.get(b..c).unwrap_or_default();
    let cms_der = match read_contents(gap, b) {
        Ok((cms_der, None)) => {
            v.pass("signature_encoding", "the signature is written as issued (upper-case hexadecimal)");
            v.pass("padding", "the padding after the signature is intact");
            cms_der
        }
        Ok((cms_der, Some(padding))) => {
            v.pass("signature_encoding", "the signature is written as issued (upper-case hexadecimal)");
            v.fail("padding", ProblemKind::PaddingChanged, padding);
            cms_der
        }
        Err(altered) => {
            v.fail("signature_encoding", ProblemKind::SignatureAltered, altered);
            return;
        }
    };

    let signed_parts = [pdf.get(..b).unwrap_or_default(), pdf.get(c..end).unwrap_or_default()];
    let found = match inspect_cms(&cms_der, &signed_parts) {
        Ok(found) => found,
        Err(VerifyError::UntrustedCertificate(why)) => {
            v.fail(
                "certificate",
                ProblemKind::UntrustedCertificate,
                format!("the signing certificate is not ours: {why}"),
            );
            return;
        }
        Err(e) => {
            v.fail("signature_encoding", ProblemKind::SignatureAltered, format!("the signature was altered: {e}"));
            return;
        }
    };
    let kid = found.public.kid().to_string();
    v.key_id = Some(kid.clone());
    let key = keys.find(&kid);
    match key {
        Some(k) => v.pass("key_known", format!("signed with published key {kid} ({})", k.algorithm)),
        None => v.fail(
            "key_known",
            ProblemKind::UnknownKey { kid: kid.clone() },
            format!("signed with key {kid}, which is not one of the published keys"),
        ),
    }

    if found.signature_valid {
        v.pass("signature", format!("the signature verifies with key {kid}"));
        if found.digest_matches {
            v.pass("content", "the signed bytes are unchanged");
        } else {
            v.fail(
                "content",
                ProblemKind::ContentChanged,
                "the content was changed after signing: the signed bytes no longer match the signature's digest",
            );
        }
    } else {
        v.fail(
            "signature",
            ProblemKind::BadSignature,
            format!("the signature does not verify with key {kid}: it was altered or made with another key"),
        );
    }

    let trusted = match &keys.root_der {
        None => Err("no trusted root certificate was given".to_string()),
        Some(root) => match checked_chain(key, &found.leaf_der, &found.embedded, root) {
            Err(_) => Err("the signing certificate was not issued by our root".to_string()),
            Ok(()) if key.is_some_and(|k| k.certificate_der != found.leaf_der) => {
                Err(format!("the signing certificate is not the one published for key {kid}"))
            }
            Ok(()) => Ok(()),
        },
    };
    match trusted {
        Ok(()) => v.pass("certificate", "the signing certificate was issued by our root"),
        Err(why) => v.fail("certificate", ProblemKind::UntrustedCertificate, why),
    }
    check_container(&cms_der, &found, key, v);

    if let Some(key) = key {
        check_window(key, keys, now, v);
    }
}

/// The container must be byte for byte what our signer writes for this
/// signature: for a published key, its published certificate and exactly
/// the chain published with it; for an unknown key (already refused), the
/// certificates found, so that other edits are still named.
pub(super) fn check_container(cms_der: &[u8], found: &CmsFindings, key: Option<&PublishedKey>, v: &mut Verification) {
    let others: Vec<Vec<u8>>;
    let (leaf, chain) = match key {
        Some(k) => (&k.certificate_der, k.chain.as_slice()),
        None => {
            others = found.embedded.iter().filter(|c| **c != found.leaf_der).cloned().collect();
            (&found.leaf_der, others.as_slice())
        }
    };
    let changes = match expected_container(leaf, chain, &found.message_digest, &found.signature) {
        Ok(expected) => container_changes(cms_der, &expected),
        Err(e) => {
            vec![(ContainerChange::StructureChanged, format!("it cannot be rebuilt as our signer writes it ({e})"))]
        }
    };
    if changes.is_empty() {
        v.pass("signature_container", "the signature's container is exactly what our signer writes");
        return;
    }
    let what: Vec<&str> = changes.iter().map(|(_, what)| what.as_str()).collect();
    let message = format!("the signature's container was altered after signing: {}", what.join("; "));
    let kinds = changes.into_iter().map(|(kind, _)| kind).fold(Vec::new(), |mut kinds, kind| {
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
        kinds
    });
    v.fail("signature_container", ProblemKind::SignatureContainerAltered { changes: kinds }, message);
}

pub(super) fn check_window(key: &PublishedKey, keys: &KeyRing, now: DateTime<Utc>, v: &mut Verification) {
    let window =
        format!("{} to {}", key.not_before.format("%Y-%m-%d %H:%M:%SZ"), key.window_end().format("%Y-%m-%d %H:%M:%SZ"));
    let Some(at) = v.signing_time else {
        v.fail(
            "key_window",
            ProblemKind::OutsideKeyWindow,
            "the signature has no readable signing time (/M), so it cannot be placed in its key's window",
        );
        return;
    };
    if at > now + CLOCK_SKEW {
        v.fail(
            "key_window",
            ProblemKind::OutsideKeyWindow,
            format!("signed at {at}, which is in the future (it is now {now})"),
        );
        return;
    }
    if key.window_contains(at) {
        v.pass("key_window", format!("signed at {at}, within key {}'s window ({window})", key.kid));
        return;
    }
    let why = match key.retired_at {
        Some(retired) if at >= retired && retired <= key.not_after => {
            let successor = keys.keys.iter().find(|k| k.not_before == retired && k.algorithm == key.algorithm);
            format!(
                "; the key was retired at {retired} when key {} took over",
                successor.map_or("(unknown)", |k| k.kid.as_str())
            )
        }
        _ if at > key.not_after => format!("; its certificate ended at {}", key.not_after),
        _ => format!("; its certificate starts at {}", key.not_before),
    };
    v.fail(
        "key_window",
        ProblemKind::OutsideKeyWindow,
        format!("signed at {at}, outside key {}'s window ({window}){why}", key.kid),
    );
}

pub(super) fn read_attachment(pdf: &[u8], v: &mut Verification) {
    if !pdf.starts_with(b"%PDF-") {
        return;
    }
    let Some(json) = scan::Xref::read(pdf).and_then(|x| x.embedded_file(pdf, REPORT_JSON_NAME.as_bytes())) else {
        return;
    };
    let Ok(value) = serde_json::from_slice::<Value>(&json) else { return };
    let field = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
    if let Some(number) = field("report_number") {
        v.report_number = Some(number);
    }
    v.verification_code = field("verification_code");
    v.attached_report = Some(value);
}

/// Reads the `/Contents` hex string (`gap`, from `<` to `>`, at file offset
/// `at`): the DER signature in upper-case hex, then only `0`s. Returns the
/// DER and, when the padding was touched, what changed there; an error
/// says how the signature itself was altered.
pub(super) fn read_contents(gap: &[u8], at: usize) -> Result<(Vec<u8>, Option<String>), String> {
    let inner = match gap {
        [b'<', inner @ .., b'>'] => inner,
        _ => return Err("/Contents is not a hexadecimal string".into()),
    };
    let at = at + 1;
    let nibble = |i: usize| -> Result<u8, String> {
        match inner.get(i).copied() {
            Some(ch @ b'0'..=b'9') => Ok(ch - b'0'),
            Some(ch @ b'A'..=b'F') => Ok(ch - b'A' + 10),
            Some(ch @ b'a'..=b'f') => Err(format!(
                "the signature's hexadecimal was changed at byte {}: lower-case `{}` where it was written in upper case",
                at + i,
                ch as char
            )),
            Some(ch) => Err(format!(
                "the signature was changed at byte {}: {:?} is not a hexadecimal digit",
                at + i,
                ch as char
            )),
            None => Err("the signature is cut short".into()),
        }
    };
    let byte = |i: usize| -> Result<u8, String> { Ok(nibble(2 * i)? << 4 | nibble(2 * i + 1)?) };
    // The DER header says how long the signature is.
    let first = byte(0)?;
    let len_byte = byte(1)?;
    let (header, content) = match len_byte {
        n if n < 0x80 => (2usize, usize::from(n)),
        0x81..=0x84 => {
            let count = usize::from(len_byte & 0x7f);
            let mut n = 0usize;
            for i in 0..count {
                n = (n << 8) | usize::from(byte(2 + i)?);
            }
            (2 + count, n)
        }
        _ => return Err("the signature's length field was altered".into()),
    };
    let der_len = header.checked_add(content).filter(|n| 2 * n <= inner.len() && first == 0x30);
    let Some(der_len) = der_len else {
        return Err("the signature's structure was altered: its length does not fit /Contents".into());
    };
    let der: Vec<u8> = (0..der_len).map(byte).collect::<Result<_, _>>()?;
    // A length field changed to a smaller value leaves signature bytes in
    // the padding; the CMS no longer parses then, which names the real change.
    if let Err(e) = cms::content_info::ContentInfo::from_der(&der) {
        return Err(format!("the signature's structure was altered: {e}"));
    }
    let padding = inner.get(2 * der_len..).unwrap_or_default();
    let changed: Vec<usize> = padding.iter().enumerate().filter(|(_, b)| **b != b'0').map(|(i, _)| i).collect();
    let note = changed.first().map(|first| {
        format!(
            "{} byte{} in the signature's padding changed (first at byte {}); the padding must be all `0`",
            changed.len(),
            if changed.len() == 1 { "" } else { "s" },
            at + 2 * der_len + first
        )
    });
    Ok((der, note))
}

/// A PDF text string: UTF-16BE with a byte order mark, or (approximately)
/// PDFDocEncoding.
pub(super) fn text(bytes: &[u8]) -> String {
    match bytes {
        [0xFE, 0xFF, rest @ ..] => {
            let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16_lossy(&units)
        }
        _ => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// `D:YYYYMMDDHHmmSS` followed by `Z`, nothing, or `+HH'mm'` / `-HH'mm'`.
pub(super) fn parse_pdf_date(raw: &[u8]) -> Option<DateTime<Utc>> {
    let s = std::str::from_utf8(raw).ok()?.strip_prefix("D:")?;
    let digits = s.get(..14)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| digits.get(r).and_then(|d| d.parse::<u32>().ok());
    let year = i32::try_from(n(0..4)?).ok()?;
    let naive = NaiveDate::from_ymd_opt(year, n(4..6)?, n(6..8)?)?.and_hms_opt(n(8..10)?, n(10..12)?, n(12..14)?)?;
    let zone = s.get(14..)?;
    let offset_secs = match zone.as_bytes() {
        [] | [b'Z'] | [b'Z', ..] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let rest = std::str::from_utf8(rest).ok()?.replace('\'', "");
            let hours: i32 = rest.get(..2)?.parse().ok()?;
            let minutes: i32 = rest.get(2..4).map_or(Some(0), |m| m.parse().ok())?;
            let secs = hours * 3600 + minutes * 60;
            if *sign == b'+' { secs } else { -secs }
        }
        _ => return None,
    };
    let local = chrono::FixedOffset::east_opt(offset_secs)?.from_local_datetime(&naive).single()?;
    Some(local.with_timezone(&Utc))
}
