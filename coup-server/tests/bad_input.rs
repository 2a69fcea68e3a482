//! "No input ever produces a 500 or a panic."
//!
//! Every route of the router (enumerated from `src/routes/*.rs`) gets a corpus of
//! bad requests: missing, forged and malformed credentials; malformed, mistyped,
//! over-long and unknown-field bodies; ids that are not UUIDs, or UUIDs that name
//! nothing; query strings with bad values; broken multipart uploads. Every answer must
//! be a 4xx whose body is `{"error":{"code","message"}}` with an upper-case code that
//! matches the status, and the seeded data must be exactly the same afterwards.
//!
//! A second test checks the body limits (413), unknown routes (404) and wrong methods
//! (405); a third sends odd but well-formed values (extreme dates, boundary lengths)
//! that may be accepted, and checks that nothing then fails to read back.

mod common;

use std::path::Path as FsPath;
use std::time::Instant;

use common::{Resp, Server, start};
use futures_util::StreamExt;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};
use uuid::Uuid;

// ---------------------------------------------------------------------------------
// The seeded world
// ---------------------------------------------------------------------------------

/// The ids a route template can name: `{study}`, `{user}`, `{notice}`, ...
#[derive(Debug, Clone)]
struct Ids {
    study: String,
    user: String,
    notice: String,
    event: String,
    message: String,
    file: String,
    task: String,
    notification: String,
    report: String,
}

impl Ids {
    fn random() -> Self {
        let r = || Uuid::new_v4().to_string();
        Self {
            study: r(),
            user: r(),
            notice: r(),
            event: r(),
            message: r(),
            file: r(),
            task: r(),
            notification: r(),
            report: r(),
        }
    }

    /// The real study with everything else random (so nothing below the study can
    /// be touched by accident).
    fn real_study_only(&self) -> Self {
        Self {
            study: self.study.clone(),
            ..Self::random()
        }
    }

    const SLOTS: [&'static str; 9] = [
        "{study}",
        "{user}",
        "{notice}",
        "{event}",
        "{message}",
        "{file}",
        "{task}",
        "{notification}",
        "{report}",
    ];

    fn get(&self, slot: &str) -> &str {
        match slot {
            "{study}" => &self.study,
            "{user}" => &self.user,
            "{notice}" => &self.notice,
            "{event}" => &self.event,
            "{message}" => &self.message,
            "{file}" => &self.file,
            "{task}" => &self.task,
            "{notification}" => &self.notification,
            "{report}" => &self.report,
            other => panic!("unknown slot {other}"),
        }
    }

    /// `template` with every slot filled from `self`, except `slot` which gets `with`.
    fn fill_but(&self, template: &str, slot: Option<&str>, with: &str) -> String {
        let mut path = template.to_owned();
        for s in Self::SLOTS {
            let value = if Some(s) == slot { with } else { self.get(s) };
            path = path.replace(s, value);
        }
        path
    }

    fn fill(&self, template: &str) -> String {
        self.fill_but(template, None, "")
    }
}

struct World {
    srv: Server,
    owner: String,
    member: String,
    admin: String,
    /// Real ids: the owner's study, its member, and one of each thing in it.
    real: Ids,
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}

/// Uploads through reqwest's multipart encoder.
async fn upload(srv: &Server, token: &str, study: &str, name: &str, bytes: &[u8]) -> Resp {
    let part = reqwest::multipart::Part::bytes(bytes.to_vec())
        .file_name(name.to_owned())
        .mime_str("text/plain")
        .expect("mime");
    let form = reqwest::multipart::Form::new().part("file", part);
    let res = srv
        .http
        .post(srv.url(&format!("/api/studies/{study}/files")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    Resp::from(res).await
}

/// An OWNER with a public APPROVAL study, a MEMBER, a pending requester, a notice,
/// an event, a chat message, a file, a task, a report, notifications, and a
/// SYSTEM_ADMIN.
async fn seed() -> World {
    let srv = start();
    let (owner, _) = srv.signup("owner").await;
    let (member, member_id) = srv.signup("member").await;
    let (pending, _) = srv.signup("pending").await;
    let study = srv.study(&owner, "Rust", true, "APPROVAL").await;
    srv.add_member(&study, &owner, &member, &member_id).await;
    srv.post(
        &format!("/api/studies/{study}/join"),
        Some(&pending),
        json!({"message": "let me in"}),
    )
    .await
    .ok(201);
    let notice = id_of(
        &srv.post(
            &format!("/api/studies/{study}/notices"),
            Some(&owner),
            json!({"title": "Welcome", "content": "Read me first"}),
        )
        .await
        .ok(201),
    );
    let event = id_of(
        &srv.post(
            &format!("/api/studies/{study}/calendar"),
            Some(&member),
            json!({"title": "Meetup", "startAt": "2030-01-01T10:00:00Z", "endAt": "2030-01-01T12:00:00Z"}),
        )
        .await
        .ok(201),
    );
    let message = id_of(
        &srv.post(
            &format!("/api/studies/{study}/chat"),
            Some(&member),
            json!({"content": "hello @owner"}),
        )
        .await
        .ok(201),
    );
    let file = id_of(
        &upload(&srv, &owner, &study, "notes.txt", b"some notes")
            .await
            .ok(201),
    );
    let task = id_of(
        &srv.post(
            "/api/tasks",
            Some(&owner),
            json!({"title": "Read chapter 3", "studyId": study}),
        )
        .await
        .ok(201),
    );
    let report = id_of(
        &srv.post(
            "/api/reports",
            Some(&member),
            json!({"targetType": "STUDY", "targetId": study, "reason": "spam"}),
        )
        .await
        .ok(201),
    );
    let notifications = srv.get("/api/notifications", Some(&member)).await.ok(200);
    let notification = notifications["items"][0]["id"]
        .as_str()
        .expect("the member has a notification")
        .to_owned();
    let (admin, _) = srv.admin("root", true).await;
    World {
        srv,
        owner,
        member,
        admin,
        real: Ids {
            study,
            user: member_id,
            notice,
            event,
            message,
            file,
            task,
            notification,
            report,
        },
    }
}

/// Everything the corpus must not change, as the API shows it, plus the number of
/// blobs on disk.
async fn snapshot(w: &World) -> Vec<(String, Value)> {
    let r = &w.real;
    let s = &r.study;
    let (o, m, a) = (
        Some(w.owner.as_str()),
        Some(w.member.as_str()),
        Some(w.admin.as_str()),
    );
    let reads: Vec<(Option<&str>, String)> = vec![
        (None, "/api/studies".into()),
        (None, format!("/api/studies/{s}")),
        (o, "/api/studies".into()),
        (o, format!("/api/studies/{s}")),
        (o, format!("/api/studies/{s}/members")),
        (o, format!("/api/studies/{s}/join-requests")),
        (o, format!("/api/studies/{s}/invite-code")),
        (o, format!("/api/studies/{s}/notices")),
        (
            o,
            format!("/api/studies/{s}/calendar?from=2029-06-01T00:00:00Z&to=2030-06-01T00:00:00Z"),
        ),
        (o, format!("/api/studies/{s}/chat")),
        (o, format!("/api/studies/{s}/chat/{}", r.message)),
        (o, format!("/api/studies/{s}/files")),
        (o, "/api/users/me".into()),
        (o, "/api/my-studies?includePending=true".into()),
        (o, "/api/tasks".into()),
        (o, format!("/api/tasks/{}", r.task)),
        (o, "/api/notifications".into()),
        (o, "/api/dashboard".into()),
        (m, "/api/users/me".into()),
        (m, "/api/notifications".into()),
        (m, "/api/tasks".into()),
        (m, "/api/my-studies?includePending=true".into()),
        (m, "/api/dashboard".into()),
        (a, "/api/admin/stats".into()),
        (a, "/api/admin/users?limit=100".into()),
        (a, format!("/api/admin/users/{}", r.user)),
        (a, "/api/admin/studies?includeDeleted=true".into()),
        (a, format!("/api/admin/studies/{s}")),
        (a, "/api/admin/reports".into()),
        (a, format!("/api/admin/reports/{}", r.report)),
        (a, "/api/admin/audit-log".into()),
    ];
    let mut out = Vec::new();
    for (token, path) in reads {
        let who = match token {
            None => "anonymous",
            t if t == o => "owner",
            t if t == m => "member",
            _ => "admin",
        };
        let body = w.srv.get(&path, token).await.ok(200);
        out.push((format!("{who} GET {path}"), body));
    }
    out.push(("blobs on disk".into(), json!(blob_count(&w.srv))));
    out
}

fn blob_count(srv: &Server) -> usize {
    let dir = srv.dir.path().join("data").join("files");
    std::fs::read_dir(FsPath::new(&dir)).map_or(0, |d| d.count())
}

// ---------------------------------------------------------------------------------
// Requests and what is expected of them
// ---------------------------------------------------------------------------------

/// A request body: its bytes and `Content-Type` (`None`: no body at all).
type RawBody = Option<(Vec<u8>, Option<String>)>;

/// One multipart part: (field name, file name, media type, bytes).
type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Exactly this status.
    Status(u16),
    /// Some 4xx.
    Refused,
    /// Anything but a 5xx (odd but well-formed input that may be accepted).
    NoServerError,
}

#[derive(Debug, Clone)]
struct Case {
    what: String,
    method: Method,
    path: String,
    auth: Option<HeaderValue>,
    body: RawBody,
    /// Other request headers.
    headers: Vec<(&'static str, &'static str)>,
    expect: Expect,
}

/// The code a status must carry (`src/error.rs`, `ops::method_not_allowed`).
fn code_for(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "VALIDATION",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        409 => "CONFLICT",
        413 => "PAYLOAD_TOO_LARGE",
        429 => "RATE_LIMITED",
        _ => return None,
    })
}

/// What is wrong with an answer, if anything.
fn judge(expect: Expect, status: u16, content_type: &str, bytes: &[u8]) -> Option<String> {
    let status_ok = match expect {
        Expect::Status(s) => status == s,
        Expect::Refused => (400..500).contains(&status),
        Expect::NoServerError => status < 500,
    };
    if !status_ok {
        return Some(format!("expected {expect:?}, got {status}"));
    }
    if status < 400 {
        return None;
    }
    let body: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(_) => {
            return Some(format!(
                "{status} with a body that is not JSON ({content_type}): {:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            ));
        }
    };
    let code = body["error"]["code"].as_str().unwrap_or("");
    let shaped = !code.is_empty()
        && code.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        && body["error"]["message"].is_string()
        && content_type.starts_with("application/json");
    if !shaped {
        return Some(format!("{status} without the error shape: {body}"));
    }
    match code_for(status) {
        Some(expected) if expected == code => None,
        Some(expected) => Some(format!("{status} carries {code}, expected {expected}")),
        None => Some(format!("unexpected status {status} ({code})")),
    }
}

async fn send(srv: &Server, case: &Case) -> Option<String> {
    let mut req = srv.http.request(case.method.clone(), srv.url(&case.path));
    if let Some(auth) = &case.auth {
        req = req.header(AUTHORIZATION, auth.clone());
    }
    for (name, value) in &case.headers {
        req = req.header(*name, *value);
    }
    if let Some((bytes, content_type)) = &case.body {
        if let Some(ct) = content_type {
            req = req.header(CONTENT_TYPE, ct.as_str());
        }
        req = req.body(bytes.clone());
    }
    let res = match req.send().await {
        Ok(res) => res,
        Err(e) => return Some(format!("transport error: {e}")),
    };
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = match res.bytes().await {
        Ok(b) => b,
        Err(e) => return Some(format!("{status}, then the body failed: {e}")),
    };
    judge(case.expect, status, &content_type, &bytes).map(|problem| {
        format!(
            "{problem}\n      body: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
        )
    })
}

/// Sends every case (several at a time) and returns one line per bad answer.
async fn run(srv: &Server, cases: &[Case]) -> Vec<String> {
    futures_util::stream::iter(cases)
        .map(|case| async move {
            send(srv, case).await.map(|problem| {
                let path = if case.path.len() > 160 {
                    format!("{}…({} chars)", &case.path[..160], case.path.len())
                } else {
                    case.path.clone()
                };
                format!("{} {path} [{}]: {problem}", case.method, case.what)
            })
        })
        .buffer_unordered(16)
        .filter_map(|x| async move { x })
        .collect()
        .await
}

fn bearer(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Bearer {token}")).expect("header")
}

fn json_body(v: &Value) -> RawBody {
    Some((
        serde_json::to_vec(v).expect("json"),
        Some("application/json".to_owned()),
    ))
}

fn raw_body(bytes: &[u8], content_type: Option<&str>) -> RawBody {
    Some((bytes.to_vec(), content_type.map(str::to_owned)))
}

// ---------------------------------------------------------------------------------
// The routes (from src/routes/*.rs)
// ---------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Input {
    Nothing,
    /// `Json<T>`: a body is required.
    Json,
    /// `OptionalJson<T>`: an empty body means "no options".
    OptionalJson,
    /// `Multipart` with a `file` field.
    Multipart,
}

#[derive(Debug, Clone)]
struct Route {
    method: Method,
    path: &'static str,
    input: Input,
    /// A well-formed body (what a real client would send).
    sample: Value,
    /// A query the route needs to get past its `Query` extractor.
    good_query: &'static str,
    /// Query strings the `Query` extractor or the operation must refuse.
    bad_queries: Vec<String>,
    /// Odd but well-formed query strings: any answer but a 5xx.
    odd_queries: Vec<String>,
    /// Anonymous callers may succeed (listing and viewing public studies, signup,
    /// login): no "anonymous is refused" case.
    anonymous_ok: bool,
    /// The handler reads the `Authorization` header (all but signup and login).
    reads_auth: bool,
}

impl Route {
    fn new(method: Method, path: &'static str) -> Self {
        Self {
            method,
            path,
            input: Input::Nothing,
            sample: Value::Null,
            good_query: "",
            bad_queries: Vec::new(),
            odd_queries: Vec::new(),
            anonymous_ok: false,
            reads_auth: true,
        }
    }
    fn json(mut self, sample: Value) -> Self {
        self.input = Input::Json;
        self.sample = sample;
        self
    }
    fn optional_json(mut self, sample: Value) -> Self {
        self.input = Input::OptionalJson;
        self.sample = sample;
        self
    }
    fn multipart(mut self) -> Self {
        self.input = Input::Multipart;
        self
    }
    fn queries(mut self, bad: &[String], odd: &[String]) -> Self {
        self.bad_queries = bad.to_vec();
        self.odd_queries = odd.to_vec();
        self
    }
    fn good_query(mut self, q: &'static str) -> Self {
        self.good_query = q;
        self
    }
    fn anonymous_ok(mut self) -> Self {
        self.anonymous_ok = true;
        self
    }
    fn no_auth(mut self) -> Self {
        self.reads_auth = false;
        self.anonymous_ok = true;
        self
    }
    fn is_admin(&self) -> bool {
        self.path.starts_with("/api/admin")
    }
    fn slots(&self) -> Vec<&'static str> {
        Ids::SLOTS
            .into_iter()
            .filter(|s| self.path.contains(s))
            .collect()
    }
    fn with_query(&self, path: String, query: &str) -> String {
        if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        }
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn plus(a: &[String], b: &[&str]) -> Vec<String> {
    a.iter().cloned().chain(strings(b)).collect()
}

/// Every route of the router, with a well-formed body where it takes one.
fn routes(real: &Ids) -> Vec<Route> {
    use Method as M;
    let s = &real.study;
    let page_bad = strings(&[
        "page=-1",
        "limit=abc",
        "page=1.5",
        "page=99999999999",
        "limit=-5",
        "limit=",
        "page=1&page=2",
        "page=%ZZ",
    ]);
    let page_odd = strings(&[
        "page=4294967295&limit=100",
        "page=0&limit=0",
        "limit=4294967295",
        "page=2&limit=1&unknown=1",
    ]);
    let long_keyword = format!("keyword={}", "a".repeat(101));
    let study_bad = plus(
        &page_bad,
        &[
            "sort=WHATEVER",
            "sort=newest",
            "recruiting=maybe",
            "keyword=%00",
            long_keyword.as_str(),
        ],
    );
    let study_odd = plus(
        &page_odd,
        &[
            "keyword=%25_%5C",
            "category=%00",
            "tag=%F0%9F%98%80",
            "sort=MEMBERS&recruiting=false",
        ],
    );
    let range_bad = strings(&[
        "",
        "page=1",
        "from=notadate&to=2030-01-01T00:00:00Z",
        "from=2030-01-01T00:00:00Z&to=notadate",
        "from=2030-01-01T00:00:00Z",
        "from=2030-02-30T00:00:00Z&to=2030-03-01T00:00:00Z",
        "from=2030-02-01T00:00:00Z&to=2030-01-01T00:00:00Z",
        "from=2030-01-01T00:00:00Z&to=2030-01-01T00:00:00Z",
        "from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z",
        "from=-262143-01-01T00:00:00Z&to=%2B262142-12-31T23:59:59Z",
        "from=1700000000&to=1800000000",
    ]);
    let range_odd = strings(&[
        "from=%2B262142-12-01T00:00:00Z&to=%2B262142-12-31T23:59:59Z",
        "from=-262143-01-01T00:00:00Z&to=-262143-06-01T00:00:00Z",
        "from=2030-01-01T00:00:00Z&to=2030-01-01T00:00:00.001Z",
        "from=2030-01-01T10:00:00%2B09:00&to=2030-01-02T00:00:00-05:00",
    ]);
    let chat_bad = strings(&[
        "before=abc",
        "after=1.5",
        "limit=-1",
        "before=1&after=2",
        "before=99999999999999999999",
        "after=",
    ]);
    let chat_odd = strings(&[
        "before=-9223372036854775808",
        "after=9223372036854775807",
        "before=9223372036854775807",
        "before=0",
        "after=-1",
        "limit=0",
        "limit=4294967295",
    ]);
    let task_bad = plus(
        &page_bad,
        &[
            "studyId=nope",
            "isDone=perhaps",
            "priority=URGENT",
            "dueBefore=notadate",
            "dueBefore=2025-13-01T00:00:00Z",
        ],
    );
    let random_study = format!("studyId={}", Uuid::new_v4());
    let task_odd = plus(
        &page_odd,
        &[
            "dueBefore=%2B262142-12-31T23:59:59Z",
            "dueBefore=-262143-01-01T00:00:00Z",
            random_study.as_str(),
        ],
    );
    let mine_bad = plus(
        &page_bad,
        &["role=KING", "role=owner", "includePending=perhaps"],
    );
    let mine_odd = plus(&page_odd, &["role=OWNER&includePending=true"]);
    let notif_bad = plus(&page_bad, &["unreadOnly=2", "unreadOnly=yes"]);
    let users_bad = plus(&page_bad, &["status=BANNED", "role=KING"]);
    let users_odd = plus(
        &page_odd,
        &[
            "keyword=%25_%5C",
            "keyword=%00",
            "status=SUSPENDED&role=SYSTEM_ADMIN",
        ],
    );
    let astudies_bad = plus(&page_bad, &["includeDeleted=perhaps"]);
    let astudies_odd = plus(&page_odd, &["includeDeleted=true&keyword=%25"]);
    let reports_bad = plus(&page_bad, &["status=X", "targetType=X"]);
    let reports_odd = plus(&page_odd, &["status=PROCESSED&targetType=MESSAGE"]);

    let new_study = json!({"name": "Another", "description": "d", "category": "c", "tags": ["a", "b"],
        "maxMembers": 10, "isPublic": true, "joinPolicy": "AUTO", "isRecruiting": true});
    let study_patch = json!({"name": "Renamed", "description": "d", "category": "c", "tags": ["x"],
        "maxMembers": 20, "isPublic": false, "joinPolicy": "AUTO", "isRecruiting": false});
    let password =
        json!({"currentPassword": "not-my-password1", "newPassword": "newstudy-together-42"});
    let task_patch = json!({"title": "T", "description": "d", "dueAt": "2030-01-01T00:00:00Z",
        "priority": "LOW", "studyId": s, "isDone": true});
    let role = json!({"role": "ADMIN"});
    let notice_patch = json!({"title": "T2", "content": "C2", "isPinned": false});
    let event_patch = json!({"title": "Meet", "description": "d", "startAt": "2030-01-01T10:00:00Z",
        "endAt": "2030-01-01T11:00:00Z", "allDay": false, "location": "Room 1"});
    let range = "from=2029-06-01T00:00:00Z&to=2030-06-01T00:00:00Z";

    let mut all = vec![
        // accounts.rs
        Route::new(M::POST, "/api/auth/signup")
            .json(json!({"email": "fresh@example.com", "password": "study-together-42", "name": "Fresh"}))
            .no_auth(),
        Route::new(M::POST, "/api/auth/login")
            .json(json!({"email": "nobody@example.com", "password": "study-together-42"}))
            .no_auth(),
        Route::new(M::POST, "/api/auth/logout"),
        Route::new(M::GET, "/api/users/me"),
        Route::new(M::PATCH, "/api/users/me")
            .json(json!({"name": "New name", "bio": "bio", "avatarUrl": "https://example.com/a.png"})),
        Route::new(M::POST, "/api/users/me/password").json(password.clone()),
        Route::new(M::PUT, "/api/users/me/password").json(password.clone()),
        Route::new(M::PATCH, "/api/users/me/password").json(password),
        // me.rs
        Route::new(M::GET, "/api/dashboard"),
        Route::new(M::GET, "/api/my-studies").queries(&mine_bad, &mine_odd),
        Route::new(M::GET, "/api/notifications").queries(&notif_bad, &page_odd),
        Route::new(M::POST, "/api/notifications/{notification}/read"),
        Route::new(M::PATCH, "/api/notifications/{notification}/read"),
        Route::new(M::POST, "/api/notifications/mark-all-read"),
        Route::new(M::PATCH, "/api/notifications/mark-all-read"),
        Route::new(M::GET, "/api/tasks").queries(&task_bad, &task_odd),
        Route::new(M::POST, "/api/tasks").json(json!({"title": "Task", "description": "d",
            "dueAt": "2030-01-01T00:00:00Z", "priority": "HIGH", "studyId": s})),
        Route::new(M::GET, "/api/tasks/{task}"),
        Route::new(M::PATCH, "/api/tasks/{task}").json(task_patch.clone()),
        Route::new(M::PUT, "/api/tasks/{task}").json(task_patch),
        Route::new(M::DELETE, "/api/tasks/{task}"),
        Route::new(M::PATCH, "/api/tasks/{task}/toggle"),
        Route::new(M::POST, "/api/tasks/{task}/toggle"),
        Route::new(M::POST, "/api/reports")
            .json(json!({"targetType": "STUDY", "targetId": s, "reason": "spam"})),
        // studies.rs
        Route::new(M::GET, "/api/studies")
            .queries(&study_bad, &study_odd)
            .anonymous_ok(),
        Route::new(M::POST, "/api/studies").json(new_study),
        Route::new(M::GET, "/api/studies/{study}").anonymous_ok(),
        Route::new(M::PATCH, "/api/studies/{study}").json(study_patch.clone()),
        Route::new(M::PUT, "/api/studies/{study}").json(study_patch),
        Route::new(M::DELETE, "/api/studies/{study}"),
        Route::new(M::GET, "/api/studies/{study}/invite-code"),
        Route::new(M::POST, "/api/studies/{study}/invite-code"),
        Route::new(M::POST, "/api/studies/{study}/join")
            .optional_json(json!({"message": "let me in", "inviteCode": "ABCDEFGH"})),
        Route::new(M::POST, "/api/studies/{study}/leave"),
        Route::new(M::DELETE, "/api/studies/{study}/leave"),
        Route::new(M::GET, "/api/studies/{study}/join-requests").queries(&page_bad, &page_odd),
        Route::new(M::GET, "/api/studies/{study}/members").queries(&page_bad, &page_odd),
        Route::new(M::DELETE, "/api/studies/{study}/members/{user}"),
        Route::new(M::POST, "/api/studies/{study}/members/{user}/approve"),
        Route::new(M::POST, "/api/studies/{study}/members/{user}/reject"),
        Route::new(M::POST, "/api/studies/{study}/members/{user}/role").json(role.clone()),
        Route::new(M::PUT, "/api/studies/{study}/members/{user}/role").json(role.clone()),
        Route::new(M::PATCH, "/api/studies/{study}/members/{user}/role").json(role),
        // content.rs
        Route::new(M::GET, "/api/studies/{study}/notices").queries(&page_bad, &page_odd),
        Route::new(M::POST, "/api/studies/{study}/notices")
            .json(json!({"title": "Title", "content": "Body", "isPinned": true})),
        Route::new(M::GET, "/api/studies/{study}/notices/{notice}"),
        Route::new(M::PATCH, "/api/studies/{study}/notices/{notice}").json(notice_patch.clone()),
        Route::new(M::PUT, "/api/studies/{study}/notices/{notice}").json(notice_patch),
        Route::new(M::DELETE, "/api/studies/{study}/notices/{notice}"),
        Route::new(M::GET, "/api/studies/{study}/calendar")
            .good_query(range)
            .queries(&range_bad, &range_odd),
        Route::new(M::POST, "/api/studies/{study}/calendar").json(event_patch.clone()),
        Route::new(M::PATCH, "/api/studies/{study}/calendar/{event}").json(event_patch.clone()),
        Route::new(M::PUT, "/api/studies/{study}/calendar/{event}").json(event_patch),
        Route::new(M::DELETE, "/api/studies/{study}/calendar/{event}"),
        Route::new(M::GET, "/api/studies/{study}/chat").queries(&chat_bad, &chat_odd),
        Route::new(M::POST, "/api/studies/{study}/chat").json(
            json!({"content": "hello", "fileId": Uuid::new_v4().to_string(), "clientId": "client-1"}),
        ),
        Route::new(M::GET, "/api/studies/{study}/chat/{message}"),
        Route::new(M::DELETE, "/api/studies/{study}/chat/{message}"),
        Route::new(M::POST, "/api/studies/{study}/chat/{message}/read"),
        Route::new(M::PUT, "/api/studies/{study}/chat/{message}/read"),
        // files.rs
        Route::new(M::GET, "/api/studies/{study}/files").queries(&page_bad, &page_odd),
        Route::new(M::POST, "/api/studies/{study}/files").multipart(),
        Route::new(M::DELETE, "/api/studies/{study}/files/{file}"),
        Route::new(M::GET, "/api/studies/{study}/files/{file}/download"),
        // admin.rs
        Route::new(M::GET, "/api/admin/stats"),
        Route::new(M::GET, "/api/admin/users").queries(&users_bad, &users_odd),
        Route::new(M::GET, "/api/admin/users/{user}"),
        Route::new(M::POST, "/api/admin/users/{user}/suspend")
            .json(json!({"reason": "spam", "until": "2099-01-01T00:00:00Z"})),
        Route::new(M::POST, "/api/admin/users/{user}/restore"),
        Route::new(M::GET, "/api/admin/studies").queries(&astudies_bad, &astudies_odd),
        Route::new(M::GET, "/api/admin/studies/{study}"),
        Route::new(M::DELETE, "/api/admin/studies/{study}"),
        Route::new(M::GET, "/api/admin/reports").queries(&reports_bad, &reports_odd),
        Route::new(M::GET, "/api/admin/reports/{report}"),
        Route::new(M::POST, "/api/admin/reports/{report}/process")
            .json(json!({"action": "DISMISS", "note": "ok"})),
        Route::new(M::GET, "/api/admin/audit-log").queries(&page_bad, &page_odd),
    ];
    // The notice pin takes an optional body.
    for method in [M::POST, M::PATCH, M::PUT] {
        all.push(
            Route::new(method, "/api/studies/{study}/notices/{notice}/pin")
                .optional_json(json!({"isPinned": true})),
        );
    }
    all
}

// ---------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------

const HUGE: usize = 100 * 1024;

/// Authorization headers that must be refused with 401.
fn bad_auth_headers(owner: &str) -> Vec<(&'static str, HeaderValue)> {
    let forged: String = (0..64)
        .map(|i| b"0123456789abcdef"[i % 16] as char)
        .collect();
    let h = |s: &str| HeaderValue::from_str(s).expect("header");
    vec![
        ("forged bearer token", h(&format!("Bearer {forged}"))),
        ("tampered real token", h(&format!("Bearer {owner}x"))),
        (
            "lower-case forged bearer",
            h(&format!("bearer {}", Uuid::new_v4())),
        ),
        ("Bearer with no token", h("Bearer")),
        ("Bearer and spaces", h("Bearer    ")),
        ("Basic credentials", h("Basic dXNlcjpwYXNzd29yZA==")),
        ("unknown scheme", h(&format!("Token {owner}"))),
        ("doubled scheme", h(&format!("Bearer Bearer {owner}"))),
        ("token with spaces", h("Bearer a b c")),
        ("over-long token", h(&format!("Bearer {}", "x".repeat(300)))),
        ("huge token", h(&format!("Bearer {}", "x".repeat(20_000)))),
        (
            "non-UTF-8 header bytes",
            HeaderValue::from_bytes(b"Bearer \xff\xfe\xfd").expect("obs-text header"),
        ),
    ]
}

/// Path ids that are not ids.
fn bad_ids() -> Vec<String> {
    vec![
        "nope".into(),
        "..%2F..%2Fetc%2Fpasswd".into(),
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd".into(),
        "%00".into(),
        "%FF".into(),
        "-1".into(),
        "0".into(),
        "00000000-0000-0000-0000-00000000000g".into(),
        format!("{}-", Uuid::new_v4()),
        "%F0%9F%98%80".into(),
        "%20".into(),
        "a".repeat(2000),
    ]
}

/// A value of the wrong JSON type for each kind of field.
fn wrong_types(v: &Value) -> Vec<Value> {
    match v {
        Value::String(_) => vec![json!(12345), json!({"$ne": null}), json!(true)],
        Value::Bool(_) => vec![json!("yes"), json!(1)],
        Value::Number(_) => vec![
            json!("ten"),
            json!(1.5),
            json!(99_999_999_999u64),
            json!(-1),
        ],
        Value::Array(_) => vec![json!("x"), json!([1, 2])],
        Value::Object(_) => vec![json!(1)],
        Value::Null => vec![],
    }
}

fn huge_of(v: &Value) -> Option<Value> {
    let huge = "a".repeat(HUGE);
    match v {
        Value::String(_) => Some(json!(huge)),
        Value::Array(items) if items.iter().all(Value::is_string) => Some(json!([huge])),
        _ => None,
    }
}

/// Bodies a JSON route must refuse: (what, body, exactly 400?).
fn bad_json_bodies(sample: &Value, optional: bool) -> Vec<(String, RawBody, Expect)> {
    let json_ct = Some("application/json");
    let invalid = Expect::Status(400);
    // An optional body may be absent (empty or `null`), so these parse as "no
    // options" and reach the handler: any refusal will do.
    let absent = if optional {
        Expect::Refused
    } else {
        Expect::Status(400)
    };
    let sample_bytes = serde_json::to_vec(sample).expect("json");
    let obj = sample.as_object().expect("samples are objects");
    let first_key = obj.keys().next().expect("a field").clone();
    let first_value = serde_json::to_string(&obj[&first_key]).expect("json");
    let rest = String::from_utf8(sample_bytes.clone()).expect("utf8");
    let duplicate = format!("{{\"{first_key}\":{first_value},{}", &rest[1..]);
    let nested = format!(
        "{{\"{first_key}\":{}{}}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let mut out = vec![
        (
            "malformed JSON `{`".to_owned(),
            raw_body(b"{", json_ct),
            invalid,
        ),
        (
            "truncated JSON".to_owned(),
            raw_body(&sample_bytes[..sample_bytes.len() / 2], json_ct),
            invalid,
        ),
        ("empty body".to_owned(), raw_body(b"", json_ct), absent),
        ("no body at all".to_owned(), None, absent),
        ("JSON null".to_owned(), raw_body(b"null", json_ct), absent),
        ("JSON array".to_owned(), raw_body(b"[]", json_ct), invalid),
        (
            "array of the sample".to_owned(),
            raw_body(format!("[{rest}]").as_bytes(), json_ct),
            invalid,
        ),
        (
            "JSON string".to_owned(),
            raw_body(b"\"hello\"", json_ct),
            invalid,
        ),
        ("JSON number".to_owned(), raw_body(b"42", json_ct), invalid),
        (
            "trailing garbage".to_owned(),
            raw_body(format!("{rest} x").as_bytes(), json_ct),
            invalid,
        ),
        (
            "two documents".to_owned(),
            raw_body(format!("{rest}{rest}").as_bytes(), json_ct),
            invalid,
        ),
        (
            "invalid UTF-8".to_owned(),
            raw_body(b"{\"a\":\"\xff\xfe\"}", json_ct),
            invalid,
        ),
        (
            "lone surrogate".to_owned(),
            raw_body(
                format!("{{\"{first_key}\":\"\\ud800\"}}").as_bytes(),
                json_ct,
            ),
            invalid,
        ),
        // `OptionalJson` reads a `serde_json::Value` first, where the last of two
        // equal keys wins; `Json` refuses them.
        (
            "duplicate field".to_owned(),
            raw_body(duplicate.as_bytes(), json_ct),
            absent,
        ),
        (
            "5000-deep nesting".to_owned(),
            raw_body(nested.as_bytes(), json_ct),
            invalid,
        ),
        (
            "sample as text/plain".to_owned(),
            raw_body(&sample_bytes, Some("text/plain")),
            absent,
        ),
        (
            "sample without Content-Type".to_owned(),
            raw_body(&sample_bytes, None),
            absent,
        ),
        (
            "sample as form data".to_owned(),
            raw_body(b"name=x&title=y", Some("application/x-www-form-urlencoded")),
            if optional { Expect::Refused } else { invalid },
        ),
    ];
    let mut unknown = obj.clone();
    unknown.insert("bogus".into(), json!(1));
    out.push((
        "unknown field".into(),
        json_body(&Value::Object(unknown)),
        invalid,
    ));
    let mut snake = obj.clone();
    snake.insert("is_admin".into(), json!(true));
    out.push((
        "unknown snake_case field".into(),
        json_body(&Value::Object(snake)),
        invalid,
    ));
    for (key, value) in obj {
        for wrong in wrong_types(value) {
            let mut body = obj.clone();
            body.insert(key.clone(), wrong.clone());
            out.push((
                format!("{key} = {wrong}"),
                json_body(&Value::Object(body)),
                invalid,
            ));
        }
        if let Some(huge) = huge_of(value) {
            let mut body = obj.clone();
            body.insert(key.clone(), huge);
            out.push((
                format!("{key} = 100 KB string"),
                json_body(&Value::Object(body)),
                Expect::Refused,
            ));
        }
    }
    out
}

const BOUNDARY: &str = "coupTestBoundary7MA4YWxk";

fn multipart(parts: &[Part], close: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, file_name, media, bytes) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{name}\"");
        if let Some(f) = file_name {
            disposition.push_str(&format!("; filename=\"{f}\""));
        }
        out.extend_from_slice(format!("{disposition}\r\n").as_bytes());
        if let Some(m) = media {
            out.extend_from_slice(format!("Content-Type: {m}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    if close {
        out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    }
    out
}

fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

fn good_upload() -> RawBody {
    Some((
        multipart(
            &[("file", Some("a.txt"), Some("text/plain"), b"hello")],
            true,
        ),
        Some(multipart_type()),
    ))
}

/// Uploads that must be refused without storing anything.
fn bad_uploads() -> Vec<(String, RawBody)> {
    let mp = Some(multipart_type());
    let long_name = "a".repeat(300);
    // A media type that parses but is too long to keep. (One that does not parse
    // is ignored: the file is stored as application/octet-stream.)
    let long_type = format!("text/{}", "a".repeat(300));
    let b = |parts: &[Part], close: bool| Some((multipart(parts, close), mp.clone()));
    vec![
        ("no body, no Content-Type".into(), None),
        (
            "a JSON body".into(),
            raw_body(b"{\"file\":\"x\"}", Some("application/json")),
        ),
        (
            "multipart without a boundary".into(),
            raw_body(
                &multipart(&[("file", Some("a.txt"), None, b"x")], true),
                Some("multipart/form-data"),
            ),
        ),
        (
            "multipart with another boundary".into(),
            raw_body(
                &multipart(&[("file", Some("a.txt"), None, b"x")], true),
                Some("multipart/form-data; boundary=other"),
            ),
        ),
        (
            "garbage multipart".into(),
            raw_body(b"hello", mp.as_deref()),
        ),
        ("empty multipart".into(), raw_body(b"", mp.as_deref())),
        (
            "no `file` field".into(),
            b(&[("other", Some("a.txt"), None, b"x")], true),
        ),
        (
            "only a text field".into(),
            b(&[("note", None, None, b"x")], true),
        ),
        (
            "file named `..`".into(),
            b(&[("file", Some(".."), None, b"x")], true),
        ),
        (
            "file named ``".into(),
            b(&[("file", Some(""), None, b"x")], true),
        ),
        (
            "file named `dir/`".into(),
            b(&[("file", Some("dir/"), None, b"x")], true),
        ),
        (
            "300-character file name".into(),
            b(&[("file", Some(&long_name), None, b"x")], true),
        ),
        (
            "300-character media type".into(),
            b(&[("file", Some("a.txt"), Some(&long_type), b"x")], true),
        ),
        (
            "truncated multipart".into(),
            b(&[("file", Some("a.txt"), None, b"x")], false),
        ),
    ]
}

/// Every bad request for every route.
fn corpus(w: &World) -> Vec<Case> {
    let real = &w.real;
    let sub_random = real.real_study_only();
    let owner = bearer(&w.owner);
    let admin = bearer(&w.admin);
    let mut cases = Vec::new();
    for route in routes(real) {
        let sample_body = match route.input {
            Input::Nothing => None,
            Input::Json | Input::OptionalJson => json_body(&route.sample),
            Input::Multipart => good_upload(),
        };
        let mut push = |what: String, path: String, auth: Option<HeaderValue>, body, expect| {
            cases.push(Case {
                what,
                method: route.method.clone(),
                path,
                auth,
                body,
                headers: Vec::new(),
                expect,
            });
        };
        // Callers whose token gets the request past authentication: the owner, and
        // for admin routes the SYSTEM_ADMIN; also nobody.
        let mut callers: Vec<(&str, Option<HeaderValue>)> =
            vec![("anonymous", None), ("owner", Some(owner.clone()))];
        if route.is_admin() {
            callers.push(("admin", Some(admin.clone())));
        }
        let real_path = route.with_query(real.fill(route.path), route.good_query);

        // 1. Credentials: missing, forged, malformed. Everything else is well formed
        //    and names real things, so only authentication stands in the way.
        if route.reads_auth {
            for (what, header) in bad_auth_headers(&w.owner) {
                push(
                    what.into(),
                    real_path.clone(),
                    Some(header),
                    sample_body.clone(),
                    Expect::Status(401),
                );
            }
            if !route.anonymous_ok {
                push(
                    "anonymous".into(),
                    real_path.clone(),
                    None,
                    sample_body.clone(),
                    Expect::Status(401),
                );
            }
        }
        if route.is_admin() {
            push(
                "not an admin".into(),
                real_path.clone(),
                Some(owner.clone()),
                sample_body.clone(),
                Expect::Status(403),
            );
        }

        // 2. Bodies. The study is real, everything below it random, so a body that
        //    slipped through would still find nothing to change.
        let body_path = route.with_query(sub_random.fill(route.path), route.good_query);
        let bodies: Vec<(String, RawBody, Expect)> = match route.input {
            Input::Nothing => Vec::new(),
            Input::Json => bad_json_bodies(&route.sample, false),
            Input::OptionalJson => bad_json_bodies(&route.sample, true),
            Input::Multipart => bad_uploads()
                .into_iter()
                .map(|(what, body)| (what, body, Expect::Refused))
                .collect(),
        };
        for (what, body, expect) in bodies {
            for (who, auth) in &callers {
                push(
                    format!("{what}, {who}"),
                    body_path.clone(),
                    auth.clone(),
                    body.clone(),
                    expect,
                );
            }
        }

        // 3. Path ids that are not ids, one slot at a time.
        for slot in route.slots() {
            for bad in bad_ids() {
                let path = route.with_query(
                    sub_random.fill_but(route.path, Some(slot), &bad),
                    route.good_query,
                );
                for (who, auth) in &callers {
                    let what = format!(
                        "{slot} = {}, {who}",
                        if bad.len() > 40 { "2000 × a" } else { &bad }
                    );
                    push(
                        what,
                        path.clone(),
                        auth.clone(),
                        sample_body.clone(),
                        Expect::Refused,
                    );
                }
            }
        }

        // 4. Well-formed ids of things that do not exist.
        let slots = route.slots();
        if !slots.is_empty() {
            let (who, auth) = if route.is_admin() {
                ("admin", &admin)
            } else {
                ("owner", &owner)
            };
            let path = route.with_query(Ids::random().fill(route.path), route.good_query);
            push(
                format!("random ids, {who}"),
                path,
                Some(auth.clone()),
                sample_body.clone(),
                Expect::Status(404),
            );
            if slots.len() > 1 && slots.contains(&"{study}") {
                push(
                    format!("real study, random {}, {who}", slots[1]),
                    body_path.clone(),
                    Some(auth.clone()),
                    sample_body.clone(),
                    Expect::Status(404),
                );
            }
        }

        // 5. Query strings.
        let query_base = sub_random.fill(route.path);
        for q in &route.bad_queries {
            for (who, auth) in &callers {
                // Values that parse but make no sense are judged by the operation,
                // after the permission check: anonymous callers may get 401 first.
                let expect = if auth.is_some() {
                    Expect::Status(400)
                } else {
                    Expect::Refused
                };
                push(
                    format!("?{q}, {who}"),
                    format!("{query_base}?{q}"),
                    auth.clone(),
                    sample_body.clone(),
                    expect,
                );
            }
        }
        for q in &route.odd_queries {
            let (who, auth) = callers.last().expect("a caller");
            push(
                format!("?{q}, {who} (odd but well formed)"),
                format!("{query_base}?{q}"),
                auth.clone(),
                sample_body.clone(),
                Expect::NoServerError,
            );
        }
    }

    // The probes ignore credentials and bodies.
    for path in ["/healthz", "/readyz", "/metrics"] {
        for (what, header) in bad_auth_headers(&w.owner).into_iter().take(3) {
            cases.push(Case {
                what: format!("{what} to a probe"),
                method: Method::GET,
                path: path.into(),
                auth: Some(header),
                body: raw_body(b"{", Some("application/json")),
                headers: Vec::new(),
                expect: Expect::Status(200),
            });
        }
    }
    // So do the OpenAPI document and the Swagger UI.
    for path in ["/api/openapi.json", "/api/docs/", "/api/docs/index.html"] {
        for (what, header) in bad_auth_headers(&w.owner).into_iter().take(3) {
            cases.push(Case {
                what: format!("{what} to the API docs"),
                method: Method::GET,
                path: format!("{path}?page=-1&x=%ZZ"),
                auth: Some(header),
                body: None,
                headers: Vec::new(),
                expect: Expect::Status(200),
            });
        }
    }
    // The real-time gateway (`GET /ws`, lib.rs) refuses anything that is not a
    // WebSocket handshake.
    let not_handshakes: [(&str, Vec<(&'static str, &'static str)>); 4] = [
        ("plain GET", vec![]),
        ("Upgrade without Connection", vec![("upgrade", "websocket")]),
        (
            "wrong WebSocket version",
            vec![
                ("connection", "Upgrade"),
                ("upgrade", "websocket"),
                ("sec-websocket-version", "99"),
                ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ],
        ),
        (
            "no WebSocket key",
            vec![
                ("connection", "Upgrade"),
                ("upgrade", "websocket"),
                ("sec-websocket-version", "13"),
            ],
        ),
    ];
    for (what, headers) in not_handshakes {
        for (who, auth) in [
            ("anonymous", None),
            ("owner", Some(bearer(&w.owner))),
            ("forged token", Some(bearer("forged"))),
        ] {
            cases.push(Case {
                what: format!("{what}, {who}"),
                method: Method::GET,
                path: "/ws".into(),
                auth,
                body: None,
                headers: headers.clone(),
                expect: Expect::Refused,
            });
        }
    }
    cases
}

// ---------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn no_input_produces_a_server_error_or_changes_data() {
    let started = Instant::now();
    let w = seed().await;
    let before = snapshot(&w).await;
    let cases = corpus(&w);
    let total = cases.len();
    let mut problems = run(&w.srv, &cases).await;
    problems.sort();

    // The server is still up and answering normally.
    w.srv.get("/api/users/me", Some(&w.owner)).await.ok(200);
    let after = snapshot(&w).await;
    for ((what, a), (_, b)) in before.iter().zip(&after) {
        if a != b {
            problems.push(format!(
                "DATA CHANGED: {what}\n      before: {a}\n      after:  {b}"
            ));
        }
    }
    eprintln!(
        "bad_input: {total} requests in {:.1?} ({} problems)",
        started.elapsed(),
        problems.len()
    );
    assert!(
        problems.is_empty(),
        "{} of {total} bad requests were answered wrongly:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

/// Sends `bytes` as a JSON body on a connection of its own and returns the answer.
///
/// A server that refuses a too-large body answers before reading all of it and
/// then closes the connection; a client still sending may see the reset instead of
/// the answer (or reuse a connection the server is closing). Such transport errors
/// are retried a few times on fresh connections; an answer is never retried.
async fn send_raw(srv: &Server, method: Method, path: &str, token: &str, bytes: Vec<u8>) -> Resp {
    let mut last = None;
    for _ in 0..5 {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("client");
        let sent = client
            .request(method.clone(), srv.url(path))
            .bearer_auth(token)
            .header(CONTENT_TYPE, "application/json")
            .body(bytes.clone())
            .send()
            .await;
        match sent {
            Ok(res) => return Resp::from(res).await,
            Err(e) => last = Some(e),
        }
    }
    panic!("{method} {path}: no answer to a large body: {last:?}");
}

async fn post_raw(srv: &Server, path: &str, token: &str, bytes: Vec<u8>) -> Resp {
    send_raw(srv, Method::POST, path, token, bytes).await
}

/// Whether an answer is exactly this error, in the error shape; a line if not.
fn wrong_error(resp: &Resp, status: u16, code: &str, what: &str) -> Option<String> {
    let ct = resp
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let right = (resp.status.as_u16(), resp.code()) == (status, code)
        && resp.body["error"]["message"].is_string()
        && ct.starts_with("application/json");
    (!right).then(|| {
        format!(
            "{what}: expected {status} {code}, got {} ({ct}) {}",
            resp.status, resp.body
        )
    })
}

#[tokio::test]
async fn body_limits_unknown_routes_and_wrong_methods() {
    let srv = start();
    let (owner, _) = srv.signup("owner").await;
    let (member, member_id) = srv.signup("member").await;
    let study = srv.study(&owner, "Limits", true, "APPROVAL").await;
    srv.add_member(&study, &owner, &member, &member_id).await;
    let me_before = srv.get("/api/users/me", Some(&owner)).await.ok(200);
    let mut problems: Vec<String> = Vec::new();

    // A 2 MB JSON body to ordinary routes (the JSON limit is 1 MiB).
    let two_mb = |field: &str| {
        let mut body = serde_json::Map::new();
        body.insert(field.to_owned(), json!("a".repeat(2 * 1024 * 1024)));
        serde_json::to_vec(&body).expect("json")
    };
    let notices = format!("/api/studies/{study}/notices");
    let join = format!("/api/studies/{study}/join");
    let big = [
        ("/api/studies", two_mb("name"), Method::POST),
        ("/api/users/me", two_mb("name"), Method::PATCH),
        ("/api/tasks", two_mb("title"), Method::POST),
        (notices.as_str(), two_mb("title"), Method::POST),
        // An optional body (`OptionalJson`) obeys the same limit.
        (join.as_str(), two_mb("message"), Method::POST),
    ];
    for (path, bytes, method) in big {
        let resp = send_raw(&srv, method.clone(), path, &member, bytes).await;
        problems.extend(wrong_error(
            &resp,
            413,
            "PAYLOAD_TOO_LARGE",
            &format!("2 MB to {method} {path}"),
        ));
    }
    // Just under the JSON limit is read (and then refused by validation, not size).
    let under = serde_json::to_vec(&json!({"name": "a".repeat(1000 * 1000)})).expect("json");
    let resp = post_raw(&srv, "/api/studies", &owner, under).await;
    problems.extend(wrong_error(&resp, 400, "VALIDATION", "1 MB study name"));

    // Chat bodies are limited to 64 KiB.
    let chat = format!("/api/studies/{study}/chat");
    let over = serde_json::to_vec(&json!({"content": "a".repeat(65 * 1024)})).expect("json");
    let resp = post_raw(&srv, &chat, &member, over).await;
    problems.extend(wrong_error(
        &resp,
        413,
        "PAYLOAD_TOO_LARGE",
        "65 KiB chat message",
    ));
    // 4,000 four-byte characters fit in the limit and are accepted; 4,001 are too long.
    let max = serde_json::to_vec(&json!({"content": "😀".repeat(4000)})).expect("json");
    post_raw(&srv, &chat, &member, max).await.ok(201);
    let long = serde_json::to_vec(&json!({"content": "a".repeat(4001)})).expect("json");
    let resp = post_raw(&srv, &chat, &member, long).await;
    problems.extend(wrong_error(
        &resp,
        400,
        "VALIDATION",
        "4,001-character chat message",
    ));

    // Unknown routes (outside /api, GET paths are the web UI's: tests/web.rs).
    for (method, path) in [
        (Method::GET, "/api/nope".to_owned()),
        (Method::GET, "/api".to_owned()),
        (Method::GET, "/api/studies/".to_owned()),
        (Method::POST, "/api/studies/x/y/z/w".to_owned()),
        (Method::GET, format!("/api/studies/{study}/nope")),
        (Method::DELETE, "/api/admin".to_owned()),
        (Method::GET, "/api/users/me/".to_owned()),
        (Method::POST, "/etc/passwd".to_owned()),
        (Method::GET, "/api/STUDIES".to_owned()),
        // Under the Swagger UI's prefix, but not one of its files.
        (Method::GET, "/api/docs/nope".to_owned()),
    ] {
        for token in [None, Some(owner.as_str())] {
            let resp = srv.call(method.clone(), &path, token, None).await;
            problems.extend(wrong_error(
                &resp,
                404,
                "NOT_FOUND",
                &format!("{method} {path}"),
            ));
        }
    }

    // Known routes, wrong methods.
    for (method, path) in [
        (Method::DELETE, "/api/auth/login".to_owned()),
        (Method::GET, "/api/auth/signup".to_owned()),
        (Method::GET, "/api/auth/logout".to_owned()),
        (Method::DELETE, "/api/users/me".to_owned()),
        (Method::GET, "/api/users/me/password".to_owned()),
        (Method::PUT, "/api/dashboard".to_owned()),
        (Method::GET, "/api/notifications/mark-all-read".to_owned()),
        (Method::DELETE, "/api/studies".to_owned()),
        (Method::PATCH, "/api/studies".to_owned()),
        (Method::POST, format!("/api/studies/{study}")),
        (Method::GET, format!("/api/studies/{study}/join")),
        (Method::POST, format!("/api/studies/{study}/members")),
        (
            Method::GET,
            format!("/api/studies/{study}/members/{member_id}"),
        ),
        (Method::DELETE, format!("/api/studies/{study}/notices")),
        (
            Method::GET,
            format!("/api/studies/{study}/calendar/{}", Uuid::new_v4()),
        ),
        (Method::PATCH, format!("/api/studies/{study}/chat")),
        (Method::PUT, format!("/api/studies/{study}/files")),
        (
            Method::POST,
            format!("/api/studies/{study}/files/{}/download", Uuid::new_v4()),
        ),
        (Method::POST, "/api/admin/stats".to_owned()),
        (Method::GET, format!("/api/admin/users/{member_id}/suspend")),
        (Method::POST, "/healthz".to_owned()),
        (Method::DELETE, "/metrics".to_owned()),
        (Method::OPTIONS, "/api/studies".to_owned()),
        (Method::TRACE, "/api/users/me".to_owned()),
        (Method::POST, "/api/openapi.json".to_owned()),
        (Method::POST, "/ws".to_owned()),
    ] {
        for token in [None, Some(owner.as_str())] {
            let resp = srv.call(method.clone(), &path, token, None).await;
            problems.extend(wrong_error(
                &resp,
                405,
                "METHOD_NOT_ALLOWED",
                &format!("{method} {path}"),
            ));
        }
    }

    // None of that changed the owner.
    assert_eq!(
        srv.get("/api/users/me", Some(&owner)).await.ok(200),
        me_before
    );
    assert!(
        problems.is_empty(),
        "{} wrong answers:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

/// Odd but well-formed values may be accepted; if they are, everything that shows
/// them must still read back without a server error.
#[tokio::test]
async fn odd_but_well_formed_values_never_break_reads() {
    let w = seed().await;
    let srv = &w.srv;
    let s = &w.real.study;
    let (o, m, a) = (
        Some(w.owner.as_str()),
        Some(w.member.as_str()),
        Some(w.admin.as_str()),
    );
    let far_future = "+262142-12-31T23:59:59Z";
    let far_past = "-262143-01-01T00:00:00Z";
    let writes: Vec<(Method, String, Option<&str>, Value)> = vec![
        (
            Method::POST,
            format!("/api/studies/{s}/calendar"),
            m,
            json!({"title": "Far future", "startAt": "+262142-12-30T00:00:00Z", "endAt": far_future}),
        ),
        (
            Method::POST,
            format!("/api/studies/{s}/calendar"),
            m,
            json!({"title": "Far past", "startAt": far_past, "endAt": "-262143-01-02T00:00:00Z"}),
        ),
        (
            Method::POST,
            format!("/api/studies/{s}/calendar"),
            m,
            json!({"title": "Year zero", "startAt": "0000-01-01T00:00:00Z", "endAt": "0000-01-01T00:00:00Z"}),
        ),
        (
            Method::POST,
            format!("/api/studies/{s}/calendar"),
            m,
            json!({"title": "Soon", "startAt": "2000-01-01T00:00:00+14:00", "endAt": "2099-12-31T23:59:59.999999999-12:00"}),
        ),
        (
            Method::PATCH,
            format!("/api/studies/{s}/calendar/{}", w.real.event),
            m,
            json!({"endAt": far_future}),
        ),
        (
            Method::POST,
            "/api/tasks".into(),
            o,
            json!({"title": "Far", "dueAt": far_future}),
        ),
        (
            Method::POST,
            "/api/tasks".into(),
            o,
            json!({"title": "Past", "dueAt": far_past}),
        ),
        (
            Method::PATCH,
            format!("/api/tasks/{}", w.real.task),
            o,
            json!({"dueAt": far_past}),
        ),
        (
            Method::POST,
            "/api/tasks".into(),
            o,
            json!({"title": "ünïcödé 😀 \u{200b}\u{202e}", "priority": "LOW"}),
        ),
        (
            Method::POST,
            format!("/api/studies/{s}/notices"),
            o,
            json!({"title": "가".repeat(100), "content": "😀".repeat(10_000)}),
        ),
        (
            Method::POST,
            format!("/api/studies/{s}/chat"),
            m,
            json!({"content": "@@@@ @ @member @owner @😀 %s %n {{}} <script>", "clientId": "~!@#$%^&*()_+"}),
        ),
        (
            Method::PATCH,
            "/api/users/me".into(),
            m,
            json!({"name": "😀".repeat(50), "bio": "\t", "avatarUrl": format!("https://x.test/{}", "a".repeat(2000))}),
        ),
        (
            Method::PATCH,
            format!("/api/studies/{s}"),
            o,
            json!({"tags": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "A", "B"], "maxMembers": 2}),
        ),
        (
            Method::POST,
            "/api/studies".into(),
            o,
            json!({"name": "%_\\'\"; DROP TABLE studies;--", "category": "c", "maxMembers": 100,
                   "isPublic": false, "joinPolicy": "AUTO", "tags": []}),
        ),
        (
            Method::POST,
            "/api/reports".into(),
            m,
            json!({"targetType": "USER", "targetId": format!(" {} ", Uuid::new_v4()), "reason": "x"}),
        ),
        (
            Method::POST,
            "/api/reports".into(),
            m,
            json!({"targetType": "MESSAGE", "targetId": w.real.message.to_uppercase(), "reason": "x"}),
        ),
    ];
    let mut problems = Vec::new();
    for (method, path, token, body) in writes {
        let resp = srv
            .call(method.clone(), &path, token, Some(body.clone()))
            .await;
        let content_type = resp
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = serde_json::to_vec(&resp.body).expect("json");
        if let Some(p) = judge(
            Expect::NoServerError,
            resp.status.as_u16(),
            &content_type,
            &bytes,
        ) {
            problems.push(format!("{method} {path} {body}: {p}"));
        }
    }
    // A suspension that ends in the far future, then everything that shows the user.
    let (victim, victim_id) = srv.signup("victim").await;
    let resp = srv
        .post(
            &format!("/api/admin/users/{victim_id}/suspend"),
            a,
            json!({"reason": "x", "until": far_future}),
        )
        .await;
    if resp.status.is_server_error() {
        problems.push(format!("suspend until {far_future}: {:?}", resp.body));
    }
    srv.get("/api/users/me", Some(&victim))
        .await
        .err(401, "UNAUTHORIZED");
    let login = srv
        .post(
            "/api/auth/login",
            None,
            json!({"email": "victim@example.com", "password": "study-together-42"}),
        )
        .await;
    if login.status.is_server_error() {
        problems.push(format!(
            "login of a user suspended until {far_future}: {:?}",
            login.body
        ));
    }

    // Everything must still read.
    let reads: Vec<(Option<&str>, String)> = vec![
        (
            o,
            format!(
                "/api/studies/{s}/calendar?from=%2B262142-01-01T00:00:00Z&to=%2B262142-12-31T23:59:59.999Z"
            ),
        ),
        (
            o,
            format!("/api/studies/{s}/calendar?from={far_past}&to=-262143-06-01T00:00:00Z"),
        ),
        (
            o,
            format!("/api/studies/{s}/calendar?from=1999-06-01T00:00:00Z&to=2000-06-01T00:00:00Z"),
        ),
        (
            o,
            format!("/api/studies/{s}/calendar?from=2029-06-01T00:00:00Z&to=2030-06-01T00:00:00Z"),
        ),
        (o, format!("/api/studies/{s}/notices")),
        (o, format!("/api/studies/{s}/chat")),
        (o, format!("/api/studies/{s}/members")),
        (o, format!("/api/studies/{s}")),
        (o, "/api/studies?keyword=DROP".into()),
        (o, "/api/studies?sort=NAME".into()),
        (o, "/api/my-studies".into()),
        (o, "/api/tasks".into()),
        (
            o,
            format!("/api/tasks?dueBefore={far_future}").replace('+', "%2B"),
        ),
        (o, "/api/dashboard".into()),
        (m, "/api/dashboard".into()),
        (m, "/api/notifications".into()),
        (m, "/api/users/me".into()),
        (a, "/api/admin/stats".into()),
        (a, "/api/admin/users".into()),
        (a, format!("/api/admin/users/{victim_id}")),
        (a, "/api/admin/users?status=SUSPENDED".into()),
        (a, "/api/admin/reports".into()),
        (a, "/api/admin/audit-log".into()),
        (a, "/api/admin/studies?includeDeleted=true".into()),
    ];
    for (token, path) in reads {
        let resp = srv.get(&path, token).await;
        if resp.status.as_u16() != 200 {
            problems.push(format!(
                "GET {path} after odd writes: {} {:?}",
                resp.status, resp.body
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "odd values broke the server:\n  {}",
        problems.join("\n  ")
    );
}
