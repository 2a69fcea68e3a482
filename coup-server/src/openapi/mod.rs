//! The OpenAPI 3.1 document of the REST API, generated from the code: every handler
//! carries a `#[utoipa::path]` annotation, the router registers it with utoipa-axum's
//! `routes!` (which is what adds it to the document, so a route cannot be served
//! undocumented), and the wire types in `coup-core` derive their schemas (feature
//! `openapi`). [`routes`] serves the document as `GET /api/openapi.json` and renders
//! it with Swagger UI at `GET /api/docs`; the Swagger UI assets are compiled into the
//! binary, so the page fetches nothing from the internet.
//!
//! - [`responses`]: the error responses the annotations list, alone and in sets.
//! - `modifiers`: what the assembled document gets (bearer scheme, shared responses,
//!   distinct operation ids, page item references).

mod modifiers;
pub mod responses;
#[cfg(test)]
mod tests;

use coup_core::error::ErrorBody;
use coup_core::model::StudySort;
use utoipa::OpenApi;
use utoipa_swagger_ui::{Config, SwaggerUi};

pub(crate) use modifiers::operations_mut;
pub use responses::{
    BadRequest, Conflict, Forbidden, InputErrors, NotFound, PayloadTooLarge, RateLimited,
    SessionErrors, StateErrors, TargetErrors, Unauthorized,
};

/// Where the document is served.
pub const SPEC_PATH: &str = "/api/openapi.json";
/// Where the Swagger UI is served (`/api/docs` redirects to `/api/docs/`).
pub const DOCS_PATH: &str = "/api/docs";

/// The name of the bearer-token security scheme that authenticated operations use.
pub const BEARER: &str = "bearer";

/// What the document says besides its operations: the description, the tags and
/// the schemas no operation names. The operations come from the router.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "CoUp API",
        description = "The REST API of CoUp, the self-hostable study-group platform.\n\n\
            JSON bodies and responses use camelCase names, RFC 3339 UTC times and \
            upper-case enum values. Lists are pages: `?page=` (from 1) and `?limit=` \
            (at most 100). Sign in with `POST /api/auth/login` (or sign up) and send \
            the returned token as `Authorization: Bearer <token>`. Every failure is \
            `{\"error\": {\"code\", \"message\", \"field\"?}}`; clients branch on `code`."
    ),
    // Schemas that only query parameters refer to are not collected on their own.
    components(schemas(ErrorBody, StudySort)),
    tags(
        (name = "accounts", description = "Sign up, sign in and out, the caller's profile"),
        (name = "studies", description = "Finding, creating and running study groups"),
        (name = "members", description = "Joining and leaving, requests, roles and kicks"),
        (name = "notices", description = "A study's announcements"),
        (name = "calendar", description = "A study's events"),
        (name = "chat", description = "A study's chat"),
        (name = "files", description = "A study's files: multipart upload, streamed download"),
        (name = "me", description = "The caller's dashboard, notifications, tasks and reports"),
        (name = "admin", description = "Platform administration (platform ADMIN and SYSTEM_ADMIN)"),
        (name = "ops", description = "Probes and metrics for operators"),
    ),
)]
pub struct ApiDoc;

/// The document of the API that [`crate::routes::api`] serves, built once per call
/// (the server builds it once, at start-up).
pub fn document() -> utoipa::openapi::OpenApi {
    let routes = crate::routes::documented(&crate::config::Config::default());
    assemble(routes.into_openapi())
}

/// [`ApiDoc`] with the operations `registered` holds, finished by the modifiers.
pub(crate) fn assemble(registered: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut openapi = ApiDoc::openapi();
    openapi.merge(registered);
    modifiers::apply(&mut openapi);
    openapi
}

/// `GET /api/openapi.json` with `document`, and the Swagger UI under `GET /api/docs`.
pub fn routes<S: Clone + Send + Sync + 'static>(
    document: utoipa::openapi::OpenApi,
) -> axum::Router<S> {
    let config = Config::default()
        // Never send the document to swagger.io's online validator.
        .validator_url("none")
        .persist_authorization(true)
        .try_it_out_enabled(true);
    let docs: axum::Router<S> = SwaggerUi::new(DOCS_PATH)
        .url(SPEC_PATH, document)
        .config(config)
        .into();
    // Unknown files under the docs path answer like every other unknown route.
    docs.layer(axum::middleware::map_response(
        |response: axum::response::Response| async move {
            if response.status() == axum::http::StatusCode::NOT_FOUND {
                axum::response::IntoResponse::into_response(crate::error::ApiError(
                    coup_core::Error::NotFound("route"),
                ))
            } else {
                response
            }
        },
    ))
}
