//! Money as integer minor units plus a currency, and exact decimal rates.
//!
//! Never floating point: `0.1 + 0.2` must not appear on a statement that an
//! immigration officer relies on. Amounts arrive as decimal strings and are
//! parsed exactly; anything the currency cannot represent is refused rather
//! than rounded.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::currency::Currency;

/// An amount in a currency's minor units (fen for CNY, cents for CAD).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("`{0}` is not a decimal amount (expected digits with an optional `-` and `.`, e.g. `-125.40`)")]
    Malformed(String),
    #[error("`{amount}` has {found} digits after the decimal point; {currency} has {allowed}")]
    TooPrecise { amount: String, currency: Currency, found: usize, allowed: u8 },
    #[error("`{0}` is too large")]
    Overflow(String),
    #[error("`{amount}` is beyond the largest amount a record may carry ({max} {currency} either way)")]
    OutOfRange { amount: String, currency: Currency, max: &'static str },
}

/// The largest amount, in major units, that one imported record may carry
/// either way: 10^13 (ten trillion yuan, far beyond any real balance). With
/// it, every sum the score and the report compute fits `i128` with room to
/// spare, and a single record fits `i64` in minor units for every currency.
pub const MAX_RECORD_MAJOR: i64 = 10_000_000_000_000;

/// Splits a strict decimal string `-?(0|[1-9][0-9]*)(\.[0-9]+)?` into sign,
/// integer digits and fraction digits.
fn split_decimal(s: &str) -> Option<(bool, &str, &str)> {
    let (negative, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => {
            if f.is_empty() {
                return None;
            }
            (i, f)
        }
        None => (rest, ""),
    };
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    if int.len() > 1 && int.starts_with('0') {
        return None;
    }
    Some((negative, int, frac))
}

impl Money {
    pub const fn from_minor(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    /// Parses a decimal string such as `-125.40` exactly. The number of
    /// fraction digits may be fewer than the currency's (`"5.5"` CNY is 5.50)
    /// but never more (`"1.001"` CNY is refused, not rounded).
    pub fn parse(s: &str, currency: Currency) -> Result<Self, AmountError> {
        let (negative, int, frac) = split_decimal(s).ok_or_else(|| AmountError::Malformed(s.to_owned()))?;
        let allowed = currency.minor_digits();
        if frac.len() > usize::from(allowed) {
            return Err(AmountError::TooPrecise { amount: s.to_owned(), currency, found: frac.len(), allowed });
        }
        let overflow = || AmountError::Overflow(s.to_owned());
        let mut minor: i64 = 0;
        let padding = usize::from(allowed) - frac.len();
        for b in int.bytes().chain(frac.bytes()).chain(std::iter::repeat_n(b'0', padding)) {
            minor = minor.checked_mul(10).and_then(|m| m.checked_add(i64::from(b - b'0'))).ok_or_else(overflow)?;
        }
        if negative {
            minor = -minor;
        }
        Ok(Money { minor, currency })
    }

    /// [`Money::parse`], refusing amounts beyond [`MAX_RECORD_MAJOR`] either
    /// way: what an imported record may carry.
    pub fn parse_record_amount(s: &str, currency: Currency) -> Result<Self, AmountError> {
        let m = Money::parse(s, currency)?;
        let limit = i128::from(MAX_RECORD_MAJOR) * i128::from(currency.minor_per_major());
        if i128::from(m.minor).abs() > limit {
            return Err(AmountError::OutOfRange { amount: s.to_owned(), currency, max: "10,000,000,000,000" });
        }
        Ok(m)
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_negative(&self) -> bool {
        self.minor < 0
    }

    /// The plain decimal form used in data files: `-125.40`, `52000.00`.
    pub fn to_decimal_string(&self) -> String {
        self.render(false)
    }

    fn render(&self, group_thousands: bool) -> String {
        let digits = usize::from(self.currency.minor_digits());
        let abs = self.minor.unsigned_abs();
        let per = 10_u64.pow(digits as u32);
        let int = (abs / per).to_string();
        let int = if group_thousands { group(&int) } else { int };
        let sign = if self.minor < 0 { "-" } else { "" };
        if digits == 0 { format!("{sign}{int}") } else { format!("{sign}{int}.{:0digits$}", abs % per) }
    }
}

/// `1234567` → `1,234,567`: a string of digits with thousands separators.
pub fn group(int: &str) -> String {
    let mut out = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The printed form: `CNY 52,000.00`, `JPY 1,200`, `CAD -12.50`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency, self.render(true))
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency, self.render(false))
    }
}

/// A positive exact decimal such as an exchange rate `0.1932`:
/// `mantissa / 10^scale`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    mantissa: u64,
    scale: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error("`{0}` is not a decimal rate (expected e.g. `0.1932`)")]
    Malformed(String),
    #[error("`{0}` must be greater than zero")]
    NotPositive(String),
    #[error("`{0}` has more than {max} digits after the decimal point", max = Rate::MAX_SCALE)]
    TooPrecise(String),
    #[error("`{0}` is too large")]
    Overflow(String),
}

impl Rate {
    pub const MAX_SCALE: u8 = 12;

    pub fn parse(s: &str) -> Result<Self, RateError> {
        let (negative, int, frac) = split_decimal(s).ok_or_else(|| RateError::Malformed(s.to_owned()))?;
        if frac.len() > usize::from(Self::MAX_SCALE) {
            return Err(RateError::TooPrecise(s.to_owned()));
        }
        let mut mantissa: u64 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(b - b'0')))
                .ok_or_else(|| RateError::Overflow(s.to_owned()))?;
        }
        if negative || mantissa == 0 {
            return Err(RateError::NotPositive(s.to_owned()));
        }
        // Scale is at most MAX_SCALE, checked above.
        let scale = frac.len() as u8;
        Ok(Rate { mantissa, scale }.normalized())
    }

    /// Exactly 1.
    pub fn one() -> Self {
        Rate { mantissa: 1, scale: 0 }
    }

    /// Decimal places kept when a rate is derived by division.
    pub const DERIVED_SCALE: u8 = 10;

    /// `self / other` to [`Rate::DERIVED_SCALE`] places, rounded half away
    /// from zero; `None` if the result overflows or rounds to zero.
    pub fn divide(&self, other: &Rate) -> Option<Rate> {
        let num = u128::from(self.mantissa)
            .checked_mul(10_u128.checked_pow(u32::from(other.scale) + u32::from(Self::DERIVED_SCALE))?)?;
        let den = u128::from(other.mantissa).checked_mul(10_u128.pow(u32::from(self.scale)))?;
        let q = num / den;
        let q = if (num % den) * 2 >= den { q + 1 } else { q };
        let mantissa = u64::try_from(q).ok().filter(|m| *m > 0)?;
        Some(Rate { mantissa, scale: Self::DERIVED_SCALE }.normalized())
    }

    /// Drops trailing fraction zeros so that `0.19320` and `0.1932` are equal.
    fn normalized(mut self) -> Self {
        while self.scale > 0 && self.mantissa.is_multiple_of(10) {
            self.mantissa /= 10;
            self.scale -= 1;
        }
        self
    }

    /// Converts `amount` into `to` at this rate (units of `to` per unit of the
    /// amount's currency), rounding half away from zero to `to`'s minor unit.
    pub fn convert(&self, amount: Money, to: Currency) -> Option<Money> {
        let from_digits = u32::from(amount.currency().minor_digits());
        let to_digits = u32::from(to.minor_digits());
        let num =
            i128::from(amount.minor()).checked_mul(i128::from(self.mantissa))?.checked_mul(10_i128.pow(to_digits))?;
        let den = 10_i128.checked_pow(u32::from(self.scale) + from_digits)?;
        let q = num / den;
        let r = num % den;
        let rounded = if r.abs() * 2 >= den { q + num.signum() } else { q };
        i64::try_from(rounded).ok().map(|m| Money::from_minor(m, to))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scale = usize::from(self.scale);
        if scale == 0 {
            return write!(f, "{}", self.mantissa);
        }
        let per = 10_u64.pow(u32::from(self.scale));
        write!(f, "{}.{:0scale$}", self.mantissa / per, self.mantissa % per)
    }
}

impl fmt::Debug for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cny(s: &str) -> Result<Money, AmountError> {
        Money::parse(s, Currency::CNY)
    }

    #[test]
    fn parses_exact_amounts() {
        assert_eq!(cny("-125.40").unwrap().minor(), -12540);
        assert_eq!(cny("52000.00").unwrap().minor(), 5_200_000);
        assert_eq!(cny("5.5").unwrap().minor(), 550);
        assert_eq!(cny("0").unwrap().minor(), 0);
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(Money::parse("1200", jpy).unwrap().minor(), 1200);
        assert!(matches!(Money::parse("1200.5", jpy), Err(AmountError::TooPrecise { .. })));
    }

    #[test]
    fn refuses_malformed_amounts() {
        for bad in ["", "-", ".5", "5.", "+5", "1e3", "1,000.00", " 1.00", "01.00", "1.2.3", "--1", "0x10"] {
            assert!(matches!(cny(bad), Err(AmountError::Malformed(_))), "{bad:?} was accepted");
        }
        assert!(matches!(cny("1.001"), Err(AmountError::TooPrecise { found: 3, .. })));
        assert!(matches!(cny("99999999999999999999"), Err(AmountError::Overflow(_))));
    }

    #[test]
    fn formats_for_print() {
        assert_eq!(cny("52000").unwrap().to_string(), "CNY 52,000.00");
        assert_eq!(cny("-1234567.5").unwrap().to_string(), "CNY -1,234,567.50");
        assert_eq!(cny("0.05").unwrap().to_string(), "CNY 0.05");
        assert_eq!(cny("999").unwrap().to_string(), "CNY 999.00");
    }

    #[test]
    fn converts_with_half_away_from_zero_rounding() {
        let r = Rate::parse("0.1932").unwrap();
        let out = r.convert(cny("150000.00").unwrap(), Currency::CAD).unwrap();
        assert_eq!(out.to_string(), "CAD 28,980.00");
        // 0.13 * 0.5 = 0.065 -> 0.07; negative mirrors it.
        let half = Rate::parse("0.5").unwrap();
        assert_eq!(half.convert(cny("0.13").unwrap(), Currency::CAD).unwrap().minor(), 7);
        assert_eq!(half.convert(cny("-0.13").unwrap(), Currency::CAD).unwrap().minor(), -7);
    }

    #[test]
    fn rates_are_strict_and_normalized() {
        assert_eq!(Rate::parse("0.19320").unwrap(), Rate::parse("0.1932").unwrap());
        assert_eq!(Rate::parse("7.10").unwrap().to_string(), "7.1");
        for bad in ["0", "0.000", "-0.5", "abc", "1.0000000000001"] {
            assert!(Rate::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    proptest! {
        #[test]
        fn decimal_string_round_trips(minor in any::<i64>().prop_filter("i64::MIN has no positive twin", |m| *m != i64::MIN)) {
            let m = Money::from_minor(minor, Currency::CNY);
            prop_assert_eq!(cny(&m.to_decimal_string()).unwrap(), m);
        }

        #[test]
        fn printed_form_keeps_the_digits(minor in -10_i64.pow(15)..10_i64.pow(15)) {
            let m = Money::from_minor(minor, Currency::CNY);
            let printed = m.to_string();
            let digits: String = printed.trim_start_matches("CNY ").chars().filter(|c| *c != ',').collect();
            prop_assert_eq!(cny(&digits).unwrap(), m);
        }

        #[test]
        fn parser_never_panics(s in "\\PC{0,24}") {
            let _ = cny(&s);
            let _ = Rate::parse(&s);
        }

        #[test]
        fn conversion_at_rate_one_is_identity(minor in -10_i64.pow(15)..10_i64.pow(15)) {
            let m = Money::from_minor(minor, Currency::CNY);
            let one = Rate::parse("1").unwrap();
            prop_assert_eq!(one.convert(m, Currency::CAD).unwrap().minor(), minor);
        }

        #[test]
        fn conversion_is_monotone(a in -10_i64.pow(12)..10_i64.pow(12), b in -10_i64.pow(12)..10_i64.pow(12)) {
            let r = Rate::parse("0.1932").unwrap();
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let clo = r.convert(Money::from_minor(lo, Currency::CNY), Currency::CAD).unwrap();
            let chi = r.convert(Money::from_minor(hi, Currency::CNY), Currency::CAD).unwrap();
            prop_assert!(clo.minor() <= chi.minor());
        }
    }
}
