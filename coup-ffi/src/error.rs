//! [`CoupError`]: the one error of the bindings. Each variant is one stable
//! code of [`coup_core::ErrorCode`] (so apps catch `CoupError.Conflict` /
//! `CoupException.Conflict` by type), and every variant carries the same fields:
//!
//! - `code`: the stable upper-case code (`"CONFLICT"`), as on the REST API;
//! - `reason`: the server's stable reason where it gave one (`"STUDY_FULL"`,
//!   see `coup_core::Reason`), verbatim, so a reason newer than this library
//!   still arrives;
//! - `error_message`: words for people (never internals). Not `message`: in
//!   Kotlin a field of that name collides with `Throwable.message` and the
//!   generated code does not compile (uniffi issues #1434, #2938); Kotlin's
//!   `e.message` is uniffi's summary of all fields;
//! - `http_status`: the server's HTTP status, or 0 when there was no HTTP answer
//!   (an `error` frame on the live connection, the server unreachable, or a
//!   refusal made by the library itself, such as an id that does not parse);
//! - `field`: the input a `VALIDATION` error names, if it names one.

use coup_core::ErrorCode;

macro_rules! coup_error {
    ($($(#[$doc:meta])* $variant:ident = $code:ident),+ $(,)?) => {
        /// Why a call failed; one variant per stable code, the same fields in each.
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
        #[non_exhaustive]
        pub enum CoupError {
            $(
                $(#[$doc])*
                #[error("{code}: {error_message}")]
                $variant {
                    /// The stable code, e.g. `"CONFLICT"`.
                    code: String,
                    /// The server's reason, e.g. `"STUDY_FULL"`, if it gave one.
                    reason: Option<String>,
                    /// For people.
                    error_message: String,
                    /// The HTTP status, 0 without an HTTP answer.
                    http_status: u16,
                    /// The input field a validation error names.
                    field: Option<String>,
                },
            )+
        }

        impl CoupError {
            /// The error of `code` with these details.
            pub fn new(
                code: ErrorCode,
                reason: Option<String>,
                error_message: String,
                http_status: u16,
                field: Option<String>,
            ) -> Self {
                let text = code.as_str().to_owned();
                match code {
                    $(ErrorCode::$code => Self::$variant {
                        code: text, reason, error_message, http_status, field,
                    },)+
                    // A code added to the core later than this list: the
                    // code string still says which.
                    _ => Self::Internal { code: text, reason, error_message, http_status, field },
                }
            }

            /// The stable code, e.g. `"NOT_FOUND"`.
            pub fn code(&self) -> &str {
                match self { $(Self::$variant { code, .. })|+ => code }
            }

            /// The server's reason, if it gave one.
            pub fn reason(&self) -> Option<&str> {
                match self { $(Self::$variant { reason, .. })|+ => reason.as_deref() }
            }

            /// The message for people.
            pub fn message(&self) -> &str {
                match self { $(Self::$variant { error_message, .. })|+ => error_message }
            }

            /// The HTTP status (0 without an HTTP answer).
            pub fn http_status(&self) -> u16 {
                match self { $(Self::$variant { http_status, .. })|+ => *http_status }
            }
        }
    };
}

coup_error!(
    /// Input failed validation (`field` names it).
    Validation = Validation,
    /// No valid session, or wrong credentials.
    Unauthorized = Unauthorized,
    /// The user may not do this.
    Forbidden = Forbidden,
    /// It does not exist (or is hidden from the user).
    NotFound = NotFound,
    /// It conflicts with the current state (`reason` says how).
    Conflict = Conflict,
    /// Too large.
    PayloadTooLarge = PayloadTooLarge,
    /// Too many attempts; retry later.
    RateLimited = RateLimited,
    /// The server cannot be reached or is unavailable; retry later.
    Unavailable = Unavailable,
    /// Something broke inside the server or the library.
    Internal = Internal,
    /// The server's answer could not be understood.
    BadResponse = BadResponse,
);

impl CoupError {
    /// A refusal by the library itself: `field` is not valid.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Self::new(
            ErrorCode::Validation,
            None,
            format!("{field}: {}", message.into()),
            0,
            Some(field.to_owned()),
        )
    }

    /// A failure inside the library.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, None, message.into(), 0, None)
    }
}

impl From<coup_core::Error> for CoupError {
    fn from(e: coup_core::Error) -> Self {
        if e.code() == ErrorCode::Internal {
            // Not shown to people, but an app developer needs the cause in logs.
            tracing::warn!(error = %e, "coup-ffi call failed");
        }
        let view = e.view();
        Self::new(
            view.code,
            view.reason,
            view.message,
            view.status.unwrap_or(0),
            view.field,
        )
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for CoupError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::internal(format!("the app's callback failed: {}", e.reason))
    }
}

/// This error as the core's, for the core's callbacks (the session store).
impl From<CoupError> for coup_core::Error {
    fn from(e: CoupError) -> Self {
        coup_core::Error::Internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_refusals_keep_status_reason_and_message() {
        let remote = coup_core::Error::from_remote(
            409,
            coup_core::error::ErrorDetail {
                code: "CONFLICT".into(),
                message: "this study is full (8 members)".into(),
                field: None,
                reason: Some("STUDY_FULL".into()),
            },
        );
        let e = CoupError::from(remote);
        assert!(matches!(e, CoupError::Conflict { .. }));
        assert_eq!(e.code(), "CONFLICT");
        assert_eq!(e.reason(), Some("STUDY_FULL"));
        assert_eq!(e.http_status(), 409);
        assert_eq!(e.message(), "this study is full (8 members)");
    }

    #[test]
    fn local_errors_have_no_status_and_hide_internals() {
        let e = CoupError::from(coup_core::Error::Internal("row 7 is corrupt".into()));
        assert!(matches!(e, CoupError::Internal { .. }));
        assert_eq!(e.http_status(), 0);
        assert_eq!(e.message(), "internal error");
        let v = CoupError::validation("studyId", "is not an id");
        assert_eq!(v.code(), "VALIDATION");
        assert!(matches!(v, CoupError::Validation { field: Some(ref f), .. } if f == "studyId"));
    }
}
