//! The API reference at `/api/v1/docs`: a small page of our own that reads
//! `/api/v1/openapi.json` and lays it out by tag, operation, parameter and
//! schema. Its HTML, script and styles are compiled into the binary and the
//! page's Content-Security-Policy allows this origin only, so the reference
//! works offline and a visit sends nothing to a third party.

use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Where the page is served; its script and styles sit next to it.
pub const PAGE_PATH: &str = "/api/v1/docs";

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("viewer.js");
const STYLES: &str = include_str!("viewer.css");

/// This origin only: the script, the styles and the document it fetches.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page, its script and its styles.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(PAGE_PATH, get(|| async { asset(PAGE, "text/html; charset=utf-8") }))
        .route("/api/v1/docs/viewer.js", get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }))
        .route("/api/v1/docs/viewer.css", get(|| async { asset(STYLES, "text/css; charset=utf-8") }))
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // The files change only with the binary; revalidating them costs nothing.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
