//! Reasons for an ineligible decision: the factors that lost the most points,
//! each as a plain sentence with what would improve it, and the documents
//! IRCC accepts instead of this report.

use chrono::{Months, NaiveDate};

use super::factors::{Facts, Measured, measure};
use super::render::{percent, plural};
use super::scorecard::{
    BALANCE_WINDOW_DAYS, Band, Factor, FactorSpec, MAX_REASONS, MIN_BALANCE_DAYS, MIN_RECENT_DAYS,
    MIN_VOLATILITY_MONTHS, RECENT_WINDOW_DAYS, Special,
};
use super::{FactorResult, Reason};

/// Printed with every ineligible decision.
pub const IRCC_ALTERNATIVES: &str = "You can prove your funds to IRCC without this report. \
IRCC accepts other documents, among them: your bank statements for the past 4 months; \
a letter from your bank confirming your accounts, balances and average balances; and, \
for a study permit, a Guaranteed Investment Certificate (GIC) bought from a participating \
Canadian financial institution. Which documents you need depends on the visa or permit: \
check the document checklist for your application on canada.ca.";

/// Up to `MAX_REASONS` factors that lost points, the most points lost first
/// (then the largest share of the factor's maximum, then scorecard order).
pub(crate) fn reasons(facts: &Facts, results: &[FactorResult]) -> Vec<Reason> {
    let mut lost: Vec<&FactorResult> = results.iter().filter(|r| r.points < r.max_points).collect();
    lost.sort_by(|a, b| {
        let la = u32::from(a.max_points - a.points);
        let lb = u32::from(b.max_points - b.points);
        lb.cmp(&la)
            .then_with(|| (lb * u32::from(a.max_points)).cmp(&(la * u32::from(b.max_points))))
            .then_with(|| a.key.cmp(&b.key))
    });
    // Several factors can share one cause (no bills at all, a thin balance
    // file); the same advice is given once, and the next factor takes its place.
    let mut out: Vec<Reason> = Vec::new();
    for r in lost {
        if out.len() == MAX_REASONS {
            break;
        }
        let (text, improve) = explain(r, facts);
        if out.iter().any(|o| o.improve == improve) {
            continue;
        }
        out.push(Reason { factor: r.key, points_lost: r.max_points - r.points, text, improve });
    }
    out
}

/// The band with the fewest points above `points`: the next step up.
fn next_band(spec: &FactorSpec, points: u16) -> Option<&'static Band> {
    spec.bands.iter().filter(|b| b.points > points).min_by_key(|b| b.points)
}

fn gives(spec: &FactorSpec, band: &Band) -> String {
    format!("{} of {} points", band.points, spec.max_points())
}

const NO_BILLS: &str = "No bills due in the last 24 months are on record, so there is no payment history to score.";
const BUILD_BILLS: &str = "Pay regular bills (utilities, phone, rent) from this account on or \
before their due dates: each one builds the payment history this factor needs.";

fn thin_text(facts: &Facts) -> (String, String) {
    (
        format!(
            "Only {} of the last {BALANCE_WINDOW_DAYS} days have balance data; at least \
             {MIN_BALANCE_DAYS} are needed to score balances.",
            facts.balance_days
        ),
        "This resolves as the account builds history. Until then, bank statements or a bank \
         letter show your funds directly (see the alternatives below)."
            .into(),
    )
}

fn money_edge(facts: &Facts, band: &Band) -> String {
    let minor = band.min.checked_mul(facts.currency.minor_per_major()).unwrap_or(band.min);
    facts.money(minor).to_string()
}

fn date_after(from: NaiveDate, months: i64) -> String {
    u32::try_from(months)
        .ok()
        .and_then(|m| from.checked_add_months(Months::new(m)))
        .map_or_else(|| "later".into(), |d| d.to_string())
}

fn tenure(spec: &FactorSpec, points: u16, since: NaiveDate, what: String, keep: &str) -> (String, String) {
    let improve = match next_band(spec, points) {
        Some(b) => format!(
            "{keep}This grows with time only: from {} it reaches \"{}\" ({}).",
            date_after(since, b.min),
            b.label,
            gives(spec, b)
        ),
        None => format!("{keep}This grows with time only."),
    };
    (what, improve)
}

fn explain(r: &FactorResult, f: &Facts) -> (String, String) {
    let spec = r.key.spec();
    let special = match measure(r.key, f) {
        Measured::Value(_) => None,
        Measured::Special(s) => Some(s),
    };
    let next = next_band(spec, r.points);
    let next_text = |verb: &str| match next {
        Some(b) => format!("{verb} \"{}\" gives {}.", b.label, gives(spec, b)),
        None => String::new(),
    };
    match r.key {
        Factor::BillOnTimeRate => match special {
            Some(_) => (NO_BILLS.into(), BUILD_BILLS.into()),
            None => {
                let counted = f.counted();
                let text = format!(
                    "{} of your {} due in the last 24 months {} paid on time ({}): {} late and {} missed.",
                    f.on_time,
                    plural(i64::from(counted), "bill", "bills"),
                    if f.on_time == 1 { "was" } else { "were" },
                    r.measure.map_or_else(String::new, percent),
                    f.late,
                    f.missed
                );
                let improve = match next {
                    Some(b) if b.min < 1000 => {
                        // Smallest k with (on_time + k) * 1000 >= b.min * (counted + k).
                        let need = b.min * i64::from(counted) - 1000 * i64::from(f.on_time);
                        let k = (need + (1000 - b.min) - 1).div_euclid(1000 - b.min).max(1);
                        format!(
                            "Pay every bill on or before its due date: {k} more {} paid on time \
                             would reach \"{}\" ({}).",
                            if k == 1 { "bill" } else { "bills" },
                            b.label,
                            gives(spec, b)
                        )
                    }
                    _ => "Pay every bill on or before its due date. Full points need every bill \
                          of the last 24 months paid on time; a late or missed bill stops counting \
                          24 months after its due date."
                        .into(),
                };
                (text, improve)
            }
        },
        Factor::BillsMissed => match special {
            Some(_) => (
                "No bills are on record, so the absence of missed payments cannot be shown.".into(),
                BUILD_BILLS.into(),
            ),
            None => (
                format!(
                    "{} due more than 30 days ago {} still unpaid.",
                    plural(i64::from(f.missed), "bill", "bills"),
                    if f.missed == 1 { "is" } else { "are" }
                ),
                format!(
                    "Pay overdue bills now: once paid, a bill counts as late instead of missed. {}",
                    next_text("The band")
                ),
            ),
        },
        Factor::BillLastLate => match (special, f.last_late_due, f.days_since_last_late()) {
            (None, Some(due), Some(days)) => {
                let steps: Vec<String> = spec
                    .bands
                    .iter()
                    .filter(|b| b.points > r.points)
                    .map(|b| format!("{} points from {} days after that due date", b.points, b.min))
                    .collect();
                (
                    format!(
                        "Your most recent late or missed bill was due on {due}, {} before {}.",
                        plural(days, "day", "days"),
                        f.as_of
                    ),
                    format!(
                        "This recovers with time as long as every new bill is paid on time: {}, \
                         and {} once no late or missed bill remains in the last 24 months.",
                        steps.join(", "),
                        spec.max_points()
                    ),
                )
            }
            _ => (NO_BILLS.into(), BUILD_BILLS.into()),
        },
        Factor::BillCount => (
            format!(
                "{} due in the last 24 months {} on record.",
                plural(i64::from(f.counted()), "bill", "bills"),
                if f.counted() == 1 { "is" } else { "are" }
            ),
            format!(
                "Bills paid from this account (utilities, phone, rent) lengthen the record. {}",
                next_text("The band")
            ),
        ),
        Factor::BalanceAverage => match (special, f.avg6) {
            (None, Some(avg)) => (
                format!("Your average end-of-day balance over the last 6 months was {}.", f.money(avg)),
                match next {
                    Some(b) => format!(
                        "An average of at least {} would reach the next band ({}).",
                        money_edge(f, b),
                        gives(spec, b)
                    ),
                    None => String::new(),
                },
            ),
            _ => thin_text(f),
        },
        Factor::BalanceMinimum => match (special, f.min6) {
            (None, Some(min)) => (
                format!("On its lowest day in the last 6 months your balance was {}.", f.money(min)),
                match next {
                    Some(b) => format!(
                        "Keeping at least {} at the end of every day would reach the next band ({}).",
                        money_edge(f, b),
                        gives(spec, b)
                    ),
                    None => String::new(),
                },
            ),
            _ => thin_text(f),
        },
        Factor::BalanceTrend => match (special, f.avg3, f.avg6) {
            (None, Some(avg3), Some(avg6)) => (
                format!(
                    "Your average balance was {} over the last 3 months and {} over 6 months; \
                     this factor counts the lower of the two{}.",
                    f.money(avg3),
                    f.money(avg6),
                    if avg3 < avg6 { ", so a falling balance costs points" } else { "" }
                ),
                match next {
                    Some(b) => format!(
                        "Keeping an average of at least {} over both the last 3 and the last 6 \
                         months would reach the next band ({}).",
                        money_edge(f, b),
                        gives(spec, b)
                    ),
                    None => String::new(),
                },
            ),
            _ if !f.thin_balances() => (
                format!(
                    "Only {} of the last {RECENT_WINDOW_DAYS} days have balance data; at least \
                     {MIN_RECENT_DAYS} are needed to score the trend.",
                    f.recent_days
                ),
                "This resolves once recent balance data is on record.".into(),
            ),
            _ => thin_text(f),
        },
        Factor::SpendingToIncome => match special {
            None => (
                format!(
                    "Over the last 12 months you spent {}, {} of the {} you received.",
                    f.money(f.spending),
                    r.measure.map_or_else(String::new, percent),
                    f.money(f.income)
                ),
                format!("Spending less than you receive raises this factor. {}", next_text("Spending in the band")),
            ),
            Some(Special::NoIncome) => (
                format!("{} was spent but no income was recorded in the last 12 months.", f.money(f.spending)),
                "Income paid into this account (salary, pension, transfers) counts here; if yours \
                 is paid elsewhere, an employment letter or that account's statements show it."
                    .into(),
            ),
            Some(_) => (
                "No spending or income was recorded in the last 12 months.".into(),
                "Using this account for everyday income and spending builds this record.".into(),
            ),
        },
        Factor::SpendingToAssets => match (special, f.avg_spending(), f.avg6) {
            (None, Some(spend), Some(avg6)) => (
                format!(
                    "Your average monthly spending, {}, is {} of your 6-month average balance, {}.",
                    f.money(spend),
                    r.measure.map_or_else(String::new, percent),
                    f.money(avg6)
                ),
                format!("A higher balance or lower monthly spending lowers this ratio. {}", next_text("The band")),
            ),
            (Some(Special::ThinFile), _, _) => thin_text(f),
            (Some(Special::NoSavings), _, avg6) => (
                format!(
                    "Your average balance over the last 6 months was {}: zero or below.",
                    f.money(avg6.unwrap_or(0))
                ),
                "Any positive average balance over 6 months moves this factor out of its lowest \
                 band."
                    .into(),
            ),
            _ => (
                "No monthly spending was recorded in the last 12 months.".into(),
                "Using this account for everyday spending builds this record.".into(),
            ),
        },
        Factor::SpendingVolatility => match special {
            None => (
                format!(
                    "Your monthly spending varied by {} around its average over {} (standard \
                     deviation divided by the average).",
                    r.measure.map_or_else(String::new, percent),
                    plural(i64::try_from(f.months).unwrap_or(0), "month", "months")
                ),
                format!(
                    "Steadier spending from month to month lowers this; one unusually large month \
                     counts for 12 months. {}",
                    next_text("The band")
                ),
            ),
            Some(_) => (
                format!(
                    "Spending was recorded in {} of the last 12 months; at least \
                     {MIN_VOLATILITY_MONTHS} months with spending are needed to judge how steady \
                     it is.",
                    plural(i64::try_from(f.months).unwrap_or(0), "month", "months")
                ),
                "This resolves as more months of activity accumulate.".into(),
            ),
        },
        Factor::AccountAge => tenure(
            spec,
            r.points,
            f.opened_on,
            format!(
                "This account has been open for {}, since {}.",
                plural(f.account_months, "full month", "full months"),
                f.opened_on
            ),
            "",
        ),
        Factor::PhoneTenure => tenure(
            spec,
            r.points,
            f.phone_since,
            format!(
                "You have held your phone number for {}, since {}.",
                plural(f.phone_months, "full month", "full months"),
                f.phone_since
            ),
            "Keeping the same number helps. ",
        ),
        Factor::AddressTenure => tenure(
            spec,
            r.points,
            f.address_since,
            format!(
                "You have lived at your registered address for {}, since {}.",
                plural(f.address_months, "full month", "full months"),
                f.address_since
            ),
            "",
        ),
    }
}
