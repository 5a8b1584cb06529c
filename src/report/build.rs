//! Builds [`ReportData`] for an eligible account from the store.
//!
//! Definitions, so every figure can be recomputed from the imported data:
//!
//! - A holding's balance on a day is its latest end-of-day balance on or
//!   before that day. Windows end on the as-of date: 3 months = 91 days,
//!   6 months = 182 days, 12 months = 365 days; an average counts only days
//!   from the holding's first balance on (a newer holding is not diluted by
//!   days it did not exist), rounded half away from zero to the minor unit.
//! - The account's currency is the one most of its transactions use.
//!   Totals convert each holding into it day by day at the as-of rate.
//! - Spending covers the 12 full calendar months before the as-of month;
//!   transfers between the applicant's own holdings are not spending.
//! - Bills cover those due in the 12 months up to the as-of date; a bill is
//!   on time if paid on or before its due date, late if paid after, missed
//!   if unpaid more than 30 days after it, open otherwise (not judged).
//! - Amounts in the authority's currency use the latest rate on or before
//!   the as-of date; every rate used is listed with its date and source.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};

use super::data::{
    Applicant, AssetFigures, Assets, Authority, BillLine, Bills, CategoryTotal, Dual, Eligibility, ExchangeRate,
    Holding, Issuer, REPORT_FORMAT, ReportData, Signing, Spending, SpendingMonth,
};
use crate::crypto::FieldCipher;
use crate::domain::{Currency, HoldingKind, Money, ReportNumber, VerificationCode};
use crate::fx::{FxBook, FxError};
use crate::import::passport_context;
use crate::scoring::load::{LoadError, daily_totals, load_inputs};
use crate::scoring::{BillOutcome, BillStatus, Decision, decide};
use crate::store::{Store, StoreError};

/// Everything about an issuance that does not come from the account's data.
#[derive(Debug, Clone)]
pub struct IssueContext {
    pub issuer: Issuer,
    pub authority: Authority,
    pub authority_currency: Currency,
    pub threshold: u16,
    /// Print the score itself (off by default: the authority relies on the
    /// threshold, not the number).
    pub show_score: bool,
    pub validity_days: u32,
    pub report_number: ReportNumber,
    pub verification_code: VerificationCode,
    pub issued_at: DateTime<Utc>,
    pub signing: Signing,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("no account `{0}`")]
    UnknownAccount(String),
    #[error("the account is not eligible: score {} is not above {}", .0.score, .0.threshold)]
    Ineligible(Box<Decision>),
    #[error(transparent)]
    Fx(#[from] FxError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

impl From<LoadError> for BuildError {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::UnknownAccount(id) => BuildError::UnknownAccount(id),
            LoadError::Fx(e) => BuildError::Fx(e),
            LoadError::Store(e) => BuildError::Store(e),
        }
    }
}

const WINDOW_3M: u64 = 91;
const WINDOW_6M: u64 = 182;
const WINDOW_12M: u64 = 365;

/// Scores the account as of `as_of` and, if it is eligible, gathers the
/// report's data. An ineligible account gets [`BuildError::Ineligible`] with
/// the decision and its reasons.
pub async fn build_report_data(
    store: &Store,
    cipher: &FieldCipher,
    account_id: &str,
    as_of: NaiveDate,
    ctx: &IssueContext,
) -> Result<ReportData, BuildError> {
    let (account, inputs) = load_inputs(store, account_id, as_of, ctx.authority_currency).await?;
    let decision = decide(&inputs, ctx.threshold);
    if !decision.eligible {
        return Err(BuildError::Ineligible(Box::new(decision)));
    }

    let month_start = as_of.with_day(1).unwrap_or(as_of);
    let months_from = month_start.checked_sub_months(Months::new(12)).unwrap_or(month_start);
    let balances_from = as_of - Days::new(WINDOW_12M - 1);
    let bills_from = as_of.checked_sub_months(Months::new(12)).unwrap_or(as_of) + Days::new(1);
    let (flows, categories, balances, bills) = tokio::try_join!(
        store.monthly_flows(account_id, midnight(months_from), midnight(month_start)),
        store.category_spending(account_id, midnight(months_from), midnight(month_start)),
        store.balances(account_id, balances_from, as_of),
        store.bills(account_id, bills_from, as_of),
    )?;

    // The account's currency: the one most of its transactions use.
    let mut counts: BTreeMap<Currency, i64> = BTreeMap::new();
    for f in &flows {
        *counts.entry(f.currency).or_default() += f.spending_count + f.income_count;
    }
    let home = counts
        .iter()
        .max_by_key(|(c, n)| (**n, std::cmp::Reverse(**c)))
        .map(|(c, _)| *c)
        .or_else(|| balances.first().map(|b| b.amount.currency()))
        .unwrap_or(ctx.authority_currency);

    let currencies: BTreeSet<Currency> = balances
        .iter()
        .map(|b| b.amount.currency())
        .chain(flows.iter().map(|f| f.currency))
        .chain(bills.iter().map(|b| b.amount.currency()))
        .chain([home])
        .collect();
    let fx = FxBook::load(store, as_of, ctx.authority_currency, currencies.iter().copied()).await?;
    let mut rates_used: BTreeMap<(String, String, NaiveDate), ExchangeRate> = BTreeMap::new();
    // Holdings in another currency are converted into the account's; when
    // that takes a cross rate, it is printed with the rates it comes from.
    for c in currencies.iter().filter(|c| **c != home && balances.iter().any(|b| b.amount.currency() == **c)) {
        let legs = fx.rates_for(*c, home)?;
        if let [a, b] = legs.as_slice() {
            let date = a.date.max(b.date);
            rates_used.entry((c.to_string(), home.to_string(), date)).or_insert_with(|| ExchangeRate {
                base: c.to_string(),
                quote: home.to_string(),
                rate: fx.rate(*c, home).map(|r| r.to_string()).unwrap_or_default(),
                date,
                source: format!("cross rate of {}/{} and {}/{}", a.base, a.quote, b.base, b.quote),
            });
        }
    }
    let mut dual = |m: Money| -> Result<Dual, FxError> {
        for r in fx.rates_for(m.currency(), ctx.authority_currency)? {
            rates_used.entry((r.base.to_string(), r.quote.to_string(), r.date)).or_insert_with(|| ExchangeRate {
                base: r.base.to_string(),
                quote: r.quote.to_string(),
                rate: r.rate.to_string(),
                date: r.date,
                source: r.source.clone(),
            });
        }
        Ok(Dual { account: m.into(), authority: fx.convert(m, ctx.authority_currency)?.into() })
    };

    // Assets.
    let mut holdings = Vec::new();
    for points in balances.chunk_by(|a, b| a.holding == b.holding) {
        let Some(first) = points.first() else { continue };
        let currency = first.amount.currency();
        let series = daily_totals(points, balances_from, as_of, |m| Ok::<_, FxError>(m.minor()))?;
        let figures = figures(&series, as_of, currency, &mut dual)?;
        holdings.push(Holding {
            holding: first.holding.to_string(),
            kind: first.kind.as_str().to_owned(),
            kind_label: kind_label(first.kind).to_owned(),
            currency: currency.code().to_owned(),
            figures,
        });
    }
    let total_series = daily_totals(&balances, balances_from, as_of, |m| fx.convert(m, home).map(|c| c.minor()))?;
    let total = figures(&total_series, as_of, home, &mut dual)?;
    let assets = Assets {
        currency: home.code().to_owned(),
        holdings,
        total,
        days_of_data: u32::try_from(total_series.len()).unwrap_or(u32::MAX),
    };

    // Spending, month by month; months without spending show as zero.
    let mut by_month: BTreeMap<NaiveDate, (i64, u32)> = BTreeMap::new();
    for i in 0..12 {
        if let Some(m) = months_from.checked_add_months(Months::new(i)) {
            by_month.insert(m, (0, 0));
        }
    }
    for f in &flows {
        let entry = by_month.entry(f.month).or_default();
        entry.0 += fx.convert(Money::from_minor(f.spending, f.currency), home)?.minor();
        entry.1 += u32::try_from(f.spending_count).unwrap_or(u32::MAX);
    }
    let mut category_totals: BTreeMap<NaiveDate, BTreeMap<String, i64>> = BTreeMap::new();
    for c in &categories {
        let minor = fx.convert(Money::from_minor(c.spending, c.currency), home)?.minor();
        *category_totals.entry(c.month).or_default().entry(c.category.clone()).or_default() += minor;
    }
    let months: Vec<SpendingMonth> = by_month
        .iter()
        .map(|(month, (total, count))| {
            let mut top: Vec<(&String, &i64)> =
                category_totals.get(month).map(|c| c.iter().collect()).unwrap_or_default();
            top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            SpendingMonth {
                month: month.format("%Y-%m").to_string(),
                total: Money::from_minor(*total, home).into(),
                transactions: *count,
                top_categories: top
                    .into_iter()
                    .take(3)
                    .map(|(category, minor)| CategoryTotal {
                        category: category.clone(),
                        total: Money::from_minor(*minor, home).into(),
                    })
                    .collect(),
            }
        })
        .collect();
    let spent: i64 = by_month.values().map(|(t, _)| t).sum();
    let spending = Spending {
        currency: home.code().to_owned(),
        total: dual(Money::from_minor(spent, home))?,
        average_monthly: dual(Money::from_minor(divide_rounded(spent, 12), home))?,
        months,
    };

    // Bills.
    let mut list = Vec::with_capacity(bills.len());
    let (mut on_time, mut late, mut missed, mut open) = (0u32, 0u32, 0u32, 0u32);
    for b in &bills {
        let status = BillOutcome { due_on: b.due_on, paid_on: b.paid_on }.status(as_of);
        let text = match status {
            BillStatus::OnTime => {
                on_time += 1;
                "on time".to_owned()
            }
            BillStatus::Late => {
                late += 1;
                let days = b.paid_on.map(|p| (p - b.due_on).num_days()).unwrap_or(0);
                format!("late ({days} day{})", if days == 1 { "" } else { "s" })
            }
            BillStatus::Missed => {
                missed += 1;
                "missed".to_owned()
            }
            BillStatus::Open => {
                open += 1;
                "open".to_owned()
            }
        };
        list.push(BillLine {
            biller: b.biller.clone(),
            kind: b.kind.clone(),
            due_on: b.due_on,
            amount: b.amount.into(),
            // A payment after the as-of date is not known at issuance.
            paid_on: b.paid_on.filter(|p| *p <= as_of),
            status: text,
        });
    }
    let judged = on_time + late + missed;
    let on_time_rate = if judged == 0 {
        "n/a".to_owned()
    } else {
        let permille = divide_rounded(i64::from(on_time) * 1000, i64::from(judged));
        format!("{}.{}%", permille / 10, permille % 10)
    };
    let bills = Bills {
        from: bills_from,
        to: as_of,
        count: u32::try_from(bills.len()).unwrap_or(u32::MAX),
        on_time,
        late,
        missed,
        open,
        on_time_rate,
        list,
    };

    let passport = cipher
        .open(&account.passport_sealed, &passport_context(&account.id))
        .map_err(|e| BuildError::Corrupt(format!("passport number of account {}: {e}", account.id)))
        .and_then(|p| String::from_utf8(p).map_err(|_| BuildError::Corrupt("passport number is not text".into())))?;
    let applicant = Applicant {
        full_name: account.full_name.clone(),
        passport_number: passport,
        passport_country: account.passport_country.clone(),
        nationality: account.nationality.clone(),
        date_of_birth: account.date_of_birth,
        account: account.id.clone(),
        account_opened_on: account.opened_on,
    };

    let eligibility = Eligibility {
        threshold_met: true,
        threshold: ctx.threshold,
        scale: "350-950",
        scorecard: decision.scorecard,
        score: ctx.show_score.then_some(decision.score),
        statement: format!(
            "On {as_of} the applicant's credit score exceeded the eligibility threshold of {} on the 350-950 scale \
             ({}), which is required for this report to be issued.",
            ctx.threshold, decision.scorecard
        ),
    };

    let number = ctx.report_number.to_string();
    let code = ctx.verification_code.to_string();
    Ok(ReportData {
        format: REPORT_FORMAT,
        verification_url: format!("{}/verify/{number}?c={code}", ctx.issuer.url.trim_end_matches('/')),
        report_number: number,
        verification_code: code,
        issuer: ctx.issuer.clone(),
        issued_at: ctx.issued_at,
        as_of,
        valid_until: as_of + Days::new(u64::from(ctx.validity_days)),
        authority: ctx.authority.clone(),
        applicant,
        eligibility,
        assets,
        spending,
        bills,
        exchange_rates: rates_used.into_values().collect(),
        signing: ctx.signing.clone(),
    })
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// `a / b` rounded half away from zero.
fn divide_rounded(a: i64, b: i64) -> i64 {
    if b == 0 {
        return 0;
    }
    let q = a / b;
    let r = a % b;
    if r.abs() * 2 >= b.abs() { q + a.signum() * b.signum() } else { q }
}

/// Current balance, averages and 6-month extremes of a daily series ending
/// on `as_of`.
fn figures(
    series: &[(NaiveDate, i64)],
    as_of: NaiveDate,
    currency: Currency,
    dual: &mut impl FnMut(Money) -> Result<Dual, FxError>,
) -> Result<AssetFigures, FxError> {
    let window = |days: u64| -> &[(NaiveDate, i64)] {
        let start = as_of - Days::new(days - 1);
        let i = series.partition_point(|(d, _)| *d < start);
        &series[i..]
    };
    let average = |days: u64| {
        let w = window(days);
        divide_rounded(w.iter().map(|(_, v)| v).sum(), i64::try_from(w.len()).unwrap_or(i64::MAX))
    };
    let six = window(WINDOW_6M);
    let money = |minor| Money::from_minor(minor, currency);
    Ok(AssetFigures {
        current: dual(money(series.last().map_or(0, |(_, v)| *v)))?,
        average_3m: dual(money(average(WINDOW_3M)))?,
        average_6m: dual(money(average(WINDOW_6M)))?,
        average_12m: dual(money(average(WINDOW_12M)))?,
        minimum_6m: dual(money(six.iter().map(|(_, v)| *v).min().unwrap_or(0)))?,
        maximum_6m: dual(money(six.iter().map(|(_, v)| *v).max().unwrap_or(0)))?,
    })
}

fn kind_label(kind: HoldingKind) -> &'static str {
    match kind {
        HoldingKind::Current => "Current account",
        HoldingKind::Savings => "Savings account",
        HoldingKind::MoneyMarketFund => "Money market fund",
        HoldingKind::TimeDeposit => "Time deposit",
        HoldingKind::Investment => "Investments",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(divide_rounded(5, 2), 3);
        assert_eq!(divide_rounded(-5, 2), -3);
        assert_eq!(divide_rounded(4, 3), 1);
        assert_eq!(divide_rounded(0, 0), 0);
    }
}
