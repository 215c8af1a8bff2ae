//! `/api/v1/openapi.json`: the OpenAPI document of the whole API, collected
//! from the documented routes.

use std::sync::LazyLock;

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use super::api_routes;
use crate::openapi::with_error_table;

/// The OpenAPI document of the whole API.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    with_error_table(api_routes().split_for_parts().1)
}

/// Served as `/api/v1/openapi.json`.
#[utoipa::path(
    get, path = "/api/v1/openapi.json", tag = "meta",
    summary = "This OpenAPI document",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
pub(crate) async fn openapi_json() -> impl IntoResponse {
    // Serialised once: the document only changes with the code.
    static DOCUMENT: LazyLock<String> =
        LazyLock::new(|| openapi_document().to_json().unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}")));
    ([(CONTENT_TYPE, "application/json")], DOCUMENT.as_str())
}
