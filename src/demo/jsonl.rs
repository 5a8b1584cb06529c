//! The JSON Lines import format of DESIGN.md ("Data the service holds"),
//! written by hand so that the field order is exactly the documented one and
//! no field is added: the importer refuses unknown fields.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{Account, BalancePoint, Bill, FxRate, Transaction};

/// Appends `s` as a JSON string. Non-ASCII text is kept as UTF-8; quotes,
/// backslashes and control characters are escaped.
pub(crate) fn push_json_str(buf: &mut String, s: &str) {
    buf.push('"');
    push_json_escaped(buf, s);
    buf.push('"');
}

/// Appends the inside of a JSON string (without the quotes).
pub(crate) fn push_json_escaped(buf: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => buf.push_str("\\\""),
            '\\' => buf.push_str("\\\\"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            '\t' => buf.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(buf, "\\u{:04x}", u32::from(c));
            }
            c => buf.push(c),
        }
    }
}

/// Builds one record: `{"type":"...", ...}\n`.
struct Line<'a>(&'a mut String);

impl<'a> Line<'a> {
    fn start(buf: &'a mut String, record_type: &str) -> Self {
        buf.push_str("{\"type\":");
        push_json_str(buf, record_type);
        Line(buf)
    }

    fn str(self, key: &str, value: &str) -> Self {
        self.0.push_str(",\"");
        self.0.push_str(key);
        self.0.push_str("\":");
        push_json_str(self.0, value);
        self
    }

    /// An optional field is left out when absent.
    fn opt_str(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.str(key, v),
            None => self,
        }
    }

    fn date(self, key: &str, value: NaiveDate) -> Self {
        let _ = write!(self.0, ",\"{key}\":\"{}\"", value.format("%Y-%m-%d"));
        self
    }

    fn time(self, key: &str, value: DateTime<Utc>) -> Self {
        let _ = write!(self.0, ",\"{key}\":\"{}\"", value.format("%Y-%m-%dT%H:%M:%SZ"));
        self
    }

    fn end(self) {
        self.0.push_str("}\n");
    }
}

pub(crate) fn account(buf: &mut String, a: &Account) {
    Line::start(buf, "account")
        .str("id", a.id.as_str())
        .str("full_name", a.full_name.as_str())
        .date("date_of_birth", a.date_of_birth)
        .str("nationality", a.nationality.as_str())
        .str("passport_number", a.passport_number.as_str())
        .str("passport_country", a.passport_country.as_str())
        .str("phone", a.phone.as_str())
        .str("email", a.email.as_str())
        .date("opened_on", a.opened_on)
        .date("phone_since", a.phone_since)
        .date("address_since", a.address_since)
        .end();
}

pub(crate) fn transaction(buf: &mut String, t: &Transaction) {
    let line = Line::start(buf, "transaction")
        .str("id", t.id.as_str())
        .str("account", t.account.as_str())
        .time("posted_at", t.posted_at)
        .str("amount", &t.amount.to_decimal_string())
        .str("currency", t.amount.currency().code())
        .str("category", &t.category);
    match &t.merchant {
        Some(m) => line.str("merchant", m).end(),
        None => line.end(),
    }
}

pub(crate) fn balance(buf: &mut String, b: &BalancePoint) {
    Line::start(buf, "balance")
        .str("account", b.account.as_str())
        .str("holding", b.holding.as_str())
        .str("kind", b.kind.as_str())
        .opt_str("institution", b.institution.as_deref())
        .date("date", b.date)
        .str("amount", &b.amount.to_decimal_string())
        .str("currency", b.amount.currency().code())
        .end();
}

/// An unpaid bill has no `paid_on` field at all.
pub(crate) fn bill(buf: &mut String, b: &Bill) {
    let line = Line::start(buf, "bill")
        .str("id", b.id.as_str())
        .str("account", b.account.as_str())
        .str("biller", &b.biller)
        .str("kind", &b.kind)
        .date("due_on", b.due_on)
        .str("amount", &b.amount.to_decimal_string())
        .str("currency", b.amount.currency().code());
    match b.paid_on {
        Some(d) => line.date("paid_on", d).end(),
        None => line.end(),
    }
}

pub(crate) fn fx_rate(buf: &mut String, r: &FxRate) {
    Line::start(buf, "fx_rate")
        .str("base", r.base.code())
        .str("quote", r.quote.code())
        .date("date", r.date)
        .str("rate", &r.rate.to_string())
        .str("source", &r.source)
        .end();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_json() {
        let mut buf = String::new();
        push_json_str(&mut buf, "a\"b\\c\nd\u{1}é盒");
        assert_eq!(buf, r#""a\"b\\c\nd\u0001é盒""#);
        let back: String = serde_json::from_str(&buf).unwrap();
        assert_eq!(back, "a\"b\\c\nd\u{1}é盒");
    }
}
