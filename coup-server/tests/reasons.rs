//! Refusals a user interface words differently carry a stable `reason` beside
//! their `code`, in REST error bodies and in WebSocket `error` frames; the rest
//! carry none. One case per reason an app must tell apart.

mod common;

use common::ws::Ws;
use common::{Resp, start_with};
use serde_json::json;

#[track_caller]
fn refused(resp: &Resp, status: u16, code: &str, reason: &str) {
    resp.err(status, code);
    assert_eq!(resp.body["error"]["reason"], reason, "{:?}", resp.body);
}

#[tokio::test]
async fn rest_refusals_name_their_reason() {
    let config = tempfile::NamedTempFile::new().expect("config");
    std::fs::write(config.path(), "call_participant_limit = 2\n").expect("write");
    let srv = start_with(&["--config", config.path().to_str().expect("utf-8")]);
    let (owner, _) = srv.signup("owner").await;
    let (member, member_id) = srv.signup("member").await;
    let (third, _) = srv.signup("third").await;

    let signup =
        json!({"email": "OWNER@example.com", "password": "study-together-42", "name": "again"});
    refused(
        &srv.post("/api/auth/signup", None, signup).await,
        409,
        "CONFLICT",
        "EMAIL_TAKEN",
    );
    let weak = json!({"email": "new@example.com", "password": "password123", "name": "new"});
    refused(
        &srv.post("/api/auth/signup", None, weak).await,
        400,
        "VALIDATION",
        "WEAK_PASSWORD",
    );
    let weak_change = json!({"currentPassword": "study-together-42", "newPassword": "aaaaaaa1"});
    let resp = srv
        .post("/api/users/me/password", Some(&member), weak_change)
        .await;
    refused(&resp, 400, "VALIDATION", "WEAK_PASSWORD");
    assert_eq!(resp.body["error"]["field"], "newPassword");
    let login = json!({"email": "owner@example.com", "password": "not-the-password"});
    refused(
        &srv.post("/api/auth/login", None, login).await,
        401,
        "UNAUTHORIZED",
        "WRONG_CREDENTIALS",
    );
    let change = json!({"currentPassword": "wrong-one", "newPassword": "a-new-passphrase-9"});
    refused(
        &srv.post("/api/users/me/password", Some(&member), change)
            .await,
        400,
        "VALIDATION",
        "WRONG_PASSWORD",
    );
    refused(
        &srv.get("/api/users/me", Some("no-such-session")).await,
        401,
        "UNAUTHORIZED",
        "SESSION_EXPIRED",
    );

    // A study of two: the owner and one member.
    let study = srv
        .post(
            "/api/studies",
            Some(&owner),
            json!({"name": "Small", "description": "d", "category": "c", "tags": [],
                   "maxMembers": 2, "isPublic": true, "joinPolicy": "AUTO"}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let join = format!("/api/studies/{study}/join");
    srv.post(&join, Some(&member), json!({})).await.ok(201);
    refused(
        &srv.post(&join, Some(&member), json!({})).await,
        409,
        "CONFLICT",
        "ALREADY_MEMBER",
    );
    refused(
        &srv.post(&join, Some(&third), json!({})).await,
        409,
        "CONFLICT",
        "STUDY_FULL",
    );
    refused(
        &srv.post(
            &format!("/api/studies/{study}/leave"),
            Some(&owner),
            json!({}),
        )
        .await,
        409,
        "CONFLICT",
        "OWNER_MUST_TRANSFER",
    );
    refused(
        &srv.patch(
            &format!("/api/studies/{study}/members/{member_id}/role"),
            Some(&owner),
            json!({"role": "MEMBER"}),
        )
        .await,
        409,
        "CONFLICT",
        "SAME_ROLE",
    );

    // Approval and recruiting.
    let approval = srv.study(&owner, "Approval", true, "APPROVAL").await;
    let join = format!("/api/studies/{approval}/join");
    srv.post(&join, Some(&third), json!({})).await.ok(201);
    refused(
        &srv.post(&join, Some(&third), json!({})).await,
        409,
        "CONFLICT",
        "REQUEST_PENDING",
    );
    srv.patch(
        &format!("/api/studies/{approval}"),
        Some(&owner),
        json!({"isRecruiting": false}),
    )
    .await
    .ok(200);
    refused(
        &srv.post(&join, Some(&member), json!({})).await,
        409,
        "CONFLICT",
        "NOT_RECRUITING",
    );

    // Refusals without a finer reason carry none.
    let plain = srv
        .get(
            "/api/studies/00000000-0000-0000-0000-000000000000",
            Some(&owner),
        )
        .await;
    plain.err(404, "NOT_FOUND");
    assert!(
        plain.body["error"].get("reason").is_none(),
        "{:?}",
        plain.body
    );

    // Over the socket: the same reasons in error frames.
    let mut a = Ws::connect(&srv, &owner).await;
    let mut b = Ws::connect(&srv, &member).await;
    a.subscribe(&study, None).await;
    b.subscribe(&study, None).await;
    a.send(json!({"type": "subscribe", "requestId": "again", "studyId": study}))
        .await;
    let again = a.recv_type("error").await;
    assert_eq!(
        (again["requestId"].as_str(), again["reason"].as_str()),
        (Some("again"), Some("ALREADY_SUBSCRIBED"))
    );
    b.send(json!({"type": "callLeave", "requestId": "leave", "studyId": study}))
        .await;
    assert_eq!(b.recv_type("error").await["reason"], "NOT_IN_CALL");
    a.send(json!({"type": "callJoin", "requestId": "j1", "studyId": study}))
        .await;
    a.recv_type("callJoined").await;
    b.send(json!({"type": "callJoin", "requestId": "j2", "studyId": study}))
        .await;
    b.recv_type("callJoined").await;
    a.send(json!({"type": "callJoin", "requestId": "j3", "studyId": study}))
        .await;
    assert_eq!(a.recv_type("error").await["reason"], "ALREADY_IN_CALL");
    // A third joiner finds the call full (at most two here).
    let call_study = srv.study(&owner, "Call", true, "AUTO").await;
    srv.post(
        &format!("/api/studies/{call_study}/join"),
        Some(&member),
        json!({}),
    )
    .await
    .ok(201);
    srv.post(
        &format!("/api/studies/{call_study}/join"),
        Some(&third),
        json!({}),
    )
    .await
    .ok(201);
    let mut c = Ws::connect(&srv, &third).await;
    for (ws, id) in [(&mut a, "k1"), (&mut b, "k2")] {
        ws.subscribe(&call_study, None).await;
        ws.send(json!({"type": "callJoin", "requestId": id, "studyId": call_study}))
            .await;
        ws.recv_type("callJoined").await;
    }
    c.subscribe(&call_study, None).await;
    c.send(json!({"type": "callJoin", "requestId": "k3", "studyId": call_study}))
        .await;
    let full = c.recv_type("error").await;
    assert_eq!(
        (full["code"].as_str(), full["reason"].as_str()),
        (Some("CONFLICT"), Some("CALL_FULL"))
    );
}
