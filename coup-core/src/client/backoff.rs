//! Exponential backoff with jitter, for reconnecting and for retrying the outbox.
//!
//! Each delay is drawn from the upper half of a window that doubles per attempt
//! ("equal jitter"): clients that lost the same server at the same moment spread
//! their reconnects instead of arriving together, and none waits less than half
//! the window.

use std::time::Duration;

/// Delays that double from `min` up to `max`, each with random jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// Windows from `min` (at least 1 ms) to `max` (at least `min`).
    pub fn new(min: Duration, max: Duration) -> Self {
        let min = min.max(Duration::from_millis(1));
        Self {
            min,
            max: max.max(min),
            attempt: 0,
        }
    }

    /// The next delay: uniformly in `[window / 2, window]`, where the window is
    /// `min · 2^attempt`, capped at `max`.
    pub fn next_delay(&mut self) -> Duration {
        let window = self
            .min
            .saturating_mul(1u32 << self.attempt.min(20))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let half = window / 2;
        let spread = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(random_below(spread.saturating_add(1)))
    }

    /// Starts again from `min` (after a success).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// A random number in `[0, n)` (0 when `n` is 0), from the OS generator behind
/// UUID v4 — no extra dependency for a few random bits.
fn random_below(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    let random = uuid::Uuid::new_v4().as_u128();
    u64::try_from(random % u128::from(n)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_with_jitter_up_to_the_cap_and_reset() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        let windows = [100, 200, 400, 800, 1000, 1000];
        for window in windows {
            let delay = backoff.next_delay().as_millis();
            assert!(
                (window / 2..=window).contains(&delay),
                "{delay} ms outside [{}, {window}]",
                window / 2
            );
        }
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(100));
        // Jitter: many draws from one window are not all equal.
        let draws: std::collections::HashSet<_> = (0..50)
            .map(|_| {
                let mut b = Backoff::new(Duration::from_secs(10), Duration::from_secs(10));
                b.next_delay()
            })
            .collect();
        assert!(draws.len() > 1, "no jitter: {draws:?}");
    }
}
