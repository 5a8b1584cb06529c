//! What a report attests, as plain data: built once from the store, then
//! rendered into the PDF and embedded in it as `report.json`, so software
//! reads exactly what was attested.
//!
//! Amounts here are already formatted for print (`CNY 52,000.00`) next to
//! their exact machine form (`{"currency": "CNY", "minor": 5200000}`), so the
//! renderer never does arithmetic and the JSON is unambiguous.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::Money;

/// The format tag of `report.json`; bump it when the shape changes.
/// v2 added the data's coverage, holdings' institutions and balance dates,
/// the issuer's legal name, address and contact, and `null` for a figure
/// without data (v1 printed 0).
pub const REPORT_FORMAT: &str = "standing-report/v2";

/// An amount as attested: exact minor units, currency, and the printed form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Amount {
    pub currency: String,
    pub minor: i64,
    /// `CNY 52,000.00`.
    pub text: String,
}

impl From<Money> for Amount {
    fn from(m: Money) -> Self {
        Amount { currency: m.currency().code().to_owned(), minor: m.minor(), text: m.to_string() }
    }
}

/// A figure in the account's currency and the authority's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dual {
    pub account: Amount,
    pub authority: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportData {
    pub format: &'static str,
    pub report_number: String,
    pub verification_code: String,
    /// `{public_base_url}/verify/{number}?c={code}`: the QR code's content.
    pub verification_url: String,
    pub issuer: Issuer,
    pub issued_at: DateTime<Utc>,
    pub as_of: NaiveDate,
    pub valid_until: NaiveDate,
    pub authority: Authority,
    pub applicant: Applicant,
    /// How far the data behind the figures reaches.
    pub coverage: Coverage,
    pub eligibility: Eligibility,
    pub assets: Assets,
    pub spending: Spending,
    pub bills: Bills,
    /// Every exchange rate used, with its date and source.
    pub exchange_rates: Vec<ExchangeRate>,
    pub signing: Signing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issuer {
    pub name: String,
    pub url: String,
    /// The registered legal name.
    pub legal_name: String,
    /// Postal address; `None` when the operator has not set one.
    pub address: Option<String>,
    /// An email address, phone number or URL an authority can use.
    pub contact: String,
}

/// How far the data behind a report reaches, so an officer sees that every
/// figure is as of the as-of date and not extrapolated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// The latest end-of-day balance of any holding on or before the as-of
    /// date (never more than `max_data_age_days` before it: older data is
    /// refused).
    pub balances_to: NaiveDate,
    /// The latest transaction posted on or before the as-of date; `None`
    /// when the account has none.
    pub transactions_to: Option<NaiveDate>,
    /// A holding is current when its latest balance is at most this many
    /// days before the as-of date.
    pub max_data_age_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Authority {
    /// `IRCC`.
    pub code: String,
    /// `Immigration, Refugees and Citizenship Canada`.
    pub name: String,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applicant {
    /// As in the passport.
    pub full_name: String,
    pub passport_number: String,
    pub passport_country: String,
    pub nationality: String,
    pub date_of_birth: NaiveDate,
    /// The operator's account id.
    pub account: String,
    pub account_opened_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Eligibility {
    /// Always true in an issued report: ineligible applicants get none.
    pub threshold_met: bool,
    pub threshold: u16,
    pub scale: &'static str,
    pub scorecard: &'static str,
    /// Printed only when the operator turns it on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<u16>,
    /// One sentence for the officer.
    pub statement: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assets {
    /// The account's home currency.
    pub currency: String,
    pub holdings: Vec<Holding>,
    pub total: AssetFigures,
    /// Days of balance data behind the averages (at most 365).
    pub days_of_data: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holding {
    pub holding: String,
    /// The bank or fund holding it, as imported; `None` when not stated.
    pub institution: Option<String>,
    /// The first and latest balance dates used (within the 12-month window).
    pub balances_from: NaiveDate,
    pub balances_to: NaiveDate,
    /// Whether `balances_to` is within `max_data_age_days` of the as-of date;
    /// only then does the holding have a current balance.
    pub current: bool,
    /// `savings`, `current`, ...
    pub kind: String,
    /// `Savings account`.
    pub kind_label: String,
    /// The holding's own currency.
    pub currency: String,
    /// In the holding's currency.
    pub figures: AssetFigures,
}

/// Balance figures of one holding or of the total. For a holding the amounts
/// are in its own currency with the authority's beside them; for the total,
/// in the account's currency with the authority's beside them. A figure is
/// `None` (`null`, printed "no data") when no day in its window has a
/// balance: it is never made up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssetFigures {
    /// The balance on the as-of date: the latest, if at most
    /// `max_data_age_days` old.
    pub current: Option<Dual>,
    pub average_3m: Option<Dual>,
    pub average_6m: Option<Dual>,
    pub average_12m: Option<Dual>,
    pub minimum_6m: Option<Dual>,
    pub maximum_6m: Option<Dual>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spending {
    pub currency: String,
    /// The 12 full calendar months before the as-of month, oldest first.
    pub months: Vec<SpendingMonth>,
    /// How many of them the account's transactions reach (see
    /// [`SpendingMonth::recorded`]).
    pub months_recorded: u32,
    /// Over the recorded months.
    pub total: Dual,
    /// The total divided by the recorded months; `None` when none is.
    pub average_monthly: Option<Dual>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpendingMonth {
    /// `2026-10`.
    pub month: String,
    /// Whether the account's transactions reach this month: false for a
    /// month that starts after its last transaction (on or before the as-of
    /// date). Its zero is then not a finding, and it prints "no data".
    pub recorded: bool,
    pub total: Amount,
    pub transactions: u32,
    /// Up to three categories with the most spending, largest first.
    pub top_categories: Vec<CategoryTotal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryTotal {
    pub category: String,
    pub total: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bills {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub count: u32,
    pub on_time: u32,
    pub late: u32,
    pub missed: u32,
    /// Not yet due or due within the grace period: not judged.
    pub open: u32,
    /// `98.3%` of judged bills paid on time; `n/a` when none were judged.
    pub on_time_rate: String,
    pub list: Vec<BillLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BillLine {
    pub biller: String,
    pub kind: String,
    pub due_on: NaiveDate,
    pub amount: Amount,
    pub paid_on: Option<NaiveDate>,
    /// `on time`, `late (3 days)`, `missed`, `open`.
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExchangeRate {
    pub base: String,
    pub quote: String,
    pub rate: String,
    pub date: NaiveDate,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signing {
    pub key_id: String,
    /// `Ed25519` or `ECDSA P-256`.
    pub algorithm: String,
}
