//! Who may do what, over HTTP: one table of requests and, for each, the status every
//! kind of caller gets, derived from the permission table in
//! `coup-core/src/permissions.rs` (refused signed-in callers get 403 FORBIDDEN,
//! anonymous callers 401 UNAUTHORIZED) plus the state rules that apply after a
//! permission is granted (409 CONFLICT: the OWNER cannot leave, members cannot join
//! again).
//!
//! The callers, relative to one public APPROVAL study: its OWNER, an ADMIN (promoted
//! by the OWNER), a MEMBER, a PENDING requester, a signed-in non-member, a SUSPENDED
//! user (a member suspended by a SYSTEM_ADMIN: suspension ends their sessions, so
//! their token gets 401 everywhere), an anonymous caller, a platform ADMIN and a
//! SYSTEM_ADMIN (both made with `coup-server create-admin`).
//!
//! Requests that change something run against a fresh study (and fresh target
//! users) per caller, so no cell depends on another.

mod common;

use std::time::Instant;

use common::{Resp, Server, start};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

/// The kinds of caller, in the column order of `permissions::TABLE`.
const ACTORS: [&str; 9] = [
    "anonymous",
    "SUSPENDED",
    "non-member",
    "PENDING",
    "MEMBER",
    "study ADMIN",
    "OWNER",
    "platform ADMIN",
    "SYSTEM_ADMIN",
];

/// Whether a request changes state (and so runs against a fresh study per caller).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Study {
    Shared,
    Fresh,
}
use Study::{Fresh, Shared};

#[derive(Debug, Clone)]
enum Body {
    None,
    Json(Value),
    /// A multipart upload of a small file.
    Upload,
}

#[derive(Debug, Clone)]
struct Row {
    op: &'static str,
    method: Method,
    path: &'static str,
    body: Body,
    study: Study,
    expect: [u16; 9],
}

fn r(op: &'static str, request: &'static str, body: Body, study: Study, expect: [u16; 9]) -> Row {
    let (method, path) = request.split_once(' ').expect("METHOD /path");
    Row {
        op,
        method: method.parse().expect("method"),
        path,
        body,
        study,
        expect,
    }
}

fn j(v: Value) -> Body {
    Body::Json(v)
}

/// The expected matrix. Path slots: `{study}`, `{notice}` (the OWNER's),
/// `{event}`/`{message}`/`{file}` (the MEMBER's), `{owner_event}`,
/// `{owner_message}`, `{report}` (the MEMBER's, about the study), `{member}` and
/// `{pending}` (their user ids), `{target}` (a fresh USER), `{suspended_target}` (a
/// fresh suspended USER).
#[rustfmt::skip]
fn matrix() -> Vec<Row> {
    use Body::{None as Nothing, Upload};
    vec![
        // op                         request                                                   body                                   study    anon susp  non  pend  MEM  ADM  OWN  pADM SYS
        // Studies (ViewStudy, UpdateStudy, DeleteStudy, ManageInviteCode)
        r("view study",               "GET /api/studies/{study}",                               Nothing,                               Shared, [200, 401, 200, 200, 200, 200, 200, 200, 200]),
        r("update study",             "PATCH /api/studies/{study}",                             j(json!({"description": "changed"})),  Fresh,  [401, 401, 403, 403, 403, 403, 200, 403, 403]),
        r("delete study",             "DELETE /api/studies/{study}",                            Nothing,                               Fresh,  [401, 401, 403, 403, 403, 403, 204, 403, 403]),
        r("view invite code",         "GET /api/studies/{study}/invite-code",                   Nothing,                               Shared, [401, 401, 403, 403, 403, 200, 200, 403, 403]),
        r("regenerate invite code",   "POST /api/studies/{study}/invite-code",                  Nothing,                               Fresh,  [401, 401, 403, 403, 403, 200, 200, 403, 403]),
        // Membership (JoinStudy, LeaveStudy, ListJoinRequests, DecideJoinRequest, ListMembers, ChangeRole, KickMember)
        // Joining twice and the OWNER leaving are state conflicts (409), not denials.
        r("join",                     "POST /api/studies/{study}/join",                         j(json!({})),                          Fresh,  [401, 401, 201, 409, 409, 409, 409, 201, 201]),
        r("leave",                    "POST /api/studies/{study}/leave",                        Nothing,                               Fresh,  [401, 401, 403, 204, 204, 204, 409, 403, 403]),
        r("list join requests",       "GET /api/studies/{study}/join-requests",                 Nothing,                               Shared, [401, 401, 403, 403, 403, 200, 200, 403, 403]),
        r("approve request",          "POST /api/studies/{study}/members/{pending}/approve",    Nothing,                               Fresh,  [401, 401, 403, 403, 403, 200, 200, 403, 403]),
        r("reject request",           "POST /api/studies/{study}/members/{pending}/reject",     Nothing,                               Fresh,  [401, 401, 403, 403, 403, 204, 204, 403, 403]),
        r("list members",             "GET /api/studies/{study}/members",                       Nothing,                               Shared, [401, 401, 403, 403, 200, 200, 200, 403, 403]),
        r("make MEMBER an ADMIN",     "POST /api/studies/{study}/members/{member}/role",        j(json!({"role": "ADMIN"})),           Fresh,  [401, 401, 403, 403, 403, 403, 200, 403, 403]),
        r("kick MEMBER",              "DELETE /api/studies/{study}/members/{member}",           Nothing,                               Fresh,  [401, 401, 403, 403, 403, 204, 204, 403, 403]),
        // Notices (ListNotices, ViewNotice, CreateNotice, UpdateNotice, PinNotice, DeleteNotice)
        r("list notices",             "GET /api/studies/{study}/notices",                       Nothing,                               Shared, [401, 401, 403, 403, 200, 200, 200, 403, 403]),
        r("view notice",              "GET /api/studies/{study}/notices/{notice}",              Nothing,                               Shared, [401, 401, 403, 403, 200, 200, 200, 403, 403]),
        r("create notice",            "POST /api/studies/{study}/notices",                      j(json!({"title": "t", "content": "c"})), Fresh, [401, 401, 403, 403, 403, 201, 201, 403, 403]),
        r("update notice",            "PATCH /api/studies/{study}/notices/{notice}",            j(json!({"title": "new"})),            Fresh,  [401, 401, 403, 403, 403, 200, 200, 403, 403]),
        r("pin notice",               "POST /api/studies/{study}/notices/{notice}/pin",         j(json!({"isPinned": true})),          Fresh,  [401, 401, 403, 403, 403, 200, 200, 403, 403]),
        r("delete notice",            "DELETE /api/studies/{study}/notices/{notice}",           Nothing,                               Fresh,  [401, 401, 403, 403, 403, 204, 204, 403, 403]),
        // Calendar (ListEvents, CreateEvent; UpdateEvent/DeleteEvent: the author, the OWNER and ADMINs)
        r("list events",              "GET /api/studies/{study}/calendar?from=2029-06-01T00:00:00Z&to=2030-06-01T00:00:00Z",
                                                                                                Nothing,                               Shared, [401, 401, 403, 403, 200, 200, 200, 403, 403]),
        r("create event",             "POST /api/studies/{study}/calendar",
            j(json!({"title": "Meet", "startAt": "2030-01-01T10:00:00Z", "endAt": "2030-01-01T11:00:00Z"})),                             Fresh,  [401, 401, 403, 403, 201, 201, 201, 403, 403]),
        r("update MEMBER's event",    "PATCH /api/studies/{study}/calendar/{event}",            j(json!({"title": "moved"})),          Fresh,  [401, 401, 403, 403, 200, 200, 200, 403, 403]),
        r("update OWNER's event",     "PATCH /api/studies/{study}/calendar/{owner_event}",      j(json!({"title": "moved"})),          Fresh,  [401, 401, 403, 403, 403, 200, 200, 403, 403]),
        r("delete MEMBER's event",    "DELETE /api/studies/{study}/calendar/{event}",           Nothing,                               Fresh,  [401, 401, 403, 403, 204, 204, 204, 403, 403]),
        r("delete OWNER's event",     "DELETE /api/studies/{study}/calendar/{owner_event}",     Nothing,                               Fresh,  [401, 401, 403, 403, 403, 204, 204, 403, 403]),
        // Chat (ListMessages, SendMessage, MarkRead; DeleteMessage: the author, the OWNER and ADMINs)
        r("list chat",                "GET /api/studies/{study}/chat",                          Nothing,                               Shared, [401, 401, 403, 403, 200, 200, 200, 403, 403]),
        r("send message",             "POST /api/studies/{study}/chat",                         j(json!({"content": "hi"})),           Fresh,  [401, 401, 403, 403, 201, 201, 201, 403, 403]),
        r("view message",             "GET /api/studies/{study}/chat/{message}",                Nothing,                               Shared, [401, 401, 403, 403, 200, 200, 200, 403, 403]),
        r("mark message read",        "POST /api/studies/{study}/chat/{message}/read",          Nothing,                               Fresh,  [401, 401, 403, 403, 200, 200, 200, 403, 403]),
        r("delete MEMBER's message",  "DELETE /api/studies/{study}/chat/{message}",             Nothing,                               Fresh,  [401, 401, 403, 403, 204, 204, 204, 403, 403]),
        r("delete OWNER's message",   "DELETE /api/studies/{study}/chat/{owner_message}",       Nothing,                               Fresh,  [401, 401, 403, 403, 403, 204, 204, 403, 403]),
        // Files (ListFiles, UploadFile, DownloadFile; DeleteFile: the uploader, the OWNER and ADMINs)
        r("list files",               "GET /api/studies/{study}/files",                         Nothing,                               Shared, [401, 401, 403, 403, 200, 200, 200, 403, 403]),
        r("upload file",              "POST /api/studies/{study}/files",                        Upload,                                Fresh,  [401, 401, 403, 403, 201, 201, 201, 403, 403]),
        r("download file",            "GET /api/studies/{study}/files/{file}/download",         Nothing,                               Shared, [401, 401, 403, 403, 200, 200, 200, 403, 403]),
        r("delete MEMBER's file",     "DELETE /api/studies/{study}/files/{file}",               Nothing,                               Fresh,  [401, 401, 403, 403, 204, 204, 204, 403, 403]),
        // The caller's own things (SIGNED_IN)
        r("view me",                  "GET /api/users/me",                                      Nothing,                               Shared, [401, 401, 200, 200, 200, 200, 200, 200, 200]),
        r("dashboard",                "GET /api/dashboard",                                     Nothing,                               Shared, [401, 401, 200, 200, 200, 200, 200, 200, 200]),
        r("my studies",               "GET /api/my-studies",                                    Nothing,                               Shared, [401, 401, 200, 200, 200, 200, 200, 200, 200]),
        r("create task",              "POST /api/tasks",                                        j(json!({"title": "todo"})),           Shared, [401, 401, 201, 201, 201, 201, 201, 201, 201]),
        // Platform administration (PLATFORM_ADMINS)
        r("admin stats",              "GET /api/admin/stats",                                   Nothing,                               Shared, [401, 401, 403, 403, 403, 403, 403, 200, 200]),
        r("admin list users",         "GET /api/admin/users",                                   Nothing,                               Shared, [401, 401, 403, 403, 403, 403, 403, 200, 200]),
        r("admin view user",          "GET /api/admin/users/{member}",                          Nothing,                               Shared, [401, 401, 403, 403, 403, 403, 403, 200, 200]),
        r("admin suspend USER",       "POST /api/admin/users/{target}/suspend",                 j(json!({"reason": "x"})),             Fresh,  [401, 401, 403, 403, 403, 403, 403, 200, 200]),
        r("admin restore USER",       "POST /api/admin/users/{suspended_target}/restore",       Nothing,                               Fresh,  [401, 401, 403, 403, 403, 403, 403, 200, 200]),
        r("admin list studies",       "GET /api/admin/studies",                                 Nothing,                               Shared, [401, 401, 403, 403, 403, 403, 403, 200, 200]),
        r("admin view study",         "GET /api/admin/studies/{study}",                         Nothing,                               Shared, [401, 401, 403, 403, 403, 403, 403, 200, 200]),
        r("admin delete study",       "DELETE /api/admin/studies/{study}",                      Nothing,                               Fresh,  [401, 401, 403, 403, 403, 403, 403, 204, 204]),
        r("admin list reports",       "GET /api/admin/reports",                                 Nothing,                               Shared, [401, 401, 403, 403, 403, 403, 403, 200, 200]),
        r("admin view report",        "GET /api/admin/reports/{report}",                        Nothing,                               Shared, [401, 401, 403, 403, 403, 403, 403, 200, 200]),
        r("admin process report",     "POST /api/admin/reports/{report}/process",               j(json!({"action": "DISMISS"})),       Fresh,  [401, 401, 403, 403, 403, 403, 403, 200, 200]),
        r("admin audit log",          "GET /api/admin/audit-log",                               Nothing,                               Shared, [401, 401, 403, 403, 403, 403, 403, 200, 200]),
    ]
}

/// One study with every kind of member and one of each thing in it.
#[derive(Debug, Clone)]
struct StudyIds {
    study: String,
    notice: String,
    event: String,
    owner_event: String,
    message: String,
    owner_message: String,
    file: String,
    report: String,
}

/// A signed-in user: (token, id).
type User = (String, String);

struct World {
    srv: Server,
    owner: User,
    study_admin: User,
    member: User,
    pending: User,
    system_admin: User,
    /// The token each column calls with (`None` for anonymous).
    tokens: Vec<Option<String>>,
    shared: StudyIds,
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}

async fn upload(srv: &Server, token: Option<&str>, study: &str) -> Resp {
    let part = reqwest::multipart::Part::bytes(b"file body".to_vec())
        .file_name("notes.txt")
        .mime_str("text/plain")
        .expect("mime");
    let form = reqwest::multipart::Form::new().part("file", part);
    let mut req = srv
        .http
        .post(srv.url(&format!("/api/studies/{study}/files")))
        .multipart(form);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    Resp::from(req.send().await.expect("upload")).await
}

impl World {
    /// A public APPROVAL study owned by the OWNER, with the study ADMIN, the MEMBER
    /// and the PENDING requester, a notice, events, messages, a file and a report.
    async fn study(&self) -> StudyIds {
        let srv = &self.srv;
        let (owner, (admin, admin_id), (member, member_id)) =
            (&self.owner.0, &self.study_admin, &self.member);
        let study = srv.study(owner, "Roles", true, "APPROVAL").await;
        srv.add_member(&study, owner, admin, admin_id).await;
        srv.post(
            &format!("/api/studies/{study}/members/{admin_id}/role"),
            Some(owner),
            json!({"role": "ADMIN"}),
        )
        .await
        .ok(200);
        srv.add_member(&study, owner, member, member_id).await;
        let joined = srv
            .post(
                &format!("/api/studies/{study}/join"),
                Some(&self.pending.0),
                json!({}),
            )
            .await
            .ok(201);
        assert_eq!(joined["status"], "PENDING");
        let post = |token: &str, what: &str, body: Value| {
            let path = format!("/api/studies/{study}/{what}");
            let token = token.to_owned();
            async move { id_of(&srv.post(&path, Some(&token), body).await.ok(201)) }
        };
        let event = json!({"title": "Meet", "startAt": "2030-01-01T10:00:00Z", "endAt": "2030-01-01T11:00:00Z"});
        StudyIds {
            notice: post(
                owner,
                "notices",
                json!({"title": "Welcome", "content": "Hi"}),
            )
            .await,
            event: post(member, "calendar", event.clone()).await,
            owner_event: post(owner, "calendar", event).await,
            message: post(member, "chat", json!({"content": "member says hi"})).await,
            owner_message: post(owner, "chat", json!({"content": "owner says hi"})).await,
            file: id_of(&upload(srv, Some(member), &study).await.ok(201)),
            report: id_of(
                &srv.post(
                    "/api/reports",
                    Some(member),
                    json!({"targetType": "STUDY", "targetId": study, "reason": "spam"}),
                )
                .await
                .ok(201),
            ),
            study,
        }
    }

    /// A fresh USER, optionally already suspended; returns their id.
    async fn target(&self, suspended: bool) -> String {
        let name = format!("target{}", &Uuid::new_v4().simple().to_string()[..12]);
        let (_, id) = self.srv.signup(&name).await;
        if suspended {
            self.srv
                .post(
                    &format!("/api/admin/users/{id}/suspend"),
                    Some(&self.system_admin.0),
                    json!({"reason": "setup"}),
                )
                .await
                .ok(200);
        }
        id
    }
}

async fn world() -> World {
    let srv = start();
    let owner = srv.signup("owner").await;
    let study_admin = srv.signup("studyadmin").await;
    let member = srv.signup("member").await;
    let pending = srv.signup("pending").await;
    let outsider = srv.signup("outsider").await;
    let suspended = srv.signup("suspended").await;
    let platform_admin = srv.admin("platformadmin", false).await;
    let system_admin = srv.admin("systemadmin", true).await;
    let mut w = World {
        srv,
        owner,
        study_admin,
        member,
        pending,
        system_admin,
        tokens: Vec::new(),
        shared: StudyIds {
            study: String::new(),
            notice: String::new(),
            event: String::new(),
            owner_event: String::new(),
            message: String::new(),
            owner_message: String::new(),
            file: String::new(),
            report: String::new(),
        },
    };
    w.shared = w.study().await;
    // The SUSPENDED user was a member of the shared study until a SYSTEM_ADMIN
    // suspended them; that ended their sessions.
    let study = &w.shared.study;
    w.srv
        .add_member(study, &w.owner.0, &suspended.0, &suspended.1)
        .await;
    w.srv
        .get(&format!("/api/studies/{study}/members"), Some(&suspended.0))
        .await
        .ok(200);
    let suspended_user = w
        .srv
        .post(
            &format!("/api/admin/users/{}/suspend", suspended.1),
            Some(&w.system_admin.0),
            json!({"reason": "x"}),
        )
        .await
        .ok(200);
    assert_eq!(suspended_user["status"], "SUSPENDED");
    w.tokens = vec![
        None,
        Some(suspended.0),
        Some(outsider.0),
        Some(w.pending.0.clone()),
        Some(w.member.0.clone()),
        Some(w.study_admin.0.clone()),
        Some(w.owner.0.clone()),
        Some(platform_admin.0),
        Some(w.system_admin.0.clone()),
    ];
    w
}

fn code_for(status: u16) -> &'static str {
    match status {
        400 => "VALIDATION",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        409 => "CONFLICT",
        _ => "",
    }
}

/// Runs one cell: `row` by the caller of column `col`. Returns the status, and a
/// complaint if the answer is not the expected one.
async fn cell(w: &World, row: &Row, col: usize) -> (u16, Option<String>) {
    let ids = match row.study {
        Shared => w.shared.clone(),
        Fresh => w.study().await,
    };
    let mut path = row
        .path
        .replace("{study}", &ids.study)
        .replace("{notice}", &ids.notice)
        .replace("{owner_event}", &ids.owner_event)
        .replace("{event}", &ids.event)
        .replace("{owner_message}", &ids.owner_message)
        .replace("{message}", &ids.message)
        .replace("{file}", &ids.file)
        .replace("{report}", &ids.report)
        .replace("{member}", &w.member.1)
        .replace("{pending}", &w.pending.1);
    if path.contains("{suspended_target}") {
        path = path.replace("{suspended_target}", &w.target(true).await);
    }
    if path.contains("{target}") {
        path = path.replace("{target}", &w.target(false).await);
    }
    let token = w.tokens[col].as_deref();
    let resp = match &row.body {
        Body::Upload => upload(&w.srv, token, &ids.study).await,
        Body::None => w.srv.call(row.method.clone(), &path, token, None).await,
        Body::Json(v) => {
            w.srv
                .call(row.method.clone(), &path, token, Some(v.clone()))
                .await
        }
    };
    let status = resp.status.as_u16();
    let expected = row.expect[col];
    let wrong_code = status >= 400 && resp.code() != code_for(status);
    let complaint = (status != expected || wrong_code).then(|| {
        format!(
            "{:<24} by {:<14} expected {expected}, got {status} {}",
            row.op,
            ACTORS[col],
            if status >= 400 {
                resp.body.to_string()
            } else {
                String::new()
            }
        )
    });
    (status, complaint)
}

#[tokio::test]
async fn every_kind_of_caller_gets_what_the_permission_table_says() {
    let started = Instant::now();
    let w = world().await;

    // The suspended user's sessions ended; signing in again is refused.
    w.srv
        .post(
            "/api/auth/login",
            None,
            json!({"email": "suspended@example.com", "password": "study-together-42"}),
        )
        .await
        .err(403, "FORBIDDEN");

    let rows = matrix();
    let cells: Vec<(usize, usize)> = (0..rows.len())
        .flat_map(|r| (0..ACTORS.len()).map(move |c| (r, c)))
        .collect();
    let results: Vec<(usize, usize, u16, Option<String>)> = futures_util::stream::iter(cells)
        .map(|(ri, col)| {
            let (w, rows) = (&w, &rows);
            async move {
                let (status, complaint) = cell(w, &rows[ri], col).await;
                (ri, col, status, complaint)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;

    let mut actual = vec![[0u16; 9]; rows.len()];
    let mut complaints = Vec::new();
    for (ri, col, status, complaint) in results {
        actual[ri][col] = status;
        complaints.extend(complaint);
    }
    complaints.sort();
    eprintln!(
        "roles: {} rows × {} callers in {:.1?}",
        rows.len(),
        ACTORS.len(),
        started.elapsed()
    );
    if !complaints.is_empty() {
        let mut table = String::from("row (expected / actual where they differ)\n");
        for (row, got) in rows.iter().zip(&actual) {
            if row.expect != *got {
                table.push_str(&format!(
                    "  {:<24} expected {:?}\n  {:<24} actual   {:?}\n",
                    row.op, row.expect, "", got
                ));
            }
        }
        panic!(
            "{} cells differ from the permission table:\n  {}\n\n{table}",
            complaints.len(),
            complaints.join("\n  ")
        );
    }
}

/// Rules with a second party: who may kick whom, who may suspend whom, and acting
/// on oneself.
#[tokio::test]
async fn second_party_rules() {
    let w = world().await;
    let srv = &w.srv;
    let ids = w.study().await;
    let s = &ids.study;
    let (owner, admin, member) = (&w.owner, &w.study_admin, &w.member);
    let platform_admin = w.tokens[7].clone().expect("platform admin");
    let platform_admin_id = srv
        .get("/api/users/me", Some(&platform_admin))
        .await
        .ok(200)["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let sys = &w.system_admin;
    // (what, method, path, token, body, status)
    type Case<'a> = (&'a str, Method, String, &'a str, Option<Value>, u16);
    let cases: Vec<Case> = vec![
        (
            "ADMIN kicks the OWNER",
            Method::DELETE,
            format!("/api/studies/{s}/members/{}", owner.1),
            &admin.0,
            None,
            403,
        ),
        (
            "OWNER kicks themself",
            Method::DELETE,
            format!("/api/studies/{s}/members/{}", owner.1),
            &owner.0,
            None,
            409,
        ),
        (
            "ADMIN makes the MEMBER OWNER",
            Method::POST,
            format!("/api/studies/{s}/members/{}/role", member.1),
            &admin.0,
            Some(json!({"role": "OWNER"})),
            403,
        ),
        (
            "OWNER changes their own role",
            Method::POST,
            format!("/api/studies/{s}/members/{}/role", owner.1),
            &owner.0,
            Some(json!({"role": "MEMBER"})),
            409,
        ),
        (
            "OWNER makes the ADMIN an ADMIN again",
            Method::POST,
            format!("/api/studies/{s}/members/{}/role", admin.1),
            &owner.0,
            Some(json!({"role": "ADMIN"})),
            409,
        ),
        (
            "platform ADMIN suspends the SYSTEM_ADMIN",
            Method::POST,
            format!("/api/admin/users/{}/suspend", sys.1),
            &platform_admin,
            Some(json!({"reason": "x"})),
            403,
        ),
        (
            "SYSTEM_ADMIN suspends themself",
            Method::POST,
            format!("/api/admin/users/{}/suspend", sys.1),
            &sys.0,
            Some(json!({"reason": "x"})),
            409,
        ),
        (
            "platform ADMIN suspends themself",
            Method::POST,
            format!("/api/admin/users/{platform_admin_id}/suspend"),
            &platform_admin,
            Some(json!({"reason": "x"})),
            409,
        ),
        // Last: the study ADMIN kicks the MEMBER, then the OWNER kicks the ADMIN.
        (
            "ADMIN kicks the MEMBER",
            Method::DELETE,
            format!("/api/studies/{s}/members/{}", member.1),
            &admin.0,
            None,
            204,
        ),
        (
            "OWNER kicks the ADMIN",
            Method::DELETE,
            format!("/api/studies/{s}/members/{}", admin.1),
            &owner.0,
            None,
            204,
        ),
        (
            "kicked ADMIN lists members",
            Method::GET,
            format!("/api/studies/{s}/members"),
            &admin.0,
            None,
            403,
        ),
    ];
    let mut complaints = Vec::new();
    for (what, method, path, token, body, status) in cases {
        let resp = srv.call(method, &path, Some(token), body).await;
        let got = resp.status.as_u16();
        if got != status || (got >= 400 && resp.code() != code_for(got)) {
            complaints.push(format!(
                "{what}: expected {status}, got {got} {}",
                resp.body
            ));
        }
    }
    assert!(complaints.is_empty(), "{}", complaints.join("\n"));
}
