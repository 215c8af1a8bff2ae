//! The health report, the OpenAPI document and the pages around them.

use serde_json::Value;

use crate::support::{TestApp, api_tests, assert_api_snapshot};

api_tests!(
    health_reports_version_database_and_jobs,
    the_openapi_document_lists_every_route,
    the_api_reference_loads_nothing_from_elsewhere,
);

async fn health_reports_version_database_and_jobs(app: TestApp) {
    app.job(serde_json::json!({"kind": "noop"})).await;
    let response = app.get("/api/v1/health").await;
    let mut body = response.assert_status(200).clone();
    assert_eq!(body["database"], app.store.kind().as_str());
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    body["database"] = Value::from("[database]");
    body["version"] = Value::from("[version]");
    assert_api_snapshot!(body);
}

async fn the_openapi_document_lists_every_route(app: TestApp) {
    let response = app.get("/api/v1/openapi.json").await;
    let document = response.assert_status(200);
    assert_eq!(response.headers["content-type"], "application/json");
    assert!(document["openapi"].as_str().unwrap().starts_with("3."), "{}", document["openapi"]);
    let mut routes = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys().filter(|key| *key != "parameters") {
            routes.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    routes.sort();
    insta::assert_snapshot!(routes.join("\n"));

    // Every documented route answers (not with route_not_found).
    for route in &routes {
        let (method, path) = route.split_once(' ').unwrap();
        if path.ends_with("/stream") {
            continue;
        }
        let path = path.replace("{id}", "1");
        let response = app.request(method.parse().unwrap(), &path, None).await;
        assert_ne!(response.body["error"]["code"], "route_not_found", "{route}");
        assert_ne!(response.body["error"]["code"], "method_not_allowed", "{route}");
    }
    // Bodies that may be left out are optional; a chat reply is JSON or an event stream.
    let paths = &document["paths"];
    for path in ["/api/v1/actions/{id}/schedule", "/api/v1/approvals/{id}/approve"] {
        assert_ne!(paths[path]["post"]["requestBody"]["required"], true, "{path}");
    }
    assert_eq!(paths["/api/v1/approvals/{id}/reject"]["post"]["requestBody"]["required"], true);
    for path in ["/api/v1/agents/{id}/chat", "/api/v1/actions/{id}/chat"] {
        let content = &paths[path]["post"]["responses"]["200"]["content"];
        assert!(content["application/json"].is_object() && content["text/event-stream"].is_object(), "{content}");
    }
    // The error codes are documented.
    let codes = &document["components"]["schemas"]["ErrorCode"];
    assert!(codes.to_string().contains("illegal_transition"), "{codes}");

    let docs = app.get("/api/v1/docs").await;
    assert_eq!(docs.status, 200);
    assert!(docs.text.contains("/api/v1/openapi.json") || docs.text.contains("Steward API"), "{}", docs.text);
    let index = app.get("/").await;
    assert!(index.text.contains("/api/v1/health"), "{}", index.text);
}

/// The reference page, its script and its styles come from this server and
/// reference no other origin; the CSP forbids any other origin too, so the
/// page works offline and a visit sends nothing to a third party.
async fn the_api_reference_loads_nothing_from_elsewhere(app: TestApp) {
    let page = app.get("/api/v1/docs").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");
    for asset in ["/api/v1/docs/viewer.js", "/api/v1/docs/viewer.css"] {
        assert!(page.text.contains(asset), "the page loads {asset}: {}", page.text);
        let response = app.get(asset).await;
        assert_eq!(response.status, 200, "{asset}");
        assert_no_other_origin(asset, &response.text);
    }
    assert!(app.get("/api/v1/docs/viewer.js").await.text.contains("/api/v1/openapi.json"), "it reads the document");
    assert_no_other_origin("the page", &page.text);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("connect-src 'self'") && csp.contains("style-src 'self'"), "{csp}");
    assert!(!csp.contains("http") && !csp.contains('*') && !csp.contains("unsafe"), "no other origin: {csp}");
}

/// No absolute or protocol-relative URL: everything is same-origin.
#[track_caller]
fn assert_no_other_origin(what: &str, text: &str) {
    for pattern in ["http://", "https://", "src=\"//", "href=\"//", "url(", "@import"] {
        assert!(!text.contains(pattern), "{what} contains {pattern:?}");
    }
}
