//! `scorecard-v2`: every constant of the score in one place.
//!
//! The score is `BASE_SCORE` plus the points of thirteen factors. Each factor
//! turns the inputs into one integer *measure* (a count, days, months, an
//! amount in major units, or a ratio in permille, always rounded down) and
//! looks it up in a table of bands. When the measure cannot be computed (no
//! bills, too few days of balance data, …) a named *special* band applies
//! instead. `docs/scoring.md` prints these tables; a test keeps the two equal.
//!
//! A factor without data (no bills, a thin balance file, no spending) scores
//! zero points: what we do not know never counts toward the gate. That is
//! the change from `scorecard-v1`, whose special bands gave such factors a
//! few points, so that an account with future or missing data could pass.
//!
//! Changing any number here changes scores: bump [`SCORECARD_VERSION`].

use serde::Serialize;

/// Recorded in every decision so a score can be recomputed with the right tables.
pub const SCORECARD_VERSION: &str = "scorecard-v2";
/// The lowest score; an account with zero points.
pub const BASE_SCORE: u16 = 350;
/// The highest score; `BASE_SCORE` plus the sum of every factor's maximum.
pub const MAX_SCORE: u16 = 950;
/// Eligible iff the score is strictly above the threshold: 750 is not eligible.
pub const DEFAULT_THRESHOLD: u16 = 750;

/// Bills count if due in the 24 months before `as_of` (after the date 24
/// calendar months earlier, up to and including `as_of`).
pub const BILL_WINDOW_MONTHS: u32 = 24;
/// An unpaid bill is *open* (not counted) until this many days after its due
/// date, and *missed* afterwards.
pub const BILL_GRACE_DAYS: i64 = 30;
/// The balance window: the 182 days (26 weeks) ending the day before `as_of`.
pub const BALANCE_WINDOW_DAYS: u64 = 182;
/// A holding's balance counts on the days after it for at most this many
/// days; with no newer balance by then the holding has no balance (it is not
/// carried forward for ever, as if a closed account still held its money).
pub const BALANCE_CARRY_DAYS: u64 = 7;
/// The recent part of the balance window, for the trend: 91 days (13 weeks).
pub const RECENT_WINDOW_DAYS: u64 = 91;
/// Fewer days with balance data in the balance window is a thin file.
pub const MIN_BALANCE_DAYS: usize = 90;
/// Fewer days with data in the recent window leaves the trend unscored.
pub const MIN_RECENT_DAYS: usize = 45;
/// Spending and income: the 12 full calendar months before `as_of`'s month.
pub const SPENDING_WINDOW_MONTHS: u32 = 12;
/// Volatility needs at least this many months with data.
pub const MIN_VOLATILITY_MONTHS: usize = 3;
/// Monthly spending and income are clamped to `0..=MAX_MONTHLY_FLOW` minor
/// units (10^14: a trillion yuan) so the integer arithmetic cannot overflow.
pub const MAX_MONTHLY_FLOW: i64 = 100_000_000_000_000;
/// How many reasons an ineligible decision gives at most.
pub const MAX_REASONS: usize = 4;

/// The thirteen factors, in the order they are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    BillOnTimeRate,
    BillsMissed,
    BillLastLate,
    BillCount,
    BalanceAverage,
    BalanceMinimum,
    BalanceTrend,
    SpendingToIncome,
    SpendingToAssets,
    SpendingVolatility,
    AccountAge,
    PhoneTenure,
    AddressTenure,
}

impl Factor {
    pub const ALL: [Factor; 13] = [
        Factor::BillOnTimeRate,
        Factor::BillsMissed,
        Factor::BillLastLate,
        Factor::BillCount,
        Factor::BalanceAverage,
        Factor::BalanceMinimum,
        Factor::BalanceTrend,
        Factor::SpendingToIncome,
        Factor::SpendingToAssets,
        Factor::SpendingVolatility,
        Factor::AccountAge,
        Factor::PhoneTenure,
        Factor::AddressTenure,
    ];

    /// The band table of this factor.
    pub fn spec(self) -> &'static FactorSpec {
        match self {
            Factor::BillOnTimeRate => &BILL_ON_TIME_RATE,
            Factor::BillsMissed => &BILLS_MISSED,
            Factor::BillLastLate => &BILL_LAST_LATE,
            Factor::BillCount => &BILL_COUNT,
            Factor::BalanceAverage => &BALANCE_AVERAGE,
            Factor::BalanceMinimum => &BALANCE_MINIMUM,
            Factor::BalanceTrend => &BALANCE_TREND,
            Factor::SpendingToIncome => &SPENDING_TO_INCOME,
            Factor::SpendingToAssets => &SPENDING_TO_ASSETS,
            Factor::SpendingVolatility => &SPENDING_VOLATILITY,
            Factor::AccountAge => &ACCOUNT_AGE,
            Factor::PhoneTenure => &PHONE_TENURE,
            Factor::AddressTenure => &ADDRESS_TENURE,
        }
    }

    /// The key used in JSON and in the documentation: `bill_on_time_rate`.
    pub fn key(self) -> &'static str {
        self.spec().key
    }
}

/// The five groups of signals the issue names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Bills,
    Assets,
    Spending,
    History,
    Identity,
}

impl Group {
    pub const ALL: [Group; 5] = [Group::Bills, Group::Assets, Group::Spending, Group::History, Group::Identity];

    pub fn title(self) -> &'static str {
        match self {
            Group::Bills => "Bill payment history",
            Group::Assets => "Assets",
            Group::Spending => "Spending",
            Group::History => "Length of history",
            Group::Identity => "Identity stability",
        }
    }
}

/// What a measure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Thousandths (a ratio of 0.958 is 958), rounded down.
    Permille,
    Count,
    Days,
    /// Full calendar months.
    Months,
    /// Whole major units of the input currency (yuan for CNY), rounded down.
    MajorUnits,
}

/// Why a factor could not be measured; each names a special band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// No bill was counted in the window (thin file).
    NoHistory,
    /// Bills were counted but none was late or missed.
    NoneLate,
    /// Fewer than `MIN_BALANCE_DAYS` days (or `MIN_RECENT_DAYS` recent days) of balance data.
    ThinFile,
    /// No spending or income data to compute the ratio.
    NoData,
    /// Spending was recorded but no income.
    NoIncome,
    /// The 6-month average balance is zero or negative.
    NoSavings,
}

/// A range of the measure, both ends included, and its points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    pub min: i64,
    pub max: i64,
    pub points: u16,
    pub label: &'static str,
}

/// A band used instead of the table when the measure cannot be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialBand {
    pub when: Special,
    pub points: u16,
    pub label: &'static str,
}

/// One factor of the scorecard.
#[derive(Debug)]
pub struct FactorSpec {
    pub key: &'static str,
    pub label: &'static str,
    pub group: Group,
    /// How the measure is computed, in one sentence (printed in the docs).
    pub measure: &'static str,
    pub unit: Unit,
    /// Whether a larger measure earns more points (tenure) or fewer (spending ratios).
    pub higher_is_better: bool,
    /// Ascending, contiguous, covering every `i64`.
    pub bands: &'static [Band],
    pub specials: &'static [SpecialBand],
}

impl FactorSpec {
    /// The most points this factor can give.
    pub fn max_points(&self) -> u16 {
        let bands = self.bands.iter().map(|b| b.points);
        let specials = self.specials.iter().map(|s| s.points);
        bands.chain(specials).max().unwrap_or(0)
    }

    /// The band containing `measure`.
    pub fn band(&self, measure: i64) -> &'static Band {
        // The bands cover every i64 (tested), so the fallback is unreachable;
        // it still keeps the lookup total without a panic.
        self.bands.iter().find(|b| b.min <= measure && measure <= b.max).unwrap_or(&EMPTY_BAND)
    }

    /// The special band for `when`; a factor without it scores zero.
    pub fn special(&self, when: Special) -> SpecialBand {
        self.specials.iter().find(|s| s.when == when).copied().unwrap_or(SpecialBand {
            when,
            points: 0,
            label: "not measurable",
        })
    }
}

static EMPTY_BAND: Band = Band { min: i64::MIN, max: i64::MAX, points: 0, label: "not measurable" };

const MIN: i64 = i64::MIN;
const MAX: i64 = i64::MAX;

const fn band(min: i64, max: i64, points: u16, label: &'static str) -> Band {
    Band { min, max, points, label }
}

const fn special(when: Special, points: u16, label: &'static str) -> SpecialBand {
    SpecialBand { when, points, label }
}

// --- Bill payment history: 220 points ------------------------------------

pub static BILL_ON_TIME_RATE: FactorSpec = FactorSpec {
    key: "bill_on_time_rate",
    label: "Bills paid on time",
    group: Group::Bills,
    measure: "bills paid on or before their due date, divided by all counted bills (on time + late + missed), in permille rounded down",
    unit: Unit::Permille,
    higher_is_better: true,
    bands: &[
        band(MIN, 699, 0, "below 70.0%"),
        band(700, 849, 35, "70.0% to 84.9%"),
        band(850, 929, 65, "85.0% to 92.9%"),
        band(930, 969, 85, "93.0% to 96.9%"),
        band(970, 999, 100, "97.0% to 99.9%"),
        band(1000, MAX, 110, "100%"),
    ],
    specials: &[special(Special::NoHistory, 0, "no bills counted (no history)")],
};

pub static BILLS_MISSED: FactorSpec = FactorSpec {
    key: "bills_missed",
    label: "Missed bills",
    group: Group::Bills,
    measure: "bills still unpaid at the as-of date more than 30 days after their due date",
    unit: Unit::Count,
    higher_is_better: false,
    bands: &[band(MIN, 0, 50, "none"), band(1, 1, 25, "1"), band(2, 2, 10, "2"), band(3, MAX, 0, "3 or more")],
    specials: &[special(Special::NoHistory, 0, "no bills counted (no history)")],
};

pub static BILL_LAST_LATE: FactorSpec = FactorSpec {
    key: "bill_last_late",
    label: "Last late or missed bill",
    group: Group::Bills,
    measure: "days from the due date of the most recent late or missed bill to the as-of date",
    unit: Unit::Days,
    higher_is_better: true,
    bands: &[
        band(MIN, 90, 0, "90 days ago or less"),
        band(91, 182, 10, "91 to 182 days ago"),
        band(183, 364, 20, "183 to 364 days ago"),
        band(365, MAX, 30, "365 days ago or more"),
    ],
    specials: &[
        special(Special::NoneLate, 40, "none in the last 24 months"),
        special(Special::NoHistory, 0, "no bills counted (no history)"),
    ],
};

pub static BILL_COUNT: FactorSpec = FactorSpec {
    key: "bill_count",
    label: "Bills on record",
    group: Group::Bills,
    measure: "counted bills (on time + late + missed) due in the last 24 months",
    unit: Unit::Count,
    higher_is_better: true,
    bands: &[
        band(MIN, 0, 0, "none"),
        band(1, 5, 5, "1 to 5"),
        band(6, 11, 10, "6 to 11"),
        band(12, 23, 15, "12 to 23"),
        band(24, MAX, 20, "24 or more"),
    ],
    specials: &[],
};

// --- Assets: 150 points ---------------------------------------------------

pub static BALANCE_AVERAGE: FactorSpec = FactorSpec {
    key: "balance_average",
    label: "Average balance (6 months)",
    group: Group::Assets,
    measure: "average end-of-day balance across holdings over the days with data in the last 182 days, in major units rounded down",
    unit: Unit::MajorUnits,
    higher_is_better: true,
    bands: &[
        band(MIN, 999, 0, "under 1,000"),
        band(1_000, 9_999, 10, "1,000 to 9,999"),
        band(10_000, 49_999, 25, "10,000 to 49,999"),
        band(50_000, 99_999, 45, "50,000 to 99,999"),
        band(100_000, 299_999, 65, "100,000 to 299,999"),
        band(300_000, MAX, 80, "300,000 or more"),
    ],
    specials: &[special(Special::ThinFile, 0, "fewer than 90 days of balance data")],
};

pub static BALANCE_MINIMUM: FactorSpec = FactorSpec {
    key: "balance_minimum",
    label: "Lowest balance (6 months)",
    group: Group::Assets,
    measure: "lowest end-of-day balance across holdings in the last 182 days, in major units rounded down",
    unit: Unit::MajorUnits,
    higher_is_better: true,
    bands: &[
        band(MIN, 999, 0, "under 1,000"),
        band(1_000, 4_999, 8, "1,000 to 4,999"),
        band(5_000, 19_999, 15, "5,000 to 19,999"),
        band(20_000, 49_999, 22, "20,000 to 49,999"),
        band(50_000, 149_999, 28, "50,000 to 149,999"),
        band(150_000, MAX, 35, "150,000 or more"),
    ],
    specials: &[special(Special::ThinFile, 0, "fewer than 90 days of balance data")],
};

pub static BALANCE_TREND: FactorSpec = FactorSpec {
    key: "balance_trend",
    label: "Balance trend",
    group: Group::Assets,
    measure: "the lower of the average balance over the last 91 days and over the last 182 days, in major units rounded down",
    unit: Unit::MajorUnits,
    higher_is_better: true,
    bands: &[
        band(MIN, 999, 0, "under 1,000"),
        band(1_000, 9_999, 4, "1,000 to 9,999"),
        band(10_000, 29_999, 8, "10,000 to 29,999"),
        band(30_000, 59_999, 13, "30,000 to 59,999"),
        band(60_000, 99_999, 18, "60,000 to 99,999"),
        band(100_000, 199_999, 24, "100,000 to 199,999"),
        band(200_000, 299_999, 29, "200,000 to 299,999"),
        band(300_000, MAX, 35, "300,000 or more"),
    ],
    specials: &[special(Special::ThinFile, 0, "fewer than 90 days of balance data, or 45 in the last 91")],
};

// --- Spending: 100 points -------------------------------------------------

pub static SPENDING_TO_INCOME: FactorSpec = FactorSpec {
    key: "spending_to_income",
    label: "Spending vs income",
    group: Group::Spending,
    measure: "total spending divided by total income over the months with data in the last 12 full months, in permille rounded down",
    unit: Unit::Permille,
    higher_is_better: false,
    bands: &[
        band(MIN, 500, 40, "50.0% or less"),
        band(501, 700, 32, "50.1% to 70.0%"),
        band(701, 900, 20, "70.1% to 90.0%"),
        band(901, 1000, 10, "90.1% to 100.0%"),
        band(1001, 1200, 4, "100.1% to 120.0%"),
        band(1201, MAX, 0, "above 120.0%"),
    ],
    specials: &[
        special(Special::NoData, 0, "no spending and no income recorded"),
        special(Special::NoIncome, 0, "spending but no income recorded"),
    ],
};

pub static SPENDING_TO_ASSETS: FactorSpec = FactorSpec {
    key: "spending_to_assets",
    label: "Spending vs savings",
    group: Group::Spending,
    measure: "average monthly spending (total spending / months with data) divided by the 6-month average balance, in permille rounded down",
    unit: Unit::Permille,
    higher_is_better: false,
    bands: &[
        band(MIN, 100, 30, "10.0% or less"),
        band(101, 250, 22, "10.1% to 25.0%"),
        band(251, 500, 14, "25.1% to 50.0%"),
        band(501, 1000, 6, "50.1% to 100.0%"),
        band(1001, MAX, 0, "above 100.0%"),
    ],
    specials: &[
        special(Special::ThinFile, 0, "fewer than 90 days of balance data"),
        special(Special::NoData, 0, "no monthly spending data"),
        special(Special::NoSavings, 0, "average balance zero or below"),
    ],
};

pub static SPENDING_VOLATILITY: FactorSpec = FactorSpec {
    key: "spending_volatility",
    label: "Spending variation",
    group: Group::Spending,
    measure: "coefficient of variation of monthly spending (population standard deviation / mean) over the months with data, in permille rounded down",
    unit: Unit::Permille,
    higher_is_better: false,
    bands: &[
        band(MIN, 150, 30, "15.0% or less"),
        band(151, 300, 22, "15.1% to 30.0%"),
        band(301, 500, 12, "30.1% to 50.0%"),
        band(501, 800, 5, "50.1% to 80.0%"),
        band(801, MAX, 0, "above 80.0%"),
    ],
    specials: &[special(Special::NoData, 0, "fewer than 3 months of data, or no spending")],
};

// --- Length of history: 60 points ----------------------------------------

pub static ACCOUNT_AGE: FactorSpec = FactorSpec {
    key: "account_age",
    label: "Account age",
    group: Group::History,
    measure: "full months from the account's opening date to the as-of date",
    unit: Unit::Months,
    higher_is_better: true,
    bands: &[
        band(MIN, 5, 0, "under 6 months"),
        band(6, 11, 10, "6 to 11 months"),
        band(12, 23, 20, "1 year to under 2"),
        band(24, 35, 30, "2 years to under 3"),
        band(36, 59, 45, "3 years to under 5"),
        band(60, MAX, 60, "5 years or more"),
    ],
    specials: &[],
};

// --- Identity stability: 70 points ---------------------------------------

pub static PHONE_TENURE: FactorSpec = FactorSpec {
    key: "phone_tenure",
    label: "Phone number held",
    group: Group::Identity,
    measure: "full months since the registered phone number was first held",
    unit: Unit::Months,
    higher_is_better: true,
    bands: &[
        band(MIN, 5, 0, "under 6 months"),
        band(6, 11, 8, "6 to 11 months"),
        band(12, 23, 16, "1 year to under 2"),
        band(24, 35, 24, "2 years to under 3"),
        band(36, 59, 32, "3 years to under 5"),
        band(60, MAX, 40, "5 years or more"),
    ],
    specials: &[],
};

pub static ADDRESS_TENURE: FactorSpec = FactorSpec {
    key: "address_tenure",
    label: "Address held",
    group: Group::Identity,
    measure: "full months since the applicant has lived at the registered address",
    unit: Unit::Months,
    higher_is_better: true,
    bands: &[
        band(MIN, 5, 0, "under 6 months"),
        band(6, 11, 6, "6 to 11 months"),
        band(12, 23, 12, "1 year to under 2"),
        band(24, 35, 18, "2 years to under 3"),
        band(36, 59, 24, "3 years to under 5"),
        band(60, MAX, 30, "5 years or more"),
    ],
    specials: &[],
};

/// The factor tables as Markdown, exactly as `docs/scoring.md` prints them.
pub fn markdown_tables() -> String {
    let mut out = String::new();
    for group in Group::ALL {
        let factors: Vec<&FactorSpec> = Factor::ALL.iter().map(|f| f.spec()).filter(|s| s.group == group).collect();
        let group_max: u16 = factors.iter().map(|s| s.max_points()).sum();
        out.push_str(&format!("### {}: up to {group_max} points\n\n", group.title()));
        for spec in factors {
            out.push_str(&format!(
                "#### `{}`: {}, up to {} points\n\nMeasure: {}.\n\n| band | points |\n| --- | ---: |\n",
                spec.key,
                spec.label,
                spec.max_points(),
                spec.measure
            ));
            for b in spec.bands {
                out.push_str(&format!("| {} | {} |\n", b.label, b.points));
            }
            for s in spec.specials {
                out.push_str(&format!("| *{}* | {} |\n", s.label, s.points));
            }
            out.push('\n');
        }
    }
    out
}
