//! The seeded world every corpus runs against, the ids a route template can name,
//! and the snapshot of everything the corpus must leave unchanged.

use std::path::Path as FsPath;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{Resp, Server, start};

/// The ids a route template can name: `{study}`, `{user}`, `{notice}`, ...
#[derive(Debug, Clone)]
pub struct Ids {
    pub study: String,
    pub user: String,
    pub notice: String,
    pub event: String,
    pub message: String,
    pub file: String,
    pub task: String,
    pub notification: String,
    pub report: String,
}

impl Ids {
    pub fn random() -> Self {
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
    pub fn real_study_only(&self) -> Self {
        Self {
            study: self.study.clone(),
            ..Self::random()
        }
    }

    pub const SLOTS: [&'static str; 9] = [
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

    pub fn get(&self, slot: &str) -> &str {
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
    pub fn fill_but(&self, template: &str, slot: Option<&str>, with: &str) -> String {
        let mut path = template.to_owned();
        for s in Self::SLOTS {
            let value = if Some(s) == slot { with } else { self.get(s) };
            path = path.replace(s, value);
        }
        path
    }

    pub fn fill(&self, template: &str) -> String {
        self.fill_but(template, None, "")
    }
}

pub struct World {
    pub srv: Server,
    /// The OpenAPI document the server serves: where the routes under test come from.
    pub spec: Value,
    pub owner: String,
    pub member: String,
    pub admin: String,
    /// Real ids: the owner's study, its member, and one of each thing in it.
    pub real: Ids,
}

pub fn id_of(body: &Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}

/// Uploads through reqwest's multipart encoder.
pub async fn upload(srv: &Server, token: &str, study: &str, name: &str, bytes: &[u8]) -> Resp {
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
pub async fn seed() -> World {
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
    let spec = srv.get("/api/openapi.json", None).await.ok(200);
    World {
        srv,
        spec,
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
pub async fn snapshot(w: &World) -> Vec<(String, Value)> {
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

pub fn blob_count(srv: &Server) -> usize {
    let dir = srv.dir.path().join("data").join("files");
    std::fs::read_dir(FsPath::new(&dir)).map_or(0, |d| d.count())
}
