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
    Account, BalancePoint, Bill, CountryCode, Currency, EmailAddress, FullName, FxRate, HoldingKind, Money,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw<'a> {
    #[serde(borrow, rename = "type")]
    record_type: Field<'a>,
    #[serde(borrow)]
    id: Field<'a>,
    #[serde(borrow)]
    account: Field<'a>,
    #[serde(borrow)]
    full_name: Field<'a>,
    #[serde(borrow)]
    date_of_birth: Field<'a>,
    #[serde(borrow)]
    nationality: Field<'a>,
    #[serde(borrow)]
    passport_number: Field<'a>,
    #[serde(borrow)]
    passport_country: Field<'a>,
    #[serde(borrow)]
    phone: Field<'a>,
    #[serde(borrow)]
    email: Field<'a>,
    #[serde(borrow)]
    opened_on: Field<'a>,
    #[serde(borrow)]
    phone_since: Field<'a>,
    #[serde(borrow)]
    address_since: Field<'a>,
    #[serde(borrow)]
    posted_at: Field<'a>,
    #[serde(borrow)]
    amount: Field<'a>,
    #[serde(borrow)]
    currency: Field<'a>,
    #[serde(borrow)]
    category: Field<'a>,
    #[serde(borrow)]
    merchant: Field<'a>,
    #[serde(borrow)]
    holding: Field<'a>,
    #[serde(borrow)]
    date: Field<'a>,
    #[serde(borrow)]
    biller: Field<'a>,
    #[serde(borrow)]
    due_on: Field<'a>,
    #[serde(borrow)]
    paid_on: Field<'a>,
    #[serde(borrow)]
    base: Field<'a>,
    #[serde(borrow)]
    quote: Field<'a>,
    #[serde(borrow)]
    rate: Field<'a>,
    #[serde(borrow)]
    source: Field<'a>,
    #[serde(borrow)]
    kind: Field<'a>,
    #[serde(borrow)]
    institution: Field<'a>,
}

impl<'a> Raw<'a> {
    /// (name, present) for every field except `type`, in file order.
    fn fields(&self) -> [(&'static str, bool); 28] {
        [
            ("id", self.id.is_some()),
            ("account", self.account.is_some()),
            ("full_name", self.full_name.is_some()),
            ("date_of_birth", self.date_of_birth.is_some()),
            ("nationality", self.nationality.is_some()),
            ("passport_number", self.passport_number.is_some()),
            ("passport_country", self.passport_country.is_some()),
            ("phone", self.phone.is_some()),
            ("email", self.email.is_some()),
            ("opened_on", self.opened_on.is_some()),
            ("phone_since", self.phone_since.is_some()),
            ("address_since", self.address_since.is_some()),
            ("posted_at", self.posted_at.is_some()),
            ("amount", self.amount.is_some()),
            ("currency", self.currency.is_some()),
            ("category", self.category.is_some()),
            ("merchant", self.merchant.is_some()),
            ("holding", self.holding.is_some()),
            ("kind", self.kind.is_some()),
            ("institution", self.institution.is_some()),
            ("date", self.date.is_some()),
            ("biller", self.biller.is_some()),
            ("due_on", self.due_on.is_some()),
            ("paid_on", self.paid_on.is_some()),
            ("base", self.base.is_some()),
            ("quote", self.quote.is_some()),
            ("rate", self.rate.is_some()),
            ("source", self.source.is_some()),
        ]
    }
}

/// Fields each record type may carry; the rest are refused.
fn allowed_fields(kind: &str) -> &'static [&'static str] {
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
    let allowed = allowed_fields(kind);
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
        id: id(&raw.id, "id")?,
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
        account: id(&raw.account, "account")?,
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
        account: id(&raw.account, "account")?,
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
        account: id(&raw.account, "account")?,
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
mod tests {
    use super::*;
    use chrono::Datelike;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    const ACCOUNT: &str = r#"{"type":"account","id":"A1001","full_name":"ZHANG Wei","date_of_birth":"1990-04-12","nationality":"CHN","passport_number":"E12345678","passport_country":"CHN","phone":"+8613800138000","email":"zhang.wei@example.com","opened_on":"2014-03-01","phone_since":"2012-06-01","address_since":"2016-01-01"}"#;

    #[test]
    fn parses_each_design_example() {
        assert!(matches!(parse_line(ACCOUNT, today()), Ok(Record::Account(_))));
        let lines = [
            r#"{"type":"transaction","id":"T-1","account":"A1001","posted_at":"2026-01-03T12:00:00Z","amount":"-125.40","currency":"CNY","category":"groceries","merchant":"Hema"}"#,
            r#"{"type":"balance","account":"A1001","holding":"H-1","kind":"savings","date":"2026-01-03","amount":"52000.00","currency":"CNY"}"#,
            r#"{"type":"bill","id":"B-1","account":"A1001","biller":"State Grid Shanghai","kind":"utility","due_on":"2026-01-15","amount":"230.00","currency":"CNY","paid_on":"2026-01-14"}"#,
            r#"{"type":"bill","id":"B-2","account":"A1001","biller":"China Mobile","kind":"telecom","due_on":"2026-02-15","amount":"88.00","currency":"CNY","paid_on":null}"#,
            r#"{"type":"fx_rate","base":"CNY","quote":"CAD","date":"2026-11-20","rate":"0.1932","source":"Bank of Canada"}"#,
        ];
        let kinds: Vec<_> = lines.iter().map(|l| parse_line(l, today()).unwrap().type_name()).collect();
        assert_eq!(kinds, ["transaction", "balance", "bill", "bill", "fx_rate"]);
        let Ok(Record::Transaction(t)) = parse_line(lines[0], today()) else { panic!() };
        assert_eq!(t.amount.minor(), -12540);
    }

    fn error_of(line: &str) -> String {
        parse_line(line, today()).unwrap_err()
    }

    fn account_with(field: &str, value: &str) -> String {
        let mut v: serde_json::Value = serde_json::from_str(ACCOUNT).unwrap();
        v[field] = serde_json::from_str(value).unwrap();
        v.to_string()
    }

    #[test]
    fn every_rule_has_a_specific_message() {
        let tx = |amount: &str, currency: &str| {
            format!(
                r#"{{"type":"transaction","id":"T-1","account":"A1001","posted_at":"2026-01-03T12:00:00Z","amount":{amount},"currency":"{currency}","category":"groceries"}}"#
            )
        };
        let cases: Vec<(String, &str)> = vec![
            ("not json".into(), "invalid JSON"),
            ("[1,2]".into(), "invalid JSON"),
            (r#"{"id":"A1"}"#.into(), "missing field `type`"),
            (r#"{"type":"loan","id":"L1"}"#.into(), "unknown record type `loan`"),
            (account_with("color", "\"red\""), "unknown field `color`"),
            (account_with("date_of_birth", "\"1990-4-12\""), "field `date_of_birth`"),
            (account_with("date_of_birth", "\"2090-04-12\""), "plausible"),
            (account_with("nationality", "\"XYZ\""), "field `nationality`"),
            (account_with("passport_number", "\"e123\""), "field `passport_number`"),
            (account_with("phone", "\"13800138000\""), "E.164"),
            (account_with("email", "\"nobody\""), "field `email`"),
            (account_with("opened_on", "\"1980-01-01\""), "field `opened_on`: 1980-01-01 is before the date of birth"),
            (account_with("merchant", "\"x\""), "field `merchant` is not allowed in an account record"),
            (tx("\"-125.405\"", "CNY"), "3 digits after the decimal point; CNY has 2"),
            (tx("\"100.5\"", "JPY"), "JPY has 0"),
            (tx("-125.40", "CNY"), "JSON strings"),
            (tx("\"12,5\"", "CNY"), "not a decimal amount"),
            (tx("\"1.00\"", "RMB"), "`RMB` is not an active ISO 4217"),
            (
                r#"{"type":"transaction","id":"T 1","account":"A1001","posted_at":"2026-01-03T12:00:00Z","amount":"1.00","currency":"CNY","category":"x"}"#.into(),
                "field `id`",
            ),
            (
                r#"{"type":"transaction","id":"T1","account":"A1001","posted_at":"2026-01-03 12:00","amount":"1.00","currency":"CNY","category":"x"}"#.into(),
                "RFC 3339",
            ),
            (
                r#"{"type":"transaction","id":"T1","account":"A1001","amount":"1.00","currency":"CNY","category":"x"}"#.into(),
                "missing field `posted_at`",
            ),
            (
                r#"{"type":"balance","account":"A1001","holding":"H-1","kind":"crypto","date":"2026-01-03","amount":"1.00","currency":"CNY"}"#.into(),
                "not a holding kind",
            ),
            (
                r#"{"type":"bill","id":"B1","account":"A1001","biller":"X","kind":"utility","due_on":"2026-01-15","amount":"0.00","currency":"CNY"}"#.into(),
                "greater than zero",
            ),
            (
                r#"{"type":"fx_rate","base":"CNY","quote":"CNY","date":"2026-11-20","rate":"1","source":"x"}"#.into(),
                "two currencies",
            ),
            (
                r#"{"type":"fx_rate","base":"CNY","quote":"CAD","date":"2026-11-20","rate":"-0.19","source":"x"}"#.into(),
                "greater than zero",
            ),
            (
                r#"{"type":"fx_rate","base":"CNY","quote":"CAD","date":"2026-11-20","rate":"0.19","source":"x","id":"F1"}"#.into(),
                "field `id` is not allowed in an fx_rate record",
            ),
            (
                r#"{"type":"account","type":"account"}"#.into(),
                "duplicate field",
            ),
        ];
        for (line, expected) in cases {
            let err = error_of(&line);
            assert!(err.contains(expected), "line {line}\n  gave `{err}`\n  expected it to mention `{expected}`");
        }
    }

    fn set_field(line: &str, field: &str, value: &str) -> String {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        v[field] = value.into();
        v.to_string()
    }

    const TRANSACTION: &str = r#"{"type":"transaction","id":"T-1","account":"A1001","posted_at":"2026-01-03T12:00:00Z","amount":"-125.40","currency":"CNY","category":"groceries"}"#;
    const BALANCE: &str = r#"{"type":"balance","account":"A1001","holding":"H-1","kind":"savings","date":"2026-01-03","amount":"52000.00","currency":"CNY"}"#;
    const BILL: &str = r#"{"type":"bill","id":"B-1","account":"A1001","biller":"State Grid Shanghai","kind":"utility","due_on":"2026-01-15","amount":"230.00","currency":"CNY","paid_on":"2026-01-14"}"#;
    const FX_RATE: &str = r#"{"type":"fx_rate","base":"CNY","quote":"CAD","date":"2026-11-20","rate":"0.1932","source":"Bank of Canada"}"#;

    /// Every date field of every record type: (record, field, the noun in
    /// its message).
    const DATE_FIELDS: [(&str, &str, &str); 9] = [
        (ACCOUNT, "date_of_birth", "date of birth"),
        (ACCOUNT, "opened_on", "account opening date"),
        (ACCOUNT, "phone_since", "start date for this phone number"),
        (ACCOUNT, "address_since", "start date at this address"),
        (BALANCE, "date", "balance date"),
        (BILL, "due_on", "due date"),
        (BILL, "paid_on", "payment date"),
        (FX_RATE, "date", "rate date"),
        (TRANSACTION, "posted_at", "transaction date"),
    ];

    fn value_for(field: &str, date: &str) -> String {
        if field == "posted_at" { format!("{date}T12:00:00Z") } else { date.to_owned() }
    }

    #[test]
    fn impossible_dates_are_refused_in_every_date_field() {
        for (record, field, what) in DATE_FIELDS {
            for date in ["0000-01-01", "0001-01-01", "1000-06-15", "9999-12-31", "2101-01-01"] {
                let line = set_field(record, field, &value_for(field, date));
                let err = error_of(&line);
                let expected =
                    format!("field `{field}`: {} is not a plausible {what} (accepted: ", value_for(field, date));
                assert!(err.starts_with(&expected), "{field} = {date}\n  gave `{err}`\n  expected `{expected}…`");
            }
        }
    }

    #[test]
    fn each_window_has_documented_ends() {
        // (record, field, first accepted, last accepted): the last refused and
        // first refused dates are the days around them.
        let now = today().to_string();
        // Born today: opened, phone and address since today too.
        let newborn = ["opened_on", "phone_since", "address_since"]
            .into_iter()
            .fold(ACCOUNT.to_owned(), |line, field| set_field(&line, field, &now));
        let windows = [
            (newborn.as_str(), "date_of_birth", "1900-01-01", now.as_str()),
            (ACCOUNT, "address_since", "1990-04-12", now.as_str()), // not before birth (1990-04-12)
            (ACCOUNT, "phone_since", "1990-04-12", now.as_str()),
            (ACCOUNT, "opened_on", "1990-04-12", now.as_str()),
            (BALANCE, "date", "1970-01-01", "2100-12-31"),
            (BILL, "due_on", "1970-01-01", "2100-12-31"),
            (BILL, "paid_on", "1970-01-01", "2100-12-31"),
            (FX_RATE, "date", "1970-01-01", "2100-12-31"),
            (TRANSACTION, "posted_at", "1970-01-01", "2100-12-31"),
        ];
        for (record, field, first, last) in windows {
            let first = parse_date(first).unwrap();
            let last = parse_date(last).unwrap();
            let at = |d: NaiveDate| parse_line(&set_field(record, field, &value_for(field, &d.to_string())), today());
            assert!(at(first).is_ok(), "{field} {first}: {:?}", at(first));
            assert!(at(last).is_ok(), "{field} {last}: {:?}", at(last));
            let before = first.pred_opt().unwrap();
            let after = last.succ_opt().unwrap();
            assert!(at(before).unwrap_err().contains(&format!("field `{field}`")), "{field} {before}");
            assert!(at(after).unwrap_err().contains(&format!("field `{field}`")), "{field} {after}");
        }
        // Born in 1940, living at the same address since 1965: a person's
        // dates start before the financial window.
        let elder = set_field(&set_field(ACCOUNT, "date_of_birth", "1940-02-01"), "address_since", "1965-07-01");
        assert!(parse_line(&elder, today()).is_ok());
        let early = set_field(&set_field(ACCOUNT, "date_of_birth", "1940-02-01"), "opened_on", "1969-12-31");
        assert!(error_of(&early).contains("accepted: 1970-01-01 to 2026-11-21, today"), "{}", error_of(&early));
    }

    #[test]
    fn a_timestamp_is_checked_by_its_utc_date() {
        let cases = [
            ("2100-12-31T23:30:00-05:00", Some("2101-01-01 in UTC")),
            ("1970-01-01T00:30:00+01:00", Some("1969-12-31 in UTC")),
            ("2101-01-01T03:00:00+05:00", None),
            ("1969-12-31T23:30:00-01:00", None),
            ("2100-12-31T23:59:59.999999999Z", None),
        ];
        for (value, refused) in cases {
            let result = parse_line(&set_field(TRANSACTION, "posted_at", value), today());
            match refused {
                Some(why) => assert!(result.as_ref().unwrap_err().contains(why), "{value}: {result:?}"),
                None => assert!(result.is_ok(), "{value}: {result:?}"),
            }
        }
    }

    proptest! {
        #[test]
        fn the_date_parser_never_panics(s in "\\PC{0,12}", digits in "[0-9+ -]{10}") {
            let _ = parse_date(&s);
            let _ = parse_date(&digits);
        }

        #[test]
        fn every_calendar_date_round_trips(days in 0i64..3_652_425) {
            // 0000-01-01 to 9999-12-31: the parser reads every date of the
            // form; the windows, not the parser, refuse the implausible ones.
            let d = NaiveDate::from_ymd_opt(0, 1, 1).unwrap() + chrono::Days::new(days as u64);
            prop_assume!(d.year() <= 9999);
            prop_assert_eq!(parse_date(&d.format("%Y-%m-%d").to_string()), Some(d));
        }

        #[test]
        fn the_date_parser_agrees_with_chrono_on_fixed_width_strings(s in "[0-9]{4}-[0-9]{2}-[0-9]{2}") {
            prop_assert_eq!(parse_date(&s), NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok());
        }

        #[test]
        fn only_fixed_width_dates_parse(s in "[0-9]{1,5}-[0-9]{1,3}-[0-9]{1,3}") {
            let fixed = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
            prop_assert!(fixed || parse_date(&s).is_none(), "{} parsed", s);
        }

        #[test]
        fn a_financial_date_is_accepted_exactly_within_its_window(
            days in -40_000i64..80_000,
            field in 0usize..5,
        ) {
            let (record, name) = [(BALANCE, "date"), (BILL, "due_on"), (BILL, "paid_on"), (FX_RATE, "date"), (TRANSACTION, "posted_at")][field];
            let d = EARLIEST_FINANCIAL_DATE + chrono::TimeDelta::days(days);
            let result = parse_line(&set_field(record, name, &value_for(name, &d.to_string())), today());
            let inside = (EARLIEST_FINANCIAL_DATE..=LATEST_DATE).contains(&d);
            prop_assert_eq!(result.is_ok(), inside, "{} = {}: {:?}", name, d, result);
        }

        #[test]
        fn a_timestamp_is_accepted_exactly_within_its_window(
            seconds in -5_000_000_000i64..8_000_000_000,
            offset_minutes in -14 * 60i32..=14 * 60,
        ) {
            let zone = chrono::FixedOffset::east_opt(offset_minutes * 60).unwrap();
            let t = DateTime::from_timestamp(seconds, 0).unwrap();
            let value = t.with_timezone(&zone).to_rfc3339();
            let result = parse_line(&set_field(TRANSACTION, "posted_at", &value), today());
            let inside = (EARLIEST_FINANCIAL_DATE..=LATEST_DATE).contains(&t.date_naive());
            prop_assert_eq!(result.is_ok(), inside, "{}: {:?}", value, result);
        }

        #[test]
        fn arbitrary_lines_never_panic(line in "\\PC{0,200}") {
            let _ = parse_line(&line, today());
        }

        #[test]
        fn amounts_round_trip_through_a_line(minor in -10_i64.pow(12)..10_i64.pow(12)) {
            let amount = Money::from_minor(minor, Currency::CNY).to_decimal_string();
            let line = format!(
                r#"{{"type":"transaction","id":"T1","account":"A1","posted_at":"2026-01-03T12:00:00Z","amount":"{amount}","currency":"CNY","category":"x"}}"#
            );
            let Ok(Record::Transaction(t)) = parse_line(&line, today()) else { panic!("refused {line}") };
            prop_assert_eq!(t.amount.minor(), minor);
        }
    }

    #[test]
    fn amounts_beyond_the_record_limit_are_refused_in_every_amount_field() {
        // The value an outside test imported, and the exact limits either way.
        for (amount, currency, accepted) in [
            ("-92233720368547758.07", "CNY", false),
            ("10000000000000.00", "CNY", true),
            ("-10000000000000.00", "CNY", true),
            ("10000000000000.01", "CNY", false),
            ("10000000000000", "JPY", true),
            ("10000000000001", "JPY", false),
            ("10000000000000.000", "KWD", true),
            ("10000000000000.001", "KWD", false),
        ] {
            for line in [TRANSACTION, BALANCE, BILL] {
                if line == BILL && amount.starts_with('-') {
                    continue; // a bill's amount is positive anyway
                }
                let line = set_field(&set_field(line, "currency", currency), "amount", amount);
                let result = parse_line(&line, today());
                assert_eq!(result.is_ok(), accepted, "{line}: {result:?}");
                if !accepted {
                    let e = result.unwrap_err();
                    assert!(e.contains("field `amount`") && e.contains("largest amount"), "{e}");
                }
            }
        }
    }

    #[test]
    fn a_balance_may_name_its_institution() {
        let line = set_field(BALANCE, "institution", "Bank of China, Shanghai Branch");
        let Ok(Record::Balance(b)) = parse_line(&line, today()) else { panic!("refused {line}") };
        assert_eq!(b.institution.as_deref(), Some("Bank of China, Shanghai Branch"));
        let Ok(Record::Balance(b)) = parse_line(BALANCE, today()) else { panic!() };
        assert_eq!(b.institution, None);
        assert!(error_of(&set_field(BALANCE, "institution", " padded")).contains("field `institution`"));
        assert!(error_of(&set_field(TRANSACTION, "institution", "Bank")).contains("institution"));
    }
}
