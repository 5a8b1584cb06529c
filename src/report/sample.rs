//! A realistic, fixed [`ReportData`] for tests, benches and the README
//! picture: `Zoë Łucja ŌTSUKA-NÚÑEZ` with a CNY savings account, a USD current
//! account, twelve months of spending and about seventy bills.
//!
//! Amounts are written in minor units grouped as `major_minor`: `52_000_00` is
//! CNY 52,000.00.
#![allow(clippy::inconsistent_digit_grouping)]

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

use super::data::{
    Amount, Applicant, AssetFigures, Assets, Authority, BillLine, Bills, CategoryTotal, Coverage, Dual, Eligibility,
    ExchangeRate, Holding, Issuer, REPORT_FORMAT, ReportData, Signing, Spending, SpendingMonth,
};
use crate::domain::{Currency, Money, Rate};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn rate(s: &str) -> Rate {
    Rate::parse(s).unwrap_or_else(|_| Rate::one())
}

fn money(minor: i64, currency: Currency) -> Money {
    Money::from_minor(minor, currency)
}

fn amount(minor: i64, currency: Currency) -> Amount {
    Amount::from(money(minor, currency))
}

/// `amount` and its value in CAD at `to_cad`.
fn dual(minor: i64, currency: Currency, to_cad: Rate) -> Dual {
    let m = money(minor, currency);
    let cad = to_cad.convert(m, Currency::CAD).unwrap_or(Money::zero(Currency::CAD));
    Dual { account: Amount::from(m), authority: Amount::from(cad) }
}

/// Figures from six balances in minor units: current, 3/6/12-month averages,
/// 6-month minimum and maximum.
fn figures(b: [i64; 6], currency: Currency, to_cad: Rate) -> AssetFigures {
    AssetFigures {
        current: Some(dual(b[0], currency, to_cad)),
        average_3m: Some(dual(b[1], currency, to_cad)),
        average_6m: Some(dual(b[2], currency, to_cad)),
        average_12m: Some(dual(b[3], currency, to_cad)),
        minimum_6m: Some(dual(b[4], currency, to_cad)),
        maximum_6m: Some(dual(b[5], currency, to_cad)),
    }
}

/// The sample report; the same every call.
pub fn sample_report() -> ReportData {
    let cny_cad = rate("0.1932");
    let usd_cad = rate("1.3712");
    let usd_cny = usd_cad.divide(&cny_cad).unwrap_or_else(Rate::one);
    let rate_date = date(2026, 11, 20);

    let savings = [52_000_00, 50_812_45, 48_930_10, 45_207_88, 44_100_00, 52_000_00];
    let current_usd = [8_450_00, 8_122_30, 7_904_75, 7_511_02, 6_980_00, 8_600_00];
    let total: [i64; 6] = std::array::from_fn(|i| {
        let usd_in_cny = usd_cny.convert(money(current_usd[i], Currency::USD), Currency::CNY);
        savings[i] + usd_in_cny.map(|m| m.minor()).unwrap_or(0)
    });

    // A fund whose balances stopped at the end of October: not current, so
    // no current balance and no 3-month average, only what its data covers.
    let mut fund = figures([0, 0, 12_480_00, 15_230_55, 9_870_00, 20_000_00], Currency::CNY, cny_cad);
    fund.current = None;
    fund.average_3m = None;
    let holdings = vec![
        Holding {
            holding: "H-1".into(),
            institution: Some("Bank of China, Shanghai Branch".into()),
            balances_from: date(2025, 11, 21),
            balances_to: date(2026, 11, 20),
            current: true,
            kind: "savings".into(),
            kind_label: "Savings account".into(),
            currency: "CNY".into(),
            figures: figures(savings, Currency::CNY, cny_cad),
        },
        Holding {
            holding: "H-2".into(),
            institution: Some("HSBC Bank (China) Company Limited".into()),
            balances_from: date(2025, 11, 21),
            balances_to: date(2026, 11, 19),
            current: true,
            kind: "current".into(),
            kind_label: "Current account".into(),
            currency: "USD".into(),
            figures: figures(current_usd, Currency::USD, usd_cad),
        },
        Holding {
            holding: "H-3".into(),
            institution: None,
            balances_from: date(2026, 3, 2),
            balances_to: date(2026, 7, 31),
            current: false,
            kind: "money_market_fund".into(),
            kind_label: "Money market fund".into(),
            currency: "CNY".into(),
            figures: fund,
        },
    ];

    ReportData {
        format: REPORT_FORMAT,
        report_number: "SR-KYYF-9TKJ-6Q8Q".into(),
        verification_code: "Q7RM-K2XP".into(),
        verification_url: "http://127.0.0.1:8080/verify/SR-KYYF-9TKJ-6Q8Q?c=Q7RM-K2XP".into(),
        issuer: Issuer {
            name: "Example Credit Ltd".into(),
            url: "https://credit.example.com".into(),
            legal_name: "Example Credit Information Services Co., Ltd.".into(),
            address: Some("88 Century Avenue, Pudong New Area, Shanghai 200120, China".into()),
            contact: "verify@credit.example.com".into(),
        },
        issued_at: Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).single().unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
        as_of: date(2026, 11, 20),
        valid_until: date(2027, 2, 19),
        authority: Authority {
            code: "IRCC".into(),
            name: "Immigration, Refugees and Citizenship Canada".into(),
            currency: "CAD".into(),
        },
        applicant: Applicant {
            full_name: "Zoë Łucja ŌTSUKA-NÚÑEZ".into(),
            passport_number: "E98765432".into(),
            passport_country: "CHN".into(),
            nationality: "CHN".into(),
            date_of_birth: date(1991, 3, 14),
            account: "A1001".into(),
            account_opened_on: date(2014, 3, 1),
        },
        coverage: Coverage {
            balances_to: date(2026, 11, 20),
            transactions_to: Some(date(2026, 11, 19)),
            max_data_age_days: 7,
        },
        eligibility: Eligibility {
            threshold_met: true,
            threshold: 750,
            scale: "350-950",
            scorecard: "scorecard-v2",
            score: None,
            statement: "At issuance on 2026-11-21 the applicant's credit score exceeded the eligibility threshold \
                        of 750 (scale 350 to 950, scorecard scorecard-v2). Only applicants above the \
                        threshold receive a report; the score itself is not printed."
                .into(),
        },
        assets: Assets {
            currency: "CNY".into(),
            holdings,
            total: figures(total, Currency::CNY, cny_cad),
            days_of_data: 365,
        },
        spending: spending(cny_cad),
        bills: bills(date(2025, 11, 21), date(2026, 11, 20)),
        exchange_rates: vec![
            ExchangeRate {
                base: "CNY".into(),
                quote: "CAD".into(),
                rate: cny_cad.to_string(),
                date: rate_date,
                source: "Bank of Canada daily exchange rates".into(),
            },
            ExchangeRate {
                base: "USD".into(),
                quote: "CAD".into(),
                rate: usd_cad.to_string(),
                date: rate_date,
                source: "Bank of Canada daily exchange rates".into(),
            },
            ExchangeRate {
                base: "USD".into(),
                quote: "CNY".into(),
                rate: usd_cny.to_string(),
                date: rate_date,
                source: "cross rate of USD/CAD and CNY/CAD".into(),
            },
        ],
        signing: Signing { key_id: "mY3q0Zr7XbV1tKp9LwN4cE8sHdA2uJf6GiOeR5yTn-_".into(), algorithm: "Ed25519".into() },
    }
}

fn spending(cny_cad: Rate) -> Spending {
    const CATEGORIES: [&str; 8] =
        ["groceries", "dining", "transport", "utilities", "shopping", "travel", "education", "health"];
    let totals: [i64; 12] = [
        9_842_15, 11_230_40, 14_905_88, 8_765_02, 9_120_30, 10_480_77, 12_055_10, 15_890_45, 13_402_66, 9_988_00,
        10_765_35, 11_912_80,
    ];
    let mut months = Vec::new();
    for (i, &total) in totals.iter().enumerate() {
        let (y, m) = if i < 2 { (2025, 11 + i as u32) } else { (2026, i as u32 - 1) };
        let first = total * 38 / 100;
        let second = total * 24 / 100;
        let third = total * 13 / 100;
        let top_categories = [(i % 8, first), ((i + 3) % 8, second), ((i + 5) % 8, third)]
            .into_iter()
            .map(|(c, t)| CategoryTotal { category: CATEGORIES[c].into(), total: amount(t, Currency::CNY) })
            .collect();
        months.push(SpendingMonth {
            month: format!("{y:04}-{m:02}"),
            recorded: true,
            total: amount(total, Currency::CNY),
            transactions: 48 + (i as u32 * 7) % 37,
            top_categories,
        });
    }
    let sum: i64 = totals.iter().sum();
    Spending {
        currency: "CNY".into(),
        months,
        months_recorded: 12,
        total: dual(sum, Currency::CNY, cny_cad),
        average_monthly: Some(dual(sum / 12, Currency::CNY, cny_cad)),
    }
}

fn bills(from: NaiveDate, to: NaiveDate) -> Bills {
    // (biller, kind, due day, base amount in fen)
    let billers: [(&str, &str, u32, i64); 6] = [
        ("国家电网 State Grid Shanghai", "utility", 15, 230_00),
        ("上海燃气 Shanghai Gas", "utility", 18, 96_50),
        ("上海自来水 Shanghai Water", "utility", 22, 58_20),
        ("中国移动 China Mobile", "phone", 8, 128_00),
        ("链家 Lianjia Rent", "rent", 1, 4_800_00),
        ("招商银行信用卡 CMB Credit Card", "credit_card", 25, 3_120_00),
    ];
    let mut list = Vec::new();
    let (mut on_time, mut late, mut missed, mut open) = (0, 0, 0, 0);
    let mut month = date(from.year(), from.month(), 1);
    let mut n = 0_i64;
    while month <= to {
        for (biller, kind, day, base) in billers {
            let due = date(month.year(), month.month(), day);
            if due < from || due > to {
                continue;
            }
            n += 1;
            let minor = base + (n * 7919) % (base / 5 + 1);
            let (paid_on, status) = if due + Duration::days(7) > to {
                open += 1;
                (None, "open".to_owned())
            } else if n % 23 == 5 {
                late += 1;
                (Some(due + Duration::days(3)), "late (3 days)".to_owned())
            } else {
                on_time += 1;
                (Some(due - Duration::days(n % 4)), "on time".to_owned())
            };
            list.push(BillLine {
                biller: biller.into(),
                kind: kind.into(),
                due_on: due,
                amount: amount(minor, Currency::CNY),
                paid_on,
                status,
            });
        }
        month = month.checked_add_months(chrono::Months::new(1)).unwrap_or(to + Duration::days(1));
    }
    list.sort_by(|a, b| a.due_on.cmp(&b.due_on).then_with(|| a.biller.cmp(&b.biller)));
    if let Some(b) = list.iter_mut().find(|b| b.kind == "phone" && b.status == "on time" && b.due_on.month() == 6) {
        b.paid_on = None;
        b.status = "missed".into();
        on_time -= 1;
        missed += 1;
    }
    let judged = on_time + late + missed;
    let on_time_rate =
        if judged == 0 { "n/a".to_owned() } else { format!("{:.1}%", f64::from(on_time) * 100.0 / f64::from(judged)) };
    Bills { from, to, count: list.len() as u32, on_time, late, missed, open, on_time_rate, list }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_is_consistent() {
        let r = sample_report();
        assert_eq!(r.signing.key_id.len(), 43);
        assert_eq!(r.spending.months.len(), 12);
        assert!((60..=120).contains(&r.bills.list.len()), "{}", r.bills.list.len());
        let b = &r.bills;
        assert_eq!(b.count, b.on_time + b.late + b.missed + b.open);
        assert_eq!(r.assets.holdings[0].figures.current.as_ref().unwrap().authority.text, "CAD 10,046.40");
    }
}
