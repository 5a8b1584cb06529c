//! Every figure a report signs is true as of its as-of date: no future or
//! stale as-of date, no holding counted after its data stops, no sum that
//! wraps (issue 10, items 1 and 2).

use chrono::{Days, NaiveDate, TimeZone, Utc};
use standing::demo::demo_dir;
use standing::report::build::{BuildError, IssueContext, build_report_data};
use standing::scoring::{decide, load::load_inputs};

use crate::helpers::*;
use crate::report::context;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The test context, issued at noon on `today`.
fn issued_on(today: &str) -> IssueContext {
    let mut ctx = context();
    ctx.issued_at = Utc.from_utc_datetime(&day(today).and_hms_opt(12, 0, 0).unwrap());
    ctx
}

#[tokio::test]
async fn future_and_stale_as_of_dates_are_refused_and_coverage_is_stated() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    state.load_demo_if_empty(&demo_dir()).await.unwrap();
    let build = |as_of: &str, today: &str| {
        let (state, as_of, ctx) = (state.clone(), day(as_of), issued_on(today));
        async move { build_report_data(&state.store, &state.cipher, &acct("A1012"), as_of, &ctx).await }
    };

    // The outside test's case: a date the data cannot speak for.
    let e = build("2027-06-01", "2026-11-21").await.unwrap_err();
    assert!(matches!(e, BuildError::FutureAsOf { .. }), "{e:?}");
    assert!(e.to_string().contains("2027-06-01 is in the future (today is 2026-11-21)"), "{e}");

    // The data ends 2026-11-20: today (2026-12-01) is 11 days later.
    let e = build("2026-12-01", "2026-12-01").await.unwrap_err();
    assert!(matches!(e, BuildError::StaleData { latest: Some(_), .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("latest balance is dated 2026-11-20, 11 days earlier"), "{text}");
    assert!(text.contains("at most 7 days") && text.contains("report.max_data_age_days"), "{text}");
    // Seven days is the limit: the 27th is accepted, the 28th is not.
    assert!(matches!(build("2026-11-28", "2026-12-01").await, Err(BuildError::StaleData { .. })));
    let data = build("2026-11-27", "2026-12-01").await.unwrap();
    assert_eq!(data.coverage.balances_to, day("2026-11-20"));
    assert_eq!(data.coverage.max_data_age_days, 7);
    for h in &data.assets.holdings {
        assert!(h.current, "{h:?}");
        assert_eq!(h.balances_to, day("2026-11-20"));
    }
    // Long before the data starts there is nothing to attest.
    let e = build("2020-01-01", "2026-12-01").await.unwrap_err();
    assert!(matches!(e, BuildError::StaleData { latest: None, .. }), "{e:?}");

    // The command line says the same and writes nothing.
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("future.pdf");
    let out = standing(&db).args(["report", "A1012", "--as-of", "2099-01-01", "--out"]).arg(&pdf).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is in the future") && stderr.contains("Nothing was written"), "{stderr}");
    assert!(!pdf.exists());
    let out = standing(&db).args(["score", "A1012", "--as-of", "2099-01-01"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let listed = standing(&db).args(["reports", "list"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&listed.stdout).contains("SR-"), "nothing was recorded");
}

/// One account with two holdings: H-1 reported every day, H-2 (with its
/// institution named) only until 2026-09-30.
fn holdings_with_a_gap() -> Vec<String> {
    let mut lines = vec![account("A1", "ZHANG Wei", "E12345678"), fx_rate("CNY", "CAD", "2026-11-20", "0.1932")];
    let mut d = day("2025-11-01");
    while d <= day("2026-11-20") {
        lines.push(balance("A1", "H-1", "savings", &d.to_string(), "100000.00", "CNY"));
        if d <= day("2026-09-30") {
            let mut v: serde_json::Value =
                serde_json::from_str(&balance("A1", "H-2", "current", &d.to_string(), "50000.00", "CNY")).unwrap();
            v["institution"] = "China Merchants Bank".into();
            lines.push(v.to_string());
        }
        d = d + Days::new(1);
    }
    lines
}

#[tokio::test]
async fn a_holding_whose_balances_stop_is_not_current_and_not_counted_for_ever() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    let dir = tempfile::tempdir().unwrap();
    import(&state, &[write_file(dir.path(), "a1.jsonl", &holdings_with_a_gap())]).await.unwrap();
    let mut ctx = context();
    ctx.threshold = 350;
    let data = build_report_data(&state.store, &state.cipher, &acct("A1"), day("2026-11-21"), &ctx).await.unwrap();

    let h1 = data.assets.holdings.iter().find(|h| h.holding == "H-1").unwrap();
    let h2 = data.assets.holdings.iter().find(|h| h.holding == "H-2").unwrap();
    assert!(h1.current && h1.institution.is_none(), "{h1:?}");
    assert_eq!(h1.figures.current.as_ref().unwrap().account.text, "CNY 100,000.00");
    // H-2 stopped on 2026-09-30: counted until 2026-10-07 (seven days),
    // not current, and its 3-month average counts only those days.
    assert!(!h2.current, "{h2:?}");
    assert_eq!(h2.balances_to, day("2026-09-30"));
    assert_eq!(h2.institution.as_deref(), Some("China Merchants Bank"));
    assert_eq!(h2.figures.current, None);
    assert_eq!(h2.figures.average_3m.as_ref().unwrap().account.text, "CNY 50,000.00");
    // The total holds only what is current; the averages see H-2 only while
    // it was counted.
    assert_eq!(data.assets.total.current.as_ref().unwrap().account.text, "CNY 100,000.00");
    assert_eq!(data.assets.total.maximum_6m.as_ref().unwrap().account.text, "CNY 150,000.00");
    assert_eq!(data.assets.total.minimum_6m.as_ref().unwrap().account.text, "CNY 100,000.00");
    // No transactions: the coverage says so.
    assert_eq!(data.coverage.transactions_to, None);
    let json = serde_json::to_value(&data).unwrap();
    assert_eq!(json["format"], "standing-report/v2");
    assert!(json["assets"]["holdings"][1]["figures"]["current"].is_null(), "{json:#}");
}

#[tokio::test]
async fn months_after_the_last_transaction_are_no_data_not_zero() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let mut lines = holdings_with_a_gap();
    // Spending every month from 2025-11 to 2026-07, then nothing.
    for (i, month) in
        ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07"]
            .iter()
            .enumerate()
    {
        lines.push(transaction(&format!("T-{i}"), "A1", &format!("{month}-15T10:00:00Z"), "-300.00"));
    }
    import(&state, &[write_file(dir.path(), "a1.jsonl", &lines)]).await.unwrap();
    let mut ctx = context();
    ctx.threshold = 350;
    let data = build_report_data(&state.store, &state.cipher, &acct("A1"), day("2026-11-21"), &ctx).await.unwrap();
    let s = &data.spending;
    assert_eq!(data.coverage.transactions_to, Some(day("2026-07-15")));
    let recorded: Vec<(&str, bool)> = s.months.iter().map(|m| (m.month.as_str(), m.recorded)).collect();
    assert_eq!(recorded.iter().filter(|(_, r)| *r).count(), 9, "{recorded:?}");
    assert!(recorded.iter().skip(9).all(|(m, r)| !r && *m > "2026-07"), "{recorded:?}");
    assert_eq!(s.months_recorded, 9);
    assert_eq!(s.total.account.text, "CNY 2,700.00");
    // The average is over the nine recorded months, not twelve.
    assert_eq!(s.average_monthly.as_ref().unwrap().account.text, "CNY 300.00");

    // With no transactions at all, no month is recorded and there is no average.
    let db = TestDb::new().await;
    let state = crate::helpers::state(&db).await;
    import(&state, &[write_file(dir.path(), "a2.jsonl", &holdings_with_a_gap())]).await.unwrap();
    let data = build_report_data(&state.store, &state.cipher, &acct("A1"), day("2026-11-21"), &ctx).await.unwrap();
    assert_eq!(data.spending.months_recorded, 0);
    assert_eq!(data.spending.average_monthly, None);
    assert!(data.spending.months.iter().all(|m| !m.recorded));
}

#[tokio::test]
async fn a_factor_without_data_adds_no_points() {
    // The outside test's A1012 as of a day long after its data ends: the
    // balance and spending factors have nothing to measure.
    let db = TestDb::new().await;
    let state = state(&db).await;
    state.load_demo_if_empty(&demo_dir()).await.unwrap();
    let (_, inputs) = load_inputs(&state.store, &acct("A1012"), day("2027-06-01"), standard_currency()).await.unwrap();
    let decision = decide(&inputs, 750);
    let mut unmeasured = 0;
    for f in &decision.factors {
        if f.measure.is_none() && f.band != "none in the last 24 months" {
            unmeasured += 1;
            assert_eq!(f.points, 0, "{f:?}");
        }
    }
    assert!(unmeasured >= 3, "the balance factors have no data: {decision:#?}");
    // (Such a date is refused before any report is built; see above.)
}

fn standard_currency() -> standing::domain::Currency {
    standing::domain::Currency::CAD
}

/// A record of the largest amount accepted, 10^13 yuan.
const MAX: &str = "10000000000000.00";

#[tokio::test]
async fn the_largest_accepted_amounts_cannot_overflow_the_score_or_the_report() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let mut lines = vec![account("A1", "ZHANG Wei", "E12345678"), fx_rate("CNY", "CAD", "2026-11-20", "0.1932")];
    // Three holdings at the maximum every day for a year, one at minus it.
    let mut d = day("2025-11-21");
    while d <= day("2026-11-20") {
        for h in ["H-1", "H-2", "H-3"] {
            lines.push(balance("A1", h, "savings", &d.to_string(), MAX, "CNY"));
        }
        lines.push(balance("A1", "H-4", "current", &d.to_string(), &format!("-{MAX}"), "CNY"));
        d = d + Days::new(1);
    }
    // Twelve months of the largest spending and income.
    // (The 12 full months before the as-of month: 2025-11 to 2026-10.)
    for month in 0..12 {
        let (y, m) = if month < 2 { (2025, 11 + month) } else { (2026, month - 1) };
        for i in 0..20 {
            let at = format!("{y}-{m:02}-{:02}T10:00:00Z", i + 1);
            lines.push(transaction(&format!("T-{y}{m}-{i}-out"), "A1", &at, &format!("-{MAX}")));
            lines.push(transaction(&format!("T-{y}{m}-{i}-in"), "A1", &at, MAX));
        }
    }
    // The value the outside test imported is refused at the door.
    let attack = balance("A1", "H-9", "savings", "2026-11-20", "-92233720368547758.07", "CNY");
    let refused = import(&state, &[write_file(dir.path(), "attack.jsonl", &[lines[0].clone(), attack])]).await;
    assert!(format!("{refused:?}").contains("largest amount"), "{refused:?}");
    import(&state, &[write_file(dir.path(), "max.jsonl", &lines)]).await.unwrap();

    let (_, inputs) = load_inputs(&state.store, &acct("A1"), day("2026-11-21"), standard_currency()).await.unwrap();
    let decision = decide(&inputs, 350);
    assert!(decision.score >= 350);
    let mut ctx = context();
    ctx.threshold = 350;
    let data = build_report_data(&state.store, &state.cipher, &acct("A1"), day("2026-11-21"), &ctx).await.unwrap();
    // 3 × 10^13 − 10^13, exactly, in every window.
    let total = &data.assets.total;
    for figure in [&total.current, &total.average_3m, &total.average_6m, &total.average_12m, &total.minimum_6m] {
        assert_eq!(figure.as_ref().unwrap().account.text, "CNY 20,000,000,000,000.00");
    }
    assert_eq!(total.current.as_ref().unwrap().authority.text, "CAD 3,864,000,000,000.00");
    let october = data.spending.months.iter().find(|m| m.month == "2026-10").unwrap();
    assert_eq!(october.total.text, "CNY 200,000,000,000,000.00");
    assert_eq!(data.spending.total.account.text, "CNY 2,400,000,000,000,000.00");

    // So many records in one month that the month's spending exceeds what a
    // report can state (10^19 fen): the report is refused, not wrapped, and
    // the score still stands (its monthly flows are capped).
    let many: Vec<String> = (0..10_000)
        .map(|i| transaction(&format!("T-many-{i}"), "A1", "2026-10-15T10:00:00Z", &format!("-{MAX}")))
        .collect();
    import(&state, &[write_file(dir.path(), "many.jsonl", &many)]).await.unwrap();
    let (_, inputs) = load_inputs(&state.store, &acct("A1"), day("2026-11-21"), standard_currency()).await.unwrap();
    let _ = decide(&inputs, 350);
    let e = build_report_data(&state.store, &state.cipher, &acct("A1"), day("2026-11-21"), &ctx).await.unwrap_err();
    assert!(matches!(e, BuildError::TooLarge(_)), "{e:?}");
    assert!(e.to_string().contains("the spending of 2026-10 is too large to state exactly"), "{e}");
}
