//! The wire types of the `reports` REST endpoints: request bodies and queries, shared
//! by the server (which reads them) and the client (which sends them).

use serde::{Deserialize, Serialize};

use crate::model::ReportTarget;

/// Report input.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewReport {
    pub target_type: ReportTarget,
    pub target_id: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
}
