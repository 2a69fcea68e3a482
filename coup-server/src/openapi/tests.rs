//! The document's own promises: OpenAPI 3.1, unique ids, declared parameters,
//! errors with the error body, resolving references, enums as sent on the wire.

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

#[test]
fn the_document_is_openapi_3_1() {
    let spec = spec();
    let version = spec["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3.1."), "{version}");
    assert_eq!(spec["info"]["title"], "CoUp API");
    assert!(spec["components"]["securitySchemes"][BEARER]["scheme"] == "bearer");
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

/// `routes::signed_in` fills in only what an annotation leaves out: the study
/// reads keep their anonymous option, and each area's operations carry its tag.
#[test]
fn an_annotations_own_security_and_the_areas_tag_stand() {
    let spec = spec();
    let op = |path: &str, method: &str| spec["paths"][path][method].clone();
    for path in ["/api/studies", "/api/studies/{id}"] {
        assert_eq!(
            op(path, "get")["security"],
            serde_json::json!([{}, {BEARER: []}]),
            "{path}"
        );
    }
    let tagged = [
        ("/api/studies/{id}", "patch", "studies"),
        ("/api/studies/{id}/join", "post", "members"),
        ("/api/studies/{id}/notices", "get", "notices"),
        ("/api/studies/{id}/calendar", "post", "calendar"),
        ("/api/studies/{id}/chat/changes", "get", "chat"),
        ("/api/studies/{id}/files", "post", "files"),
        ("/api/tasks/{id}", "delete", "me"),
        ("/api/admin/stats", "get", "admin"),
        ("/api/users/me", "get", "accounts"),
        ("/api/auth/login", "post", "accounts"),
    ];
    for (path, method, tag) in tagged {
        assert_eq!(
            op(path, method)["tags"],
            serde_json::json!([tag]),
            "{method} {path}"
        );
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
