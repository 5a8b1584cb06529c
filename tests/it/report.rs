//! Report data: every figure is what the imported data implies, recomputed
//! here straight from the fixture files, independently of the builder.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rand::SeedableRng;
use standing::demo::demo_dir;
use standing::domain::{Currency, ReportNumber, VerificationCode};
use standing::report::build::{BuildError, IssueContext, build_report_data};
use standing::report::data::{Authority, Issuer, Signing};

use crate::helpers::*;

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

pub fn context() -> IssueContext {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    IssueContext {
        issuer: Issuer {
            name: "standing".into(),
            url: "http://127.0.0.1:8080".into(),
            legal_name: "Standing Test Issuer Ltd.".into(),
            address: None,
            contact: "http://127.0.0.1:8080".into(),
        },
        authority: Authority {
            code: "IRCC".into(),
            name: "Immigration, Refugees and Citizenship Canada".into(),
            currency: "CAD".into(),
        },
        authority_currency: Currency::CAD,
        threshold: 750,
        show_score: false,
        validity_days: 90,
        max_data_age_days: 7,
        report_number: ReportNumber::generate(&mut rng),
        verification_code: VerificationCode::generate(&mut rng),
        issued_at: Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap(),
        signing: Signing { key_id: "test-kid".into(), algorithm: "Ed25519".into() },
    }
}

/// The demo records of one type for one account, as raw JSON.
fn fixture_records(kind: &str, account: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(demo_dir()).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if v["type"] == kind && v["account"] == account {
                out.push(v);
            }
        }
    }
    out
}

fn minor(amount: &serde_json::Value) -> i64 {
    let s = amount.as_str().unwrap();
    let (int, frac) = s.split_once('.').unwrap_or((s, "00"));
    let sign = if int.starts_with('-') { -1 } else { 1 };
    let cents =
        int.trim_start_matches('-').parse::<i64>().unwrap() * 100 + format!("{frac:0<2}").parse::<i64>().unwrap();
    sign * cents
}

#[tokio::test]
async fn report_figures_are_what_the_data_implies() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    state.load_demo_if_empty(&demo_dir()).await.unwrap();
    let account = "A1012";

    let data = build_report_data(&state.store, &state.cipher, &acct(account), as_of(), &context()).await.unwrap();

    // Identity, decrypted from the store.
    assert_eq!(data.applicant.full_name, "Zoë Łucja ŌTSUKA-NÚÑEZ");
    assert_eq!(data.valid_until, NaiveDate::from_ymd_opt(2027, 2, 19).unwrap());
    assert!(data.verification_url.starts_with("http://127.0.0.1:8080/verify/SR-"));
    assert!(data.verification_url.contains("?c="));
    assert_eq!(data.eligibility.score, None, "the score is not printed unless the operator asks");

    // Assets: each holding's current balance is its last balance on or
    // before the as-of date; the 6-month minimum is over the daily series.
    let balances = fixture_records("balance", account);
    let mut by_holding: BTreeMap<String, Vec<(NaiveDate, i64, String)>> = BTreeMap::new();
    for b in &balances {
        by_holding.entry(b["holding"].as_str().unwrap().into()).or_default().push((
            b["date"].as_str().unwrap().parse().unwrap(),
            minor(&b["amount"]),
            b["currency"].as_str().unwrap().into(),
        ));
    }
    assert_eq!(data.assets.holdings.len(), by_holding.len());
    let six_months_from = as_of() - chrono::Days::new(181);
    for h in &data.assets.holdings {
        let series = &by_holding[&h.holding];
        let (_, last, currency) = series.iter().filter(|(d, _, _)| *d <= as_of()).max_by_key(|(d, _, _)| *d).unwrap();
        assert_eq!(h.figures.current.as_ref().unwrap().account.minor, *last, "current balance of {}", h.holding);
        assert!(h.current && h.balances_to == NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(), "{h:?}");
        assert!(h.institution.is_some(), "the demo data names every holding's institution");
        assert_eq!(&h.currency, currency);
        let min6 =
            series.iter().filter(|(d, _, _)| *d >= six_months_from && *d <= as_of()).map(|(_, v, _)| *v).min().unwrap();
        assert_eq!(h.figures.minimum_6m.as_ref().unwrap().account.minor, min6, "6-month minimum of {}", h.holding);
    }
    assert!(data.assets.holdings.iter().any(|h| h.currency == "USD"), "the USD holding is reported");
    assert_eq!(data.assets.currency, "CNY");

    // Conversions use the latest rate on or before the as-of date, and the
    // rates are listed.
    let cny_cad = data.exchange_rates.iter().find(|r| r.base == "CNY" && r.quote == "CAD").unwrap();
    assert!(data.exchange_rates.iter().any(|r| r.base == "USD" && r.quote == "CAD"));
    let cross = data.exchange_rates.iter().find(|r| r.base == "USD" && r.quote == "CNY").unwrap();
    assert!(cross.source.starts_with("cross rate of"), "{cross:?}");
    assert!(cny_cad.date <= as_of());
    assert_eq!(data.assets.total.current.as_ref().unwrap().authority.currency, "CAD");
    // The coverage: balances and transactions up to the day before the as-of date.
    assert_eq!(data.coverage.balances_to, NaiveDate::from_ymd_opt(2026, 11, 20).unwrap());
    assert_eq!(data.coverage.transactions_to, Some(NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()));

    // Spending: October 2026, summed from the raw transactions.
    let october: i64 = fixture_records("transaction", account)
        .iter()
        .filter(|t| {
            let at: DateTime<Utc> = t["posted_at"].as_str().unwrap().parse().unwrap();
            at >= Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap()
                && at < Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
                && minor(&t["amount"]) < 0
                && !t["category"].as_str().unwrap().starts_with("transfer_")
        })
        .map(|t| -minor(&t["amount"]))
        .sum();
    let month = data.spending.months.iter().find(|m| m.month == "2026-10").unwrap();
    assert_eq!(month.total.minor, october);
    assert_eq!(data.spending.months.len(), 12);
    assert_eq!(data.spending.months.first().unwrap().month, "2025-11");
    assert!(month.top_categories.len() <= 3 && !month.top_categories.is_empty());
    assert!(month.top_categories.windows(2).all(|w| w[0].total.minor >= w[1].total.minor));
    assert_eq!(data.spending.total.account.minor, data.spending.months.iter().map(|m| m.total.minor).sum::<i64>());

    // Bills due in the 12 months up to the as-of date.
    let from = NaiveDate::from_ymd_opt(2025, 11, 22).unwrap();
    let bills: Vec<_> = fixture_records("bill", account)
        .into_iter()
        .filter(|b| {
            let due: NaiveDate = b["due_on"].as_str().unwrap().parse().unwrap();
            due >= from && due <= as_of()
        })
        .collect();
    assert_eq!(data.bills.count as usize, bills.len());
    let late =
        bills.iter().filter(|b| b["paid_on"].as_str().is_some_and(|p| p > b["due_on"].as_str().unwrap())).count();
    assert_eq!(data.bills.late as usize, late);
    assert_eq!(data.bills.on_time + data.bills.late + data.bills.missed + data.bills.open, data.bills.count);
}

#[tokio::test]
async fn an_ineligible_account_gets_no_report_but_its_reasons() {
    let db = TestDb::new().await;
    let state = state(&db).await;
    state.load_demo_if_empty(&demo_dir()).await.unwrap();

    let result = build_report_data(&state.store, &state.cipher, &acct("A1003"), as_of(), &context()).await;

    match result {
        Err(BuildError::Ineligible(decision)) => {
            assert_eq!(decision.score, 750, "750 itself is refused");
            assert!(!decision.reasons.is_empty());
        }
        other => panic!("expected a refusal, got {:?}", other.map(|d| d.report_number)),
    }
    let unknown = build_report_data(&state.store, &state.cipher, &acct("NOPE"), as_of(), &context()).await;
    assert!(matches!(unknown, Err(BuildError::UnknownAccount(_))));
}
