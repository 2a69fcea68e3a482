//! The one error every command returns, serialized at the Tauri boundary as
//! `{code, reason, message, status, field}`: the UI words it from `code` and
//! `reason` (never from `message`, which is the server's or the client's words,
//! shown only as a detail).

use coup_core::error::{Error, ErrorCode};
use serde::Serialize;

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The client (or the server behind it) refused or failed.
    #[error(transparent)]
    Core(#[from] Error),
    /// A command that needs a signed-in client was called without one.
    #[error("not signed in")]
    NotSignedIn,
    /// The app's own files (settings) could not be read or written.
    #[error("{0}")]
    Local(String),
}

/// What the webview receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorPayload {
    /// A stable upper-case code (`ErrorCode`, plus `NOT_SIGNED_IN`).
    pub code: String,
    /// The stable reason beside the code, when the server gave one.
    pub reason: Option<String>,
    /// Words for a detail line (not for branching).
    pub message: String,
    /// The HTTP status of a server refusal.
    pub status: Option<u16>,
    /// The field a validation error is about.
    pub field: Option<String>,
}

impl From<&CommandError> for ErrorPayload {
    fn from(error: &CommandError) -> Self {
        match error {
            CommandError::Core(e) => {
                let status = match e {
                    Error::Remote { status, .. } => Some(*status),
                    _ => None,
                };
                let reason = match e {
                    Error::Remote {
                        reason: Some(reason),
                        ..
                    } => Some(reason.clone()),
                    _ => e.reason().map(|r| r.as_str().to_owned()),
                };
                Self {
                    code: e.code().as_str().to_owned(),
                    reason,
                    message: e.public_message(),
                    status,
                    field: e.field().map(str::to_owned),
                }
            }
            CommandError::NotSignedIn => Self {
                code: "NOT_SIGNED_IN".to_owned(),
                reason: None,
                message: error.to_string(),
                status: None,
                field: None,
            },
            CommandError::Local(message) => Self {
                code: ErrorCode::Internal.as_str().to_owned(),
                reason: None,
                message: message.clone(),
                status: None,
                field: None,
            },
        }
    }
}

impl Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ErrorPayload::from(self).serialize(serializer)
    }
}

/// What commands return.
pub type CommandResult<T> = Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use super::*;
    use coup_core::error::ErrorDetail;

    #[test]
    fn a_server_refusal_keeps_code_reason_and_status() {
        let error = CommandError::from(Error::from_remote(
            409,
            ErrorDetail {
                code: "CONFLICT".into(),
                message: "this study is full (8 members)".into(),
                field: None,
                reason: Some("STUDY_FULL".into()),
            },
        ));
        let json = serde_json::to_value(&error).expect("json");
        assert_eq!(json["code"], "CONFLICT");
        assert_eq!(json["reason"], "STUDY_FULL");
        assert_eq!(json["status"], 409);
        assert_eq!(json["message"], "this study is full (8 members)");
    }

    #[test]
    fn no_client_and_transport_failures_have_codes() {
        let json = serde_json::to_value(CommandError::NotSignedIn).expect("json");
        assert_eq!(json["code"], "NOT_SIGNED_IN");
        let json = serde_json::to_value(CommandError::from(Error::transport(
            "connecting",
            "refused",
        )))
        .expect("json");
        assert_eq!(json["code"], "UNAVAILABLE");
        assert_eq!(json["status"], serde_json::Value::Null);
    }
}
