//! One-time codes within NIST SP 800-63B (5.1.3, 5.2.2): six digits from a
//! CSPRNG, stored only as a keyed hash bound to what it was sent for, valid
//! for a short time, used once, voided after a few wrong tries, and resent
//! at a limited rate. Pure: the caller stores [`IssuedCode`] and passes the
//! time in.

use chrono::{DateTime, Duration, Utc};
use rand::{CryptoRng, Rng};

use crate::crypto::FieldCipher;

/// The rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtpPolicy {
    /// How long a code is valid.
    pub ttl: Duration,
    /// Wrong tries that void a code.
    pub max_wrong: u32,
    /// The least time between two sends.
    pub resend_interval: Duration,
    /// Sends in any hour at most.
    pub max_sends_per_hour: usize,
}

impl Default for OtpPolicy {
    fn default() -> Self {
        OtpPolicy {
            ttl: Duration::minutes(10),
            max_wrong: 5,
            resend_interval: Duration::minutes(1),
            max_sends_per_hour: 3,
        }
    }
}

/// A code as stored: its keyed hash, when it was sent, and what became of it.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedCode {
    pub digest: [u8; 32],
    pub issued_at: DateTime<Utc>,
    pub wrong_tries: u32,
    pub used: bool,
}

impl std::fmt::Debug for IssuedCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCode")
            .field("issued_at", &self.issued_at)
            .field("wrong_tries", &self.wrong_tries)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

/// What a try comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    /// Wrong; this many tries are left.
    Wrong {
        tries_left: u32,
    },
    /// Too many wrong tries: no code is accepted any more, not even the
    /// right one; a new one must be sent.
    Voided,
    Expired,
    AlreadyUsed,
}

/// A fresh code (returned once, to be sent; never logged) and its stored form.
/// `purpose` binds the hash to what the code is for (an application's id),
/// so a hash copied to another row does not match.
pub fn issue(
    cipher: &FieldCipher,
    purpose: &str,
    now: DateTime<Utc>,
    rng: &mut (impl Rng + CryptoRng),
) -> (String, IssuedCode) {
    let code = format!("{:06}", rng.random_range(0..1_000_000u32));
    let digest = cipher.secret_digest(&context(purpose, now), &code);
    (code, IssuedCode { digest, issued_at: now, wrong_tries: 0, used: false })
}

fn context(purpose: &str, issued_at: DateTime<Utc>) -> String {
    format!("otp:{purpose}:{}", issued_at.timestamp_micros())
}

/// Checks `typed` (spaces and dashes ignored) against `code`, updating its
/// tries and use. The comparison is constant-time; a malformed entry counts
/// as a wrong try.
pub fn check(
    cipher: &FieldCipher,
    policy: &OtpPolicy,
    purpose: &str,
    code: &mut IssuedCode,
    typed: &str,
    now: DateTime<Utc>,
) -> Verdict {
    if code.used {
        return Verdict::AlreadyUsed;
    }
    if code.wrong_tries >= policy.max_wrong {
        return Verdict::Voided;
    }
    if now >= code.issued_at + policy.ttl || now < code.issued_at {
        return Verdict::Expired;
    }
    let typed: String = typed.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    let well_formed = typed.len() == 6 && typed.chars().all(|c| c.is_ascii_digit());
    // The digest is computed either way, so a malformed entry costs the same.
    let matches = cipher.secret_matches(&context(purpose, code.issued_at), &typed, &code.digest) && well_formed;
    if matches {
        code.used = true;
        return Verdict::Accepted;
    }
    code.wrong_tries += 1;
    match policy.max_wrong.saturating_sub(code.wrong_tries) {
        0 => Verdict::Voided,
        tries_left => Verdict::Wrong { tries_left },
    }
}

/// Whether another code may be sent now, given the times of earlier sends;
/// `Err(when)` says when one may.
pub fn may_send(policy: &OtpPolicy, sent_at: &[DateTime<Utc>], now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
    let mut earliest = now;
    if let Some(last) = sent_at.iter().max() {
        earliest = earliest.max(*last + policy.resend_interval);
    }
    let mut in_hour: Vec<&DateTime<Utc>> = sent_at.iter().filter(|t| **t > now - Duration::hours(1)).collect();
    if in_hour.len() >= policy.max_sends_per_hour {
        in_hour.sort();
        // The oldest send of the hour must leave the window first.
        let frees = *in_hour[in_hour.len() - policy.max_sends_per_hour] + Duration::hours(1);
        earliest = earliest.max(frees);
    }
    if earliest <= now { Ok(()) } else { Err(earliest) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MasterKey;
    use chrono::TimeZone;
    use rand::SeedableRng;

    fn cipher() -> FieldCipher {
        MasterKey::from_bytes([3; 32]).field_cipher()
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
    }

    #[test]
    fn a_code_is_six_digits_stored_only_as_a_keyed_hash_and_used_once() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let (code, mut issued) = issue(&cipher(), "AP-1", t0(), &mut rng);
        assert_eq!(code.len(), 6);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        assert!(!format!("{issued:?}").contains(&code));
        assert_ne!(issued.digest, cipher().secret_digest(&context("AP-2", t0()), &code), "bound to its purpose");
        let policy = OtpPolicy::default();
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(check(&cipher(), &policy, "AP-1", &mut issued, &spaced, t0()), Verdict::Accepted);
        assert_eq!(check(&cipher(), &policy, "AP-1", &mut issued, &code, t0()), Verdict::AlreadyUsed);
    }

    #[test]
    fn five_wrong_tries_void_the_code_and_the_right_one_then_fails() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
        let (code, mut issued) = issue(&cipher(), "AP-1", t0(), &mut rng);
        let policy = OtpPolicy::default();
        let wrong = if code == "000000" { "000001" } else { "000000" };
        for left in (1..5).rev() {
            assert_eq!(
                check(&cipher(), &policy, "AP-1", &mut issued, wrong, t0()),
                Verdict::Wrong { tries_left: left }
            );
        }
        assert_eq!(check(&cipher(), &policy, "AP-1", &mut issued, "12ab", t0()), Verdict::Voided);
        assert_eq!(check(&cipher(), &policy, "AP-1", &mut issued, &code, t0()), Verdict::Voided);
    }

    #[test]
    fn a_code_expires_after_ten_minutes() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let (code, issued) = issue(&cipher(), "AP-1", t0(), &mut rng);
        let policy = OtpPolicy::default();
        let at = |m: i64| t0() + Duration::minutes(m);
        assert_eq!(check(&cipher(), &policy, "AP-1", &mut issued.clone(), &code, at(9)), Verdict::Accepted);
        assert_eq!(check(&cipher(), &policy, "AP-1", &mut issued.clone(), &code, at(10)), Verdict::Expired);
    }

    #[test]
    fn sends_are_limited_to_one_a_minute_and_three_an_hour() {
        let policy = OtpPolicy::default();
        let at = |m: i64| t0() + Duration::minutes(m);
        assert_eq!(may_send(&policy, &[], at(0)), Ok(()));
        assert_eq!(may_send(&policy, &[at(0)], at(0)), Err(at(1)));
        assert_eq!(may_send(&policy, &[at(0)], at(1)), Ok(()));
        let three = [at(0), at(1), at(2)];
        assert_eq!(may_send(&policy, &three, at(3)), Err(at(60)));
        assert_eq!(may_send(&policy, &three, at(60)), Ok(()));
    }

    #[test]
    fn codes_are_spread_over_all_six_digit_values() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(4);
        let codes: std::collections::HashSet<String> =
            (0..2000).map(|_| issue(&cipher(), "x", t0(), &mut rng).0).collect();
        assert!(codes.len() > 1990, "{}", codes.len());
        assert!(codes.iter().any(|c| c.starts_with('0')), "leading zeros kept");
    }
}
