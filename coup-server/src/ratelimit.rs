//! Login attempt limits, per account and per client IP (GCRA via `governor`).

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use coup_core::Error;

/// Keyed limiters for login attempts.
pub struct LoginLimiter {
    per_account: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl LoginLimiter {
    /// Limits of `account` and `ip` attempts per minute (bursts up to the same).
    pub fn new(account: u32, ip: u32) -> Self {
        Self {
            per_account: RateLimiter::keyed(per_minute(account)),
            per_ip: RateLimiter::keyed(per_minute(ip)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt; refuses it with `RATE_LIMITED` and the seconds to wait
    /// when either limit is used up.
    pub fn check(&self, email: &str, ip: IpAddr) -> Result<(), Error> {
        let now = self.clock.now();
        let wait = |not_until: governor::NotUntil<_>| Error::RateLimited {
            retry_after_secs: not_until.wait_time_from(now).as_secs() + 1,
        };
        self.per_ip.check_key(&ip).map_err(wait)?;
        self.per_account
            .check_key(&email.trim().to_lowercase())
            .map_err(wait)?;
        Ok(())
    }

    /// Forgets keys whose limits have fully recovered (bounded memory).
    pub fn shrink(&self) {
        self.per_account.retain_recent();
        self.per_ip.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_account_and_per_ip_limits() {
        let limiter = LoginLimiter::new(2, 3);
        let ip: IpAddr = [127, 0, 0, 1].into();
        let other_ip: IpAddr = [127, 0, 0, 2].into();
        assert!(limiter.check("kim@example.com", ip).is_ok());
        assert!(limiter.check("KIM@example.com", other_ip).is_ok());
        let err = limiter
            .check("kim@example.com", other_ip)
            .expect_err("account limit");
        assert!(matches!(err, Error::RateLimited { retry_after_secs } if retry_after_secs >= 1));
        assert!(limiter.check("lee@example.com", ip).is_ok());
        assert!(
            limiter.check("park@example.com", ip).is_ok(),
            "third from this ip"
        );
        assert!(
            limiter.check("choi@example.com", ip).is_err(),
            "fourth from this ip"
        );
    }
}
