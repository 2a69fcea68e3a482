//! The servers under test: a `coup-server` process on a freshly seeded data
//! directory, or the Node Socket.IO peer; and what `/proc` says about them.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use tokio::process::{Child, Command};

use crate::seed::{self, Room};

/// Which server a scenario runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// `coup-server` on SQLite (every chat message is committed before fan-out).
    Coup,
    /// The Node Socket.IO v4 peer in `bench/peers/socketio` (in memory only).
    Socketio,
}

impl Target {
    /// As in the JSON results and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Target::Coup => "coup",
            Target::Socketio => "socketio",
        }
    }

    /// As in the tables.
    pub fn label(self) -> &'static str {
        match self {
            Target::Coup => "CoUp",
            Target::Socketio => "Socket.IO",
        }
    }
}

/// Where to find the programs to start.
#[derive(Debug, Clone, clap::Args)]
pub struct Programs {
    /// The coup-server binary (a release build for numbers worth quoting).
    #[arg(long, default_value = "target/release/coup-server")]
    pub coup_server: PathBuf,
    /// The Node binary for the Socket.IO peer.
    #[arg(long, default_value = "node")]
    pub node: PathBuf,
    /// The Socket.IO peer's directory (with `npm ci` done).
    #[arg(long, default_value = "bench/peers/socketio")]
    pub peer_dir: PathBuf,
}

/// A running server under test; killed when dropped.
pub struct Server {
    pub target: Target,
    pub addr: SocketAddr,
    pub rooms: Vec<Room>,
    child: Child,
    _data: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts `target` with `rooms` rooms of `room_size` members seeded (CoUp), or
    /// named (Socket.IO, which has no accounts).
    pub async fn start(
        target: Target,
        programs: &Programs,
        rooms: usize,
        room_size: usize,
    ) -> Result<Self> {
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let (child, data, rooms) = match target {
            Target::Coup => {
                let dir = tempfile::tempdir()?;
                let path = dir.path().to_owned();
                let seeded =
                    tokio::task::spawn_blocking(move || seed::seed(&path, rooms, room_size))
                        .await??;
                let child = Command::new(&programs.coup_server)
                    .arg("serve")
                    .arg("--bind")
                    .arg(addr.to_string())
                    .arg("--data-dir")
                    .arg(dir.path())
                    .env("RUST_LOG", "warn")
                    .stdout(Stdio::null())
                    .kill_on_drop(true)
                    .spawn()
                    .with_context(|| format!("starting {}", programs.coup_server.display()))?;
                (child, Some(dir), seeded)
            }
            Target::Socketio => {
                let child = Command::new(&programs.node)
                    .arg("server.js")
                    .current_dir(&programs.peer_dir)
                    .env("PORT", port.to_string())
                    .stdout(Stdio::null())
                    .kill_on_drop(true)
                    .spawn()
                    .with_context(|| format!("starting {} server.js", programs.node.display()))?;
                let rooms = (0..rooms)
                    .map(|r| Room {
                        study_id: format!("room-{r}"),
                        tokens: (0..room_size).map(|m| format!("peer-{r}-{m}")).collect(),
                    })
                    .collect();
                (child, None, rooms)
            }
        };
        let mut server = Self {
            target,
            addr,
            rooms,
            child,
            _data: data,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let url = match self.target {
            Target::Coup => format!("http://{}/readyz", self.addr),
            Target::Socketio => format!("http://{}/healthz", self.addr),
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("{} exited while starting: {status}", self.target.label());
            }
            if let Ok(resp) = http.get(&url).send().await
                && resp.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{} did not become ready at {url}", self.target.label())
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Resident memory of a process, in bytes (`VmRSS`).
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// User plus system CPU time of a process (or `self`), in seconds.
pub fn cpu_secs(pid: Option<u32>) -> f64 {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    cpu_from_stat(&std::fs::read_to_string(path).unwrap_or_default())
}

/// Fields 14 and 15 of `/proc/PID/stat` (after the parenthesised command name),
/// in clock ticks of 1/100 s (USER_HZ on Linux).
fn cpu_from_stat(stat: &str) -> f64 {
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_after_the_command_name() {
        let stat = "4242 (node server) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20 0";
        assert_eq!(cpu_from_stat(stat), 4.0);
        assert_eq!(cpu_from_stat("garbage"), 0.0);
    }

    #[test]
    fn this_process_has_memory_and_cpu() {
        assert!(rss_bytes(std::process::id()) > 0);
        assert!(cpu_secs(None) >= 0.0);
    }
}
