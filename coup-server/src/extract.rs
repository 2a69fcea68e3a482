//! Extractors whose rejections use the API's error shape, and bearer-token auth.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::Utc;
use coup_core::Error;
use coup_core::api::paths::StudyPath;
use coup_core::ids::{StudyId, UserId};
use coup_core::service::accounts::{self, Session};
use coup_core::store::Tx;

use crate::error::ApiError;
use crate::state::AppState;

/// `axum::Json` whose malformed-body rejections are `VALIDATION` errors.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Path` with the API's error shape.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// `axum::extract::Query` with the API's error shape.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// The caller's session, if the request carries `Authorization: Bearer <token>`.
/// A header with a bad, expired or revoked token is refused with 401 at once; no
/// header means anonymous (each operation then decides).
#[derive(Debug, Clone)]
pub struct Auth(pub Option<Session>);

impl Auth {
    /// The caller as the core sees it.
    pub fn caller(&self) -> Option<UserId> {
        self.0.as_ref().map(|s| s.user_id)
    }

    /// The session, or 401.
    pub fn session(&self) -> Result<&Session, ApiError> {
        self.0
            .as_ref()
            .ok_or(ApiError(Error::Unauthorized("sign in first")))
    }
}

/// What most handlers need: the state and the caller's bearer token, if any.
/// The token is only read here (a malformed header is refused at once); the
/// session is checked inside the operation's own transaction (`crate::routes`),
/// so a request goes to the store once, not once for the session and again for
/// the operation. A bad, expired or revoked token is refused with 401 all the same.
#[derive(Clone)]
pub struct Api {
    pub app: AppState,
    pub bearer: Bearer,
}

/// [`Api`] at one study's path (`…/studies/{id}/…`): the handlers of a study and
/// of what it holds run their operation with the study's id (`crate::routes`).
/// The path is read after the token, as a handler taking both would.
#[derive(Clone)]
pub struct InStudy {
    pub api: Api,
    pub id: StudyId,
}

impl FromRequestParts<AppState> for InStudy {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let api = Api::from_request_parts(parts, state).await?;
        let Path(StudyPath { id }) = Path::from_request_parts(parts, state).await?;
        Ok(Self { api, id })
    }
}

/// A request's bearer token, not yet checked.
#[derive(Debug, Clone)]
pub struct Bearer(Option<String>);

impl Bearer {
    /// The caller, as of the session the token names now, in `tx`.
    pub(crate) fn caller(&self, tx: &mut dyn Tx) -> coup_core::Result<Option<UserId>> {
        self.0
            .as_deref()
            .map(|token| accounts::authenticate(tx, token, Utc::now()).map(|s| s.user_id))
            .transpose()
    }
}

impl FromRequestParts<AppState> for Api {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self {
            app: state.clone(),
            bearer: Bearer(bearer(parts)?.map(str::to_owned)),
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header; `None` without one.
fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 256)
        .map(Some)
        .ok_or(ApiError(Error::Unauthorized(
            "malformed Authorization header; use Bearer <token>",
        )))
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match bearer(parts)? {
            Some(token) => Ok(Self(Some(state.core.authenticate(token).await?))),
            None => Ok(Self(None)),
        }
    }
}

/// A JSON body that may be absent (empty or `null`): `None` then. A body that is
/// present must be valid JSON of the right shape.
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                // Over the body limit is a 413, as for `Json` (see `error.rs`).
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError(Error::PayloadTooLarge { limit: 0 })
                } else {
                    crate::error::bad_request("body", e.body_text())
                }
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(None));
        }
        let invalid = |e: serde_json::Error| {
            crate::error::bad_request("body", format!("invalid JSON body: {e}"))
        };
        match serde_json::from_slice::<serde_json::Value>(&bytes).map_err(invalid)? {
            serde_json::Value::Null => Ok(Self(None)),
            value => serde_json::from_value(value)
                .map(|v| Self(Some(v)))
                .map_err(invalid),
        }
    }
}
