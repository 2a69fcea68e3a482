//! Every endpoint's success path and its main error classes, against the real
//! server binary.

mod common;

use chrono::{Duration, Utc};
use common::{Server, start};
use serde_json::{Value, json};

async fn world() -> (Server, String, String, String, String, String) {
    let srv = start();
    let (owner, owner_id) = srv.signup("owner").await;
    let (member, member_id) = srv.signup("member").await;
    let study = srv.study(&owner, "Rust", true, "APPROVAL").await;
    srv.add_member(&study, &owner, &member, &member_id).await;
    (srv, owner, owner_id, member, member_id, study)
}

#[tokio::test]
async fn accounts_and_sessions() {
    let srv = start();
    let created = srv
        .post(
            "/api/auth/signup",
            None,
            json!({"email": "Kim@Example.com", "password": "study-together-42", "name": "김민수"}),
        )
        .await
        .ok(201);
    assert_eq!(created["user"]["email"], "kim@example.com");
    assert!(created["user"].get("passwordHash").is_none());
    srv.post(
        "/api/auth/signup",
        None,
        json!({"email": "kim@example.com", "password": "study-together-42", "name": "x"}),
    )
    .await
    .err(409, "CONFLICT");
    let weak = srv
        .post(
            "/api/auth/signup",
            None,
            json!({"email": "a@example.com", "password": "short", "name": "x"}),
        )
        .await;
    weak.err(400, "VALIDATION");
    assert_eq!(weak.body["error"]["field"], "password");
    srv.post(
        "/api/auth/login",
        None,
        json!({"email": "kim@example.com", "password": "wrong1234"}),
    )
    .await
    .err(401, "UNAUTHORIZED");
    let login = srv
        .post(
            "/api/auth/login",
            None,
            json!({"email": "kim@example.com", "password": "study-together-42"}),
        )
        .await
        .ok(200);
    let (first, second) = (
        created["token"].as_str().expect("t"),
        login["token"].as_str().expect("t"),
    );
    let me = srv.get("/api/users/me", Some(second)).await.ok(200);
    assert_eq!(me["name"], "김민수");
    srv.get("/api/users/me", None)
        .await
        .err(401, "UNAUTHORIZED");
    srv.get("/api/users/me", Some("forged"))
        .await
        .err(401, "UNAUTHORIZED");
    let patched = srv
        .patch(
            "/api/users/me",
            Some(second),
            json!({"bio": "hello", "avatarUrl": "https://x.test/a.png"}),
        )
        .await
        .ok(200);
    assert_eq!(patched["bio"], "hello");
    srv.patch(
        "/api/users/me",
        Some(second),
        json!({"avatarUrl": "javascript:x"}),
    )
    .await
    .err(400, "VALIDATION");
    srv.post(
        "/api/users/me/password",
        Some(second),
        json!({"currentPassword": "nope12345", "newPassword": "fresh-meadow-93"}),
    )
    .await
    .err(400, "VALIDATION");
    let changed = srv
        .post(
            "/api/users/me/password",
            Some(second),
            json!({"currentPassword": "study-together-42", "newPassword": "fresh-meadow-93"}),
        )
        .await;
    assert_eq!(changed.status.as_u16(), 204);
    srv.get("/api/users/me", Some(first))
        .await
        .err(401, "UNAUTHORIZED");
    srv.get("/api/users/me", Some(second)).await.ok(200);
    assert_eq!(
        srv.post("/api/auth/logout", Some(second), json!({}))
            .await
            .status
            .as_u16(),
        204
    );
    srv.get("/api/users/me", Some(second))
        .await
        .err(401, "UNAUTHORIZED");
    srv.post("/api/auth/logout", None, json!({}))
        .await
        .err(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn studies_search_edit_delete_and_private_hiding() {
    let (srv, owner, _, member, _, study) = world().await;
    let (outsider, _) = srv.signup("outsider").await;
    let list = srv
        .get(
            "/api/studies?keyword=rust&recruiting=true&sort=NAME&page=1&limit=5",
            None,
        )
        .await
        .ok(200);
    assert_eq!(
        (
            list["total"].as_u64(),
            list["page"].as_u64(),
            list["limit"].as_u64()
        ),
        (Some(1), Some(1), Some(5))
    );
    // Page bounds (the OpenAPI document states them) are refused, not clamped.
    for bad in ["limit=100000", "limit=0", "page=0", "page=1000001"] {
        let res = srv.get(&format!("/api/studies?{bad}"), None).await;
        res.err(400, "VALIDATION");
        assert_eq!(res.body["error"]["field"], "query", "{bad}");
    }
    assert_eq!(
        srv.get("/api/studies?limit=100&page=1000000", None)
            .await
            .ok(200)["limit"],
        100
    );
    let got = srv
        .get(&format!("/api/studies/{study}"), Some(&member))
        .await
        .ok(200);
    assert_eq!(
        (got["myRole"].as_str(), got["memberCount"].as_u64()),
        (Some("MEMBER"), Some(2))
    );
    srv.patch(
        &format!("/api/studies/{study}"),
        Some(&member),
        json!({"name": "Mine"}),
    )
    .await
    .err(403, "FORBIDDEN");
    let patched = srv
        .patch(
            &format!("/api/studies/{study}"),
            Some(&owner),
            json!({"name": "Rust 2", "tags": ["a", "b"]}),
        )
        .await
        .ok(200);
    assert_eq!(patched["tags"], json!(["a", "b"]));
    srv.patch(
        &format!("/api/studies/{study}"),
        Some(&owner),
        json!({"nmae": "typo"}),
    )
    .await
    .err(400, "VALIDATION");

    let secret = srv.study(&owner, "Secret", false, "APPROVAL").await;
    srv.get(&format!("/api/studies/{secret}"), Some(&outsider))
        .await
        .err(404, "NOT_FOUND");
    srv.get(&format!("/api/studies/{secret}/chat"), Some(&outsider))
        .await
        .err(404, "NOT_FOUND");
    assert_eq!(
        srv.get("/api/studies", Some(&outsider)).await.ok(200)["total"],
        1
    );
    let code = srv
        .get(&format!("/api/studies/{secret}/invite-code"), Some(&owner))
        .await
        .ok(200)["inviteCode"]
        .as_str()
        .expect("code")
        .to_owned();
    srv.get(&format!("/api/studies/{secret}/invite-code"), Some(&member))
        .await
        .err(404, "NOT_FOUND");
    let renewed = srv
        .post(
            &format!("/api/studies/{secret}/invite-code"),
            Some(&owner),
            json!({}),
        )
        .await
        .ok(200);
    assert_ne!(renewed["inviteCode"].as_str(), Some(code.as_str()));
    srv.post(
        &format!("/api/studies/{secret}/join"),
        Some(&outsider),
        json!({"inviteCode": code}),
    )
    .await
    .err(404, "NOT_FOUND");
    let joined = srv
        .post(
            &format!("/api/studies/{secret}/join"),
            Some(&outsider),
            json!({"inviteCode": renewed["inviteCode"]}),
        )
        .await
        .ok(201);
    assert_eq!(joined["status"], "ACTIVE");

    assert_eq!(
        srv.delete(&format!("/api/studies/{study}"), Some(&owner))
            .await
            .status
            .as_u16(),
        204
    );
    srv.get(&format!("/api/studies/{study}"), Some(&owner))
        .await
        .err(404, "NOT_FOUND");
    srv.get(&format!("/api/studies/{study}/notices"), Some(&member))
        .await
        .err(404, "NOT_FOUND");
}

#[tokio::test]
async fn membership_flow() {
    let (srv, owner, _, member, member_id, study) = world().await;
    let (lee, lee_id) = srv.signup("lee").await;
    let pending = srv
        .post(
            &format!("/api/studies/{study}/join"),
            Some(&lee),
            json!({"message": "hi"}),
        )
        .await
        .ok(201);
    assert_eq!(pending["status"], "PENDING");
    srv.post(&format!("/api/studies/{study}/join"), Some(&lee), json!({}))
        .await
        .err(409, "CONFLICT");
    let requests = srv
        .get(&format!("/api/studies/{study}/join-requests"), Some(&owner))
        .await
        .ok(200);
    assert_eq!(requests["items"][0]["message"], "hi");
    srv.get(
        &format!("/api/studies/{study}/join-requests"),
        Some(&member),
    )
    .await
    .err(403, "FORBIDDEN");
    assert_eq!(
        srv.post(
            &format!("/api/studies/{study}/members/{lee_id}/reject"),
            Some(&owner),
            json!({})
        )
        .await
        .status
        .as_u16(),
        204
    );
    srv.post(
        &format!("/api/studies/{study}/members/{lee_id}/approve"),
        Some(&owner),
        json!({}),
    )
    .await
    .err(404, "NOT_FOUND");
    srv.post(&format!("/api/studies/{study}/join"), None, json!({}))
        .await
        .err(401, "UNAUTHORIZED");
    srv.add_member(&study, &owner, &lee, &lee_id).await;
    let members = srv
        .get(&format!("/api/studies/{study}/members"), Some(&member))
        .await
        .ok(200);
    assert_eq!(members["total"], 3);
    assert_eq!(members["items"][0]["role"], "OWNER");
    let promoted = srv
        .post(
            &format!("/api/studies/{study}/members/{member_id}/role"),
            Some(&owner),
            json!({"role": "ADMIN"}),
        )
        .await
        .ok(200);
    assert_eq!(promoted["role"], "ADMIN");
    srv.post(
        &format!("/api/studies/{study}/members/{member_id}/role"),
        Some(&owner),
        json!({"role": "KING"}),
    )
    .await
    .err(400, "VALIDATION");
    assert_eq!(
        srv.delete(
            &format!("/api/studies/{study}/members/{lee_id}"),
            Some(&member)
        )
        .await
        .status
        .as_u16(),
        204
    );
    srv.get(&format!("/api/studies/{study}/members"), Some(&lee))
        .await
        .err(403, "FORBIDDEN");
    srv.post(
        &format!("/api/studies/{study}/leave"),
        Some(&owner),
        json!({}),
    )
    .await
    .err(409, "CONFLICT");
    assert_eq!(
        srv.post(
            &format!("/api/studies/{study}/leave"),
            Some(&member),
            json!({})
        )
        .await
        .status
        .as_u16(),
        204
    );
    let mine = srv
        .get("/api/my-studies?role=OWNER", Some(&owner))
        .await
        .ok(200);
    assert_eq!(mine["total"], 1);
    let kinds: Vec<Value> = srv.get("/api/notifications", Some(&lee)).await.ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| n["kind"].clone())
        .collect();
    for k in ["JOIN_REJECTED", "JOIN_APPROVED", "KICKED"] {
        assert!(kinds.contains(&json!(k)), "{k} in {kinds:?}");
    }
}

#[tokio::test]
async fn notices_calendar_and_tasks() {
    let (srv, owner, _, member, _, study) = world().await;
    let notice = srv
        .post(
            &format!("/api/studies/{study}/notices"),
            Some(&owner),
            json!({"title": "T", "content": "C"}),
        )
        .await
        .ok(201);
    let nid = notice["id"].as_str().expect("id");
    srv.post(
        &format!("/api/studies/{study}/notices"),
        Some(&member),
        json!({"title": "T", "content": "C"}),
    )
    .await
    .err(403, "FORBIDDEN");
    srv.get(
        &format!("/api/studies/{study}/notices/{nid}"),
        Some(&member),
    )
    .await
    .ok(200);
    assert_eq!(
        srv.get(
            &format!("/api/studies/{study}/notices/{nid}"),
            Some(&member)
        )
        .await
        .ok(200)["viewCount"],
        2
    );
    assert_eq!(
        srv.post(
            &format!("/api/studies/{study}/notices/{nid}/pin"),
            Some(&owner),
            json!({"isPinned": true})
        )
        .await
        .ok(200)["isPinned"],
        true
    );
    assert_eq!(
        srv.patch(
            &format!("/api/studies/{study}/notices/{nid}/pin"),
            Some(&owner),
            json!(null)
        )
        .await
        .status
        .as_u16(),
        200
    );
    srv.patch(
        &format!("/api/studies/{study}/notices/{nid}"),
        Some(&owner),
        json!({"title": "T2"}),
    )
    .await
    .ok(200);
    assert_eq!(
        srv.get(&format!("/api/studies/{study}/notices"), Some(&member))
            .await
            .ok(200)["total"],
        1
    );
    assert_eq!(
        srv.delete(&format!("/api/studies/{study}/notices/{nid}"), Some(&owner))
            .await
            .status
            .as_u16(),
        204
    );

    let start = Utc::now() + Duration::days(1);
    let event = srv
        .post(&format!("/api/studies/{study}/calendar"), Some(&member),
            json!({"title": "Exam", "startAt": start, "endAt": start + Duration::hours(2), "location": "301"}))
        .await
        .ok(201);
    let eid = event["id"].as_str().expect("id");
    let from = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let to = (Utc::now() + Duration::days(7)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let range = srv
        .get(
            &format!("/api/studies/{study}/calendar?from={from}&to={to}"),
            Some(&owner),
        )
        .await
        .ok(200);
    assert_eq!(range.as_array().map(Vec::len), Some(1));
    srv.get(
        &format!("/api/studies/{study}/calendar?from=yesterday&to={to}"),
        Some(&owner),
    )
    .await
    .err(400, "VALIDATION");
    srv.post(
        &format!("/api/studies/{study}/calendar"),
        Some(&member),
        json!({"title": "Bad", "startAt": start, "endAt": start - Duration::hours(1)}),
    )
    .await
    .err(400, "VALIDATION");
    srv.patch(
        &format!("/api/studies/{study}/calendar/{eid}"),
        Some(&owner),
        json!({"title": "Exam!"}),
    )
    .await
    .ok(200);
    assert_eq!(
        srv.delete(
            &format!("/api/studies/{study}/calendar/{eid}"),
            Some(&member)
        )
        .await
        .status
        .as_u16(),
        204
    );

    let task = srv
        .post(
            "/api/tasks",
            Some(&member),
            json!({"title": "Read", "priority": "HIGH", "studyId": study, "dueAt": start}),
        )
        .await
        .ok(201);
    let tid = task["id"].as_str().expect("id");
    srv.get(&format!("/api/tasks/{tid}"), Some(&owner))
        .await
        .err(404, "NOT_FOUND");
    assert_eq!(
        srv.patch(
            &format!("/api/tasks/{tid}/toggle"),
            Some(&member),
            json!({})
        )
        .await
        .ok(200)["isDone"],
        true
    );
    assert_eq!(
        srv.get("/api/tasks?isDone=true&priority=HIGH", Some(&member))
            .await
            .ok(200)["total"],
        1
    );
    assert_eq!(
        srv.get(
            &format!("/api/tasks?studyId={study}&isDone=false"),
            Some(&member)
        )
        .await
        .ok(200)["total"],
        0
    );
    srv.patch(
        &format!("/api/tasks/{tid}"),
        Some(&member),
        json!({"title": "Read more"}),
    )
    .await
    .ok(200);
    assert_eq!(
        srv.get(&format!("/api/tasks/{tid}"), Some(&member))
            .await
            .ok(200)["title"],
        "Read more"
    );
    assert_eq!(
        srv.delete(&format!("/api/tasks/{tid}"), Some(&member))
            .await
            .status
            .as_u16(),
        204
    );
    srv.delete(&format!("/api/tasks/{tid}"), Some(&member))
        .await
        .err(404, "NOT_FOUND");
}

#[tokio::test]
async fn chat_pages_receipts_idempotency_and_mentions() {
    let (srv, owner, _, member, _, study) = world().await;
    let path = format!("/api/studies/{study}/chat");
    let mut ids = Vec::new();
    for i in 1..=12 {
        let m = srv
            .post(
                &path,
                Some(&owner),
                json!({"content": format!("m{i} @member")}),
            )
            .await
            .ok(201);
        assert_eq!(m["seq"], i);
        ids.push(m["id"].as_str().expect("id").to_owned());
    }
    let again = srv
        .post(
            &path,
            Some(&member),
            json!({"content": "once", "clientId": "c1"}),
        )
        .await
        .ok(201);
    let dup = srv
        .post(
            &path,
            Some(&member),
            json!({"content": "once", "clientId": "c1"}),
        )
        .await
        .ok(201);
    assert_eq!(
        (again["id"].clone(), again["seq"].clone()),
        (dup["id"].clone(), json!(13))
    );
    let latest = srv
        .get(&format!("{path}?limit=5"), Some(&member))
        .await
        .ok(200);
    assert_eq!(latest["items"][0]["seq"], 9);
    assert_eq!(latest["hasOlder"], true);
    let older = srv
        .get(&format!("{path}?before=9&limit=3"), Some(&member))
        .await
        .ok(200);
    assert_eq!(
        older["items"]
            .as_array()
            .map(|a| a.iter().map(|m| m["seq"].as_i64()).collect::<Vec<_>>()),
        Some(vec![Some(6), Some(7), Some(8)])
    );
    let newer = srv
        .get(&format!("{path}?after=11"), Some(&member))
        .await
        .ok(200);
    assert_eq!(newer["items"].as_array().map(Vec::len), Some(2));
    srv.get(&format!("{path}?after=1&before=5"), Some(&member))
        .await
        .err(400, "VALIDATION");
    let read = srv
        .post(&format!("{path}/{}/read", ids[9]), Some(&member), json!({}))
        .await
        .ok(200);
    assert_eq!(
        read["lastReadSeq"], 13,
        "the sender already read up to their own message"
    );
    let dash = srv.get("/api/dashboard", Some(&member)).await.ok(200);
    assert_eq!(dash["stats"]["unreadMessageCount"], 0);
    let own_dash = srv.get("/api/dashboard", Some(&owner)).await.ok(200);
    assert_eq!(own_dash["stats"]["unreadMessageCount"], 1);
    let mentions = srv
        .get("/api/notifications?unreadOnly=true", Some(&member))
        .await
        .ok(200);
    assert!(
        mentions["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|n| n["kind"] == "MENTION")
    );
    srv.delete(&format!("{path}/{}", ids[0]), Some(&member))
        .await
        .err(403, "FORBIDDEN");
    assert_eq!(
        srv.delete(&format!("{path}/{}", ids[0]), Some(&owner))
            .await
            .status
            .as_u16(),
        204
    );
    srv.get(&format!("{path}/{}", ids[0]), Some(&member))
        .await
        .err(404, "NOT_FOUND");
    srv.post(&path, Some(&member), json!({"content": "x".repeat(4001)}))
        .await
        .err(400, "VALIDATION");
    let first = srv.get("/api/notifications", Some(&member)).await.ok(200)["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        srv.post(
            &format!("/api/notifications/{first}/read"),
            Some(&member),
            json!({})
        )
        .await
        .ok(200)["isRead"],
        true
    );
    srv.post(
        &format!("/api/notifications/{first}/read"),
        Some(&owner),
        json!({}),
    )
    .await
    .err(404, "NOT_FOUND");
    assert!(
        srv.post("/api/notifications/mark-all-read", Some(&member), json!({}))
            .await
            .ok(200)["marked"]
            .as_u64()
            .is_some()
    );
    assert_eq!(
        srv.get("/api/notifications", Some(&member)).await.ok(200)["unreadCount"],
        0
    );
}

#[tokio::test]
async fn reports_and_administration() {
    let (srv, owner, owner_id, member, member_id, study) = world().await;
    let (admin, _) = srv.admin("boss", false).await;
    let (sys, _) = srv.admin("root", true).await;
    let message = srv
        .post(
            &format!("/api/studies/{study}/chat"),
            Some(&member),
            json!({"content": "spam"}),
        )
        .await
        .ok(201);
    let report = srv
        .post(
            "/api/reports",
            Some(&owner),
            json!({"targetType": "MESSAGE", "targetId": message["id"], "reason": "spam"}),
        )
        .await
        .ok(201);
    srv.post(
        "/api/reports",
        Some(&owner),
        json!({"targetType": "USER", "targetId": owner_id, "reason": "me"}),
    )
    .await
    .err(400, "VALIDATION");
    srv.get("/api/admin/stats", Some(&owner))
        .await
        .err(403, "FORBIDDEN");
    let stats = srv.get("/api/admin/stats", Some(&admin)).await.ok(200);
    assert_eq!(stats["pendingReportCount"], 1);
    assert_eq!(
        srv.get("/api/admin/users?keyword=member", Some(&admin))
            .await
            .ok(200)["total"],
        1
    );
    srv.get(&format!("/api/admin/users/{member_id}"), Some(&admin))
        .await
        .ok(200);
    assert_eq!(
        srv.get("/api/admin/reports?status=PENDING", Some(&admin))
            .await
            .ok(200)["total"],
        1
    );
    let rid = report["id"].as_str().expect("id");
    srv.get(&format!("/api/admin/reports/{rid}"), Some(&admin))
        .await
        .ok(200);
    let processed = srv
        .post(
            &format!("/api/admin/reports/{rid}/process"),
            Some(&admin),
            json!({"action": "DELETE_CONTENT", "note": "gone"}),
        )
        .await
        .ok(200);
    assert_eq!(processed["status"], "PROCESSED");
    srv.post(
        &format!("/api/admin/reports/{rid}/process"),
        Some(&admin),
        json!({"action": "DISMISS"}),
    )
    .await
    .err(409, "CONFLICT");
    let suspended = srv
        .post(
            &format!("/api/admin/users/{member_id}/suspend"),
            Some(&admin),
            json!({"reason": "spam"}),
        )
        .await
        .ok(200);
    assert_eq!(suspended["status"], "SUSPENDED");
    srv.get("/api/users/me", Some(&member))
        .await
        .err(401, "UNAUTHORIZED");
    srv.post(
        "/api/auth/login",
        None,
        json!({"email": "member@example.com", "password": "study-together-42"}),
    )
    .await
    .err(403, "FORBIDDEN");
    srv.post(
        &format!("/api/admin/users/{member_id}/restore"),
        Some(&admin),
        json!({}),
    )
    .await
    .ok(200);
    srv.post(
        "/api/auth/login",
        None,
        json!({"email": "member@example.com", "password": "study-together-42"}),
    )
    .await
    .ok(200);
    assert_eq!(
        srv.get("/api/admin/studies", Some(&sys)).await.ok(200)["total"],
        1
    );
    srv.get(&format!("/api/admin/studies/{study}"), Some(&sys))
        .await
        .ok(200);
    assert_eq!(
        srv.delete(
            &format!("/api/admin/studies/{study}?reason=abandoned"),
            Some(&sys)
        )
        .await
        .status
        .as_u16(),
        204
    );
    srv.get(&format!("/api/studies/{study}"), Some(&owner))
        .await
        .err(404, "NOT_FOUND");
    let audit = srv.get("/api/admin/audit-log", Some(&sys)).await.ok(200);
    assert!(audit["total"].as_u64().expect("total") >= 4);
}

#[tokio::test]
async fn files_upload_download_and_limits() {
    let (srv, owner, _, member, _, study) = world().await;
    let (outsider, _) = srv.signup("outsider").await;
    let upload = |token: &str, name: &str, bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes)
                .file_name(name.to_owned())
                .mime_str("application/pdf")
                .expect("mime"),
        );
        srv.http
            .post(srv.url(&format!("/api/studies/{study}/files")))
            .bearer_auth(token)
            .multipart(form)
            .send()
    };
    let content = "스터디 내용".repeat(1000).into_bytes();
    let res = common::Resp::from(
        upload(&member, "../스터디 자료.pdf", content.clone())
            .await
            .expect("upload"),
    )
    .await;
    let meta = res.ok(201);
    assert_eq!(meta["name"], "스터디 자료.pdf");
    assert_eq!(meta["size"].as_u64(), Some(content.len() as u64));
    assert!(meta.get("storageKey").is_none());
    let fid = meta["id"].as_str().expect("id");
    let res = srv
        .http
        .get(srv.url(&format!("/api/studies/{study}/files/{fid}/download")))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("download");
    assert_eq!(res.status().as_u16(), 200);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        disposition
            .contains("filename*=UTF-8''%EC%8A%A4%ED%84%B0%EB%94%94%20%EC%9E%90%EB%A3%8C%2Epdf"),
        "{disposition}"
    );
    assert_eq!(res.bytes().await.expect("bytes").to_vec(), content);
    let list = srv
        .get(&format!("/api/studies/{study}/files"), Some(&member))
        .await
        .ok(200);
    assert_eq!(list["items"][0]["downloadCount"], 1);
    common::Resp::from(
        upload(&outsider, "x.pdf", b"x".to_vec())
            .await
            .expect("req"),
    )
    .await
    .err(403, "FORBIDDEN");

    let blobs = srv.dir.path().join("data").join("files");
    let count = || std::fs::read_dir(&blobs).expect("dir").count();
    assert_eq!(count(), 1);
    // One byte over the file limit (the stored bytes count), and past the
    // request's body limit too (the body stream is cut): both are 413.
    for size in [50 * 1024 * 1024 + 1, 51 * 1024 * 1024] {
        let res = upload(&member, "big.bin", vec![0u8; size]).await;
        match res {
            Ok(r) => common::Resp::from(r).await.err(413, "PAYLOAD_TOO_LARGE"),
            // The server may close the connection once it has refused the body.
            Err(e) => assert!(e.is_request() || e.is_body(), "{size}: {e}"),
        }
        assert_eq!(count(), 1, "a refused upload leaves nothing behind");
    }
    assert_eq!(
        srv.get(&format!("/api/studies/{study}/files"), Some(&member))
            .await
            .ok(200)["total"],
        1
    );
    let no_field = reqwest::multipart::Form::new().text("other", "x");
    let res = srv
        .http
        .post(srv.url(&format!("/api/studies/{study}/files")))
        .bearer_auth(&member)
        .multipart(no_field)
        .send()
        .await
        .expect("req");
    common::Resp::from(res).await.err(400, "VALIDATION");
    srv.delete(
        &format!("/api/studies/{study}/files/{fid}"),
        Some(&outsider),
    )
    .await
    .err(403, "FORBIDDEN");
    assert_eq!(
        srv.delete(&format!("/api/studies/{study}/files/{fid}"), Some(&member))
            .await
            .status
            .as_u16(),
        204
    );
    assert_eq!(count(), 0, "deleting removes the blob");
    srv.get(
        &format!("/api/studies/{study}/files/{fid}/download"),
        Some(&member),
    )
    .await
    .err(404, "NOT_FOUND");
    let attach = srv
        .post(
            &format!("/api/studies/{study}/chat"),
            Some(&member),
            json!({"content": "see", "fileId": fid}),
        )
        .await;
    attach.err(400, "VALIDATION");
}
