//! `/`: a small page pointing at the API, until the dashboard arrives.

use axum::response::Html;

pub async fn index() -> Html<&'static str> {
    Html(concat!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<title>Steward</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}",
        "code{background:#f3f3f3;padding:0 .2em}</style></head><body>",
        "<h1>Steward ",
        env!("CARGO_PKG_VERSION"),
        "</h1><p>Steward is running. The dashboard is not built yet; meanwhile:</p><ul>",
        "<li><a href=\"/api/v1/health\">/api/v1/health</a>: status and jobs by state</li>",
        "<li><a href=\"/api/v1/docs\">/api/v1/docs</a>: the API reference ",
        "(<a href=\"/api/v1/openapi.json\">OpenAPI document</a>)</li>",
        "<li><a href=\"/api/v1/events/stream\">/api/v1/events/stream</a>: live events</li>",
        "</ul><p>From a terminal: <code>steward status</code>, <code>steward job list</code>, ",
        "<code>steward events --follow</code>.</p></body></html>\n",
    ))
}
