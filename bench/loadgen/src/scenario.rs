//! The scenarios of BENCHMARKS.md and how each is run and measured.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::server::{Programs, Server, Target, cpu_secs, rss_bytes};
use crate::swarm::{Phase, Swarm, Tally};

/// A scenario by name: `chat-<N>`, `idle-<N>` (N like `300`, `5k`), `max-fanout`,
/// `rest-list` or `rest-chat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// N clients in rooms, each sending one message per interval.
    Chat(usize),
    /// N clients connected, authenticated and subscribed, sending nothing.
    Idle(usize),
    /// A fixed swarm whose send rate rises step by step until p99 passes the
    /// bound or a delivery is lost.
    MaxFanout,
    /// `GET /api/studies?page=1&limit=20` as fast as it is answered.
    RestList,
    /// `POST /api/studies/{id}/chat` as fast as it is answered.
    RestChat,
}

impl FromStr for Scenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let count = |n: &str| -> Result<usize, String> {
            let (digits, scale) = match n.strip_suffix('k') {
                Some(d) => (d, 1000),
                None => (n, 1),
            };
            match digits.parse::<usize>() {
                Ok(v) if v > 0 => Ok(v * scale),
                _ => Err(format!("`{n}` is not a connection count like 300 or 5k")),
            }
        };
        match s {
            "max-fanout" => Ok(Self::MaxFanout),
            "rest-list" => Ok(Self::RestList),
            "rest-chat" => Ok(Self::RestChat),
            _ => match s.split_once('-') {
                Some(("chat", n)) => count(n).map(Self::Chat),
                Some(("idle", n)) => count(n).map(Self::Idle),
                _ => Err(format!(
                    "unknown scenario `{s}`: use chat-N, idle-N, max-fanout, rest-list or rest-chat"
                )),
            },
        }
    }
}

impl std::fmt::Display for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = |n: usize| {
            if n >= 1000 && n.is_multiple_of(1000) {
                format!("{}k", n / 1000)
            } else {
                n.to_string()
            }
        };
        match self {
            Self::Chat(c) => write!(f, "chat-{}", n(*c)),
            Self::Idle(c) => write!(f, "idle-{}", n(*c)),
            Self::MaxFanout => f.write_str("max-fanout"),
            Self::RestList => f.write_str("rest-list"),
            Self::RestChat => f.write_str("rest-chat"),
        }
    }
}

impl Scenario {
    /// Whether the Socket.IO peer can run it (it has no REST API).
    pub fn runs_on(self, target: Target) -> bool {
        !matches!(self, Self::RestList | Self::RestChat) || target == Target::Coup
    }
}

/// Knobs shared by the scenarios.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Clients per room (study).
    #[arg(long, default_value_t = 50)]
    pub room_size: usize,
    /// Each client sends one message per this many milliseconds (chat scenarios).
    #[arg(long, default_value_t = 10_000)]
    pub interval_ms: u64,
    /// Length of the send phase of the chat scenarios, and of each REST run.
    #[arg(long, default_value_t = 30)]
    pub send_secs: u64,
    /// Clients of the max-fanout scenario.
    #[arg(long, default_value_t = 1000)]
    pub fanout_clients: usize,
    /// Length of each rate step of the max-fanout scenario.
    #[arg(long, default_value_t = 8)]
    pub step_secs: u64,
    /// The p99 latency bound of the max-fanout scenario, in milliseconds.
    #[arg(long, default_value_t = 50.0)]
    pub p99_bound_ms: f64,
    /// Concurrent requests of the REST scenarios.
    #[arg(long, default_value_t = 32)]
    pub rest_concurrency: usize,
}

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    fn of(h: &Histogram<u64>, unit_per_ms: f64) -> Option<Self> {
        (!h.is_empty()).then(|| {
            let q = |q: f64| h.value_at_quantile(q) as f64 / unit_per_ms;
            Self {
                p50: q(0.5),
                p90: q(0.9),
                p99: q(0.99),
                p999: q(0.999),
                max: h.max() as f64 / unit_per_ms,
            }
        })
    }
}

/// One step of the max-fanout scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub messages_per_sec: f64,
    pub deliveries_per_sec: f64,
    pub loss_percent: f64,
    pub latency_ms: Option<Latency>,
}

/// What one scenario measured against one target.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Measurement {
    pub scenario: String,
    pub target: String,
    pub clients: u64,
    pub connected: u64,
    pub failed: u64,
    pub dropped: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_failure: Option<String>,
    pub sent: u64,
    pub expected: u64,
    pub received: u64,
    pub loss_percent: f64,
    pub latency_ms: Option<Latency>,
    /// Server RSS after starting, before any client connected.
    pub rss_base_mb: f64,
    /// Server RSS with every client connected and quiet.
    pub rss_idle_mb: f64,
    /// Highest server RSS sampled during the scenario.
    pub rss_peak_mb: f64,
    /// Server CPU time during the send phase (or the REST run).
    pub server_cpu_secs: f64,
    /// The load generator's own CPU time over the same span.
    pub loadgen_cpu_secs: f64,
    /// Seconds of sending (or requesting).
    pub active_secs: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliveries_per_sec: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub steps: Vec<Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_per_sec: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_errors: Option<u64>,
}

impl Measurement {
    /// Server RSS per 1,000 connected clients when idle, in MB.
    pub fn mb_per_1k(&self) -> Option<f64> {
        (self.connected > 0).then(|| self.rss_idle_mb / self.connected as f64 * 1000.0)
    }

    /// Server CPU per delivery, in microseconds (chat scenarios and their floor).
    pub fn us_per_delivery(&self) -> Option<f64> {
        (self.received > 0).then(|| self.server_cpu_secs / self.received as f64 * 1e6)
    }

    /// What 1,000 connected clients added to the server's RSS, in MB: the idle RSS
    /// less the RSS before any client connected, per 1,000 clients.
    pub fn added_mb_per_1k(&self) -> Option<f64> {
        (self.connected > 0)
            .then(|| (self.rss_idle_mb - self.rss_base_mb) / self.connected as f64 * 1000.0)
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

/// Runs one scenario against one target on a fresh server.
pub async fn run(
    scenario: Scenario,
    target: Target,
    programs: &Programs,
    settings: &Settings,
) -> Result<Measurement> {
    if !scenario.runs_on(target) {
        bail!("{scenario} runs against CoUp only");
    }
    let clients = match scenario {
        Scenario::Chat(n) | Scenario::Idle(n) => n,
        Scenario::MaxFanout => settings.fanout_clients,
        Scenario::RestList | Scenario::RestChat => 2000,
    };
    let room_size = match scenario {
        Scenario::RestList | Scenario::RestChat => 10,
        _ => settings.room_size,
    };
    let rooms = clients.div_ceil(room_size);
    let mut server = Server::start(target, programs, rooms, room_size)
        .await
        .with_context(|| format!("starting {} for {scenario}", target.label()))?;
    let pid = server.pid();
    let peak = PeakRss::watch(pid);
    let mut m = Measurement {
        scenario: scenario.to_string(),
        target: target.name().to_owned(),
        clients: clients as u64,
        rss_base_mb: mb(rss_bytes(pid)),
        ..Measurement::default()
    };
    match scenario {
        Scenario::RestList | Scenario::RestChat => {
            crate::rest::run(scenario, &server, settings, &mut m).await?;
        }
        _ => {
            let bar = bar(format!("{scenario} {}: connecting", target.label()));
            let swarm = Swarm::connect(target, server.addr, &server.rooms, clients, &bar).await?;
            bar.finish_and_clear();
            tokio::time::sleep(Duration::from_secs(3)).await;
            m.rss_idle_mb = mb(rss_bytes(pid));
            match scenario {
                Scenario::Chat(_) => chat(&swarm, pid, settings, &mut m).await,
                Scenario::MaxFanout => max_fanout(&swarm, pid, settings, &mut m).await,
                _ => {}
            }
            m.connected = swarm.connected();
            m.failed = swarm.failed();
            m.dropped = swarm.dropped();
            m.first_failure = swarm.first_failure();
            swarm.stop().await;
        }
    }
    if !server.alive() {
        bail!("{} died during {scenario}", target.label());
    }
    m.rss_peak_mb = mb(peak.finish());
    Ok(m)
}

/// The chat scenarios: every client sends at the set interval for the send phase.
async fn chat(swarm: &Swarm, pid: u32, settings: &Settings, m: &mut Measurement) {
    let interval = Duration::from_millis(settings.interval_ms);
    let span = Span::start(pid);
    let tally = send_phase(swarm, interval, Duration::from_secs(settings.send_secs)).await;
    span.finish(m);
    record(m, &tally);
}

/// Raises the send rate until the p99 bound is passed or a delivery is lost; the
/// result is the last step within both.
async fn max_fanout(swarm: &Swarm, pid: u32, settings: &Settings, m: &mut Measurement) {
    const RATES: [f64; 18] = [
        100.0, 200.0, 400.0, 600.0, 800.0, 1000.0, 1250.0, 1500.0, 2000.0, 2500.0, 3000.0, 4000.0,
        5000.0, 6000.0, 8000.0, 10000.0, 12500.0, 15000.0,
    ];
    let step_len = Duration::from_secs(settings.step_secs);
    let span = Span::start(pid);
    let mut total = Tally {
        sent: 0,
        expected: 0,
        received: 0,
        latency_us: Histogram::new(3).expect("3 significant figures are valid"),
    };
    for rate in RATES {
        let interval = Duration::from_secs_f64(swarm.size() as f64 / rate);
        let tally = send_phase(swarm, interval, step_len).await;
        let secs = step_len.as_secs_f64();
        let step = Step {
            messages_per_sec: tally.sent as f64 / secs,
            deliveries_per_sec: tally.received as f64 / secs,
            loss_percent: loss(&tally),
            latency_ms: Latency::of(&tally.latency_us, 1000.0),
        };
        let within = step.loss_percent == 0.0
            && step
                .latency_ms
                .is_some_and(|l| l.p99 <= settings.p99_bound_ms)
            && swarm.dropped() == 0;
        eprintln!(
            "  {:>6.0} msg/s → {:>8.0} deliveries/s, p99 {:.1} ms, loss {:.3} %",
            step.messages_per_sec,
            step.deliveries_per_sec,
            step.latency_ms.map_or(f64::NAN, |l| l.p99),
            step.loss_percent
        );
        m.steps.push(step.clone());
        if !within {
            break;
        }
        m.deliveries_per_sec = Some(step.deliveries_per_sec);
        total.sent += tally.sent;
        total.expected += tally.expected;
        total.received += tally.received;
        let _ = total.latency_us.add(&tally.latency_us);
    }
    span.finish(m);
    record(m, &total);
}

/// Sends for `length`, then waits for what is in flight, and tallies.
async fn send_phase(swarm: &Swarm, interval: Duration, length: Duration) -> Tally {
    swarm.take();
    let bar = bar(format!(
        "sending every {:.0} ms",
        interval.as_secs_f64() * 1000.0
    ));
    bar.set_length(length.as_secs());
    swarm.set_phase(Phase::Send { interval });
    let started = Instant::now();
    while started.elapsed() < length {
        tokio::time::sleep(Duration::from_millis(250)).await;
        bar.set_position(started.elapsed().as_secs());
    }
    swarm.set_phase(Phase::Quiet);
    bar.finish_and_clear();
    settle(swarm).await
}

/// Waits until deliveries stop arriving (2 s without one, at most 60 s).
async fn settle(swarm: &Swarm) -> Tally {
    let mut tally = swarm.take();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline && quiet_since.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let more = swarm.take();
        if more.received > 0 {
            quiet_since = Instant::now();
        }
        tally.sent += more.sent;
        tally.expected += more.expected;
        tally.received += more.received;
        let _ = tally.latency_us.add(&more.latency_us);
        if tally.expected > 0 && tally.received >= tally.expected {
            break;
        }
    }
    tally
}

fn loss(t: &Tally) -> f64 {
    if t.expected == 0 {
        0.0
    } else {
        t.expected.saturating_sub(t.received) as f64 / t.expected as f64 * 100.0
    }
}

fn record(m: &mut Measurement, t: &Tally) {
    m.sent = t.sent;
    m.expected = t.expected;
    m.received = t.received;
    m.loss_percent = loss(t);
    m.latency_ms = Latency::of(&t.latency_us, 1000.0);
}

/// CPU time of the server and of this process over a span.
pub struct Span {
    pid: u32,
    server: f64,
    own: f64,
    at: Instant,
}

impl Span {
    pub fn start(pid: u32) -> Self {
        Self {
            pid,
            server: cpu_secs(Some(pid)),
            own: cpu_secs(None),
            at: Instant::now(),
        }
    }

    pub fn finish(self, m: &mut Measurement) {
        m.server_cpu_secs = cpu_secs(Some(self.pid)) - self.server;
        m.loadgen_cpu_secs = cpu_secs(None) - self.own;
        m.active_secs = self.at.elapsed().as_secs_f64();
    }
}

/// Samples a process's RSS four times a second and keeps the highest.
struct PeakRss {
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl PeakRss {
    fn watch(pid: u32) -> Self {
        let peak = Arc::new(AtomicU64::new(rss_bytes(pid)));
        let seen = peak.clone();
        let task = tokio::spawn(async move {
            loop {
                seen.fetch_max(rss_bytes(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
        Self { peak, task }
    }

    fn finish(self) -> u64 {
        self.task.abort();
        self.peak.load(Ordering::Relaxed)
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn bar(message: String) -> ProgressBar {
    let bar = ProgressBar::new(0).with_message(message);
    bar.set_style(
        ProgressStyle::with_template("{msg:40} [{bar:30}] {pos}/{len} {elapsed}")
            .expect("constant progress template is valid")
            .progress_chars("=> "),
    );
    bar
}

/// Latency percentiles of a histogram of microseconds, in milliseconds.
pub fn latency_ms(h: &Histogram<u64>) -> Option<Latency> {
    Latency::of(h, 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_names_round_trip() {
        for name in [
            "chat-1k",
            "chat-300",
            "idle-19k",
            "max-fanout",
            "rest-list",
            "rest-chat",
        ] {
            let parsed: Scenario = name.parse().expect(name);
            assert_eq!(parsed.to_string(), name);
        }
        assert_eq!("chat-5k".parse(), Ok(Scenario::Chat(5000)));
        for bad in ["chat-", "chat-0", "chat-x", "idle", "fanout", ""] {
            assert!(bad.parse::<Scenario>().is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn loss_counts_what_did_not_arrive() {
        let tally = |expected, received| Tally {
            sent: 1,
            expected,
            received,
            latency_us: Histogram::new(3).expect("valid"),
        };
        assert_eq!(loss(&tally(0, 0)), 0.0);
        assert_eq!(loss(&tally(200, 200)), 0.0);
        assert_eq!(loss(&tally(200, 150)), 25.0);
    }

    #[test]
    fn rest_scenarios_are_coup_only() {
        assert!(Scenario::Chat(10).runs_on(Target::Socketio));
        assert!(!Scenario::RestList.runs_on(Target::Socketio));
        assert!(Scenario::RestList.runs_on(Target::Coup));
    }
}
