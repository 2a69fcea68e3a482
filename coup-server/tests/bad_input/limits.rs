//! Body limits (413), unknown routes (404) and wrong methods (405).

use std::collections::BTreeSet;

use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde_json::json;
use uuid::Uuid;

use crate::common::{Resp, Server, start};
use crate::routes::{operations, slotted};
use crate::world::Ids;

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

    // Every documented path, with every method it does not document: a method
    // served there without documentation would answer something else.
    let spec = srv.get("/api/openapi.json", None).await.ok(200);
    let ids = Ids::random();
    let documented: BTreeSet<(String, String)> = operations(&spec)
        .into_iter()
        .map(|(method, path, op)| (method.to_string(), slotted(&path, op)))
        .collect();
    let paths: BTreeSet<&String> = documented.iter().map(|(_, path)| path).collect();
    for path in paths {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            if documented.contains(&(method.to_string(), path.clone())) {
                continue;
            }
            let resp = srv
                .call(method.clone(), &ids.fill(path), Some(&owner), None)
                .await;
            problems.extend(wrong_error(
                &resp,
                405,
                "METHOD_NOT_ALLOWED",
                &format!("undocumented {method} {path}"),
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
