//! Errors in OpenAI's shape, `{"error": {"message", "type", "param",
//! "code"}}`: built from the API's own errors, so every refusal (a missing
//! token, a foreign `Host`, a body too large, a rate limit) reads the same
//! to an OpenAI client as a refusal of the endpoint itself.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::api::{ErrorCode, ErrorResponse};
use crate::error::ApiError;

/// The largest error body rewritten (errors are small; anything larger is
/// not one of ours and passes untouched).
const MAX_ERROR_BODY: usize = 64 * 1024;

#[derive(Debug, Serialize)]
pub(crate) struct OpenAiError {
    pub error: OpenAiErrorBody,
}

#[derive(Debug, Serialize)]
pub(crate) struct OpenAiErrorBody {
    pub message: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub param: Option<String>,
    pub code: Option<String>,
}

impl OpenAiError {
    /// The API error as OpenAI's clients expect it: the status they branch
    /// on, a `type` of OpenAI's vocabulary, the field as `param`, and the
    /// code (`model_not_found` for an unknown agent).
    pub(crate) fn from_api(error: &ErrorResponse, status: StatusCode) -> (StatusCode, OpenAiError) {
        let body = &error.error;
        let (status, kind, code) = match body.code {
            ErrorCode::BudgetExceeded => (StatusCode::TOO_MANY_REQUESTS, "insufficient_quota", "insufficient_quota"),
            ErrorCode::NotFound if body.field.as_deref() == Some("model") => {
                (status, "invalid_request_error", "model_not_found")
            }
            ErrorCode::Unauthenticated => (status, "authentication_error", "invalid_api_key"),
            code => (status, kind_of(status), code.as_str()),
        };
        let error = OpenAiErrorBody {
            message: body.message.clone(),
            kind,
            param: body.field.clone(),
            code: Some(code.to_string()),
        };
        (status, OpenAiError { error })
    }
}

/// OpenAI's error `type` for a status.
fn kind_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        500.. => "server_error",
        _ => "invalid_request_error",
    }
}

/// An API error answered in OpenAI's shape.
pub(crate) fn respond(error: ApiError) -> Response {
    let (status, body) = OpenAiError::from_api(&error.body(), error.status());
    if status.is_server_error() {
        tracing::error!(code = %error.code, message = %error.message, "chat completion failed");
    } else {
        tracing::debug!(code = %error.code, field = ?error.field, message = %error.message, "chat completion refused");
    }
    let mut response = (status, axum::Json(body)).into_response();
    response.extensions_mut().insert(InOpenAiShape);
    response
}

/// Marks a response already in OpenAI's shape, which the outer layer
/// must not read as one of the API's errors.
#[derive(Clone, Copy, Debug)]
struct InOpenAiShape;

/// The outer layer: rewrites the API's error responses under `/v1/` into
/// OpenAI's shape, keeping their status and headers (`Retry-After`).
pub(crate) async fn openai_error_shape(request: Request, next: Next) -> Response {
    let openai = request.uri().path().starts_with(super::PREFIX);
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    let rewritten = response.extensions().get::<InOpenAiShape>().is_some();
    if !openai || rewritten || response.status().is_success() || !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "an error response was too large to pass on").into_response();
    };
    let Ok(api) = serde_json::from_slice::<ErrorResponse>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let (status, rewritten) = OpenAiError::from_api(&api, parts.status);
    let bytes = serde_json::to_vec(&rewritten).unwrap_or_default();
    parts.status = status;
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(code: ErrorCode, field: Option<&str>) -> (StatusCode, serde_json::Value) {
        let api = ApiError::new(code, "why");
        let api = match field {
            Some(field) => api.with_field(field),
            None => api,
        };
        let (status, body) = OpenAiError::from_api(&api.body(), api.status());
        (status, serde_json::to_value(body).unwrap())
    }

    #[test]
    fn api_errors_take_openai_types_and_codes() {
        let (status, body) = rewrite(ErrorCode::NotFound, Some("model"));
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "model_not_found");
        assert_eq!(body["error"]["param"], "model");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        let (status, body) = rewrite(ErrorCode::BudgetExceeded, None);
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(body["error"]["type"], "insufficient_quota");
        let (status, body) = rewrite(ErrorCode::Unauthenticated, None);
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["code"], "invalid_api_key");
        let (_, body) = rewrite(ErrorCode::ModelFailed, None);
        assert_eq!(body["error"]["type"], "server_error");
        assert_eq!(body["error"]["message"], "why");
    }
}
