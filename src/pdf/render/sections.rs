//! The report's sections after page one (assets, spending, bills) and the
//! running header and footer of every page.

use super::fonts::*;
use super::layout::*;
use super::*;

pub(super) fn asset_cells(label: Vec<(String, Face, Rgb3)>, f: &AssetFigures, face: Face) -> Vec<Cell> {
    let mut row = vec![Cell { lines: label }];
    for dual in [&f.current, &f.average_3m, &f.average_6m, &f.average_12m, &f.minimum_6m, &f.maximum_6m] {
        row.push(match dual {
            Some(dual) => Cell::dual(&dual.account, &dual.authority, face),
            None => Cell::colored("no data", MUTED),
        });
    }
    row
}

pub(super) fn assets(l: &mut Layout<'_>, d: &ReportData) {
    l.heading("Assets", 80.0);
    let a = &d.assets;
    let intro = format!(
        "Balances by holding, in the holding's currency with the value in {} beneath. Averages are of end-of-day \
         balances over {} days of data up to {}; a balance counts for at most {} days after its date, and a \
         holding without a balance in the {} days up to {} has no current balance. \"no data\": no balance in \
         that period.",
        d.authority.currency,
        a.days_of_data,
        d.as_of,
        d.coverage.max_data_age_days,
        d.coverage.max_data_age_days,
        d.as_of
    );
    l.paragraph(MARGIN_X, CONTENT_W, Face::Regular, 8.5, MUTED, &intro);
    l.y += 2.0;
    let amount_w = 70.0;
    let cols = [
        Col { title: "Holding", width: CONTENT_W - 6.0 * amount_w, align: Align::Left },
        Col { title: "Current", width: amount_w, align: Align::Right },
        Col { title: "Avg 3 months", width: amount_w, align: Align::Right },
        Col { title: "Avg 6 months", width: amount_w, align: Align::Right },
        Col { title: "Avg 12 months", width: amount_w, align: Align::Right },
        Col { title: "Min 6 months", width: amount_w, align: Align::Right },
        Col { title: "Max 6 months", width: amount_w, align: Align::Right },
    ];
    let mut rows = Vec::new();
    for h in &a.holdings {
        let when = if h.current {
            (format!("current as of {}", h.balances_to), Face::Regular, MUTED)
        } else {
            (format!("not current: last balance {}", h.balances_to), Face::Regular, WARN)
        };
        let label = vec![
            (h.kind_label.clone(), Face::Regular, INK),
            (h.institution.clone().unwrap_or_else(|| "institution not stated".to_owned()), Face::Regular, INK),
            (format!("{} · {}", h.currency, h.holding), Face::Regular, MUTED),
            when,
        ];
        rows.push(asset_cells(label, &h.figures, Face::Regular));
    }
    let total_label = vec![
        ("Total".to_owned(), Face::Bold, INK),
        (format!("in {} and {}", a.currency, d.authority.currency), Face::Regular, MUTED),
    ];
    rows.push(asset_cells(total_label, &a.total, Face::Regular));
    l.table("Assets", &cols, rows, true);

    l.y += 14.0;
    l.ensure(12.0 * (d.exchange_rates.len() as f32 + 1.0));
    let y = l.y;
    l.text(MARGIN_X, y, Face::Bold, 8.0, INK, "Exchange rates used", Align::Left);
    l.y += 11.0;
    for r in &d.exchange_rates {
        let s = format!("1 {} = {} {} (rate of {}; source: {})", r.base, r.rate, r.quote, r.date, r.source);
        l.paragraph(MARGIN_X + 8.0, CONTENT_W - 8.0, Face::Regular, 8.0, INK, &s);
    }
}

/// A "nice" gridline step (1, 2, 2.5 or 5 × 10^k) for about four lines up to `max`.
pub(super) fn nice_step(max: u64) -> u64 {
    let raw = (max / 4).max(1);
    let mut pow = 1_u64;
    while pow.saturating_mul(10) <= raw {
        pow *= 10;
    }
    for m in [1, 2, 5, 10] {
        let step = m * pow;
        if step >= raw {
            return step;
        }
    }
    10 * pow
}

pub(super) fn spending(l: &mut Layout<'_>, d: &ReportData) {
    let s = &d.spending;
    let chart_h = 150.0;
    l.heading("Spending history", chart_h + 40.0);
    let average = match &s.average_monthly {
        Some(a) => format!("{} ({})", a.account.text, a.authority.text),
        None => "no data".to_owned(),
    };
    let mut intro = format!(
        "Money spent per calendar month ({} months), in {}. Total {} ({}); monthly average {average}.",
        s.months.len(),
        s.currency,
        s.total.account.text,
        s.total.authority.text,
    );
    if s.months_recorded < s.months.len() as u32 {
        let last = d.coverage.transactions_to.map_or("none".to_owned(), |t| t.to_string());
        intro.push_str(&format!(
            " The account's transactions end on {last}: {} of the {} months are recorded; the others show \"no \
             data\" and the total and average are over the recorded months.",
            s.months_recorded,
            s.months.len()
        ));
    }
    l.paragraph(MARGIN_X, CONTENT_W, Face::Regular, 8.5, MUTED, &intro);
    l.y += 6.0;

    // The bar chart.
    let digits = Currency::from_code(&s.currency).map(|c| u32::from(c.minor_digits())).unwrap_or(2);
    let per = 10_u64.pow(digits);
    let max_major = s.months.iter().map(|m| m.total.minor.unsigned_abs()).max().unwrap_or(0).div_ceil(per).max(1);
    let step = nice_step(max_major);
    let lines = max_major.div_ceil(step).max(1);
    let top_value = (step * lines) as f32;
    let axis_w = 48.0;
    let x0 = MARGIN_X + axis_w;
    let plot_w = CONTENT_W - axis_w;
    let y_top = l.y + 8.0;
    let y_base = y_top + chart_h - 22.0;
    let plot_h = y_base - y_top;
    l.text(MARGIN_X, y_top - 4.0, Face::Regular, 6.8, MUTED, &s.currency, Align::Left);
    for i in 0..=lines {
        let v = step * i;
        let y = y_base - plot_h * (v as f32 / top_value);
        l.line(x0, y, RIGHT, y, if i == 0 { 0.8 } else { 0.35 }, if i == 0 { MUTED } else { RULE });
        l.text(
            x0 - 5.0,
            y + 2.4,
            Face::Regular,
            6.8,
            MUTED,
            &crate::domain::money::group(&v.to_string()),
            Align::Right,
        );
    }
    let n = s.months.len().max(1) as f32;
    let slot = plot_w / n;
    let bar_w = slot * 0.62;
    let mut bars = Vec::new();
    for (i, m) in s.months.iter().enumerate() {
        let cx = x0 + slot * i as f32 + slot / 2.0;
        let label_w = l.fonts.width(Face::Regular, 6.8, &m.month);
        if m.recorded {
            let v = m.total.minor.unsigned_abs() as f32 / per as f32;
            let h = plot_h * (v / top_value);
            let x = x0 + slot * i as f32 + (slot - bar_w) / 2.0;
            bars.push((x, y_base - h, bar_w, h));
            l.text(cx - label_w / 2.0, y_base + 10.0, Face::Regular, 6.8, INK, &m.month, Align::Left);
        } else {
            l.text(cx - label_w / 2.0, y_base + 10.0, Face::Regular, 6.8, MUTED, &m.month, Align::Left);
            let no_data_w = l.fonts.width(Face::Regular, 6.0, "no data");
            l.text(cx - no_data_w / 2.0, y_base - 4.0, Face::Regular, 6.0, MUTED, "no data", Align::Left);
        }
    }
    let ops = l.ops();
    ops.push(Op::SetFillColor { col: color(BAR) });
    ops.push(Op::DrawPolygon { polygon: rects_polygon(&bars) });
    l.y = y_top + chart_h + 4.0;

    let cols = [
        Col { title: "Month", width: 58.0, align: Align::Left },
        Col { title: "Total spent", width: 92.0, align: Align::Right },
        Col { title: "Transactions", width: 66.0, align: Align::Right },
        Col { title: "Top categories", width: CONTENT_W - 216.0, align: Align::Left },
    ];
    let mut rows: Vec<Vec<Cell>> = s
        .months
        .iter()
        .map(|m| {
            let top = m
                .top_categories
                .iter()
                .map(|c| format!("{} {}", c.category, c.total.text))
                .collect::<Vec<_>>()
                .join(" · ");
            if !m.recorded {
                return vec![
                    Cell::plain(m.month.clone()),
                    Cell::colored("no data", MUTED),
                    Cell::colored("—", MUTED),
                    Cell::colored("after the last recorded transaction", MUTED),
                ];
            }
            vec![
                Cell::plain(m.month.clone()),
                Cell::plain(m.total.text.clone()),
                Cell::plain(m.transactions.to_string()),
                Cell::plain(top),
            ]
        })
        .collect();
    let tx: u32 = s.months.iter().map(|m| m.transactions).sum();
    rows.push(vec![
        Cell::bold("Total"),
        Cell::dual(&s.total.account, &s.total.authority, Face::Bold),
        Cell::bold(tx.to_string()),
        Cell::plain(format!("monthly average {average}")),
    ]);
    l.table("Spending history", &cols, rows, true);
}

pub(super) fn bills(l: &mut Layout<'_>, d: &ReportData) {
    let b = &d.bills;
    l.heading("Bill payment history", 120.0);
    let intro = format!(
        "Bills due from {} to {}. A bill is on time when paid by its due date; open bills are not yet due or \
         still within the grace period and are not judged.",
        b.from, b.to
    );
    l.paragraph(MARGIN_X, CONTENT_W, Face::Regular, 8.5, MUTED, &intro);
    l.y += 4.0;
    let top = l.y;
    l.fill_rect(MARGIN_X, top, CONTENT_W, 36.0, PANEL);
    let facts = [
        ("BILLS", b.count.to_string()),
        ("ON TIME", b.on_time.to_string()),
        ("LATE", b.late.to_string()),
        ("MISSED", b.missed.to_string()),
        ("OPEN", b.open.to_string()),
        ("ON-TIME RATE", b.on_time_rate.clone()),
    ];
    let w = CONTENT_W / facts.len() as f32;
    for (i, (label, value)) in facts.iter().enumerate() {
        l.field(MARGIN_X + 10.0 + i as f32 * w, top + 12.0, label, value, w - 12.0);
    }
    l.y = top + 36.0 + 10.0;

    let cols = [
        Col { title: "Biller", width: 158.0, align: Align::Left },
        Col { title: "Kind", width: 64.0, align: Align::Left },
        Col { title: "Due", width: 58.0, align: Align::Left },
        Col { title: "Amount", width: 84.0, align: Align::Right },
        Col { title: "Paid", width: 62.0, align: Align::Left },
        Col { title: "Status", width: CONTENT_W - 426.0, align: Align::Left },
    ];
    let rows = b
        .list
        .iter()
        .map(|bill| {
            let status_color = match bill.status.as_str() {
                "on time" => GOOD,
                "open" => MUTED,
                s if s.starts_with("late") => WARN,
                _ => BAD,
            };
            vec![
                Cell::plain(bill.biller.clone()),
                Cell::plain(bill.kind.replace('_', " ")),
                Cell::plain(bill.due_on.to_string()),
                Cell::plain(bill.amount.text.clone()),
                Cell::plain(bill.paid_on.map(|p| p.to_string()).unwrap_or_else(|| "—".to_owned())),
                Cell::colored(bill.status.clone(), status_color),
            ]
        })
        .collect();
    l.table("Bill payment history", &cols, rows, false);

    l.y += 16.0;
    let end = format!(
        "End of report {}. The data shown is attached to this PDF as {REPORT_JSON_NAME} and the document carries \
         the digital signature of {} (key {}).",
        d.report_number, d.issuer.name, d.signing.key_id
    );
    l.paragraph(MARGIN_X, CONTENT_W, Face::Regular, 8.0, MUTED, &end);
}

/// Running header on later pages and a footer on every page.
pub(super) fn decorate(l: &mut Layout<'_>, d: &ReportData) {
    let total = l.pages.len();
    let footer_left = format!(
        "Proof of Financial Standing {} · issued {} by {}",
        d.report_number,
        d.issued_at.format("%Y-%m-%d"),
        d.issuer.name
    );
    for page in 0..total {
        // Draw into page `page`: temporarily move it to the end.
        let ops = std::mem::take(&mut l.pages[page]);
        let mut sub = Layout { fonts: l.fonts, pages: vec![ops], y: 0.0 };
        if page > 0 {
            sub.text(MARGIN_X, 34.0, Face::Bold, 8.5, ACCENT, "Proof of Financial Standing", Align::Left);
            let who = format!("{} · {}", d.applicant.full_name, d.report_number);
            sub.text(RIGHT, 34.0, Face::Regular, 8.0, MUTED, &who, Align::Right);
            sub.line(MARGIN_X, 40.0, RIGHT, 40.0, 0.5, RULE);
        }
        let fy = PAGE_H - 34.0;
        sub.line(MARGIN_X, fy - 11.0, RIGHT, fy - 11.0, 0.5, RULE);
        sub.text(MARGIN_X, fy, Face::Regular, 7.5, MUTED, &footer_left, Align::Left);
        sub.text(RIGHT, fy, Face::Bold, 7.5, INK, &format!("Page {} of {}", page + 1, total), Align::Right);
        l.pages[page] = sub.pages.pop().unwrap_or_default();
    }
}
