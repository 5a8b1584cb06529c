//! Report numbers (`SR-KYYF-9TKJ-6Q8Q`) and verification codes (`Q7RM-K2XP`).
//!
//! Both use Crockford's base-32 alphabet, which has no `I`, `L`, `O` or `U`,
//! so a number read aloud or copied by hand cannot be mistaken for another;
//! on input `O` is read as `0` and `I`/`L` as `1`, case and dashes ignored.
//! A report number is 11 random symbols (55 bits, not guessable) and a check
//! symbol (Luhn mod 32), which catches every single mistyped symbol and
//! every swap of two neighbours except `0`↔`Z` before the lookup.

use std::fmt;

use rand::RngCore;
use serde::{Serialize, Serializer};

use super::Invalid;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const NUMBER_SYMBOLS: usize = 11;
const CODE_SYMBOLS: usize = 8;

fn value_of(c: u8) -> Option<u32> {
    let c = match c.to_ascii_uppercase() {
        b'O' => b'0',
        b'I' | b'L' => b'1',
        other => other,
    };
    ALPHABET.iter().position(|a| *a == c).map(|p| p as u32)
}

/// Luhn mod N over base-32 symbol values: the symbol that makes the
/// weighted sum divisible by 32.
fn check_symbol(values: &[u32]) -> u32 {
    let mut sum = 0;
    let mut factor = 2;
    for v in values.iter().rev() {
        let addend = factor * v;
        sum += addend / 32 + addend % 32;
        factor = if factor == 2 { 1 } else { 2 };
    }
    (32 - sum % 32) % 32
}

fn random_symbols(rng: &mut impl RngCore, n: usize) -> Vec<u32> {
    (0..n).map(|_| rng.next_u32() % 32).collect()
}

fn symbols(values: &[u32]) -> String {
    values.iter().map(|v| char::from(ALPHABET[*v as usize])).collect()
}

/// Reads symbols, ignoring dashes and spaces; `None` on any other character.
fn read(s: &str) -> Option<Vec<u32>> {
    s.bytes().filter(|b| *b != b'-' && *b != b' ').map(value_of).collect()
}

/// A report number: `SR-` then 12 symbols in groups of four, the last a check.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReportNumber(String);

impl ReportNumber {
    pub fn generate(rng: &mut impl RngCore) -> Self {
        let mut values = random_symbols(rng, NUMBER_SYMBOLS);
        values.push(check_symbol(&values));
        ReportNumber(symbols(&values))
    }

    /// Accepts `SR-KYYF-9TKJ-6Q8Q`, `srkyyf9tkj6q8q`, `SR KYYF 9TKJ 6Q8Q`.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let t = s.trim();
        let body = t.strip_prefix("SR").or_else(|| t.strip_prefix("sr")).unwrap_or(t);
        let invalid = || Invalid("a report number looks like SR-KYYF-9TKJ-6Q8Q".into());
        let values = read(body).ok_or_else(invalid)?;
        if values.len() != NUMBER_SYMBOLS + 1 {
            return Err(invalid());
        }
        let (payload, check) = values.split_at(NUMBER_SYMBOLS);
        if check_symbol(payload) != check[0] {
            return Err(Invalid("this report number has a typing mistake (its check symbol does not match)".into()));
        }
        Ok(ReportNumber(symbols(&values)))
    }

    /// The 12 symbols without prefix or dashes (the stored key).
    pub fn compact(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReportNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.0;
        write!(f, "SR-{}-{}-{}", &s[0..4], &s[4..8], &s[8..12])
    }
}

impl fmt::Debug for ReportNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReportNumber({self})")
    }
}

impl Serialize for ReportNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The second secret printed beside the number (40 random bits). Shown to
/// the holder only; `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct VerificationCode(String);

impl VerificationCode {
    pub fn generate(rng: &mut impl RngCore) -> Self {
        VerificationCode(symbols(&random_symbols(rng, CODE_SYMBOLS)))
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let values = read(s.trim())
            .filter(|v| v.len() == CODE_SYMBOLS)
            .ok_or_else(|| Invalid("a verification code is 8 letters and digits, e.g. Q7RM-K2XP".into()))?;
        Ok(VerificationCode(symbols(&values)))
    }

    /// Without the dash: the form that is hashed and compared.
    pub fn compact(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", &self.0[0..4], &self.0[4..8])
    }
}

impl fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerificationCode([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    fn number(seed: u64) -> ReportNumber {
        ReportNumber::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(seed))
    }

    #[test]
    fn looks_like_the_design() {
        let n = number(1);
        let s = n.to_string();
        assert_eq!(s.len(), "SR-KYYF-9TKJ-6Q8Q".len());
        assert!(s.starts_with("SR-"));
        assert!(!s[3..].contains(['I', 'L', 'O', 'U']));
        assert_eq!(ReportNumber::parse(&s).unwrap(), n);
        assert_eq!(ReportNumber::parse(&s.to_lowercase().replace('-', "")).unwrap(), n);
        let code = VerificationCode::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(2));
        assert_eq!(VerificationCode::parse(&code.to_string().to_lowercase()).unwrap(), code);
        assert_eq!(format!("{code:?}"), "VerificationCode([redacted])");
    }

    #[test]
    fn look_alikes_are_read_as_digits() {
        let n = number(3);
        let typed = n.to_string().replace('0', "O").replace('1', "l");
        assert_eq!(ReportNumber::parse(&typed).unwrap(), n);
    }

    proptest! {
        #[test]
        fn every_single_symbol_error_is_caught(seed in any::<u64>(), pos in 0usize..12, delta in 1u32..32) {
            let n = number(seed);
            let mut values = read(n.compact()).unwrap();
            values[pos] = (values[pos] + delta) % 32;
            prop_assert!(ReportNumber::parse(&symbols(&values)).is_err());
        }

        #[test]
        fn every_neighbour_swap_is_caught(seed in any::<u64>(), pos in 0usize..11) {
            let n = number(seed);
            let mut values = read(n.compact()).unwrap();
            prop_assume!(values[pos] != values[pos + 1]);
            // Luhn mod N's one blind spot: the first and last symbols.
            prop_assume!(values[pos] + values[pos + 1] != 31 || values[pos].min(values[pos + 1]) != 0);
            values.swap(pos, pos + 1);
            prop_assert!(ReportNumber::parse(&symbols(&values)).is_err());
        }

        #[test]
        fn parser_never_panics(s in "\\PC{0,30}") {
            let _ = ReportNumber::parse(&s);
            let _ = VerificationCode::parse(&s);
        }
    }
}
