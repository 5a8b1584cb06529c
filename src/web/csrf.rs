//! CSRF protection for forms that change or upload something: the
//! double-submit cookie. The page that shows the form sets a random token in
//! a `SameSite=Strict`, `HttpOnly` cookie and repeats it in a hidden field;
//! the POST is accepted only when both are present and equal (compared in
//! constant time). Another site can make a browser send the cookie, but
//! cannot read it to fill in the field.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use subtle::ConstantTimeEq;

pub const COOKIE_NAME: &str = "standing_csrf";
/// The hidden form field carrying the token.
pub const FIELD_NAME: &str = "csrf";

/// A fresh token: 32 random bytes, base64url.
pub fn new_token(rng: &mut impl RngCore) -> String {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The `Set-Cookie` header carrying `token`; `Secure` when the service is
/// served over HTTPS.
pub fn set_cookie(token: &str, secure: bool) -> (axum::http::HeaderName, HeaderValue) {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=7200{secure}");
    // The token is base64url: always a valid header value.
    (SET_COOKIE, HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("")))
}

/// The token from the request's cookie, if any.
pub fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value)
}

/// Whether `token` has the shape [`new_token`] gives: 43 base64url symbols.
pub fn well_formed(token: &str) -> bool {
    token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether the form's token matches the cookie's.
pub fn matches(headers: &HeaderMap, form_token: Option<&str>) -> bool {
    match (cookie_token(headers), form_token) {
        (Some(cookie), Some(form)) if well_formed(cookie) => bool::from(cookie.as_bytes().ct_eq(form.as_bytes())),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(cookie).unwrap());
        h
    }

    #[test]
    fn accepts_only_the_matching_pair() {
        let mut rng = rand::rng();
        let token = new_token(&mut rng);
        assert_eq!(token.len(), 43);
        assert_ne!(token, new_token(&mut rng));
        let h = headers(&format!("theme=dark; {COOKIE_NAME}={token}; other=1"));
        assert!(matches(&h, Some(&token)));
        assert!(!matches(&h, Some("x")));
        assert!(!matches(&h, None));
        assert!(!matches(&HeaderMap::new(), Some(&token)));
        assert!(!matches(&headers(&format!("{COOKIE_NAME}=")), Some("")));
        assert!(!matches(&headers(&format!("{COOKIE_NAME}=short")), Some("short")), "only tokens we could have made");
        assert!(well_formed(&token) && !well_formed("x") && !well_formed(&"!".repeat(43)));
    }

    #[test]
    fn the_cookie_is_strict_and_http_only() {
        let (_, v) = set_cookie("abc", true);
        let v = v.to_str().unwrap();
        assert!(v.contains("SameSite=Strict") && v.contains("HttpOnly") && v.ends_with("; Secure"), "{v}");
        let (_, v) = set_cookie("abc", false);
        assert!(!v.to_str().unwrap().contains("Secure"));
    }
}
