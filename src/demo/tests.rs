use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Days, Months, NaiveDate};
use serde_json::Value;

use super::*;
use crate::domain::{
    CountryCode, Currency, EmailAddress, FullName, Money, PassportNumber, PhoneNumber, Rate, RecordId,
};
use crate::import::{RECORD_TYPES, record_fields};

const REGENERATE: &str = "cargo test --lib demo::tests::regenerate_fixtures -- --ignored";

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo")
}

/// Every file of a directory, by name.
fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect()
}

fn fresh() -> (tempfile::TempDir, DemoSummary) {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(dir.path()).unwrap();
    (dir, summary)
}

/// One parsed line with where it came from.
struct Rec {
    at: String,
    raw: String,
    v: Value,
}

impl Rec {
    fn s(&self, key: &str) -> &str {
        self.v[key].as_str().unwrap_or_else(|| panic!("{}: `{key}` is not a string", self.at))
    }
    fn date(&self, key: &str) -> NaiveDate {
        NaiveDate::parse_from_str(self.s(key), "%Y-%m-%d").unwrap_or_else(|e| panic!("{}: {key}: {e}", self.at))
    }
    fn money(&self, key: &str) -> Money {
        let cur = Currency::from_code(self.s("currency")).unwrap();
        assert_eq!(cur.minor_digits(), 2, "{}", self.at);
        Money::parse(self.s(key), cur).unwrap_or_else(|e| panic!("{}: {key}: {e}", self.at))
    }
}

/// All records of a generated directory, by type, in import (file name) order.
fn records(dir: &Path) -> HashMap<String, Vec<Rec>> {
    let mut out: HashMap<String, Vec<Rec>> = HashMap::new();
    for (name, bytes) in read_dir(dir) {
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.ends_with('\n') && !text.contains('\r'), "{name}: lines must end with \\n");
        for (i, raw) in text.lines().enumerate() {
            let at = format!("{name}:{}", i + 1);
            let v: Value = serde_json::from_str(raw).unwrap_or_else(|e| panic!("{at}: {e}"));
            let ty = v["type"].as_str().unwrap_or_else(|| panic!("{at}: no type")).to_owned();
            out.entry(ty).or_default().push(Rec { at, raw: raw.to_owned(), v });
        }
    }
    out
}

#[test]
#[ignore = "writes fixtures/demo; run it after changing the generator"]
fn regenerate_fixtures() {
    let summary = generate(&fixtures_dir()).unwrap();
    println!("{summary}");
    for (name, size) in &summary.files {
        println!("{name:32} {size:>10}");
    }
}

#[test]
fn generating_twice_gives_the_same_bytes() {
    let (a, sa) = fresh();
    let (b, sb) = fresh();
    assert_eq!(sa, sb);
    let (fa, fb) = (read_dir(a.path()), read_dir(b.path()));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(bytes == &fb[name], "{name} differs between two runs");
    }
}

#[test]
fn committed_fixtures_are_exactly_what_the_generator_writes() {
    let (dir, _) = fresh();
    let want = read_dir(dir.path());
    let have = read_dir(&fixtures_dir());
    let hint =
        format!("fixtures/demo is generated, never edited by hand: regenerate it with `{REGENERATE}` and commit");
    assert_eq!(
        have.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "fixtures/demo has other files than the generator writes; {hint}"
    );
    for (name, bytes) in &want {
        assert!(&have[name] == bytes, "fixtures/demo/{name} differs from a fresh generation; {hint}");
    }
}

#[test]
fn file_names_sort_into_import_order_and_stay_small() {
    let (_dir, summary) = fresh();
    let names: Vec<&str> = summary.files.iter().map(|(n, _)| n.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(names.first(), Some(&"01-accounts.jsonl"));
    let total: u64 = summary.files.iter().map(|(_, s)| s).sum();
    assert!(total < 12_000_000, "fixtures total {total} bytes");
    for (name, size) in &summary.files {
        assert!(*size <= MAX_FILE_BYTES as u64, "{name} is {size} bytes");
    }
}

#[test]
fn generate_replaces_stale_files_of_ours_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("09-old.jsonl"), "x").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "keep").unwrap();
    generate(dir.path()).unwrap();
    assert!(!dir.path().join("09-old.jsonl").exists());
    assert!(dir.path().join("notes.txt").exists());
}

/// The fields of each record type, in the order DESIGN.md shows them.
/// `type`, then the fields the importer accepts for `ty`, in order.
fn expected_keys(ty: &str) -> Vec<&'static str> {
    assert!(RECORD_TYPES.contains(&ty), "unexpected record type {ty}");
    std::iter::once("type").chain(record_fields(ty).iter().copied()).collect()
}

#[test]
fn every_line_has_exactly_the_documented_fields_with_valid_values() {
    let (dir, summary) = fresh();
    let recs = records(dir.path());
    let last_day = DEMO_AS_OF.pred_opt().unwrap();
    let mut count = 0;
    for (ty, list) in &recs {
        let keys = expected_keys(ty);
        for r in list {
            count += 1;
            let obj = r.v.as_object().unwrap();
            let present: Vec<&str> = keys.iter().copied().filter(|k| obj.contains_key(*k)).collect();
            assert_eq!(obj.len(), present.len(), "{}: unknown fields in {}", r.at, r.raw);
            let optional = |k: &str| ty == "bill" && k == "paid_on";
            for k in &keys {
                assert!(obj.contains_key(*k) || optional(k), "{}: missing `{k}`", r.at);
            }
            // Field order as documented.
            let positions: Vec<usize> = present.iter().map(|k| r.raw.find(&format!("\"{k}\":")).unwrap()).collect();
            assert!(positions.windows(2).all(|w| w[0] < w[1]), "{}: fields out of order", r.at);
            // Everything is a string (amounts never JSON numbers).
            assert!(obj.values().all(Value::is_string), "{}: non-string value in {}", r.at, r.raw);
            for k in ["date", "due_on", "paid_on"] {
                if obj.contains_key(k) {
                    assert!(r.date(k) <= last_day, "{}: {k} after {last_day}", r.at);
                }
            }
            if obj.contains_key("amount") {
                let amount = r.s("amount");
                let frac = amount.split_once('.').map_or(0, |(_, f)| f.len());
                assert!(frac <= 2, "{}: {amount}", r.at);
                r.money("amount");
            }
            if obj.contains_key("account") {
                RecordId::parse(r.s("account")).unwrap();
            }
            if obj.contains_key("id") {
                RecordId::parse(r.s("id")).unwrap();
            }
        }
    }
    let total = summary.accounts + summary.transactions + summary.balances + summary.bills + summary.fx_rates;
    assert_eq!(count, total);

    for r in &recs["account"] {
        FullName::parse(r.s("full_name")).unwrap();
        CountryCode::parse(r.s("nationality")).unwrap();
        CountryCode::parse(r.s("passport_country")).unwrap();
        PassportNumber::parse(r.s("passport_number")).unwrap();
        PhoneNumber::parse(r.s("phone")).unwrap();
        let email = r.s("email");
        EmailAddress::parse(email).unwrap();
        assert!(email.ends_with("@example.com"), "{}", r.at);
        for k in ["date_of_birth", "opened_on", "phone_since", "address_since"] {
            assert!(r.date(k) < DEMO_AS_OF, "{}: {k}", r.at);
        }
    }
    for r in &recs["transaction"] {
        let t = DateTime::parse_from_rfc3339(r.s("posted_at")).unwrap();
        assert!(r.s("posted_at").ends_with('Z') && t.date_naive() <= last_day, "{}", r.at);
        assert!(!r.s("category").is_empty() && !r.s("merchant").is_empty(), "{}", r.at);
    }
    for r in &recs["fx_rate"] {
        Rate::parse(r.s("rate")).unwrap();
        Currency::from_code(r.s("base")).unwrap();
        assert_eq!(r.s("quote"), "CAD");
    }
    for r in &recs["balance"] {
        crate::domain::HoldingKind::parse(r.s("kind")).unwrap();
    }
}

#[test]
fn ids_are_unique_and_references_resolve() {
    let (dir, _) = fresh();
    let recs = records(dir.path());
    let accounts: HashSet<&str> = recs["account"].iter().map(|r| r.s("id")).collect();
    assert_eq!(accounts.len(), recs["account"].len());
    for ty in ["transaction", "bill"] {
        let ids: HashSet<&str> = recs[ty].iter().map(|r| r.s("id")).collect();
        assert_eq!(ids.len(), recs[ty].len(), "duplicate {ty} ids");
    }
    for ty in ["transaction", "bill", "balance"] {
        for r in &recs[ty] {
            assert!(accounts.contains(r.s("account")), "{}: unknown account", r.at);
        }
    }
    // One balance per holding per day; a holding belongs to one account.
    let mut seen = HashSet::new();
    let mut owner: HashMap<&str, &str> = HashMap::new();
    for r in &recs["balance"] {
        assert!(seen.insert((r.s("holding"), r.s("date"))), "{}: duplicate balance", r.at);
        assert_eq!(*owner.entry(r.s("holding")).or_insert(r.s("account")), r.s("account"));
    }
    // Identity data that matching relies on is unique.
    for key in ["passport_number", "phone", "email"] {
        let values: HashSet<&str> = recs["account"].iter().map(|r| r.s(key)).collect();
        assert_eq!(values.len(), recs["account"].len(), "duplicate {key}");
    }
}

/// Per account: the current holding's daily balances (date → minor units).
fn current_balances(recs: &HashMap<String, Vec<Rec>>) -> HashMap<String, BTreeMap<NaiveDate, i64>> {
    let mut out: HashMap<String, BTreeMap<NaiveDate, i64>> = HashMap::new();
    for r in recs["balance"].iter().filter(|r| r.s("kind") == "current") {
        out.entry(r.s("account").to_owned()).or_default().insert(r.date("date"), r.money("amount").minor());
    }
    out
}

#[test]
fn balances_are_daily_and_the_current_account_follows_its_transactions() {
    let (dir, _) = fresh();
    let recs = records(dir.path());
    let last_day = DEMO_AS_OF.pred_opt().unwrap();

    // Every holding has a balance for every day from its first to the last day.
    let mut by_holding: HashMap<&str, BTreeSet<NaiveDate>> = HashMap::new();
    for r in &recs["balance"] {
        by_holding.entry(r.s("holding")).or_default().insert(r.date("date"));
    }
    for (holding, dates) in &by_holding {
        let (first, last) = (*dates.first().unwrap(), *dates.last().unwrap());
        assert_eq!(last, last_day, "{holding}");
        assert_eq!(dates.len() as i64, (last - first).num_days() + 1, "{holding} has gaps");
    }

    let mut daily: HashMap<(String, NaiveDate), i64> = HashMap::new();
    for r in &recs["transaction"] {
        let day = DateTime::parse_from_rfc3339(r.s("posted_at")).unwrap().date_naive();
        *daily.entry((r.s("account").to_owned(), day)).or_default() += r.money("amount").minor();
    }
    for (account, series) in current_balances(&recs) {
        let mut prev: Option<i64> = None;
        for (day, bal) in &series {
            assert!(*bal >= 0, "{account}: current account negative on {day}");
            let moved = daily.get(&(account.clone(), *day)).copied().unwrap_or(0);
            if let Some(p) = prev {
                assert_eq!(p + moved, *bal, "{account} on {day}: previous balance plus transactions");
            }
            prev = Some(*bal);
        }
        // No transaction falls outside the balance history.
        let first = *series.keys().next().unwrap();
        for (a, d) in daily.keys() {
            if *a == account {
                assert!(*d >= first, "{account}: transaction on {d} before the first balance");
            }
        }
    }
    for r in &recs["balance"] {
        assert!(!r.money("amount").is_negative(), "{}: negative balance", r.at);
    }
}

#[test]
fn bills_are_monthly_per_biller_and_follow_the_profile_counts() {
    let (dir, _) = fresh();
    let recs = records(dir.path());
    let window = DEMO_AS_OF.checked_sub_months(Months::new(12)).unwrap();
    let mut per_month = HashSet::new();
    let mut late: HashMap<&str, u32> = HashMap::new();
    let mut missed: HashMap<&str, u32> = HashMap::new();
    let payments: HashSet<(&str, String, &str, &str)> = recs["transaction"]
        .iter()
        .map(|r| (r.s("account"), r.s("posted_at")[..10].to_owned(), r.s("merchant"), r.s("amount")))
        .collect();
    for r in &recs["bill"] {
        let due = r.date("due_on");
        assert!(per_month.insert((r.s("account"), r.s("biller"), due)), "{}: two bills in a month", r.at);
        assert_eq!(chrono::Datelike::day(&due), 15, "{}: bills are due mid-month", r.at);
        assert!(["utility", "telecom", "housing"].contains(&r.s("kind")), "{}", r.at);
        match r.v.get("paid_on") {
            None => *missed.entry(r.s("account")).or_default() += 1,
            Some(_) => {
                let paid = r.date("paid_on");
                if paid > due {
                    assert!(due > window, "{}: late bills are placed in the last 12 months", r.at);
                    *late.entry(r.s("account")).or_default() += 1;
                }
                // The payment shows on the current account that day.
                let amount = format!("-{}", r.s("amount"));
                let key = (r.s("account"), paid.to_string(), r.s("biller"), amount.as_str());
                assert!(payments.contains(&key), "{}: no payment transaction for a paid bill", r.at);
            }
        }
    }
    for p in PROFILES {
        assert_eq!(late.get(p.id).copied().unwrap_or(0), p.late_bills, "{}: late bills", p.id);
        assert_eq!(missed.get(p.id).copied().unwrap_or(0), p.missed_bills, "{}: missed bills", p.id);
    }
}

#[test]
fn the_special_cases_exist() {
    let (dir, _) = fresh();
    let recs = records(dir.path());
    let by_account = |ty: &str, id: &str| recs[ty].iter().filter(|r| r.s("account") == id).count();
    let profile = |pred: &dyn Fn(&Profile) -> bool| PROFILES.iter().filter(|p| pred(p)).collect::<Vec<_>>();

    assert!(PROFILES.len() >= 12);
    assert!((2..=4).contains(&profile(&|p| p.band == Band::Strong).len()));
    assert!(profile(&|p| p.band == Band::NearGate).len() >= 4);

    // The benchmark account: five years, about 20,000 transactions.
    let bench = profile(&|p| p.history_months >= 60);
    assert_eq!(bench.len(), 1);
    assert!(by_account("transaction", bench[0].id) >= 19_000);
    let currents = current_balances(&recs);
    let days = currents[bench[0].id].len();
    assert!(days >= 5 * 365, "{days} days");

    // Everyone else: at least 13 months of daily data, except the thin file.
    for p in PROFILES {
        let series = &currents[p.id];
        let span = series.len();
        if p.history_months < 13 {
            assert!(span <= 100, "{}: thin file has {span} days", p.id);
            assert!(p.missed_bills >= 1 && by_account("bill", p.id) > 0);
            let first = *series.keys().next().unwrap();
            assert_eq!(first, p.opened_on);
            let average = series.values().sum::<i64>() / series.len() as i64;
            assert!(average < 100_000, "{}: a few hundred yuan on average, not {average}", p.id);
        } else {
            let start = DEMO_AS_OF.checked_sub_months(Months::new(13)).unwrap();
            assert!(*series.keys().next().unwrap() <= start, "{}: less than 13 months", p.id);
        }
    }
    assert_eq!(profile(&|p| p.history_months < 13).len(), 1);

    // A CNY 200,000 deposit three weeks before the as-of date, seen in the balances.
    let day = DEMO_AS_OF.checked_sub_days(Days::new(21)).unwrap();
    let deposit = recs["transaction"]
        .iter()
        .find(|r| r.s("category") == "transfer_in" && r.s("amount") == "200000.00")
        .expect("a CNY 200,000 transfer_in");
    assert_eq!(&deposit.s("posted_at")[..10], day.to_string());
    let series = &currents[deposit.s("account")];
    let before = series[&day.pred_opt().unwrap()];
    assert!(series[&day] - before >= 19_000_000, "the deposit shows in the current balance");

    // A second currency.
    let usd: Vec<&Rec> = recs["balance"].iter().filter(|r| r.s("currency") == "USD").collect();
    assert!(!usd.is_empty());
    assert!(usd.iter().all(|r| r.s("holding") == usd[0].s("holding")));

    // Names in other scripts, and a few other nationalities.
    let names: Vec<&str> = recs["account"].iter().map(|r| r.s("full_name")).collect();
    assert!(names.contains(&"Zoë Łucja ŌTSUKA-NÚÑEZ") && names.contains(&"Łukasz KOWALSKI-ZHANG"));
    assert!(names.contains(&"ZHANG Wei") && names.contains(&"LI Na") && names.contains(&"WANG Fang"));

    // FX rates: both pairs, every business day of the last 13 months.
    let start = DEMO_AS_OF.checked_sub_months(Months::new(13)).unwrap();
    for base in ["CNY", "USD"] {
        let dates: BTreeSet<NaiveDate> =
            recs["fx_rate"].iter().filter(|r| r.s("base") == base).map(|r| r.date("date")).collect();
        assert!(*dates.first().unwrap() <= start.checked_add_days(Days::new(3)).unwrap(), "{base}");
        assert_eq!(*dates.last().unwrap(), DEMO_AS_OF.pred_opt().unwrap(), "{base}");
        assert!(dates.len() >= 270, "{base}: {} days", dates.len());
    }
    let rate = |base: &str| {
        let r = recs["fx_rate"].iter().rfind(|r| r.s("base") == base).unwrap();
        r.s("rate").parse::<f64>().unwrap()
    };
    assert!((0.17..0.21).contains(&rate("CNY")) && (1.30..1.45).contains(&rate("USD")));
}

#[test]
fn bulk_writer_writes_an_account_and_n_valid_transactions() {
    let mut out = Vec::new();
    write_bulk_transactions(&mut out, "BENCH-1", 5_000, 7).unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5_001);
    let mut ids = HashSet::new();
    let mut last = String::new();
    for (i, raw) in lines.iter().enumerate() {
        let v: Value = serde_json::from_str(raw).unwrap_or_else(|e| panic!("line {}: {e}: {raw}", i + 1));
        let ty = v["type"].as_str().unwrap();
        assert_eq!(ty, if i == 0 { "account" } else { "transaction" });
        let obj = v.as_object().unwrap();
        assert_eq!(obj.len(), expected_keys(ty).len(), "{raw}");
        if i == 0 {
            PassportNumber::parse(v["passport_number"].as_str().unwrap()).unwrap();
            PhoneNumber::parse(v["phone"].as_str().unwrap()).unwrap();
            EmailAddress::parse(v["email"].as_str().unwrap()).unwrap();
            continue;
        }
        assert!(ids.insert(v["id"].as_str().unwrap().to_owned()));
        Money::parse(v["amount"].as_str().unwrap(), Currency::CNY).unwrap();
        let posted = v["posted_at"].as_str().unwrap().to_owned();
        DateTime::parse_from_rfc3339(&posted).unwrap();
        assert!(posted > last, "posted in time order");
        last = posted;
    }
    assert!(last.as_str() < "2026-11-21");

    let mut again = Vec::new();
    write_bulk_transactions(&mut again, "BENCH-1", 5_000, 7).unwrap();
    assert_eq!(out, again, "same seed, same bytes");
    assert!(write_bulk_transactions(&mut Vec::new(), "has space", 1, 7).is_err());
}

#[test]
#[ignore = "prints a table of the demo accounts; for people tuning profiles"]
fn print_account_table() {
    let (dir, summary) = fresh();
    for (name, size) in &summary.files {
        println!("{name:32} {size:>10}");
    }
    let recs = records(dir.path());
    let currents = current_balances(&recs);
    for p in PROFILES {
        let txs = recs["transaction"].iter().filter(|r| r.s("account") == p.id).count();
        let series = &currents[p.id];
        let avg = series.values().sum::<i64>() / series.len() as i64 / 100;
        let max = series.values().max().unwrap() / 100;
        let mut last: BTreeMap<&str, String> = BTreeMap::new();
        for r in recs["balance"].iter().filter(|r| r.s("account") == p.id) {
            last.insert(r.s("holding"), format!("{}:{} {}", r.s("kind"), r.s("currency"), r.s("amount")));
        }
        let bills = recs["bill"].iter().filter(|r| r.s("account") == p.id).count();
        println!(
            "{} {:24} {:?} days={} txs={} cur_avg={} cur_max={} bills={} late={} missed={} | {}",
            p.id,
            p.full_name,
            p.band,
            series.len(),
            txs,
            avg,
            max,
            bills,
            p.late_bills,
            p.missed_bills,
            last.values().cloned().collect::<Vec<_>>().join(", ")
        );
    }
}

/// Purchases as (time, amount, merchant), leaving out what a bill or savings
/// knob may move.
fn purchases(s: &sim::Simulated) -> Vec<(DateTime<chrono::Utc>, Money, Option<String>)> {
    s.transactions
        .iter()
        .filter(|t| !["utilities", "telecom", "housing", "transfer_out", "interest"].contains(&t.category.as_str()))
        .map(|t| (t.posted_at, t.amount, t.merchant.clone()))
        .collect()
}

#[test]
fn one_more_late_bill_adds_exactly_one_and_leaves_spending_alone() {
    for id in ["A1003", "A1004"] {
        let base = *PROFILES.iter().find(|p| p.id == id).unwrap();
        let tuned = Profile { late_bills: base.late_bills + 1, ..base };
        let (a, b) = (sim::simulate(&base, DEMO_AS_OF).unwrap(), sim::simulate(&tuned, DEMO_AS_OF).unwrap());
        let late = |s: &sim::Simulated| -> BTreeSet<String> {
            s.bills.iter().filter(|b| b.paid_on.is_some_and(|p| p > b.due_on)).map(|b| b.id.to_string()).collect()
        };
        assert!(late(&a).is_subset(&late(&b)), "{id}: earlier late bills stay late");
        assert_eq!(late(&b).len(), late(&a).len() + 1, "{id}");
        assert_eq!(purchases(&a), purchases(&b), "{id}: spending does not move");
    }
}

#[test]
fn a_higher_starting_savings_balance_lifts_only_the_savings() {
    let base = *PROFILES.iter().find(|p| p.id == "A1005").unwrap();
    let mut holdings = base.holdings.to_vec();
    holdings[1].start += 10_000;
    let tuned = Profile { holdings: Box::leak(holdings.into_boxed_slice()), ..base };
    let (a, b) = (sim::simulate(&base, DEMO_AS_OF).unwrap(), sim::simulate(&tuned, DEMO_AS_OF).unwrap());
    assert_eq!(purchases(&a), purchases(&b));
    assert_eq!(a.balances.len(), b.balances.len());
    for (x, y) in a.balances.iter().zip(&b.balances) {
        let lift = y.amount.minor() - x.amount.minor();
        match x.kind {
            // CNY 10,000 plus at most two percent of interest on it.
            crate::domain::HoldingKind::Savings => assert!((1_000_000..1_020_000).contains(&lift), "{lift}"),
            _ => assert_eq!(lift, 0),
        }
    }
}
