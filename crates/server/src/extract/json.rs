//! `ApiJson<T>` (and `ApiJsonOrEmpty<T>`, for bodies that may be left
//! out): the JSON body extractor. Unlike axum's `Json`, every
//! rejection is in the API's error shape: a wrong Content-Type is 415, an
//! oversized body 413, broken JSON `invalid_json` with line and column, and a
//! field of the wrong type, missing or unknown `invalid_field` naming the
//! field by its path (`jobs[2].priority`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::AppState;
use crate::api::ErrorCode;
use crate::error::ApiError;
use crate::guard::is_json;
use crate::guard::route_limits::RouteBodyLimit;

#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let content_type = request.headers().get(CONTENT_TYPE).and_then(|value| value.to_str().ok());
        check_content_type(content_type)?;
        parse_json(&read_body(request, state).await?).map(ApiJson)
    }
}

/// Like [`ApiJson`] for bodies whose every field is optional: an empty body
/// (whatever its Content-Type says) stands for `{}`, so
/// `POST /approvals/7/approve` needs no body.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJsonOrEmpty<T>(pub T);

impl<T: DeserializeOwned + Default> FromRequest<AppState> for ApiJsonOrEmpty<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let content_type =
            request.headers().get(CONTENT_TYPE).and_then(|value| value.to_str().ok()).map(str::to_string);
        let bytes = read_body(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(ApiJsonOrEmpty(T::default()));
        }
        check_content_type(content_type.as_deref())?;
        parse_json(&bytes).map(ApiJsonOrEmpty)
    }
}

fn check_content_type(content_type: Option<&str>) -> Result<(), ApiError> {
    match content_type {
        Some(content_type) if is_json(content_type) => Ok(()),
        Some(other) => Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("the body is sent as {other:?}; send JSON with the header Content-Type: application/json"),
        )),
        None => Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "the request has no Content-Type; send JSON with the header Content-Type: application/json",
        )),
    }
}

/// The body as sent, whatever its type, within the configured size limit
/// and time: for endpoints that check a signature over the exact bytes.
#[derive(Debug, Clone, Default)]
pub struct RawBody(pub Bytes);

impl FromRequest<AppState> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        read_body(request, state).await.map(RawBody)
    }
}

/// The whole body, within the configured size limit and time. A declared
/// length over the limit is refused before anything is read.
async fn read_body(request: Request, state: &AppState) -> Result<Bytes, ApiError> {
    let route_limit = request.extensions().get::<RouteBodyLimit>().map(|limit| limit.0);
    let limit = route_limit.map_or(state.max_body_bytes, |route| route.min(state.max_body_bytes));
    let declared =
        request.headers().get(CONTENT_LENGTH).and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large(state, limit));
    }
    let read = tokio::time::timeout(state.body_timeout, Bytes::from_request(request, state)).await.map_err(|_| {
        ApiError::new(
            ErrorCode::RequestTimeout,
            format!(
                "the body did not arrive within {} seconds (server.body_timeout_secs)",
                state.body_timeout.as_secs()
            ),
        )
    })?;
    let bytes = read.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            too_large(state, limit)
        } else {
            ApiError::new(ErrorCode::InvalidJson, format!("the body could not be read: {}", rejection.body_text()))
        }
    })?;
    if bytes.len() > limit {
        return Err(too_large(state, limit));
    }
    Ok(bytes)
}

fn too_large(state: &AppState, limit: usize) -> ApiError {
    let message = if limit < state.max_body_bytes {
        format!("the body is larger than {limit} bytes, the most this endpoint accepts; send less")
    } else {
        format!(
            "the body is larger than {limit} bytes, the most this server accepts \
             (server.max_body_bytes in its configuration); send less, or split a batch"
        )
    };
    ApiError::new(ErrorCode::PayloadTooLarge, message)
}

/// Parses a whole body as `T`, naming the field at fault on error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(ErrorCode::InvalidJson, "the body is empty; send a JSON object"));
    }
    // Every request body is an object; serde would read a struct from an
    // array too, positionally, and report a baffling `[0]`.
    if bytes.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| syntax_error(&error))?;
        return Err(ApiError::new(
            ErrorCode::InvalidField,
            format!("the body must be a JSON object, not {}", describe(&value)),
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            Category::Data => data_error(&path, &inner),
            // serde_json reports a non-string where an enum is expected as
            // "expected value", a syntax error, though the JSON is fine.
            Category::Syntax if serde_json::from_slice::<serde_json::Value>(bytes).is_ok() => {
                let mut error = ApiError::new(ErrorCode::InvalidField, "invalid type: expected a string");
                error.field = (path != ".").then_some(path);
                error
            }
            Category::Syntax | Category::Eof | Category::Io => syntax_error(&inner),
        }
    })?;
    deserializer.end().map_err(|error| syntax_error(&error))?;
    Ok(value)
}

fn syntax_error(error: &serde_json::Error) -> ApiError {
    ApiError::new(ErrorCode::InvalidJson, format!("the body is not valid JSON: {error}"))
}

/// A well-formed body with a bad field: the message without serde's
/// position suffix, reworded where serde speaks Rust, and the field's path.
fn data_error(path: &str, error: &serde_json::Error) -> ApiError {
    let full = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    let message = full.strip_suffix(&position).unwrap_or(&full);
    let parent = if path == "." { "" } else { path };
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (name, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let expected = expected.trim_start_matches(", ").replace('`', "");
        let field = join(parent, name);
        let expected = if expected.is_empty() { "no fields are accepted here".to_string() } else { expected };
        return ApiError::invalid_field(field, format!("unknown field; {expected}"));
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        return ApiError::invalid_field(join(parent, name), "is required");
    }
    let field = if parent.is_empty() { None } else { Some(parent.to_string()) };
    let mut error = ApiError::new(ErrorCode::InvalidField, humanize(message));
    error.field = field;
    error
}

fn describe(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// `parent.name`, unless the path already ends with the name (serde reports
/// unknown fields at their own path, missing ones at their parent's).
fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() || parent == name {
        name.to_string()
    } else if parent.ends_with(&format!(".{name}")) {
        parent.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// Replaces Rust type names in serde's messages with words.
fn humanize(message: &str) -> String {
    let mut text = message.replace('`', "");
    for (rust, words) in [
        ("expected i32", "expected a 32-bit integer"),
        ("expected i64", "expected an integer"),
        ("expected u32", "expected a non-negative 32-bit integer"),
        ("expected u64", "expected a non-negative integer"),
        ("expected usize", "expected a non-negative integer"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected an object"),
        ("expected struct ", "expected an object: "),
    ] {
        text = text.replace(rust, words);
    }
    if let Some(rest) = text.strip_prefix("unknown variant ") {
        return format!("unknown value {rest}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Job {
        kind: String,
        #[serde(default)]
        priority: Option<i32>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Batch {
        jobs: Vec<Job>,
    }

    fn error_of(body: &str) -> ApiError {
        parse_json::<Batch>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn wrong_types_name_the_nested_field() {
        let error = error_of(r#"{"jobs": [{"kind": "a"}, {"kind": "b"}, {"kind": "c", "priority": "high"}]}"#);
        assert_eq!(error.code, ErrorCode::InvalidField);
        assert_eq!(error.field.as_deref(), Some("jobs[2].priority"));
        assert_eq!(error.message, r#"invalid type: string "high", expected a 32-bit integer"#);
    }

    #[test]
    fn unknown_and_missing_fields_name_themselves() {
        let error = error_of(r#"{"jobs": [{"kind": "a", "prioritty": 1}]}"#);
        assert_eq!(error.field.as_deref(), Some("jobs[0].prioritty"));
        assert_eq!(error.message, "unknown field; expected kind or priority");
        let error = error_of(r#"{"jobs": [{"priority": 1}]}"#);
        assert_eq!(error.field.as_deref(), Some("jobs[0].kind"));
        assert_eq!(error.message, "is required");
        let error = error_of("{}");
        assert_eq!(error.field.as_deref(), Some("jobs"));
    }

    #[test]
    fn broken_json_is_reported_with_its_position() {
        let error = error_of(r#"{"jobs": [}"#);
        assert_eq!(error.code, ErrorCode::InvalidJson);
        assert!(error.message.contains("line 1 column"), "{}", error.message);
        assert_eq!(error.field, None);
        assert_eq!(error_of("  ").message, "the body is empty; send a JSON object");
        assert_eq!(error_of(r#"{"jobs": []} x"#).code, ErrorCode::InvalidJson);
        let error = error_of("[1]");
        assert_eq!(error.code, ErrorCode::InvalidField);
        assert_eq!(error.field, None);
        assert_eq!(error.message, "the body must be a JSON object, not an array");
        assert_eq!(error_of("[1,").code, ErrorCode::InvalidJson);
    }
}
