//! The scorecard: a score on 350..=950 anyone can recompute by hand, and the
//! eligibility decision with its reasons.
//!
//! Pure functions of [`ScoringInputs`], already aggregated in one currency by
//! the store. The bands and points are constants in [`scorecard`] (version
//! [`SCORECARD_VERSION`]) and printed as tables in `docs/scoring.md`.
//!
//! Deliberately absent: social connections (whom a person knows, their
//! contacts' scores) and any judgement of *what* people buy (categories,
//! merchants). Only amounts, dates and payment timeliness are used. See
//! `docs/scoring.md`, "What the score does not use, and why".

mod factors;
pub mod load;
mod reasons;
mod render;
pub mod scorecard;

#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::Currency;

pub use factors::{BillStatus, full_months};
pub use reasons::IRCC_ALTERNATIVES;
pub use render::render_text;
pub use scorecard::{BASE_SCORE, DEFAULT_THRESHOLD, Factor, MAX_SCORE, SCORECARD_VERSION, Special, Unit};

use factors::{Facts, Measured};

/// One bill: when it was due and when (if at all) it was paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillOutcome {
    pub due_on: NaiveDate,
    pub paid_on: Option<NaiveDate>,
}

/// Money in and out of the account in one calendar month, minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthFlow {
    /// The first day of the month.
    pub month: NaiveDate,
    /// Money out, positive (negative values count as zero).
    pub spending: i128,
    /// Money in, positive (negative values count as zero).
    pub income: i128,
    pub transactions: u32,
}

/// What the scorecard needs about one account, aggregated by the store in
/// one currency (the account's home currency; other currencies converted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoringInputs {
    pub as_of: NaiveDate,
    pub currency: Currency,
    pub opened_on: NaiveDate,
    pub phone_since: NaiveDate,
    pub address_since: NaiveDate,
    /// Bills with due_on <= as_of, in the 24 months before as_of. A bill's paid_on
    /// after as_of is treated as unpaid at as_of (the store passes it as is; the
    /// scorecard judges). Bills outside that window are ignored.
    pub bills: Vec<BillOutcome>,
    /// Total end-of-day balance across holdings, minor units, one entry per day that has data,
    /// for the 365 days ending the day before as_of (ascending by date). May be shorter (thin
    /// file) or empty. Only the last 182 days are scored; entries for the same day are added.
    pub daily_balances: Vec<(NaiveDate, i128)>,
    /// Last 12 full calendar months before as_of's month (ascending), months with no data
    /// omitted. Entries for the same month are added; other months are ignored.
    pub months: Vec<MonthFlow>,
}

/// One factor's contribution to the score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FactorResult {
    pub key: Factor,
    pub label: &'static str,
    /// For people: `22 of 24 on time (91.6%)`.
    pub value: String,
    /// For software: the number the band was looked up with, in `unit`;
    /// `null` when a special band applied (no history, thin file, …).
    pub measure: Option<i64>,
    pub unit: Unit,
    pub band: &'static str,
    pub points: u16,
    pub max_points: u16,
}

/// The score of an account as of a date, with every factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scored {
    pub scorecard: &'static str,
    pub as_of: NaiveDate,
    pub currency: Currency,
    /// `base + points`, within 350..=950.
    pub score: u16,
    pub base: u16,
    pub points: u16,
    pub max_points: u16,
    pub factors: Vec<FactorResult>,
}

/// A factor that cost points, in a sentence, with what would improve it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub factor: Factor,
    pub points_lost: u16,
    pub text: String,
    pub improve: String,
}

/// The eligibility decision: the score, the rule applied and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub scorecard: &'static str,
    pub as_of: NaiveDate,
    pub currency: Currency,
    pub score: u16,
    pub base: u16,
    pub points: u16,
    pub max_points: u16,
    /// Eligible iff `score > threshold`.
    pub threshold: u16,
    pub eligible: bool,
    pub factors: Vec<FactorResult>,
    /// When not eligible: the factors that lost the most points, at most four.
    pub reasons: Vec<Reason>,
    /// When not eligible: the documents IRCC accepts instead.
    pub alternatives: Option<&'static str>,
}

fn evaluate(inputs: &ScoringInputs) -> (Facts, Scored) {
    let facts = factors::facts(inputs);
    let results: Vec<FactorResult> = Factor::ALL
        .iter()
        .map(|&factor| {
            let spec = factor.spec();
            let measured = factors::measure(factor, &facts);
            let (measure, band, points) = match measured {
                Measured::Value(v) => {
                    let b = spec.band(v);
                    (Some(v), b.label, b.points)
                }
                Measured::Special(s) => {
                    let b = spec.special(s);
                    (None, b.label, b.points)
                }
            };
            FactorResult {
                key: factor,
                label: spec.label,
                value: render::value_text(factor, &facts, measured),
                measure,
                unit: spec.unit,
                band,
                points,
                max_points: spec.max_points(),
            }
        })
        .collect();
    let points: u16 = results.iter().map(|r| r.points).sum();
    let max_points: u16 = results.iter().map(|r| r.max_points).sum();
    let score = BASE_SCORE.saturating_add(points).clamp(BASE_SCORE, MAX_SCORE);
    let scored = Scored {
        scorecard: SCORECARD_VERSION,
        as_of: inputs.as_of,
        currency: inputs.currency,
        score,
        base: BASE_SCORE,
        points,
        max_points,
        factors: results,
    };
    (facts, scored)
}

/// The score of an account as of `inputs.as_of`. Pure and deterministic:
/// the order of bills, days and months does not matter.
pub fn score(inputs: &ScoringInputs) -> Scored {
    evaluate(inputs).1
}

/// Scores and decides: eligible iff the score is strictly above `threshold`
/// ([`DEFAULT_THRESHOLD`] is 750; a score of exactly 750 is not eligible).
pub fn decide(inputs: &ScoringInputs, threshold: u16) -> Decision {
    let (facts, scored) = evaluate(inputs);
    let eligible = scored.score > threshold;
    let (reasons, alternatives) = if eligible {
        (Vec::new(), None)
    } else {
        (reasons::reasons(&facts, &scored.factors), Some(IRCC_ALTERNATIVES))
    };
    Decision {
        scorecard: scored.scorecard,
        as_of: scored.as_of,
        currency: scored.currency,
        score: scored.score,
        base: scored.base,
        points: scored.points,
        max_points: scored.max_points,
        threshold,
        eligible,
        factors: scored.factors,
        reasons,
        alternatives,
    }
}
