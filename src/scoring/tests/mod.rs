use chrono::{Datelike, Days, Months, NaiveDate};
use proptest::prelude::*;

use super::scorecard::{FactorSpec, markdown_tables};

use super::*;

mod properties;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

const YUAN: i64 = 100;

/// Monthly bills due on `day` for the `n` months up to as_of; `late` lists
/// due dates paid `days_late` days after due; the rest are paid 2 days early.
fn monthly_bills(as_of: NaiveDate, n: u32, day: u32, late: &[(&str, i64)]) -> Vec<BillOutcome> {
    let mut due = as_of.with_day(day).unwrap();
    if due > as_of {
        due = due - Months::new(1);
    }
    (0..n)
        .map(|i| {
            let due_on = due - Months::new(i);
            let paid_on = match late.iter().find(|(s, _)| d(s) == due_on) {
                Some((_, days)) if *days < 0 => None,
                Some((_, days)) => Some(due_on + Days::new(*days as u64)),
                None => Some(due_on - Days::new(2)),
            };
            BillOutcome { due_on, paid_on }
        })
        .rev()
        .collect()
}

/// One balance a day for the `n` days before as_of, from `f(days_before_as_of)`.
fn balances(as_of: NaiveDate, n: u64, f: impl Fn(u64) -> i64) -> Vec<(NaiveDate, i128)> {
    (1..=n).rev().map(|k| (as_of - Days::new(k), i128::from(f(k)))).collect()
}

/// The 12 full months before as_of's month with the given spending, oldest first.
fn months(as_of: NaiveDate, spending: &[i64], income: i64) -> Vec<MonthFlow> {
    let first = as_of.with_day(1).unwrap();
    let n = spending.len() as u32;
    spending
        .iter()
        .enumerate()
        .map(|(i, s)| MonthFlow {
            month: first - Months::new(n - i as u32),
            spending: i128::from(s * YUAN),
            income: i128::from(income * YUAN),
            transactions: 40,
        })
        .collect()
}

/// The worked example of docs/scoring.md.
pub(super) fn worked_example() -> ScoringInputs {
    let as_of = d("2026-11-21");
    ScoringInputs {
        as_of,
        currency: Currency::CNY,
        opened_on: d("2024-02-10"),
        phone_since: d("2022-09-01"),
        address_since: d("2024-06-15"),
        bills: monthly_bills(as_of, 24, 15, &[("2025-08-15", 10), ("2026-03-15", 5)]),
        // Earlier 91 days at 90,000.00; the last 91 at 70,000.00 with one day at 25,000.00.
        daily_balances: balances(as_of, 182, |k| match k {
            92.. => 90_000 * YUAN,
            40 => 25_000 * YUAN,
            _ => 70_000 * YUAN,
        }),
        months: months(
            as_of,
            &[8_000, 8_000, 9_000, 8_000, 15_000, 8_000, 9_000, 8_000, 8_000, 9_000, 8_000, 10_000],
            12_500,
        ),
    }
}

/// A strong profile: 11 years, every bill on time, about CNY 320k saved.
fn strong() -> ScoringInputs {
    let as_of = d("2026-11-21");
    let mut bills = monthly_bills(as_of, 24, 15, &[]);
    bills.extend(monthly_bills(as_of, 24, 3, &[]));
    ScoringInputs {
        as_of,
        currency: Currency::CNY,
        opened_on: d("2015-05-01"),
        phone_since: d("2012-06-01"),
        address_since: d("2016-01-01"),
        bills,
        daily_balances: balances(as_of, 365, |k| match k {
            100 => 140_000 * YUAN,
            _ => (305_000 + (k % 30) as i64 * 1_000) * YUAN,
        }),
        months: months(
            as_of,
            &[17_000, 18_500, 16_000, 21_000, 17_500, 18_000, 19_000, 16_500, 18_000, 22_000, 17_000, 16_500],
            35_000,
        ),
    }
}

/// A weak profile: a 3-month-old account, two missed bills, a few hundred yuan.
fn weak() -> ScoringInputs {
    let as_of = d("2026-11-21");
    ScoringInputs {
        as_of,
        currency: Currency::CNY,
        opened_on: d("2026-08-10"),
        phone_since: d("2025-10-01"),
        address_since: d("2026-03-01"),
        bills: vec![
            BillOutcome { due_on: d("2026-08-25"), paid_on: Some(d("2026-08-24")) },
            BillOutcome { due_on: d("2026-09-25"), paid_on: None },
            BillOutcome { due_on: d("2026-10-15"), paid_on: None },
            // Due 11 days ago and unpaid: open, not counted.
            BillOutcome { due_on: d("2026-11-10"), paid_on: None },
        ],
        daily_balances: balances(as_of, 103, |k| (300 + (k % 7) as i64 * 50) * YUAN),
        months: months(as_of, &[1_500, 2_900, 3_300], 2_000),
    }
}

fn points(s: &Scored) -> Vec<(&'static str, u16)> {
    s.factors.iter().map(|f| (f.key.key(), f.points)).collect()
}

fn factor(s: &Scored, key: Factor) -> &FactorResult {
    s.factors.iter().find(|f| f.key == key).unwrap()
}

// --- The scorecard itself --------------------------------------------------

#[test]
fn maximum_points_fill_the_scale_exactly() {
    let total: u16 = Factor::ALL.iter().map(|f| f.spec().max_points()).sum();
    assert_eq!(BASE_SCORE + total, MAX_SCORE);
    assert_eq!(SCORECARD_VERSION, "scorecard-v2");
    // A factor without data can never add points toward the gate: every
    // special band but "none late" (a finding from counted bills) is zero.
    for f in Factor::ALL {
        for special in f.spec().specials {
            let expected = if special.when == Special::NoneLate { special.points } else { 0 };
            assert_eq!(special.points, expected, "{} {:?}", f.key(), special.when);
        }
    }
}

#[test]
fn every_table_covers_all_measures_in_order() {
    for f in Factor::ALL {
        let spec: &FactorSpec = f.spec();
        let bands = spec.bands;
        assert_eq!(bands.first().unwrap().min, i64::MIN, "{}", spec.key);
        assert_eq!(bands.last().unwrap().max, i64::MAX, "{}", spec.key);
        for w in bands.windows(2) {
            assert_eq!(w[0].max + 1, w[1].min, "{}: gap or overlap", spec.key);
            if spec.higher_is_better {
                assert!(w[0].points < w[1].points, "{}: points must rise", spec.key);
            } else {
                assert!(w[0].points > w[1].points, "{}: points must fall", spec.key);
            }
        }
        // The key printed in docs is the JSON key.
        assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{}\"", spec.key));
    }
}

#[test]
fn the_documentation_prints_the_tables_of_the_code() {
    let doc = include_str!("../../../docs/scoring.md");
    assert!(
        doc.contains(&markdown_tables()),
        "docs/scoring.md is out of date; paste in scorecard::markdown_tables():\n{}",
        markdown_tables()
    );
}

// --- Definitions ------------------------------------------------------------

#[test]
fn bills_are_on_time_late_missed_or_open() {
    let as_of = d("2026-11-21");
    let bill = |due: &str, paid: Option<&str>| BillOutcome { due_on: d(due), paid_on: paid.map(d) };
    assert_eq!(bill("2026-10-01", Some("2026-10-01")).status(as_of), BillStatus::OnTime);
    assert_eq!(bill("2026-10-01", Some("2026-10-02")).status(as_of), BillStatus::Late);
    // Paid after as_of: unpaid at as_of.
    assert_eq!(bill("2026-10-01", Some("2026-11-22")).status(as_of), BillStatus::Missed);
    assert_eq!(bill("2026-10-22", None).status(as_of), BillStatus::Open); // 30 days
    assert_eq!(bill("2026-10-21", None).status(as_of), BillStatus::Missed); // 31 days
    assert_eq!(bill("2026-11-21", Some("2026-11-25")).status(as_of), BillStatus::Open);
}

#[test]
fn full_months_need_the_day_of_month() {
    assert_eq!(full_months(d("2024-01-31"), d("2024-02-29")), 0);
    assert_eq!(full_months(d("2024-01-31"), d("2024-03-01")), 1);
    assert_eq!(full_months(d("2021-11-21"), d("2026-11-21")), 60);
    assert_eq!(full_months(d("2021-11-22"), d("2026-11-21")), 59);
    assert_eq!(full_months(d("2027-01-01"), d("2026-11-21")), 0);
}

#[test]
fn volatility_is_the_coefficient_of_variation_rounded_down() {
    use super::factors::cv_permille;
    let cv = |xs: &[i64]| {
        let sum = xs.iter().sum();
        let sq = xs.iter().map(|x| i128::from(*x) * i128::from(*x)).sum();
        cv_permille(xs.len(), sum, sq)
    };
    assert_eq!(cv(&[100, 100, 100]), Some(0));
    // mean 200, population sd 81.649…, cv 0.40824…
    assert_eq!(cv(&[100, 200, 300]), Some(408));
    assert_eq!(cv(&[100, 200]), None, "fewer than 3 months");
    assert_eq!(cv(&[0, 0, 0]), None, "no spending");
    let big = MAX_MONTHLY_FLOW_FOR_TEST;
    assert!(cv(&[big; 12]).is_some());
}

const MAX_MONTHLY_FLOW_FOR_TEST: i64 = scorecard::MAX_MONTHLY_FLOW;

#[test]
fn a_thin_file_scores_nothing_for_what_is_unknown() {
    let as_of = d("2026-11-21");
    let s = score(&ScoringInputs {
        as_of,
        currency: Currency::CNY,
        opened_on: as_of,
        phone_since: as_of,
        address_since: as_of,
        bills: vec![],
        daily_balances: vec![],
        months: vec![],
    });
    assert_eq!(
        points(&s),
        vec![
            ("bill_on_time_rate", 0),
            ("bills_missed", 0),
            ("bill_last_late", 0),
            ("bill_count", 0),
            ("balance_average", 0),
            ("balance_minimum", 0),
            ("balance_trend", 0),
            ("spending_to_income", 0),
            ("spending_to_assets", 0),
            ("spending_volatility", 0),
            ("account_age", 0),
            ("phone_tenure", 0),
            ("address_tenure", 0),
        ]
    );
    assert_eq!(s.score, 350);
    assert!(factor(&s, Factor::BillOnTimeRate).measure.is_none());
}

#[test]
fn balance_bands_use_major_units_of_any_currency() {
    let mut inputs = worked_example();
    let kwd = Currency::from_code("KWD").unwrap(); // 3 decimals
    inputs.currency = kwd;
    inputs.daily_balances = balances(inputs.as_of, 182, |_| 100_000_000); // KWD 100,000.000
    let s = score(&inputs);
    let avg = factor(&s, Factor::BalanceAverage);
    assert_eq!(avg.measure, Some(100_000));
    assert_eq!(avg.band, "100,000 to 299,999");
    assert!(avg.value.starts_with("KWD 100,000.000"), "{}", avg.value);
}

// --- The documentation's worked example and the three profiles ----------------

#[test]
fn worked_example_matches_the_documentation() {
    let s = score(&worked_example());
    assert_eq!(
        points(&s),
        vec![
            ("bill_on_time_rate", 65),
            ("bills_missed", 50),
            ("bill_last_late", 20),
            ("bill_count", 20),
            ("balance_average", 45),
            ("balance_minimum", 22),
            ("balance_trend", 18),
            ("spending_to_income", 20),
            ("spending_to_assets", 22),
            ("spending_volatility", 22),
            ("account_age", 30),
            ("phone_tenure", 32),
            ("address_tenure", 18),
        ]
    );
    let measures: Vec<Option<i64>> = s.factors.iter().map(|f| f.measure).collect();
    assert_eq!(
        measures,
        vec![
            Some(916),
            Some(0),
            Some(251),
            Some(24),
            Some(79_752),
            Some(25_000),
            Some(69_505),
            Some(720),
            Some(112),
            Some(212),
            Some(33),
            Some(50),
            Some(29),
        ]
    );
    assert_eq!(factor(&s, Factor::BillOnTimeRate).value, "22 of 24 on time (91.6%)");
    assert_eq!(s.points, 384);
    assert_eq!(s.score, 734);

    let dec = decide(&worked_example(), DEFAULT_THRESHOLD);
    assert!(!dec.eligible);
    let order: Vec<(Factor, u16)> = dec.reasons.iter().map(|r| (r.factor, r.points_lost)).collect();
    assert_eq!(
        order,
        vec![
            (Factor::BillOnTimeRate, 45),
            (Factor::BalanceAverage, 35),
            (Factor::AccountAge, 30),
            (Factor::BillLastLate, 20),
        ]
    );
    assert!(dec.reasons[0].improve.contains("5 more bills paid on time"), "{}", dec.reasons[0].improve);
    assert!(dec.reasons[1].improve.contains("CNY 100,000.00"));
    assert!(dec.reasons[2].improve.contains("2027-02-10"));
    assert_eq!(dec.alternatives, Some(IRCC_ALTERNATIVES));
}

#[test]
fn one_late_bill_fewer_crosses_the_threshold() {
    let mut inputs = worked_example();
    let late = inputs.bills.iter_mut().find(|b| b.due_on == d("2025-08-15")).unwrap();
    late.paid_on = Some(d("2025-08-13"));
    let dec = decide(&inputs, DEFAULT_THRESHOLD);
    assert_eq!(dec.score, 754);
    assert!(dec.eligible);
    assert!(dec.reasons.is_empty());
    assert_eq!(dec.alternatives, None);
}

#[test]
fn a_score_of_exactly_750_is_not_eligible() {
    let mut inputs = worked_example();
    inputs.phone_since = d("2021-09-01"); // 62 months: +8
    inputs.months = months(inputs.as_of, &[9_000; 12], 12_500); // steady: +8
    let dec = decide(&inputs, DEFAULT_THRESHOLD);
    assert_eq!(dec.score, 750);
    assert!(!dec.eligible);
    assert!(!dec.reasons.is_empty());
    assert!(decide(&inputs, 749).eligible);
}

#[test]
fn profiles_land_where_calibrated() {
    let strong = score(&strong());
    let moderate = score(&worked_example());
    let weak = score(&weak());
    assert!((880..=940).contains(&strong.score), "strong {}", strong.score);
    assert!((720..=790).contains(&moderate.score), "moderate {}", moderate.score);
    assert!((400..=500).contains(&weak.score), "weak {}", weak.score);
    assert_eq!((strong.score, moderate.score, weak.score), (935, 734, 409));
}

#[test]
fn the_weak_profile_explains_itself() {
    let dec = decide(&weak(), DEFAULT_THRESHOLD);
    assert!(!dec.eligible);
    assert_eq!(dec.reasons.len(), 4);
    assert_eq!(dec.reasons[0].factor, Factor::BillOnTimeRate);
    let s = score(&weak());
    assert_eq!(factor(&s, Factor::BillsMissed).measure, Some(2));
    assert!(factor(&s, Factor::BillOnTimeRate).value.contains("1 open, not counted"));
    assert!(dec.reasons[0].text.starts_with("1 of your 3 bills due in the last 24 months was paid"));
}

#[test]
fn one_cause_gives_one_reason() {
    let mut thin = weak();
    thin.bills.clear();
    thin.daily_balances.truncate(50);
    let dec = decide(&thin, DEFAULT_THRESHOLD);
    let improves: Vec<&str> = dec.reasons.iter().map(|r| r.improve.as_str()).collect();
    let mut unique = improves.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), improves.len(), "{improves:#?}");
    assert_eq!(dec.reasons.len(), scorecard::MAX_REASONS);
}

// --- Output -----------------------------------------------------------------

#[test]
fn decision_json_has_the_contracted_shape() {
    let dec = decide(&worked_example(), DEFAULT_THRESHOLD);
    let v = serde_json::to_value(&dec).unwrap();
    assert_eq!(v["score"], 734);
    assert_eq!(v["eligible"], false);
    assert_eq!(v["threshold"], 750);
    assert_eq!(v["scorecard"], "scorecard-v2");
    assert_eq!(v["as_of"], "2026-11-21");
    assert_eq!(v["currency"], "CNY");
    let f0 = &v["factors"][0];
    assert_eq!(f0["key"], "bill_on_time_rate");
    assert_eq!(f0["value"], "22 of 24 on time (91.6%)");
    assert_eq!(f0["measure"], 916);
    assert_eq!(f0["unit"], "permille");
    assert_eq!(f0["band"], "85.0% to 92.9%");
    assert_eq!(f0["points"], 65);
    assert_eq!(f0["max_points"], 110);
    assert_eq!(v["reasons"][0]["factor"], "bill_on_time_rate");
    assert!(v["reasons"][0]["text"].is_string() && v["reasons"][0]["improve"].is_string());
    assert!(v["alternatives"].as_str().unwrap().contains("Guaranteed Investment Certificate"));
}

#[test]
fn text_output_shows_the_table_the_decision_and_the_reasons() {
    let text = render_text(&decide(&worked_example(), DEFAULT_THRESHOLD));
    for needle in [
        "Score 734",
        "Bills paid on time",
        "22 of 24 on time (91.6%)",
        "65/110",
        "384/600",
        "350 + 384 = 734",
        "NOT ELIGIBLE",
        "Reasons",
        "To improve:",
        "Guaranteed Investment",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    let text = render_text(&decide(&strong(), DEFAULT_THRESHOLD));
    assert!(text.contains("ELIGIBLE (the score is above 750)") && !text.contains("Reasons"));
}
