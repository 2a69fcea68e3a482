//! How long ago the app's process started, for the launch-time benchmark
//! (BENCHMARKS.md, "Desktop app"): from process start, not from `main`, so the
//! loading of GTK and WebKit's libraries counts too. Linux's `/proc`: the
//! process's start in clock ticks since boot (`/proc/self/stat`, field 22) and
//! the time since boot (`/proc/uptime`), both at 10 ms resolution.

use std::fs;

/// Clock ticks per second in `/proc` (`USER_HZ`, fixed at 100 by the kernel's ABI).
const TICKS_PER_SECOND: u64 = 100;

/// Milliseconds since this process started, or `None` without `/proc`.
pub fn process_age_ms() -> Option<u64> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    let uptime = fs::read_to_string("/proc/uptime").ok()?;
    age_ms(&stat, &uptime)
}

/// The age from the two files' text.
fn age_ms(stat: &str, uptime: &str) -> Option<u64> {
    // Fields after the command name (which may hold spaces), from field 3.
    let after_name = stat.get(stat.rfind(')')? + 2..)?;
    let start_ticks: u64 = after_name.split(' ').nth(19)?.parse().ok()?;
    let (whole, fraction) = uptime.split_whitespace().next()?.split_once('.')?;
    let now_ms = whole.parse::<u64>().ok()? * 1000 + fraction.parse::<u64>().ok()? * 10;
    Some(now_ms.saturating_sub(start_ticks * 1000 / TICKS_PER_SECOND))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_is_uptime_minus_start() {
        // Start at 1,234.56 s after boot (123,456 ticks); now 1,236.01 s.
        let stat = "4242 (coup desktop) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 9 0 123456 1000 50";
        assert_eq!(age_ms(stat, "1236.01 100.00\n"), Some(1450));
    }

    #[test]
    fn this_process_has_an_age() {
        let age = process_age_ms().expect("/proc on Linux");
        assert!(age < 24 * 3600 * 1000, "{age} ms");
    }

    #[test]
    fn garbage_has_no_age() {
        assert_eq!(age_ms("no parenthesis", "1.00 1.00"), None);
        assert_eq!(age_ms("1 (x) S 1", "1.00 1.00"), None);
    }
}
