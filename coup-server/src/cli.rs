//! The `coup-server` command line: `serve` (the default), `migrate` and
//! `create-admin`. Flags override `COUP_*` variables, which override the TOML file
//! given with `--config`.

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use coup_core::model::PlatformRole;
use coup_core::service::accounts::{self, Signup};
use serde::Serialize;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};
use crate::listener::{self, Limits};
use crate::{BoxError, app, state};

/// CoUp: a self-hostable study-group platform server.
#[derive(Debug, Parser)]
#[command(name = "coup-server", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    flags: Flags,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a platform administrator. The password is read from
    /// COUP_ADMIN_PASSWORD or from the first line of standard input — never from
    /// the command line, where shell history would keep it.
    CreateAdmin {
        /// The administrator's email address.
        #[arg(long)]
        email: String,
        /// The administrator's display name.
        #[arg(long, default_value = "Administrator")]
        name: String,
        /// Make a SYSTEM_ADMIN (who may also suspend ADMINs) instead of an ADMIN.
        #[arg(long)]
        system: bool,
    },
}

/// Settings that can be given as flags (each also as a `COUP_*` variable).
#[derive(Debug, Args, Serialize)]
struct Flags {
    /// TOML configuration file.
    #[arg(long, global = true, env = "COUP_CONFIG")]
    #[serde(skip)]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, global = true, env = "COUP_BIND")]
    #[serde(skip_serializing_if = "Option::is_none")]
    bind: Option<SocketAddr>,
    /// Directory for the database and files [default: ./coup-data].
    #[arg(long, global = true, env = "COUP_DATA_DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    /// Store URL: sqlite://PATH or postgres://USER@HOST:PORT/DB [default: <data-dir>/coup.db].
    #[arg(long, global = true, env = "COUP_DATABASE_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<String>,
    /// Redis URL: live fan-out between several nodes.
    #[arg(long, global = true, env = "COUP_REDIS_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    redis: Option<String>,
    /// PEM certificate chain to serve HTTPS and WSS with (with --tls-key).
    #[arg(long, global = true, env = "COUP_TLS_CERT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, global = true, env = "COUP_TLS_KEY")]
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_key: Option<PathBuf>,
    /// Seed demo data (once; restarts keep it).
    #[arg(long, global = true, env = "COUP_DEMO")]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    demo: bool,
    /// Serve the API only: no web UI at / (for deployments that serve their own).
    #[arg(long, global = true, env = "COUP_API_ONLY")]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    api_only: bool,
    /// Log format.
    #[arg(long, global = true, value_enum, env = "COUP_LOG_FORMAT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    log_format: Option<LogFormat>,
    /// Allow this browser origin (CORS); repeat for several. Off by default.
    #[arg(long = "cors-origin", global = true)]
    #[serde(rename = "cors_origins", skip_serializing_if = "Vec::is_empty")]
    cors_origin: Vec<String>,
}

/// Runs the command line; the process exit code says whether it worked.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.flags.config.as_deref(), &cli.flags) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("coup-server: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("coup-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config).await,
            Command::Migrate => migrate(config),
            Command::CreateAdmin {
                email,
                name,
                system,
            } => create_admin(config, email, name, system),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("coup-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Starts the server and runs until SIGINT or SIGTERM; in-flight requests finish.
pub async fn serve(config: Config) -> Result<(), BoxError> {
    tracing::info!(config = %config.printable(), "starting coup-server {}", env!("CARGO_PKG_VERSION"));
    let bind = config.bind;
    let demo = config.demo;
    let state = state(config)?;
    if demo {
        let core = state.core.clone();
        let blobs = state.blobs.clone();
        let report =
            tokio::task::spawn_blocking(move || crate::demo::seed(&core, Some(&blobs))).await??;
        tracing::info!("{report}");
    }
    state.gateway.spawn_typing_expiry();
    spawn_housekeeping(&state);
    let bus = state.bus.clone();
    let open_files = listener::raise_open_files_limit();
    let limits = Limits {
        max_connections: listener::connection_limit(state.config.max_connections, open_files),
        header_timeout: std::time::Duration::from_secs(state.config.header_timeout_secs.max(1)),
    };
    if let Some(files) = open_files
        && u64::try_from(limits.max_connections).unwrap_or(u64::MAX) > files
    {
        tracing::warn!(
            max_connections = limits.max_connections,
            open_files = files,
            "max_connections is above the open-files limit: the server may run out of descriptors"
        );
    }
    let tls = listener::tls_acceptor(
        state.config.tls_cert.as_deref(),
        state.config.tls_key.as_deref(),
    )?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    if state.config.api_only {
        tracing::info!("API only (--api-only): no web UI at /");
    } else if !crate::web::built() {
        tracing::warn!("this build has no web UI (npm was missing when it was compiled): API only");
    }
    let tcp = listener::bind(bind)?;
    let local = tcp.local_addr()?;
    tracing::info!(%local, max_connections = limits.max_connections, ?open_files, scheme, "listening");
    // Tests and scripts read this line to learn the port of `--bind 127.0.0.1:0`.
    println!("listening on {scheme}://{local}");
    std::io::stdout().flush()?;
    listener::serve(tcp, app(state), limits, tls, crate::ops::shutdown_signal()).await;
    if let Some(bus) = bus {
        bus.leave(std::time::Duration::from_secs(2)).await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Once a minute: forget recovered rate-limit keys and delete expired sessions, so
/// neither grows without end.
fn spawn_housekeeping(state: &crate::state::AppState) {
    let limiter = state.login_limiter.clone();
    let core = state.core.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            limiter.shrink();
            let purge = |tx: &mut dyn coup_core::store::Tx| {
                accounts::purge_expired_sessions(tx, chrono::Utc::now())
                    .map(coup_core::Outcome::quiet)
            };
            match core.write(purge).await {
                Ok(out) if out.value > 0 => {
                    tracing::info!(sessions = out.value, "purged expired sessions")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not purge expired sessions"),
            }
        }
    });
}

fn migrate(config: Config) -> Result<(), BoxError> {
    let store = config.open_store()?;
    let versions = store.read_blocking(coup_core::store::migrate::applied)?;
    let shown = match config.store_location()? {
        crate::config::StoreLocation::Sqlite(path) => path.display().to_string(),
        crate::config::StoreLocation::Postgres(url) => crate::config::redact(&url),
    };
    println!(
        "database {shown} is at migration {:?}",
        versions.last().copied().unwrap_or(0)
    );
    Ok(())
}

fn create_admin(config: Config, email: String, name: String, system: bool) -> Result<(), BoxError> {
    let password = match std::env::var("COUP_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            if std::io::stdin().is_terminal() {
                eprint!(
                    "Password for {email} (input is visible; prefer piping it or COUP_ADMIN_PASSWORD): "
                );
            }
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let state = state(config)?;
    let role = if system {
        PlatformRole::SystemAdmin
    } else {
        PlatformRole::Admin
    };
    let user = state
        .core
        .create_user_blocking(
            &Signup {
                email,
                password,
                name,
            },
            role,
        )?
        .value;
    println!("created {} {} ({})", user.role, user.email, user.id);
    Ok(())
}
