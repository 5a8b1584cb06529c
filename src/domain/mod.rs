//! Plain types with checked constructors: money, identifiers and the
//! financial records the service holds. No I/O here; an invalid value cannot
//! be built, so code past the edge never re-checks.

pub mod application;
pub mod country;
mod country_names;
pub mod currency;
pub mod key_algorithm;
pub mod money;
pub mod report_number;

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use application::{ApplicationEvent, ApplicationStatus, WrongStatus};
pub use country::CountryCode;
pub use currency::Currency;
pub use key_algorithm::KeyAlgorithm;
pub use money::{MAX_RECORD_MAJOR, Money, Rate};
pub use report_number::{ReportNumber, VerificationCode};

/// An error from a checked constructor: which rule a value broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// The operator's identifier of a record (`A1001`, `T-1`): 1–64 printable
/// ASCII characters without spaces, so it can appear in error messages and
/// URLs without escaping surprises.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RecordId(String);

impl RecordId {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let ok = !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(RecordId(s.to_owned()))
        } else {
            Err(Invalid(format!(
                "`{}` is not a valid id (1-64 printable ASCII characters, no spaces)",
                s.escape_debug()
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// The operator's id of an account (`A1001`): a [`RecordId`] that names
/// an account. Parsed once where it enters (an import line, a command-line
/// argument, a database row) and carried as this type through every layer.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AccountId(RecordId);

impl AccountId {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        RecordId::parse(s).map(AccountId)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl std::str::FromStr for AccountId {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        AccountId::parse(s)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// A phone number in E.164 form: `+`, a country code, at most 15 digits.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let digits = s.strip_prefix('+').unwrap_or("");
        let ok =
            (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
        if ok {
            Ok(PhoneNumber(s.to_owned()))
        } else {
            Err(Invalid("phone number must be in E.164 form: `+` then 8 to 15 digits, e.g. +8613800138000".into()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `+86*******8000`: enough for a person to recognise their own number.
    pub fn masked(&self) -> String {
        let keep_tail = 4;
        let head = 3.min(self.0.len());
        let tail_start = self.0.len().saturating_sub(keep_tail).max(head);
        let stars = tail_start - head;
        format!("{}{}{}", &self.0[..head], "*".repeat(stars), &self.0[tail_start..])
    }
}

/// Phone numbers are personal data: `Debug` never shows them whole.
impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

/// A passport number as printed in the MRZ: 5 to 9 upper-case letters and
/// digits (ICAO 9303 allows 9 characters in the document-number field).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PassportNumber(String);

impl PassportNumber {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let ok = (5..=9).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if ok {
            Ok(PassportNumber(s.to_owned()))
        } else {
            Err(Invalid("passport number must be 5 to 9 upper-case letters and digits, e.g. E12345678".into()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `******678`: what a verification page may show.
    pub fn masked(&self) -> String {
        let n = self.0.len();
        format!("{}{}", "*".repeat(n.saturating_sub(3)), &self.0[n.saturating_sub(3)..])
    }
}

/// Passport numbers never reach logs: `Debug` masks them.
impl fmt::Debug for PassportNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PassportNumber({})", self.masked())
    }
}

/// An e-mail address, checked for shape only (one `@`, a dotted domain, no
/// spaces); delivery is the real test.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let ok = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && match s.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if ok {
            Ok(EmailAddress(s.to_owned()))
        } else {
            Err(Invalid(format!("`{}` is not an e-mail address", s.escape_debug())))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let masked = match self.0.split_once('@') {
            Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
            None => "***".into(),
        };
        write!(f, "EmailAddress({masked})")
    }
}

/// A person's name as printed in the passport: any script, 1–200
/// characters, no control characters.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
pub struct FullName(String);

impl FullName {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let trimmed = s.trim();
        let count = trimmed.chars().count();
        if trimmed.len() != s.len() || !(1..=200).contains(&count) || s.chars().any(char::is_control) {
            return Err(Invalid("full name must be 1 to 200 characters without leading or trailing spaces".into()));
        }
        Ok(FullName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FullName(…)")
    }
}

/// What a holding is; the kinds DESIGN.md names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldingKind {
    Current,
    Savings,
    MoneyMarketFund,
    TimeDeposit,
    Investment,
}

impl HoldingKind {
    pub const ALL: [HoldingKind; 5] = [
        HoldingKind::Current,
        HoldingKind::Savings,
        HoldingKind::MoneyMarketFund,
        HoldingKind::TimeDeposit,
        HoldingKind::Investment,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            HoldingKind::Current => "current",
            HoldingKind::Savings => "savings",
            HoldingKind::MoneyMarketFund => "money_market_fund",
            HoldingKind::TimeDeposit => "time_deposit",
            HoldingKind::Investment => "investment",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            Invalid(format!(
                "`{}` is not a holding kind (current, savings, money_market_fund, time_deposit, investment)",
                s.escape_debug()
            ))
        })
    }
}

/// A customer account with the identity data used to match an applicant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub full_name: FullName,
    pub date_of_birth: NaiveDate,
    pub nationality: CountryCode,
    pub passport_number: PassportNumber,
    pub passport_country: CountryCode,
    pub phone: PhoneNumber,
    pub email: EmailAddress,
    pub opened_on: NaiveDate,
    pub phone_since: NaiveDate,
    pub address_since: NaiveDate,
}

/// A posted transaction: negative amounts are money out (spending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub id: RecordId,
    pub account: AccountId,
    pub posted_at: DateTime<Utc>,
    pub amount: Money,
    pub category: String,
    pub merchant: Option<String>,
}

/// The end-of-day balance of one holding on one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalancePoint {
    pub account: AccountId,
    pub holding: RecordId,
    pub kind: HoldingKind,
    pub date: NaiveDate,
    pub amount: Money,
    /// The bank or fund that holds it, as the operator's data names it
    /// (`Bank of China, Shanghai Branch`); optional in the import.
    pub institution: Option<String>,
}

/// A bill; `paid_on` is `None` while unpaid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bill {
    pub id: RecordId,
    pub account: AccountId,
    pub biller: String,
    pub kind: String,
    pub due_on: NaiveDate,
    pub amount: Money,
    pub paid_on: Option<NaiveDate>,
}

/// Units of `quote` for one unit of `base` on `date`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FxRate {
    pub base: Currency,
    pub quote: Currency,
    pub date: NaiveDate,
    pub rate: Rate,
    pub source: String,
}

/// The first instant of a day, in UTC: where a day's window of timestamps
/// starts (`posted_at >= start_of_day(from)`).
pub fn start_of_day(d: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn phone_numbers_follow_e164() {
        assert!(PhoneNumber::parse("+8613800138000").is_ok());
        assert!(PhoneNumber::parse("+14165550123").is_ok());
        for bad in ["8613800138000", "+0861380013", "+86 138 0013 8000", "+1234567", "+1234567890123456", "+"] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn personal_data_is_masked_in_debug() {
        let p = PassportNumber::parse("E12345678").unwrap();
        assert_eq!(format!("{p:?}"), "PassportNumber(******678)");
        let ph = PhoneNumber::parse("+8613800138000").unwrap();
        assert!(!format!("{ph:?}").contains("13800138"));
        let e = EmailAddress::parse("zhang.wei@example.com").unwrap();
        assert!(!format!("{e:?}").contains("zhang.wei"));
    }

    #[test]
    fn names_keep_any_script() {
        assert!(FullName::parse("Zoë Łucja ŌTSUKA-NÚÑEZ").is_ok());
        assert!(FullName::parse("张伟").is_ok());
        assert!(FullName::parse(" ZHANG Wei").is_err());
        assert!(FullName::parse("").is_err());
        assert!(FullName::parse("A\u{0}B").is_err());
    }

    proptest! {
        #[test]
        fn valid_phone_numbers_parse(cc in 1u32..999, rest in "[0-9]{7,11}") {
            let s = format!("+{cc}{rest}");
            prop_assume!(s.len() <= 16);
            prop_assert!(PhoneNumber::parse(&s).is_ok());
        }

        #[test]
        fn phone_parser_never_panics_and_masks(s in "\\PC{0,20}") {
            if let Ok(p) = PhoneNumber::parse(&s) {
                prop_assert_eq!(p.masked().len(), s.len());
            }
        }

        #[test]
        fn passport_parser_never_panics(s in "\\PC{0,12}") {
            if let Ok(p) = PassportNumber::parse(&s) {
                prop_assert!(p.masked().ends_with(&s[s.len() - 3..]));
            }
        }
    }
}
