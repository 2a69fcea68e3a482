//! `coup-loadgen`: drives thousands of WebSocket clients against `coup-server` and
//! against the Node Socket.IO peer in `bench/peers/socketio`, in the same run, and
//! writes the numbers (JSON), the tables in BENCHMARKS.md and a chart. See
//! BENCHMARKS.md for the scenarios and the one command that reruns them.

mod floor;
mod report;
mod rest;
mod scenario;
mod seed;
mod server;
mod swarm;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};

use report::{Machine, Results};
use scenario::{Measurement, Scenario, Settings};
use server::{Programs, Target};

#[derive(Debug, Parser)]
#[command(name = "coup-loadgen", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one scenario against one server and print the measurement as JSON.
    Run {
        #[arg(long, value_enum)]
        target: Target,
        /// chat-N, idle-N (N like 300 or 5k), max-fanout, rest-list or rest-chat.
        #[arg(long)]
        scenario: Scenario,
        #[command(flatten)]
        programs: Programs,
        #[command(flatten)]
        settings: Settings,
    },
    /// Run scenarios against CoUp and Socket.IO alternately, then write the
    /// results, the chart and the tables in BENCHMARKS.md.
    Suite {
        /// Scenarios to run, in order.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "chat-1k,chat-5k,chat-10k,idle-1k,idle-5k,idle-10k,idle-19k,max-fanout,rest-list,rest-chat"
        )]
        scenarios: Vec<Scenario>,
        #[command(flatten)]
        output: Output,
        #[command(flatten)]
        programs: Programs,
        #[command(flatten)]
        settings: Settings,
    },
    /// The floor of `chat-N`: a minimal server writing one small frame per
    /// delivery to as many loopback sockets at the same rate; prints the
    /// measurement as JSON.
    Floor {
        /// Connections (as in chat-N).
        #[arg(long)]
        clients: usize,
        #[command(flatten)]
        settings: Settings,
    },
    /// The floor's server process (started by `floor` and `suite`).
    #[command(hide = true)]
    FloorServer {
        #[command(flatten)]
        plan: floor::FloorPlan,
    },
    /// Rewrite the chart and the tables in BENCHMARKS.md from a results file.
    Report {
        #[command(flatten)]
        output: Output,
    },
    /// A short chat run against both servers that fails if any connection fails
    /// or drops or any delivery is lost (for CI; timings are printed, not judged).
    Smoke {
        /// Clients per server.
        #[arg(long, default_value_t = 300)]
        clients: usize,
        /// Seconds of sending.
        #[arg(long, default_value_t = 5)]
        secs: u64,
        /// Each client sends one message per this many milliseconds.
        #[arg(long, default_value_t = 1000)]
        interval_ms: u64,
        #[command(flatten)]
        programs: Programs,
    },
}

/// Where results go.
#[derive(Debug, Clone, clap::Args)]
struct Output {
    /// The results file (JSON).
    #[arg(long, default_value = "bench/results/results.json")]
    results: PathBuf,
    /// The chart (SVG).
    #[arg(long, default_value = "bench/results/chart.svg")]
    chart: PathBuf,
    /// The Markdown file whose generated section is replaced.
    #[arg(long, default_value = "BENCHMARKS.md")]
    benchmarks: PathBuf,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coup-loadgen: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run {
            target,
            scenario,
            programs,
            settings,
        } => {
            let m = scenario::run(scenario, target, &programs, &settings).await?;
            println!("{}", serde_json::to_string_pretty(&m)?);
        }
        Command::Suite {
            scenarios,
            output,
            programs,
            settings,
        } => {
            // bench/run.sh names itself; run directly, the suite names its arguments.
            let command = std::env::var("COUP_BENCH_COMMAND")
                .unwrap_or_else(|_| std::env::args().collect::<Vec<_>>().join(" "));
            let mut results = Results::new(command, Machine::here(&programs.node), &settings);
            for scenario in scenarios {
                for target in [Target::Coup, Target::Socketio] {
                    if !scenario.runs_on(target) {
                        continue;
                    }
                    eprintln!("== {scenario} on {}", target.label());
                    let m = scenario::run(scenario, target, &programs, &settings).await?;
                    eprintln!("   {}", summary(&m));
                    results.measurements.push(m);
                    results.save(&output.results)?;
                }
                if let Scenario::Chat(clients) = scenario {
                    eprintln!("== {scenario} floor");
                    let m = floor::run(clients, &settings).await?;
                    eprintln!("   {}", summary(&m));
                    results.measurements.push(m);
                    results.save(&output.results)?;
                }
            }
            write_report(&results, &output)?;
        }
        Command::Floor { clients, settings } => {
            let m = floor::run(clients, &settings).await?;
            println!("{}", serde_json::to_string_pretty(&m)?);
        }
        Command::FloorServer { plan } => floor::serve(&plan)?,
        Command::Report { output } => write_report(&Results::load(&output.results)?, &output)?,
        Command::Smoke {
            clients,
            secs,
            interval_ms,
            programs,
        } => {
            let settings = Settings {
                room_size: 50,
                interval_ms,
                send_secs: secs,
                fanout_clients: clients,
                step_secs: secs,
                p99_bound_ms: 50.0,
                rest_concurrency: 8,
            };
            let mut broken = Vec::new();
            for target in [Target::Coup, Target::Socketio] {
                let m =
                    scenario::run(Scenario::Chat(clients), target, &programs, &settings).await?;
                println!("{}: {}", target.label(), summary(&m));
                if m.failed > 0 || m.dropped > 0 || m.connected != clients as u64 {
                    broken.push(format!(
                        "{}: {} of {clients} connected, {} failed, {} dropped ({})",
                        target.label(),
                        m.connected,
                        m.failed,
                        m.dropped,
                        m.first_failure.as_deref().unwrap_or("no failure recorded")
                    ));
                }
                if m.sent == 0 || m.received != m.expected {
                    broken.push(format!(
                        "{}: {} messages sent, {} of {} deliveries arrived",
                        target.label(),
                        m.sent,
                        m.received,
                        m.expected
                    ));
                }
            }
            if !broken.is_empty() {
                bail!("smoke run failed:\n  {}", broken.join("\n  "));
            }
        }
    }
    Ok(())
}

fn write_report(results: &Results, output: &Output) -> Result<()> {
    results.chart(&output.chart)?;
    let chart = relative_to(&output.chart, &output.benchmarks);
    report::splice(&output.benchmarks, &results.markdown(&chart))?;
    eprintln!(
        "wrote {} and {} (from {})",
        output.chart.display(),
        output.benchmarks.display(),
        output.results.display()
    );
    Ok(())
}

/// `path` as a link from the directory of `from`.
fn relative_to(path: &std::path::Path, from: &std::path::Path) -> String {
    let base = from.parent().unwrap_or(std::path::Path::new(""));
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// One line per measurement for the terminal.
fn summary(m: &Measurement) -> String {
    let l = m.latency_ms.unwrap_or_default();
    let mut line = format!(
        "{} connected, {} failed, {} dropped; {} sent, {}/{} delivered; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; RSS {:.0} MB idle, {:.0} MB peak; server CPU {:.1} s",
        m.connected,
        m.failed,
        m.dropped,
        m.sent,
        m.received,
        m.expected,
        l.p50,
        l.p99,
        l.max,
        m.rss_idle_mb,
        m.rss_peak_mb,
        m.server_cpu_secs
    );
    if let Some(rps) = m.requests_per_sec {
        line += &format!(
            "; {rps:.0} requests/s, {} errors",
            m.request_errors.unwrap_or(0)
        );
    }
    if let Some(d) = m.deliveries_per_sec {
        line += &format!("; {d:.0} deliveries/s within bounds");
    }
    line
}
