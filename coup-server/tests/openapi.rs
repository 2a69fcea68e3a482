//! The OpenAPI document and the docs page, served by the real binary.

mod common;

/// The values of `attr="..."` (or `attr='...'`) in `html`.
fn attribute_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let mut values = Vec::new();
    for quote in ['"', '\''] {
        let needle = format!("{attr}={quote}");
        for (i, _) in html.match_indices(&needle) {
            let start = i + needle.len();
            if let Some(len) = html[start..].find(quote) {
                values.push(&html[start..start + len]);
            }
        }
    }
    values
}

async fn text(srv: &common::Server, path: &str) -> (u16, String, String) {
    let res = srv.http.get(srv.url(path)).send().await.expect("request");
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, res.text().await.expect("body"))
}

#[tokio::test]
async fn the_openapi_document_is_served_as_json() {
    let srv = common::start();
    let spec = srv.get("/api/openapi.json", None).await.ok(200);
    let version = spec["openapi"].as_str().expect("openapi");
    assert!(version.starts_with("3.1."), "{version}");
    assert_eq!(spec["info"]["title"], "CoUp API");
    let paths = spec["paths"].as_object().expect("paths");
    assert!(paths.len() > 40, "{} paths", paths.len());
    assert!(
        paths["/api/studies/{id}/files"]["post"]["requestBody"]["content"]["multipart/form-data"]
            .is_object()
    );
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // Every request to the API itself is answered as documented: e.g. an
    // unknown study is a 404 with the documented error body.
    let documented = &paths["/api/studies/{id}"]["get"]["responses"]["404"];
    assert_eq!(
        documented["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
    let res = srv
        .get("/api/studies/00000000-0000-4000-8000-000000000000", None)
        .await;
    res.err(404, "NOT_FOUND");
}

#[tokio::test]
async fn the_docs_page_works_offline() {
    let srv = common::start();
    // `/api/docs` redirects to `/api/docs/`, which the client follows.
    let (status, content_type, html) = text(&srv, "/api/docs").await;
    assert_eq!(status, 200, "{html}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(html.contains("swagger-ui"), "{html}");

    let assets: Vec<&str> = ["src", "href"]
        .iter()
        .flat_map(|attr| attribute_values(&html, attr))
        .collect();
    assert!(assets.len() >= 3, "{assets:?}");
    for asset in &assets {
        assert!(
            !asset.contains("://") && !asset.starts_with("//"),
            "the docs page loads {asset} from elsewhere"
        );
        // Every asset the page loads is served by the server itself.
        let url = format!("/api/docs/{}", asset.trim_start_matches("./"));
        let (status, _, _) = text(&srv, &url).await;
        assert_eq!(status, 200, "{url}");
    }

    // The initializer points Swagger UI at our document and turns off the online
    // validator (which would send the document to swagger.io).
    let (status, _, init) = text(&srv, "/api/docs/swagger-initializer.js").await;
    assert_eq!(status, 200);
    assert!(init.contains("\"/api/openapi.json\""), "{init}");
    assert!(init.contains("\"validatorUrl\": \"none\""), "{init}");
    assert!(
        !init.contains("http://") && !init.contains("https://"),
        "{init}"
    );
}

/// The document states the rules the server enforces, so a generated client
/// cannot send what will be refused: text lengths, `maxMembers`' range, tag
/// counts and the page bounds of every paged list — and the server refuses
/// exactly past them.
#[tokio::test]
async fn the_document_states_the_enforced_limits() {
    let srv = common::start();
    let spec = srv.get("/api/openapi.json", None).await.ok(200);
    let schema = |name: &str| spec["components"]["schemas"][name]["properties"].clone();
    let signup = schema("Signup");
    assert_eq!(signup["password"]["minLength"], 8);
    assert_eq!(signup["password"]["maxLength"], 128);
    assert_eq!(signup["name"]["maxLength"], 50);
    assert_eq!(signup["email"]["maxLength"], 254);
    let study = schema("NewStudy");
    assert_eq!(study["maxMembers"]["minimum"], 2);
    assert_eq!(study["maxMembers"]["maximum"], 1000);
    assert_eq!(study["tags"]["maxItems"], 10);
    assert_eq!(study["name"]["minLength"], 1);
    assert_eq!(schema("StudyPatch")["maxMembers"]["maximum"], 1000);
    assert_eq!(schema("NewNotice")["content"]["maxLength"], 10000);
    assert_eq!(schema("NewReport")["reason"]["maxLength"], 1000);
    let mut paged = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        let Some(params) = item["get"]["parameters"].as_array() else {
            continue;
        };
        for param in params {
            let bounds = (&param["schema"]["minimum"], &param["schema"]["maximum"]);
            match param["name"].as_str() {
                Some("page") => {
                    paged += 1;
                    assert_eq!(bounds, (&1.into(), &1_000_000.into()), "{path}");
                }
                // The change feed pages by up to 500 changes.
                Some("limit") if path.ends_with("/chat/changes") => {
                    assert_eq!(bounds, (&1.into(), &500.into()), "{path}");
                }
                Some("limit") if !path.ends_with("/chat") => {
                    assert_eq!(bounds, (&1.into(), &100.into()), "{path}");
                }
                _ => {}
            }
        }
    }
    assert!(paged >= 10, "{paged} paged lists");
    // Just inside and just outside the documented range.
    let (token, _) = srv.signup("kim").await;
    let body = |max: u32| {
        serde_json::json!({"name": "n", "description": "d", "category": "c", "tags": [],
                           "maxMembers": max, "isPublic": true, "joinPolicy": "AUTO"})
    };
    for max in [2, 1000] {
        srv.post("/api/studies", Some(&token), body(max))
            .await
            .ok(201);
    }
    for max in [1, 1001] {
        srv.post("/api/studies", Some(&token), body(max))
            .await
            .err(400, "VALIDATION");
    }
    for query in ["page=1000000", "limit=1", "limit=100"] {
        srv.get(&format!("/api/my-studies?{query}"), Some(&token))
            .await
            .ok(200);
    }
    for query in ["page=0", "page=1000001", "limit=0", "limit=101"] {
        srv.get(&format!("/api/my-studies?{query}"), Some(&token))
            .await
            .err(400, "VALIDATION");
    }
}
