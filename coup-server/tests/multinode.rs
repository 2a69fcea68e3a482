//! Several `coup-server` processes on one PostgreSQL database (and one Redis bus):
//! one platform. Every test here is `#[ignore]`d with the services it needs, so
//! the README's plain `cargo test` reports them ignored rather than passed; run
//! them with `cargo test -p coup-server --test multinode -- --ignored` and
//! `COUP_TEST_POSTGRES_URL` / `COUP_TEST_REDIS_URL` set (CI does). Asked to run
//! without a variable, a test fails. Each run uses a scratch schema and a Redis
//! channel of its own.

mod common;

use std::time::Duration;

use common::ws::Ws;
use coup_core::store::postgres::ScratchSchema;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The URL of a service a test needs. A test asked to run (`--ignored`) without
/// it fails: one that returned early would report a pass it never earned.
fn service(variable: &str) -> String {
    std::env::var(variable)
        .unwrap_or_else(|_| panic!("{variable} is not set: the multi-node tests need it"))
}

fn postgres() -> (ScratchSchema, String) {
    common::scratch_database(&service("COUP_TEST_POSTGRES_URL"))
}

/// Nodes sharing one scratch schema and one Redis channel, with a short presence
/// expiry so a dead node is noticed quickly.
struct Cluster {
    _schema: ScratchSchema,
    database: String,
    _dir: tempfile::TempDir,
    args: Vec<String>,
    redis: String,
    /// The bus's base channel.
    channel: String,
}

impl Cluster {
    /// On the shared Redis named by `COUP_TEST_REDIS_URL`.
    fn new() -> Self {
        Self::with_redis(service("COUP_TEST_REDIS_URL"))
    }

    fn with_redis(redis: String) -> Self {
        let (schema, database) = postgres();
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("bus.toml");
        let channel = format!("coup:test:{}", schema.name);
        std::fs::write(
            &config,
            format!(
                "redis_channel = \"{channel}\"\npresence_refresh_secs = 1\npresence_expiry_secs = 3\nlogin_per_account_per_minute = 3\n"
            ),
        )
        .expect("config");
        let args = vec![
            "--database".to_owned(),
            database.clone(),
            "--redis".to_owned(),
            redis.clone(),
            "--config".to_owned(),
            config.to_str().expect("utf8").to_owned(),
        ];
        Self {
            _schema: schema,
            database,
            _dir: dir,
            args,
            redis,
            channel,
        }
    }

    /// How many Redis connections listen to the study's bus channel (one per
    /// node with a subscriber of the study): what Redis itself reports.
    fn listeners(&self, study: &str) -> i64 {
        let channel = format!("{}:study:{study}", self.channel);
        let mut redis = redis::Client::open(self.redis.as_str())
            .and_then(|c| c.get_connection())
            .expect("redis");
        let counts: Vec<(String, i64)> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(&channel)
            .query(&mut redis)
            .expect("PUBSUB NUMSUB");
        counts.first().map_or(0, |(_, n)| *n)
    }

    /// Waits (bounded) until `listeners(study)` is `count`: an unsubscription
    /// reaches Redis after the client was answered.
    async fn until_listeners(&self, study: &str, count: i64) {
        for _ in 0..100 {
            if self.listeners(study) == count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(self.listeners(study), count, "listeners of {study}");
    }

    fn node(&self) -> common::Server {
        self.node_on(&self.redis)
    }

    /// A node reaching the cluster's Redis at `redis` (a proxy of it).
    fn node_on(&self, redis: &str) -> common::Server {
        let mut args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        if let Some(at) = args.iter().position(|arg| *arg == "--redis") {
            args[at + 1] = redis;
        }
        common::start_with(&args)
    }

    /// Creates a platform admin with the CLI on the shared database.
    async fn admin(&self, node: &common::Server, name: &str) -> String {
        let email = format!("{name}@example.com");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_coup-server"));
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("COUP_")) {
            command.env_remove(key);
        }
        let out = command
            .args(["create-admin", "--email", &email, "--name", name])
            .args(["--database", &self.database])
            .env("COUP_ADMIN_PASSWORD", "study-together-42")
            .env("RUST_LOG", "warn")
            .output()
            .expect("run create-admin");
        assert!(
            out.status.success(),
            "create-admin failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        node.post(
            "/api/auth/login",
            None,
            json!({"email": email, "password": "study-together-42"}),
        )
        .await
        .ok(200)["token"]
            .as_str()
            .expect("token")
            .to_owned()
    }
}

/// A Redis server of the test's own, so that restarting it disturbs no other test.
struct OwnRedis {
    port: u16,
    child: std::process::Child,
}

impl OwnRedis {
    fn start(port: u16) -> Self {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server (Debian package redis-server) must be installed");
        // Owned before waiting, so that a failure below still kills it (Drop).
        let redis = Self { port, child };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return redis;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start on port {port}");
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port()
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it outright (as a crash would) and starts it again on the same port.
    fn restart(mut self, down_for: Duration) -> Self {
        let port = self.port;
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(down_for);
        Self::start(port)
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until every node has heard all the others on the bus (it reports them
/// in `/metrics`), so that live state crosses from the first frame.
async fn settle(nodes: &[&common::Server]) {
    let expected = format!("coup_cluster_peers {}", nodes.len() - 1);
    for node in nodes {
        let mut heard = false;
        for _ in 0..100 {
            if node.metrics().await.lines().any(|line| line == expected) {
                heard = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(heard, "{} never reported `{expected}`", node.base);
    }
}

/// Three settled nodes and a study an owner on A made, joined by a member on B
/// and a third user on C.
struct Three {
    a: common::Server,
    b: common::Server,
    c: common::Server,
    /// (token, user id) of each.
    owner: (String, String),
    member: (String, String),
    third: (String, String),
    study: String,
}

async fn three(cluster: &Cluster, name: &str) -> Three {
    let (a, b, c) = (cluster.node(), cluster.node(), cluster.node());
    settle(&[&a, &b, &c]).await;
    let owner = a.signup("owner").await;
    let member = b.signup("member").await;
    let third = c.signup("third").await;
    let study = a.study(&owner.0, name, true, "AUTO").await;
    for (node, (token, _)) in [(&b, &member), (&c, &third)] {
        node.post(
            &format!("/api/studies/{study}/join"),
            Some(token),
            json!({}),
        )
        .await
        .ok(201);
    }
    Three {
        a,
        b,
        c,
        owner,
        member,
        third,
        study,
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL (COUP_TEST_POSTGRES_URL); CI runs it"]
async fn two_nodes_share_accounts_studies_and_gap_free_chat_sequences() {
    let (_schema, url) = postgres();
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
            json!({"email": "owner@example.com", "password": "study-together-42"}),
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
#[ignore = "needs PostgreSQL and Redis (COUP_TEST_POSTGRES_URL, COUP_TEST_REDIS_URL); CI runs it"]
async fn gaps_of_every_size_posted_on_one_node_are_replayed_on_another() {
    let cluster = Cluster::new();
    let (a, b) = (cluster.node(), cluster.node());
    settle(&[&a, &b]).await;
    let (owner, _) = a.signup("owner").await;
    let (member, member_id) = b.signup("member").await;
    let study = a.study(&owner, "Gaps", true, "AUTO").await;
    b.add_member(&study, &owner, &member, &member_id).await;
    common::catch_up::gap_table(&a, &b, &owner, &member, &study).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis (COUP_TEST_POSTGRES_URL, COUP_TEST_REDIS_URL); CI runs it"]
async fn live_events_cross_nodes_through_redis_exactly_once_and_survive_a_redis_restart() {
    // Runs its own Redis (restarted below), but keeps to the services the other
    // tests need, so that CI's configuration decides for all of them alike.
    service("COUP_TEST_REDIS_URL");
    let redis = OwnRedis::start(OwnRedis::free_port());
    let cluster = Cluster::with_redis(redis.url());
    let Three {
        a,
        b,
        c,
        owner: (owner, _),
        member: (member, member_id),
        third: (third, _),
        study,
    } = three(&cluster, "Across").await;
    let mut on_a = Ws::connect(&a, &owner).await;
    let mut on_b = Ws::connect(&b, &member).await;
    let mut on_c = Ws::connect(&c, &third).await;
    for ws in [&mut on_a, &mut on_b, &mut on_c] {
        ws.subscribe(&study, None).await;
    }
    let sent = on_a.chat(&study, "hello from node A", "x-1").await;
    for ws in [&mut on_b, &mut on_c] {
        assert_eq!(ws.recv_type("message").await["message"]["id"], sent["id"]);
    }
    // REST on B reaches a socket on A; notifications and kicks cross too. The
    // next message every socket gets is this one: a second copy of the first
    // (exactly once) would have come before it on the ordered bus.
    b.post(
        &format!("/api/studies/{study}/chat"),
        Some(&member),
        json!({"content": "from B over REST"}),
    )
    .await
    .ok(201);
    for ws in [&mut on_a, &mut on_b, &mut on_c] {
        assert_eq!(ws.recv_type("message").await["message"]["seq"], 2);
    }
    a.post(
        &format!("/api/studies/{study}/notices"),
        Some(&owner),
        json!({"title": "T", "content": "C"}),
    )
    .await
    .ok(201);
    for ws in [&mut on_b, &mut on_c] {
        assert_eq!(
            ws.recv_type("notification").await["notification"]["kind"],
            "NEW_NOTICE"
        );
    }
    // Redis crashes and comes back a second later while chat goes on: nodes
    // reconnect by themselves and fan-out resumes; what was missed meanwhile comes
    // back by resume.
    let restarting = std::thread::spawn(move || redis.restart(Duration::from_secs(1)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    // B last saw seq 2; everything A sends from here on must reach B exactly once,
    // live or by resume.
    let mut last_sent = 0;
    for i in 0..5 {
        last_sent = on_a
            .chat(
                &study,
                &format!("while Redis is down {i}"),
                &format!("d-{i}"),
            )
            .await["seq"]
            .as_i64()
            .expect("seq");
    }
    let mut delivered = false;
    for attempt in 0..40 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let sent = on_a
            .chat(
                &study,
                &format!("after the restart {attempt}"),
                &format!("r-{attempt}"),
            )
            .await;
        last_sent = sent["seq"].as_i64().expect("seq");
        let wait = Duration::from_millis(300);
        while let Ok(frame) = tokio::time::timeout(wait, on_b.recv_type("message")).await {
            if frame["message"]["id"] == sent["id"] {
                delivered = true;
            }
        }
        if delivered {
            break;
        }
    }
    assert!(delivered, "fan-out resumed after Redis came back");
    // The message above crossed on the study's channel, so B subscribed it
    // afresh; A and C did too.
    cluster.until_listeners(&study, 3).await;
    let _redis = restarting.join().expect("restart");
    drop(on_b);
    let mut again = Ws::connect(&b, &member).await;
    let (replayed, _) = again.resume(&study, Some(2), None).await;
    let seqs: Vec<i64> = replayed
        .iter()
        .filter(|f| f["type"] == "message")
        .filter_map(|f| f["message"]["seq"].as_i64())
        .collect();
    assert_eq!(
        seqs,
        (3..=last_sent).collect::<Vec<_>>(),
        "resume recovers every message, once, in order"
    );
    // Every message above reached B over the bus before `delivered`, so B's own
    // fence covers a duplicate of any of them.
    again.expect_none("message").await;

    a.delete(
        &format!("/api/studies/{study}/members/{member_id}"),
        Some(&owner),
    )
    .await;
    assert_eq!(again.recv_type("unsubscribed").await["reason"], "KICKED");
}

/// How many bus messages of `kind` the node received from its peers.
async fn received(node: &common::Server, kind: &str) -> u64 {
    let prefix = format!("coup_bus_received_total{{kind=\"{kind}\"}} ");
    node.metrics()
        .await
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |count| count.parse().expect("a count"))
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis (COUP_TEST_POSTGRES_URL, COUP_TEST_REDIS_URL); CI runs it"]
async fn a_node_receives_only_the_traffic_of_studies_it_has_subscribers_of() {
    let cluster = Cluster::new();
    let (a, b) = (cluster.node(), cluster.node());
    settle(&[&a, &b]).await;
    let (owner, _) = a.signup("owner").await;
    let (member, member_id) = b.signup("member").await;
    let quiet = a.study(&owner, "Quiet on B", true, "AUTO").await;
    let shared = a.study(&owner, "Shared", true, "AUTO").await;
    for study in [&quiet, &shared] {
        b.add_member(study, &owner, &member, &member_id).await;
    }
    let mut on_a = Ws::connect(&a, &owner).await;
    for study in [&quiet, &shared] {
        on_a.subscribe(study, None).await;
    }
    let mut on_b = Ws::connect(&b, &member).await;
    on_b.subscribe(&shared, None).await;
    // `subscribed` comes once Redis confirmed the channel, so these hold now.
    assert_eq!(cluster.listeners(&quiet), 1, "A only");
    assert_eq!(cluster.listeners(&shared), 2, "A and B");
    let post = |study: &str, content: &str| {
        let (path, body) = (
            format!("/api/studies/{study}/chat"),
            json!({"content": content}),
        );
        let (a, owner) = (&a, &owner);
        async move { a.post(&path, Some(owner), body).await.ok(201) }
    };
    // A fence: B has applied everything A published before this message.
    post(&shared, "fence").await;
    on_b.recv_type("message").await;
    let before = received(&b, "events").await;
    for i in 0..5 {
        post(&quiet, &format!("quiet {i}")).await;
    }
    on_a.send(json!({"type": "typing", "studyId": quiet, "typing": true}))
        .await;
    // A's own copy: A has shared it before the next post.
    on_a.recv_type("typing").await;
    post(&shared, "after the quiet ones").await;
    assert_eq!(
        on_b.recv_type("message").await["message"]["content"],
        "after the quiet ones"
    );
    assert_eq!(
        received(&b, "events").await - before,
        1,
        "only the shared study's message reached B"
    );
    assert_eq!(received(&b, "typing").await, 0);

    // The last subscriber of the shared study on B leaves: B stops listening.
    on_b.send(json!({"type": "unsubscribe", "requestId": "u", "studyId": shared}))
        .await;
    on_b.recv_type("unsubscribed").await;
    cluster.until_listeners(&shared, 1).await;
    let before = received(&b, "events").await;
    post(&shared, "B is not listening").await;
    // A notice notifies the member wherever they are (base channel): the fence.
    a.post(
        &format!("/api/studies/{shared}/notices"),
        Some(&owner),
        json!({"title": "T", "content": "C"}),
    )
    .await
    .ok(201);
    on_b.recv_type("notification").await;
    on_b.expect_none("message").await;
    assert_eq!(
        received(&b, "events").await - before,
        1,
        "the notification only"
    );
}

/// A TCP proxy to `upstream` that delays what clients send by `delay` (not what
/// comes back), keeping its order: a slow link from one node to Redis.
async fn slow_link(upstream: String, delay: Duration) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                return;
            };
            let ((mut from_client, mut to_client), (mut from_server, mut to_server)) =
                (client.into_split(), server.into_split());
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
            });
            let (tx, mut rx) =
                tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
            tokio::spawn(async move {
                while let Some((at, bytes)) = rx.recv().await {
                    tokio::time::sleep_until(at).await;
                    if to_server.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
            });
            tokio::spawn(async move {
                let mut buf = vec![0; 16 * 1024];
                while let Ok(n @ 1..) = from_client.read(&mut buf).await {
                    let at = tokio::time::Instant::now() + delay;
                    if tx.send((at, buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

// Several threads: the slow link must run while the harness blocks starting a
// server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis (COUP_TEST_POSTGRES_URL, COUP_TEST_REDIS_URL); CI runs it"]
async fn a_node_gaining_its_first_subscriber_mid_traffic_misses_nothing() {
    const ROUNDS: usize = 4;
    let cluster = Cluster::new();
    // B's subscriptions reach Redis 300 ms late, while A posts without pause:
    // a catch-up read that did not wait for Redis's confirmation would miss
    // the messages A published meanwhile.
    let upstream = cluster.redis.trim_start_matches("redis://").to_owned();
    let slow = slow_link(upstream, Duration::from_millis(300)).await;
    let (a, b) = (cluster.node(), cluster.node_on(&format!("redis://{slow}")));
    settle(&[&a, &b]).await;
    let (owner, _) = a.signup("owner").await;
    let (member, member_id) = b.signup("member").await;
    let study = a.study(&owner, "Busy", true, "AUTO").await;
    b.add_member(&study, &owner, &member, &member_id).await;
    // A posts without pause until told to stop; returns how many it posted.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let traffic = {
        let (http, url) = (a.http.clone(), a.url(&format!("/api/studies/{study}/chat")));
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut posted = 0_i64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let res = http
                    .post(&url)
                    .bearer_auth(&owner)
                    .json(&json!({"content": format!("busy {posted}")}))
                    .send()
                    .await
                    .expect("send");
                assert_eq!(res.status().as_u16(), 201);
                posted += 1;
            }
            posted
        })
    };
    // B's only subscriber comes and goes while A posts, so B watches the
    // study's channel afresh each time; every message must arrive once, by
    // replay or live.
    let mut on_b = Ws::connect(&b, &member).await;
    let mut seqs: Vec<i64> = Vec::new();
    let seq = |frame: &serde_json::Value| frame["message"]["seq"].as_i64();
    let seen = |seqs: &[i64]| Some(seqs.last().copied().unwrap_or(0));
    for _ in 0..ROUNDS {
        let (replayed, _) = on_b.resume(&study, seen(&seqs), None).await;
        seqs.extend(replayed.iter().filter_map(seq));
        for _ in 0..3 {
            seqs.extend(seq(&on_b.recv_type("message").await));
        }
        on_b.send(json!({"type": "unsubscribe", "requestId": "u", "studyId": study}))
            .await;
        loop {
            let frame = on_b.recv().await;
            if frame["type"] == "unsubscribed" {
                break;
            }
            seqs.extend(seq(&frame));
        }
        cluster.until_listeners(&study, 0).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let posted = traffic.await.expect("traffic");
    let (replayed, _) = on_b.resume(&study, seen(&seqs), None).await;
    seqs.extend(replayed.iter().filter_map(seq));
    assert_eq!(
        seqs,
        (1..=posted).collect::<Vec<_>>(),
        "once each, in order"
    );
}

/// The next presence change about a user other than `me`.
async fn next_presence_of_other(ws: &mut Ws, me: &str) -> (String, bool) {
    loop {
        let frame = ws.recv_type("presence").await;
        let user = frame["userId"].as_str().expect("userId");
        if user != me {
            return (user.to_owned(), frame["online"] == true);
        }
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis (COUP_TEST_POSTGRES_URL, COUP_TEST_REDIS_URL); CI runs it"]
async fn typing_presence_and_calls_cross_nodes() {
    let cluster = Cluster::new();
    let Three {
        a,
        b,
        c,
        owner: (owner, owner_id),
        member: (member, member_id),
        third: (third, third_id),
        study,
    } = three(&cluster, "Live").await;
    let mut on_a = Ws::connect(&a, &owner).await;
    on_a.subscribe(&study, None).await;
    let mut on_b = Ws::connect(&b, &member).await;
    on_b.subscribe(&study, None).await;
    assert_eq!(
        next_presence_of_other(&mut on_a, &owner_id).await,
        (member_id.clone(), true)
    );
    // A second device of the member on another node changes nothing for others.
    let mut member_second = Ws::connect(&c, &member).await;
    member_second.subscribe(&study, None).await;
    let mut on_c = Ws::connect(&c, &third).await;
    let subscribed = on_c.subscribe(&study, None).await;
    let mut online: Vec<&str> = subscribed["online"]
        .as_array()
        .expect("online")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    online.sort();
    let mut expected = vec![owner_id.as_str(), member_id.as_str(), third_id.as_str()];
    expected.sort();
    assert_eq!(online, expected, "the online list spans every node");
    // Node C would have announced the member's second device (subscribed first,
    // on the same node) before the third user, so the next change says it all.
    assert_eq!(
        next_presence_of_other(&mut on_a, &owner_id).await,
        (third_id.clone(), true),
        "the member's second device is not announced; the third user is"
    );

    // Typing on B shows on A and C.
    on_b.send(json!({"type": "typing", "studyId": study, "typing": true}))
        .await;
    for ws in [&mut on_a, &mut on_c] {
        let typing = ws.recv_type("typing").await;
        assert_eq!(
            (typing["userId"].as_str(), typing["typing"].as_bool()),
            (Some(member_id.as_str()), Some(true))
        );
    }

    // A call between A and B: join, offer/answer/ICE, media, leave.
    on_a.send(json!({"type": "callJoin", "requestId": "j", "studyId": study, "media": {"mic": true, "camera": true, "screen": false}})).await;
    on_a.recv_type("callJoined").await;
    assert_eq!(
        on_b.recv_type("callParticipantJoined").await["participant"]["userId"],
        owner_id.as_str()
    );
    on_b.send(json!({"type": "callJoin", "requestId": "j", "studyId": study}))
        .await;
    let joined = on_b.recv_type("callJoined").await;
    assert_eq!(
        joined["participants"].as_array().map(Vec::len),
        Some(2),
        "the participant on node A is listed on node B"
    );
    assert_eq!(
        on_a.recv_type("callParticipantJoined").await["participant"]["userId"],
        member_id.as_str()
    );
    // The member's other device (node C) cannot join the same call twice.
    member_second
        .send(json!({"type": "callJoin", "requestId": "twice", "studyId": study}))
        .await;
    assert_eq!(member_second.recv_type("error").await["code"], "CONFLICT");
    on_a.send(json!({"type": "signal", "requestId": "o", "studyId": study, "to": member_id, "kind": "offer", "payload": {"sdp": "v=0 offer"}})).await;
    let offer = on_b.recv_type("signal").await;
    assert_eq!(
        (
            offer["from"].as_str(),
            offer["kind"].as_str(),
            offer["payload"]["sdp"].as_str()
        ),
        (Some(owner_id.as_str()), Some("offer"), Some("v=0 offer"))
    );
    on_b.send(json!({"type": "signal", "studyId": study, "to": owner_id, "kind": "answer", "payload": {"sdp": "v=0 answer"}})).await;
    assert_eq!(on_a.recv_type("signal").await["kind"], "answer");
    on_b.send(json!({"type": "signal", "studyId": study, "to": owner_id, "kind": "iceCandidate", "payload": {"candidate": "ice-b"}})).await;
    assert_eq!(
        on_a.recv_type("signal").await["payload"]["candidate"],
        "ice-b"
    );
    on_b.send(json!({"type": "media", "requestId": "m", "studyId": study, "media": {"mic": false, "camera": true, "screen": true}})).await;
    for ws in [&mut on_a, &mut on_c] {
        assert_eq!(ws.recv_type("callMedia").await["media"]["screen"], true);
    }
    // Signals never reach someone outside the call, on any node. Node C applied
    // the media change (on_c got it) after every signal sent before it — the bus
    // delivers in order — so a fence on C's sockets covers a misrouted signal.
    for ws in [&mut on_c, &mut member_second] {
        ws.expect_none("signal").await;
    }
    on_a.send(json!({"type": "signal", "requestId": "t", "studyId": study, "to": third_id, "kind": "offer", "payload": {}})).await;
    assert_eq!(on_a.recv_type("error").await["code"], "NOT_FOUND");

    // The member's node-B socket goes: they leave the call; the device on C keeps
    // them online.
    drop(on_b);
    for ws in [&mut on_a, &mut on_c] {
        assert_eq!(
            ws.recv_type("callParticipantLeft").await["userId"],
            member_id.as_str()
        );
    }
    // Node B shared the member's presence change right after the call leave; a
    // message posted on B afterwards comes behind both on the bus.
    b.post(
        &format!("/api/studies/{study}/chat"),
        Some(&member),
        json!({"content": "after the socket went"}),
    )
    .await
    .ok(201);
    on_a.expect_none_before("presence", "message").await;
    drop(member_second);
    assert_eq!(
        next_presence_of_other(&mut on_a, &owner_id).await,
        (member_id, false)
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis (COUP_TEST_POSTGRES_URL, COUP_TEST_REDIS_URL); CI runs it"]
async fn a_dead_node_takes_its_users_offline_elsewhere_within_the_expiry() {
    let cluster = Cluster::new();
    let Three {
        a,
        b,
        c,
        owner: (owner, owner_id),
        member: (member, member_id),
        third: (third, third_id),
        study,
    } = three(&cluster, "Fragile").await;
    let mut on_a = Ws::connect(&a, &owner).await;
    on_a.subscribe(&study, None).await;
    let mut on_b = Ws::connect(&b, &member).await;
    on_b.subscribe(&study, None).await;
    let mut on_c = Ws::connect(&c, &third).await;
    on_c.subscribe(&study, None).await;
    on_b.send(json!({"type": "callJoin", "requestId": "j", "studyId": study}))
        .await;
    on_b.recv_type("callJoined").await;
    // A hears both users come online and the member take a seat in the call
    // before B dies: B shares the seat on the bus after answering the join,
    // and a kill -9 before A heard of it would leave A nothing to end.
    let mut arrived = Vec::new();
    let mut seated = false;
    while arrived.len() < 2 || !seated {
        let frame = on_a.recv().await;
        match frame["type"].as_str() {
            Some("presence") if frame["userId"] != owner_id.as_str() => arrived.push((
                frame["userId"].as_str().expect("userId").to_owned(),
                frame["online"] == true,
            )),
            Some("callParticipantJoined") => {
                assert_eq!(frame["participant"]["userId"], member_id.as_str());
                seated = true;
            }
            _ => {}
        }
    }
    arrived.sort();
    let mut expected = vec![(member_id.clone(), true), (third_id.clone(), true)];
    expected.sort();
    assert_eq!(arrived, expected);

    // kill -9 of node B: nothing says goodbye; its users expire on A (expiry 3 s).
    let killed_at = std::time::Instant::now();
    drop(b);
    let left = tokio::time::timeout(
        Duration::from_secs(10),
        next_presence_of_other(&mut on_a, &owner_id),
    )
    .await
    .expect("offline within the bound");
    assert_eq!(left, (member_id.clone(), false));
    let took = killed_at.elapsed();
    assert!(took <= Duration::from_secs(5), "took {took:?}");
    assert_eq!(
        on_a.recv_type("callParticipantLeft").await["userId"],
        member_id.as_str()
    );

    // A graceful stop (SIGTERM) of node C says goodbye: its users go offline at
    // once, while their sockets are still open.
    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &c.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(stopped.success());
    let left = tokio::time::timeout(
        Duration::from_secs(2),
        next_presence_of_other(&mut on_a, &owner_id),
    )
    .await
    .expect("offline before the expiry");
    assert_eq!(left, (third_id, false));
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis (COUP_TEST_POSTGRES_URL, COUP_TEST_REDIS_URL); CI runs it"]
async fn a_suspension_on_one_node_closes_the_users_sockets_on_every_node() {
    let cluster = Cluster::new();
    let (a, b, c) = (cluster.node(), cluster.node(), cluster.node());
    settle(&[&a, &b, &c]).await;
    let admin = cluster.admin(&c, "admin").await;
    let (on_a_token, user_id) = a.signup("user").await;
    let on_b_token = b
        .post(
            "/api/auth/login",
            None,
            json!({"email": "user@example.com", "password": "study-together-42"}),
        )
        .await
        .ok(200)["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let mut on_a = Ws::connect(&a, &on_a_token).await;
    let mut on_b = Ws::connect(&b, &on_b_token).await;
    c.post(
        &format!("/api/admin/users/{user_id}/suspend"),
        Some(&admin),
        json!({"reason": "spam"}),
    )
    .await
    .ok(200);
    assert_eq!(on_a.closed().await, 4003);
    assert_eq!(on_b.closed().await, 4003);
    for (node, token) in [(&a, &on_a_token), (&b, &on_b_token)] {
        node.get("/api/users/me", Some(token))
            .await
            .err(401, "UNAUTHORIZED");
    }
    let again = a
        .post(
            "/api/auth/login",
            None,
            json!({"email": "user@example.com", "password": "study-together-42"}),
        )
        .await;
    assert_eq!(again.status.as_u16(), 403, "{:?}", again.body);
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis (COUP_TEST_POSTGRES_URL, COUP_TEST_REDIS_URL); CI runs it"]
async fn login_limits_count_attempts_on_every_node_together() {
    let cluster = Cluster::new();
    let (a, b) = (cluster.node(), cluster.node());
    a.signup("target").await;
    let wrong = json!({"email": "target@example.com", "password": "not-the-password"});
    // Three attempts a minute per account, spread over both nodes.
    for node in [&a, &b, &a] {
        node.post("/api/auth/login", None, wrong.clone())
            .await
            .err(401, "UNAUTHORIZED");
    }
    let refused = b.post("/api/auth/login", None, wrong.clone()).await;
    refused.err(429, "RATE_LIMITED");
    let retry_after: u64 = refused
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    a.post(
        "/api/auth/login",
        None,
        json!({"email": "target@example.com", "password": "study-together-42"}),
    )
    .await
    .err(429, "RATE_LIMITED");
}

/// A TCP proxy in front of PostgreSQL that the test can cut and restore.
struct Proxy {
    addr: std::net::SocketAddr,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (cut, watch) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let mut watch = watch.clone();
                if *watch.borrow() {
                    let _ = client.shutdown().await;
                    continue;
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = watch.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Self { addr, cut }
    }

    fn set_cut(&self, cut: bool) {
        self.cut.send_replace(cut);
    }
}

// Several threads: the proxy must run while the harness blocks starting the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (COUP_TEST_POSTGRES_URL); CI runs it"]
async fn postgres_outage_fails_readiness_and_requests_with_503_then_recovers() {
    let (_schema, url) = postgres();
    // postgres://user@HOST:PORT/db?...: route HOST:PORT through the proxy.
    let authority_start = url.find('@').map_or("postgres://".len(), |at| at + 1);
    let authority_end = url[authority_start..]
        .find('/')
        .map_or(url.len(), |i| authority_start + i);
    let upstream = url[authority_start..authority_end].to_owned();
    let proxy = Proxy::start(upstream).await;
    let through = format!(
        "{}{}{}",
        &url[..authority_start],
        proxy.addr,
        &url[authority_end..]
    );
    let node = common::start_with(&["--database", &through]);
    let (token, _) = node.signup("owner").await;
    node.get("/api/studies", Some(&token)).await.ok(200);
    let ready = || async {
        node.http
            .get(node.url("/readyz"))
            .send()
            .await
            .expect("readyz")
            .status()
            .as_u16()
    };
    assert_eq!(ready().await, 200);

    proxy.set_cut(true);
    assert_eq!(ready().await, 503, "not ready while PostgreSQL is away");
    node.get("/api/studies", Some(&token))
        .await
        .err(503, "UNAVAILABLE");
    node.post(
        "/api/studies",
        Some(&token),
        json!({"name": "Lost?", "description": "d", "category": "c", "tags": [], "maxMembers": 5, "isPublic": true, "joinPolicy": "AUTO"}),
    )
    .await
    .err(503, "UNAVAILABLE");

    proxy.set_cut(false);
    let mut back = false;
    for _ in 0..50 {
        if ready().await == 200 {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(back, "ready again once PostgreSQL answers");
    let studies = node.get("/api/studies", Some(&token)).await.ok(200);
    assert_eq!(studies["total"], 0, "the refused write left nothing behind");
}
