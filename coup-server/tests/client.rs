//! The typed REST API of `coup_core::client` against the real server binary:
//! every method round trips, errors keep the server's code and reason, and
//! unreachable or malformed servers are reported with codes of their own. The
//! app-level client (live events, cache, outbox, calls) is `client_app.rs`.

mod common;

use chrono::Utc;
use common::app::{assert_code, new_study, user};
use coup_core::ErrorCode;
use coup_core::client::ApiClient;
use coup_core::error::Error;
use coup_core::ids::StudyId;
use coup_core::model::{
    JoinPolicy, MemberStatus, PageRequest, Priority, ReportAction, ReportStatus, ReportTarget,
    StudyRole, UserStatus,
};
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
use coup_core::service::studies::{MyStudiesQuery, StudyPatch, StudyQuery};
use coup_core::service::tasks::{NewTask, TaskPatch, TaskQuery};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
        new_password: "an-other-passphrase-77".into(),
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
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");

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
