//! Answers for requests no handler takes (unknown path, wrong method) and for
//! handlers that panic, all in the API's error shape.

use std::any::Any;

use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};

use crate::api::ErrorCode;
use crate::error::ApiError;

pub async fn route_not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ErrorCode::RouteNotFound,
        format!("no endpoint {method} {}; the API is described at /api/v1/openapi.json", uri.path()),
    )
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("{} does not take {method}; the Allow header lists the methods it takes", uri.path()),
    )
}

/// A panicking handler is a bug; the client still gets the error shape and
/// the server keeps running.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic".to_string()
    };
    tracing::error!(panic = %message, "a request handler panicked");
    ApiError::internal("an internal error occurred (a bug in Steward); the server log has the details").into_response()
}
