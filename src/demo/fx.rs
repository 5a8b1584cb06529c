//! Exchange rates into CAD (the currency IRCC reads) for every business day
//! of the last 13 months: a mean-reverting random walk, run backwards from
//! fixed rates on the last business day before the as-of date.

use anyhow::Context;
use chrono::{Datelike, Months, NaiveDate};

use super::dice::{Dice, Stream};
use crate::domain::{Currency, FxRate, Rate};

pub const FX_SOURCE: &str = "Bank of Canada daily exchange rates (demo)";

/// A pair in units of 0.0001: where it ends, where it tends to, how much it
/// moves in a day (one standard deviation).
struct Pair {
    base: Currency,
    last: i64,
    centre: i64,
    daily_sd: f64,
}

const PAIRS: [Pair; 2] = [
    Pair { base: Currency::CNY, last: 1932, centre: 1925, daily_sd: 4.0 },
    Pair { base: Currency::USD, last: 13712, centre: 13700, daily_sd: 40.0 },
];

pub(crate) fn rates(as_of: NaiveDate) -> anyhow::Result<Vec<FxRate>> {
    let first = as_of.checked_sub_months(Months::new(13)).context("as-of date out of range")?;
    let mut days: Vec<NaiveDate> =
        first.iter_days().take_while(|d| *d < as_of).filter(|d| d.weekday().number_from_monday() <= 5).collect();
    days.reverse();

    let mut out = Vec::new();
    for pair in &PAIRS {
        let mut dice = Dice::new(pair.base.code(), Stream::Fx);
        let mut units = pair.last;
        let mut series = Vec::with_capacity(days.len());
        for day in &days {
            let rate = Rate::parse(&format!("{}.{:04}", units / 10_000, units % 10_000))
                .with_context(|| format!("demo rate {units} for {}", pair.base))?;
            series.push(FxRate { base: pair.base, quote: Currency::CAD, date: *day, rate, source: FX_SOURCE.into() });
            let step = pair.daily_sd * dice.gauss() + 0.03 * (pair.centre - units) as f64;
            units = (units + step.round() as i64).clamp(pair.centre * 9 / 10, pair.centre * 11 / 10);
        }
        series.reverse();
        out.extend(series);
    }
    Ok(out)
}
