//! The one error type of `coup-core`, with stable codes.
//!
//! Every refusal the core makes is an [`Error`] whose [`Error::code`] is a stable,
//! upper-case [`ErrorCode`]. Front ends map the code (never the message) to their own
//! vocabulary: the server to an HTTP status, the gateway to an error frame.

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
        }
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
        }
    }

    /// A message safe to show to the caller: internal details are replaced.
    pub fn public_message(&self) -> String {
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
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Validation { field, .. } => Some(field),
            _ => None,
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
