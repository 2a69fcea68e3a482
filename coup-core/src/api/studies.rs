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

paged_query! {
    /// A study search.
    pub struct StudyQuery {
        /// Words to find in the name or description (case-insensitive).
        pub keyword: Option<String>,
        pub category: Option<String>,
        pub tag: Option<String>,
        pub recruiting: Option<bool>,
        pub sort: Option<StudySort>,
    }
}

paged_query! {
    /// The caller's studies, optionally only those where they hold one role.
    pub struct MyStudiesQuery {
        pub role: Option<StudyRole>,
        /// Include pending requests (off by default).
        pub include_pending: bool,
    }
}

/// A private study's invite code, for its OWNER and ADMINs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InviteCode {
    pub study_id: StudyId,
    pub invite_code: String,
}
