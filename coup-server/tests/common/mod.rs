//! Starts the real `coup-server` binary on an ephemeral port with a temporary data
//! directory, and talks HTTP to it.

#![allow(dead_code)]

pub mod app;
pub mod catch_up;
pub mod raw_ws;
pub mod ws;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The password every test account is created with (strong enough for the
/// server's strength rule).
pub const PASSWORD: &str = "study-together-42";

pub struct Server {
    pub base: String,
    pub http: reqwest::Client,
    pub child: Child,
    pub dir: tempfile::TempDir,
    /// The extra command-line arguments it was started with.
    pub args: Vec<String>,
}

/// A server that was stopped: its data directory and the address it listened on,
/// to start it again where clients expect it.
pub struct Stopped {
    pub dir: tempfile::TempDir,
    pub addr: String,
    pub args: Vec<String>,
}

impl Server {
    /// Kills the server at once (no graceful shutdown), keeping its data and address.
    pub fn stop(mut self) -> Stopped {
        let _ = self.child.kill();
        let _ = self.child.wait();
        Stopped {
            dir: std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir")),
            addr: self.base.trim_start_matches("http://").to_owned(),
            args: std::mem::take(&mut self.args),
        }
    }
}

impl Stopped {
    /// Starts the server again on the same address over the same data directory.
    pub fn start(self) -> Server {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let mut dir = self.dir;
        // The old socket may hold the port for a moment after the kill.
        for _ in 0..50 {
            match try_start(dir, &self.addr, &args) {
                Ok(server) => return server,
                Err(back) => dir = back,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("could not start the server again on {}", self.addr);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch schema on the PostgreSQL server at `url`, and the URL of a
/// database connection that uses it (dropping the schema removes it).
pub fn scratch_database(url: &str) -> (coup_core::store::postgres::ScratchSchema, String) {
    let schema = coup_core::store::postgres::ScratchSchema::create(url).expect("scratch schema");
    let separator = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{separator}options=-c%20search_path%3D{}", schema.name);
    (schema, scoped)
}

/// A server with default settings.
pub fn start() -> Server {
    start_with(&[])
}

/// A server with extra command-line arguments.
pub fn start_with(args: &[&str]) -> Server {
    start_in(tempfile::tempdir().expect("tempdir"), args)
}

/// A server over an existing data directory (for restarts).
pub fn start_in(dir: tempfile::TempDir, args: &[&str]) -> Server {
    match try_start(dir, "127.0.0.1:0", args) {
        Ok(server) => server,
        Err(_) => panic!("the server did not start"),
    }
}

/// Starts a server on `bind` over `dir`; gives `dir` back if it did not come up
/// (e.g. the address is still taken).
fn try_start(
    dir: tempfile::TempDir,
    bind: &str,
    args: &[&str],
) -> Result<Server, tempfile::TempDir> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_coup-server"));
    // The server refuses unknown COUP_* variables, so the test's own settings stay out.
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("COUP_")) {
        command.env_remove(key);
    }
    let mut child = command
        .args(["--bind", bind, "--data-dir"])
        .arg(dir.path().join("data"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(if std::env::var_os("COUP_TEST_SERVER_LOGS").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .spawn()
        .expect("spawn coup-server");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the listening line");
    let Some(base) = line.trim().strip_prefix("listening on ").map(str::to_owned) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(dir);
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    Ok(Server {
        base,
        http,
        child,
        dir,
        args: args.iter().map(|a| (*a).to_owned()).collect(),
    })
}

/// A response: status and JSON body (or `Null`).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    /// The error code of an error response.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts a status and returns the body.
    #[track_caller]
    pub fn ok(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected response: {:?}",
            self.body
        );
        self.body
    }

    /// Asserts an error status and code.
    #[track_caller]
    pub fn err(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status.as_u16(), self.code()),
            (status, code),
            "unexpected response: {:?}",
            self.body
        );
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The server's `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// `coup_ws_connections` from `/metrics`: the sockets the gateway holds.
    pub async fn ws_connections(&self) -> u64 {
        self.metrics()
            .await
            .lines()
            .find_map(|l| l.strip_prefix("coup_ws_connections "))
            .and_then(|n| n.trim().parse::<f64>().ok())
            .map_or(0, |n| n as u64)
    }

    /// Waits (up to 10 s) until the gateway holds `n` sockets: the server has
    /// then finished with every socket that closed.
    pub async fn wait_ws_connections(&self, n: u64) {
        for _ in 0..200 {
            if self.ws_connections().await == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server never held {n} sockets");
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        Resp::from(res).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.call(Method::DELETE, path, token, None).await
    }

    /// Signs a new user up; returns (token, user id).
    pub async fn signup(&self, name: &str) -> (String, String) {
        let body = self
            .post(
                "/api/auth/signup",
                None,
                json!({"email": format!("{name}@example.com"), "password": PASSWORD, "name": name}),
            )
            .await
            .ok(201);
        (
            body["token"].as_str().expect("token").to_owned(),
            body["user"]["id"].as_str().expect("id").to_owned(),
        )
    }

    /// Creates a study owned by `token`; returns its id.
    pub async fn study(&self, token: &str, name: &str, public: bool, policy: &str) -> String {
        let body = self
            .post(
                "/api/studies",
                Some(token),
                json!({"name": name, "description": "desc", "category": "프로그래밍", "tags": ["rust"],
                       "maxMembers": 10, "isPublic": public, "joinPolicy": policy}),
            )
            .await
            .ok(201);
        body["id"].as_str().expect("id").to_owned()
    }

    /// Makes `member` an active member of `study` owned by `owner`.
    pub async fn add_member(&self, study: &str, owner: &str, member_token: &str, member_id: &str) {
        let joined = self
            .post(
                &format!("/api/studies/{study}/join"),
                Some(member_token),
                json!({}),
            )
            .await
            .ok(201);
        if joined["status"] == "PENDING" {
            self.post(
                &format!("/api/studies/{study}/members/{member_id}/approve"),
                Some(owner),
                json!({}),
            )
            .await
            .ok(200);
        }
    }
}

impl Resp {
    pub async fn from(res: reqwest::Response) -> Self {
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Self {
            status,
            body,
            headers,
        }
    }
}

impl Server {
    /// Creates a platform admin with the CLI against this server's data directory
    /// (while it runs) and logs them in; returns (token, user id).
    pub async fn admin(&self, name: &str, system: bool) -> (String, String) {
        let email = format!("{name}@example.com");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_coup-server"));
        cmd.args([
            "create-admin",
            "--email",
            &email,
            "--name",
            name,
            "--data-dir",
        ])
        .arg(self.dir.path().join("data"))
        .env("COUP_ADMIN_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn");
        if system {
            cmd.arg("--system");
        }
        let out = cmd.output().expect("run create-admin");
        assert!(
            out.status.success(),
            "create-admin failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let body = self
            .post(
                "/api/auth/login",
                None,
                json!({"email": email, "password": PASSWORD}),
            )
            .await
            .ok(200);
        (
            body["token"].as_str().expect("token").to_owned(),
            body["user"]["id"].as_str().expect("id").to_owned(),
        )
    }
}
