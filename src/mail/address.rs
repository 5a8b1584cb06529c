//! An email address: checked once at the edge, masked in logs.

use std::fmt;

/// The longest address accepted (RFC 5321's limit on a path).
pub const MAX_ADDRESS_CHARS: usize = 254;

/// A checked email address (`local@domain`). `Debug` and `Display` show it
/// masked (`z***@example.com`): it is personal data. [`EmailAddress::as_str`]
/// gives the whole address for sending and sealing.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailAddress(lettre::Address);

impl EmailAddress {
    /// Trims, checks the length and the syntax (lettre's parser: a dot-atom
    /// or quoted local part, a domain); the domain is kept as written.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("an email address is required".into());
        }
        if text.chars().count() > MAX_ADDRESS_CHARS {
            return Err(format!("an email address has at most {MAX_ADDRESS_CHARS} characters"));
        }
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("an email address cannot contain spaces or control characters".into());
        }
        text.parse::<lettre::Address>()
            .map(EmailAddress)
            .map_err(|_| "this is not an email address like name@example.com".into())
    }

    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    pub fn domain(&self) -> &str {
        self.0.domain()
    }

    pub(crate) fn lettre(&self) -> &lettre::Address {
        &self.0
    }

    /// The first character of the local part, `***`, and the domain.
    pub fn masked(&self) -> String {
        mask(self.as_str())
    }

    /// The blind-index form: the whole address in lower case.
    pub fn index_form(&self) -> String {
        self.as_str().to_lowercase()
    }
}

/// `zhang.wei@example.com` → `z***@example.com`; anything without an `@`
/// → `***`.
pub fn mask(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.masked())
    }
}

impl std::str::FromStr for EmailAddress {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EmailAddress::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_are_checked_and_masked() {
        let a = EmailAddress::parse("  zhang.wei@example.com ").unwrap();
        assert_eq!(a.as_str(), "zhang.wei@example.com");
        assert_eq!(a.masked(), "z***@example.com");
        assert_eq!(a.to_string(), "z***@example.com");
        assert!(!format!("{a:?}").contains("zhang"));
        assert_eq!(EmailAddress::parse("Zhang@Example.COM").unwrap().index_form(), "zhang@example.com");
        for bad in ["", "zhang", "zhang@", "@example.com", "a b@example.com", "a@b@c", "a\n@example.com"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        assert!(EmailAddress::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
        assert_eq!(mask("nobody"), "***");
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_masks_hide_the_local_part(s in "\\PC{0,80}") {
            if let Ok(a) = EmailAddress::parse(&s) {
                let local = a.as_str().rsplit_once('@').map(|(l, _)| l.to_owned()).unwrap_or_default();
                if local.chars().count() > 1 {
                    prop_assert!(!a.masked().contains(&local));
                }
            }
        }
    }
}
