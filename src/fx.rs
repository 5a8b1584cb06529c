//! Currency conversion as of a date, with the rates that were used.
//!
//! The operator imports rates into the authority's currency (CNY→CAD,
//! USD→CAD). A conversion uses, in order: the direct rate, the inverse of the
//! reverse rate, or a cross rate through the authority's currency — always
//! the latest rate published on or before the as-of date. Every rate used is
//! kept, so a report can print exactly how each figure was converted.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::domain::{Currency, FxRate, Money, Rate};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum FxError {
    #[error("no {from}→{to} exchange rate on or before {as_of} (import an fx_rate record)")]
    NoRate { from: Currency, to: Currency, as_of: NaiveDate },
    #[error("converting {0:?} overflowed")]
    Overflow(Money),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Rates as of one date, looked up once and reused.
#[derive(Debug, Clone)]
pub struct FxBook {
    as_of: NaiveDate,
    /// Via this currency when no direct rate exists.
    pivot: Currency,
    rates: BTreeMap<(Currency, Currency), FxRate>,
}

impl FxBook {
    /// Loads the latest rate on or before `as_of` from each of `currencies`
    /// into `pivot`, and back.
    pub async fn load(
        store: &Store,
        as_of: NaiveDate,
        pivot: Currency,
        currencies: impl IntoIterator<Item = Currency>,
    ) -> Result<Self, FxError> {
        let mut rates = BTreeMap::new();
        for c in currencies {
            if c == pivot {
                continue;
            }
            for (base, quote) in [(c, pivot), (pivot, c)] {
                if let Some(r) = store.fx_rate_on_or_before(base.code(), quote.code(), as_of).await? {
                    rates.insert((base, quote), r);
                }
            }
        }
        Ok(FxBook { as_of, pivot, rates })
    }

    /// A book from known rates (tests, offline tools).
    pub fn from_rates(as_of: NaiveDate, pivot: Currency, rates: impl IntoIterator<Item = FxRate>) -> Self {
        FxBook { as_of, pivot, rates: rates.into_iter().map(|r| ((r.base, r.quote), r)).collect() }
    }

    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }

    /// The published rates the conversion `from → to` rests on.
    pub fn rates_for(&self, from: Currency, to: Currency) -> Result<Vec<&FxRate>, FxError> {
        if from == to {
            return Ok(vec![]);
        }
        if let Some(r) = self.rates.get(&(from, to)).or_else(|| self.rates.get(&(to, from))) {
            return Ok(vec![r]);
        }
        let leg = |a: Currency, b: Currency| self.rates.get(&(a, b)).or_else(|| self.rates.get(&(b, a)));
        match (leg(from, self.pivot), leg(to, self.pivot)) {
            (Some(a), Some(b)) => Ok(vec![a, b]),
            _ => Err(FxError::NoRate { from, to, as_of: self.as_of }),
        }
    }

    /// The effective rate `from → to`, to 10 decimal places when derived.
    pub fn rate(&self, from: Currency, to: Currency) -> Result<Rate, FxError> {
        let one = Rate::one();
        if from == to {
            return Ok(one);
        }
        let oriented = |a: Currency, b: Currency| -> Option<Rate> {
            if let Some(r) = self.rates.get(&(a, b)) {
                Some(r.rate)
            } else {
                self.rates.get(&(b, a)).and_then(|r| one.divide(&r.rate))
            }
        };
        if let Some(r) = oriented(from, to) {
            return Ok(r);
        }
        let no_rate = || FxError::NoRate { from, to, as_of: self.as_of };
        let a = oriented(from, self.pivot).ok_or_else(no_rate)?;
        let b = oriented(to, self.pivot).ok_or_else(no_rate)?;
        a.divide(&b).ok_or_else(no_rate)
    }

    pub fn convert(&self, amount: Money, to: Currency) -> Result<Money, FxError> {
        if amount.currency() == to {
            return Ok(amount);
        }
        self.rate(amount.currency(), to)?.convert(amount, to).ok_or(FxError::Overflow(amount))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(base: Currency, quote: Currency, r: &str) -> FxRate {
        FxRate {
            base,
            quote,
            date: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
            rate: Rate::parse(r).unwrap(),
            source: "test".into(),
        }
    }

    fn book() -> FxBook {
        FxBook::from_rates(
            NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            Currency::CAD,
            [rate(Currency::CNY, Currency::CAD, "0.1932"), rate(Currency::USD, Currency::CAD, "1.3700")],
        )
    }

    #[test]
    fn direct_inverse_and_cross_rates() {
        let b = book();
        let cny = |s| Money::parse(s, Currency::CNY).unwrap();
        let usd = |s| Money::parse(s, Currency::USD).unwrap();
        assert_eq!(b.convert(cny("150000.00"), Currency::CAD).unwrap().to_string(), "CAD 28,980.00");
        // CAD→CNY by the inverse of CNY→CAD: 1 / 0.1932 = 5.1759834368...
        assert_eq!(
            b.convert(Money::parse("100", Currency::CAD).unwrap(), Currency::CNY).unwrap().to_string(),
            "CNY 517.60"
        );
        // USD→CNY through CAD: 1.37 / 0.1932 = 7.0910973085
        assert_eq!(b.rate(Currency::USD, Currency::CNY).unwrap().to_string(), "7.0910973085");
        assert_eq!(b.convert(usd("1000.00"), Currency::CNY).unwrap().to_string(), "CNY 7,091.10");
        assert_eq!(b.rates_for(Currency::USD, Currency::CNY).unwrap().len(), 2);
        let jpy = Currency::from_code("JPY").unwrap();
        assert!(matches!(b.convert(cny("1.00"), jpy), Err(FxError::NoRate { .. })));
    }
}
