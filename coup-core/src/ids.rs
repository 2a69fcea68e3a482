//! Typed identifiers. Every id is a random UUID (never sequential), and each kind of
//! thing has its own type so a `UserId` can never be passed where a `StudyId` belongs.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new random id.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )+};
}

typed_id!(
    /// A user account.
    UserId,
    /// A study group.
    StudyId,
    /// A notice (announcement) in a study.
    NoticeId,
    /// A calendar event in a study.
    EventId,
    /// A personal to-do.
    TaskId,
    /// A chat message.
    MessageId,
    /// An uploaded file's metadata.
    FileId,
    /// A notification to one user.
    NotificationId,
    /// A user's report about a user, study or message.
    ReportId,
    /// An entry of the admin audit log.
    AuditId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_uuids_that_round_trip() {
        let a = StudyId::new();
        let b = StudyId::new();
        assert_ne!(a, b);
        let parsed: StudyId = a.to_string().parse().expect("parse");
        assert_eq!(parsed, a);
        assert_eq!(serde_json::to_string(&a).expect("json"), format!("\"{a}\""));
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }
}
