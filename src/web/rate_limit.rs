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

/// One client's balance, kept in exact integer units so that refilling
/// never loses time: a token is `period` nanoseconds' worth of units and
/// every nanosecond adds `capacity` units. (Floating point with elapsed time
/// rounded to milliseconds, as before, lost the fraction on every request
/// while the timestamp moved on: back-to-back requests never refilled.)
#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Below zero after charges for things that already happened.
    units: i128,
    /// The time up to which refills are counted.
    updated: DateTime<Utc>,
}

/// Token buckets keyed by client: `capacity` requests at once, refilled at
/// `capacity` per `period`.
#[derive(Debug)]
pub struct RateLimiter {
    /// Tokens a full bucket holds (also the units added per nanosecond).
    capacity: i128,
    /// Units per token: the period in nanoseconds.
    token: i128,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

/// Nanoseconds from `from` to `to`; zero when the clock went backwards,
/// saturated (a full bucket anyway) past 292 years.
fn nanos_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i128 {
    if to <= from {
        return 0;
    }
    i128::from((to - from).num_nanoseconds().unwrap_or(i64::MAX))
}

impl RateLimiter {
    pub fn new(capacity: u32, period_seconds: u32) -> Self {
        RateLimiter {
            capacity: i128::from(capacity.max(1)),
            token: i128::from(period_seconds.max(1)) * 1_000_000_000,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn full(&self) -> i128 {
        self.capacity * self.token
    }

    /// `bucket`'s balance at `now`: what it had plus `capacity` units per
    /// nanosecond since it was last brought up to date, at most full.
    fn refilled(&self, bucket: &Bucket, now: DateTime<Utc>) -> i128 {
        (bucket.units + nanos_between(bucket.updated, now) * self.capacity).min(self.full())
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
        let full = self.full();
        let bucket = buckets.entry(key).or_insert(Bucket { units: full, updated: now });
        bucket.units = self.refilled(bucket, now);
        // Never backwards: a clock that steps back mints nothing, and the
        // time it steps back over is not counted twice.
        bucket.updated = bucket.updated.max(now);
        if spend == Spend::Always {
            bucket.units -= self.token;
            return Ok(());
        }
        if bucket.units >= self.token {
            if spend == Spend::IfAvailable {
                bucket.units -= self.token;
            }
            Ok(())
        } else {
            let wait_nanos = (self.token - bucket.units + self.capacity - 1) / self.capacity;
            let seconds = (wait_nanos + 999_999_999) / 1_000_000_000;
            Err(RetryAfter { seconds: u64::try_from(seconds.max(1)).unwrap_or(u64::MAX) })
        }
    }

    fn forget_full(&self, buckets: &mut HashMap<IpAddr, Bucket>, now: DateTime<Utc>) {
        let full = self.full();
        buckets.retain(|_, b| self.refilled(b, now) < full);
        if buckets.len() >= MAX_TRACKED {
            // Still full of active clients: start over rather than grow.
            buckets.clear();
        }
    }

    /// A client's balance in tokens' units, brought up to `now` (tests).
    #[cfg(test)]
    fn balance(&self, client: IpAddr, now: DateTime<Utc>) -> i128 {
        let buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        buckets.get(&bucket_key(client)).map_or(self.full(), |b| self.refilled(b, now))
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

    /// Issue 10: requests less than a millisecond apart kept the bucket
    /// from ever refilling.
    #[test]
    fn back_to_back_requests_still_refill() {
        let limiter = RateLimiter::new(60, 60);
        let a: IpAddr = "192.0.2.10".parse().unwrap();
        for _ in 0..60 {
            limiter.take(a, t(0)).unwrap();
        }
        // A request every 0.9 ms for two seconds: one token a second comes
        // back, so about two of these are answered.
        let mut answered = 0;
        let start = t(0);
        for i in 1..=2222 {
            if limiter.take(a, start + chrono::Duration::microseconds(900 * i)).is_ok() {
                answered += 1;
            }
        }
        assert_eq!(answered, 1, "one full token after 1 s; the second is 0.9998 of one");
        assert!(limiter.take(a, start + chrono::Duration::seconds(2)).is_ok());
    }

    proptest::proptest! {
        /// Refilling in many small steps (each with a check, which brings
        /// the bucket up to date) gives exactly what one step over the same
        /// time gives, from any balance, for any rate.
        #[test]
        fn many_small_steps_refill_as_much_as_one_big_step(
            capacity in 1u32..500,
            period in 1u32..7200,
            debt in 0u32..50,
            steps in proptest::collection::vec(0i64..5_000_000, 1..200),
        ) {
            let stepped = RateLimiter::new(capacity, period);
            let once = RateLimiter::new(capacity, period);
            let a: IpAddr = "198.51.100.4".parse().unwrap();
            for _ in 0..debt {
                stepped.charge(a, t(0));
                once.charge(a, t(0));
            }
            let mut now = t(0);
            for step in &steps {
                now += chrono::Duration::nanoseconds(*step);
                let _ = stepped.check(a, now);
            }
            let _ = once.check(a, now);
            proptest::prop_assert_eq!(stepped.balance(a, now), once.balance(a, now));
            // And the answer (allowed, or how long to wait) is the same.
            proptest::prop_assert_eq!(stepped.check(a, now), once.check(a, now));
        }
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
