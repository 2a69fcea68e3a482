//! # coup-core
//!
//! Every rule of CoUp, the self-hostable study-group platform, as plain functions
//! over plain types, with the embedded SQLite store.
//!
//! - [`model`], [`ids`]: the domain's types (also the REST wire shapes).
//! - [`error`]: the one error type, its stable codes and reasons.
//! - [`events`]: the domain events every mutating operation returns.
//! - [`realtime`]: the WebSocket protocol and the transport-free presence,
//!   typing, call and cluster state machines.
//! - [`permissions`]: who may do what, as a table.
//! - [`service`]: one function per operation; each validates, checks permission,
//!   writes in one transaction and returns [`events::DomainEvent`]s.
//! - [`notify`]: the pure rules from events to notifications.
//! - [`auth`], [`validate`]: password hashing, tokens, input rules.
//! - [`store`]: the backend-neutral SQL boundary, the SQLite backend and (feature
//!   `postgres`) the PostgreSQL one, and the schema's migrations.
//! - [`Core`]: runs operations in transactions; what front ends hold.
//! - [`api`]: the REST API's request and query types (with [`model`], the wire).
//! - `client` (feature `client`): the client of a CoUp server — typed REST API,
//!   live events, offline cache and outbox — for apps and bindings.
//! - `media` (feature `media`): the call engine — one WebRTC peer connection per
//!   other participant, VP8/Opus, synthetic and X11 sources — over the client.
//!
//! Feature `engine` (default) brings the rules, services, stores and hashing (the
//! demo data is the server's); an app builds with `default-features = false` and
//! `features = ["client"]` and gets the wire types and the client without them.
//!
//! ```no_run
//! # async fn run() -> coup_core::Result<()> {
//! use coup_core::{Core, service::{accounts::Signup, studies}};
//! let core = Core::open_sqlite("coup.db")?;
//! let me = core.signup(Signup { email: "kim@example.com".into(), password: "study-together-42".into(), name: "kim".into() }).await?;
//! let caller = Some(me.value.user.id);
//! let page = core.read(move |tx| studies::list(tx, caller, Default::default())).await?;
//! println!("{} studies", page.total);
//! # Ok(()) }
//! ```

pub mod api;
#[cfg(feature = "engine")]
pub mod auth;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "engine")]
mod core;
pub mod error;
pub mod events;
pub mod ids;
#[cfg(feature = "media")]
pub mod media;
#[cfg(any(feature = "engine", feature = "client"))]
mod migration;
pub mod model;
pub mod notify;
pub mod permissions;
pub mod realtime;
#[cfg(feature = "engine")]
pub mod service;
#[cfg(feature = "engine")]
pub mod store;
#[cfg(feature = "engine")]
pub mod validate;

#[cfg(feature = "engine")]
pub use crate::core::{Core, CoreConfig, EventSink};
pub use error::{Error, ErrorCode, Reason, Result};
pub use events::{DomainEvent, Outcome};
