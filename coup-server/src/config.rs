//! Server configuration: defaults, then an optional TOML file, then `COUP_*`
//! environment variables, then command-line flags — each overriding the last.
//! The doc comments of [`Config`] are the configuration reference.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use coup_core::realtime::protocol::IceServer;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Everything the server can be configured with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (`COUP_BIND`).
    pub bind: SocketAddr,
    /// Directory for the SQLite database and uploaded files (`COUP_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Store URL (`COUP_DATABASE_URL`): unset for `<data_dir>/coup.db`, or
    /// `sqlite://PATH`.
    pub database: Option<String>,
    /// Redis URL for multi-node fan-out (`COUP_REDIS_URL`).
    pub redis: Option<String>,
    /// PEM certificate chain: with `tls_key`, the server speaks HTTPS and WSS
    /// itself (`COUP_TLS_CERT`). Without both, plain HTTP (behind a TLS proxy).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert` (`COUP_TLS_KEY`).
    pub tls_key: Option<PathBuf>,
    /// The Redis pub/sub channel the nodes of one deployment share.
    pub redis_channel: String,
    /// Seconds between a node's heartbeats on the bus.
    pub presence_refresh_secs: u64,
    /// Seconds without a heartbeat after which a node counts as dead and its users
    /// go offline on the other nodes.
    pub presence_expiry_secs: u64,
    /// Seed demo data on start (once; `COUP_DEMO`).
    pub demo: bool,
    /// Serve the API only, without the web UI at `/` (`COUP_API_ONLY`): every
    /// path outside the API answers the JSON 404.
    pub api_only: bool,
    /// `text` or `json` logs (`COUP_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Origins allowed by CORS; empty (the default) disables CORS (`COUP_CORS_ORIGINS`).
    pub cors_origins: Vec<String>,
    /// Most HTTP connections open at once, WebSockets included
    /// (`COUP_MAX_CONNECTIONS`); at the limit the server stops accepting until one
    /// closes. 0 (the default): the open-files limit (raised to its hard limit at
    /// start) less a tenth, at least 64, kept for the database, uploads and logs.
    pub max_connections: usize,
    /// Seconds a connection has to send a request's headers, from being accepted
    /// or from its previous response; also how long an idle keep-alive connection
    /// stays open.
    pub header_timeout_secs: u64,
    /// Seconds before an ordinary request is cut off with 408.
    pub request_timeout_secs: u64,
    /// Seconds an upload or download may take.
    pub transfer_timeout_secs: u64,
    /// Largest JSON body, in bytes.
    pub json_body_limit: usize,
    /// Days a login session lasts.
    pub session_ttl_days: u32,
    /// Login attempts allowed per minute for one account.
    pub login_per_account_per_minute: u32,
    /// Login attempts allowed per minute from one IP address.
    pub login_per_ip_per_minute: u32,
    /// Milliseconds a signup, login or password change waits for a turn to hash
    /// when every hashing lane (one per core, at most four) is busy; past it the
    /// request is refused with 429 `RATE_LIMITED` and `Retry-After: 1`.
    pub password_hash_wait_ms: u64,
    /// Seconds between WebSocket pings; two silent intervals drop the connection.
    pub heartbeat_secs: u64,
    /// Outbound frames queued per WebSocket before it counts as a slow consumer.
    pub ws_queue_len: usize,
    /// Largest inbound WebSocket frame, in bytes.
    pub ws_max_frame_bytes: usize,
    /// Inbound WebSocket frames per second per connection (bursts of twice that).
    pub ws_frames_per_second: u32,
    /// Studies one WebSocket may subscribe to.
    pub ws_max_subscriptions: usize,
    /// Most missed chat changes (messages, deletions, read receipts) replayed on
    /// resume, paced by the client's reading; beyond, the client is told to page
    /// the change feed over REST (`resyncRequired`).
    pub replay_limit: u32,
    /// Most participants in one study's call.
    pub call_participant_limit: usize,
    /// STUN/TURN servers for calls, e.g.
    /// `[[ice_servers]] urls = ["turn:turn.example.org:3478"] username = "u" credential = "p"`.
    pub ice_servers: Vec<IceServer>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("coup-data"),
            database: None,
            redis: None,
            tls_cert: None,
            tls_key: None,
            redis_channel: "coup:events".into(),
            presence_refresh_secs: 5,
            presence_expiry_secs: 15,
            demo: false,
            api_only: false,
            log_format: LogFormat::Text,
            cors_origins: Vec::new(),
            max_connections: 0,
            header_timeout_secs: 10,
            request_timeout_secs: 30,
            transfer_timeout_secs: 600,
            json_body_limit: 1024 * 1024,
            session_ttl_days: 30,
            login_per_account_per_minute: 10,
            login_per_ip_per_minute: 60,
            password_hash_wait_ms: 3000,
            heartbeat_secs: 25,
            ws_queue_len: 256,
            ws_max_frame_bytes: 64 * 1024,
            ws_frames_per_second: 20,
            ws_max_subscriptions: 100,
            replay_limit: 10_000,
            call_participant_limit: 8,
            ice_servers: Vec::new(),
        }
    }
}

/// Where the store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// An embedded SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database URL.
    Postgres(String),
}

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A source had a bad value.
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    /// The TOML file named does not exist.
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    /// A setting names something this build cannot do.
    #[error("{0}")]
    Unsupported(String),
}

impl Config {
    /// Loads defaults < `file` < `COUP_*` environment < `flags`.
    pub fn load(file: Option<&Path>, flags: impl Serialize) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::MissingFile(path.to_owned()));
            }
            figment = figment.merge(Toml::file(path));
        }
        // `COUP_CONFIG` and `COUP_ADMIN_PASSWORD` are read by the CLI, and
        // `COUP_TEST_*` name the test suite's services: none is a setting.
        let env = Env::prefixed("COUP_")
            .ignore(&["config", "admin_password"])
            .filter(|key| !key.as_str().to_ascii_lowercase().starts_with("test_"))
            .map(|key| match key.as_str() {
                "database_url" => "database".into(),
                "redis_url" => "redis".into(),
                _ => key.into(),
            })
            .split("__");
        figment
            .merge(env)
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))
    }

    /// Which store the configuration names.
    pub fn store_location(&self) -> Result<StoreLocation, ConfigError> {
        match self.database.as_deref() {
            None | Some("") => Ok(StoreLocation::Sqlite(self.data_dir.join("coup.db"))),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(StoreLocation::Postgres(url.to_owned()))
            }
            Some(url) => match url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
            {
                Some(path) if !path.is_empty() => Ok(StoreLocation::Sqlite(PathBuf::from(path))),
                _ => Err(ConfigError::Unsupported(format!(
                    "--database {}: use sqlite://PATH or postgres://USER@HOST:PORT/DB",
                    redact(url)
                ))),
            },
        }
    }

    /// Opens (and migrates) the configured store.
    pub fn open_store(&self) -> Result<coup_core::store::Store, crate::BoxError> {
        Ok(match self.store_location()? {
            StoreLocation::Sqlite(path) => coup_core::store::Store::open_sqlite(path)?,
            StoreLocation::Postgres(url) => coup_core::store::Store::open_postgres(&url, None)?,
        })
    }

    /// Where uploaded files live.
    pub fn files_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }

    /// The configuration as printed at start-up: URLs lose their credentials.
    pub fn printable(&self) -> String {
        let mut shown = self.clone();
        shown.database = shown.database.as_deref().map(redact);
        shown.redis = shown.redis.as_deref().map(redact);
        for server in &mut shown.ice_servers {
            if server.credential.is_some() {
                server.credential = Some("***".into());
            }
        }
        toml_line(&shown)
    }
}

fn toml_line(config: &Config) -> String {
    serde_json::to_string(config).unwrap_or_default()
}

/// `scheme://user:secret@host/db` → `scheme://***@host/db`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***{}", &url[..scheme_end], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct NoFlags {}

    #[test]
    fn layers_override_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("coup.toml");
        std::fs::write(
            &file,
            "bind = \"127.0.0.1:9000\"\ndemo = true\napi_only = true\nsession_ttl_days = 7\n",
        )
        .expect("write");
        #[derive(Serialize)]
        struct Flags {
            bind: &'static str,
        }
        let config = Config::load(
            Some(&file),
            Flags {
                bind: "127.0.0.1:9100",
            },
        )
        .expect("load");
        assert_eq!(config.bind.port(), 9100, "flags beat the file");
        assert!(config.demo);
        assert!(config.api_only);
        assert_eq!(config.session_ttl_days, 7);
        assert_eq!(config.data_dir, PathBuf::from("coup-data"));
        assert!(matches!(
            Config::load(Some(&dir.path().join("missing.toml")), NoFlags {}),
            Err(ConfigError::MissingFile(_))
        ));
        std::fs::write(&file, "no_such_setting = 1\n").expect("write");
        assert!(matches!(
            Config::load(Some(&file), NoFlags {}),
            Err(ConfigError::Invalid(_))
        ));
    }

    #[test]
    fn store_urls() {
        let mut c = Config::default();
        assert_eq!(
            c.store_location().expect("default"),
            StoreLocation::Sqlite(PathBuf::from("coup-data/coup.db"))
        );
        c.database = Some("sqlite:///tmp/x.db".into());
        assert_eq!(
            c.store_location().expect("url"),
            StoreLocation::Sqlite(PathBuf::from("/tmp/x.db"))
        );
        c.database = Some("postgres://coup:hunter2@db/coup".into());
        assert_eq!(
            c.store_location().expect("pg"),
            StoreLocation::Postgres("postgres://coup:hunter2@db/coup".into())
        );
        c.database = Some("mysql://coup:hunter2@db/coup".into());
        let err = c.store_location().expect_err("unsupported").to_string();
        assert!(
            err.contains("mysql://***@db/coup") && !err.contains("hunter2"),
            "{err}"
        );
        assert!(!c.printable().contains("hunter2"));
    }
}
