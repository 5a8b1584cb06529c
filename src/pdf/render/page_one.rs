//! Page one: the issuer, the key facts, the applicant, the coverage, the
//! eligibility statement and the verification block with its QR code.

use super::fonts::*;
use super::layout::*;
use super::*;

/// The verification URL without its query (the code is printed separately).
pub(super) fn url_without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// Page one, top to bottom.
pub(super) fn first_page(l: &mut Layout<'_>, d: &ReportData) -> Result<(), RenderError> {
    // Issuer band and title.
    l.fill_rect(0.0, 0.0, PAGE_W, 6.0, ACCENT);
    l.text(MARGIN_X, 36.0, Face::Bold, 10.0, ACCENT, &d.issuer.name, Align::Left);
    l.text(RIGHT, 36.0, Face::Regular, 8.0, MUTED, &d.issuer.url, Align::Right);
    l.text(MARGIN_X, 66.0, Face::Bold, 21.0, INK, "Proof of Financial Standing", Align::Left);
    let subtitle = format!("Issued for submission to {} ({})", d.authority.name, d.authority.code);
    l.text(MARGIN_X, 82.0, Face::Regular, 9.0, MUTED, &subtitle, Align::Left);

    // Key facts in a panel: the report number never wraps (it is set smaller
    // when its letters are wide), then who issued the report and how to
    // reach them.
    let top = 94.0;
    let (number_w, issued_w) = panel_columns();
    let issuer = issuer_lines(d);
    let issuer_h = 12.0 * (l.fonts.wrap(Face::Regular, 8.0, &issuer, CONTENT_W - 20.0).len() as f32) + 16.0;
    l.fill_rect(MARGIN_X, top, CONTENT_W, 40.0 + issuer_h, PANEL);
    l.field_one_line(MARGIN_X + 10.0, top + 14.0, "REPORT NUMBER", &d.report_number, number_w - 12.0);
    let cols = [
        ("ISSUE DATE", d.issued_at.format("%Y-%m-%d").to_string()),
        ("VALID UNTIL", d.valid_until.to_string()),
        ("AUTHORITY", format!("{} ({})", d.authority.code, d.authority.currency)),
    ];
    for (i, (label, value)) in cols.iter().enumerate() {
        let x = MARGIN_X + 10.0 + number_w + i as f32 * issued_w;
        l.field(x, top + 14.0, label, value, issued_w - 12.0);
    }
    l.line(MARGIN_X + 10.0, top + 40.0, RIGHT - 10.0, top + 40.0, 0.5, RULE);
    l.text(MARGIN_X + 10.0, top + 52.0, Face::Regular, 7.0, MUTED, "ISSUED BY", Align::Left);
    l.y = top + 63.0;
    l.paragraph(MARGIN_X + 10.0, CONTENT_W - 20.0, Face::Regular, 8.0, INK, &issuer);

    // Applicant.
    l.y = top + 40.0 + issuer_h;
    l.heading("Applicant", 60.0);
    let y = l.y;
    let half = CONTENT_W / 2.0;
    let a = &d.applicant;
    let h1 = l.field(MARGIN_X, y, "NAME (AS IN PASSPORT)", &a.full_name, half - 10.0);
    l.field(MARGIN_X + half, y, "DATE OF BIRTH", &a.date_of_birth.to_string(), half - 10.0);
    let y2 = y + h1.max(24.0) + 4.0;
    let passport = format!("{} (issued by {})", a.passport_number, a.passport_country);
    l.field(MARGIN_X, y2, "PASSPORT NUMBER", &passport, half - 10.0);
    l.field(MARGIN_X + half, y2, "NATIONALITY", &a.nationality, half - 10.0);
    let y3 = y2 + 28.0;
    let since = format!("{} (customer since {})", a.account, a.account_opened_on);
    l.field(MARGIN_X, y3, "ACCOUNT", &since, half - 10.0);
    let h3 = l.field(MARGIN_X + half, y3, "DATA AS OF", &data_as_of(d), half - 10.0);
    l.y = y3 + h3.max(22.0);

    // Eligibility.
    l.heading("Eligibility", 40.0);
    let mut statement = d.eligibility.statement.clone();
    if let Some(score) = d.eligibility.score {
        statement.push_str(&format!(" Score at issuance: {score} (scale {}).", d.eligibility.scale));
    }
    let mark = if d.eligibility.threshold_met { "Threshold met" } else { "Threshold not met" };
    let y = l.y;
    l.text(MARGIN_X, y, Face::Bold, 9.5, if d.eligibility.threshold_met { GOOD } else { BAD }, mark, Align::Left);
    l.y += 13.0;
    l.paragraph(MARGIN_X, CONTENT_W, Face::Regular, 9.0, INK, &statement);

    verification(l, d)
}

/// Widths of the key-facts panel's columns: the report number's, then each
/// of the other three. The number's column is the widest: its value never
/// wraps.
pub(super) fn panel_columns() -> (f32, f32) {
    let number_w = CONTENT_W * 0.31;
    (number_w, (CONTENT_W - number_w) / 3.0)
}

/// The issuer's legal name, address and contact in one paragraph.
pub(super) fn issuer_lines(d: &ReportData) -> String {
    let i = &d.issuer;
    let mut s = i.legal_name.clone();
    if let Some(address) = &i.address {
        s.push_str(" · ");
        s.push_str(address);
    }
    s.push_str(" · Contact: ");
    s.push_str(&i.contact);
    if i.contact != i.url {
        s.push_str(" · ");
        s.push_str(&i.url);
    }
    s
}

/// The as-of date with how far the data reaches.
pub(super) fn data_as_of(d: &ReportData) -> String {
    let c = &d.coverage;
    let transactions = match c.transactions_to {
        Some(t) => format!("transactions to {t}"),
        None => "no transactions".to_owned(),
    };
    format!("{} (balances to {}, {transactions})", d.as_of, c.balances_to)
}

/// The mask every verification QR code uses. The qrcode crate tries all
/// eight masks and keeps the one with the lowest penalty score, which took
/// longer than drawing the rest of the page; any mask is valid (ISO/IEC 18004
/// 7.8) and readers handle each one. Horizontal lines is the mask the search
/// picked for the sample report.
pub(super) const QR_MASK: qrcode::canvas::MaskPattern = qrcode::canvas::MaskPattern::HorizontalLines;

/// The modules of the QR code for `url` (EC level M), row by row.
pub(super) fn qr_modules(url: &str) -> Result<(usize, Vec<qrcode::Color>), RenderError> {
    let qr_error = |e: qrcode::types::QrError| RenderError::Qr(e.to_string());
    let ec = qrcode::EcLevel::M;
    let bits = qrcode::bits::encode_auto(url.as_bytes(), ec).map_err(qr_error)?;
    let version = bits.version();
    let (data, ecc) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, ec).map_err(qr_error)?;
    let mut canvas = qrcode::canvas::Canvas::new(version, ec);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data, &ecc);
    canvas.apply_mask(QR_MASK);
    let width = usize::try_from(version.width()).map_err(|e| RenderError::Qr(e.to_string()))?;
    Ok((width, canvas.into_colors()))
}

/// The width of a field beside the verification QR code.
pub(super) const VERIFICATION_FIELD_W: f32 = (RIGHT - 10.0 - (MARGIN_X + 8.0 + 96.0 + 14.0)) / 2.0 - 8.0;

pub(super) fn verification(l: &mut Layout<'_>, d: &ReportData) -> Result<(), RenderError> {
    let (modules, colors) = qr_modules(&d.verification_url)?;
    let qr_size = 96.0;
    let quiet = 2.0;
    let module = qr_size / (modules as f32 + 2.0 * quiet);
    let box_h = qr_size + 16.0;
    l.heading("Verification", box_h);
    let top = l.y - 6.0;
    l.stroke_rect(MARGIN_X, top, CONTENT_W, box_h, 0.8, RULE);
    let qx = MARGIN_X + 8.0;
    let qy = top + 8.0;
    l.fill_rect(qx, qy, qr_size, qr_size, Rgb3(1.0, 1.0, 1.0));
    // One rectangle per horizontal run of dark modules.
    let mut rects = Vec::new();
    for row in 0..modules {
        let mut col = 0;
        while col < modules {
            if colors[row * modules + col] == qrcode::Color::Dark {
                let start = col;
                while col < modules && colors[row * modules + col] == qrcode::Color::Dark {
                    col += 1;
                }
                rects.push((
                    qx + (quiet + start as f32) * module,
                    qy + (quiet + row as f32) * module,
                    (col - start) as f32 * module,
                    module,
                ));
            } else {
                col += 1;
            }
        }
    }
    let ops = l.ops();
    ops.push(Op::SetFillColor { col: color(Rgb3(0.0, 0.0, 0.0)) });
    ops.push(Op::DrawPolygon { polygon: rects_polygon(&rects) });

    let tx = qx + qr_size + 14.0;
    let tw = RIGHT - 10.0 - tx;
    let half = tw / 2.0;
    debug_assert_eq!(half - 8.0, VERIFICATION_FIELD_W);
    let mut y = top + 18.0;
    l.field_one_line(tx, y, "REPORT NUMBER", &d.report_number, half - 8.0);
    l.field(tx + half, y, "VERIFICATION CODE", &d.verification_code, half - 8.0);
    y += 32.0;
    let how = format!("Verify at {} or scan the QR code", url_without_query(&d.verification_url));
    l.y = y;
    l.paragraph(tx, tw, Face::Regular, 8.5, INK, &how);
    let y = l.y + 3.0;
    l.text(tx, y, Face::Regular, 7.0, MUTED, "SIGNING KEY", Align::Left);
    let key = format!("{} ({})", d.signing.key_id, d.signing.algorithm);
    l.y = y + 11.0;
    l.paragraph(tx, tw, Face::Regular, 8.0, INK, &key);
    l.y = top + box_h + 4.0;
    Ok(())
}
