//! `/api/auth/*` and `/api/users/me*`.

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use coup_core::api::paths;
use coup_core::model::{LoginResult, User};
use coup_core::service::accounts::{self, Login, PasswordChange, ProfilePatch, Signup};
use utoipa_axum::router::UtoipaMethodRouterExt;
use utoipa_axum::routes;

use super::{Answer, Created, Routes, signed_in, write};
use crate::error::ApiResult;
use crate::extract::{Api, Auth, Json};
use crate::openapi::{BadRequest, Conflict, InputErrors, RateLimited, SessionErrors};
use crate::ops::ClientAddr;
use crate::state::AppState;

/// Largest signup or login body: credentials are short (passwords at most 128
/// characters), and a login waiting for a hashing turn holds its body.
const CREDENTIALS_BODY_LIMIT: usize = 16 * 1024;

pub(super) fn routes() -> Routes {
    let credentials = || super::BodyLimit(CREDENTIALS_BODY_LIMIT);
    // Signing up and in need no session: their annotations name the tag and no
    // security.
    let public = vec![
        routes!(signup).layer(credentials()),
        routes!(login).layer(credentials()),
    ];
    let own = signed_in(
        "accounts",
        vec![
            routes!(logout),
            routes!(me, update_me),
            routes!(change_password),
        ],
    );
    [public, own].concat()
}

/// Create an account and sign in.
///
/// Password hashing is bounded: when every hashing lane is busy for longer than
/// `password_hash_wait_ms`, the request is refused with 429 and `Retry-After`.
#[utoipa::path(post, path = paths::SIGNUP, tag = "accounts", responses(
    (status = 201, description = "The account exists and this is its first session", body = LoginResult),
    BadRequest,
    Conflict,
    RateLimited,
))]
async fn signup(State(app): State<AppState>, Json(input): Json<Signup>) -> Created<LoginResult> {
    let out = app.core.signup(input).await?;
    Ok((StatusCode::CREATED, Json(out.value)))
}

/// Sign in with email and password.
///
/// Attempts are limited per account and per client address, and by the
/// server's password-hashing capacity (429 with `Retry-After` when it is busy).
#[utoipa::path(post, path = paths::LOGIN, tag = "accounts", responses(
    (status = 200, description = "A new session", body = LoginResult), InputErrors, RateLimited))]
async fn login(
    State(app): State<AppState>,
    ConnectInfo(ClientAddr(addr)): ConnectInfo<ClientAddr>,
    Json(input): Json<Login>,
) -> Answer<LoginResult> {
    app.login_limiter.check(&input.email, addr.ip()).await?;
    Ok(Json(app.core.login(input).await?))
}

/// End the calling session.
#[utoipa::path(post, path = paths::LOGOUT,
    responses((status = 204, description = "The token no longer works"), SessionErrors))]
async fn logout(State(app): State<AppState>, auth: Auth) -> ApiResult<StatusCode> {
    let session = auth.session()?.clone();
    write(&app, move |tx| {
        accounts::logout(tx, Some(session.user_id), &session.token_hash)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's own account.
#[utoipa::path(get, path = paths::ME,
    responses((status = 200, description = "The caller", body = User), SessionErrors))]
async fn me(api: Api) -> Answer<User> {
    api.read(accounts::me).await
}

/// Change the caller's profile.
#[utoipa::path(patch, path = paths::ME,
    responses((status = 200, description = "The updated caller", body = User), InputErrors))]
async fn update_me(api: Api, Json(patch): Json<ProfilePatch>) -> Answer<User> {
    api.write(move |tx, caller| accounts::update_me(tx, caller, patch))
        .await
}

/// Change the caller's password; other sessions are ended.
#[utoipa::path(method(post, put, patch), path = paths::PASSWORD,
    responses((status = 204, description = "The password is changed"), InputErrors, RateLimited))]
async fn change_password(
    State(app): State<AppState>,
    auth: Auth,
    Json(input): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    let session = auth.session()?.clone();
    app.core.change_password(session, input).await?;
    Ok(StatusCode::NO_CONTENT)
}
