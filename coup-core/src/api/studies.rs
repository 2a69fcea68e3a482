//! The wire types of the `studies` REST endpoints: request bodies and queries, shared
//! by the server (which reads them) and the client (which sends them).

use serde::{Deserialize, Serialize};

use crate::ids::StudyId;
use crate::model::{JoinPolicy, StudyRole, StudySort};

/// Input for a new study.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewStudy {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 50))]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 30))]
    pub category: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub tags: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(minimum = 2, maximum = 1000))]
    pub max_members: u32,
    pub is_public: bool,
    pub join_policy: JoinPolicy,
    #[serde(default = "yes")]
    pub is_recruiting: bool,
}

fn yes() -> bool {
    true
}

/// Changes to a study; absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StudyPatch {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 50))]
    pub name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: Option<String>,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 30))]
    pub category: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub tags: Option<Vec<String>>,
    #[cfg_attr(feature = "openapi", schema(minimum = 2, maximum = 1000))]
    pub max_members: Option<u32>,
    pub is_public: Option<bool>,
    pub join_policy: Option<JoinPolicy>,
    pub is_recruiting: Option<bool>,
}

/// A study search.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase", default)]
pub struct StudyQuery {
    /// Words to find in the name or description (case-insensitive).
    pub keyword: Option<String>,
    pub category: Option<String>,
    pub tag: Option<String>,
    pub recruiting: Option<bool>,
    pub sort: Option<StudySort>,
    /// Page number, from 1.
    #[serde(deserialize_with = "crate::model::page_number")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000000))]
    pub page: Option<u32>,
    /// Rows per page (at most 100).
    #[serde(deserialize_with = "crate::model::limit_number")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
}

/// The caller's studies, optionally only those where they hold one role.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase", default)]
pub struct MyStudiesQuery {
    pub role: Option<StudyRole>,
    /// Include pending requests (off by default).
    pub include_pending: bool,
    /// Page number, from 1.
    #[serde(deserialize_with = "crate::model::page_number")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000000))]
    pub page: Option<u32>,
    /// Rows per page (at most 100).
    #[serde(deserialize_with = "crate::model::limit_number")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
}

/// A private study's invite code, for its OWNER and ADMINs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InviteCode {
    pub study_id: StudyId,
    pub invite_code: String,
}
