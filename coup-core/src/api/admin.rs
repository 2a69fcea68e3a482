//! The wire types of the `admin` REST endpoints: request bodies and queries, shared
//! by the server (which reads them) and the client (which sends them).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{PlatformRole, ReportAction, ReportStatus, ReportTarget, UserStatus};

paged_query! {
    /// User search for admins.
    pub struct UserQuery {
        /// Part of the name or email.
        pub keyword: Option<String>,
        pub status: Option<UserStatus>,
        pub role: Option<PlatformRole>,
    }
}

paged_query! {
    /// Study search for admins; deleted studies are included when asked.
    pub struct AdminStudyQuery {
        pub keyword: Option<String>,
        pub include_deleted: bool,
    }
}

paged_query! {
    /// Report listing filter.
    pub struct ReportQuery {
        pub status: Option<ReportStatus>,
        pub target_type: Option<ReportTarget>,
    }
}

/// Why an admin deletes a study: `?reason=`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase", default)]
pub struct DeleteReason {
    /// Kept in the audit log (at most 500 characters).
    #[cfg_attr(feature = "openapi", param(max_length = 500))]
    pub reason: Option<String>,
}

/// Suspension input: a reason and an optional end.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Suspension {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub reason: String,
    pub until: Option<DateTime<Utc>>,
}

/// What to do with a report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProcessReport {
    pub action: ReportAction,
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub note: Option<String>,
}
