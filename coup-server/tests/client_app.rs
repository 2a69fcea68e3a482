//! The app-level client (`coup_core::client::Client`) against the real server
//! binary, as an app uses it: app events (never frames), the offline cache read
//! asynchronously, the outbox, call signaling with typed signals, listeners that
//! cannot stall it, calls from threads outside any runtime, pause/resume and
//! network changes, several accounts, and logout.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::app::{
    assert_code, chat, client_config, eventually, messages_until, new_study, new_task, next, until,
    user,
};
use common::ws::Ws;
use coup_core::client::outbox::{self, OutboxAction};
use coup_core::client::{
    ApiClient, AppEvent, Cache, Client, ConnectionState, EventListener, FileSessionStore,
    OutboxState, SessionKey, SessionStore, Signal, TaskRef,
};
use coup_core::error::Error;
use coup_core::ids::UserId;
use coup_core::model::{JoinPolicy, NotificationKind, Study};
use coup_core::realtime::calls::{MediaState, Participant};
use coup_core::service::calendar::NewEvent;
use coup_core::service::chat::{ChatQuery, SendMessage};
use coup_core::service::membership::JoinRequest;
use coup_core::service::notices::NewNotice;
use coup_core::service::tasks::{TaskPatch, TaskQuery};
use coup_core::{ErrorCode, Reason};

async fn login(config: &coup_core::client::ClientConfig, name: &str) -> Client {
    Client::login(
        config.clone(),
        &format!("{name}@example.com"),
        "study-together-42",
    )
    .await
    .expect("login")
}

/// kim's auto-join study `name` with lee (and lee's id) a member: where most of
/// these tests start.
async fn kim_and_lee_in(
    srv: &common::Server,
    name: &str,
) -> (ApiClient, (ApiClient, UserId), Study) {
    let (kim, _) = user(srv, "kim").await;
    let lee = user(srv, "lee").await;
    let study = kim
        .create_study(&new_study(name, JoinPolicy::Auto))
        .await
        .expect("study");
    lee.0
        .join_study(study.id, &JoinRequest::default())
        .await
        .expect("join");
    (kim, lee, study)
}

fn is_online(event: &AppEvent) -> bool {
    matches!(
        event,
        AppEvent::Connection {
            state: ConnectionState::Online
        }
    )
}

fn is_offline(event: &AppEvent) -> bool {
    matches!(
        event,
        AppEvent::Connection {
            state: ConnectionState::Offline { .. }
        }
    )
}

/// A server whose heartbeat is 1 s (so unanswered pings would show within the
/// test) and whose replay limit is 3 (so a longer absence needs the REST feed).
fn quick_server(config_dir: &tempfile::TempDir) -> common::Server {
    let path = config_dir.path().join("coup.toml");
    std::fs::write(&path, "heartbeat_secs = 1\nreplay_limit = 3\n").expect("config");
    common::start_with(&["--config", path.to_str().expect("utf-8 path")])
}

#[tokio::test]
async fn live_events_survive_a_server_restart_with_nothing_missing_or_doubled() {
    let config_dir = tempfile::tempdir().expect("tempdir");
    let srv = quick_server(&config_dir);
    let (_, (lee, _), study) = kim_and_lee_in(&srv, "Live").await;
    let send = |n: i64| {
        let lee = lee.clone();
        async move {
            lee.send_message(
                study.id,
                &SendMessage {
                    content: format!("m{n}"),
                    file_id: None,
                    client_id: Some(format!("m{n}")),
                },
            )
            .await
            .expect("send")
        }
    };
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let mut config = client_config(&srv, &cache_dir);
    config.live.min_backoff = Duration::from_secs(3);
    config.live.max_backoff = Duration::from_secs(3);
    let client = login(&config, "kim").await;
    let mut events = client.events();
    client.follow(study.id).await.expect("follow");
    until(&mut events, |e| {
        matches!(e, AppEvent::OnlineMembers { study_id, .. } if study_id == study.id).then_some(())
    })
    .await;
    for n in 1..=5 {
        send(n).await;
    }
    let mut seen = messages_until(&mut events, 5).await;

    // The server goes away; while the client waits to reconnect, more is said than
    // the server replays (3), so the client must page the rest over REST.
    let stopped = srv.stop();
    until(&mut events, |e| is_offline(&e).then_some(())).await;
    let srv = stopped.start();
    for n in 6..=12 {
        send(n).await;
    }
    until(&mut events, |e| is_online(&e).then_some(())).await;
    seen.extend(messages_until(&mut events, 12).await);
    for n in 13..=15 {
        send(n).await;
    }
    seen.extend(messages_until(&mut events, 15).await);
    let seqs: Vec<i64> = seen.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (1..=15).collect::<Vec<_>>(),
        "every message once, in order"
    );
    assert!(seen.iter().all(|m| m.content == format!("m{}", m.seq)));
    assert_eq!(client.cursor(study.id).await.expect("cursor").seq, Some(15));

    // Heartbeats are answered: with a 1 s heartbeat, nothing drops in 3 s.
    let quiet = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            if is_offline(&next(&mut events).await) {
                return;
            }
        }
    })
    .await;
    assert!(quiet.is_err(), "the connection dropped");
    assert_eq!(client.connection_state(), ConnectionState::Online);

    // The session ends on the server: the client says so, and why, and stops.
    client.api().logout().await.expect("logout");
    let (code, reason) = until(&mut events, |e| match e {
        AppEvent::Connection {
            state: ConnectionState::SignedOut { code, reason, .. },
        } => Some((code, reason)),
        _ => None,
    })
    .await;
    assert_eq!(
        (code, reason),
        (ErrorCode::Unauthorized, Some(Reason::SessionExpired))
    );
    drop(srv);
}

#[tokio::test]
async fn a_client_started_with_the_server_down_shows_cached_data_then_catches_up() {
    let srv = common::start();
    let (kim, (lee, _), study) = kim_and_lee_in(&srv, "Offline").await;
    kim.create_notice(
        study.id,
        &NewNotice {
            title: "공지".into(),
            content: "내용".into(),
            is_pinned: true,
        },
    )
    .await
    .expect("notice");
    let start = chrono::Utc::now() + chrono::Duration::days(2);
    lee.create_event(
        study.id,
        &NewEvent {
            title: "모임".into(),
            description: None,
            start_at: start,
            end_at: start + chrono::Duration::hours(1),
            all_day: false,
            location: None,
        },
    )
    .await
    .expect("event");
    kim.create_task(&new_task("준비")).await.expect("task");
    for text in ["하나", "둘", "셋 @kim"] {
        chat(&lee, study.id, text).await;
    }

    let cache_dir = tempfile::tempdir().expect("tempdir");
    let config = client_config(&srv, &cache_dir);
    let client = login(&config, "kim").await;
    client.refresh().await.expect("refresh");
    eventually("three messages cached", || async {
        client
            .messages(study.id, 50)
            .await
            .map(|m| m.len())
            .unwrap_or(0)
            == 3
    })
    .await;
    drop(client);

    // The server is down; the app starts from the cache alone.
    let stopped = srv.stop();
    let client = Client::restore(config.clone())
        .await
        .expect("restore")
        .expect("a saved session");
    let mut events = client.events();
    assert_code(client.api().me().await, ErrorCode::Unavailable);
    assert_eq!(client.user().name, "kim");
    let studies = client.studies().await.expect("studies");
    assert_eq!(studies.iter().map(|s| s.id).collect::<Vec<_>>(), [study.id]);
    assert_eq!(client.members(study.id).await.expect("members").len(), 2);
    assert_eq!(
        client.notices(study.id).await.expect("notices")[0].title,
        "공지"
    );
    assert_eq!(
        client.calendar(study.id).await.expect("events")[0].title,
        "모임"
    );
    assert_eq!(client.tasks().await.expect("tasks")[0].title, "준비");
    assert!(
        client
            .notifications()
            .await
            .expect("notifications")
            .iter()
            .any(|n| n.kind == NotificationKind::Mention),
        "the mention is cached"
    );
    let held: Vec<String> = client
        .messages(study.id, 50)
        .await
        .expect("messages")
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(held, ["하나", "둘", "셋 @kim"]);

    // The server comes back; what was said meanwhile fills the gap.
    let srv = stopped.start();
    chat(&lee, study.id, "넷").await;
    until(&mut events, |e| match e {
        AppEvent::MessageReceived { message } if message.seq == 4 => Some(()),
        _ => None,
    })
    .await;
    let seqs: Vec<i64> = client
        .messages(study.id, 50)
        .await
        .expect("messages")
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    drop(srv);
}

#[tokio::test]
async fn deletions_made_while_the_app_was_closed_reach_its_cache() {
    let srv = common::start();
    let (kim, (lee, _), study) = kim_and_lee_in(&srv, "Changes").await;
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let config = client_config(&srv, &cache_dir);
    let client = login(&config, "kim").await;
    client.refresh().await.expect("refresh");
    let mut said = Vec::new();
    for text in ["one", "two", "three"] {
        said.push(chat(&lee, study.id, text).await);
    }
    eventually("three messages cached", || async {
        client
            .messages(study.id, 50)
            .await
            .map(|m| m.len())
            .unwrap_or(0)
            == 3
    })
    .await;
    drop(client);

    // While the app is closed: "two" is deleted, and "four" is said.
    lee.delete_message(study.id, said[1].id)
        .await
        .expect("delete");
    chat(&lee, study.id, "four").await;

    let client = Client::restore(config)
        .await
        .expect("restore")
        .expect("a saved session");
    eventually("the deletion and the new message arrive", || async {
        client
            .messages(study.id, 50)
            .await
            .is_ok_and(|held| held.len() == 4 && held[1].is_deleted)
    })
    .await;
    let held = client.messages(study.id, 50).await.expect("messages");
    let on_server = kim
        .messages(study.id, &ChatQuery::default())
        .await
        .expect("page");
    let view = |m: &coup_core::model::ChatMessage| (m.id, m.seq, m.is_deleted, m.content.clone());
    assert_eq!(
        held.iter().map(view).collect::<Vec<_>>(),
        on_server.items.iter().map(view).collect::<Vec<_>>(),
        "the cache equals the server"
    );
    assert_eq!(
        client.cursor(study.id).await.expect("cursor").change,
        Some(on_server.last_change)
    );
}

#[tokio::test]
async fn messages_written_offline_are_delivered_once_in_order_after_the_server_returns() {
    let srv = common::start();
    let (kim, (lee, _), study) = kim_and_lee_in(&srv, "Outbox").await;
    let task = kim.create_task(&new_task("열린 일")).await.expect("task");
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let client = login(&client_config(&srv, &cache_dir), "kim").await;
    let mut events = client.events();
    client.refresh().await.expect("refresh");

    let stopped = srv.stop();
    until(&mut events, |e| is_offline(&e).then_some(())).await;
    for n in 1..=5 {
        client
            .send_message(study.id, &format!("offline {n}"))
            .await
            .expect("queue");
    }
    client
        .set_task_done(task.id, true)
        .await
        .expect("queue done");
    client
        .create_task(new_task("오프라인에서 만든 일"))
        .await
        .expect("queue task");
    let outbox = client.outbox().await.expect("outbox");
    assert_eq!(outbox.len(), 7);
    assert!(outbox.iter().all(|i| i.state == OutboxState::Pending));
    let pending = until(&mut events, |e| match e {
        AppEvent::OutboxPending { item } => Some(item),
        _ => None,
    })
    .await;
    assert_eq!(
        pending.id, outbox[0].id,
        "each item is announced as pending"
    );
    assert!(
        client.tasks().await.expect("tasks")[0].is_done,
        "shown at once"
    );
    let report = client.flush().await.expect("flush");
    assert!(report.sent.is_empty());
    assert_eq!(
        report.stopped.map(|e| e.code()),
        Some(ErrorCode::Unavailable)
    );

    let srv = stopped.start();
    eventually("the outbox drains", || async {
        client.outbox().await.map(|o| o.is_empty()).unwrap_or(false)
    })
    .await;
    let page = lee
        .messages(study.id, &ChatQuery::default())
        .await
        .expect("page");
    let contents: Vec<&str> = page.items.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        contents,
        [
            "offline 1",
            "offline 2",
            "offline 3",
            "offline 4",
            "offline 5"
        ]
    );
    let tasks = kim.tasks(&TaskQuery::default()).await.expect("tasks");
    assert_eq!(tasks.total, 2, "{tasks:?}");
    assert!(tasks.items.iter().any(|t| t.id == task.id && t.is_done));
    assert!(
        tasks
            .items
            .iter()
            .any(|t| t.title == "오프라인에서 만든 일")
    );
    // A second flush has nothing to send again.
    let again = client.flush().await.expect("flush");
    assert!(again.sent.is_empty() && again.stopped.is_none());
    assert_eq!(
        lee.messages(study.id, &ChatQuery::default())
            .await
            .expect("page")
            .items
            .len(),
        5
    );
    drop(srv);
}

/// The outbox's send reaches the server (over REST) before the live stream has
/// caught up on what others said meanwhile: the client must still resume from
/// the last change it saw in order, not from its own newer message.
#[tokio::test]
async fn a_message_sent_before_the_live_stream_caught_up_hides_nothing_before_it() {
    let srv = common::start();
    let (_, (lee, _), study) = kim_and_lee_in(&srv, "Catch-up").await;
    chat(&lee, study.id, "1").await;
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let config = client_config(&srv, &cache_dir);
    let client = login(&config, "kim").await;
    client.refresh().await.expect("refresh");
    let kim_id = client.user().id;
    drop(client);

    // While kim's app is closed, lee says two things.
    chat(&lee, study.id, "2").await;
    chat(&lee, study.id, "3").await;
    // kim's outbox goes out over REST first (the socket is still reconnecting).
    let path = cache_dir.path().join("cache.db");
    let token = FileSessionStore::beside(&path)
        .load(&SessionKey {
            server: srv.base.clone(),
            account: kim_id.to_string(),
        })
        .expect("read")
        .expect("the token is in the session store");
    let api = ApiClient::new(&srv.base).expect("client");
    api.set_token(Some(token));
    let cache = Cache::open(&path, &srv.base, kim_id).expect("cache");
    outbox::enqueue(
        &cache,
        OutboxAction::SendMessage {
            study_id: study.id,
            content: "4".into(),
            file_id: None,
        },
    )
    .expect("queue");
    let report = outbox::flush(&api, &cache).await.expect("flush");
    assert_eq!(report.sent.len(), 1, "{report:?}");
    drop(cache);

    // The app starts again: 2 and 3 arrive, then 4 and 5, each once.
    let client = Client::restore(config)
        .await
        .expect("restore")
        .expect("session");
    let mut events = client.events();
    chat(&lee, study.id, "5").await;
    let seen: Vec<i64> = messages_until(&mut events, 5)
        .await
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seen, [2, 3, 4, 5]);
    let held: Vec<i64> = client
        .messages(study.id, 50)
        .await
        .expect("messages")
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(held, [1, 2, 3, 4, 5]);
    drop(srv);
}

/// The server pages lists by at most 100 rows; the cache holds all of them.
#[tokio::test]
async fn refresh_caches_lists_longer_than_a_page() {
    let srv = common::start();
    let (kim, _) = user(&srv, "kim").await;
    for n in 0..105 {
        kim.create_task(&new_task(&format!("task {n}")))
            .await
            .expect("task");
    }
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let client = login(&client_config(&srv, &cache_dir), "kim").await;
    let mut events = client.events();
    client.refresh().await.expect("refresh");
    until(&mut events, |e| {
        matches!(e, AppEvent::CacheRefreshed).then_some(())
    })
    .await;
    assert_eq!(client.tasks().await.expect("tasks").len(), 105);
    drop(srv);
}

#[tokio::test]
async fn tasks_created_offline_can_be_changed_before_the_server_has_them() {
    let srv = common::start();
    let (kim, _) = user(&srv, "kim").await;
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let client = login(&client_config(&srv, &cache_dir), "kim").await;
    // Queued together: the changes name the task by its create item's client id.
    let create = client.create_task(new_task("초안")).await.expect("create");
    let pending = TaskRef::Pending {
        client_id: create.client_id.clone(),
    };
    client
        .update_task(
            pending.clone(),
            TaskPatch {
                title: Some("완성".into()),
                ..TaskPatch::default()
            },
        )
        .await
        .expect("update");
    client.set_task_done(pending, true).await.expect("done");
    // A create the server refuses takes the changes naming it down with it.
    let refused = client.create_task(new_task("")).await.expect("create");
    client
        .delete_task(TaskRef::Pending {
            client_id: refused.client_id.clone(),
        })
        .await
        .expect("delete");
    eventually("only the refused items are left, failed", || async {
        client.outbox().await.is_ok_and(|o| {
            o.len() == 2
                && o.iter()
                    .all(|i| matches!(i.state, OutboxState::Failed { .. }))
        })
    })
    .await;
    let outbox = client.outbox().await.expect("outbox");
    let codes: Vec<ErrorCode> = outbox
        .iter()
        .filter_map(|i| match &i.state {
            OutboxState::Failed { code, .. } => Some(*code),
            OutboxState::Pending => None,
        })
        .collect();
    assert_eq!(codes, [ErrorCode::Validation, ErrorCode::NotFound]);
    let tasks = kim.tasks(&TaskQuery::default()).await.expect("tasks");
    assert_eq!(tasks.total, 1, "{tasks:?}");
    assert_eq!(tasks.items[0].title, "완성");
    assert!(tasks.items[0].is_done);
    assert_eq!(client.tasks().await.expect("cached")[0].title, "완성");
    drop(srv);
}

#[tokio::test]
async fn an_outbox_item_the_server_refuses_is_reported_kept_and_retried_only_on_request() {
    let srv = common::start();
    let (kim, (lee, lee_id), study) = kim_and_lee_in(&srv, "Kicked").await;
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let config = client_config(&srv, &cache_dir);
    let client = login(&config, "lee").await;
    client.refresh().await.expect("refresh");
    drop(client);

    // Offline, lee writes to the study and makes a task.
    let stopped = srv.stop();
    let client = Client::restore(config.clone())
        .await
        .expect("restore")
        .expect("session");
    client
        .send_message(study.id, "제가 없는 동안…")
        .await
        .expect("queue");
    client
        .create_task(new_task("복습"))
        .await
        .expect("queue task");
    drop(client);

    // Meanwhile lee is kicked.
    let srv = stopped.start();
    kim.kick_member(study.id, lee_id).await.expect("kick");

    let client = Client::restore(config)
        .await
        .expect("restore")
        .expect("session");
    let mut events = client.events();
    let failed = until(&mut events, |e| match e {
        AppEvent::OutboxFailed { item } => Some(item),
        _ => None,
    })
    .await;
    let OutboxState::Failed {
        code, server_code, ..
    } = &failed.state
    else {
        panic!("{failed:?}");
    };
    assert!(
        matches!(code, ErrorCode::NotFound | ErrorCode::Forbidden),
        "{failed:?}"
    );
    assert_eq!(server_code, code.as_str());
    // The item after it still went out.
    eventually("the task is sent", || async {
        client.outbox().await.map(|o| o.len() == 1).unwrap_or(false)
    })
    .await;
    assert_eq!(
        lee.tasks(&TaskQuery::default()).await.expect("tasks").total,
        1
    );
    // Never retried by itself: later flushes (and reconnects) leave it failed.
    client.flush().await.expect("flush");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let outbox = client.outbox().await.expect("outbox");
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].state, failed.state);
    assert_eq!(outbox[0].attempts, 1);
    // Retried on request it goes out again (and is refused again); discarded, it is gone.
    let retried = client.retry(failed.id).await.expect("retry");
    assert_eq!(retried.state, OutboxState::Pending);
    let again = until(&mut events, |e| match e {
        AppEvent::OutboxFailed { item } => Some(item),
        _ => None,
    })
    .await;
    assert_eq!(again.attempts, 1, "a retry starts the count again");
    assert_code(client.retry(12345).await, ErrorCode::NotFound);
    client.discard(failed.id).await.expect("discard");
    assert!(client.outbox().await.expect("outbox").is_empty());
    let page = kim
        .messages(study.id, &ChatQuery::default())
        .await
        .expect("page");
    assert!(page.items.is_empty(), "{page:?}");
    // The study is gone from lee's cache once the client has refreshed.
    eventually("the study leaves the cache", || async {
        client
            .studies()
            .await
            .map(|s| s.is_empty())
            .unwrap_or(false)
    })
    .await;
    drop(srv);
}

#[tokio::test]
async fn logout_wipes_that_account_and_leaves_the_others_signed_in() {
    let srv = common::start();
    let (kim, _, study) = kim_and_lee_in(&srv, "Shared").await;
    chat(&kim, study.id, "hello").await;
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let config = client_config(&srv, &cache_dir);
    let lee_client = login(&config, "lee").await;
    lee_client.refresh().await.expect("refresh");
    let lee_id = lee_client.user().id;
    drop(lee_client);
    kim.create_task(&new_task("kim's")).await.expect("task");
    let kim_client = login(&config, "kim").await;
    kim_client.refresh().await.expect("refresh");
    let kim_id = kim_client.user().id;
    let token = kim_client.api().token().expect("token");
    // Both accounts stay signed in on this server, kim used last.
    let saved: Vec<_> = Client::saved_accounts(config.clone())
        .await
        .expect("accounts")
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(saved, [kim_id, lee_id]);
    // The token is not in the cache file.
    let bytes = std::fs::read(cache_dir.path().join("cache.db")).expect("read");
    assert!(
        !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
        "the token is not written into the cache"
    );
    assert_eq!(kim_client.tasks().await.expect("tasks").len(), 1);
    assert!(
        kim_client
            .cursor(study.id)
            .await
            .expect("cursor")
            .change
            .is_some()
    );
    kim_client
        .send_message(study.id, "pending?")
        .await
        .expect("queue");

    kim_client.logout().await.expect("logout");
    assert!(matches!(
        kim_client.connection_state(),
        ConnectionState::SignedOut { .. }
    ));
    let path = cache_dir.path().join("cache.db");
    let kim_cache = Cache::open(&path, &srv.base, kim_id).expect("kim cache");
    assert!(kim_cache.studies().expect("studies").is_empty());
    assert!(
        kim_cache
            .messages(study.id, 50)
            .expect("messages")
            .is_empty()
    );
    assert!(kim_cache.outbox().expect("outbox").is_empty());
    assert!(kim_cache.tasks().expect("tasks").is_empty());
    assert!(kim_cache.members(study.id).expect("members").is_empty());
    let sessions = FileSessionStore::beside(&path);
    let key = |account: coup_core::ids::UserId| SessionKey {
        server: srv.base.clone(),
        account: account.to_string(),
    };
    assert_eq!(sessions.load(&key(kim_id)).expect("load"), None);
    assert!(sessions.load(&key(lee_id)).expect("load").is_some());
    let lee_cache = Cache::open(&path, &srv.base, lee_id).expect("lee cache");
    assert_eq!(lee_cache.studies().expect("studies").len(), 1);
    assert_eq!(lee_cache.messages(study.id, 50).expect("messages").len(), 1);
    // The server ended the session too.
    let old = ApiClient::new(&srv.base).expect("client");
    old.set_token(Some(token));
    assert_code(old.me().await, ErrorCode::Unauthorized);
    // lee is still signed in: restoring gives lee.
    let restored = Client::restore(config)
        .await
        .expect("restore")
        .expect("lee's session");
    assert_eq!(restored.user().id, lee_id);
}

#[tokio::test]
async fn call_signaling_round_trips_as_typed_events() {
    let srv = common::start();
    let (kim, kim_id) = user(&srv, "kim").await;
    let (lee, lee_id) = user(&srv, "lee").await;
    let (park, _) = user(&srv, "park").await;
    let study = kim
        .create_study(&new_study("Call", JoinPolicy::Auto))
        .await
        .expect("study");
    for api in [&lee, &park] {
        api.join_study(study.id, &JoinRequest::default())
            .await
            .expect("join");
    }
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().expect("dir")).collect();
    let mut clients = Vec::new();
    for (name, dir) in ["kim", "lee", "park"].into_iter().zip(&dirs) {
        let client = login(&client_config(&srv, dir), name).await;
        let mut events = client.events();
        client.follow(study.id).await.expect("follow");
        until(&mut events, |e| {
            matches!(e, AppEvent::OnlineMembers { .. }).then_some(())
        })
        .await;
        clients.push((client, events));
    }
    let [(kim_c, kim_events), (lee_c, lee_events), (park_c, _)] = &mut clients[..] else {
        panic!("three clients");
    };
    /// The next call event, skipping everything else.
    async fn call_event(events: &mut coup_core::client::EventStream) -> AppEvent {
        until(events, |e| match e {
            AppEvent::CallParticipantJoined { .. }
            | AppEvent::CallParticipantLeft { .. }
            | AppEvent::CallMedia { .. }
            | AppEvent::CallSignal { .. } => Some(e),
            _ => None,
        })
        .await
    }
    let media = MediaState {
        mic: true,
        camera: false,
        screen: false,
    };
    let mut kim_own = kim_c.events();
    let joined = kim_c.join_call(study.id, media).await.expect("kim joins");
    assert_eq!(joined.participants.len(), 1);
    // The joiner's app is told the call as joined, as the answer gave it.
    let told = until(&mut kim_own, |e| match e {
        AppEvent::CallJoined {
            study_id,
            participants,
        } if study_id == study.id => Some(participants),
        _ => None,
    })
    .await;
    assert_eq!(told, joined.participants);
    let joined_as = |event: AppEvent| match event {
        AppEvent::CallParticipantJoined {
            study_id,
            participant,
        } if study_id == study.id => participant,
        other => panic!("{other:?}"),
    };
    // The whole study hears who joins, the joiner too.
    assert_eq!(
        joined_as(call_event(kim_events).await),
        Participant {
            user_id: kim_id,
            media
        }
    );
    let joined = lee_c.join_call(study.id, media).await.expect("lee joins");
    assert_eq!(
        joined
            .participants
            .iter()
            .map(|p| p.user_id)
            .collect::<Vec<_>>(),
        [kim_id, lee_id]
    );
    assert_eq!(joined_as(call_event(kim_events).await).user_id, lee_id);
    assert_eq!(joined_as(call_event(lee_events).await).user_id, kim_id);
    assert_eq!(joined_as(call_event(lee_events).await).user_id, lee_id);
    let offer = Signal::Offer { sdp: "v=0".into() };
    lee_c
        .send_signal(study.id, kim_id, offer.clone())
        .await
        .expect("offer");
    match call_event(kim_events).await {
        AppEvent::CallSignal { from, signal, .. } => {
            assert_eq!((from, signal), (lee_id, offer));
        }
        other => panic!("{other:?}"),
    }
    let answer = Signal::Answer { sdp: "v=0".into() };
    kim_c
        .send_signal(study.id, lee_id, answer.clone())
        .await
        .expect("answer");
    let candidate = Signal::IceCandidate {
        candidate: "candidate:1 1 UDP 1 127.0.0.1 5000 typ host".into(),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
    };
    kim_c
        .send_signal(study.id, lee_id, candidate.clone())
        .await
        .expect("ice");
    for expected in [answer, candidate] {
        match call_event(lee_events).await {
            AppEvent::CallSignal { from, signal, .. } => {
                assert_eq!((from, signal), (kim_id, expected));
            }
            other => panic!("{other:?}"),
        }
    }
    let muted = MediaState {
        mic: false,
        camera: false,
        screen: true,
    };
    lee_c.set_media(study.id, muted).await.expect("media");
    assert!(matches!(
        call_event(kim_events).await,
        AppEvent::CallMedia { user_id, media, .. } if user_id == lee_id && media == muted
    ));
    // Someone outside the call cannot signal into it: the server's code and reason come back.
    let refused = park_c
        .send_signal(study.id, kim_id, Signal::Offer { sdp: "x".into() })
        .await
        .expect_err("not in the call");
    assert!(
        matches!(refused, Error::Remote { status: 0, .. }),
        "{refused:?}"
    );
    assert_eq!(refused.reason(), Some(coup_core::Reason::NotInCall));
    lee_c.leave_call(study.id).await.expect("leave");
    assert!(matches!(
        call_event(kim_events).await,
        AppEvent::CallParticipantLeft { user_id, .. } if user_id == lee_id
    ));
}

/// A call's seat belongs to the live connection that joined: the client
/// numbers its connections as the server welcomes them and says which one an
/// answer came on, so the media engine rejoins only when a newer connection
/// is up — never on the late connection events of the one that seated it.
#[tokio::test]
async fn a_call_seat_is_held_by_a_numbered_connection() {
    let srv = common::start();
    let (kim, _) = user(&srv, "kim").await;
    let study = kim
        .create_study(&new_study("Seat", JoinPolicy::Auto))
        .await
        .expect("study");
    let dir = tempfile::tempdir().expect("dir");
    let client = login(&client_config(&srv, &dir), "kim").await;
    let mut events = client.events();
    client.follow(study.id).await.expect("follow");
    until(&mut events, |e| {
        matches!(e, AppEvent::OnlineMembers { .. }).then_some(())
    })
    .await;
    assert_eq!(client.live_connection(), 1, "the first connection welcomed");
    let media = MediaState {
        mic: true,
        camera: false,
        screen: false,
    };
    let (joined, seat) = client
        .join_call_on_connection(study.id, media)
        .await
        .expect("join");
    assert_eq!(seat, 1);
    assert_eq!(joined.participants.len(), 1);
    // The same connection: a second join is refused, the seat is taken.
    let again = client
        .join_call_on_connection(study.id, media)
        .await
        .expect_err("already seated");
    assert_eq!(again.reason(), Some(Reason::AlreadyInCall));
    // A new connection: the server ended the seat with the old one.
    client.network_changed();
    until(&mut events, |e| match e {
        AppEvent::Connection {
            state: ConnectionState::Online,
        } => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(client.live_connection(), 2, "one connection more");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let (rejoined, seat) = loop {
        match client.join_call_on_connection(study.id, media).await {
            Ok(answer) => break answer,
            // The server may not have ended the old connection's seat yet.
            Err(e)
                if e.reason() == Some(Reason::AlreadyInCall)
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("joining again: {e}"),
        }
    };
    assert_eq!(
        seat, 2,
        "the answer names the connection that holds the seat"
    );
    assert_eq!(rejoined.participants.len(), 1);
}

/// A listener that sits 10 s in its first callback, and notes what it gets.
struct Sluggish {
    seen: std::sync::Mutex<Vec<String>>,
}

impl Sluggish {
    fn seen(&self) -> Vec<String> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl EventListener for Sluggish {
    fn on_event(&self, event: AppEvent) {
        let kind = serde_json::to_value(&event).expect("json")["type"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let first = {
            let mut seen = self.seen.lock().expect("lock");
            seen.push(kind);
            seen.len() == 1
        };
        if first {
            std::thread::sleep(Duration::from_secs(10));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_blocks_for_10_s_stalls_nothing_and_stops_when_cancelled() {
    let srv = common::start();
    let (_, (lee, _), study) = kim_and_lee_in(&srv, "Slow").await;
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let mut config = client_config(&srv, &cache_dir);
    config.event_buffer = 64;
    let client = login(&config, "kim").await;
    let mut events = client.events();
    client.follow(study.id).await.expect("follow");
    until(&mut events, |e| {
        matches!(e, AppEvent::OnlineMembers { .. }).then_some(())
    })
    .await;
    let slow = Arc::new(Sluggish {
        seen: std::sync::Mutex::new(Vec::new()),
    });
    let handle = client.subscribe(slow.clone());
    // A reader that keeps up, beside it.
    let reader = tokio::spawn(async move { messages_until(&mut events, 101).await.len() });
    // While the listener sits in its first callback: the outbox drains, others'
    // messages keep coming (more than the buffer), and the socket stays up.
    let started = tokio::time::Instant::now();
    client.send_message(study.id, "mine").await.expect("queue");
    for n in 0..100 {
        chat(&lee, study.id, &format!("theirs {n}")).await;
    }
    eventually("the outbox drains", || async {
        client.outbox().await.is_ok_and(|o| o.is_empty())
    })
    .await;
    assert_eq!(
        reader.await.expect("reader"),
        101,
        "the keeping-up reader got everything"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "nothing waited for the listener: {:?}",
        started.elapsed()
    );
    assert_eq!(client.connection_state(), ConnectionState::Online);
    assert_eq!(slow.seen().len(), 1, "still in its first event");
    // When it wakes it learns what it missed, rather than blocking anyone.
    eventually("the listener is told it lagged", || async {
        slow.seen().iter().any(|kind| kind == "lagged")
    })
    .await;
    // Cancelled, it gets nothing more (a callback already past the check when
    // `cancel` ran may still finish: the contract's "at most the one running").
    handle.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let calls = slow.seen().len();
    chat(&lee, study.id, "after the cancel").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(slow.seen().len(), calls, "no callback after cancel");
}

#[test]
fn calls_from_a_thread_outside_any_runtime_work() {
    // The server and its users are made on a runtime of the test's own …
    let setup = tokio::runtime::Runtime::new().expect("runtime");
    let (srv, study) = setup.block_on(async {
        let srv = common::start();
        let (kim, _) = user(&srv, "kim").await;
        let study = kim
            .create_study(&new_study("Threads", JoinPolicy::Auto))
            .await
            .expect("study");
        (srv, study)
    });
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let config = client_config(&srv, &cache_dir);
    // … and the client is used from a plain thread, polled by a non-tokio executor.
    let outcome = std::thread::spawn(move || {
        futures_executor::block_on(async {
            let client = login(&config, "kim").await;
            let mut events = client.events();
            client.refresh().await.expect("refresh");
            client.follow(study.id).await.expect("follow");
            let studies = client.studies().await.expect("studies");
            client
                .send_message(study.id, "from a thread")
                .await
                .expect("queue");
            loop {
                if let Some(AppEvent::MessageReceived { message }) = events.next().await {
                    break (studies.len(), message.content);
                }
            }
        })
    })
    .join()
    .expect("no panic outside a runtime");
    assert_eq!(outcome, (1, "from a thread".to_owned()));
    drop(srv);
}

/// The next presence change a raw watcher sees about `user`.
async fn presence_of(watcher: &mut Ws, user: &str) -> Option<bool> {
    loop {
        let presence = watcher.recv_type("presence").await;
        if presence["userId"] == user {
            return presence["online"].as_bool();
        }
    }
}

#[tokio::test]
async fn pause_closes_the_connection_and_resume_and_network_changes_reconnect_at_once() {
    let srv = common::start();
    let (kim, _) = user(&srv, "kim").await;
    let (lee, lee_id) = user(&srv, "lee").await;
    let lee_id = lee_id.to_string();
    let study = kim
        .create_study(&new_study("Phone", JoinPolicy::Auto))
        .await
        .expect("study");
    lee.join_study(study.id, &JoinRequest::default())
        .await
        .expect("join");
    let mut watcher = Ws::connect(&srv, &kim.token().expect("token")).await;
    watcher.subscribe(&study.id.to_string(), None).await;
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let mut config = client_config(&srv, &cache_dir);
    // Long backoffs: only `resume` and `network_changed` can make it quick.
    config.live.min_backoff = Duration::from_secs(60);
    config.live.max_backoff = Duration::from_secs(60);
    let client = login(&config, "lee").await;
    let mut events = client.events();
    client.follow(study.id).await.expect("follow");
    until(&mut events, |e| is_online(&e).then_some(())).await;
    assert_eq!(presence_of(&mut watcher, &lee_id).await, Some(true));

    // To the background: the connection closes (lee goes offline at once) and
    // nothing goes out.
    client.pause();
    until(&mut events, |e| is_offline(&e).then_some(())).await;
    assert_eq!(
        presence_of(&mut watcher, &lee_id).await,
        Some(false),
        "offline at once"
    );
    client
        .send_message(study.id, "written in the background")
        .await
        .expect("queue");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        client.outbox().await.expect("outbox").len(),
        1,
        "held while paused"
    );
    // Back: online at once, and the message goes out.
    client.resume();
    until(&mut events, |e| is_online(&e).then_some(())).await;
    eventually("the message goes out", || async {
        client.outbox().await.is_ok_and(|o| o.is_empty())
    })
    .await;

    // The server restarts while the client waits out a 60 s backoff; a network
    // change makes it try again now.
    let stopped = srv.stop();
    until(&mut events, |e| is_offline(&e).then_some(())).await;
    let srv = stopped.start();
    let started = tokio::time::Instant::now();
    client.network_changed();
    until(&mut events, |e| is_online(&e).then_some(())).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    drop(srv);
}
