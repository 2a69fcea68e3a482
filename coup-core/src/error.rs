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

#[cfg(feature = "engine")]
use crate::store::StoreError;

/// Stable, machine-readable error codes. Their spelling is part of the public API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// The server's answer could not be understood (only clients report it): not
    /// the documented shape, or not JSON. Present in every build, so the set of
    /// codes never depends on cargo features.
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

/// Why a refusal happened, where a user interface words cases of one
/// [`ErrorCode`] differently ("this study is full" and "you are already a member"
/// are both `CONFLICT`). Sent beside the code as `reason` in REST error bodies and
/// real-time `error` frames; additive, so clients that ignore it keep working.
/// Their spelling is part of the public API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum Reason {
    /// Signup: an account with this email exists.
    EmailTaken,
    /// Login: the email or the password is wrong.
    WrongCredentials,
    /// Changing the password: the current password given is wrong.
    WrongPassword,
    /// The password is too easy to guess.
    WeakPassword,
    /// The account is suspended.
    AccountSuspended,
    /// The session token is unknown, expired or revoked.
    SessionExpired,
    /// Joining or approving: the study has as many members as it allows.
    StudyFull,
    /// Joining: the study is not recruiting.
    NotRecruiting,
    /// Joining: the caller is already a member.
    AlreadyMember,
    /// Joining: the caller's request is already waiting for approval.
    RequestPending,
    /// Approving: the user is already a member.
    AlreadyApproved,
    /// Leaving: the owner must transfer ownership first.
    OwnerMustTransfer,
    /// Changing a role: the member already has it.
    SameRole,
    /// Kicking or demoting oneself.
    NotYourself,
    /// Joining a call: it has as many participants as it allows.
    CallFull,
    /// Joining a call the caller is already in (perhaps from another device).
    AlreadyInCall,
    /// A call operation by someone not in the call.
    NotInCall,
    /// Reporting the same thing twice.
    AlreadyReported,
    /// Processing a report that was processed.
    ReportProcessed,
    /// Restoring an account that is not suspended.
    NotSuspended,
    /// Subscribing to a study the connection follows already.
    AlreadySubscribed,
    /// A call: the microphone, camera or screen cannot be opened on this
    /// machine (there is none, or it is busy or refused).
    NoDevice,
}

impl Reason {
    /// Every reason, for documentation and tests.
    pub const ALL: &'static [Reason] = &[
        Self::EmailTaken,
        Self::WrongCredentials,
        Self::WrongPassword,
        Self::WeakPassword,
        Self::AccountSuspended,
        Self::SessionExpired,
        Self::StudyFull,
        Self::NotRecruiting,
        Self::AlreadyMember,
        Self::RequestPending,
        Self::AlreadyApproved,
        Self::OwnerMustTransfer,
        Self::SameRole,
        Self::NotYourself,
        Self::CallFull,
        Self::AlreadyInCall,
        Self::NotInCall,
        Self::AlreadyReported,
        Self::ReportProcessed,
        Self::NotSuspended,
        Self::AlreadySubscribed,
        Self::NoDevice,
    ];

    /// The reason as it appears on the wire, e.g. `"STUDY_FULL"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::EmailTaken => "EMAIL_TAKEN",
            Self::WrongCredentials => "WRONG_CREDENTIALS",
            Self::WrongPassword => "WRONG_PASSWORD",
            Self::WeakPassword => "WEAK_PASSWORD",
            Self::AccountSuspended => "ACCOUNT_SUSPENDED",
            Self::SessionExpired => "SESSION_EXPIRED",
            Self::StudyFull => "STUDY_FULL",
            Self::NotRecruiting => "NOT_RECRUITING",
            Self::AlreadyMember => "ALREADY_MEMBER",
            Self::RequestPending => "REQUEST_PENDING",
            Self::AlreadyApproved => "ALREADY_APPROVED",
            Self::OwnerMustTransfer => "OWNER_MUST_TRANSFER",
            Self::SameRole => "SAME_ROLE",
            Self::NotYourself => "NOT_YOURSELF",
            Self::CallFull => "CALL_FULL",
            Self::AlreadyInCall => "ALREADY_IN_CALL",
            Self::NotInCall => "NOT_IN_CALL",
            Self::AlreadyReported => "ALREADY_REPORTED",
            Self::ReportProcessed => "REPORT_PROCESSED",
            Self::NotSuspended => "NOT_SUSPENDED",
            Self::AlreadySubscribed => "ALREADY_SUBSCRIBED",
            Self::NoDevice => "NO_DEVICE",
        }
    }

    /// The reason a wire spelling names, if it names one of these.
    pub fn from_wire(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.as_str() == text)
    }
}

impl fmt::Display for Reason {
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
    /// The store failed (engine only).
    #[cfg(feature = "engine")]
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An internal invariant broke (e.g. a corrupt row). Never caused by input.
    #[error("internal error: {0}")]
    Internal(String),
    /// A step failed for a reason no input causes (I/O, encoding, a task that
    /// died): `step` names it, `source` is the failure itself, kept for whoever
    /// logs or inspects it. Its code is `INTERNAL`, like [`Error::Internal`].
    #[error("{step}: {source}")]
    Failed {
        /// What was being done, e.g. "writing the download".
        step: String,
        /// Why it failed.
        #[source]
        source: BoxError,
    },
    /// A refusal with the [`Reason`] a user interface words it by; code, message
    /// and field are the inner error's.
    #[error("{error}")]
    Refused {
        /// Why.
        reason: Reason,
        /// The refusal itself.
        error: Box<Error>,
    },
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
        /// The server's reason, verbatim, when it gave one (see [`Reason`]).
        reason: Option<String>,
    },
    /// The server could not be reached or the connection broke (client only):
    /// `step` names what the client was doing, `source` is the failure itself
    /// (reqwest's or tungstenite's error, kept for whoever logs or inspects it).
    #[cfg(feature = "client")]
    #[error("cannot reach the server: {step}: {source}")]
    Transport {
        /// What the client was doing, e.g. "sending a request".
        step: String,
        /// Why it failed.
        #[source]
        source: BoxError,
    },
    /// The server's answer could not be understood (client only): `step` names
    /// what the client was reading, `source` why it could not.
    #[cfg(feature = "client")]
    #[error("unexpected answer from the server: {step}: {source}")]
    BadResponse {
        /// What the client was reading, e.g. "decoding the response".
        step: String,
        /// Why it could not be understood.
        #[source]
        source: BoxError,
    },
    /// The call engine failed at a step (`media` only): a codec, a capture
    /// device or the WebRTC stack. Local, so `INTERNAL`; `step` names what failed.
    #[cfg(feature = "media")]
    #[error("{step}: {message}")]
    Media {
        /// What the engine was doing, e.g. "VP8 encoder".
        step: &'static str,
        /// The library's words.
        message: String,
    },
    /// A capture device cannot be opened (`media` only): there is none, or it
    /// is busy or refused. `UNAVAILABLE` with the reason `NO_DEVICE`, so a UI
    /// says so rather than "something went wrong".
    #[cfg(feature = "media")]
    #[error("{device}: {message}")]
    Device {
        /// Which: "microphone", "camera" or "screen".
        device: &'static str,
        /// The library's words.
        message: String,
    },
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
            #[cfg(feature = "engine")]
            Self::Store(e) if e.is_unavailable() => ErrorCode::Unavailable,
            #[cfg(feature = "engine")]
            Self::Store(StoreError::UniqueViolation(_)) => ErrorCode::Conflict,
            #[cfg(feature = "engine")]
            Self::Store(_) => ErrorCode::Internal,
            Self::Internal(_) | Self::Failed { .. } => ErrorCode::Internal,
            Self::Refused { error, .. } => error.code(),
            #[cfg(feature = "client")]
            Self::Remote { code, .. } => *code,
            #[cfg(feature = "client")]
            Self::Transport { .. } => ErrorCode::Unavailable,
            #[cfg(feature = "client")]
            Self::BadResponse { .. } => ErrorCode::BadResponse,
            #[cfg(feature = "media")]
            Self::Media { .. } => ErrorCode::Internal,
            #[cfg(feature = "media")]
            Self::Device { .. } => ErrorCode::Unavailable,
        }
    }

    /// The reason of a refusal, if it has one.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            Self::Refused { reason, .. } => Some(*reason),
            #[cfg(feature = "client")]
            Self::Remote { reason, .. } => reason.as_deref().and_then(Reason::from_wire),
            #[cfg(feature = "media")]
            Self::Device { .. } => Some(Reason::NoDevice),
            _ => None,
        }
    }

    /// `step` failed because of `source` (see [`Error::Failed`]).
    pub fn failed(step: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Failed {
            step: step.into(),
            source: source.into(),
        }
    }

    /// The client could not reach the server while doing `step` (see
    /// [`Error::Transport`]).
    #[cfg(feature = "client")]
    pub fn transport(step: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Transport {
            step: step.into(),
            source: source.into(),
        }
    }

    /// The server's answer to `step` could not be understood (see
    /// [`Error::BadResponse`]).
    #[cfg(feature = "client")]
    pub fn bad_response(step: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::BadResponse {
            step: step.into(),
            source: source.into(),
        }
    }

    /// This refusal, with the reason a user interface words it by.
    pub fn because(self, reason: Reason) -> Self {
        Self::Refused {
            reason,
            error: Box::new(self),
        }
    }

    /// A message safe to show to the caller: internal details are replaced.
    pub fn public_message(&self) -> String {
        #[cfg(feature = "client")]
        if let Self::Remote { message, .. } = self {
            return message.clone();
        }
        if let Self::Refused { error, .. } = self {
            return error.public_message();
        }
        match self.code() {
            ErrorCode::Internal => "internal error".to_owned(),
            ErrorCode::Unavailable => "the store is unavailable; try again shortly".to_owned(),
            #[cfg(feature = "engine")]
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
            Self::Refused { error, .. } => error.field(),
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
            reason: detail.reason,
        }
    }

    #[cfg(any(feature = "engine", feature = "client"))]
    pub(crate) fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation {
            field,
            message: message.into(),
        }
    }

    /// This validation error (reasoned or not) about `field` instead: a rule
    /// written for one field applied to another (`password` → `newPassword`).
    #[cfg(feature = "engine")]
    pub(crate) fn for_field(self, field: &'static str) -> Self {
        match self {
            Self::Validation { message, .. } => Self::Validation { field, message },
            Self::Refused { reason, error } => Self::Refused {
                reason,
                error: Box::new(error.for_field(field)),
            },
            other => other,
        }
    }

    /// A conflict with the state, with its reason.
    pub(crate) fn conflict(reason: Reason, message: impl Into<String>) -> Self {
        Self::Conflict(message.into()).because(reason)
    }
}

/// The body of every REST error response: `{"error": {"code", "message", "field"?}}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"error": {"code": "CONFLICT", "message": "this study is full (8 members)", "reason": "STUDY_FULL"}})))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// One error: a stable code, a message for people and, for validation errors, the field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Why, where a user interface words cases of one code differently: one of
    /// the [`Reason`]s (the document lists them). New reasons may be added;
    /// treat an unknown one like none.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Reason>))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl From<&Error> for ErrorBody {
    fn from(e: &Error) -> Self {
        Self {
            error: ErrorDetail {
                code: e.code().as_str().to_owned(),
                message: e.public_message(),
                field: e.field().map(str::to_owned),
                reason: e.reason().map(|r| r.as_str().to_owned()),
            },
        }
    }
}

/// An error as an app shows it, serializable as it is (camelCase): the stable
/// code and reason to choose the words by, the message for people, the HTTP
/// status when a server answered (none for a real-time refusal or no answer),
/// and the input field of a validation error. One flat shape, so a Tauri
/// command returns it and an FFI error maps to it field by field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorView {
    /// The stable code, e.g. `CONFLICT`.
    pub code: ErrorCode,
    /// The stable reason, e.g. `STUDY_FULL`, when there is one.
    pub reason: Option<String>,
    /// For people (the server's words for a refusal).
    pub message: String,
    /// The HTTP status of the server's answer, if there was one.
    pub status: Option<u16>,
    /// The offending input of a validation error.
    pub field: Option<String>,
}

impl Error {
    /// The HTTP status the server answered this with, if it did (`Remote` from
    /// REST; never for real-time refusals, which carry 0).
    pub fn status(&self) -> Option<u16> {
        match self {
            #[cfg(feature = "client")]
            Self::Remote { status, .. } if *status != 0 => Some(*status),
            Self::Refused { error, .. } => error.status(),
            _ => None,
        }
    }

    /// This error as an app shows it.
    pub fn view(&self) -> ErrorView {
        let reason = match self {
            #[cfg(feature = "client")]
            Self::Remote { reason, .. } => reason.clone(),
            _ => self.reason().map(|r| r.as_str().to_owned()),
        };
        ErrorView {
            code: self.code(),
            reason,
            message: self.public_message(),
            status: self.status(),
            field: self.field().map(str::to_owned),
        }
    }
}

/// An error kept as the cause of another: any error that may cross threads.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result with the core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "client")]
    #[test]
    fn client_failures_keep_their_cause_and_name_the_step() {
        use std::error::Error as _;
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let transport = Error::transport("sending the request", refused);
        assert_eq!(transport.code(), ErrorCode::Unavailable);
        assert_eq!(
            transport.to_string(),
            "cannot reach the server: sending the request: refused"
        );
        let cause = transport.source().expect("a cause");
        assert_eq!(
            cause
                .downcast_ref::<std::io::Error>()
                .map(std::io::Error::kind),
            Some(std::io::ErrorKind::ConnectionRefused)
        );
        assert_eq!(
            transport.public_message(),
            "the store is unavailable; try again shortly"
        );

        let not_json = serde_json::from_str::<u8>("x").expect_err("not json");
        let bad = Error::bad_response("decoding the answer", not_json);
        assert_eq!(bad.code(), ErrorCode::BadResponse);
        assert!(
            bad.source()
                .is_some_and(|cause| cause.downcast_ref::<serde_json::Error>().is_some())
        );
        assert!(
            bad.public_message()
                .starts_with("unexpected answer from the server: decoding the answer: ")
        );
    }

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
            (ErrorCode::BadResponse, "BAD_RESPONSE"),
        ];
        for (code, text) in all {
            assert_eq!(ErrorCode::from_wire(text), Some(code));
            assert_eq!(code.as_str(), text);
            assert_eq!(
                serde_json::to_string(&code).expect("serialize"),
                format!("\"{text}\"")
            );
        }
    }

    /// The schema derive enumerates every variant: `ALL` (what `from_wire`
    /// reads) must hold each, and the REST document lists them from the schema.
    #[cfg(feature = "openapi")]
    #[test]
    fn every_reason_is_in_all() {
        let schema = serde_json::to_value(<Reason as utoipa::PartialSchema>::schema())
            .expect("a schema serializes");
        let variants: Vec<&str> = schema["enum"]
            .as_array()
            .expect("an enum schema")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let all: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(variants, all);
    }

    #[test]
    fn reasons_are_stable_and_travel_in_the_error_body() {
        for reason in Reason::ALL {
            let text = reason.as_str();
            assert_eq!(
                serde_json::to_string(reason).expect("serialize"),
                format!("\"{text}\"")
            );
            assert_eq!(Reason::from_wire(text), Some(*reason));
        }
        let e = Error::conflict(Reason::StudyFull, "this study is full (8 members)");
        assert_eq!(e.code(), ErrorCode::Conflict);
        assert_eq!(e.reason(), Some(Reason::StudyFull));
        let body = serde_json::to_value(ErrorBody::from(&e)).expect("json");
        assert_eq!(body["error"]["code"], "CONFLICT");
        assert_eq!(body["error"]["reason"], "STUDY_FULL");
        assert_eq!(body["error"]["message"], "this study is full (8 members)");
        let plain = serde_json::to_value(ErrorBody::from(&Error::NotFound("study"))).expect("json");
        assert!(
            plain["error"].get("reason").is_none(),
            "reason only when there is one"
        );
        let inner = Error::validation("currentPassword", "is wrong").because(Reason::WrongPassword);
        assert_eq!(inner.field(), Some("currentPassword"));
        assert_eq!(inner.code(), ErrorCode::Validation);
    }

    #[test]
    fn the_app_view_is_flat_and_keeps_code_reason_and_field() {
        let full = Error::conflict(Reason::StudyFull, "this study is full (8 members)").view();
        assert_eq!(full.code, ErrorCode::Conflict);
        assert_eq!(full.reason.as_deref(), Some("STUDY_FULL"));
        assert_eq!(full.status, None);
        let json = serde_json::to_value(&full).expect("json");
        assert_eq!(json["code"], "CONFLICT");
        assert_eq!(json["message"], "this study is full (8 members)");
        let invalid = Error::validation("name", "must not be empty").view();
        assert_eq!(invalid.field.as_deref(), Some("name"));
        assert_eq!(
            Error::Internal("secret".into()).view().message,
            "internal error"
        );
    }

    #[test]
    fn internal_details_are_not_public() {
        let e = Error::Internal("row 7 has a bad enum".into());
        assert_eq!(e.code(), ErrorCode::Internal);
        assert_eq!(e.public_message(), "internal error");
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "/secret/path");
        let failed = Error::failed("writing the download", io);
        assert_eq!(failed.code(), ErrorCode::Internal);
        assert_eq!(failed.public_message(), "internal error");
        assert_eq!(failed.view().message, "internal error");
        // The cause stays reachable, as the error it was, for the logs.
        let cause = std::error::Error::source(&failed).expect("a source");
        assert_eq!(
            cause
                .downcast_ref::<std::io::Error>()
                .map(std::io::Error::kind),
            Some(std::io::ErrorKind::PermissionDenied)
        );
        assert!(failed.to_string().starts_with("writing the download: "));
        let v = Error::validation("email", "is not an email address");
        assert_eq!(v.field(), Some("email"));
        assert_eq!(v.public_message(), "email: is not an email address");
    }
}
