//! Builds [`ReportData`] for an eligible account from the store.
//!
//! Definitions, so every figure can be recomputed from the imported data:
//!
//! - The as-of date is at most the issue date, and the data must reach it:
//!   the account's latest balance at most `max_data_age_days` (N, default
//!   7) before it. Otherwise the report is refused; it never extrapolates.
//! - A holding's balance on a day is its latest end-of-day balance on or
//!   before that day if that is at most N days old; otherwise the holding
//!   has no balance that day. A holding is *current* when it has a balance
//!   on the as-of date; the report prints the date of that balance. Windows
//!   end on the as-of date: 3 months = 91 days, 6 months = 182 days,
//!   12 months = 365 days; an average counts only the days with a balance
//!   (a newer holding is not diluted by days it did not exist), rounded half
//!   away from zero to the minor unit; a window without any is "no data".
//! - Sums are `i128`; a figure that does not fit the report's `i64` minor
//!   units refuses the report instead of wrapping.
//! - The account's currency is the one most of its transactions use.
//!   Totals convert each holding into it day by day at the as-of rate.
//! - Spending covers the 12 full calendar months before the as-of month;
//!   transfers between the applicant's own holdings are not spending.
//! - Bills cover those due in the 12 months up to the as-of date; a bill is
//!   on time if paid on or before its due date, late if paid after, missed
//!   if unpaid more than 30 days after it, open otherwise (not judged).
//! - Amounts in the authority's currency use the latest rate on or before
//!   the as-of date; every rate used is listed with its date and source.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};

use super::data::{
    Applicant, AssetFigures, Assets, Authority, BillLine, Bills, CategoryTotal, Coverage, Dual, Eligibility,
    ExchangeRate, Holding, Issuer, REPORT_FORMAT, ReportData, Signing, Spending, SpendingMonth,
};
use crate::crypto::FieldCipher;
use crate::domain::{
    AccountId, BalancePoint, Bill, Currency, HoldingKind, Money, ReportNumber, VerificationCode, start_of_day,
};
use crate::fx::{FxBook, FxError};
use crate::import::passport_context;
use crate::scoring::load::{AccountData, LoadError, daily_totals, load_account, scoring_inputs};
use crate::scoring::{BillOutcome, BillStatus, Decision, decide};
use crate::store::{MonthlyFlow, Store, StoreError};

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
    /// The latest balance may be at most this many days before the as-of
    /// date; see [`Coverage`].
    pub max_data_age_days: u32,
    pub report_number: ReportNumber,
    pub verification_code: VerificationCode,
    pub issued_at: DateTime<Utc>,
    pub signing: Signing,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("no account `{0}`")]
    UnknownAccount(AccountId),
    #[error("the as-of date {as_of} is in the future (today is {today}): a report can only attest data up to today")]
    FutureAsOf { as_of: NaiveDate, today: NaiveDate },
    #[error("{}", stale_message(.account, *.as_of, *.latest, *.max_age_days))]
    StaleData { account: AccountId, as_of: NaiveDate, latest: Option<NaiveDate>, max_age_days: u32 },
    #[error("the account is not eligible: score {} is not above {}", .0.score, .0.threshold)]
    Ineligible(Box<Decision>),
    #[error("{0} is too large to state exactly; the report is refused rather than rounded")]
    TooLarge(String),
    #[error(transparent)]
    Fx(#[from] FxError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

fn stale_message(account: &AccountId, as_of: NaiveDate, latest: Option<NaiveDate>, max_age_days: u32) -> String {
    let need = format!(
        "a report needs a balance at most {max_age_days} day{} before its as-of date (report.max_data_age_days); \
         import newer data or choose an earlier --as-of date",
        if max_age_days == 1 { "" } else { "s" }
    );
    match latest {
        Some(latest) => format!(
            "the data of account {account} does not reach the as-of date {as_of}: its latest balance is dated \
             {latest}, {} days earlier; {need}",
            (as_of - latest).num_days()
        ),
        None => format!(
            "the data of account {account} does not reach the as-of date {as_of}: it has no balance in the \
             365 days up to it; {need}"
        ),
    }
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

/// Minor units of an `i128` sum as [`Money`], or [`BuildError::TooLarge`].
fn exact(minor: i128, currency: Currency, what: impl FnOnce() -> String) -> Result<Money, BuildError> {
    i64::try_from(minor).map(|m| Money::from_minor(m, currency)).map_err(|_| BuildError::TooLarge(what()))
}

/// Refuses an as-of date after today (the issue date).
pub fn check_not_future(as_of: NaiveDate, today: NaiveDate) -> Result<(), BuildError> {
    if as_of > today { Err(BuildError::FutureAsOf { as_of, today }) } else { Ok(()) }
}

/// Scores the account as of `as_of` and, if it is eligible, gathers the
/// report's data. An as-of date after the issue date, or one the account's
/// balances do not reach (see [`IssueContext::max_data_age_days`]), is
/// refused before the score is looked at; an ineligible account gets
/// [`BuildError::Ineligible`] with the decision and its reasons.
pub async fn build_report_data(
    store: &Store,
    cipher: &FieldCipher,
    account_id: &AccountId,
    as_of: NaiveDate,
    ctx: &IssueContext,
) -> Result<ReportData, BuildError> {
    check_not_future(as_of, ctx.issued_at.date_naive())?;
    let max_age = u64::from(ctx.max_data_age_days);

    // One read of the account's data: the widest window any figure needs;
    // the score and the figures are both derived from it.
    let month_start = as_of.with_day(1).unwrap_or(as_of);
    let months_from = month_start.checked_sub_months(Months::new(12)).unwrap_or(month_start);
    let balances_from = as_of - Days::new(WINDOW_12M - 1);
    let bills_from = as_of.checked_sub_months(Months::new(12)).unwrap_or(as_of) + Days::new(1);
    let (data, categories, last_posted) = tokio::try_join!(
        async { load_account(store, account_id, as_of, WINDOW_12M - 1).await.map_err(BuildError::from) },
        async {
            store
                .category_spending(account_id, start_of_day(months_from), start_of_day(month_start))
                .await
                .map_err(BuildError::from)
        },
        async {
            let end = start_of_day(as_of + Days::new(1));
            store.last_posted_before(account_id, end).await.map_err(BuildError::from)
        },
    )?;
    let AccountData { account, flows, balances, bills: all_bills, .. } = &data;
    let bills: Vec<&Bill> = all_bills.iter().filter(|b| b.due_on >= bills_from).collect();

    // The data must reach the as-of date before anything is judged on it.
    let latest_balance = balances.iter().map(|b| b.date).max();
    if latest_balance.is_none_or(|d| (as_of - d).num_days() > i64::from(ctx.max_data_age_days)) {
        return Err(BuildError::StaleData {
            account: account_id.clone(),
            as_of,
            latest: latest_balance,
            max_age_days: ctx.max_data_age_days,
        });
    }
    // One exchange-rate book for the score and the figures.
    let home = home_currency(flows, balances, ctx.authority_currency);
    let mut currencies = data.currencies();
    currencies.insert(home);
    let fx = FxBook::load(store, as_of, ctx.authority_currency, currencies.iter().copied()).await?;
    let inputs = scoring_inputs(&data, as_of, &fx)?;
    let decision = decide(&inputs, ctx.threshold);
    if !decision.eligible {
        return Err(BuildError::Ineligible(Box::new(decision)));
    }
    let coverage = Coverage {
        balances_to: latest_balance.unwrap_or(as_of),
        transactions_to: last_posted.map(|t| t.date_naive()),
        max_data_age_days: ctx.max_data_age_days,
    };

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

    // Assets. A balance counts for at most `max_data_age_days` after its
    // date, so a holding whose balances stopped is not counted for ever.
    let mut holdings = Vec::new();
    for points in balances.chunk_by(|a, b| a.holding == b.holding) {
        let (Some(first), Some(last)) = (points.first(), points.last()) else { continue };
        let currency = first.amount.currency();
        let series = daily_totals(points, balances_from, as_of, max_age, |m| Ok::<_, FxError>(m.minor()))?;
        let label = || format!("a balance of holding {}", first.holding);
        let figures = figures(&series, as_of, currency, &mut dual, label)?;
        holdings.push(Holding {
            holding: first.holding.to_string(),
            institution: points.iter().rev().find_map(|p| p.institution.clone()),
            balances_from: first.date.max(balances_from),
            balances_to: last.date,
            current: figures.current.is_some(),
            kind: last.kind.as_str().to_owned(),
            kind_label: kind_label(last.kind).to_owned(),
            currency: currency.code().to_owned(),
            figures,
        });
    }
    let total_series =
        daily_totals(balances, balances_from, as_of, max_age, |m| fx.convert(m, home).map(|c| c.minor()))?;
    let total = figures(&total_series, as_of, home, &mut dual, || "the total of the balances".to_owned())?;
    let assets = Assets {
        currency: home.code().to_owned(),
        holdings,
        total,
        days_of_data: u32::try_from(total_series.len()).unwrap_or(u32::MAX),
    };

    // Spending, month by month; a month the transactions reach and without
    // spending shows as zero, a month after the last transaction as no data.
    let recorded = |month: NaiveDate| coverage.transactions_to.is_some_and(|last| month <= last);
    let mut by_month: BTreeMap<NaiveDate, (i128, u32)> = BTreeMap::new();
    for i in 0..12 {
        if let Some(m) = months_from.checked_add_months(Months::new(i)) {
            by_month.insert(m, (0, 0));
        }
    }
    let month_name = |m: NaiveDate| m.format("%Y-%m").to_string();
    for f in flows {
        let what = || format!("the spending of {}", month_name(f.month));
        let entry = by_month.entry(f.month).or_default();
        entry.0 += i128::from(fx.convert(exact(f.spending, f.currency, what)?, home)?.minor());
        entry.1 = entry.1.saturating_add(u32::try_from(f.spending_count).unwrap_or(u32::MAX));
    }
    let mut category_totals: BTreeMap<NaiveDate, BTreeMap<String, i128>> = BTreeMap::new();
    for c in &categories {
        let what = || format!("the spending on {} in {}", c.category, month_name(c.month));
        let minor = fx.convert(exact(c.spending, c.currency, what)?, home)?.minor();
        *category_totals.entry(c.month).or_default().entry(c.category.clone()).or_default() += i128::from(minor);
    }
    let mut months = Vec::with_capacity(by_month.len());
    for (month, (total, count)) in &by_month {
        let mut top: Vec<(&String, &i128)> = category_totals.get(month).map(|c| c.iter().collect()).unwrap_or_default();
        top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let mut top_categories = Vec::new();
        for (category, minor) in top.into_iter().take(3) {
            let what = || format!("the spending on {category} in {}", month_name(*month));
            top_categories.push(CategoryTotal { category: category.clone(), total: exact(*minor, home, what)?.into() });
        }
        months.push(SpendingMonth {
            month: month_name(*month),
            recorded: recorded(*month),
            total: exact(*total, home, || format!("the spending of {}", month_name(*month)))?.into(),
            transactions: *count,
            top_categories,
        });
    }
    let spent: i128 = by_month.values().map(|(t, _)| t).sum();
    let months_recorded = u32::try_from(by_month.keys().filter(|m| recorded(**m)).count()).unwrap_or(u32::MAX);
    let average_monthly = match months_recorded {
        0 => None,
        n => Some(dual(exact(divide_rounded(spent, i128::from(n)), home, || "the average spending".to_owned())?)?),
    };
    let spending = Spending {
        currency: home.code().to_owned(),
        total: dual(exact(spent, home, || "the total spending".to_owned())?)?,
        average_monthly,
        months_recorded,
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
        let permille = divide_rounded(i128::from(on_time) * 1000, i128::from(judged));
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
        .open(&account.passport_sealed, &passport_context(account.id.as_str()))
        .map_err(|e| BuildError::Corrupt(format!("passport number of account {}: {e}", account.id)))
        .and_then(|p| String::from_utf8(p).map_err(|_| BuildError::Corrupt("passport number is not text".into())))?;
    let applicant = Applicant {
        full_name: account.full_name.clone(),
        passport_number: passport,
        passport_country: account.passport_country.clone(),
        nationality: account.nationality.clone(),
        date_of_birth: account.date_of_birth,
        account: account.id.to_string(),
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
        coverage,
        eligibility,
        assets,
        spending,
        bills,
        exchange_rates: rates_used.into_values().collect(),
        signing: ctx.signing.clone(),
    })
}

/// `a / b` rounded half away from zero.
fn divide_rounded(a: i128, b: i128) -> i128 {
    if b == 0 {
        return 0;
    }
    let q = a / b;
    let r = a % b;
    if r.abs() * 2 >= b.abs() { q + a.signum() * b.signum() } else { q }
}

/// Current balance, averages and 6-month extremes of a daily series ending
/// on `as_of` (days without data are absent from it and not counted). A
/// figure whose window has no day with data is `None`, never zero.
fn figures(
    series: &[(NaiveDate, i128)],
    as_of: NaiveDate,
    currency: Currency,
    dual: &mut impl FnMut(Money) -> Result<Dual, FxError>,
    what: impl Fn() -> String,
) -> Result<AssetFigures, BuildError> {
    let window = |days: u64| -> &[(NaiveDate, i128)] {
        let start = as_of - Days::new(days - 1);
        let i = series.partition_point(|(d, _)| *d < start);
        &series[i..]
    };
    let mut stated = |minor: Option<i128>| -> Result<Option<Dual>, BuildError> {
        match minor {
            None => Ok(None),
            Some(minor) => Ok(Some(dual(exact(minor, currency, &what)?)?)),
        }
    };
    let average = |days: u64| {
        let w = window(days);
        let n = i128::try_from(w.len()).unwrap_or(i128::MAX);
        (!w.is_empty()).then(|| divide_rounded(w.iter().map(|(_, v)| v).sum(), n))
    };
    let six = window(WINDOW_6M);
    Ok(AssetFigures {
        current: stated(series.last().filter(|(d, _)| *d == as_of).map(|(_, v)| *v))?,
        average_3m: stated(average(WINDOW_3M))?,
        average_6m: stated(average(WINDOW_6M))?,
        average_12m: stated(average(WINDOW_12M))?,
        minimum_6m: stated(six.iter().map(|(_, v)| *v).min())?,
        maximum_6m: stated(six.iter().map(|(_, v)| *v).max())?,
    })
}

/// The account's currency: the one most of its transactions use (then its
/// first holding's, then the authority's).
fn home_currency(flows: &[MonthlyFlow], balances: &[BalancePoint], fallback: Currency) -> Currency {
    let mut counts: BTreeMap<Currency, i64> = BTreeMap::new();
    for f in flows {
        *counts.entry(f.currency).or_default() += f.spending_count + f.income_count;
    }
    counts
        .iter()
        .max_by_key(|(c, n)| (**n, std::cmp::Reverse(**c)))
        .map(|(c, _)| *c)
        .or_else(|| balances.first().map(|b| b.amount.currency()))
        .unwrap_or(fallback)
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

    fn plain_dual(m: Money) -> Result<Dual, FxError> {
        Ok(Dual { account: m.into(), authority: m.into() })
    }

    proptest::proptest! {
        /// Over generated series with gaps (days without data are absent):
        /// a figure is `None` exactly when its window has no day, and
        /// otherwise the rounded average, minimum or maximum of the days it
        /// has; the current balance is that of the as-of date only.
        #[test]
        fn figures_never_make_up_a_value(
            days in proptest::collection::btree_map(0u64..400, -1_000_000_000_000_000i64..1_000_000_000_000_000, 0..60),
        ) {
            let as_of = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
            let series: Vec<(NaiveDate, i128)> =
                days.iter().rev().map(|(back, v)| (as_of - Days::new(*back), i128::from(*v))).collect();
            let f = figures(&series, as_of, Currency::CNY, &mut plain_dual, String::new).unwrap();
            let minor = |d: &Option<Dual>| d.as_ref().map(|d| i128::from(d.account.minor));
            let within = |n: u64| days.range(..n).map(|(_, v)| i128::from(*v)).collect::<Vec<_>>();
            proptest::prop_assert_eq!(minor(&f.current), days.get(&0).map(|v| i128::from(*v)));
            for (n, got) in [(WINDOW_3M, &f.average_3m), (WINDOW_6M, &f.average_6m), (WINDOW_12M, &f.average_12m)] {
                let w = within(n);
                let expected = (!w.is_empty()).then(|| divide_rounded(w.iter().sum(), w.len() as i128));
                proptest::prop_assert_eq!(minor(got), expected);
            }
            proptest::prop_assert_eq!(minor(&f.minimum_6m), within(WINDOW_6M).into_iter().min());
            proptest::prop_assert_eq!(minor(&f.maximum_6m), within(WINDOW_6M).into_iter().max());
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(divide_rounded(5, 2), 3);
        assert_eq!(divide_rounded(-5, 2), -3);
        assert_eq!(divide_rounded(4, 3), 1);
        assert_eq!(divide_rounded(0, 0), 0);
    }
}
