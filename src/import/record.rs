//! One line of an import file: JSON → a checked domain record, or the
//! reason it is refused.
//!
//! Every line is parsed into one flat struct holding every field any record
//! type may have (borrowed from the line where possible, so parsing does not
//! allocate), then checked against the rules of its `type`: required fields
//! present, fields of other types absent, each value valid.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use crate::domain::{
    Account, BalancePoint, Bill, CountryCode, Currency, EmailAddress, FullName, FxRate, HoldingKind, Money,
    PassportNumber, PhoneNumber, Rate, RecordId, Transaction,
};

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
}

impl<'a> Raw<'a> {
    /// (name, present) for every field except `type`, in file order.
    fn fields(&self) -> [(&'static str, bool); 27] {
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
        "balance" => &["account", "holding", "kind", "date", "amount", "currency"],
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

fn date(value: &Field<'_>, name: &str) -> Result<NaiveDate, LineError> {
    let s = required(value, name)?;
    parse_date(s).ok_or_else(|| format!("field `{name}`: `{}` is not a date (YYYY-MM-DD)", s.escape_debug()))
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    // chrono alone would accept `2026-1-3`; insist on the fixed-width form.
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn timestamp(value: &Field<'_>, name: &str) -> Result<DateTime<Utc>, LineError> {
    let s = required(value, name)?;
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|_| {
        format!(
            "field `{name}`: `{}` is not an RFC 3339 timestamp with a zone (e.g. 2026-01-03T12:00:00Z)",
            s.escape_debug()
        )
    })
}

fn id(value: &Field<'_>, name: &str) -> Result<RecordId, LineError> {
    with_field(name, RecordId::parse(required(value, name)?))
}

fn currency(value: &Field<'_>) -> Result<Currency, LineError> {
    with_field("currency", Currency::from_code(required(value, "currency")?))
}

fn money(value: &Field<'_>, currency: Currency) -> Result<Money, LineError> {
    with_field("amount", Money::parse(required(value, "amount")?, currency))
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
    let date_of_birth = date(&raw.date_of_birth, "date_of_birth")?;
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    if date_of_birth < earliest || date_of_birth > today {
        return Err(format!("field `date_of_birth`: {date_of_birth} is not a plausible date of birth"));
    }
    let since = |value: &Field<'_>, name: &str| -> Result<NaiveDate, LineError> {
        let d = date(value, name)?;
        if d < date_of_birth || d > today {
            return Err(format!("field `{name}`: {d} must lie between the date of birth and today"));
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
        opened_on: since(&raw.opened_on, "opened_on")?,
        phone_since: since(&raw.phone_since, "phone_since")?,
        address_since: since(&raw.address_since, "address_since")?,
    })
}

fn transaction(raw: &Raw<'_>) -> Result<Transaction, LineError> {
    let currency = currency(&raw.currency)?;
    Ok(Transaction {
        id: id(&raw.id, "id")?,
        account: id(&raw.account, "account")?,
        posted_at: timestamp(&raw.posted_at, "posted_at")?,
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
        date: date(&raw.date, "date")?,
        amount: money(&raw.amount, currency)?,
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
        due_on: date(&raw.due_on, "due_on")?,
        amount,
        paid_on: match raw.paid_on {
            Some(_) => Some(date(&raw.paid_on, "paid_on")?),
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
        date: date(&raw.date, "date")?,
        rate: with_field("rate", Rate::parse(required(&raw.rate, "rate")?))?,
        source: text(&raw.source, "source", 200)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
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
            (account_with("opened_on", "\"1980-01-01\""), "between the date of birth and today"),
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

    proptest! {
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
}
