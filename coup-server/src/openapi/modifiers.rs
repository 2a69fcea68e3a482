//! What the document gets after every route has added its operations: the
//! bearer scheme, the responses every operation shares, distinct operation ids
//! for a handler's method aliases, and pages that name their item schema.

use utoipa::Modify;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayItems, Schema};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};

use super::BEARER;

/// Applies every modifier, in order, to the assembled document.
pub(super) fn apply(openapi: &mut OpenApi) {
    let modifiers: [&dyn Modify; 4] = [
        &BearerScheme,
        &CommonResponses,
        &DistinctOperationIds,
        &PageItemsByRef,
    ];
    for modifier in modifiers {
        modifier.modify(openapi);
    }
}

/// Declares the bearer-token scheme that `security(("bearer" = []))` refers to.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut OpenApi) {
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
pub(super) struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApi) {
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
    fn modify(&self, openapi: &mut OpenApi) {
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
    fn modify(&self, openapi: &mut OpenApi) {
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
pub(crate) fn operations_mut(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut Operation> {
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
