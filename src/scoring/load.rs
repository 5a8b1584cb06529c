//! Gathers [`ScoringInputs`] for an account from the store.
//!
//! The scorecard's money bands are calibrated in CNY, so every amount is
//! converted into CNY ([`SCORING_CURRENCY`]) with the latest rates on or
//! before the as-of date (through the authority's currency when there is no
//! direct rate). Sums are done by the database where they are large
//! (transactions by month); balances are carried forward per holding so a
//! holding with no record on some day still counts at its last balance.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};

use super::scorecard::BALANCE_WINDOW_DAYS;
use super::{BillOutcome, MonthFlow, ScoringInputs};
use crate::domain::{BalancePoint, Currency, Money};
use crate::fx::{FxBook, FxError};
use crate::store::{AccountRow, Store, StoreError};

/// The currency the scorecard's bands are written in.
pub const SCORING_CURRENCY: Currency = Currency::CNY;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("no account `{0}`")]
    UnknownAccount(String),
    #[error(transparent)]
    Fx(#[from] FxError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The account and its scoring inputs as of `as_of`.
pub async fn load_inputs(
    store: &Store,
    account_id: &str,
    as_of: NaiveDate,
    fx_pivot: Currency,
) -> Result<(AccountRow, ScoringInputs), LoadError> {
    let month_start = as_of.with_day(1).unwrap_or(as_of);
    let months_from = month_start.checked_sub_months(Months::new(12)).unwrap_or(month_start);
    // Only the scored window is loaded (plus each holding's balance just
    // before it, to carry in).
    let balances_from = as_of.checked_sub_days(Days::new(BALANCE_WINDOW_DAYS)).unwrap_or(as_of);
    let day_before = as_of.pred_opt().unwrap_or(as_of);
    let bills_from = as_of.checked_sub_months(Months::new(24)).unwrap_or(as_of);

    let (account, flows, balances, bills) = tokio::try_join!(
        store.account(account_id),
        store.monthly_flows(account_id, midnight(months_from), midnight(month_start)),
        store.balances(account_id, balances_from, day_before),
        store.bills(account_id, bills_from, as_of),
    )?;
    let account = account.ok_or_else(|| LoadError::UnknownAccount(account_id.into()))?;

    let currencies: BTreeSet<Currency> = flows
        .iter()
        .map(|f| f.currency)
        .chain(balances.iter().map(|b| b.amount.currency()))
        .chain([SCORING_CURRENCY])
        .collect();
    let fx = FxBook::load(store, as_of, fx_pivot, currencies).await?;
    let to_scoring = |minor: i64, currency: Currency| -> Result<i64, FxError> {
        Ok(fx.convert(Money::from_minor(minor, currency), SCORING_CURRENCY)?.minor())
    };

    let mut months: BTreeMap<NaiveDate, MonthFlow> = BTreeMap::new();
    for f in &flows {
        let m = months.entry(f.month).or_insert(MonthFlow { month: f.month, spending: 0, income: 0, transactions: 0 });
        m.spending += to_scoring(f.spending, f.currency)?;
        m.income += to_scoring(f.income, f.currency)?;
        m.transactions += u32::try_from(f.spending_count + f.income_count).unwrap_or(u32::MAX);
    }

    let daily_balances =
        daily_totals(&balances, balances_from, day_before, |m| fx.convert(m, SCORING_CURRENCY).map(|c| c.minor()))?;

    let inputs = ScoringInputs {
        as_of,
        currency: SCORING_CURRENCY,
        opened_on: account.opened_on,
        phone_since: account.phone_since,
        address_since: account.address_since,
        bills: bills.iter().map(|b| BillOutcome { due_on: b.due_on, paid_on: b.paid_on }).collect(),
        daily_balances,
        months: months.into_values().collect(),
    };
    Ok((account, inputs))
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// The total of all holdings for every day from `from` (or the first day
/// with data, if later) to `last`, each holding counted at its latest
/// balance on or before that day. `balances` must be ordered by holding,
/// then date (as the store returns them).
pub fn daily_totals<E>(
    balances: &[BalancePoint],
    from: NaiveDate,
    last: NaiveDate,
    convert: impl Fn(Money) -> Result<i64, E>,
) -> Result<Vec<(NaiveDate, i64)>, E> {
    let Some(first) = balances.iter().map(|b| b.date).min() else {
        return Ok(Vec::new());
    };
    let first = first.max(from);
    if first > last {
        return Ok(Vec::new());
    }
    let days = usize::try_from((last - first).num_days() + 1).unwrap_or(0);
    let mut totals = vec![0_i64; days];
    for holding in balances.chunk_by(|a, b| a.holding == b.holding) {
        for (i, point) in holding.iter().enumerate() {
            let value = convert(point.amount)?;
            let until = holding.get(i + 1).map_or(last, |next| next.date.pred_opt().unwrap_or(next.date));
            if until < first {
                continue;
            }
            let start = usize::try_from((point.date - first).num_days()).unwrap_or(0);
            let end = usize::try_from((until - first).num_days()).unwrap_or(0).min(days.saturating_sub(1));
            for total in totals.iter_mut().take(end + 1).skip(start) {
                *total += value;
            }
        }
    }
    Ok(totals.into_iter().enumerate().map(|(i, t)| (first + Days::new(i as u64), t)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{HoldingKind, RecordId};

    fn point(holding: &str, date: &str, minor: i64) -> BalancePoint {
        BalancePoint {
            account: RecordId::parse("A1").unwrap(),
            holding: RecordId::parse(holding).unwrap(),
            kind: HoldingKind::Savings,
            date: date.parse().unwrap(),
            amount: Money::from_minor(minor, Currency::CNY),
        }
    }

    #[test]
    fn holdings_are_carried_forward_and_summed() {
        let balances =
            [point("H-1", "2026-01-01", 100), point("H-1", "2026-01-03", 300), point("H-2", "2026-01-02", 10)];
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let totals = daily_totals(&balances, day("2025-12-01"), day("2026-01-04"), |m| Ok::<_, ()>(m.minor())).unwrap();
        let got: Vec<i64> = totals.iter().map(|(_, t)| *t).collect();
        assert_eq!(got, [100, 110, 310, 310]);
        assert_eq!(totals[0].0, day("2026-01-01"));
        // A balance from before the window is carried into it.
        let totals = daily_totals(&balances, day("2026-01-02"), day("2026-01-04"), |m| Ok::<_, ()>(m.minor())).unwrap();
        assert_eq!(totals, [(day("2026-01-02"), 110), (day("2026-01-03"), 310), (day("2026-01-04"), 310)]);
    }
}
