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
