//! The wire types of the `notifications` REST endpoints: request bodies and queries, shared
//! by the server (which reads them) and the client (which sends them).

use serde::{Deserialize, Serialize};

use crate::model::Notification;

paged_query! {
    /// Notification list filters.
    pub struct NotificationQuery {
        pub unread_only: bool,
    }
}

/// How many notifications "mark all read" marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MarkedRead {
    /// Notifications that were unread.
    pub marked: u64,
}

/// A notification page with the caller's unread total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub total: u64,
    pub page: u32,
    pub limit: u32,
    pub unread_count: u64,
}
