//! Seeds a CoUp data directory through coup-core, the way the server stores things:
//! accounts, public studies of `room_size` members (joined under the study's AUTO
//! policy, so memberships, counts and notifications are the real ones) and one
//! session per account. One password hash is computed and shared by every account,
//! so 19,000 accounts seed in seconds instead of the minutes argon2 would take.

use std::path::Path;

use anyhow::{Context, Result};
use coup_core::auth;
use coup_core::model::{JoinPolicy, PlatformRole};
use coup_core::service::accounts::{self, Signup};
use coup_core::service::membership::{self, JoinRequest};
use coup_core::service::studies::{self, NewStudy};
use coup_core::{Core, Outcome};

/// One study and the session tokens of its members (the owner first).
#[derive(Debug, Clone)]
pub struct Room {
    pub study_id: String,
    pub tokens: Vec<String>,
}

/// Creates `rooms` studies of `room_size` members in `<data_dir>/coup.db`.
pub fn seed(data_dir: &Path, rooms: usize, room_size: usize) -> Result<Vec<Room>> {
    let core = Core::open_sqlite(data_dir.join("coup.db")).context("opening the CoUp store")?;
    let hash = auth::hash_password("bench password 1")?;
    let ttl = auth::DEFAULT_SESSION_TTL;
    (0..rooms)
        .map(|r| {
            let hash = hash.clone();
            let outcome = core.write_blocking(move |tx| {
                let mut users = Vec::with_capacity(room_size);
                let mut tokens = Vec::with_capacity(room_size);
                for m in 0..room_size {
                    let signup = accounts::validate_signup(&Signup {
                        email: format!("bench-{r}-{m}@example.org"),
                        password: "bench password 1".into(),
                        name: format!("Bench {r}-{m}"),
                    })?;
                    let user = accounts::create_user(tx, &signup, &hash, PlatformRole::User)?;
                    let (token, token_hash) = accounts::new_session_token();
                    accounts::start_session(tx, user.value.id, &token_hash, ttl)?;
                    users.push(user.value.id);
                    tokens.push(token);
                }
                let study = studies::create(
                    tx,
                    Some(users[0]),
                    NewStudy {
                        name: format!("Bench study {r}"),
                        description: "A study seeded by coup-loadgen".into(),
                        category: "bench".into(),
                        tags: vec!["bench".into()],
                        max_members: room_size.max(2) as u32,
                        is_public: true,
                        join_policy: JoinPolicy::Auto,
                        is_recruiting: true,
                    },
                )?;
                let mut events = study.events;
                for user in &users[1..] {
                    let joined =
                        membership::join(tx, Some(*user), study.value.id, JoinRequest::default())?;
                    events.extend(joined.events);
                }
                Ok(Outcome::new(
                    Room {
                        study_id: study.value.id.to_string(),
                        tokens,
                    },
                    events,
                ))
            })?;
            Ok(outcome.value)
        })
        .collect()
}
