//! Login attempt limits, per account and per client IP.
//!
//! One node counts in memory (GCRA via `governor`). Several nodes on one Redis
//! count together in Redis (a one-minute window per key, `INCR` + `EXPIRE` in one
//! transaction), so spreading attempts over the nodes gains nothing. If Redis does
//! not answer, each node falls back to its own counters rather than refusing or
//! allowing every login.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::OnceCell;

use coup_core::Error;

/// The window of the shared counters, in seconds.
const WINDOW_SECS: i64 = 60;

/// Keyed limiters for login attempts.
pub struct LoginLimiter {
    per_account: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    shared: Option<SharedCounters>,
}

/// Counters in Redis, shared by every node of a deployment.
struct SharedCounters {
    client: redis::Client,
    connection: OnceCell<redis::aio::ConnectionManager>,
    /// Keeps one deployment's keys apart from another's on the same Redis.
    prefix: String,
    account: u32,
    ip: u32,
}

impl SharedCounters {
    /// Counts an attempt against both keys; `Some(seconds)` to wait if refused.
    async fn check(&self, account: &str, ip: IpAddr) -> Result<Option<u64>, redis::RedisError> {
        let mut conn = self
            .connection
            .get_or_try_init(|| {
                // A login waits on this: fail fast and count locally instead.
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_number_of_retries(1)
                    .set_connection_timeout(Some(Duration::from_millis(500)))
                    .set_response_timeout(Some(Duration::from_millis(500)));
                redis::aio::ConnectionManager::new_with_config(self.client.clone(), config)
            })
            .await?
            .clone();
        let ip_key = format!("{}:login:ip:{ip}", self.prefix);
        let account_key = format!("{}:login:account:{account}", self.prefix);
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in [&ip_key, &account_key] {
            pipe.incr(key, 1)
                .cmd("EXPIRE")
                .arg(key)
                .arg(WINDOW_SECS)
                .arg("NX")
                .ignore()
                .ttl(key);
        }
        let (ip_count, ip_ttl, account_count, account_ttl): (u32, i64, u32, i64) =
            pipe.query_async(&mut conn).await?;
        let wait = |ttl: i64| Some(u64::try_from(ttl.max(1)).unwrap_or(1));
        Ok(if ip_count > self.ip {
            wait(ip_ttl)
        } else if account_count > self.account {
            wait(account_ttl)
        } else {
            None
        })
    }
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
            shared: None,
        }
    }

    /// The same limits, counted for all nodes in the Redis at `url` under `prefix`.
    pub fn shared(
        account: u32,
        ip: u32,
        url: &str,
        prefix: &str,
    ) -> Result<Self, redis::RedisError> {
        Ok(Self {
            shared: Some(SharedCounters {
                client: redis::Client::open(url)?,
                connection: OnceCell::new(),
                prefix: prefix.to_owned(),
                account: account.max(1),
                ip: ip.max(1),
            }),
            ..Self::new(account, ip)
        })
    }

    /// Counts one attempt; refuses it with `RATE_LIMITED` and the seconds to wait
    /// when either limit is used up.
    pub async fn check(&self, email: &str, ip: IpAddr) -> Result<(), Error> {
        let account = email.trim().to_lowercase();
        if let Some(shared) = &self.shared {
            match shared.check(&account, ip).await {
                Ok(None) => return Ok(()),
                Ok(Some(retry_after_secs)) => return Err(Error::RateLimited { retry_after_secs }),
                Err(e) => {
                    tracing::warn!(error = %e, "shared login limits unavailable; counting on this node");
                    metrics::counter!("coup_ratelimit_fallbacks_total").increment(1);
                }
            }
        }
        let now = self.clock.now();
        let wait = |not_until: governor::NotUntil<_>| Error::RateLimited {
            retry_after_secs: not_until.wait_time_from(now).as_secs() + 1,
        };
        self.per_ip.check_key(&ip).map_err(wait)?;
        self.per_account.check_key(&account).map_err(wait)?;
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

    async fn per_account_and_per_ip_limits(limiter: LoginLimiter) {
        let ip: IpAddr = [127, 0, 0, 1].into();
        let other_ip: IpAddr = [127, 0, 0, 2].into();
        assert!(limiter.check("kim@example.com", ip).await.is_ok());
        assert!(limiter.check("KIM@example.com", other_ip).await.is_ok());
        let err = limiter
            .check("kim@example.com", other_ip)
            .await
            .expect_err("account limit");
        assert!(matches!(err, Error::RateLimited { retry_after_secs } if retry_after_secs >= 1));
        assert!(limiter.check("lee@example.com", ip).await.is_ok());
        assert!(
            limiter.check("park@example.com", ip).await.is_ok(),
            "third from this ip"
        );
        assert!(
            limiter.check("choi@example.com", ip).await.is_err(),
            "fourth from this ip"
        );
    }

    #[tokio::test]
    async fn per_account_and_per_ip_limits_on_one_node() {
        per_account_and_per_ip_limits(LoginLimiter::new(2, 3)).await;
    }

    #[tokio::test]
    async fn without_redis_the_shared_limits_fall_back_to_this_node() {
        // Nothing listens on port 1: every shared check fails and the node counts.
        let limiter =
            LoginLimiter::shared(2, 3, "redis://127.0.0.1:1", "coup:test").expect("client");
        per_account_and_per_ip_limits(limiter).await;
    }
}
