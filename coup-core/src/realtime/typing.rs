//! Typing indicators: throttled starts, explicit stops, and expiry after a few
//! seconds without a refresh, so an indicator never sticks when a client vanishes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::ids::{StudyId, UserId};

/// How long an indicator lives without a refresh.
pub const TYPING_TTL: Duration = Duration::from_secs(5);
/// The shortest interval between two announced starts of one user.
pub const TYPING_THROTTLE: Duration = Duration::from_secs(2);

/// What to announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypingChange {
    /// Where.
    pub study: StudyId,
    /// Who.
    pub user: UserId,
    /// Started (true) or stopped (false).
    pub typing: bool,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    announced: Instant,
    expires: Instant,
}

/// Who is typing where.
#[derive(Debug, Default)]
pub struct Typing {
    entries: HashMap<(StudyId, UserId), Entry>,
}

impl Typing {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// The user typed at `now`. Announced if they were not typing, or if the last
    /// announcement is older than the throttle (a refresh for late joiners).
    pub fn start(&mut self, study: StudyId, user: UserId, now: Instant) -> Option<TypingChange> {
        let expires = now + TYPING_TTL;
        match self.entries.get_mut(&(study, user)) {
            Some(e) if now.duration_since(e.announced) < TYPING_THROTTLE => {
                e.expires = expires;
                None
            }
            _ => {
                self.entries.insert(
                    (study, user),
                    Entry {
                        announced: now,
                        expires,
                    },
                );
                Some(TypingChange {
                    study,
                    user,
                    typing: true,
                })
            }
        }
    }

    /// The user stopped (or sent their message); announced if they were typing.
    pub fn stop(&mut self, study: StudyId, user: UserId) -> Option<TypingChange> {
        self.entries.remove(&(study, user)).map(|_| TypingChange {
            study,
            user,
            typing: false,
        })
    }

    /// Indicators that expired by `now`, removed and returned as stops.
    pub fn expire(&mut self, now: Instant) -> Vec<TypingChange> {
        let mut gone: Vec<(StudyId, UserId)> = self
            .entries
            .iter()
            .filter(|(_, e)| e.expires <= now)
            .map(|(k, _)| *k)
            .collect();
        gone.sort();
        gone.into_iter()
            .filter_map(|(study, user)| self.stop(study, user))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_are_throttled_stops_are_explicit_and_silence_expires() {
        let (s, kim) = (StudyId::new(), UserId::new());
        let t0 = Instant::now();
        let mut t = Typing::new();
        assert_eq!(
            t.start(s, kim, t0),
            Some(TypingChange {
                study: s,
                user: kim,
                typing: true
            })
        );
        assert_eq!(
            t.start(s, kim, t0 + Duration::from_millis(500)),
            None,
            "throttled"
        );
        assert!(
            t.start(s, kim, t0 + TYPING_THROTTLE).is_some(),
            "refresh after the throttle"
        );
        assert_eq!(
            t.stop(s, kim),
            Some(TypingChange {
                study: s,
                user: kim,
                typing: false
            })
        );
        assert_eq!(t.stop(s, kim), None);
        t.start(s, kim, t0);
        assert!(t.expire(t0 + Duration::from_secs(1)).is_empty());
        let stopped = t.expire(t0 + TYPING_TTL);
        assert_eq!(
            stopped,
            vec![TypingChange {
                study: s,
                user: kim,
                typing: false
            }]
        );
        assert!(t.expire(t0 + TYPING_TTL * 2).is_empty());
    }

    #[test]
    fn a_refresh_within_the_throttle_still_extends_the_indicator() {
        let (s, kim) = (StudyId::new(), UserId::new());
        let t0 = Instant::now();
        let mut t = Typing::new();
        t.start(s, kim, t0);
        t.start(s, kim, t0 + Duration::from_secs(1));
        assert!(
            t.expire(t0 + TYPING_TTL).is_empty(),
            "extended by the silent refresh"
        );
        assert_eq!(t.expire(t0 + Duration::from_secs(1) + TYPING_TTL).len(), 1);
    }
}
