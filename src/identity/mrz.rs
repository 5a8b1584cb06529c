//! The machine-readable zone of a TD3 passport (ICAO Doc 9303, part 4): two
//! lines of 44 characters from `A`–`Z`, `0`–`9` and `<`. Every check digit is
//! verified (document number, date of birth, expiry, personal number, and
//! the composite), then [`Td3::disagreements`] names each typed field the
//! zone contradicts.

use std::fmt;

/// One TD3 line's length.
pub const TD3_LINE: usize = 44;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrzError {
    #[error("the machine-readable zone has two lines of 44 characters (line {line} has {found})")]
    Length { line: usize, found: usize },
    #[error("line {line}, position {position}: `{found}` is not A–Z, 0–9 or <")]
    Character { line: usize, position: usize, found: char },
    #[error("line 1 must start with P (a passport)")]
    NotPassport,
    #[error("the check digit of the {field} does not match (the zone was mistyped or altered)")]
    CheckDigit { field: &'static str },
    #[error("the {field} is not a date (YYMMDD)")]
    Date { field: &'static str },
}

/// A TD3 zone, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Td3 {
    /// `P` and the optional type letter (`PP`, `PD`, …; `P<` read as `P`).
    pub document_code: String,
    pub issuing_state: String,
    /// The primary identifier and the secondary one, words separated by spaces.
    pub surname: String,
    pub given_names: String,
    /// Without filler characters.
    pub document_number: String,
    pub nationality: String,
    /// `YYMMDD` as printed (the century is not in the zone).
    pub birth_yymmdd: String,
    pub sex: char,
    pub expiry_yymmdd: String,
    pub personal_number: String,
    /// Whether the name field is full (the name may have been cut).
    name_truncated: bool,
}

/// ICAO 9303's check digit: weights 7, 3, 1 repeating; digits are their
/// value, `A`–`Z` 10–35, `<` 0.
pub fn check_digit(field: &str) -> Option<u8> {
    let mut sum: u32 = 0;
    for (i, c) in field.chars().enumerate() {
        let value = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            '<' => 0,
            _ => return None,
        };
        sum += value * [7, 3, 1][i % 3];
    }
    u8::try_from(sum % 10).ok()
}

fn checked(field: &'static str, value: &str, digit: char) -> Result<(), MrzError> {
    let expected = check_digit(value).ok_or(MrzError::CheckDigit { field })?;
    // An empty optional field may carry `<` for 0.
    let given = match digit {
        '<' => 0,
        d => d.to_digit(10).and_then(|d| u8::try_from(d).ok()).ok_or(MrzError::CheckDigit { field })?,
    };
    if given == expected { Ok(()) } else { Err(MrzError::CheckDigit { field }) }
}

fn yymmdd(field: &'static str, s: &str) -> Result<String, MrzError> {
    // 29 February is a date in some century: try a leap one.
    let ok = s.len() == 6
        && s.chars().all(|c| c.is_ascii_digit())
        && chrono::NaiveDate::parse_from_str(&format!("20{s}"), "%Y%m%d")
            .or_else(|_| chrono::NaiveDate::parse_from_str(&format!("19{s}"), "%Y%m%d"))
            .is_ok();
    if ok { Ok(s.to_owned()) } else { Err(MrzError::Date { field }) }
}

fn words(s: &str) -> String {
    s.split('<').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

impl Td3 {
    /// Reads the two lines (surrounding whitespace ignored; lower case read
    /// as upper case) and verifies every check digit.
    pub fn parse(line1: &str, line2: &str) -> Result<Td3, MrzError> {
        let mut lines = [String::new(), String::new()];
        for (i, raw) in [line1, line2].into_iter().enumerate() {
            let line = raw.trim().to_ascii_uppercase();
            let found = line.chars().count();
            if found != TD3_LINE {
                return Err(MrzError::Length { line: i + 1, found });
            }
            if let Some((position, found)) =
                line.chars().enumerate().find(|(_, c)| !(c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '<'))
            {
                return Err(MrzError::Character { line: i + 1, position: position + 1, found });
            }
            lines[i] = line;
        }
        let [l1, l2] = &lines;
        if !l1.starts_with('P') {
            return Err(MrzError::NotPassport);
        }
        let digit = |i: usize| l2[i..=i].chars().next().unwrap_or('<');
        checked("document number", &l2[0..9], digit(9))?;
        checked("date of birth", &l2[13..19], digit(19))?;
        checked("expiry date", &l2[21..27], digit(27))?;
        checked("personal number", &l2[28..42], digit(42))?;
        let composite = format!("{}{}{}", &l2[0..10], &l2[13..20], &l2[21..43]);
        checked("whole zone (composite)", &composite, digit(43))?;
        let (surname, given) = l1[5..].split_once("<<").unwrap_or((&l1[5..], ""));
        Ok(Td3 {
            document_code: l1[0..2].trim_end_matches('<').to_owned(),
            issuing_state: l1[2..5].replace('<', ""),
            surname: words(surname),
            given_names: words(given),
            document_number: l2[0..9].replace('<', ""),
            nationality: l2[10..13].replace('<', ""),
            birth_yymmdd: yymmdd("date of birth", &l2[13..19])?,
            sex: l2[20..21].chars().next().unwrap_or('<'),
            expiry_yymmdd: yymmdd("expiry date", &l2[21..27])?,
            personal_number: l2[28..42].replace('<', ""),
            name_truncated: !l1.ends_with('<'),
        })
    }

    /// The typed fields this zone contradicts (none: they agree). Names
    /// compare as upper-case Latin words: every word of the zone must be a
    /// word of the typed name (the last may be cut short when the zone's name
    /// field is full); names typed in other scripts are not compared here.
    pub fn disagreements(&self, typed: &Typed<'_>) -> Vec<Field> {
        let mut out = Vec::new();
        let norm = |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_uppercase();
        if norm(typed.passport_number) != self.document_number {
            out.push(Field::PassportNumber);
        }
        if norm(typed.passport_country) != self.issuing_state {
            out.push(Field::PassportCountry);
        }
        if norm(typed.nationality) != self.nationality {
            out.push(Field::Nationality);
        }
        if typed.date_of_birth.format("%y%m%d").to_string() != self.birth_yymmdd {
            out.push(Field::DateOfBirth);
        }
        if typed.full_name.is_ascii() && !self.name_matches(typed.full_name) {
            out.push(Field::FullName);
        }
        out
    }

    fn name_matches(&self, full_name: &str) -> bool {
        let typed: Vec<String> = full_name
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_uppercase)
            .collect();
        let zone: Vec<&str> =
            self.surname.split(' ').chain(self.given_names.split(' ')).filter(|w| !w.is_empty()).collect();
        let last = zone.len().saturating_sub(1);
        !zone.is_empty()
            && zone.iter().enumerate().all(|(i, word)| {
                typed.iter().any(|t| t == word || (self.name_truncated && i == last && t.starts_with(word)))
            })
    }
}

/// What the applicant typed, for [`Td3::disagreements`].
#[derive(Debug, Clone, Copy)]
pub struct Typed<'a> {
    pub full_name: &'a str,
    pub passport_number: &'a str,
    pub passport_country: &'a str,
    pub nationality: &'a str,
    pub date_of_birth: chrono::NaiveDate,
}

/// A typed field the zone contradicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    FullName,
    PassportNumber,
    PassportCountry,
    Nationality,
    DateOfBirth,
}

impl Field {
    /// The form's (and the API's) field name.
    pub fn name(self) -> &'static str {
        match self {
            Field::FullName => "full_name",
            Field::PassportNumber => "passport_number",
            Field::PassportCountry => "passport_country",
            Field::Nationality => "nationality",
            Field::DateOfBirth => "date_of_birth",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // ICAO Doc 9303 part 4's specimen.
    const L1: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
    const L2: &str = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";

    fn typed() -> Typed<'static> {
        Typed {
            full_name: "Anna Maria ERIKSSON",
            passport_number: "l898902c3",
            passport_country: "UTO",
            nationality: "UTO",
            date_of_birth: chrono::NaiveDate::from_ymd_opt(1974, 8, 12).unwrap(),
        }
    }

    #[test]
    fn the_icao_specimen_reads_and_agrees_with_its_holder() {
        let td3 = Td3::parse(L1, &format!("  {}\n", L2.to_lowercase())).unwrap();
        assert_eq!(td3.surname, "ERIKSSON");
        assert_eq!(td3.given_names, "ANNA MARIA");
        assert_eq!(td3.document_number, "L898902C3");
        assert_eq!((td3.issuing_state.as_str(), td3.nationality.as_str()), ("UTO", "UTO"));
        assert_eq!((td3.birth_yymmdd.as_str(), td3.sex, td3.expiry_yymmdd.as_str()), ("740812", 'F', "120415"));
        assert_eq!(td3.personal_number, "ZE184226B");
        assert!(td3.disagreements(&typed()).is_empty());
        assert_eq!(check_digit("L898902C3"), Some(6));
        assert_eq!(check_digit("740812"), Some(2));
        assert_eq!(check_digit("ZE184226B<<<<<"), Some(1));
    }

    #[test]
    fn each_contradiction_is_named() {
        let td3 = Td3::parse(L1, L2).unwrap();
        let mut t = typed();
        t.passport_number = "L898902C4";
        t.date_of_birth = chrono::NaiveDate::from_ymd_opt(1974, 8, 13).unwrap();
        t.full_name = "Anna ERIKSEN";
        t.nationality = "SWE";
        assert_eq!(
            td3.disagreements(&t),
            vec![Field::PassportNumber, Field::Nationality, Field::DateOfBirth, Field::FullName]
        );
        // A name in another script is not compared here.
        t = typed();
        t.full_name = "安娜";
        assert!(td3.disagreements(&t).is_empty());
    }

    #[test]
    fn any_changed_digit_or_letter_fails_a_check() {
        for (i, c) in L2.char_indices() {
            if c == '<' || (10..13).contains(&i) || i == 20 {
                continue; // fillers, nationality and sex carry no check digit
            }
            let other = if c == '0' {
                '1'
            } else if c.is_ascii_digit() {
                '0'
            } else {
                'X'
            };
            let mut altered = L2.to_owned();
            altered.replace_range(i..=i, &other.to_string());
            assert!(matches!(Td3::parse(L1, &altered), Err(MrzError::CheckDigit { .. })), "position {i}: {altered}");
        }
    }

    #[test]
    fn malformed_zones_are_refused_with_the_reason() {
        assert!(matches!(Td3::parse("P<UTO", L2), Err(MrzError::Length { line: 1, found: 5 })));
        let bad = L1.replacen('E', "É", 1);
        assert!(matches!(Td3::parse(&bad, L2), Err(MrzError::Character { line: 1, .. })));
        assert!(matches!(Td3::parse(&L1.replacen('P', "I", 1), L2), Err(MrzError::NotPassport)));
    }

    proptest! {
        #[test]
        fn parsing_never_panics(a in "[A-Z0-9<]{0,50}", b in "\\PC{0,50}") {
            let _ = Td3::parse(&a, &b);
            let _ = Td3::parse(&b, &a);
        }
    }
}
