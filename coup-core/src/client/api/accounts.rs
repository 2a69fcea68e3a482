//! Accounts: sign up, sign in and out, the caller's profile and password
//! (the server's `routes/accounts.rs`).

use reqwest::Method;

use crate::api::accounts::{Login, PasswordChange, ProfilePatch, Signup};
use crate::api::paths;
use crate::error::Result;
use crate::model::{LoginResult, User};

use super::ApiClient;

impl ApiClient {
    /// `POST /api/auth/signup`: creates an account and signs in (the token is kept).
    pub async fn signup(&self, input: &Signup) -> Result<LoginResult> {
        let result: LoginResult = self.send_json(Method::POST, paths::SIGNUP, input).await?;
        self.set_token(Some(result.token.clone()));
        Ok(result)
    }

    /// `POST /api/auth/login`: signs in (the token is kept for the following requests).
    pub async fn login(&self, input: &Login) -> Result<LoginResult> {
        let result: LoginResult = self.send_json(Method::POST, paths::LOGIN, input).await?;
        self.set_token(Some(result.token.clone()));
        Ok(result)
    }

    /// `POST /api/auth/logout`: ends the session; the token is forgotten.
    pub async fn logout(&self) -> Result<()> {
        self.call_empty(self.request(Method::POST, paths::LOGOUT))
            .await?;
        self.set_token(None);
        Ok(())
    }

    /// `GET /api/users/me`.
    pub async fn me(&self) -> Result<User> {
        self.get(paths::ME).await
    }

    /// `PATCH /api/users/me`.
    pub async fn update_me(&self, patch: &ProfilePatch) -> Result<User> {
        self.send_json(Method::PATCH, paths::ME, patch).await
    }

    /// `POST /api/users/me/password`: the other sessions end.
    pub async fn change_password(&self, input: &PasswordChange) -> Result<()> {
        self.call_empty(self.request(Method::POST, paths::PASSWORD).json(input))
            .await
    }
}
