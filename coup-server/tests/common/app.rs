//! Fixtures for driving the server with `coup_core::client`: users, studies,
//! tasks and messages made over the typed API, a client configuration with
//! short backoffs, and waiting on app events or on a condition.

use std::future::Future;
use std::time::Duration;

use coup_core::ErrorCode;
use coup_core::client::{ApiClient, AppEvent, ClientConfig, EventStream};
use coup_core::error::Error;
use coup_core::ids::{StudyId, UserId};
use coup_core::model::{ChatMessage, JoinPolicy, Priority};
use coup_core::service::accounts::Signup;
use coup_core::service::chat::SendMessage;
use coup_core::service::studies::NewStudy;
use coup_core::service::tasks::NewTask;

use super::Server;

/// A client of `srv` signed up as a new user `name`.
pub async fn user(srv: &Server, name: &str) -> (ApiClient, UserId) {
    let api = ApiClient::new(&srv.base).expect("client");
    let me = api
        .signup(&Signup {
            email: format!("{name}@example.com"),
            password: "study-together-42".into(),
            name: name.into(),
        })
        .await
        .expect("signup");
    (api, me.user.id)
}

pub fn new_study(name: &str, policy: JoinPolicy) -> NewStudy {
    NewStudy {
        name: name.into(),
        description: "a study".into(),
        category: "프로그래밍".into(),
        tags: vec!["rust".into()],
        max_members: 10,
        is_public: true,
        join_policy: policy,
        is_recruiting: true,
    }
}

pub fn new_task(title: &str) -> NewTask {
    NewTask {
        title: title.into(),
        description: None,
        due_at: None,
        priority: Priority::Medium,
        study_id: None,
        client_id: None,
    }
}

#[track_caller]
pub fn assert_code<T: std::fmt::Debug>(result: Result<T, Error>, code: ErrorCode) -> Error {
    let error = result.expect_err("an error");
    assert_eq!(error.code(), code, "{error:?}");
    error
}

/// Posts a message over REST.
pub async fn chat(api: &ApiClient, study: StudyId, content: &str) -> ChatMessage {
    api.send_message(
        study,
        &SendMessage {
            content: content.into(),
            file_id: None,
            client_id: None,
        },
    )
    .await
    .expect("send")
}

/// A client of `srv` caching under `cache`, reconnecting quickly.
pub fn client_config(srv: &Server, cache: &tempfile::TempDir) -> ClientConfig {
    let mut config = ClientConfig::new(&srv.base, cache.path().join("cache.db"));
    config.live.min_backoff = Duration::from_millis(300);
    config.live.max_backoff = Duration::from_secs(1);
    config
}

/// Waits until `condition` holds (checked every 50 ms, for up to 20 s).
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !condition().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The next app event (within 20 s).
pub async fn next(events: &mut EventStream) -> AppEvent {
    tokio::time::timeout(Duration::from_secs(20), events.next())
        .await
        .expect("an event in time")
        .expect("the client runs")
}

/// Events until one `wanted` returns something for; that something.
pub async fn until<T>(
    events: &mut EventStream,
    mut wanted: impl FnMut(AppEvent) -> Option<T>,
) -> T {
    loop {
        if let Some(found) = wanted(next(events).await) {
            return found;
        }
    }
}

/// The messages received until the one with sequence `last`.
pub async fn messages_until(events: &mut EventStream, last: i64) -> Vec<ChatMessage> {
    let mut seen = Vec::new();
    while seen.last().is_none_or(|m: &ChatMessage| m.seq < last) {
        if let AppEvent::MessageReceived { message } = next(events).await {
            seen.push(message);
        }
    }
    seen
}
