//! Several `coup-server` processes on one PostgreSQL database: one platform.
//! Runs when `COUP_TEST_POSTGRES_URL` is set (CI always sets it); each run uses a
//! scratch schema of its own.

mod common;

use common::ws::Ws;
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

#[tokio::test]
async fn live_events_cross_nodes_through_redis_exactly_once() {
    let Some((schema, url)) = postgres() else {
        return;
    };
    let Ok(redis) = std::env::var("COUP_TEST_REDIS_URL") else {
        eprintln!("COUP_TEST_REDIS_URL is not set: the Redis bus test is not run");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("bus.toml");
    // A channel of its own, so parallel runs on one Redis do not hear each other.
    std::fs::write(
        &config,
        format!("redis_channel = \"coup:test:{}\"\n", schema.name),
    )
    .expect("config");
    let config = config.to_str().expect("utf8");
    let args = [
        "--database",
        url.as_str(),
        "--redis",
        redis.as_str(),
        "--config",
        config,
    ];
    let a = common::start_with(&args);
    let b = common::start_with(&args);
    let (owner, _) = a.signup("owner").await;
    let (member, member_id) = b.signup("member").await;
    let study = a.study(&owner, "Across", true, "AUTO").await;
    b.post(
        &format!("/api/studies/{study}/join"),
        Some(&member),
        json!({}),
    )
    .await
    .ok(201);
    let mut on_a = Ws::connect(&a, &owner).await;
    let mut on_b = Ws::connect(&b, &member).await;
    on_a.subscribe(&study, None).await;
    on_b.subscribe(&study, None).await;
    // Give both subscribers a moment to be attached to the bus.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let sent = on_a.chat(&study, "hello from node A", "x-1").await;
    let got = on_b.recv_type("message").await;
    assert_eq!(got["message"]["id"], sent["id"]);
    on_b.expect_none("message", std::time::Duration::from_millis(500))
        .await;
    // REST on B reaches a socket on A; notifications and kicks cross too.
    b.post(
        &format!("/api/studies/{study}/chat"),
        Some(&member),
        json!({"content": "from B over REST"}),
    )
    .await
    .ok(201);
    assert_eq!(on_a.recv_type("message").await["message"]["seq"], 2);
    a.post(
        &format!("/api/studies/{study}/notices"),
        Some(&owner),
        json!({"title": "T", "content": "C"}),
    )
    .await
    .ok(201);
    assert_eq!(
        on_b.recv_type("notification").await["notification"]["kind"],
        "NEW_NOTICE"
    );
    // Redis drops every subscriber connection (as on a restart): nodes reconnect by
    // themselves and fan-out resumes; what was missed meanwhile comes back by resume.
    let killed = std::process::Command::new("redis-cli")
        .args(["-u", redis.as_str(), "CLIENT", "KILL", "TYPE", "pubsub"])
        .output()
        .expect("redis-cli");
    assert!(
        killed.status.success(),
        "{}",
        String::from_utf8_lossy(&killed.stderr)
    );
    let count = String::from_utf8_lossy(&killed.stdout)
        .trim()
        .parse::<u32>()
        .unwrap_or(0);
    assert!(
        count >= 2,
        "both nodes' bus subscriptions were cut (killed {count})"
    );
    let during = on_a.chat(&study, "while the bus reconnects", "x-2").await;
    let mut delivered = false;
    for attempt in 0..20 {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        let sent = on_a
            .chat(
                &study,
                &format!("after reconnect {attempt}"),
                &format!("r-{attempt}"),
            )
            .await;
        let wait = std::time::Duration::from_millis(500);
        if let Ok(frame) = tokio::time::timeout(wait, on_b.recv_type("message")).await
            && frame["message"]["id"] == sent["id"]
        {
            delivered = true;
            break;
        }
    }
    assert!(delivered, "fan-out resumed after the bus reconnected");
    drop(on_b);
    let mut again = Ws::connect(&b, &member).await;
    again
        .subscribe(&study, Some(during["seq"].as_i64().expect("seq") - 1))
        .await;
    assert_eq!(
        again.recv_type("message").await["message"]["id"],
        during["id"],
        "resume recovers the message"
    );

    a.delete(
        &format!("/api/studies/{study}/members/{member_id}"),
        Some(&owner),
    )
    .await;
    assert_eq!(again.recv_type("unsubscribed").await["reason"], "KICKED");
}
