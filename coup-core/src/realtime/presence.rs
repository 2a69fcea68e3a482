//! Presence per study: who is online, counting each user's connections so that a
//! user with several devices is online while any of them is connected.

use std::collections::HashMap;

use crate::ids::{StudyId, UserId};

/// A change everyone subscribed to the study should hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceChange {
    /// The user's first connection arrived.
    Online(StudyId, UserId),
    /// The user's last connection left.
    Offline(StudyId, UserId),
}

/// Online users per study, with their connection counts.
#[derive(Debug, Default)]
pub struct Presence {
    studies: HashMap<StudyId, HashMap<UserId, usize>>,
}

impl Presence {
    /// An empty presence table.
    pub fn new() -> Self {
        Self::default()
    }

    /// A connection of `user` joined `study`; `Online` if it is their first.
    pub fn connect(&mut self, study: StudyId, user: UserId) -> Option<PresenceChange> {
        let count = self
            .studies
            .entry(study)
            .or_default()
            .entry(user)
            .or_default();
        *count += 1;
        (*count == 1).then_some(PresenceChange::Online(study, user))
    }

    /// A connection of `user` left `study`; `Offline` if it was their last.
    pub fn disconnect(&mut self, study: StudyId, user: UserId) -> Option<PresenceChange> {
        let users = self.studies.get_mut(&study)?;
        let count = users.get_mut(&user)?;
        *count -= 1;
        if *count > 0 {
            return None;
        }
        users.remove(&user);
        if users.is_empty() {
            self.studies.remove(&study);
        }
        Some(PresenceChange::Offline(study, user))
    }

    /// Removes every connection of `user` in `study` at once (kicked, study deleted).
    pub fn evict(&mut self, study: StudyId, user: UserId) -> Option<PresenceChange> {
        let users = self.studies.get_mut(&study)?;
        users.remove(&user)?;
        if users.is_empty() {
            self.studies.remove(&study);
        }
        Some(PresenceChange::Offline(study, user))
    }

    /// Who is online in a study, sorted.
    pub fn online(&self, study: StudyId) -> Vec<UserId> {
        let mut users: Vec<UserId> = self
            .studies
            .get(&study)
            .map(|u| u.keys().copied().collect())
            .unwrap_or_default();
        users.sort();
        users
    }

    /// Every (study, user) pair that is online.
    pub fn entries(&self) -> impl Iterator<Item = (StudyId, UserId)> + '_ {
        self.studies
            .iter()
            .flat_map(|(study, users)| users.keys().map(move |user| (*study, *user)))
    }

    /// Whether a user is online in a study.
    pub fn is_online(&self, study: StudyId, user: UserId) -> bool {
        self.studies
            .get(&study)
            .is_some_and(|u| u.contains_key(&user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_devices_keep_a_user_online_until_both_leave() {
        let (s, kim, lee) = (StudyId::new(), UserId::new(), UserId::new());
        let mut p = Presence::new();
        assert_eq!(p.connect(s, kim), Some(PresenceChange::Online(s, kim)));
        assert_eq!(p.connect(s, kim), None, "second device");
        assert_eq!(p.connect(s, lee), Some(PresenceChange::Online(s, lee)));
        let mut expected = vec![kim, lee];
        expected.sort();
        assert_eq!(p.online(s), expected);
        assert_eq!(p.entries().count(), 2);
        assert_eq!(p.disconnect(s, kim), None, "one device left");
        assert!(p.is_online(s, kim));
        assert_eq!(p.disconnect(s, kim), Some(PresenceChange::Offline(s, kim)));
        assert!(!p.is_online(s, kim));
        assert_eq!(
            p.disconnect(s, kim),
            None,
            "unknown disconnects are ignored"
        );
        assert_eq!(p.evict(s, lee), Some(PresenceChange::Offline(s, lee)));
        assert!(p.online(s).is_empty());
        assert_eq!(p.entries().count(), 0);
    }
}
