//! CSRF protection for forms that change or upload something: the signed
//! double-submit cookie. The page that shows the form sets a token in a
//! `SameSite=Strict`, `HttpOnly` cookie and repeats it in a hidden field;
//! the POST is accepted only when both are present, equal, and the token is
//! one this service made recently.
//!
//! A plain double-submit accepts any matching pair, so whoever can plant a
//! cookie in the browser (a sibling subdomain, a man in the middle on plain
//! HTTP) can forge both halves. Here a token is `issued-at || nonce ||
//! HMAC-SHA256(key, issued-at || nonce)` under a key derived from the
//! master key, so only the service can make one, and it expires
//! ([`LIFETIME_SECONDS`]). Over HTTPS the cookie is named with the
//! `__Host-` prefix, which browsers refuse to accept from a subdomain or
//! without `Secure`.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{KeyInit, Mac};
use rand::RngCore;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The cookie over plain HTTP (development, tests).
pub const COOKIE_NAME: &str = "standing_csrf";
/// The cookie over HTTPS: host-only, `Secure`, `Path=/`, enforced by browsers.
pub const SECURE_COOKIE_NAME: &str = "__Host-standing_csrf";
/// The hidden form field carrying the token.
pub const FIELD_NAME: &str = "csrf";
/// How long a token is accepted (the cookie's `Max-Age` too).
pub const LIFETIME_SECONDS: i64 = 2 * 60 * 60;
/// A token issued this far in the future (clock skew between instances)
/// is still accepted.
const SKEW_SECONDS: i64 = 5 * 60;

const NONCE_LEN: usize = 16;
const TAG_LEN: usize = 32;
const TOKEN_LEN: usize = 8 + NONCE_LEN + TAG_LEN;
/// Base64url without padding of [`TOKEN_LEN`] bytes.
const ENCODED_LEN: usize = (TOKEN_LEN * 4).div_ceil(3);

/// The key tokens are signed with; derived from the master key, so every
/// instance sharing the master key accepts the others' tokens.
#[derive(Clone)]
pub struct CsrfKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey([redacted])")
    }
}

impl CsrfKey {
    pub fn new(key: Zeroizing<[u8; 32]>) -> Self {
        CsrfKey(key)
    }

    /// The MAC over `signed`; `None` only if HMAC refused the key, which
    /// it never does (it takes keys of any length).
    fn tag(&self, signed: &[u8]) -> Option<HmacSha256> {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(self.0.as_ref()).ok()?;
        mac.update(b"standing/csrf/v1\0");
        mac.update(signed);
        Some(mac)
    }

    /// A fresh token issued at `now`: base64url of issued-at (seconds,
    /// big-endian), 16 random bytes and the HMAC of both.
    pub fn new_token(&self, now: DateTime<Utc>, rng: &mut impl RngCore) -> String {
        let mut token = [0u8; TOKEN_LEN];
        token[..8].copy_from_slice(&now.timestamp().to_be_bytes());
        rng.fill_bytes(&mut token[8..8 + NONCE_LEN]);
        // Without a tag (never) the token is left unsigned and is refused.
        if let Some(mac) = self.tag(&token[..8 + NONCE_LEN]) {
            token[8 + NONCE_LEN..].copy_from_slice(&mac.finalize().into_bytes());
        }
        URL_SAFE_NO_PAD.encode(token)
    }

    /// When `token` was issued, if this key made it (checked in constant
    /// time) and it has not expired at `now`.
    fn issued_at(&self, token: &str, now: DateTime<Utc>) -> Option<i64> {
        if token.len() != ENCODED_LEN {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        let (signed, tag) = bytes.split_at_checked(8 + NONCE_LEN)?;
        self.tag(signed)?.verify_slice(tag).ok()?;
        let issued = i64::from_be_bytes(signed[..8].try_into().ok()?);
        let age = now.timestamp().checked_sub(issued)?;
        (-SKEW_SECONDS..=LIFETIME_SECONDS).contains(&age).then_some(issued)
    }

    /// Whether `token` is one of ours and still valid at `now`.
    pub fn valid(&self, token: &str, now: DateTime<Utc>) -> bool {
        self.issued_at(token, now).is_some()
    }

    /// A token worth handing out again (a second tab keeps the first tab's
    /// form working): ours, and less than half its lifetime gone.
    pub fn reusable(&self, token: &str, now: DateTime<Utc>) -> bool {
        self.issued_at(token, now).is_some_and(|issued| now.timestamp() - issued < LIFETIME_SECONDS / 2)
    }

    /// Whether the form's token equals the cookie's (constant time) and is
    /// a valid token of ours.
    pub fn matches(&self, headers: &HeaderMap, secure: bool, form_token: Option<&str>, now: DateTime<Utc>) -> bool {
        match (cookie_token(headers, secure), form_token) {
            (Some(cookie), Some(form)) => {
                bool::from(cookie.as_bytes().ct_eq(form.as_bytes())) && self.valid(cookie, now)
            }
            _ => false,
        }
    }
}

fn cookie_name(secure: bool) -> &'static str {
    if secure { SECURE_COOKIE_NAME } else { COOKIE_NAME }
}

/// The `Set-Cookie` header carrying `token`; `Secure` and `__Host-` when the
/// service is served over HTTPS.
pub fn set_cookie(token: &str, secure: bool) -> (HeaderName, HeaderValue) {
    let name = cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    let value = format!("{name}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={LIFETIME_SECONDS}{secure}");
    // The token is base64url: always a valid header value.
    (SET_COOKIE, HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("")))
}

/// The token from the request's cookie, if any.
pub fn cookie_token(headers: &HeaderMap, secure: bool) -> Option<&str> {
    cookies(headers, cookie_name(secure)).next()
}

/// The values of every cookie called `name` the request carries.
pub fn cookies<'h>(headers: &'h HeaderMap, name: &'h str) -> impl Iterator<Item = &'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(move |(n, _)| *n == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn key(byte: u8) -> CsrfKey {
        CsrfKey::new(Zeroizing::new([byte; 32]))
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap()
    }

    fn headers(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(cookie).unwrap());
        h
    }

    #[test]
    fn accepts_only_a_matching_pair_the_service_made() {
        let mut rng = rand::rng();
        let k = key(1);
        let token = k.new_token(now(), &mut rng);
        assert_eq!(token.len(), ENCODED_LEN);
        assert_ne!(token, k.new_token(now(), &mut rng));
        let h = headers(&format!("theme=dark; {COOKIE_NAME}={token}; other=1"));
        assert!(k.matches(&h, false, Some(&token), now()));
        assert!(!k.matches(&h, false, Some("x"), now()));
        assert!(!k.matches(&h, false, None, now()));
        assert!(!k.matches(&HeaderMap::new(), false, Some(&token), now()));
        assert!(!k.matches(&headers(&format!("{COOKIE_NAME}=")), false, Some(""), now()));
        // Over HTTPS only the __Host- cookie counts.
        assert!(!k.matches(&h, true, Some(&token), now()));
        let secure = headers(&format!("{SECURE_COOKIE_NAME}={token}"));
        assert!(k.matches(&secure, true, Some(&token), now()));
    }

    #[test]
    fn a_forged_pair_is_refused_however_well_it_matches() {
        let mut rng = rand::rng();
        // An attacker's own random token in both places: the old check
        // accepted this.
        let forged = URL_SAFE_NO_PAD.encode([7u8; TOKEN_LEN]);
        assert!(!key(1).matches(&headers(&format!("{COOKIE_NAME}={forged}")), false, Some(&forged), now()));
        // A token made under another key (another deployment).
        let foreign = key(2).new_token(now(), &mut rng);
        assert!(!key(1).matches(&headers(&format!("{COOKIE_NAME}={foreign}")), false, Some(&foreign), now()));
        // One of ours with its issue time moved forward (its tag no longer fits).
        let mut bytes = URL_SAFE_NO_PAD.decode(key(1).new_token(now(), &mut rng)).unwrap();
        bytes[7] ^= 1;
        let moved = URL_SAFE_NO_PAD.encode(bytes);
        assert!(!key(1).matches(&headers(&format!("{COOKIE_NAME}={moved}")), false, Some(&moved), now()));
    }

    #[test]
    fn tokens_expire() {
        let k = key(1);
        let token = k.new_token(now(), &mut rand::rng());
        let h = headers(&format!("{COOKIE_NAME}={token}"));
        assert!(k.matches(&h, false, Some(&token), now() + chrono::Duration::seconds(LIFETIME_SECONDS)));
        assert!(!k.matches(&h, false, Some(&token), now() + chrono::Duration::seconds(LIFETIME_SECONDS + 1)));
        assert!(!k.matches(&h, false, Some(&token), now() - chrono::Duration::hours(1)), "not from the future");
        assert!(k.reusable(&token, now() + chrono::Duration::minutes(59)));
        assert!(!k.reusable(&token, now() + chrono::Duration::minutes(61)));
    }

    #[test]
    fn the_cookie_is_strict_and_http_only() {
        let (_, v) = set_cookie("abc", true);
        let v = v.to_str().unwrap();
        assert!(v.starts_with("__Host-standing_csrf=abc; Path=/;"), "{v}");
        assert!(v.contains("SameSite=Strict") && v.contains("HttpOnly") && v.ends_with("; Secure"), "{v}");
        let (_, v) = set_cookie("abc", false);
        assert!(!v.to_str().unwrap().contains("Secure"));
    }
}
