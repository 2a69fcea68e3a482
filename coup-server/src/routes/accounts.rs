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

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/signup", post(signup))
        .route("/api/auth/login", post(login))
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
#[utoipa::path(
    post,
    path = "/api/auth/signup",
    tag = "accounts",
    request_body = Signup,
    responses(
        (status = 201, description = "The account exists and this is its first session", body = LoginResult),
        BadRequest,
        Conflict,
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
/// Attempts are limited per account and per client address.
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
