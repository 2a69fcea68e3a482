//! The client of a CoUp server (feature `client`), so that no front end talks HTTP
//! or parses frames itself.

pub mod api;
pub mod backoff;
pub mod live;

pub use api::ApiClient;
