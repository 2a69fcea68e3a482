//! The one place where errors become HTTP responses.
//!
//! Every failure is `{"error": {"code", "message", "field"?}}` with the status that
//! its stable code maps to; internal details are logged, never sent.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coup_core::{Error, ErrorCode};
use serde::Serialize;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub Error);

/// Handler results.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

/// The HTTP status for a code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Validation => StatusCode::BAD_REQUEST,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.0.code();
        let status = status_of(code);
        if status.is_server_error() {
            tracing::error!(error = %self.0, code = %code, "request failed");
        }
        let body = Body {
            error: Detail {
                code: code.as_str(),
                message: self.0.public_message(),
                field: self.0.field(),
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Error::RateLimited { retry_after_secs } = self.0 {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs.max(1)),
            );
        }
        response
    }
}

/// A request the server cannot read: a 400 `VALIDATION` naming the part, or a 413.
pub fn bad_request(field: &'static str, message: impl Into<String>) -> ApiError {
    ApiError(Error::Validation {
        field,
        message: message.into(),
    })
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError(Error::PayloadTooLarge { limit: 0 });
        }
        let message = match &rejection {
            JsonRejection::MissingJsonContentType(_) => {
                "expected a JSON body (Content-Type: application/json)".to_owned()
            }
            other => other.body_text(),
        };
        bad_request("body", message)
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        bad_request("path", rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        bad_request("query", rejection.body_text())
    }
}

// For the OpenAPI document only: the shape that `ApiError::into_response` writes
// with `Body` and `Detail` above. A test in `crate::openapi` checks that real error
// responses parse as this type, so the two cannot drift apart.

/// The body of every error response.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"error": {"code": "VALIDATION", "message": "name: must not be empty", "field": "name"}}))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// One error: a stable code, a message for people and, for validation errors, the field.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// Stable, machine-readable code; clients branch on it, never on the message.
    /// One of `VALIDATION` (400), `UNAUTHORIZED` (401), `FORBIDDEN` (403),
    /// `NOT_FOUND` (404), `METHOD_NOT_ALLOWED` (405), `CONFLICT` (409),
    /// `PAYLOAD_TOO_LARGE` (413), `RATE_LIMITED` (429), `INTERNAL` (500) or
    /// `UNAVAILABLE` (503).
    #[schema(example = "NOT_FOUND")]
    pub code: String,
    /// A human-readable explanation; its wording may change.
    pub message: String,
    /// The offending input, in the wire's camelCase spelling (`body`, `path` or
    /// `query` when the request as a whole cannot be read). Only on `VALIDATION`.
    #[serde(default)]
    pub field: Option<String>,
}
