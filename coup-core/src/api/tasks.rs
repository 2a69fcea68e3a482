//! The wire types of the `tasks` REST endpoints: request bodies and queries, shared
//! by the server (which reads them) and the client (which sends them).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::StudyId;
use crate::model::Priority;

/// Input for a new task.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTask {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    #[serde(default = "medium")]
    pub priority: Priority,
    pub study_id: Option<StudyId>,
    /// The creator's idempotency key: creating again with the same key returns the
    /// first task instead of a second (clients resending after a lost answer).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub client_id: Option<String>,
}

fn medium() -> Priority {
    Priority::Medium
}

/// Changes to a task. `studyId: null` is not distinguishable from absent here, so
/// a task's study is changed only by giving a new one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskPatch {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub priority: Option<Priority>,
    pub study_id: Option<StudyId>,
    pub is_done: Option<bool>,
}

paged_query! {
    /// Task list filters.
    pub struct TaskQuery {
        pub study_id: Option<StudyId>,
        pub is_done: Option<bool>,
        pub priority: Option<Priority>,
        /// Only tasks due before this time.
        pub due_before: Option<DateTime<Utc>>,
    }
}
