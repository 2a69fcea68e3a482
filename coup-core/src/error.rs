//! The one error type of `coup-core`, with stable codes.
//!
//! Every refusal the core makes is an [`Error`] whose [`Error::code`] is a stable,
//! upper-case [`ErrorCode`]. Front ends map the code (never the message) to their own
//! vocabulary: the server to an HTTP status, the gateway to an error frame.
//!
//! [`ErrorBody`] is the wire shape of a REST error, shared by the server (which
//! writes it) and the client (which reads it). With the `client` feature, the
//! client's failures are [`Error`]s too: a refusal by the server keeps the server's
//! code ([`Error::Remote`]), so an application branches on [`Error::code`] the same
//! way whether the core ran in-process or behind a server.

use std::fmt;

use crate::store::StoreError;

/// Stable, machine-readable error codes. Their spelling is part of the public API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ErrorCode {
    /// Input failed validation; the error names the field.
    Validation,
    /// No valid session (missing, expired, forged or revoked token, or wrong password).
    Unauthorized,
    /// The caller is known but may not do this.
    Forbidden,
    /// The thing does not exist, or the caller may not know that it exists.
    NotFound,
    /// The request conflicts with the current state (duplicate, wrong state).
    Conflict,
    /// The payload is larger than allowed.
    PayloadTooLarge,
    /// Too many attempts; retry later.
    RateLimited,
    /// The store cannot be reached right now.
    Unavailable,
    /// An unexpected failure inside the server; details are logged, not shown.
    Internal,
    /// The server's answer could not be understood (client only): not the
    /// documented shape, or not JSON.
    #[cfg(feature = "client")]
    BadResponse,
}

impl ErrorCode {
    /// The code as it appears on the wire, e.g. `"NOT_FOUND"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Validation => "VALIDATION",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::RateLimited => "RATE_LIMITED",
            Self::Unavailable => "UNAVAILABLE",
            Self::Internal => "INTERNAL",
            #[cfg(feature = "client")]
            Self::BadResponse => "BAD_RESPONSE",
        }
    }

    /// The code a wire spelling names, if it names one of these.
    pub fn from_wire(text: &str) -> Option<Self> {
        [
            Self::Validation,
            Self::Unauthorized,
            Self::Forbidden,
            Self::NotFound,
            Self::Conflict,
            Self::PayloadTooLarge,
            Self::RateLimited,
            Self::Unavailable,
            Self::Internal,
            #[cfg(feature = "client")]
            Self::BadResponse,
        ]
        .into_iter()
        .find(|code| code.as_str() == text)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an operation was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A field of the input is invalid.
    #[error("{field}: {message}")]
    Validation {
        /// The input field, in the wire's camelCase spelling.
        field: &'static str,
        /// What is wrong with it, for people.
        message: String,
    },
    /// No valid session or wrong credentials.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The named kind of thing does not exist (or is hidden from the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The current state does not allow this.
    #[error("{0}")]
    Conflict(String),
    /// The payload exceeds `limit` bytes (0 when the limit depends on the route).
    #[error("{}", if *limit == 0 { "payload too large".to_owned() } else { format!("payload exceeds the limit of {limit} bytes") })]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// Too many attempts; the caller may retry after this many seconds.
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An internal invariant broke (e.g. a corrupt row). Never caused by input.
    #[error("internal error: {0}")]
    Internal(String),
    /// The server refused a request (client only). `server_code` is the code as the
    /// server spelled it (REST codes, and the real-time protocol's own such as
    /// `NOT_SUBSCRIBED`); `code` is its stable [`ErrorCode`].
    #[cfg(feature = "client")]
    #[error("{server_code}: {message}")]
    Remote {
        /// The HTTP status, or 0 for an `error` frame of the real-time protocol.
        status: u16,
        /// The stable code.
        code: ErrorCode,
        /// The server's code, verbatim.
        server_code: String,
        /// The server's message, for people.
        message: String,
        /// The input field a validation error names.
        field: Option<String>,
    },
    /// The server could not be reached or the connection broke (client only).
    #[cfg(feature = "client")]
    #[error("cannot reach the server: {0}")]
    Transport(String),
    /// The server's answer could not be understood (client only).
    #[cfg(feature = "client")]
    #[error("unexpected answer from the server: {0}")]
    BadResponse(String),
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation { .. } => ErrorCode::Validation,
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Store(e) if e.is_unavailable() => ErrorCode::Unavailable,
            Self::Store(StoreError::UniqueViolation(_)) => ErrorCode::Conflict,
            Self::Store(_) | Self::Internal(_) => ErrorCode::Internal,
            #[cfg(feature = "client")]
            Self::Remote { code, .. } => *code,
            #[cfg(feature = "client")]
            Self::Transport(_) => ErrorCode::Unavailable,
            #[cfg(feature = "client")]
            Self::BadResponse(_) => ErrorCode::BadResponse,
        }
    }

    /// A message safe to show to the caller: internal details are replaced.
    pub fn public_message(&self) -> String {
        #[cfg(feature = "client")]
        if let Self::Remote { message, .. } = self {
            return message.clone();
        }
        match self.code() {
            ErrorCode::Internal => "internal error".to_owned(),
            ErrorCode::Unavailable => "the store is unavailable; try again shortly".to_owned(),
            ErrorCode::Conflict if matches!(self, Self::Store(_)) => {
                "conflicts with existing data".to_owned()
            }
            _ => self.to_string(),
        }
    }

    /// The field a validation error names.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Validation { field, .. } => Some(field),
            #[cfg(feature = "client")]
            Self::Remote { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// The error an [`ErrorBody`] describes, as received with `status` (0 for a
    /// real-time `error` frame). Codes this build does not know are classified by
    /// the status, or by the real-time protocol's meaning of the code.
    #[cfg(feature = "client")]
    pub fn from_remote(status: u16, detail: ErrorDetail) -> Self {
        use crate::realtime::protocol::codes;
        let code =
            ErrorCode::from_wire(&detail.code).unwrap_or(match (detail.code.as_str(), status) {
                (codes::BAD_FRAME, _) | (_, 400) => ErrorCode::Validation,
                (codes::NOT_AUTHENTICATED, _) | (_, 401) => ErrorCode::Unauthorized,
                (_, 403) => ErrorCode::Forbidden,
                (_, 404 | 405) => ErrorCode::NotFound,
                (codes::NOT_SUBSCRIBED | codes::TOO_MANY_SUBSCRIPTIONS, _) | (_, 409) => {
                    ErrorCode::Conflict
                }
                (_, 413) => ErrorCode::PayloadTooLarge,
                (_, 429) => ErrorCode::RateLimited,
                (_, 502..=504) => ErrorCode::Unavailable,
                _ => ErrorCode::Internal,
            });
        Self::Remote {
            status,
            code,
            server_code: detail.code,
            message: detail.message,
            field: detail.field,
        }
    }

    pub(crate) fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }
}

/// The body of every REST error response: `{"error": {"code", "message", "field"?}}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"error": {"code": "VALIDATION", "message": "name: must not be empty", "field": "name"}})))]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// One error: a stable code, a message for people and, for validation errors, the field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// Stable, machine-readable code; clients branch on it, never on the message.
    /// One of `VALIDATION` (400), `UNAUTHORIZED` (401), `FORBIDDEN` (403),
    /// `NOT_FOUND` (404), `METHOD_NOT_ALLOWED` (405), `CONFLICT` (409),
    /// `PAYLOAD_TOO_LARGE` (413), `RATE_LIMITED` (429), `INTERNAL` (500) or
    /// `UNAVAILABLE` (503).
    #[cfg_attr(feature = "openapi", schema(example = "NOT_FOUND"))]
    pub code: String,
    /// A human-readable explanation; its wording may change.
    pub message: String,
    /// The offending input, in the wire's camelCase spelling (`body`, `path` or
    /// `query` when the request as a whole cannot be read). Only on `VALIDATION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl From<&Error> for ErrorBody {
    fn from(e: &Error) -> Self {
        Self {
            error: ErrorDetail {
                code: e.code().as_str().to_owned(),
                message: e.public_message(),
                field: e.field().map(str::to_owned),
            },
        }
    }
}

/// Result with the core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_upper_case_strings() {
        let all = [
            (ErrorCode::Validation, "VALIDATION"),
            (ErrorCode::Unauthorized, "UNAUTHORIZED"),
            (ErrorCode::Forbidden, "FORBIDDEN"),
            (ErrorCode::NotFound, "NOT_FOUND"),
            (ErrorCode::Conflict, "CONFLICT"),
            (ErrorCode::PayloadTooLarge, "PAYLOAD_TOO_LARGE"),
            (ErrorCode::RateLimited, "RATE_LIMITED"),
            (ErrorCode::Unavailable, "UNAVAILABLE"),
            (ErrorCode::Internal, "INTERNAL"),
        ];
        for (code, text) in all {
            assert_eq!(code.as_str(), text);
            assert_eq!(
                serde_json::to_string(&code).expect("serialize"),
                format!("\"{text}\"")
            );
        }
    }

    #[test]
    fn internal_details_are_not_public() {
        let e = Error::Internal("row 7 has a bad enum".into());
        assert_eq!(e.code(), ErrorCode::Internal);
        assert_eq!(e.public_message(), "internal error");
        let v = Error::validation("email", "is not an email address");
        assert_eq!(v.field(), Some("email"));
        assert_eq!(v.public_message(), "email: is not an email address");
    }
}
