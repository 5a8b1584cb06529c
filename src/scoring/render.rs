//! Human text: each factor's value, and the CLI's table of a decision.

use std::fmt::Write as _;

use super::Decision;
use super::factors::{Facts, Measured};
use super::scorecard::{BALANCE_WINDOW_DAYS, Factor, Special};

/// `958` permille → `95.8%`.
pub(crate) fn percent(permille: i64) -> String {
    let sign = if permille < 0 { "-" } else { "" };
    let p = permille.unsigned_abs();
    format!("{sign}{}.{}%", p / 10, p % 10)
}

/// `1 bill`, `2 bills`.
pub(crate) fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn balance_days(f: &Facts) -> String {
    format!("{} of {BALANCE_WINDOW_DAYS} days", f.balance_days)
}

/// The `value` of a factor: what was measured, in words and money.
pub(crate) fn value_text(factor: Factor, f: &Facts, measured: Measured) -> String {
    let m = match measured {
        Measured::Value(v) => Some(v),
        Measured::Special(_) => None,
    };
    let no_bills = || "no bills counted".to_string();
    match factor {
        Factor::BillOnTimeRate => match m {
            Some(p) => {
                let open = if f.open > 0 { format!("; {} open, not counted", f.open) } else { String::new() };
                format!("{} of {} on time ({}){open}", f.on_time, f.counted(), percent(p))
            }
            None => no_bills(),
        },
        Factor::BillsMissed => match m {
            Some(n) => format!("{n} missed"),
            None => no_bills(),
        },
        Factor::BillLastLate => match (measured, f.last_late_due) {
            (Measured::Value(days), Some(due)) => {
                format!("due {due}, {} ago", plural(days, "day", "days"))
            }
            (Measured::Special(Special::NoneLate), _) => "none in 24 months".into(),
            _ => no_bills(),
        },
        Factor::BillCount => format!(
            "{} ({} on time, {} late, {} missed)",
            plural(i64::from(f.counted()), "bill", "bills"),
            f.on_time,
            f.late,
            f.missed
        ),
        Factor::BalanceAverage => match f.avg6 {
            Some(avg) => format!("{} ({})", f.money(avg), balance_days(f)),
            None => "no balance data".into(),
        },
        Factor::BalanceMinimum => match f.min6 {
            Some(min) => format!("{} ({})", f.money(min), balance_days(f)),
            None => "no balance data".into(),
        },
        Factor::BalanceTrend => match (f.avg3, f.avg6) {
            (Some(avg3), Some(avg6)) => {
                format!("3 months {} vs 6 months {}", f.money(avg3), f.money(avg6),)
            }
            _ => "no recent balance data".into(),
        },
        Factor::SpendingToIncome => match measured {
            Measured::Value(p) => format!("{} of {} ({})", f.money(f.spending), f.money(f.income), percent(p)),
            Measured::Special(Special::NoIncome) => {
                format!("{} spent, no income recorded", f.money(f.spending))
            }
            Measured::Special(_) => "no spending or income recorded".into(),
        },
        Factor::SpendingToAssets => match (m, f.avg_spending(), f.avg6) {
            (Some(p), Some(spend), Some(avg6)) => {
                format!("{} a month of {} ({})", f.money(spend), f.money(avg6), percent(p))
            }
            (None, Some(spend), Some(avg6)) => {
                format!("{} a month of {}", f.money(spend), f.money(avg6))
            }
            (None, Some(spend), None) => format!("{} a month, no balance data", f.money(spend)),
            _ => "no monthly spending data".into(),
        },
        Factor::SpendingVolatility => {
            let months = plural(i64::try_from(f.months).unwrap_or(0), "month", "months");
            match m {
                Some(p) => format!("{} over {months}", percent(p)),
                None => format!("not measurable ({months} with data)"),
            }
        }
        Factor::AccountAge => tenure(f.account_months, f.opened_on),
        Factor::PhoneTenure => tenure(f.phone_months, f.phone_since),
        Factor::AddressTenure => tenure(f.address_months, f.address_since),
    }
}

fn tenure(months: i64, since: chrono::NaiveDate) -> String {
    format!("{} (since {since})", plural(months, "month", "months"))
}

/// Wraps `text` at `width` columns, every line starting with `indent`.
fn wrap(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        if line.len() > indent.len() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from(indent);
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// The decision as the CLI prints it: a table of factors (value, band,
/// points of maximum), the score, the decision and, when not eligible, the
/// reasons and the alternatives.
pub fn render_text(d: &Decision) -> String {
    let mut out = String::new();
    let headers = ["Factor", "Value", "Band", "Points"];
    let rows: Vec<[String; 4]> = d
        .factors
        .iter()
        .map(|f| [f.label.to_string(), f.value.clone(), f.band.to_string(), format!("{}/{}", f.points, f.max_points)])
        .collect();
    let width =
        |i: usize| rows.iter().map(|r| r[i].chars().count()).chain([headers[i].chars().count()]).max().unwrap_or(0);
    let (w0, w1, w2, w3) = (width(0), width(1), width(2), width(3).max(7));

    let _ = writeln!(out, "Score {} ({}, as of {}, amounts in {})", d.score, d.scorecard, d.as_of, d.currency);
    let _ = writeln!(out);
    let _ = writeln!(out, "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}", headers[0], headers[1], headers[2], headers[3]);
    let _ = writeln!(out, "{}", "-".repeat(w0 + w1 + w2 + w3 + 6));
    for r in &rows {
        let _ = writeln!(out, "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}", r[0], r[1], r[2], r[3]);
    }
    let _ = writeln!(out, "{}", "-".repeat(w0 + w1 + w2 + w3 + 6));
    let total = format!("{}/{}", d.points, d.max_points);
    let _ = writeln!(out, "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}", "Total", "", "", total);
    let _ = writeln!(out);
    let _ =
        writeln!(out, "Score: {} + {} = {} (range {}..={})", d.base, d.points, d.score, d.base, d.base + d.max_points);
    if d.eligible {
        let _ = writeln!(out, "Decision: ELIGIBLE (the score is above {})", d.threshold);
    } else {
        let _ = writeln!(out, "Decision: NOT ELIGIBLE (the score must be above {})", d.threshold);
    }
    if !d.reasons.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "Reasons");
        for (i, r) in d.reasons.iter().enumerate() {
            let head = format!("{}. {} (-{} points)", i + 1, r.factor.spec().label, r.points_lost);
            let _ = writeln!(out, "{head}");
            out.push_str(&wrap(&r.text, "   ", 78));
            out.push_str(&wrap(&format!("To improve: {}", r.improve), "   ", 78));
        }
    }
    if let Some(alt) = d.alternatives {
        let _ = writeln!(out);
        let _ = writeln!(out, "Other ways to prove your funds");
        out.push_str(&wrap(alt, "", 78));
    }
    out
}
