//! The OpenAPI 3.1 document of the REST API, generated from the code: every handler
//! carries a `#[utoipa::path]` annotation and the wire types in `coup-core` derive
//! their schemas (feature `openapi`). [`routes`] serves it as `GET /api/openapi.json`
//! and renders it with Swagger UI at `GET /api/docs`; the Swagger UI assets are
//! compiled into the binary, so the page fetches nothing from the internet.
//!
//! A test below reads the router source and fails when a route is registered
//! without being documented here (or documented without being registered).

use coup_core::model::StudySort;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayItems, Schema};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{IntoResponses, Modify, OpenApi};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::routes::{accounts, admin, content, files, me, studies};
use coup_core::error::ErrorBody;

/// Where the document is served.
pub const SPEC_PATH: &str = "/api/openapi.json";
/// Where the Swagger UI is served (`/api/docs` redirects to `/api/docs/`).
pub const DOCS_PATH: &str = "/api/docs";

/// The name of the bearer-token security scheme that authenticated operations use.
pub const BEARER: &str = "bearer";

/// The whole API, as the document that `GET /api/openapi.json` returns.
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
    paths(
        accounts::signup,
        accounts::login,
        accounts::logout,
        accounts::me,
        accounts::update_me,
        accounts::change_password,
        me::get_dashboard,
        me::my_studies,
        me::list_notifications,
        me::read_notification,
        me::read_all,
        me::list_tasks,
        me::create_task,
        me::get_task,
        me::update_task,
        me::delete_task,
        me::toggle_task,
        me::create_report,
        studies::list,
        studies::create,
        studies::get_one,
        studies::update,
        studies::remove,
        studies::invite_code,
        studies::regenerate_invite_code,
        studies::join,
        studies::leave,
        studies::join_requests,
        studies::members,
        studies::kick,
        studies::approve,
        studies::reject,
        studies::role,
        content::list_notices,
        content::create_notice,
        content::get_notice,
        content::update_notice,
        content::delete_notice,
        content::pin_notice,
        content::list_events,
        content::create_event,
        content::update_event,
        content::delete_event,
        content::list_messages,
        content::list_changes,
        content::send_message,
        content::get_message,
        content::delete_message,
        content::read_message,
        files::list,
        files::upload,
        files::remove,
        files::download,
        admin::stats,
        admin::users,
        admin::user,
        admin::suspend,
        admin::restore,
        admin::studies,
        admin::study,
        admin::delete_study,
        admin::reports,
        admin::report,
        admin::process,
        admin::audit_log,
        ops_paths::healthz,
        ops_paths::readyz,
        ops_paths::metrics,
    ),
    // Schemas that only query parameters refer to are not collected on their own.
    components(schemas(ErrorBody, StudySort)),
    modifiers(&BearerScheme, &CommonResponses, &DistinctOperationIds, &PageItemsByRef),
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

/// The document, built once per call (the server builds it once, at start-up).
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `GET /api/openapi.json` and the Swagger UI under `GET /api/docs`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    let config = Config::default()
        // Never send the document to swagger.io's online validator.
        .validator_url("none")
        .persist_authorization(true)
        .try_it_out_enabled(true);
    let docs: axum::Router<S> = SwaggerUi::new(DOCS_PATH)
        .url(SPEC_PATH, document())
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

// Error responses for `responses(...)` in the annotations: each is its status with
// the error body. 408, 500 and 503 (and 413 for a body) apply to every operation and
// are added by [`CommonResponses`].

/// `VALIDATION`: the body, a path or query parameter, or one field is invalid.
#[derive(IntoResponses)]
#[response(status = 400)]
pub struct BadRequest(pub ErrorBody);

/// `UNAUTHORIZED`: no valid session (missing, malformed, expired or revoked token),
/// or wrong credentials.
#[derive(IntoResponses)]
#[response(status = 401)]
pub struct Unauthorized(pub ErrorBody);

/// `FORBIDDEN`: the caller may not do this (role, ownership, or a suspended account).
#[derive(IntoResponses)]
#[response(status = 403)]
pub struct Forbidden(pub ErrorBody);

/// `NOT_FOUND`: no such thing, or one the caller may not know exists (a private study).
#[derive(IntoResponses)]
#[response(status = 404)]
pub struct NotFound(pub ErrorBody);

/// `CONFLICT`: the current state does not allow this (a duplicate, a full study,
/// the wrong membership state).
#[derive(IntoResponses)]
#[response(status = 409)]
pub struct Conflict(pub ErrorBody);

/// `PAYLOAD_TOO_LARGE`: the body or file is larger than allowed.
#[derive(IntoResponses)]
#[response(status = 413)]
pub struct PayloadTooLarge(pub ErrorBody);

/// `RATE_LIMITED`: too many attempts; retry after the given number of seconds.
#[derive(IntoResponses)]
#[response(
    status = 429,
    headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))
)]
pub struct RateLimited(pub ErrorBody);

/// Documents the handlers of [`crate::ops`], which are plain functions registered in
/// [`crate::routes::api`]; these stand-ins carry only their annotations.
#[allow(dead_code)]
mod ops_paths {
    use super::ErrorBody;

    /// Liveness: the process answers.
    #[utoipa::path(
        get,
        path = "/healthz",
        tag = "ops",
        responses((status = 200, description = "Always `ok`", body = String, example = "ok")),
    )]
    fn healthz() {}

    /// Readiness: the store answers.
    #[utoipa::path(
        get,
        path = "/readyz",
        tag = "ops",
        responses(
            (status = 200, description = "`ready`", body = String, example = "ready"),
            (status = 503, description = "`UNAVAILABLE`: the store cannot be reached", body = ErrorBody),
        ),
    )]
    fn readyz() {}

    /// Request counters and latencies in the Prometheus text format.
    #[utoipa::path(
        get,
        path = "/metrics",
        tag = "ops",
        responses((
            status = 200,
            description = "Prometheus exposition format",
            body = String,
            content_type = "text/plain; version=0.0.4"
        )),
    )]
    fn metrics() {}
}

/// Declares the bearer-token scheme that `security(("bearer" = []))` refers to.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.description = Some(
            "The token from `POST /api/auth/login` or `POST /api/auth/signup`. A request \
             without `Authorization` is anonymous; one with a bad, expired or revoked \
             token is refused with 401."
                .to_owned(),
        );
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(BEARER, SecurityScheme::Http(http));
    }
}

/// Adds the failures any API operation can have (408, 500, 503, and 413 where there
/// is a body), so the annotations list only the ones specific to their operation.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        let too_large = error(
            "`PAYLOAD_TOO_LARGE`: the body is larger than the server accepts \
             (`json_body_limit`)",
        );
        let common = [
            (
                "408",
                ResponseBuilder::new()
                    .description("The request took longer than the server's timeout (no body)")
                    .build(),
            ),
            (
                "500",
                error("`INTERNAL`: an unexpected failure; details are logged, not sent"),
            ),
            (
                "503",
                error("`UNAVAILABLE`: the store cannot be reached right now"),
            ),
        ];
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/") {
                continue;
            }
            for operation in operations_mut(item) {
                if operation.request_body.is_some() {
                    operation
                        .responses
                        .responses
                        .entry("413".to_owned())
                        .or_insert_with(|| too_large.clone().into());
                }
                for (status, response) in &common {
                    operation
                        .responses
                        .responses
                        .entry((*status).to_owned())
                        .or_insert_with(|| response.clone().into());
                }
            }
        }
    }
}

/// A handler that answers several methods (e.g. `PATCH` and its alias `PUT`) is one
/// annotation, so its operations share an id; OpenAPI wants ids to be unique. The
/// first method in `GET, POST, PATCH, PUT, DELETE` order keeps the handler's name;
/// the others get `_<method>` appended and say whose alias they are.
struct DistinctOperationIds;

impl Modify for DistinctOperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let mut seen = std::collections::BTreeMap::new();
            let methods = [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("patch", &mut item.patch),
                ("put", &mut item.put),
                ("delete", &mut item.delete),
            ];
            for (method, operation) in methods {
                let Some(operation) = operation else { continue };
                let Some(id) = operation.operation_id.as_mut() else {
                    continue;
                };
                match seen.get(id.as_str()) {
                    None => {
                        seen.insert(id.clone(), method);
                    }
                    Some(primary) => {
                        *id = format!("{id}_{method}");
                        let alias = format!("The same operation as `{}`.", primary.to_uppercase());
                        operation.description = Some(match operation.description.take() {
                            Some(description) => format!("{alias}\n\n{description}"),
                            None => alias,
                        });
                    }
                }
            }
        }
    }
}

/// utoipa inlines the type argument of a generic schema, so every `Page_<T>` would
/// repeat all of `T`; this points each page's `items` at the named schema instead.
struct PageItemsByRef;

impl Modify for PageItemsByRef {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let named: std::collections::BTreeSet<String> =
            components.schemas.keys().cloned().collect();
        for (name, schema) in components.schemas.iter_mut() {
            let Some(item) = name.strip_prefix("Page_").filter(|i| named.contains(*i)) else {
                continue;
            };
            let RefOr::T(Schema::Object(page)) = schema else {
                continue;
            };
            if let Some(RefOr::T(Schema::Array(items))) = page.properties.get_mut("items") {
                items.items = ArrayItems::RefOrSchema(Box::new(Ref::from_schema_name(item).into()));
            }
        }
    }
}

/// The operations a path item can hold.
fn operations_mut(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use axum::response::IntoResponse;
    use coup_core::Error;
    use serde_json::Value;

    use super::*;
    use crate::error::ApiError;

    const METHODS: [&str; 8] = [
        "get", "post", "put", "patch", "delete", "head", "options", "trace",
    ];

    fn spec() -> Value {
        let json = document()
            .to_pretty_json()
            .expect("the document serializes");
        serde_json::from_str(&json).expect("the document is valid JSON")
    }

    /// `(METHOD, path)` of every operation in the document.
    fn documented(spec: &Value) -> BTreeSet<(String, String)> {
        let paths = spec["paths"].as_object().expect("paths");
        paths
            .iter()
            .flat_map(|(path, item)| {
                let item = item.as_object().expect("path item");
                METHODS
                    .iter()
                    .filter(|m| item.contains_key(**m))
                    .map(|m| (m.to_uppercase(), path.clone()))
            })
            .collect()
    }

    /// `(METHOD, path)` of every `.route("path", get(..).post(..))` in `src/routes/`,
    /// read from the source so that a new route cannot be missed.
    fn registered() -> BTreeSet<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("src/routes")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .collect();
        files.sort();
        assert!(files.iter().any(|f| f.ends_with("mod.rs")), "{files:?}");
        let mut routes = BTreeSet::new();
        for file in files {
            let source = std::fs::read_to_string(&file).expect("route source");
            for (path, methods) in route_calls(&source) {
                assert!(
                    !methods.is_empty(),
                    "{}: no method router recognised in the route for {path}",
                    file.display()
                );
                for method in methods {
                    routes.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        routes
    }

    /// The path and method names of each `.route(...)` call in `source`.
    fn route_calls(source: &str) -> Vec<(String, Vec<String>)> {
        let code: String = source
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut calls = Vec::new();
        let mut rest = code.as_str();
        while let Some(start) = rest.find(".route(") {
            let args = &rest[start + ".route(".len()..];
            let end = closing_paren(args).expect("balanced .route(...)");
            let call = &args[..end];
            let path = call
                .split('"')
                .nth(1)
                .expect("the route's path is a string literal")
                .to_owned();
            let after_path = &call[call.find(',').expect("a method router after the path")..];
            calls.push((path, method_calls(after_path)));
            rest = &args[end..];
        }
        calls
    }

    /// The index of the `)` that closes an already opened `(`.
    fn closing_paren(text: &str) -> Option<usize> {
        let mut depth = 1;
        let mut in_string = false;
        for (i, c) in text.char_indices() {
            match c {
                '"' => in_string = !in_string,
                '(' if !in_string => depth += 1,
                ')' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// `get(`, `.post(`, `axum::routing::patch(`… in a method-router expression.
    fn method_calls(expr: &str) -> Vec<String> {
        let bytes = expr.as_bytes();
        let mut found = Vec::new();
        for method in METHODS {
            let pattern = format!("{method}(");
            for (i, _) in expr.match_indices(&pattern) {
                let word_start =
                    i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
                if word_start {
                    found.push(method.to_owned());
                }
            }
        }
        found
    }

    #[test]
    fn the_document_is_openapi_3_1() {
        let spec = spec();
        let version = spec["openapi"].as_str().expect("openapi version");
        assert!(version.starts_with("3.1."), "{version}");
        assert_eq!(spec["info"]["title"], "CoUp API");
        assert!(spec["components"]["securitySchemes"][BEARER]["scheme"] == "bearer");
    }

    #[test]
    fn the_route_scanner_reads_route_calls() {
        let source = r#"
            Router::new()
                .route("/a/{id}", get(one).patch(two).put(two).layer(DefaultBodyLimit::max(5)))
                // .route("/commented", get(x))
                .route(
                    "/b",
                    axum::routing::delete(forget_it),
                )
        "#;
        assert_eq!(
            route_calls(source),
            vec![
                (
                    "/a/{id}".to_owned(),
                    vec!["get".into(), "put".into(), "patch".into()]
                ),
                ("/b".to_owned(), vec!["delete".into()]),
            ]
        );
    }

    #[test]
    fn every_route_is_documented_and_every_documented_route_exists() {
        let registered = registered();
        let documented = documented(&spec());
        assert!(
            registered.len() > 60,
            "the scan found too few routes: {registered:?}"
        );
        let undocumented: Vec<_> = registered.difference(&documented).collect();
        let unrouted: Vec<_> = documented.difference(&registered).collect();
        assert!(
            undocumented.is_empty(),
            "routes without a #[utoipa::path] listed in ApiDoc: {undocumented:?}"
        );
        assert!(
            unrouted.is_empty(),
            "documented operations that no route serves: {unrouted:?}"
        );
    }

    fn operations(spec: &Value) -> Vec<(String, String, &Value)> {
        let mut out = Vec::new();
        for (path, item) in spec["paths"].as_object().expect("paths") {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    out.push((method.to_uppercase(), path.clone(), op));
                }
            }
        }
        out
    }

    #[test]
    fn operations_have_unique_ids_tags_and_declared_path_parameters() {
        let spec = spec();
        let mut ids = BTreeMap::new();
        for (method, path, op) in operations(&spec) {
            let id = op["operationId"].as_str().expect("operationId");
            if let Some(other) = ids.insert(id.to_owned(), format!("{method} {path}")) {
                panic!("{method} {path} and {other} share the operation id {id}");
            }
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path}: no tag"
            );
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path}: no summary"
            );
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            let in_template: BTreeSet<&str> = path
                .split('{')
                .skip(1)
                .filter_map(|s| s.split('}').next())
                .collect();
            assert_eq!(declared, in_template, "{method} {path}: path parameters");
        }
    }

    #[test]
    fn operations_declare_success_errors_and_security() {
        let spec = spec();
        let open = ["/api/auth/signup", "/api/auth/login"];
        for (method, path, op) in operations(&spec) {
            let responses = op["responses"].as_object().expect("responses");
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path}: no success response"
            );
            if !path.starts_with("/api/") {
                continue;
            }
            for status in ["500", "503"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path}: no {status}"
                );
            }
            for (status, response) in responses {
                if status.starts_with('4') && status != "408" || status.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{method} {path} {status}: error body"
                    );
                }
            }
            let bearer = op["security"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|req| req.get(BEARER).is_some());
            if open.contains(&path.as_str()) {
                assert!(!bearer, "{method} {path} needs no token");
            } else {
                assert!(bearer, "{method} {path}: no bearer security");
                assert!(responses.contains_key("401"), "{method} {path}: no 401");
            }
        }
    }

    #[test]
    fn every_schema_reference_resolves() {
        let spec = spec();
        let schemas = spec["components"]["schemas"].as_object().expect("schemas");
        let text = spec.to_string();
        for reference in text.split("\"$ref\":\"").skip(1) {
            let target = reference.split('"').next().expect("reference");
            let name = target
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected reference {target}"));
            assert!(schemas.contains_key(name), "dangling reference to {name}");
        }
        // Pages name their item schema instead of repeating it.
        assert_eq!(
            schemas["Page_Study"]["properties"]["items"]["items"]["$ref"],
            "#/components/schemas/Study"
        );
    }

    #[test]
    fn enums_list_their_wire_spellings() {
        use coup_core::model::*;
        let spec = spec();
        let schemas = &spec["components"]["schemas"];
        macro_rules! check {
            ($($name:ident),+) => {$(
                let wire: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                assert_eq!(schemas[stringify!($name)]["enum"], serde_json::json!(wire), stringify!($name));
            )+};
        }
        check!(
            PlatformRole,
            UserStatus,
            StudyRole,
            MemberStatus,
            JoinPolicy,
            StudySort,
            Priority,
            NotificationKind,
            ReportTarget,
            ReportStatus,
            ReportAction,
            AuditAction
        );
        assert_eq!(schemas["StudyId"]["type"], "string");
        assert_eq!(schemas["StudyId"]["format"], "uuid");
    }

    #[test]
    fn the_upload_documents_its_file_field() {
        let spec = spec();
        let body = &spec["paths"]["/api/studies/{id}/files"]["post"]["requestBody"]["content"]["multipart/form-data"]
            ["schema"];
        let upload = match body["$ref"].as_str() {
            Some(r) => &spec["components"]["schemas"][r.rsplit('/').next().expect("name")],
            None => body,
        };
        assert_eq!(upload["required"], serde_json::json!(["file"]));
        assert_eq!(upload["properties"]["file"]["format"], "binary");
    }

    /// The documented error body is what the server really sends.
    #[tokio::test]
    async fn error_responses_parse_as_the_documented_error_body() {
        let errors = [
            Error::Validation {
                field: "name",
                message: "must not be empty".into(),
            },
            Error::Unauthorized("sign in first"),
            Error::Forbidden("you may not do this"),
            Error::NotFound("study"),
            Error::Conflict("already a member".into()),
            Error::PayloadTooLarge { limit: 10 },
            Error::RateLimited {
                retry_after_secs: 3,
            },
            Error::Internal("boom".into()),
        ];
        for error in errors {
            let response = ApiError(error).into_response();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .expect("body");
            let body: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "{} is not an ErrorBody: {e}",
                    String::from_utf8_lossy(&bytes)
                )
            });
            assert!(!body.error.code.is_empty());
            assert_eq!(body.error.field.is_some(), body.error.code == "VALIDATION");
        }
    }
}
