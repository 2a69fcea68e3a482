//! The wire types of the `calendar` REST endpoints: request bodies and queries, shared
//! by the server (which reads them) and the client (which sends them).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Input for a new event.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewEvent {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub title: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: Option<String>,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    #[serde(default)]
    pub all_day: bool,
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub location: Option<String>,
}

/// Changes to an event.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventPatch {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub title: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: Option<String>,
    pub start_at: Option<DateTime<Utc>>,
    pub end_at: Option<DateTime<Utc>>,
    pub all_day: Option<bool>,
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub location: Option<String>,
}

/// A listing range: events that overlap `[from, to)`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct Range {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}
