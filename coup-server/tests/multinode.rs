//! Several `coup-server` processes on one PostgreSQL database: one platform.
//! Runs when `COUP_TEST_POSTGRES_URL` is set (CI always sets it); each run uses a
//! scratch schema of its own.

mod common;

use coup_core::store::postgres::ScratchSchema;
use serde_json::json;

fn postgres() -> Option<(ScratchSchema, String)> {
    let Ok(url) = std::env::var("COUP_TEST_POSTGRES_URL") else {
        eprintln!(
            "COUP_TEST_POSTGRES_URL is not set: the multi-node tests need PostgreSQL and are not run"
        );
        return None;
    };
    let schema = ScratchSchema::create(&url).expect("scratch schema");
    let separator = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{separator}options=-c%20search_path%3D{}", schema.name);
    Some((schema, scoped))
}

#[tokio::test]
async fn two_nodes_share_accounts_studies_and_gap_free_chat_sequences() {
    let Some((_schema, url)) = postgres() else {
        return;
    };
    let a = common::start_with(&["--database", &url]);
    let b = common::start_with(&["--database", &url]);
    for node in [&a, &b] {
        assert_eq!(
            node.http
                .get(node.url("/readyz"))
                .send()
                .await
                .expect("readyz")
                .status()
                .as_u16(),
            200
        );
    }
    let (owner, _) = a.signup("owner").await;
    let member = b
        .post(
            "/api/auth/login",
            None,
            json!({"email": "owner@example.com", "password": "password123"}),
        )
        .await
        .ok(200);
    let owner_on_b = member["token"].as_str().expect("token").to_owned();
    let (lee, lee_id) = b.signup("lee").await;
    let study = a.study(&owner, "Shared", true, "APPROVAL").await;
    b.post(&format!("/api/studies/{study}/join"), Some(&lee), json!({}))
        .await
        .ok(201);
    a.post(
        &format!("/api/studies/{study}/members/{lee_id}/approve"),
        Some(&owner),
        json!({}),
    )
    .await
    .ok(200);

    // Concurrent senders on both nodes.
    const EACH: usize = 25;
    let path = format!("/api/studies/{study}/chat");
    let send_all = |node: &'static str, srv: &common::Server, token: String| {
        let path = path.clone();
        let http = srv.http.clone();
        let url = srv.url(&path);
        async move {
            for i in 0..EACH {
                let res = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"content": format!("{node}{i}")}))
                    .send()
                    .await
                    .expect("send");
                assert_eq!(res.status().as_u16(), 201);
            }
        }
    };
    tokio::join!(
        send_all("a", &a, owner.clone()),
        send_all("b", &b, lee.clone()),
        send_all("b", &b, owner_on_b.clone())
    );
    let page = a
        .get(&format!("{path}?after=0&limit=100"), Some(&lee))
        .await
        .ok(200);
    let seqs: Vec<i64> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|m| m["seq"].as_i64())
        .collect();
    assert_eq!(
        seqs,
        (1..=(3 * EACH) as i64).collect::<Vec<_>>(),
        "gap-free and strictly increasing across nodes"
    );

    // A suspension or a logout on one node takes effect on the other.
    b.post("/api/auth/logout", Some(&owner_on_b), json!({}))
        .await;
    a.get("/api/users/me", Some(&owner_on_b))
        .await
        .err(401, "UNAUTHORIZED");
    a.get("/api/users/me", Some(&owner)).await.ok(200);
}
