//! The `coup_core::client` against the real server binary: every REST method round
//! trips, errors keep the server's code, and malformed answers are reported.

mod common;

use std::time::Duration;

use chrono::Utc;
use coup_core::ErrorCode;
use coup_core::client::calls::{CallEvent, Calls};
use coup_core::client::live::{Live, LiveConfig, LiveEvent};
use coup_core::client::outbox::{self, OutboxAction, OutboxState};
use coup_core::client::{ApiClient, Cache, Client, ClientConfig, ClientEvent, TaskRef};
use coup_core::error::Error;
use coup_core::ids::{StudyId, UserId};
use coup_core::model::{
    ChatMessage, JoinPolicy, MemberStatus, PageRequest, Priority, ReportAction, ReportStatus,
    ReportTarget, StudyRole, UserStatus,
};
use coup_core::realtime::calls::{MediaState, Participant};
use coup_core::realtime::protocol::{ServerFrame, SignalKind};
use coup_core::service::accounts::{Login, PasswordChange, ProfilePatch, Signup};
use coup_core::service::admin::{
    AdminStudyQuery, DeleteReason, ProcessReport, ReportQuery, Suspension, UserQuery,
};
use coup_core::service::calendar::{EventPatch, NewEvent, Range};
use coup_core::service::chat::{ChatQuery, SendMessage};
use coup_core::service::membership::{JoinRequest, RoleChange};
use coup_core::service::notices::{NewNotice, NoticePatch, Pin};
use coup_core::service::notifications::NotificationQuery;
use coup_core::service::reports::NewReport;
use coup_core::service::studies::{MyStudiesQuery, NewStudy, StudyPatch, StudyQuery};
use coup_core::service::tasks::{NewTask, TaskPatch, TaskQuery};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// A client of `srv` signed up as a new user `name`.
async fn user(srv: &common::Server, name: &str) -> (ApiClient, UserId) {
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

fn new_study(name: &str, policy: JoinPolicy) -> NewStudy {
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

#[track_caller]
fn assert_code<T: std::fmt::Debug>(result: Result<T, Error>, code: ErrorCode) -> Error {
    let error = result.expect_err("an error");
    assert_eq!(error.code(), code, "{error:?}");
    error
}

#[tokio::test]
async fn accounts_tasks_notifications_and_reports_round_trip() {
    let srv = common::start();
    let (api, me) = user(&srv, "kim").await;
    assert!(api.token().is_some());
    api.ready().await.expect("ready");

    // Wrong password: the server's code and status come through.
    let anonymous = ApiClient::new(&srv.base).expect("client");
    let error = assert_code(
        anonymous
            .login(&Login {
                email: "kim@example.com".into(),
                password: "wrong-password".into(),
            })
            .await,
        ErrorCode::Unauthorized,
    );
    assert!(
        matches!(&error, Error::Remote { status: 401, server_code, .. } if server_code == "UNAUTHORIZED"),
        "{error:?}"
    );
    assert_code(
        anonymous
            .signup(&Signup {
                email: "kim@example.com".into(),
                password: "study-together-42".into(),
                name: "again".into(),
            })
            .await,
        ErrorCode::Conflict,
    );
    let invalid = ApiClient::new(&srv.base).expect("client");
    invalid.set_token(Some("not-a-real-token".into()));
    assert_code(invalid.me().await, ErrorCode::Unauthorized);

    let second = ApiClient::new(&srv.base).expect("client");
    let login = second
        .login(&Login {
            email: "KIM@example.com".into(),
            password: "study-together-42".into(),
        })
        .await
        .expect("login");
    assert_eq!(login.user.id, me);
    assert_eq!(api.me().await.expect("me").id, me);
    let updated = api
        .update_me(&ProfilePatch {
            bio: Some("Rust 공부 중".into()),
            ..Default::default()
        })
        .await
        .expect("update me");
    assert_eq!(updated.bio.as_deref(), Some("Rust 공부 중"));
    let error = assert_code(
        api.update_me(&ProfilePatch {
            name: Some(String::new()),
            ..Default::default()
        })
        .await,
        ErrorCode::Validation,
    );
    assert_eq!(error.field(), Some("name"));

    // Changing the password ends the other session.
    api.change_password(&PasswordChange {
        current_password: "study-together-42".into(),
        new_password: "quiet-river-58".into(),
    })
    .await
    .expect("change password");
    assert_code(second.me().await, ErrorCode::Unauthorized);

    let dashboard = api.dashboard().await.expect("dashboard");
    assert_eq!(dashboard.stats.study_count, 0);
    let study = api
        .create_study(&new_study("Rust 입문", JoinPolicy::Auto))
        .await
        .expect("study");
    let mine = api
        .my_studies(&MyStudiesQuery::default())
        .await
        .expect("my studies");
    assert_eq!(mine.items[0].id, study.id);
    assert_eq!(mine.items[0].my_role, Some(StudyRole::Owner));

    // Tasks, with a client id that makes creation idempotent.
    let input = NewTask {
        title: "3장 읽기".into(),
        description: None,
        due_at: Some(Utc::now() + chrono::Duration::days(1)),
        priority: Priority::High,
        study_id: Some(study.id),
        client_id: Some("task-1".into()),
    };
    let task = api.create_task(&input).await.expect("create task");
    assert_eq!(api.create_task(&input).await.expect("again").id, task.id);
    assert_eq!(api.task(task.id).await.expect("task"), task);
    let patched = api
        .update_task(
            task.id,
            &TaskPatch {
                title: Some("3장과 4장 읽기".into()),
                ..Default::default()
            },
        )
        .await
        .expect("update task");
    assert_eq!(patched.title, "3장과 4장 읽기");
    assert!(api.toggle_task(task.id).await.expect("toggle").is_done);
    let open = api
        .tasks(&TaskQuery {
            is_done: Some(false),
            ..Default::default()
        })
        .await
        .expect("tasks");
    assert_eq!(open.total, 0);
    assert_eq!(
        api.tasks(&TaskQuery::default()).await.expect("all").total,
        1
    );
    api.delete_task(task.id).await.expect("delete task");
    assert_code(api.task(task.id).await, ErrorCode::NotFound);

    // Notifications: a join request notifies the owner of an approval study.
    let approval = api
        .create_study(&new_study("Approval", JoinPolicy::Approval))
        .await
        .expect("study");
    let (lee, _) = user(&srv, "lee").await;
    lee.join_study(approval.id, &JoinRequest::default())
        .await
        .expect("join");
    let page = api
        .notifications(&NotificationQuery {
            unread_only: true,
            ..Default::default()
        })
        .await
        .expect("notifications");
    assert_eq!(page.unread_count, 1);
    let read = api
        .mark_notification_read(page.items[0].id)
        .await
        .expect("mark read");
    assert!(read.is_read);
    lee.leave_study(approval.id).await.expect("withdraw");
    lee.join_study(approval.id, &JoinRequest::default())
        .await
        .expect("join again");
    assert_eq!(
        api.mark_all_notifications_read()
            .await
            .expect("mark all")
            .marked,
        1
    );

    let report = lee
        .create_report(&NewReport {
            target_type: ReportTarget::Study,
            target_id: approval.id.to_string(),
            reason: "spam".into(),
        })
        .await
        .expect("report");
    assert_eq!(report.status, ReportStatus::Pending);

    api.logout().await.expect("logout");
    assert!(api.token().is_none());
    assert_code(api.me().await, ErrorCode::Unauthorized);
}

#[tokio::test]
async fn studies_membership_and_content_round_trip() {
    let srv = common::start();
    let (owner, owner_id) = user(&srv, "owner").await;
    let (lee, lee_id) = user(&srv, "lee").await;
    let (park, park_id) = user(&srv, "park").await;
    let study = owner
        .create_study(&new_study("Rust 입문", JoinPolicy::Approval))
        .await
        .expect("create");
    let anonymous = ApiClient::new(&srv.base).expect("client");
    let found = anonymous
        .studies(&StudyQuery {
            keyword: Some("rust".into()),
            ..Default::default()
        })
        .await
        .expect("search");
    assert_eq!(found.items.len(), 1);
    assert_eq!(anonymous.study(study.id).await.expect("get").id, study.id);
    assert_code(anonymous.study(StudyId::new()).await, ErrorCode::NotFound);
    let updated = owner
        .update_study(
            study.id,
            &StudyPatch {
                max_members: Some(20),
                ..Default::default()
            },
        )
        .await
        .expect("update");
    assert_eq!(updated.max_members, 20);
    let code = owner.invite_code(study.id).await.expect("code");
    let fresh = owner
        .regenerate_invite_code(study.id)
        .await
        .expect("regenerate");
    assert_ne!(code.invite_code, fresh.invite_code);
    assert_code(lee.invite_code(study.id).await, ErrorCode::Forbidden);

    // Membership: request, approve, role, reject, kick, leave.
    let pending = lee
        .join_study(
            study.id,
            &JoinRequest {
                message: Some("열심히 할게요".into()),
                invite_code: None,
            },
        )
        .await
        .expect("join");
    assert_eq!(pending.status, MemberStatus::Pending);
    let requests = owner
        .join_requests(study.id, PageRequest::default())
        .await
        .expect("requests");
    assert_eq!(requests.items[0].user_id, lee_id);
    let member = owner
        .approve_member(study.id, lee_id)
        .await
        .expect("approve");
    assert_eq!(member.status, MemberStatus::Active);
    let admin = owner
        .change_role(
            study.id,
            lee_id,
            &RoleChange {
                role: StudyRole::Admin,
            },
        )
        .await
        .expect("role");
    assert_eq!(admin.role, StudyRole::Admin);
    park.join_study(study.id, &JoinRequest::default())
        .await
        .expect("park asks");
    lee.reject_member(study.id, park_id).await.expect("reject");
    let via_code = park
        .join_study(
            study.id,
            &JoinRequest {
                message: None,
                invite_code: Some(fresh.invite_code.clone()),
            },
        )
        .await
        .expect("join with the code");
    assert_eq!(via_code.status, MemberStatus::Active);
    let members = lee
        .members(study.id, PageRequest::new(1, 10))
        .await
        .expect("members");
    assert_eq!(members.total, 3);
    lee.kick_member(study.id, park_id).await.expect("kick");
    assert_code(
        park.members(study.id, PageRequest::default()).await,
        ErrorCode::Forbidden,
    );

    // Notices.
    let notice = owner
        .create_notice(
            study.id,
            &NewNotice {
                title: "첫 모임".into(),
                content: "토요일 2시".into(),
                is_pinned: false,
            },
        )
        .await
        .expect("notice");
    assert_eq!(
        lee.notice(study.id, notice.id)
            .await
            .expect("read")
            .view_count,
        1
    );
    let edited = owner
        .update_notice(
            study.id,
            notice.id,
            &NoticePatch {
                content: Some("토요일 3시".into()),
                ..Default::default()
            },
        )
        .await
        .expect("edit");
    assert_eq!(edited.content, "토요일 3시");
    let pinned = owner
        .pin_notice(study.id, notice.id, &Pin::default())
        .await
        .expect("pin");
    assert!(pinned.is_pinned);
    assert_eq!(
        lee.notices(study.id, PageRequest::default())
            .await
            .expect("notices")
            .total,
        1
    );
    owner
        .delete_notice(study.id, notice.id)
        .await
        .expect("delete notice");

    // Calendar.
    let start = Utc::now() + chrono::Duration::days(1);
    let event = lee
        .create_event(
            study.id,
            &NewEvent {
                title: "스터디".into(),
                description: None,
                start_at: start,
                end_at: start + chrono::Duration::hours(2),
                all_day: false,
                location: Some("강남".into()),
            },
        )
        .await
        .expect("event");
    let moved = lee
        .update_event(
            study.id,
            event.id,
            &EventPatch {
                location: Some("온라인".into()),
                ..Default::default()
            },
        )
        .await
        .expect("move");
    assert_eq!(moved.location.as_deref(), Some("온라인"));
    let range = Range {
        from: Utc::now(),
        to: Utc::now() + chrono::Duration::days(7),
    };
    assert_eq!(
        owner.events(study.id, &range).await.expect("events").len(),
        1
    );
    owner
        .delete_event(study.id, event.id)
        .await
        .expect("delete event");

    // Chat.
    let first = lee
        .send_message(
            study.id,
            &SendMessage {
                content: "안녕하세요".into(),
                file_id: None,
                client_id: Some("m-1".into()),
            },
        )
        .await
        .expect("send");
    assert_eq!(first.seq, 1);
    let again = lee
        .send_message(
            study.id,
            &SendMessage {
                content: "안녕하세요".into(),
                file_id: None,
                client_id: Some("m-1".into()),
            },
        )
        .await
        .expect("resend");
    assert_eq!(again.id, first.id, "a resend is the same message");
    let page = owner
        .messages(study.id, &ChatQuery::default())
        .await
        .expect("page");
    assert_eq!(page.items.len(), 1);
    assert_eq!(
        owner
            .message(study.id, first.id)
            .await
            .expect("message")
            .content,
        "안녕하세요"
    );
    assert_eq!(
        owner
            .mark_message_read(study.id, first.id)
            .await
            .expect("read")
            .last_read_seq,
        1
    );
    owner
        .delete_message(study.id, first.id)
        .await
        .expect("delete message");
    assert_code(owner.message(study.id, first.id).await, ErrorCode::NotFound);
    let page = owner
        .messages(study.id, &ChatQuery::default())
        .await
        .expect("page");
    assert!(page.items[0].is_deleted, "the tombstone keeps its place");

    // Files: bytes, a streamed path, download by stream and into memory.
    let uploaded = lee
        .upload_file(study.id, "자료.txt", "text/plain", b"hello".to_vec())
        .await
        .expect("upload");
    assert_eq!(uploaded.size, 5);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notes.md");
    std::fs::write(&path, "# notes\n".repeat(1000)).expect("write");
    let streamed = lee
        .upload_file_from_path(study.id, &path, "text/markdown")
        .await
        .expect("upload from path");
    assert_eq!(streamed.size, 8000);
    let (info, bytes) = owner
        .download_file(study.id, uploaded.id)
        .await
        .expect("download");
    assert_eq!(bytes, b"hello");
    assert_eq!(info.file_name.as_deref(), Some("자료.txt"));
    assert!(info.content_type.starts_with("text/plain"));
    let mut out = Vec::new();
    let info = owner
        .download_file_to(study.id, streamed.id, &mut out)
        .await
        .expect("download to");
    assert_eq!((info.size, out.len()), (8000, 8000));
    let files = owner
        .files(study.id, PageRequest::default())
        .await
        .expect("files");
    assert_eq!(files.total, 2);
    assert_eq!(files.items[0].download_count, 1);
    owner
        .delete_file(study.id, uploaded.id)
        .await
        .expect("delete file");

    // Leaving, and the OWNER's delete.
    lee.leave_study(study.id).await.expect("leave");
    assert_code(owner.leave_study(study.id).await, ErrorCode::Conflict);
    owner.delete_study(study.id).await.expect("delete");
    assert_code(owner.study(study.id).await, ErrorCode::NotFound);
    assert_eq!(owner_id, study.owner_id);
}

#[tokio::test]
async fn administration_round_trips() {
    let srv = common::start();
    let (token, _) = srv.admin("root", true).await;
    let admin = ApiClient::new(&srv.base).expect("client");
    admin.set_token(Some(token));
    let (kim, kim_id) = user(&srv, "kim").await;
    let (lee, _) = user(&srv, "lee").await;
    let study = kim
        .create_study(&new_study("Reported", JoinPolicy::Auto))
        .await
        .expect("study");
    assert_code(kim.admin_stats().await, ErrorCode::Forbidden);
    assert!(admin.admin_stats().await.expect("stats").user_count >= 3);
    let users = admin
        .admin_users(&UserQuery {
            keyword: Some("kim".into()),
            ..Default::default()
        })
        .await
        .expect("users");
    assert_eq!(users.items[0].id, kim_id);
    assert_eq!(
        admin.admin_user(kim_id).await.expect("user").user.id,
        kim_id
    );
    let suspended = admin
        .suspend_user(
            kim_id,
            &Suspension {
                reason: "spam".into(),
                until: None,
            },
        )
        .await
        .expect("suspend");
    assert_eq!(suspended.status, UserStatus::Suspended);
    assert_code(kim.me().await, ErrorCode::Unauthorized);
    let restored = admin.restore_user(kim_id).await.expect("restore");
    assert_eq!(restored.status, UserStatus::Active);
    let studies = admin
        .admin_studies(&AdminStudyQuery::default())
        .await
        .expect("studies");
    assert_eq!(studies.total, 1);
    assert_eq!(
        admin.admin_study(study.id).await.expect("study").study.id,
        study.id
    );
    let report = lee
        .create_report(&NewReport {
            target_type: ReportTarget::Study,
            target_id: study.id.to_string(),
            reason: "광고".into(),
        })
        .await
        .expect("report");
    let reports = admin
        .admin_reports(&ReportQuery {
            status: Some(ReportStatus::Pending),
            ..Default::default()
        })
        .await
        .expect("reports");
    assert_eq!(reports.items[0].id, report.id);
    assert_eq!(
        admin.admin_report(report.id).await.expect("report").id,
        report.id
    );
    let processed = admin
        .process_report(
            report.id,
            &ProcessReport {
                action: ReportAction::Dismiss,
                note: Some("광고 아님".into()),
            },
        )
        .await
        .expect("process");
    assert_eq!(processed.status, ReportStatus::Processed);
    admin
        .admin_delete_study(
            study.id,
            &DeleteReason {
                reason: Some("정리".into()),
            },
        )
        .await
        .expect("admin delete");
    let audit = admin
        .audit_log(PageRequest::default())
        .await
        .expect("audit");
    assert!(audit.total >= 3, "{audit:?}");
}

/// A one-request HTTP server that answers every connection with `response`.
async fn answering(response: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn unreachable_and_malformed_servers_are_reported_with_their_own_codes() {
    // Nothing listens on a port that was just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let api = ApiClient::new(&format!("http://127.0.0.1:{port}")).expect("client");
    let error = assert_code(api.me().await, ErrorCode::Unavailable);
    assert!(matches!(error, Error::Transport(_)), "{error:?}");

    let garbage = answering(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot json!",
    )
    .await;
    let api = ApiClient::new(&garbage).expect("client");
    assert_code(api.me().await, ErrorCode::BadResponse);

    let wrong_shape = answering(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{\"id\":\"x\"} ",
    )
    .await;
    let api = ApiClient::new(&wrong_shape).expect("client");
    assert_code(api.dashboard().await, ErrorCode::BadResponse);

    let html_error = answering(
        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\nContent-Length: 6\r\nConnection: close\r\n\r\n<html>",
    )
    .await;
    let api = ApiClient::new(&html_error).expect("client");
    assert_code(api.me().await, ErrorCode::BadResponse);

    let gateway = answering(
        "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: 6\r\nConnection: close\r\n\r\n<html>",
    )
    .await;
    let api = ApiClient::new(&gateway).expect("client");
    assert_code(api.me().await, ErrorCode::Unavailable);

    assert_code(ApiClient::new("ftp://example.org"), ErrorCode::Validation);
}

async fn next_event(events: &mut mpsc::Receiver<LiveEvent>) -> LiveEvent {
    tokio::time::timeout(Duration::from_secs(20), events.recv())
        .await
        .expect("an event in time")
        .expect("the connection runs")
}

/// Chat messages from the live stream until `last` arrives; other frames skipped.
async fn messages_until(events: &mut mpsc::Receiver<LiveEvent>, last: i64) -> Vec<ChatMessage> {
    let mut seen = Vec::new();
    while seen.last().is_none_or(|m: &ChatMessage| m.seq < last) {
        if let LiveEvent::Frame(frame) = next_event(events).await
            && let ServerFrame::Message { message } = *frame
        {
            seen.push(message);
        }
    }
    seen
}

async fn wait_for(events: &mut mpsc::Receiver<LiveEvent>, what: fn(&LiveEvent) -> bool) {
    while !what(&next_event(events).await) {}
}

/// A server whose heartbeat is 1 s (so unanswered pings would show within the
/// test) and whose replay limit is 3 (so a longer absence needs a resync).
fn quick_server(config_dir: &tempfile::TempDir) -> common::Server {
    let path = config_dir.path().join("coup.toml");
    std::fs::write(&path, "heartbeat_secs = 1\nreplay_limit = 3\n").expect("config");
    common::start_with(&["--config", path.to_str().expect("utf-8 path")])
}

#[tokio::test]
async fn live_events_survive_a_server_restart_with_nothing_missing_or_doubled() {
    let config_dir = tempfile::tempdir().expect("tempdir");
    let srv = quick_server(&config_dir);
    let (kim, _) = user(&srv, "kim").await;
    let (lee, _) = user(&srv, "lee").await;
    let study = kim
        .create_study(&new_study("Live", JoinPolicy::Auto))
        .await
        .expect("study");
    lee.join_study(study.id, &JoinRequest::default())
        .await
        .expect("join");
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
    let config = LiveConfig {
        min_backoff: Duration::from_secs(3),
        max_backoff: Duration::from_secs(3),
        ..LiveConfig::default()
    };
    let (live, mut events) = Live::start(kim.clone(), config);
    live.subscribe(study.id, None);
    wait_for(
        &mut events,
        |e| matches!(e, LiveEvent::Frame(f) if matches!(**f, ServerFrame::Subscribed { .. })),
    )
    .await;
    for n in 1..=5 {
        send(n).await;
    }
    let mut seen = messages_until(&mut events, 5).await;

    // The server goes away; while the client waits to reconnect, more is said than
    // the server replays (3), so the client must page the rest over REST.
    let stopped = srv.stop();
    wait_for(&mut events, |e| matches!(e, LiveEvent::Disconnected { .. })).await;
    let srv = stopped.start();
    for n in 6..=12 {
        send(n).await;
    }
    wait_for(&mut events, |e| matches!(e, LiveEvent::Connected { .. })).await;
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
    assert_eq!(live.last_seq(study.id), Some(15));

    // Heartbeats are answered: with a 1 s heartbeat, nothing drops in 3 s.
    let quiet = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            if let LiveEvent::Disconnected { reason, .. } = next_event(&mut events).await {
                return reason;
            }
        }
    })
    .await;
    assert!(quiet.is_err(), "the connection dropped: {quiet:?}");

    // Logging out ends the session: the connection stops for good.
    kim.logout().await.expect("logout");
    wait_for(&mut events, |e| {
        matches!(
            e,
            LiveEvent::Stopped {
                code: ErrorCode::Unauthorized,
                ..
            }
        )
    })
    .await;
    drop(srv);
}

/// Waits until `condition` holds (checked every 50 ms, for up to 20 s).
async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn client_config(srv: &common::Server, cache: &tempfile::TempDir) -> ClientConfig {
    let mut config = ClientConfig::new(&srv.base, cache.path().join("cache.db"));
    config.live.min_backoff = Duration::from_millis(300);
    config.live.max_backoff = Duration::from_secs(1);
    config
}

async fn chat(api: &ApiClient, study: StudyId, content: &str) -> ChatMessage {
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

fn new_task(title: &str) -> NewTask {
    NewTask {
        title: title.into(),
        description: None,
        due_at: None,
        priority: Priority::Medium,
        study_id: None,
        client_id: None,
    }
}

#[tokio::test]
async fn a_client_started_with_the_server_down_shows_cached_data_then_catches_up() {
    let srv = common::start();
    let (kim, _) = user(&srv, "kim").await;
    let (lee, _) = user(&srv, "lee").await;
    let study = kim
        .create_study(&new_study("Offline", JoinPolicy::Auto))
        .await
        .expect("study");
    lee.join_study(study.id, &JoinRequest::default())
        .await
        .expect("join");
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
    let start = Utc::now() + chrono::Duration::days(2);
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
    let (client, _events) = Client::login(config.clone(), "kim@example.com", "study-together-42")
        .await
        .expect("login");
    client.refresh().await.expect("refresh");
    eventually("three messages cached", || {
        client
            .cache()
            .messages(study.id, 50)
            .map(|m| m.len())
            .unwrap_or(0)
            == 3
    })
    .await;
    drop(client);

    // The server is down; the app starts from the cache alone.
    let stopped = srv.stop();
    let (client, mut events) = Client::resume(config.clone())
        .await
        .expect("resume")
        .expect("a saved session");
    assert_code(client.api().me().await, ErrorCode::Unavailable);
    let cache = client.cache();
    assert_eq!(client.user().name, "kim");
    let studies = cache.studies().expect("studies");
    assert_eq!(studies.iter().map(|s| s.id).collect::<Vec<_>>(), [study.id]);
    assert_eq!(cache.members(study.id).expect("members").len(), 2);
    assert_eq!(cache.notices(study.id).expect("notices")[0].title, "공지");
    assert_eq!(cache.events(study.id).expect("events")[0].title, "모임");
    assert_eq!(cache.tasks().expect("tasks")[0].title, "준비");
    assert!(
        cache
            .notifications()
            .expect("notifications")
            .iter()
            .any(|n| n.kind == coup_core::model::NotificationKind::Mention),
        "the mention is cached"
    );
    let held: Vec<String> = cache
        .messages(study.id, 50)
        .expect("messages")
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(held, ["하나", "둘", "셋 @kim"]);

    // The server comes back; what was said meanwhile fills the gap.
    let srv = stopped.start();
    chat(&lee, study.id, "넷").await;
    loop {
        let event = tokio::time::timeout(Duration::from_secs(20), events.recv())
            .await
            .expect("an event in time")
            .expect("events");
        if let ClientEvent::Live(LiveEvent::Frame(frame)) = event
            && let ServerFrame::Message { message } = *frame
            && message.seq == 4
        {
            break;
        }
    }
    let seqs: Vec<i64> = client
        .cache()
        .messages(study.id, 50)
        .expect("messages")
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    drop(srv);
}

#[tokio::test]
async fn messages_written_offline_are_delivered_once_in_order_after_the_server_returns() {
    let srv = common::start();
    let (kim, _) = user(&srv, "kim").await;
    let (lee, _) = user(&srv, "lee").await;
    let study = kim
        .create_study(&new_study("Outbox", JoinPolicy::Auto))
        .await
        .expect("study");
    lee.join_study(study.id, &JoinRequest::default())
        .await
        .expect("join");
    let task = kim.create_task(&new_task("열린 일")).await.expect("task");
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let (client, mut events) = Client::login(
        client_config(&srv, &cache_dir),
        "kim@example.com",
        "study-together-42",
    )
    .await
    .expect("login");
    client.refresh().await.expect("refresh");

    let stopped = srv.stop();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(20), events.recv())
            .await
            .expect("an event in time")
            .expect("events");
        if matches!(event, ClientEvent::Live(LiveEvent::Disconnected { .. })) {
            break;
        }
    }
    for n in 1..=5 {
        client
            .send_message(study.id, &format!("offline {n}"))
            .expect("queue");
    }
    client.set_task_done(task.id, true).expect("queue done");
    client
        .create_task(new_task("오프라인에서 만든 일"))
        .expect("queue task");
    let outbox = client.outbox().expect("outbox");
    assert_eq!(outbox.len(), 7);
    assert!(outbox.iter().all(|i| i.state == OutboxState::Pending));
    assert!(
        client.cache().tasks().expect("tasks")[0].is_done,
        "shown at once"
    );
    let report = client.flush().await.expect("flush");
    assert!(report.sent.is_empty());
    assert_eq!(
        report.stopped.map(|e| e.code()),
        Some(ErrorCode::Unavailable)
    );

    let srv = stopped.start();
    eventually("the outbox drains", || {
        client.outbox().map(|o| o.is_empty()).unwrap_or(false)
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
/// the last message it saw in order, not from its own newer one.
#[tokio::test]
async fn a_message_sent_before_the_live_stream_caught_up_hides_nothing_before_it() {
    let srv = common::start();
    let (kim, _) = user(&srv, "kim").await;
    let (lee, _) = user(&srv, "lee").await;
    let study = kim
        .create_study(&new_study("Catch-up", JoinPolicy::Auto))
        .await
        .expect("study");
    lee.join_study(study.id, &JoinRequest::default())
        .await
        .expect("join");
    chat(&lee, study.id, "1").await;
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let config = client_config(&srv, &cache_dir);
    let (client, _events) = Client::login(config.clone(), "kim@example.com", "study-together-42")
        .await
        .expect("login");
    client.refresh().await.expect("refresh");
    let kim_id = client.user().id;
    drop(client);

    // While kim's app is closed, lee says two things.
    chat(&lee, study.id, "2").await;
    chat(&lee, study.id, "3").await;
    // kim's outbox goes out over REST first (the socket is still reconnecting).
    let path = cache_dir.path().join("cache.db");
    let (token, _) = Cache::last_session(&path, &srv.base)
        .expect("read")
        .expect("session");
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

    // The app starts again: 2 and 3 arrive, then 5, each once.
    let (client, mut events) = Client::resume(config)
        .await
        .expect("resume")
        .expect("session");
    chat(&lee, study.id, "5").await;
    let mut seen = Vec::new();
    while seen.last() != Some(&5) {
        let event = tokio::time::timeout(Duration::from_secs(20), events.recv())
            .await
            .expect("an event in time")
            .expect("events");
        if let ClientEvent::Live(LiveEvent::Frame(frame)) = event
            && let ServerFrame::Message { message } = *frame
        {
            seen.push(message.seq);
        }
    }
    assert_eq!(seen, [2, 3, 4, 5]);
    let held: Vec<i64> = client
        .cache()
        .messages(study.id, 50)
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
    let (client, _events) = Client::login(
        client_config(&srv, &cache_dir),
        "kim@example.com",
        "study-together-42",
    )
    .await
    .expect("login");
    client.refresh().await.expect("refresh");
    assert_eq!(client.cache().tasks().expect("tasks").len(), 105);
    drop(srv);
}

#[tokio::test]
async fn tasks_created_offline_can_be_changed_before_the_server_has_them() {
    let srv = common::start();
    let (kim, _) = user(&srv, "kim").await;
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let (client, _events) = Client::login(
        client_config(&srv, &cache_dir),
        "kim@example.com",
        "study-together-42",
    )
    .await
    .expect("login");
    // Queued together (nothing is sent before this test awaits): the changes name
    // the task by its create item's client id.
    let create = client.create_task(new_task("초안")).expect("create");
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
        .expect("update");
    client.set_task_done(pending, true).expect("done");
    // A create the server refuses takes the changes naming it down with it.
    let refused = client.create_task(new_task("")).expect("create");
    client
        .delete_task(TaskRef::Pending {
            client_id: refused.client_id.clone(),
        })
        .expect("delete");
    eventually("only the refused items are left, failed", || {
        client.outbox().is_ok_and(|o| {
            o.len() == 2
                && o.iter()
                    .all(|i| matches!(i.state, OutboxState::Failed { .. }))
        })
    })
    .await;
    let outbox = client.outbox().expect("outbox");
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
    assert_eq!(client.cache().tasks().expect("cached")[0].title, "완성");
    drop(srv);
}

#[tokio::test]
async fn an_outbox_item_the_server_refuses_is_reported_and_not_retried() {
    let srv = common::start();
    let (kim, _) = user(&srv, "kim").await;
    let (lee, lee_id) = user(&srv, "lee").await;
    let study = kim
        .create_study(&new_study("Kicked", JoinPolicy::Auto))
        .await
        .expect("study");
    lee.join_study(study.id, &JoinRequest::default())
        .await
        .expect("join");
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let config = client_config(&srv, &cache_dir);
    let (client, _) = Client::login(config.clone(), "lee@example.com", "study-together-42")
        .await
        .expect("login");
    client.refresh().await.expect("refresh");
    drop(client);

    // Offline, lee writes to the study and makes a task.
    let stopped = srv.stop();
    let (client, _) = Client::resume(config.clone())
        .await
        .expect("resume")
        .expect("session");
    client
        .send_message(study.id, "제가 없는 동안…")
        .expect("queue");
    client.create_task(new_task("복습")).expect("queue task");
    drop(client);

    // Meanwhile lee is kicked.
    let srv = stopped.start();
    kim.kick_member(study.id, lee_id).await.expect("kick");

    let (client, mut events) = Client::resume(config)
        .await
        .expect("resume")
        .expect("session");
    let failed = loop {
        let event = tokio::time::timeout(Duration::from_secs(20), events.recv())
            .await
            .expect("an event in time")
            .expect("events");
        if let ClientEvent::OutboxFailed { item } = event {
            break item;
        }
    };
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
    eventually("the task is sent", || {
        client.outbox().map(|o| o.len() == 1).unwrap_or(false)
    })
    .await;
    assert_eq!(
        lee.tasks(&TaskQuery::default()).await.expect("tasks").total,
        1
    );
    // Never retried: later flushes (and reconnects) leave it failed.
    client.flush().await.expect("flush");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let outbox = client.outbox().expect("outbox");
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].state, failed.state);
    assert_eq!(outbox[0].attempts, 1);
    let page = kim
        .messages(study.id, &ChatQuery::default())
        .await
        .expect("page");
    assert!(page.items.is_empty(), "{page:?}");
    // The study is gone from lee's cache once the client has refreshed.
    eventually("the study leaves the cache", || {
        client
            .cache()
            .studies()
            .map(|s| s.is_empty())
            .unwrap_or(false)
    })
    .await;
    drop(srv);
}

#[tokio::test]
async fn logout_wipes_that_account_cache_and_no_other() {
    let srv = common::start();
    let (kim, _) = user(&srv, "kim").await;
    let (lee, _) = user(&srv, "lee").await;
    let study = kim
        .create_study(&new_study("Shared", JoinPolicy::Auto))
        .await
        .expect("study");
    lee.join_study(study.id, &JoinRequest::default())
        .await
        .expect("join");
    chat(&kim, study.id, "hello").await;
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let config = client_config(&srv, &cache_dir);
    let (lee_client, _) = Client::login(config.clone(), "lee@example.com", "study-together-42")
        .await
        .expect("lee");
    lee_client.refresh().await.expect("refresh");
    let lee_id = lee_client.user().id;
    drop(lee_client);
    // kim signs in last: the saved session (one per server) is kim's.
    kim.create_task(&new_task("kim's")).await.expect("task");
    let (kim_client, _) = Client::login(config.clone(), "kim@example.com", "study-together-42")
        .await
        .expect("kim");
    kim_client.refresh().await.expect("refresh");
    let kim_id = kim_client.user().id;
    let token = kim_client.api().token().expect("token");
    assert_eq!(kim_client.cache().tasks().expect("tasks").len(), 1);
    assert!(
        kim_client
            .cache()
            .last_seq(study.id)
            .expect("seq")
            .is_some()
    );
    kim_client
        .send_message(study.id, "pending?")
        .expect("queue");

    kim_client.logout().await.expect("logout");
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
    assert_eq!(kim_cache.last_seq(study.id).expect("seq"), None);
    let lee_cache = Cache::open(&path, &srv.base, lee_id).expect("lee cache");
    assert_eq!(lee_cache.studies().expect("studies").len(), 1);
    assert_eq!(lee_cache.messages(study.id, 50).expect("messages").len(), 1);
    // The server ended the session too.
    let old = ApiClient::new(&srv.base).expect("client");
    old.set_token(Some(token));
    assert_code(old.me().await, ErrorCode::Unauthorized);
    // kim's saved session went with the rest: nothing to resume on this server.
    assert!(
        Cache::last_session(&path, &srv.base)
            .expect("read")
            .is_none()
    );
}

/// The next call event on a live stream, skipping everything else.
async fn next_call_event(events: &mut mpsc::Receiver<LiveEvent>) -> CallEvent {
    loop {
        if let LiveEvent::Frame(frame) = next_event(events).await
            && let Some(call) = CallEvent::from_frame(&frame)
        {
            return call;
        }
    }
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
    let mut lives = Vec::new();
    for api in [&kim, &lee, &park] {
        let (live, mut events) = Live::start(api.clone(), LiveConfig::default());
        live.subscribe(study.id, None);
        wait_for(
            &mut events,
            |e| matches!(e, LiveEvent::Frame(f) if matches!(**f, ServerFrame::Subscribed { .. })),
        )
        .await;
        lives.push((live, events));
    }
    let [
        (kim_live, kim_events),
        (lee_live, lee_events),
        (park_live, _),
    ] = &mut lives[..]
    else {
        panic!("three connections");
    };
    let media = MediaState {
        mic: true,
        camera: false,
        screen: false,
    };
    let joined = Calls::new(kim_live)
        .join(study.id, media)
        .await
        .expect("kim joins");
    assert_eq!(joined.participants.len(), 1);
    // The whole study hears who joins, the joiner too.
    let joined_event = |user_id| CallEvent::Joined {
        study_id: study.id,
        participant: Participant { user_id, media },
    };
    assert_eq!(next_call_event(kim_events).await, joined_event(kim_id));
    let joined = Calls::new(lee_live)
        .join(study.id, media)
        .await
        .expect("lee joins");
    assert_eq!(
        joined
            .participants
            .iter()
            .map(|p| p.user_id)
            .collect::<Vec<_>>(),
        [kim_id, lee_id]
    );
    assert_eq!(next_call_event(kim_events).await, joined_event(lee_id));
    assert_eq!(next_call_event(lee_events).await, joined_event(kim_id));
    assert_eq!(next_call_event(lee_events).await, joined_event(lee_id));
    let offer = serde_json::json!({"type": "offer", "sdp": "v=0"});
    Calls::new(lee_live)
        .offer(study.id, kim_id, offer.clone())
        .await
        .expect("offer");
    assert_eq!(
        next_call_event(kim_events).await,
        CallEvent::Signal {
            study_id: study.id,
            from: lee_id,
            kind: SignalKind::Offer,
            payload: offer,
        }
    );
    let answer = serde_json::json!({"type": "answer", "sdp": "v=0"});
    Calls::new(kim_live)
        .answer(study.id, lee_id, answer.clone())
        .await
        .expect("answer");
    let candidate = serde_json::json!({"candidate": "candidate:1 1 UDP 1 127.0.0.1 5000 typ host"});
    Calls::new(kim_live)
        .ice_candidate(study.id, lee_id, candidate.clone())
        .await
        .expect("ice");
    assert!(matches!(
        next_call_event(lee_events).await,
        CallEvent::Signal { kind: SignalKind::Answer, from, .. } if from == kim_id
    ));
    assert!(matches!(
        next_call_event(lee_events).await,
        CallEvent::Signal { kind: SignalKind::IceCandidate, payload, .. } if payload == candidate
    ));
    let muted = MediaState {
        mic: false,
        camera: false,
        screen: true,
    };
    Calls::new(lee_live)
        .set_media(study.id, muted)
        .await
        .expect("media");
    assert_eq!(
        next_call_event(kim_events).await,
        CallEvent::Media {
            study_id: study.id,
            user_id: lee_id,
            media: muted
        }
    );
    // Someone outside the call cannot signal into it: the server's code comes back.
    let refused = Calls::new(park_live)
        .offer(
            study.id,
            kim_id,
            serde_json::json!({"type": "offer", "sdp": "x"}),
        )
        .await;
    let error = refused.expect_err("not in the call");
    assert!(
        matches!(error, Error::Remote { status: 0, .. }),
        "{error:?}"
    );
    Calls::new(lee_live).leave(study.id).await.expect("leave");
    assert_eq!(
        next_call_event(kim_events).await,
        CallEvent::Left {
            study_id: study.id,
            user_id: lee_id
        }
    );
}
