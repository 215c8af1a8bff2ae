//! Endpoints that take no body (cancel, retry, archive) refuse one: what the
//! OpenAPI document says an operation takes is what it accepts. Runs after
//! routing, where the matched path is known.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::ErrorCode;
use crate::error::ApiError;

/// `METHOD path` of every state-changing operation without a request body.
static BODILESS: LazyLock<BTreeSet<String>> = LazyLock::new(|| {
    let document = crate::routes::meta::openapi_document();
    let mut bodiless = BTreeSet::new();
    for (path, item) in &document.paths.paths {
        let operations = [("POST", &item.post), ("PUT", &item.put), ("PATCH", &item.patch), ("DELETE", &item.delete)];
        for (method, operation) in operations {
            if operation.as_ref().is_some_and(|operation| operation.request_body.is_none()) {
                bodiless.insert(format!("{method} {path}"));
            }
        }
    }
    bodiless
});

/// Whether the documented operation `method path` takes no body.
pub(crate) fn takes_no_body(method: &Method, path: &str) -> bool {
    BODILESS.contains(&format!("{method} {path}"))
}

pub(crate) async fn refuse_unexpected_body(request: Request, next: Next) -> Response {
    let path = request.extensions().get::<MatchedPath>().map(|path| path.as_str().to_string());
    if let Some(path) = path
        && takes_no_body(request.method(), &path)
    {
        // A declared length of 0 or no body at all ends the stream at once;
        // any other length, or a chunked body, does not.
        if !axum::body::HttpBody::is_end_stream(request.body()) {
            return ApiError::new(
                ErrorCode::UnexpectedBody,
                format!("{} {path} takes no body; send the request without one", request.method()),
            )
            .into_response();
        }
    }
    next.run(request).await
}
