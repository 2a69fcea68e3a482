//! Odd but well-formed values (extreme dates, boundary lengths) that may be
//! accepted, and that nothing then fails to read back.

use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::cases::{Expect, judge};
use crate::world::seed;

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
