//! The wire types of the `chat` REST endpoints: request bodies and queries, shared
//! by the server (which reads them) and the client (which sends them).

use serde::{Deserialize, Serialize};

use crate::ids::FileId;

/// Largest chat page.
pub const PAGE_MAX: u32 = 100;

/// Largest page of the change feed.
pub const CHANGES_PAGE_MAX: u32 = 500;

/// Send input.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendMessage {
    #[serde(default)]
    pub content: String,
    pub file_id: Option<FileId>,
    /// The sender's idempotency key: sending again with the same key returns the
    /// first message instead of creating a second.
    pub client_id: Option<String>,
}

/// The caller's read position in a study's chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReadPosition {
    /// The sequence number of the last message read.
    pub last_read_seq: i64,
}

/// Which page of chat: the newest (no cursor), older than `before`, or newer than
/// `after` (sequence numbers).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase", default)]
pub struct ChatQuery {
    /// Messages older than this sequence number. Not with `after`: giving both
    /// is refused (`VALIDATION`).
    #[cfg_attr(feature = "openapi", param(minimum = 0))]
    pub before: Option<i64>,
    /// Messages newer than this sequence number. Not with `before`.
    #[cfg_attr(feature = "openapi", param(minimum = 0))]
    pub after: Option<i64>,
    /// At most this many (default 50).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
}

/// Which page of the change feed: the changes after `after` (a change number).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase", default)]
pub struct ChangesQuery {
    /// The last change number the caller holds (0 for the whole history).
    #[cfg_attr(feature = "openapi", param(minimum = 0))]
    pub after: i64,
    /// At most this many changes (default and maximum 500).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 500))]
    pub limit: Option<u32>,
}
