use super::*;
use crate::testing::run_on_pdf;

fn render_sample() -> (ReportData, Vec<u8>) {
    let data = sample_report();
    let pdf = render_pdf(&data, Fonts::embedded().unwrap()).unwrap();
    (data, pdf)
}

#[test]
fn printable_drops_cjk_and_keeps_latin() {
    assert_eq!(printable("国家电网 State Grid Shanghai"), "State Grid Shanghai");
    assert_eq!(printable("招商银行信用卡 CMB Credit Card"), "CMB Credit Card");
    assert_eq!(printable("Zoë Łucja ŌTSUKA-NÚÑEZ"), "Zoë Łucja ŌTSUKA-NÚÑEZ");
    assert_eq!(printable("Shop 上海 Branch"), "Shop Branch");
    assert_eq!(printable("国家电网"), "(see report.json)");
}

#[test]
fn wraps_to_width() {
    let fonts = Fonts::embedded().unwrap();
    let text = "At issuance the applicant's credit score exceeded the eligibility threshold of 750.";
    let lines = fonts.wrap(Face::Regular, 9.0, text, 150.0);
    assert!(lines.len() > 2, "{lines:?}");
    for l in &lines {
        assert!(fonts.width(Face::Regular, 9.0, l) <= 150.0, "{l}");
    }
    assert_eq!(lines.join(" "), text);
    let w = fonts.width(Face::Regular, 10.0, "M");
    assert!((5.0..12.0).contains(&w), "{w}");
}

#[test]
fn qr_code_with_the_fixed_mask_is_the_searched_one_for_the_sample() {
    let data = sample_report();
    let searched =
        qrcode::QrCode::with_error_correction_level(data.verification_url.as_bytes(), qrcode::EcLevel::M).unwrap();
    let (modules, colors) = qr_modules(&data.verification_url).unwrap();
    assert_eq!(modules, searched.width());
    assert!(colors == searched.to_colors(), "same modules as the best-mask search");
}

#[test]
fn printpdf_given_the_skeleton_fonts_writes_what_it_writes_given_the_real_ones() {
    let data = sample_report();
    let fonts = Fonts::embedded().unwrap();
    let real = render_with(&data, fonts, [&fonts.regular, &fonts.bold], PageWriter::Ours).unwrap();
    let skeleton = render_pdf(&data, fonts).unwrap();
    assert!(real == skeleton, "same bytes");
}

#[test]
fn our_page_contents_are_the_bytes_printpdf_writes() {
    let fonts = Fonts::embedded().unwrap();
    let mut long = sample_report();
    long.applicant.full_name = "Zoë Łucja ŌTSUKA-NÚÑEZ de la Cruz y Montenegro-Villavicencio".into();
    long.bills.list.extend(long.bills.list.clone());
    long.bills.list.extend(long.bills.list.clone());
    for data in [sample_report(), long] {
        let given = [&fonts.regular_skeleton, &fonts.bold_skeleton];
        let ours = render_with(&data, fonts, given, PageWriter::Ours).unwrap();
        let printpdf = render_with(&data, fonts, given, PageWriter::Printpdf).unwrap();
        assert!(ours == printpdf, "the same file, whoever writes the pages");
    }
}

#[test]
fn a_report_number_never_wraps_and_stays_legible() {
    use rand::SeedableRng;
    let fonts = Fonts::embedded().unwrap();
    let widths = [panel_columns().0 - 12.0, VERIFICATION_FIELD_W];
    // Widths add up (no kerning), so the widest symbol in every place
    // bounds every number; and 20,000 generated ones besides.
    let widest = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
        .chars()
        .max_by(|a, b| {
            fonts.width(Face::Bold, 1.0, &a.to_string()).total_cmp(&fonts.width(Face::Bold, 1.0, &b.to_string()))
        })
        .unwrap();
    let w4: String = std::iter::repeat_n(widest, 4).collect();
    let mut numbers = vec![format!("SR-{w4}-{w4}-{w4}"), "SR-X2E5-W1AM-RT85".to_owned()];
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
    numbers.extend((0..20_000).map(|_| crate::domain::ReportNumber::generate(&mut rng).to_string()));
    for number in &numbers {
        for width in widths {
            let size = fonts.one_line_size(Face::Bold, FIELD_SIZE, number, width);
            assert!(fonts.width(Face::Bold, size, number) <= width, "{number} at {size} pt");
            assert_eq!(fonts.wrap(Face::Bold, size, number, width).len(), 1, "{number}");
            assert!(size >= 8.0, "{number} would be set at {size} pt");
        }
    }
}

#[test]
fn nice_steps() {
    assert_eq!(nice_step(15_890), 5_000);
    assert_eq!(nice_step(100), 50);
    assert_eq!(nice_step(0), 1);
}

#[test]
fn renders_deterministically_with_classic_xref() {
    let (data, a) = render_sample();
    let b = render_pdf(&data, Fonts::embedded().unwrap()).unwrap();
    assert!(a == b, "two renders of the same data differ");
    assert!(a.starts_with(b"%PDF-1."));
    let text = String::from_utf8_lossy(&a);
    assert!(text.contains("\nxref\n") || text.contains("\rxref"), "classic xref table");
    assert!(!text.contains("/ObjStm") && !text.contains("/XRef"), "no object or xref streams");
    assert!(text.contains("DJVSRG+"), "subset font");
    assert!(a.len() < 200_000, "{} bytes", a.len());
}

#[test]
fn qpdf_and_pdftotext_accept_it() {
    let (data, pdf) = render_sample();
    if let Ok(out) = std::env::var("STANDING_REPORT_OUT") {
        std::fs::write(out, &pdf).unwrap();
    }
    if let Some(out) = run_on_pdf("qpdf", &["--check", "{pdf}"], &pdf) {
        assert!(out.success, "qpdf --check: {}", out.text);
    }
    let Some(out) = run_on_pdf("pdftotext", &["-layout", "{pdf}", "-"], &pdf) else { return };
    assert!(out.success);
    let text = out.stdout;
    let pages = text.split('\u{c}').filter(|p| !p.trim().is_empty()).count();
    assert!(pages >= 3, "{pages} pages");
    for needle in [
        "Zoë Łucja ŌTSUKA-NÚÑEZ",
        "SR-KYYF-9TKJ-6Q8Q",
        "Q7RM-K2XP",
        "Page 1 of",
        &format!("Page {pages} of {pages}"),
        "Verify at http://127.0.0.1:8080/verify/SR-KYYF-9TKJ-6Q8Q or scan the QR code",
        &data.assets.total.current.as_ref().unwrap().account.text,
        &data.assets.total.current.as_ref().unwrap().authority.text,
        "Bill payment history (continued)",
        "0.1932",
        "1.3712",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    let last = data.bills.list.last().unwrap();
    assert!(text.contains(printable(&last.biller).as_ref()), "last biller {}", last.biller);
    assert!(!text.contains("国家电网"));
}
