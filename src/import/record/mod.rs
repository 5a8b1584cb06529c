//! One line of an import file: JSON → a checked domain record, or the
//! reason it is refused.
//!
//! Every line is parsed into one flat struct holding every field any record
//! type may have (borrowed from the line where possible, so parsing does not
//! allocate), then checked against the rules of its `type`: required fields
//! present, fields of other types absent, each value valid.
//!
//! ## Dates
//!
//! Every date and timestamp must lie in a window that makes sense for its
//! field; a date outside it is a default value or a typo in the operator's
//! export (`0001-01-01`, `9999-12-31`), and a report must never sign it.
//!
//! | fields | from | to |
//! | --- | --- | --- |
//! | `date_of_birth` | [`EARLIEST_LIFE_DATE`] (1900-01-01) | today |
//! | `address_since` | 1900-01-01, and not before the date of birth | today |
//! | `opened_on`, `phone_since` | [`EARLIEST_FINANCIAL_DATE`] (1970-01-01), and not before the date of birth | today |
//! | transactions' `posted_at` (in UTC), balances' and rates' `date`, bills' `due_on` and `paid_on` | 1970-01-01 | [`LATEST_DATE`] (2100-12-31) |
//!
//! Birth and the start of an account, phone number or address are events
//! that have happened, so they end today (the import's clock). Financial
//! records start with the Unix epoch: no system an operator exports from
//! holds earlier ones. A person may have lived at an address since before
//! 1970, so `address_since` starts with the dates of birth. Nothing is
//! accepted after 2100-12-31: a bill may be due in the future, but not
//! centuries ahead.
//!
//! ## Amounts
//!
//! Every amount (transactions, balances, bills) is a decimal string with no
//! more fraction digits than its currency has, and at most
//! [`MAX_RECORD_MAJOR`] (10^13) major units either way. The limit is far
//! beyond any real record and keeps every sum the score and the report
//! compute exact (they add in `i128`).

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

#[cfg(doc)]
use crate::domain::MAX_RECORD_MAJOR;
use crate::domain::{
    Account, AccountId, BalancePoint, Bill, CountryCode, Currency, EmailAddress, FullName, FxRate, HoldingKind, Money,
    PassportNumber, PhoneNumber, Rate, RecordId, Transaction,
};

/// The earliest date of birth and `address_since` accepted.
pub const EARLIEST_LIFE_DATE: NaiveDate = ymd(1900, 1, 1);
/// The earliest date accepted for financial records, `opened_on` and
/// `phone_since`.
pub const EARLIEST_FINANCIAL_DATE: NaiveDate = ymd(1970, 1, 1);
/// The latest date accepted in any field.
pub const LATEST_DATE: NaiveDate = ymd(2100, 12, 31);

/// A date known to exist, at compile time.
const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(d) => d,
        // Evaluated at compile time: a wrong constant does not build.
        None => panic!("not a date"),
    }
}

/// The dates one field accepts, both ends included.
#[derive(Debug, Clone, Copy)]
struct Window {
    earliest: NaiveDate,
    latest: NaiveDate,
    /// Whether `latest` is today (said so in the message).
    ends_today: bool,
    /// The field's meaning, for messages: "due date".
    what: &'static str,
}

impl Window {
    /// Dates of financial records: 1970-01-01 to 2100-12-31.
    const fn financial(what: &'static str) -> Window {
        Window { earliest: EARLIEST_FINANCIAL_DATE, latest: LATEST_DATE, ends_today: false, what }
    }

    /// Events that have happened: from `earliest` to today.
    fn until(earliest: NaiveDate, today: NaiveDate, what: &'static str) -> Window {
        Window { earliest, latest: today.min(LATEST_DATE), ends_today: today <= LATEST_DATE, what }
    }

    fn check(&self, name: &str, d: NaiveDate, shown: &str) -> Result<(), LineError> {
        if (self.earliest..=self.latest).contains(&d) {
            return Ok(());
        }
        let today = if self.ends_today { ", today" } else { "" };
        Err(format!(
            "field `{name}`: {shown} is not a plausible {} (accepted: {} to {}{today})",
            self.what, self.earliest, self.latest
        ))
    }
}

/// A validated record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Account(Box<Account>),
    Transaction(Transaction),
    Balance(BalancePoint),
    Bill(Bill),
    FxRate(FxRate),
}

impl Record {
    /// Moves every date of the record by `days`, except a date of birth:
    /// the demo loader uses it so the demo data always ends yesterday.
    pub fn shift_dates(&mut self, days: i64) {
        let delta = chrono::TimeDelta::days(days);
        let day = |d: &mut NaiveDate| *d = d.checked_add_signed(delta).unwrap_or(*d);
        match self {
            Record::Account(a) => {
                day(&mut a.opened_on);
                day(&mut a.phone_since);
                day(&mut a.address_since);
            }
            Record::Transaction(t) => t.posted_at = t.posted_at.checked_add_signed(delta).unwrap_or(t.posted_at),
            Record::Balance(b) => day(&mut b.date),
            Record::Bill(b) => {
                day(&mut b.due_on);
                if let Some(paid) = &mut b.paid_on {
                    day(paid);
                }
            }
            Record::FxRate(r) => day(&mut r.date),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Record::Account(_) => "account",
            Record::Transaction(_) => "transaction",
            Record::Balance(_) => "balance",
            Record::Bill(_) => "bill",
            Record::FxRate(_) => "fx_rate",
        }
    }
}

pub const RECORD_TYPES: [&str; 5] = ["account", "transaction", "balance", "bill", "fx_rate"];

type Field<'a> = Option<Cow<'a, str>>;

/// Declares [`Raw`] with one optional field per name, and [`Raw::fields`]
/// listing them: the names are written once.
macro_rules! raw_record {
    ($($field:ident),* $(,)?) => {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw<'a> {
            #[serde(borrow, rename = "type")]
            record_type: Field<'a>,
            $(
                #[serde(borrow)]
                $field: Field<'a>,
            )*
        }

        const FIELD_COUNT: usize = [$(stringify!($field)),*].len();

        impl Raw<'_> {
            /// (name, present) for every field except `type`.
            fn fields(&self) -> [(&'static str, bool); FIELD_COUNT] {
                [$((stringify!($field), self.$field.is_some())),*]
            }
        }
    };
}

raw_record!(
    id,
    account,
    full_name,
    date_of_birth,
    nationality,
    passport_number,
    passport_country,
    phone,
    email,
    opened_on,
    phone_since,
    address_since,
    posted_at,
    amount,
    currency,
    category,
    merchant,
    holding,
    kind,
    institution,
    date,
    biller,
    due_on,
    paid_on,
    base,
    quote,
    rate,
    source,
);

/// Fields each record type may carry, in the order the documentation (and
/// the demo data) writes them; the rest are refused.
pub fn record_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "account" => &[
            "id",
            "full_name",
            "date_of_birth",
            "nationality",
            "passport_number",
            "passport_country",
            "phone",
            "email",
            "opened_on",
            "phone_since",
            "address_since",
        ],
        "transaction" => &["id", "account", "posted_at", "amount", "currency", "category", "merchant"],
        "balance" => &["account", "holding", "kind", "institution", "date", "amount", "currency"],
        "bill" => &["id", "account", "biller", "kind", "due_on", "amount", "currency", "paid_on"],
        "fx_rate" => &["base", "quote", "date", "rate", "source"],
        _ => &[],
    }
}

/// Why a line was refused, in words an operator can act on.
pub type LineError = String;

fn required<'b>(value: &'b Field<'_>, name: &str) -> Result<&'b str, LineError> {
    value.as_deref().ok_or_else(|| format!("missing field `{name}`"))
}

fn with_field<T, E: std::fmt::Display>(name: &str, r: Result<T, E>) -> Result<T, LineError> {
    r.map_err(|e| format!("field `{name}`: {e}"))
}

/// A `YYYY-MM-DD` date within `window`.
fn date(value: &Field<'_>, name: &str, window: Window) -> Result<NaiveDate, LineError> {
    let s = required(value, name)?;
    let d =
        parse_date(s).ok_or_else(|| format!("field `{name}`: `{}` is not a date (YYYY-MM-DD)", s.escape_debug()))?;
    window.check(name, d, s)?;
    Ok(d)
}

/// Exactly `YYYY-MM-DD`, four-digit year: chrono's `%Y-%m-%d` alone would
/// also take `2026-1-3` or a signed year.
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number =
        |digits: &[u8]| digits.iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')));
    let year = i32::try_from(number(&b[..4])?).ok()?;
    NaiveDate::from_ymd_opt(year, number(&b[5..7])?, number(&b[8..])?)
}

/// An RFC 3339 timestamp with a zone, whose UTC date lies in `window`.
fn timestamp(value: &Field<'_>, name: &str, window: Window) -> Result<DateTime<Utc>, LineError> {
    let s = required(value, name)?;
    let t = DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|_| {
        format!(
            "field `{name}`: `{}` is not an RFC 3339 timestamp with a zone (e.g. 2026-01-03T12:00:00Z)",
            s.escape_debug()
        )
    })?;
    let day = t.date_naive();
    window.check(
        name,
        day,
        &if s.starts_with(&day.to_string()) {
            s.to_owned()
        } else {
            // The zone moved the date: say which one was checked.
            format!("{s} ({day} in UTC)")
        },
    )?;
    Ok(t)
}

fn id(value: &Field<'_>, name: &str) -> Result<RecordId, LineError> {
    with_field(name, RecordId::parse(required(value, name)?))
}

fn account_id(value: &Field<'_>, name: &str) -> Result<AccountId, LineError> {
    with_field(name, AccountId::parse(required(value, name)?))
}

fn currency(value: &Field<'_>) -> Result<Currency, LineError> {
    with_field("currency", Currency::from_code(required(value, "currency")?))
}

fn money(value: &Field<'_>, currency: Currency) -> Result<Money, LineError> {
    with_field("amount", Money::parse_record_amount(required(value, "amount")?, currency))
}

/// Free text such as a category or biller: trimmed, 1..=max characters, no
/// control characters.
fn text(value: &Field<'_>, name: &str, max: usize) -> Result<String, LineError> {
    let s = required(value, name)?;
    let n = s.chars().count();
    if s.trim() != s || n == 0 || n > max || s.chars().any(char::is_control) {
        return Err(format!(
            "field `{name}` must be 1 to {max} characters without control characters or surrounding spaces"
        ));
    }
    Ok(s.to_owned())
}

/// Parses and checks one line. `today` bounds dates that cannot lie in the
/// future (birth, account opening).
pub fn parse_line(line: &str, today: NaiveDate) -> Result<Record, LineError> {
    let raw: Raw<'_> = serde_json::from_str(line).map_err(|e| describe_json_error(&e))?;
    let kind = raw.record_type.as_deref().ok_or("missing field `type`")?;
    if !RECORD_TYPES.contains(&kind) {
        return Err(format!(
            "unknown record type `{}` (expected one of: {})",
            kind.escape_debug(),
            RECORD_TYPES.join(", ")
        ));
    }
    let allowed = record_fields(kind);
    if let Some((name, _)) = raw.fields().into_iter().find(|(name, present)| *present && !allowed.contains(name)) {
        let article = if matches!(kind, "account" | "fx_rate") { "an" } else { "a" };
        return Err(format!("field `{name}` is not allowed in {article} {kind} record"));
    }
    match kind {
        "account" => account(&raw, today).map(|a| Record::Account(Box::new(a))),
        "transaction" => transaction(&raw).map(Record::Transaction),
        "balance" => balance(&raw).map(Record::Balance),
        "bill" => bill(&raw).map(Record::Bill),
        _ => fx_rate(&raw).map(Record::FxRate),
    }
}

fn describe_json_error(e: &serde_json::Error) -> LineError {
    let msg = e.to_string();
    // Drop serde's " at line 1 column N": the import reports its own line.
    let msg = msg.rfind(" at line ").map_or(msg.as_str(), |i| &msg[..i]);
    // serde says "invalid type: floating point `125.4`, expected a string";
    // say why strings are required.
    if msg.contains("invalid type") && msg.contains("expected a string") {
        format!("invalid JSON: {msg} (amounts, rates and dates are JSON strings, e.g. \"amount\":\"-125.40\")")
    } else {
        format!("invalid JSON: {msg}")
    }
}

fn account(raw: &Raw<'_>, today: NaiveDate) -> Result<Account, LineError> {
    let date_of_birth =
        date(&raw.date_of_birth, "date_of_birth", Window::until(EARLIEST_LIFE_DATE, today, "date of birth"))?;
    let since = |value: &Field<'_>, name: &str, window: Window| -> Result<NaiveDate, LineError> {
        let d = date(value, name, window)?;
        if d < date_of_birth {
            return Err(format!("field `{name}`: {d} is before the date of birth on this line"));
        }
        Ok(d)
    };
    Ok(Account {
        id: account_id(&raw.id, "id")?,
        full_name: with_field("full_name", FullName::parse(required(&raw.full_name, "full_name")?))?,
        date_of_birth,
        nationality: with_field("nationality", CountryCode::parse(required(&raw.nationality, "nationality")?))?,
        passport_number: with_field(
            "passport_number",
            PassportNumber::parse(required(&raw.passport_number, "passport_number")?),
        )?,
        passport_country: with_field(
            "passport_country",
            CountryCode::parse(required(&raw.passport_country, "passport_country")?),
        )?,
        phone: with_field("phone", PhoneNumber::parse(required(&raw.phone, "phone")?))?,
        email: with_field("email", EmailAddress::parse(required(&raw.email, "email")?))?,
        opened_on: since(
            &raw.opened_on,
            "opened_on",
            Window::until(EARLIEST_FINANCIAL_DATE, today, "account opening date"),
        )?,
        phone_since: since(
            &raw.phone_since,
            "phone_since",
            Window::until(EARLIEST_FINANCIAL_DATE, today, "start date for this phone number"),
        )?,
        address_since: since(
            &raw.address_since,
            "address_since",
            Window::until(EARLIEST_LIFE_DATE, today, "start date at this address"),
        )?,
    })
}

fn transaction(raw: &Raw<'_>) -> Result<Transaction, LineError> {
    let currency = currency(&raw.currency)?;
    Ok(Transaction {
        id: id(&raw.id, "id")?,
        account: account_id(&raw.account, "account")?,
        posted_at: timestamp(&raw.posted_at, "posted_at", Window::financial("transaction date"))?,
        amount: money(&raw.amount, currency)?,
        category: text(&raw.category, "category", 64)?,
        merchant: match raw.merchant {
            Some(_) => Some(text(&raw.merchant, "merchant", 200)?),
            None => None,
        },
    })
}

fn balance(raw: &Raw<'_>) -> Result<BalancePoint, LineError> {
    let currency = currency(&raw.currency)?;
    Ok(BalancePoint {
        account: account_id(&raw.account, "account")?,
        holding: id(&raw.holding, "holding")?,
        kind: with_field("kind", HoldingKind::parse(required(&raw.kind, "kind")?))?,
        date: date(&raw.date, "date", Window::financial("balance date"))?,
        amount: money(&raw.amount, currency)?,
        institution: match raw.institution {
            Some(_) => Some(text(&raw.institution, "institution", 200)?),
            None => None,
        },
    })
}

fn bill(raw: &Raw<'_>) -> Result<Bill, LineError> {
    let currency = currency(&raw.currency)?;
    let amount = money(&raw.amount, currency)?;
    if amount.minor() <= 0 {
        return Err("field `amount`: a bill's amount must be greater than zero".into());
    }
    Ok(Bill {
        id: id(&raw.id, "id")?,
        account: account_id(&raw.account, "account")?,
        biller: text(&raw.biller, "biller", 200)?,
        kind: text(&raw.kind, "kind", 64)?,
        due_on: date(&raw.due_on, "due_on", Window::financial("due date"))?,
        amount,
        paid_on: match raw.paid_on {
            Some(_) => Some(date(&raw.paid_on, "paid_on", Window::financial("payment date"))?),
            None => None,
        },
    })
}

fn fx_rate(raw: &Raw<'_>) -> Result<FxRate, LineError> {
    let base = with_field("base", Currency::from_code(required(&raw.base, "base")?))?;
    let quote = with_field("quote", Currency::from_code(required(&raw.quote, "quote")?))?;
    if base == quote {
        return Err(format!("an fx_rate must convert between two currencies (base and quote are both {base})"));
    }
    Ok(FxRate {
        base,
        quote,
        date: date(&raw.date, "date", Window::financial("rate date"))?,
        rate: with_field("rate", Rate::parse(required(&raw.rate, "rate")?))?,
        source: text(&raw.source, "source", 200)?,
    })
}

#[cfg(test)]
mod tests;
