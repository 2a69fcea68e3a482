//! The REST API's wire types beyond [`crate::model`]: one module per area, as in
//! `crate::service` and the server's `routes`. They compile in every feature
//! combination, so a client-only build (`default-features = false, features =
//! ["client"]`) sends exactly what the server reads.

/// Declares a paged list's query: its own filters, then `page` and `limit` as
/// every paged list reads them (bounded when read, and so documented).
macro_rules! paged_query {
    ($(#[$doc:meta])* pub struct $name:ident { $($(#[$attr:meta])* pub $field:ident: $ty:ty,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
        #[serde(rename_all = "camelCase", default)]
        pub struct $name {
            $($(#[$attr])* pub $field: $ty,)*
            /// Page number, from 1.
            #[serde(deserialize_with = "crate::model::page_number")]
            #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000000))]
            pub page: Option<u32>,
            /// Rows per page (at most 100).
            #[serde(deserialize_with = "crate::model::limit_number")]
            #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
            pub limit: Option<u32>,
        }

        impl $name {
            /// The page this query asks for.
            pub fn page_request(&self) -> crate::model::PageRequest {
                crate::model::PageRequest::of(self.page, self.limit)
            }
        }
    };
}

pub mod accounts;
pub mod admin;
pub mod calendar;
pub mod chat;
pub mod membership;
pub mod notices;
pub mod notifications;
pub mod paths;
pub mod reports;
pub mod studies;
pub mod tasks;
