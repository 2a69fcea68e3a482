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

async fn signup(
    State(app): State<AppState>,
    Json(input): Json<Signup>,
) -> ApiResult<(StatusCode, Json<LoginResult>)> {
    let out = app.core.signup(input).await?;
    Ok((StatusCode::CREATED, Json(out.value)))
}

async fn login(
    State(app): State<AppState>,
    ConnectInfo(ClientAddr(addr)): ConnectInfo<ClientAddr>,
    Json(input): Json<Login>,
) -> ApiResult<Json<LoginResult>> {
    app.login_limiter.check(&input.email, addr.ip())?;
    Ok(Json(app.core.login(input).await?))
}

async fn logout(State(app): State<AppState>, auth: Auth) -> ApiResult<StatusCode> {
    let session = auth.session()?.clone();
    write(&app, move |tx| {
        accounts::logout(tx, Some(session.user_id), &session.token_hash)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<User>> {
    let caller = auth.caller();
    Ok(Json(read(&app, move |tx| accounts::me(tx, caller)).await?))
}

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

async fn change_password(
    State(app): State<AppState>,
    auth: Auth,
    Json(input): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    let session = auth.session()?.clone();
    app.core.change_password(session, input).await?;
    Ok(StatusCode::NO_CONTENT)
}
