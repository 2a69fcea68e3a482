//! # coup-ffi
//!
//! uniffi bindings over [`coup_core::client`] for Kotlin, Swift and Python apps:
//! sign in (or restore offline), the offline cache, the outbox, live events
//! through a listener, notifications and call signaling.
//!
//! Thin wrappers only: every method converts its arguments, calls one
//! [`coup_core::client::Client`] method on the one process-wide runtime
//! ([`runtime`]) and converts the answer. No rule and no SQL lives here.
//!
//! Conventions at the edge (decided once, for every type):
//! - ids are strings (UUIDs, as on the REST API); an id that does not parse is a
//!   `VALIDATION` error naming the argument;
//! - times are RFC 3339 UTC strings with milliseconds (`2026-12-01T10:00:00.000Z`),
//!   as on the REST API; times given to the library may carry any offset;
//! - enums are uniffi enums mirroring the core's; errors are [`CoupError`].
//!
//! - [`runtime`]: the one tokio runtime every call runs on.
//! - [`error`]: [`CoupError`], the one error, with code, reason, message, status.
//! - [`types`]: records and enums, converted from and to the core's types.
//! - [`events`]: [`AppEvent`], the [`EventListener`] foreign trait, [`ListenerHandle`].
//! - [`sessions`]: the [`SessionStore`] foreign trait (Keystore, Keychain).
//! - [`client`]: [`CoupClient`] and the functions that make one.

pub mod client;
pub mod error;
pub mod events;
pub mod runtime;
pub mod sessions;
pub mod types;

pub use client::CoupClient;
pub use error::CoupError;
pub use events::{AppEvent, EventListener, ListenerHandle};
pub use sessions::SessionStore;

uniffi::setup_scaffolding!();
