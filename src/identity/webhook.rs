//! Signed webhooks from a KYC vendor, checked on the raw body before
//! anything is parsed. Two schemes, as vendors use them:
//!
//! - **Stripe**: `Stripe-Signature: t={unix seconds},v1={hex}[,v1=…]`, the
//!   hex HMAC-SHA256 of `{t}.{body}` keyed with the endpoint secret's text
//!   exactly as configured (`whsec_…` included), as Stripe signs it;
//! - **Standard Webhooks** (standardwebhooks.com): `webhook-id`,
//!   `webhook-timestamp` and `webhook-signature: v1,{base64} [v1,{base64} …]`,
//!   the HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed with the base64
//!   decoding of the secret after `whsec_`.
//!
//! Several secrets are tried (a rotation), timestamps more than
//! [`TOLERANCE_SECONDS`] from now are refused (replays of old events), and
//! every comparison is constant-time. Pure: the time is passed in. (Groundwork
//! for the identity-vendor issue: nothing receives webhooks yet.)

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// How far a webhook's timestamp may be from now, either way.
pub const TOLERANCE_SECONDS: i64 = 300;

/// Which scheme a webhook was signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Stripe,
    StandardWebhooks,
}

/// A webhook whose signature matched one of the secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub scheme: Scheme,
    pub signed_at: DateTime<Utc>,
    /// Standard Webhooks' `webhook-id` (Stripe's event id is in the body).
    pub message_id: Option<String>,
    /// Which configured secret matched (its position), for rotation logs.
    pub secret_index: usize,
}

/// Why a webhook was refused (answered 400 or 401; never parsed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("no Stripe-Signature or webhook-signature header")]
    Unsigned,
    #[error("the signature header cannot be read: {0}")]
    Malformed(&'static str),
    #[error("the timestamp is more than {TOLERANCE_SECONDS} seconds from now")]
    Stale,
    #[error("no signature matches any configured secret")]
    NoMatch,
    #[error("no webhook secret is configured")]
    NoSecrets,
}

/// Whether `signature` is the HMAC-SHA256 of `parts` (concatenated) under
/// `key`, compared in constant time.
fn signed(key: &[u8], parts: &[&[u8]], signature: &[u8]) -> bool {
    // HMAC takes a key of any length, so this does not fail.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else { return false };
    for part in parts {
        mac.update(part);
    }
    mac.verify_slice(signature).is_ok()
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, WebhookError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| WebhookError::Malformed("a header is not ASCII")),
    }
}

fn timestamp(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, WebhookError> {
    let seconds: i64 = text.trim().parse().map_err(|_| WebhookError::Malformed("the timestamp is not a number"))?;
    let at = DateTime::from_timestamp(seconds, 0).ok_or(WebhookError::Malformed("the timestamp is out of range"))?;
    if (now - at).num_seconds().abs() > TOLERANCE_SECONDS {
        return Err(WebhookError::Stale);
    }
    Ok(at)
}

/// Checks a webhook's signature against `secrets` (as configured).
pub fn verify(
    headers: &HeaderMap,
    body: &[u8],
    secrets: &[String],
    now: DateTime<Utc>,
) -> Result<Verified, WebhookError> {
    if secrets.is_empty() {
        return Err(WebhookError::NoSecrets);
    }
    if let Some(value) = header(headers, "stripe-signature")? {
        return verify_stripe(value, body, secrets, now);
    }
    if let Some(value) = header(headers, "webhook-signature")? {
        let id = header(headers, "webhook-id")?.ok_or(WebhookError::Malformed("webhook-id is missing"))?;
        let ts =
            header(headers, "webhook-timestamp")?.ok_or(WebhookError::Malformed("webhook-timestamp is missing"))?;
        return verify_standard(id, ts, value, body, secrets, now);
    }
    Err(WebhookError::Unsigned)
}

fn verify_stripe(value: &str, body: &[u8], secrets: &[String], now: DateTime<Utc>) -> Result<Verified, WebhookError> {
    let mut t = None;
    let mut signatures = Vec::new();
    for item in value.split(',') {
        match item.trim().split_once('=') {
            Some(("t", v)) => t = Some(v),
            Some(("v1", v)) => signatures
                .push(hex::decode(v.trim()).map_err(|_| WebhookError::Malformed("a v1 signature is not hex"))?),
            // v0 (test mode) and future schemes are not accepted.
            _ => {}
        }
    }
    let t = t.ok_or(WebhookError::Malformed("t= is missing"))?;
    if signatures.is_empty() {
        return Err(WebhookError::Malformed("no v1= signature"));
    }
    let signed_at = timestamp(t, now)?;
    for (index, secret) in secrets.iter().enumerate() {
        for signature in &signatures {
            if signed(secret.as_bytes(), &[t.trim().as_bytes(), b".", body], signature) {
                return Ok(Verified { scheme: Scheme::Stripe, signed_at, message_id: None, secret_index: index });
            }
        }
    }
    Err(WebhookError::NoMatch)
}

fn verify_standard(
    id: &str,
    ts: &str,
    value: &str,
    body: &[u8],
    secrets: &[String],
    now: DateTime<Utc>,
) -> Result<Verified, WebhookError> {
    let signed_at = timestamp(ts, now)?;
    let signatures: Vec<Vec<u8>> = value
        .split(' ')
        .filter_map(|item| item.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .filter_map(|(_, b64)| STANDARD.decode(b64.trim()).ok())
        .collect();
    if signatures.is_empty() {
        return Err(WebhookError::Malformed("no v1, signature"));
    }
    for (index, secret) in secrets.iter().enumerate() {
        let key = STANDARD.decode(secret.trim().strip_prefix("whsec_").unwrap_or(secret.trim()));
        let Ok(key) = key else { continue };
        for signature in &signatures {
            if signed(&key, &[id.as_bytes(), b".", ts.trim().as_bytes(), b".", body], signature) {
                let message_id = Some(id.to_owned());
                return Ok(Verified { scheme: Scheme::StandardWebhooks, signed_at, message_id, secret_index: index });
            }
        }
    }
    Err(WebhookError::NoMatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    /// The Standard Webhooks specification's own example.
    const STD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const STD_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const STD_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn std_headers(signature: &str) -> HeaderMap {
        headers(&[
            ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
            ("webhook-timestamp", "1614265330"),
            ("webhook-signature", signature),
        ])
    }

    /// Computed apart from this code (Python's hmac) for the secret
    /// `whsec_test_secret`, t = 1700000000 and this body.
    const STRIPE_BODY: &[u8] = br#"{"id":"evt_1","type":"identity.verification_session.verified"}"#;
    const STRIPE_V1: &str = "fbba86e7dedc2917ab4fd0493b95f33b73f677ba7b2f24d23fe2e975a0c78cf3";

    #[test]
    fn the_standard_webhooks_example_verifies() {
        let verified = verify(&std_headers(STD_SIGNATURE), STD_BODY, &[STD_SECRET.into()], at(1614265330)).unwrap();
        assert_eq!(verified.scheme, Scheme::StandardWebhooks);
        assert_eq!(verified.message_id.as_deref(), Some("msg_p5jXN8AQM9LWM0D4loKWxJek"));
        // Several signatures in the header, one of them right.
        let several = format!("v1,AAAA {STD_SIGNATURE} v2,xyz");
        assert!(verify(&std_headers(&several), STD_BODY, &[STD_SECRET.into()], at(1614265330)).is_ok());
        // One byte of the body changed, or a wrong secret: refused.
        assert_eq!(
            verify(&std_headers(STD_SIGNATURE), br#"{"test": 2432232315}"#, &[STD_SECRET.into()], at(1614265330)),
            Err(WebhookError::NoMatch)
        );
        assert_eq!(
            verify(&std_headers(STD_SIGNATURE), STD_BODY, &["whsec_AAAAAAAAAAAA".into()], at(1614265330)),
            Err(WebhookError::NoMatch)
        );
    }

    #[test]
    fn stripe_signatures_verify_with_the_secret_as_configured() {
        let h = headers(&[("stripe-signature", &format!("t=1700000000,v1={STRIPE_V1},v0=deadbeef"))]);
        let secrets = ["whsec_old".to_owned(), "whsec_test_secret".to_owned()];
        let verified = verify(&h, STRIPE_BODY, &secrets, at(1700000100)).unwrap();
        assert_eq!((verified.scheme, verified.secret_index), (Scheme::Stripe, 1), "the second secret of a rotation");
        assert_eq!(verify(&h, b"{}", &secrets, at(1700000100)), Err(WebhookError::NoMatch));
        let v0_only = headers(&[("stripe-signature", &format!("t=1700000000,v0={STRIPE_V1}"))]);
        assert!(matches!(verify(&v0_only, STRIPE_BODY, &secrets, at(1700000000)), Err(WebhookError::Malformed(_))));
    }

    #[test]
    fn old_and_future_timestamps_are_refused() {
        let h = headers(&[("stripe-signature", &format!("t=1700000000,v1={STRIPE_V1}"))]);
        let secret = ["whsec_test_secret".to_owned()];
        assert!(verify(&h, STRIPE_BODY, &secret, at(1700000000 + 300)).is_ok());
        assert_eq!(verify(&h, STRIPE_BODY, &secret, at(1700000000 + 301)), Err(WebhookError::Stale));
        assert_eq!(verify(&h, STRIPE_BODY, &secret, at(1700000000 - 301)), Err(WebhookError::Stale));
    }

    #[test]
    fn unsigned_and_unreadable_headers() {
        assert_eq!(verify(&HeaderMap::new(), b"{}", &["s".into()], at(0)), Err(WebhookError::Unsigned));
        assert_eq!(verify(&HeaderMap::new(), b"{}", &[], at(0)), Err(WebhookError::NoSecrets));
        let no_t = headers(&[("stripe-signature", "v1=00")]);
        assert!(matches!(verify(&no_t, b"{}", &["s".into()], at(0)), Err(WebhookError::Malformed(_))));
        let no_id = headers(&[("webhook-signature", STD_SIGNATURE), ("webhook-timestamp", "1614265330")]);
        assert!(matches!(
            verify(&no_id, STD_BODY, &[STD_SECRET.into()], at(1614265330)),
            Err(WebhookError::Malformed(_))
        ));
    }
}
