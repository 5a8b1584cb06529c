//! Gathers [`ScoringInputs`] for an account from the store.
//!
//! The scorecard's money bands are calibrated in CNY, so every amount is
//! converted into CNY ([`SCORING_CURRENCY`]) with the latest rates on or
//! before the as-of date (through the authority's currency when there is no
//! direct rate). Sums are done by the database where they are large
//! (transactions by month); balances are carried forward per holding so a
//! holding with no record on some day still counts at its last balance.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Days, Months, NaiveDate};

use super::scorecard::{BALANCE_CARRY_DAYS, BALANCE_WINDOW_DAYS, BILL_WINDOW_MONTHS, MAX_MONTHLY_FLOW};
use super::{BillOutcome, MonthFlow, ScoringInputs};
use crate::domain::{AccountId, BalancePoint, Bill, Currency, Money, start_of_day};
use crate::fx::{FxBook, FxError};
use crate::store::{AccountRow, MonthlyFlow, Store, StoreError};

/// The currency the scorecard's bands are written in.
pub const SCORING_CURRENCY: Currency = Currency::CNY;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("no account `{0}`")]
    UnknownAccount(AccountId),
    #[error(transparent)]
    Fx(#[from] FxError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one read of the store gives about an account as of a date: enough
/// for its score and for its report's figures, so a report loads the
/// account once.
#[derive(Debug, Clone)]
pub struct AccountData {
    pub account: AccountRow,
    /// Money in and out per month, for the 12 full months before the as-of
    /// month.
    pub flows: Vec<MonthlyFlow>,
    /// Balances from `balances_from` to the as-of date, each holding's
    /// latest earlier balance carried in (see [`Store::balances`]).
    pub balances: Vec<BalancePoint>,
    pub balances_from: NaiveDate,
    /// Bills due in the 24 months up to the as-of date.
    pub bills: Vec<Bill>,
}

impl AccountData {
    /// Every currency the data uses, and the scorecard's.
    pub fn currencies(&self) -> BTreeSet<Currency> {
        self.flows
            .iter()
            .map(|f| f.currency)
            .chain(self.balances.iter().map(|b| b.amount.currency()))
            .chain(self.bills.iter().map(|b| b.amount.currency()))
            .chain([SCORING_CURRENCY])
            .collect()
    }
}

/// Reads the account's data as of `as_of`, with balances from
/// `balance_days` days before it (at least the scored window, 182 days).
pub async fn load_account(
    store: &Store,
    account_id: &AccountId,
    as_of: NaiveDate,
    balance_days: u64,
) -> Result<AccountData, LoadError> {
    let month_start = as_of.with_day(1).unwrap_or(as_of);
    let months_from = month_start.checked_sub_months(Months::new(12)).unwrap_or(month_start);
    let balances_from = as_of.checked_sub_days(Days::new(balance_days.max(BALANCE_WINDOW_DAYS))).unwrap_or(as_of);
    let bills_from = as_of.checked_sub_months(Months::new(BILL_WINDOW_MONTHS)).unwrap_or(as_of);
    let (account, flows, balances, bills) = tokio::try_join!(
        store.account(account_id),
        store.monthly_flows(account_id, start_of_day(months_from), start_of_day(month_start)),
        store.balances(account_id, balances_from, as_of),
        store.bills(account_id, bills_from, as_of),
    )?;
    let account = account.ok_or_else(|| LoadError::UnknownAccount(account_id.clone()))?;
    Ok(AccountData { account, flows, balances, balances_from, bills })
}

/// The account and its scoring inputs as of `as_of`: [`load_account`] with
/// the scored window only, then [`scoring_inputs`].
pub async fn load_inputs(
    store: &Store,
    account_id: &AccountId,
    as_of: NaiveDate,
    fx_pivot: Currency,
) -> Result<(AccountRow, ScoringInputs), LoadError> {
    let data = load_account(store, account_id, as_of, BALANCE_WINDOW_DAYS).await?;
    let fx = FxBook::load(store, as_of, fx_pivot, data.currencies()).await?;
    let inputs = scoring_inputs(&data, as_of, &fx)?;
    Ok((data.account, inputs))
}

/// The scorecard's inputs from the account's data, amounts in CNY.
pub fn scoring_inputs(data: &AccountData, as_of: NaiveDate, fx: &FxBook) -> Result<ScoringInputs, FxError> {
    // A month's flow is clamped to MAX_MONTHLY_FLOW by the scorecard, so a
    // sum too large to convert (a few huge records) is simply "the most".
    let to_scoring = |minor: i128, currency: Currency| -> Result<i128, FxError> {
        let Ok(minor) = i64::try_from(minor) else { return Ok(i128::from(MAX_MONTHLY_FLOW)) };
        match fx.convert(Money::from_minor(minor, currency), SCORING_CURRENCY) {
            Ok(m) => Ok(i128::from(m.minor())),
            Err(FxError::Overflow(_)) => Ok(i128::from(MAX_MONTHLY_FLOW)),
            Err(e) => Err(e),
        }
    };

    let mut months: BTreeMap<NaiveDate, MonthFlow> = BTreeMap::new();
    for f in &data.flows {
        let m = months.entry(f.month).or_insert(MonthFlow { month: f.month, spending: 0, income: 0, transactions: 0 });
        m.spending += to_scoring(f.spending, f.currency)?;
        m.income += to_scoring(f.income, f.currency)?;
        m.transactions += u32::try_from(f.spending_count + f.income_count).unwrap_or(u32::MAX);
    }

    // The scored window: the 182 days ending the day before as_of.
    let window_from = as_of.checked_sub_days(Days::new(BALANCE_WINDOW_DAYS)).unwrap_or(as_of);
    let day_before = as_of.pred_opt().unwrap_or(as_of);
    let daily_balances = daily_totals(&data.balances, window_from, day_before, BALANCE_CARRY_DAYS, |m| {
        fx.convert(m, SCORING_CURRENCY).map(|c| c.minor())
    })?;

    let account = &data.account;
    Ok(ScoringInputs {
        as_of,
        currency: SCORING_CURRENCY,
        opened_on: account.opened_on,
        phone_since: account.phone_since,
        address_since: account.address_since,
        bills: data.bills.iter().map(|b| BillOutcome { due_on: b.due_on, paid_on: b.paid_on }).collect(),
        daily_balances,
        months: months.into_values().collect(),
    })
}

/// The total of all holdings for every day from `from` (or the first day
/// with data, if later) to `last` that has data, each holding counted at
/// its latest balance on or before that day if that balance is at most
/// `carry_days` old (a holding whose balances stop is not counted at its last
/// one for ever). Days on which no holding has a balance are left out.
/// `balances` must be ordered by holding, then date (as the store returns
/// them). Sums are `i128`: no number of holdings can overflow them.
pub fn daily_totals<E>(
    balances: &[BalancePoint],
    from: NaiveDate,
    last: NaiveDate,
    carry_days: u64,
    convert: impl Fn(Money) -> Result<i64, E>,
) -> Result<Vec<(NaiveDate, i128)>, E> {
    let Some(first) = balances.iter().map(|b| b.date).min() else {
        return Ok(Vec::new());
    };
    let first = first.max(from);
    if first > last {
        return Ok(Vec::new());
    }
    let days = usize::try_from((last - first).num_days() + 1).unwrap_or(0);
    let mut totals: Vec<Option<i128>> = vec![None; days];
    for holding in balances.chunk_by(|a, b| a.holding == b.holding) {
        for (i, point) in holding.iter().enumerate() {
            let value = i128::from(convert(point.amount)?);
            let next = holding.get(i + 1).map_or(last, |next| next.date.pred_opt().unwrap_or(next.date));
            let carried = point.date.checked_add_days(Days::new(carry_days)).unwrap_or(NaiveDate::MAX);
            let until = next.min(carried).min(last);
            if until < first {
                continue;
            }
            let start = usize::try_from((point.date - first).num_days()).unwrap_or(0);
            let end = usize::try_from((until - first).num_days()).unwrap_or(0).min(days.saturating_sub(1));
            for total in totals.iter_mut().take(end + 1).skip(start) {
                *total = Some(total.unwrap_or(0) + value);
            }
        }
    }
    Ok(totals.into_iter().enumerate().filter_map(|(i, t)| Some((first + Days::new(i as u64), t?))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccountId, HoldingKind, RecordId};

    fn point(holding: &str, date: &str, minor: i64) -> BalancePoint {
        BalancePoint {
            account: AccountId::parse("A1").unwrap(),
            holding: RecordId::parse(holding).unwrap(),
            kind: HoldingKind::Savings,
            date: date.parse().unwrap(),
            amount: Money::from_minor(minor, Currency::CNY),
            institution: None,
        }
    }

    #[test]
    fn holdings_are_carried_forward_and_summed() {
        let balances =
            [point("H-1", "2026-01-01", 100), point("H-1", "2026-01-03", 300), point("H-2", "2026-01-02", 10)];
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let totals =
            daily_totals(&balances, day("2025-12-01"), day("2026-01-04"), 7, |m| Ok::<_, ()>(m.minor())).unwrap();
        let got: Vec<i128> = totals.iter().map(|(_, t)| *t).collect();
        assert_eq!(got, [100, 110, 310, 310]);
        assert_eq!(totals[0].0, day("2026-01-01"));
        // A balance from before the window is carried into it.
        let totals =
            daily_totals(&balances, day("2026-01-02"), day("2026-01-04"), 7, |m| Ok::<_, ()>(m.minor())).unwrap();
        assert_eq!(totals, [(day("2026-01-02"), 110), (day("2026-01-03"), 310), (day("2026-01-04"), 310)]);
    }

    #[test]
    fn a_balance_is_carried_forward_at_most_the_carry_days() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let balances =
            [point("H-1", "2026-01-01", 100), point("H-1", "2026-01-20", 300), point("H-2", "2026-01-05", 10)];
        let totals =
            daily_totals(&balances, day("2026-01-01"), day("2026-01-21"), 3, |m| Ok::<_, ()>(m.minor())).unwrap();
        let got: Vec<(u32, i128)> = totals.iter().map(|(d, t)| (chrono::Datelike::day(d), *t)).collect();
        // H-1 counts from the 1st to the 4th, H-2 from the 5th to the 8th;
        // nothing is known from the 9th to the 19th.
        assert_eq!(
            got,
            [(1, 100), (2, 100), (3, 100), (4, 100), (5, 10), (6, 10), (7, 10), (8, 10), (20, 300), (21, 300)]
        );
    }

    proptest::proptest! {
        /// Over generated holdings with gaps: every day's total is exactly
        /// the sum, over holdings, of the latest balance at most `carry`
        /// days old, and days that no holding covers are absent.
        #[test]
        fn totals_match_a_day_by_day_recount(
            holdings in proptest::collection::vec(
                proptest::collection::btree_map(0u64..120, -1_000_000_000_000i64..1_000_000_000_000, 0..12), 1..4),
            carry in 0u64..15,
            from_offset in 0u64..60,
        ) {
            let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            let mut balances = Vec::new();
            for (h, points) in holdings.iter().enumerate() {
                for (offset, minor) in points {
                    let mut p = point(&format!("H-{h}"), "2026-01-01", *minor);
                    p.date = start + Days::new(*offset);
                    balances.push(p);
                }
            }
            let from = start + Days::new(from_offset);
            let last = start + Days::new(130);
            let totals = daily_totals(&balances, from, last, carry, |m| Ok::<_, ()>(m.minor())).unwrap();
            let mut expected = Vec::new();
            let mut day = from;
            while day <= last {
                let mut sum = None;
                for points in &holdings {
                    let latest = points.range(..=(day - start).num_days() as u64).next_back();
                    if let Some((offset, minor)) = latest
                        && (day - start).num_days() as u64 - offset <= carry
                    {
                        sum = Some(sum.unwrap_or(0) + i128::from(*minor));
                    }
                }
                if let Some(sum) = sum {
                    expected.push((day, sum));
                }
                day = day + Days::new(1);
            }
            proptest::prop_assert_eq!(totals, expected);
        }
    }
}
