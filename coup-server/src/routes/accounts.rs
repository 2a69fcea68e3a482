//! `/api/auth/*` and `/api/users/me*`.

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use coup_core::model::{LoginResult, User};
use coup_core::service::accounts::{self, Login, PasswordChange, ProfilePatch, Signup};

use super::{read, write};
use crate::error::ApiResult;
use crate::extract::{Auth, Json};
use crate::openapi::{BadRequest, Conflict, Forbidden, RateLimited, Unauthorized};
use crate::ops::ClientAddr;
use crate::state::AppState;

/// Largest signup or login body: credentials are short (passwords at most 128
/// characters), and a login waiting for a hashing turn holds its body.
const CREDENTIALS_BODY_LIMIT: usize = 16 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/auth/signup",
            post(signup).layer(super::BodyLimit(CREDENTIALS_BODY_LIMIT)),
        )
        .route(
            "/api/auth/login",
            post(login).layer(super::BodyLimit(CREDENTIALS_BODY_LIMIT)),
        )
        .route("/api/auth/logout", post(logout))
        .route("/api/users/me", get(me).patch(update_me))
        .route(
            "/api/users/me/password",
            post(change_password)
                .put(change_password)
                .patch(change_password),
        )
}

/// Create an account and sign in.
///
/// Password hashing is bounded: when every hashing lane is busy for longer than
/// `password_hash_wait_ms`, the request is refused with 429 and `Retry-After`.
#[utoipa::path(
    post,
    path = "/api/auth/signup",
    tag = "accounts",
    request_body = Signup,
    responses(
        (status = 201, description = "The account exists and this is its first session", body = LoginResult),
        BadRequest,
        Conflict,
        RateLimited,
    ),
)]
async fn signup(
    State(app): State<AppState>,
    Json(input): Json<Signup>,
) -> ApiResult<(StatusCode, Json<LoginResult>)> {
    let out = app.core.signup(input).await?;
    Ok((StatusCode::CREATED, Json(out.value)))
}

/// Sign in with email and password.
///
/// Attempts are limited per account and per client address, and by the
/// server's password-hashing capacity (429 with `Retry-After` when it is busy).
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "accounts",
    request_body = Login,
    responses(
        (status = 200, description = "A new session", body = LoginResult),
        BadRequest,
        Unauthorized,
        Forbidden,
        RateLimited,
    ),
)]
async fn login(
    State(app): State<AppState>,
    ConnectInfo(ClientAddr(addr)): ConnectInfo<ClientAddr>,
    Json(input): Json<Login>,
) -> ApiResult<Json<LoginResult>> {
    app.login_limiter.check(&input.email, addr.ip()).await?;
    Ok(Json(app.core.login(input).await?))
}

/// End the calling session.
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The token no longer works"),
        Unauthorized,
        Forbidden,
    ),
)]
async fn logout(State(app): State<AppState>, auth: Auth) -> ApiResult<StatusCode> {
    let session = auth.session()?.clone();
    write(&app, move |tx| {
        accounts::logout(tx, Some(session.user_id), &session.token_hash)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's own account.
#[utoipa::path(
    get,
    path = "/api/users/me",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = User),
        Unauthorized,
        Forbidden,
    ),
)]
async fn me(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<User>> {
    let caller = auth.caller();
    Ok(Json(read(&app, move |tx| accounts::me(tx, caller)).await?))
}

/// Change the caller's profile.
#[utoipa::path(
    patch,
    path = "/api/users/me",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = ProfilePatch,
    responses(
        (status = 200, description = "The updated caller", body = User),
        BadRequest,
        Unauthorized,
        Forbidden,
    ),
)]
async fn update_me(
    State(app): State<AppState>,
    auth: Auth,
    Json(patch): Json<ProfilePatch>,
) -> ApiResult<Json<User>> {
    let caller = auth.caller();
    Ok(Json(
        write(&app, move |tx| accounts::update_me(tx, caller, patch)).await?,
    ))
}

/// Change the caller's password; other sessions are ended.
#[utoipa::path(
    method(post, put, patch),
    path = "/api/users/me/password",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 204, description = "The password is changed"),
        BadRequest,
        Unauthorized,
        Forbidden,
        RateLimited,
    ),
)]
async fn change_password(
    State(app): State<AppState>,
    auth: Auth,
    Json(input): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    let session = auth.session()?.clone();
    app.core.change_password(session, input).await?;
    Ok(StatusCode::NO_CONTENT)
}
