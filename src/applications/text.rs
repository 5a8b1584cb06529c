//! The text message that carries a one-time code: short, in plain words,
//! with the warning that protects against someone asking for it.

/// `482913 is your code from {issuer} …`: the code first, so that phones
/// offer to fill it in.
pub fn code_message(issuer: &str, code: &str, minutes: i64) -> String {
    format!(
        "{code} is your code from {issuer} for your financial standing report. It expires in {minutes} minutes. \
         Never share it: we will never ask you for it."
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_code_comes_first() {
        let text = super::code_message("Standing", "012345", 10);
        assert!(text.starts_with("012345 is your code from Standing"));
        assert!(text.contains("10 minutes"));
    }
}
