//! From inputs to facts (counts, averages, ratios) and from facts to points.
//!
//! Integer arithmetic only, every division rounded down, so a person with a
//! pencil gets the same numbers. Sums use `i128`; no input can overflow them.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, Months, NaiveDate};

use super::scorecard::{
    BALANCE_WINDOW_DAYS, BILL_GRACE_DAYS, BILL_WINDOW_MONTHS, Factor, MAX_MONTHLY_FLOW, MIN_BALANCE_DAYS,
    MIN_RECENT_DAYS, MIN_VOLATILITY_MONTHS, RECENT_WINDOW_DAYS, SPENDING_WINDOW_MONTHS, Special,
};
use super::{BillOutcome, ScoringInputs};
use crate::domain::{Currency, Money};

/// How a bill stands at `as_of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillStatus {
    /// Paid on or before the due date.
    OnTime,
    /// Paid after the due date, on or before `as_of`.
    Late,
    /// Unpaid at `as_of` (a payment after `as_of` does not count yet) and due
    /// more than 30 days before `as_of`.
    Missed,
    /// Unpaid at `as_of` but due within the last 30 days: not counted.
    Open,
}

impl BillOutcome {
    /// The bill's status as of a date, by the definitions in `docs/scoring.md`.
    pub fn status(&self, as_of: NaiveDate) -> BillStatus {
        match self.paid_on {
            Some(paid) if paid <= as_of => {
                if paid <= self.due_on {
                    BillStatus::OnTime
                } else {
                    BillStatus::Late
                }
            }
            _ => {
                if (as_of - self.due_on).num_days() > BILL_GRACE_DAYS {
                    BillStatus::Missed
                } else {
                    BillStatus::Open
                }
            }
        }
    }
}

/// Everything the factors and the reasons need, computed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Facts {
    pub as_of: NaiveDate,
    pub currency: Currency,
    pub on_time: u32,
    pub late: u32,
    pub missed: u32,
    pub open: u32,
    /// Due date of the most recent late or missed bill.
    pub last_late_due: Option<NaiveDate>,
    pub balance_days: usize,
    pub recent_days: usize,
    /// Minor units, rounded down; `None` without data.
    pub avg6: Option<i64>,
    pub avg3: Option<i64>,
    pub min6: Option<i64>,
    pub months: usize,
    /// Minor units, clamped per month to `0..=MAX_MONTHLY_FLOW`.
    pub spending: i64,
    pub income: i64,
    /// Sum of squared monthly spending (for the volatility).
    pub spending_sq: i128,
    pub opened_on: NaiveDate,
    pub phone_since: NaiveDate,
    pub address_since: NaiveDate,
    pub account_months: i64,
    pub phone_months: i64,
    pub address_months: i64,
}

impl Facts {
    pub fn counted(&self) -> u32 {
        self.on_time + self.late + self.missed
    }

    pub fn thin_balances(&self) -> bool {
        self.balance_days < MIN_BALANCE_DAYS
    }

    pub fn money(&self, minor: i64) -> Money {
        Money::from_minor(minor, self.currency)
    }

    /// Average monthly spending, minor units rounded down.
    pub fn avg_spending(&self) -> Option<i64> {
        let months = i64::try_from(self.months).ok().filter(|m| *m > 0)?;
        Some(self.spending.div_euclid(months))
    }

    pub fn days_since_last_late(&self) -> Option<i64> {
        self.last_late_due.map(|d| (self.as_of - d).num_days())
    }
}

/// Full calendar months from `from` to `to`; zero if `from` is later. The
/// day of the month must be reached: 2024-01-31 to 2024-02-29 is 0 months.
pub fn full_months(from: NaiveDate, to: NaiveDate) -> i64 {
    if to <= from {
        return 0;
    }
    let months = i64::from(to.year() - from.year()) * 12 + i64::from(to.month()) - i64::from(from.month());
    if to.day() < from.day() { months - 1 } else { months }
}

fn days_before(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_sub_days(Days::new(days)).unwrap_or(NaiveDate::MIN)
}

fn months_before(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_sub_months(Months::new(months)).unwrap_or(NaiveDate::MIN)
}

fn floor_div(num: i128, den: i128) -> i64 {
    let q = num.div_euclid(den);
    i64::try_from(q).unwrap_or(if q < 0 { i64::MIN } else { i64::MAX })
}

fn clamp_flow(v: impl Into<i128>) -> i64 {
    // Within 0..=MAX_MONTHLY_FLOW, so the narrowing cannot fail.
    i64::try_from(v.into().clamp(0, i128::from(MAX_MONTHLY_FLOW))).unwrap_or(MAX_MONTHLY_FLOW)
}

pub(crate) fn facts(inputs: &ScoringInputs) -> Facts {
    let as_of = inputs.as_of;

    // Bills: due after the date 24 months before as_of, up to as_of.
    let bill_start = months_before(as_of, BILL_WINDOW_MONTHS);
    let (mut on_time, mut late, mut missed, mut open) = (0u32, 0u32, 0u32, 0u32);
    let mut last_late_due: Option<NaiveDate> = None;
    for bill in inputs.bills.iter().filter(|b| b.due_on > bill_start && b.due_on <= as_of) {
        let status = bill.status(as_of);
        match status {
            BillStatus::OnTime => on_time += 1,
            BillStatus::Late => late += 1,
            BillStatus::Missed => missed += 1,
            BillStatus::Open => open += 1,
        }
        if matches!(status, BillStatus::Late | BillStatus::Missed) {
            last_late_due = last_late_due.max(Some(bill.due_on));
        }
    }

    // Balances: one total per day (several entries for a day are added up,
    // as holdings would be) in the 182 days ending the day before as_of.
    let window_start = days_before(as_of, BALANCE_WINDOW_DAYS);
    let recent_start = days_before(as_of, RECENT_WINDOW_DAYS);
    let mut days: BTreeMap<NaiveDate, i128> = BTreeMap::new();
    for (date, minor) in &inputs.daily_balances {
        if *date >= window_start && *date < as_of {
            *days.entry(*date).or_insert(0) += *minor;
        }
    }
    let average = |values: &mut dyn Iterator<Item = i128>| {
        let (n, sum) = values.fold((0i128, 0i128), |(n, s), v| (n + 1, s + v));
        (n > 0).then(|| floor_div(sum, n))
    };
    let avg6 = average(&mut days.values().copied());
    let avg3 = average(&mut days.range(recent_start..).map(|(_, v)| *v));
    let min6 = days.values().min().map(|m| floor_div(*m, 1));
    let recent_days = days.range(recent_start..).count();

    // Spending: the 12 full calendar months before as_of's month, one entry
    // per month (several entries for a month are added up).
    let this_month = as_of.with_day(1).unwrap_or(as_of);
    let month_start = months_before(this_month, SPENDING_WINDOW_MONTHS);
    let mut months: BTreeMap<(i32, u32), (i64, i64)> = BTreeMap::new();
    for m in &inputs.months {
        if m.month >= month_start && m.month < this_month {
            let e = months.entry((m.month.year(), m.month.month())).or_insert((0, 0));
            e.0 = clamp_flow(e.0.saturating_add(clamp_flow(m.spending)));
            e.1 = clamp_flow(e.1.saturating_add(clamp_flow(m.income)));
        }
    }
    let spending: i64 = months.values().map(|(s, _)| s).sum();
    let income: i64 = months.values().map(|(_, i)| i).sum();
    let spending_sq: i128 = months.values().map(|(s, _)| i128::from(*s) * i128::from(*s)).sum();

    Facts {
        as_of,
        currency: inputs.currency,
        on_time,
        late,
        missed,
        open,
        last_late_due,
        balance_days: days.len(),
        recent_days,
        avg6,
        avg3,
        min6,
        months: months.len(),
        spending,
        income,
        spending_sq,
        opened_on: inputs.opened_on,
        phone_since: inputs.phone_since,
        address_since: inputs.address_since,
        account_months: full_months(inputs.opened_on, as_of),
        phone_months: full_months(inputs.phone_since, as_of),
        address_months: full_months(inputs.address_since, as_of),
    }
}

/// What a factor measured: a number for the band table, or a special case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Measured {
    Value(i64),
    Special(Special),
}

/// `num / den` in permille, rounded down; `den` must be positive.
fn permille(num: i128, den: i128) -> i64 {
    floor_div(num * 1000, den)
}

/// Minor units to whole major units, rounded down.
fn major(minor: i64, currency: Currency) -> i64 {
    minor.div_euclid(currency.minor_per_major())
}

/// The coefficient of variation of monthly spending in permille, rounded
/// down: `sqrt(n·Σx² − (Σx)²) / Σx`, computed as `isqrt(10⁶·(n·Σx² − (Σx)²)) / Σx`,
/// which is exact for the rounded-down result.
pub(crate) fn cv_permille(months: usize, sum: i64, sum_sq: i128) -> Option<i64> {
    if months < MIN_VOLATILITY_MONTHS || sum <= 0 {
        return None;
    }
    let n = i128::try_from(months).ok()?;
    let s = i128::from(sum);
    // Non-negative by Cauchy–Schwarz; fits: months ≤ 12, each ≤ 10^14.
    let variance_n2 = (n * sum_sq - s * s).max(0);
    let root = u128::try_from(variance_n2 * 1_000_000).ok()?.isqrt();
    i64::try_from(root / u128::try_from(s).ok()?).ok()
}

pub(crate) fn measure(factor: Factor, f: &Facts) -> Measured {
    use Measured::{Special as S, Value as V};
    let counted = f.counted();
    match factor {
        Factor::BillOnTimeRate => {
            if counted == 0 {
                S(Special::NoHistory)
            } else {
                V(permille(i128::from(f.on_time), i128::from(counted)))
            }
        }
        Factor::BillsMissed => {
            if counted == 0 {
                S(Special::NoHistory)
            } else {
                V(i64::from(f.missed))
            }
        }
        Factor::BillLastLate => match (counted, f.days_since_last_late()) {
            (0, _) => S(Special::NoHistory),
            (_, None) => S(Special::NoneLate),
            (_, Some(days)) => V(days),
        },
        Factor::BillCount => V(i64::from(counted)),
        Factor::BalanceAverage => match f.avg6 {
            Some(avg) if !f.thin_balances() => V(major(avg, f.currency)),
            _ => S(Special::ThinFile),
        },
        Factor::BalanceMinimum => match f.min6 {
            Some(min) if !f.thin_balances() => V(major(min, f.currency)),
            _ => S(Special::ThinFile),
        },
        Factor::BalanceTrend => match (f.avg6, f.avg3) {
            (Some(avg6), Some(avg3)) if !f.thin_balances() && f.recent_days >= MIN_RECENT_DAYS => {
                V(major(avg6.min(avg3), f.currency))
            }
            _ => S(Special::ThinFile),
        },
        Factor::SpendingToIncome => {
            if f.months == 0 || (f.spending == 0 && f.income == 0) {
                S(Special::NoData)
            } else if f.income == 0 {
                S(Special::NoIncome)
            } else {
                V(permille(i128::from(f.spending), i128::from(f.income)))
            }
        }
        Factor::SpendingToAssets => match (f.avg6, f.avg_spending()) {
            _ if f.thin_balances() => S(Special::ThinFile),
            (_, None) => S(Special::NoData),
            (Some(avg6), Some(spend)) if avg6 > 0 => V(permille(i128::from(spend), i128::from(avg6))),
            _ => S(Special::NoSavings),
        },
        Factor::SpendingVolatility => match cv_permille(f.months, f.spending, f.spending_sq) {
            Some(cv) => V(cv),
            None => S(Special::NoData),
        },
        Factor::AccountAge => V(f.account_months),
        Factor::PhoneTenure => V(f.phone_months),
        Factor::AddressTenure => V(f.address_months),
    }
}
