//! Per-client rate limits for verification: a token bucket per client
//! address for all requests, and a second, much smaller one for failed
//! lookups (unknown number or wrong code), so codes cannot be found by trying.
//!
//! Time comes from the service clock, so tests are deterministic. IPv6
//! clients are keyed by their /64 prefix: one host usually holds a whole /64
//! and could otherwise rotate addresses at will.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// Buckets kept before full (idle) ones are forgotten: bounds memory under
/// a flood of distinct addresses.
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spend {
    Nothing,
    IfAvailable,
    Always,
}

/// A refused request: when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter {
    pub seconds: u64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: DateTime<Utc>,
}

/// Token buckets keyed by client: `capacity` requests at once, refilled at
/// `capacity` per `period`.
#[derive(Debug)]
pub struct RateLimiter {
    capacity: f64,
    refill_per_second: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    pub fn new(capacity: u32, period_seconds: u32) -> Self {
        let capacity = f64::from(capacity.max(1));
        RateLimiter {
            capacity,
            refill_per_second: capacity / f64::from(period_seconds.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `client`, or says when one will be available.
    pub fn take(&self, client: IpAddr, now: DateTime<Utc>) -> Result<(), RetryAfter> {
        self.update(client, now, Spend::IfAvailable)
    }

    /// Whether `client` has a token, without spending it.
    pub fn check(&self, client: IpAddr, now: DateTime<Utc>) -> Result<(), RetryAfter> {
        self.update(client, now, Spend::Nothing)
    }

    /// Spends a token for something that already happened (a failed
    /// lookup), even one the client no longer has: the balance may go below
    /// zero, and the client waits until it is back above one. So requests
    /// that all passed [`RateLimiter::check`] at once are still all counted.
    pub fn charge(&self, client: IpAddr, now: DateTime<Utc>) {
        let _ = self.update(client, now, Spend::Always);
    }

    fn update(&self, client: IpAddr, now: DateTime<Utc>, spend: Spend) -> Result<(), RetryAfter> {
        let key = bucket_key(client);
        // A poisoned lock only means another request panicked mid-update;
        // the map of counters is still usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&key) {
            self.forget_full(&mut buckets, now);
        }
        let bucket = buckets.entry(key).or_insert(Bucket { tokens: self.capacity, updated: now });
        let elapsed = (now - bucket.updated).num_milliseconds().max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * self.refill_per_second).min(self.capacity);
        bucket.updated = bucket.updated.max(now);
        if spend == Spend::Always {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        if bucket.tokens >= 1.0 {
            if spend == Spend::IfAvailable {
                bucket.tokens -= 1.0;
            }
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.refill_per_second;
            Err(RetryAfter { seconds: wait.ceil().max(1.0) as u64 })
        }
    }

    fn forget_full(&self, buckets: &mut HashMap<IpAddr, Bucket>, now: DateTime<Utc>) {
        buckets.retain(|_, b| {
            let elapsed = (now - b.updated).num_milliseconds().max(0) as f64 / 1000.0;
            b.tokens + elapsed * self.refill_per_second < self.capacity
        });
        if buckets.len() >= MAX_TRACKED {
            // Still full of active clients: start over rather than grow.
            buckets.clear();
        }
    }
}

fn bucket_key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The limits verification uses.
#[derive(Debug)]
pub struct VerifyLimits {
    /// Every verification request.
    pub requests: RateLimiter,
    /// Lookups that found nothing (unknown number or wrong code).
    pub failed_lookups: RateLimiter,
    /// Upload checks running at once: one per core, so uploads cannot take
    /// the machine from status checks.
    pub upload_checks: tokio::sync::Semaphore,
}

impl VerifyLimits {
    pub fn new(settings: &crate::config::VerifySettings) -> Self {
        VerifyLimits {
            requests: RateLimiter::new(settings.requests_per_minute, 60),
            failed_lookups: RateLimiter::new(settings.failed_lookups_per_hour, 3600),
            upload_checks: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
    }

    #[test]
    fn allows_the_capacity_then_refills_evenly() {
        let limiter = RateLimiter::new(3, 60);
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let b: IpAddr = "203.0.113.8".parse().unwrap();
        for _ in 0..3 {
            limiter.take(a, t(0)).unwrap();
        }
        assert_eq!(limiter.take(a, t(0)), Err(RetryAfter { seconds: 20 }));
        // Another client is not affected.
        limiter.take(b, t(0)).unwrap();
        // One token every 20 seconds.
        assert!(limiter.take(a, t(19)).is_err());
        limiter.take(a, t(20)).unwrap();
        assert!(limiter.take(a, t(20)).is_err());
        // Never more than the capacity, however long the pause.
        for _ in 0..3 {
            limiter.take(a, t(10_000)).unwrap();
        }
        assert!(limiter.take(a, t(10_000)).is_err());
    }

    #[test]
    fn charges_after_the_fact_are_all_counted() {
        let limiter = RateLimiter::new(2, 3600);
        let a: IpAddr = "198.51.100.1".parse().unwrap();
        // Five lookups passed the check together, then all failed.
        for _ in 0..5 {
            limiter.check(a, t(0)).unwrap();
        }
        for _ in 0..5 {
            limiter.charge(a, t(0));
        }
        // 2 - 5 = -3: four tokens (half an hour each) before the next one.
        assert_eq!(limiter.check(a, t(0)), Err(RetryAfter { seconds: 4 * 1800 }));
        assert!(limiter.check(a, t(4 * 1800 - 1)).is_err());
        limiter.check(a, t(4 * 1800 + 1)).unwrap();
    }

    #[test]
    fn ipv6_clients_share_their_64_prefix() {
        let limiter = RateLimiter::new(1, 60);
        limiter.take("2001:db8:1:2::1".parse().unwrap(), t(0)).unwrap();
        assert!(limiter.take("2001:db8:1:2:ffff::9".parse().unwrap(), t(0)).is_err());
        limiter.take("2001:db8:1:3::1".parse().unwrap(), t(0)).unwrap();
        // An IPv4-mapped address counts as the IPv4 client.
        limiter.take("192.0.2.1".parse().unwrap(), t(0)).unwrap();
        assert!(limiter.take("::ffff:192.0.2.1".parse().unwrap(), t(0)).is_err());
    }

    #[test]
    fn a_clock_going_backwards_does_not_mint_tokens() {
        let limiter = RateLimiter::new(1, 60);
        let a: IpAddr = "192.0.2.9".parse().unwrap();
        limiter.take(a, t(100)).unwrap();
        assert!(limiter.take(a, t(0)).is_err());
        assert!(limiter.take(a, t(100)).is_err());
    }
}
