//! The application form, checked: every field's problem at once, in words
//! an applicant can act on, keyed by the field's name (the web form shows
//! them beside the fields; the API returns them in `error.fields`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;

use super::mrz::{Td3, Typed};
use crate::domain::country::CountryCode;
use crate::domain::{FullName, PassportNumber, PhoneNumber};
use crate::mail::EmailAddress;

/// Why an applicant needs a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Study,
    Work,
    Visit,
    PermanentResidence,
}

impl Purpose {
    pub const ALL: [Purpose; 4] = [Purpose::Study, Purpose::Work, Purpose::Visit, Purpose::PermanentResidence];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Study => "study",
            Purpose::Work => "work",
            Purpose::Visit => "visit",
            Purpose::PermanentResidence => "permanent_residence",
        }
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Purpose::Study => "Study permit",
            Purpose::Work => "Work permit",
            Purpose::Visit => "Visitor visa",
            Purpose::PermanentResidence => "Permanent residence",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// The consents, each asked separately and none assumed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Consents {
    /// To use the financial data we hold about you for this report (required).
    pub financial_data: bool,
    /// To send the report to you by email (without it, download it from the status page).
    pub email: bool,
    /// To the transfer of your data out of the country it is held in, to
    /// the authority you name (required when the operator's data is held in
    /// China).
    pub cross_border: bool,
}

/// The form as typed (the API's body; the web form's fields). Everything
/// is text so that a wrong value is a field error, not an unreadable body.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ApplicationForm {
    /// As printed in the passport.
    #[schema(example = "ZHANG Wei")]
    pub full_name: String,
    #[schema(example = "E12345678")]
    pub passport_number: String,
    /// ISO 3166-1 alpha-3, as in the passport.
    #[schema(example = "CHN")]
    pub passport_country: String,
    #[schema(example = "CHN")]
    pub nationality: String,
    /// YYYY-MM-DD.
    #[schema(example = "1990-04-12")]
    pub date_of_birth: String,
    /// In international form (`+86 138 0013 8000`), or national form with `phone_country`.
    #[schema(example = "+8613800138000")]
    pub phone: String,
    /// ISO 3166-1 alpha-3 of the phone's country, for a number typed without
    /// `+` and country code (default: the passport's country).
    #[schema(example = "CHN")]
    pub phone_country: Option<String>,
    #[schema(example = "zhang.wei@example.com")]
    pub email: String,
    /// The authority the report is for (`IRCC`, the default).
    #[schema(example = "IRCC")]
    pub authority: Option<String>,
    /// `study`, `work`, `visit` or `permanent_residence`.
    #[schema(example = "study")]
    pub purpose: String,
    /// Optional: the two 44-character lines of the passport's
    /// machine-readable zone, joined by a newline.
    pub mrz: Option<String>,
    pub consents: Consents,
}

/// Field name → what is wrong with it.
pub type FieldErrors = BTreeMap<String, String>;

/// A checked application.
#[derive(Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Details {
    pub full_name: String,
    pub passport_number: String,
    pub passport_country: String,
    pub nationality: String,
    pub date_of_birth: NaiveDate,
    /// E.164.
    pub phone: String,
    pub email: String,
    pub authority: String,
    pub purpose: String,
    /// Whether a machine-readable zone was given (and agreed).
    pub mrz_checked: bool,
}

impl std::fmt::Debug for Details {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Details").field("purpose", &self.purpose).finish_non_exhaustive()
    }
}

/// The settings the checks depend on.
#[derive(Debug, Clone)]
pub struct FormRules<'a> {
    /// The authority codes reports are issued for (upper case).
    pub authorities: &'a [String],
    pub cross_border_required: bool,
    pub today: NaiveDate,
}

fn country(value: &str, what: &str) -> Result<CountryCode, String> {
    let code = value.trim().to_ascii_uppercase();
    if code.is_empty() {
        return Err(format!("Choose the {what}."));
    }
    CountryCode::parse(&code).map_err(|_| format!("`{}` is not a country code like CHN or IND.", value.trim()))
}

/// Parses a phone number as typed, with the region to read a national
/// number in; returns E.164.
pub fn phone_e164(typed: &str, region: Option<CountryCode>) -> Result<PhoneNumber, String> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err("Enter the mobile number registered with your account.".into());
    }
    if typed.chars().count() > 40 {
        return Err("This is too long for a phone number.".into());
    }
    let region_id = region.and_then(|c| c.alpha2()).and_then(|a2| a2.parse::<phonenumber::country::Id>().ok());
    if !typed.starts_with('+') && !typed.starts_with("00") && region_id.is_none() {
        return Err(
            "Start with + and the country code (for example +86 138 0013 8000), or choose the phone's country.".into(),
        );
    }
    let number = phonenumber::parse(region_id, typed)
        .map_err(|_| "This is not a phone number. Type it with the country code, e.g. +86 138 0013 8000.".to_owned())?;
    if !phonenumber::is_valid(&number) {
        return Err("This number is not valid for its country. Check the digits and the country code.".into());
    }
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    PhoneNumber::parse(&e164).map_err(|e| e.0)
}

/// Checks the whole form; every problem at once.
pub fn check(form: &ApplicationForm, rules: &FormRules<'_>) -> Result<Details, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut fail = |field: &str, message: String| {
        errors.entry(field.to_owned()).or_insert(message);
    };

    let full_name = form.full_name.split_whitespace().collect::<Vec<_>>().join(" ");
    if full_name.is_empty() {
        fail("full_name", "Enter your name exactly as printed in your passport.".into());
    } else if let Err(e) = FullName::parse(&full_name) {
        fail("full_name", format!("{}.", e.0));
    }

    let passport: String =
        form.passport_number.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    if passport.is_empty() {
        fail("passport_number", "Enter your passport number.".into());
    } else if PassportNumber::parse(&passport).is_err() {
        fail("passport_number", "A passport number has 5 to 9 letters and digits, e.g. E12345678.".into());
    }

    let passport_country = country(&form.passport_country, "country that issued your passport")
        .map_err(|e| fail("passport_country", e))
        .ok();
    let nationality = country(&form.nationality, "nationality").map_err(|e| fail("nationality", e)).ok();

    let date_of_birth = match NaiveDate::parse_from_str(form.date_of_birth.trim(), "%Y-%m-%d") {
        _ if form.date_of_birth.trim().is_empty() => {
            fail("date_of_birth", "Enter your date of birth.".into());
            None
        }
        Ok(d) if d >= rules.today => {
            fail("date_of_birth", "The date of birth must be in the past.".into());
            None
        }
        Ok(d) if rules.today.years_since(d).unwrap_or(0) > 130 => {
            fail("date_of_birth", "Check the year of birth.".into());
            None
        }
        Ok(d) => Some(d),
        Err(_) => {
            fail("date_of_birth", "Write the date as year-month-day, e.g. 1990-04-12.".into());
            None
        }
    };

    let phone_region = match form.phone_country.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => match country(code, "phone's country") {
            Ok(c) => Some(c),
            Err(e) => {
                fail("phone_country", e);
                None
            }
        },
        None => passport_country,
    };
    let phone = phone_e164(&form.phone, phone_region).map_err(|e| fail("phone", e)).ok();

    let email = EmailAddress::parse(&form.email)
        .map_err(|e| {
            let mut e = e;
            if let Some(first) = e.get(0..1) {
                e = format!("{}{}.", first.to_uppercase(), &e[1..]);
            }
            fail("email", e)
        })
        .ok();

    let authority = form.authority.as_deref().map(str::trim).filter(|a| !a.is_empty()).unwrap_or("IRCC");
    let authority = authority.to_ascii_uppercase();
    if !rules.authorities.iter().any(|a| a == &authority) {
        fail("authority", format!("We issue reports for {} only.", rules.authorities.join(", ")));
    }

    let purpose = Purpose::parse(form.purpose.trim());
    if purpose.is_none() {
        fail("purpose", "Choose what the report is for: study, work, visit or permanent residence.".into());
    }

    if !form.consents.financial_data {
        fail(
            "consents.financial_data",
            "We can only make the report if you agree to the use of your financial data.".into(),
        );
    }
    if rules.cross_border_required && !form.consents.cross_border {
        fail(
            "consents.cross_border",
            "Your data is held in China: we can only send it abroad with your agreement to the transfer.".into(),
        );
    }

    let mut mrz_checked = false;
    if let Some(mrz) = form.mrz.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        let lines: Vec<&str> = mrz.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        match lines.as_slice() {
            [line1, line2] => match Td3::parse(line1, line2) {
                Ok(zone) => {
                    if let (Some(c), Some(n), Some(d)) = (passport_country, nationality, date_of_birth) {
                        let typed = Typed {
                            full_name: &full_name,
                            passport_number: &passport,
                            passport_country: c.as_str(),
                            nationality: n.as_str(),
                            date_of_birth: d,
                        };
                        for field in zone.disagreements(&typed) {
                            fail(
                                field.name(),
                                "This does not match the machine-readable zone of your passport.".into(),
                            );
                        }
                        mrz_checked = true;
                    }
                }
                Err(e) => fail("mrz", format!("{}{}.", e.to_string()[..1].to_uppercase(), &e.to_string()[1..])),
            },
            _ => fail("mrz", "The machine-readable zone has two lines of 44 characters.".into()),
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    let (Some(passport_country), Some(nationality), Some(date_of_birth), Some(phone), Some(email), Some(purpose)) =
        (passport_country, nationality, date_of_birth, phone, email, purpose)
    else {
        return Err(errors);
    };
    Ok(Details {
        full_name,
        passport_number: passport,
        passport_country: passport_country.to_string(),
        nationality: nationality.to_string(),
        date_of_birth,
        phone: phone.as_str().to_owned(),
        email: email.as_str().to_owned(),
        authority,
        purpose: purpose.as_str().to_owned(),
        mrz_checked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> FormRules<'static> {
        static AUTHORITIES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        FormRules {
            authorities: AUTHORITIES.get_or_init(|| vec!["IRCC".to_owned()]),
            cross_border_required: true,
            today: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        }
    }

    fn form() -> ApplicationForm {
        ApplicationForm {
            full_name: "ZHANG  Wei".into(),
            passport_number: "e1234 5678".into(),
            passport_country: "chn".into(),
            nationality: "CHN".into(),
            date_of_birth: "1990-04-12".into(),
            phone: "138 0013 8000".into(),
            phone_country: None,
            email: "zhang.wei@example.com".into(),
            authority: None,
            purpose: "study".into(),
            mrz: None,
            consents: Consents { financial_data: true, email: true, cross_border: true },
        }
    }

    #[test]
    fn a_good_form_is_normalised() {
        let d = check(&form(), &rules()).unwrap();
        assert_eq!(d.full_name, "ZHANG Wei");
        assert_eq!(d.passport_number, "E12345678");
        assert_eq!(d.passport_country, "CHN");
        assert_eq!(d.phone, "+8613800138000", "a national number is read in the passport's country");
        assert_eq!(d.authority, "IRCC");
    }

    #[test]
    fn phones_in_every_usual_form() {
        let cn = CountryCode::parse("CHN").ok();
        for typed in ["+86 138 0013 8000", "+86-138-0013-8000", "0086 13800138000", "13800138000"] {
            assert_eq!(phone_e164(typed, cn).unwrap().as_str(), "+8613800138000", "{typed}");
        }
        let ind = CountryCode::parse("IND").ok();
        assert_eq!(phone_e164("098765 43210", ind).unwrap().as_str(), "+919876543210");
        assert!(phone_e164("12345", cn).is_err());
        assert!(phone_e164("13800138000", None).is_err(), "a national number needs a country");
        assert!(phone_e164("+86 123", None).is_err());
    }

    #[test]
    fn every_problem_is_reported_by_field() {
        let bad = ApplicationForm {
            full_name: " ".into(),
            passport_number: "??".into(),
            passport_country: "ZZZ".into(),
            nationality: String::new(),
            date_of_birth: "12/04/1990".into(),
            phone: "12".into(),
            email: "not-an-address".into(),
            authority: Some("UKVI".into()),
            purpose: "holiday".into(),
            consents: Consents::default(),
            ..ApplicationForm::default()
        };
        let errors = check(&bad, &rules()).unwrap_err();
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "authority",
                "consents.cross_border",
                "consents.financial_data",
                "date_of_birth",
                "email",
                "full_name",
                "nationality",
                "passport_country",
                "passport_number",
                "phone",
                "purpose"
            ]
        );
        assert!(errors.values().all(|m| m.ends_with('.')), "{errors:?}");
    }

    #[test]
    fn email_consent_is_optional_and_cross_border_follows_the_rules() {
        let mut f = form();
        f.consents.email = false;
        assert!(check(&f, &rules()).is_ok());
        f.consents.cross_border = false;
        assert!(check(&f, &rules()).is_err());
        assert!(check(&f, &FormRules { cross_border_required: false, ..rules() }).is_ok());
    }

    /// A zone for ZHANG Wei's passport, with check digits computed as ICAO 9303 says.
    fn zone(passport: &str, birth: &str) -> String {
        use crate::identity::mrz::check_digit;
        let digit = |s: &str| char::from(b'0' + check_digit(s).unwrap());
        let line1 = format!("{:<<44}", "P<CHNZHANG<<WEI");
        let expiry = "320101";
        let mut line2 = format!(
            "{passport:<<9}{}CHN{birth}{}M{expiry}{}",
            digit(&format!("{passport:<<9}")),
            digit(birth),
            digit(expiry)
        );
        line2.push_str(&"<".repeat(14));
        line2.push(digit("<<<<<<<<<<<<<<"));
        let composite = format!("{}{}{}", &line2[0..10], &line2[13..20], &line2[21..43]);
        line2.push(digit(&composite));
        format!("{line1}\n{line2}")
    }

    #[test]
    fn a_chinese_passport_zone_agrees_or_names_what_differs() {
        let mut f = form();
        f.mrz = Some(zone("E12345678", "900412"));
        assert!(check(&f, &rules()).unwrap().mrz_checked);
        f.mrz = Some(zone("E12345679", "900412"));
        assert_eq!(check(&f, &rules()).unwrap_err().keys().collect::<Vec<_>>(), ["passport_number"]);
        f.mrz = Some(zone("E12345678", "900413"));
        assert_eq!(check(&f, &rules()).unwrap_err().keys().collect::<Vec<_>>(), ["date_of_birth"]);
    }

    #[test]
    fn future_and_absurd_birth_dates() {
        let mut f = form();
        f.date_of_birth = "2026-12-01".into();
        assert!(check(&f, &rules()).unwrap_err().contains_key("date_of_birth"));
        f.date_of_birth = "1800-01-01".into();
        assert!(check(&f, &rules()).unwrap_err().contains_key("date_of_birth"));
    }

    #[test]
    fn the_machine_readable_zone_must_agree() {
        // ICAO 9303 part 4's specimen, with its own check digits.
        let line1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
        let line2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";
        let mut f = ApplicationForm {
            full_name: "ERIKSSON Anna Maria".into(),
            passport_number: "L898902C3".into(),
            passport_country: "UTO".into(),
            nationality: "UTO".into(),
            date_of_birth: "1974-08-12".into(),
            phone: "+8613800138000".into(),
            mrz: Some(format!("{line1}\n{line2}")),
            ..form()
        };
        // UTO (Utopia) is no real country: the zone is read, the countries are not accepted.
        let errors = check(&f, &rules()).unwrap_err();
        assert!(errors.contains_key("passport_country") && !errors.contains_key("mrz"), "{errors:?}");
        f.mrz = Some(format!("{line1}\n{}", line2.replacen("7408122", "7408123", 1)));
        assert!(check(&f, &rules()).unwrap_err().contains_key("mrz"));
        f.mrz = Some(line1.to_owned());
        assert!(check(&f, &rules()).unwrap_err().contains_key("mrz"));
    }
}
