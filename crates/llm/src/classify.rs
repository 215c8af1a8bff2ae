//! Turning a provider's failure — an HTTP status with its error JSON, or an
//! error object inside a stream — into an [`LlmError`] of the right kind.
//! Both error shapes are understood: Anthropic's
//! `{"type":"error","error":{"type","message"}}` and OpenAI's
//! `{"error":{"message","type","code"}}`.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::error::{ErrorKind, LlmError};

/// Error messages are cut to this many characters; an HTML error page from a
/// proxy should not flood a terminal.
const MAX_MESSAGE_CHARS: usize = 500;

/// The fields of a provider error object that classification looks at.
#[derive(Debug, Default, PartialEq)]
struct ProviderErrorFields {
    error_type: Option<String>,
    code: Option<String>,
    message: Option<String>,
}

fn error_fields(body: &Value) -> ProviderErrorFields {
    let error = body.get("error").unwrap_or(body);
    let text = |name: &str| error.get(name).and_then(Value::as_str).map(str::to_owned);
    ProviderErrorFields { error_type: text("type"), code: text("code"), message: text("message") }
}

fn is_context_too_long(fields: &ProviderErrorFields) -> bool {
    let message = fields.message.as_deref().unwrap_or("").to_ascii_lowercase();
    fields.code.as_deref() == Some("context_length_exceeded")
        || message.contains("prompt is too long")
        || message.contains("context length")
        || message.contains("context window")
        || message.contains("maximum context")
}

fn is_refusal(fields: &ProviderErrorFields) -> bool {
    matches!(fields.code.as_deref(), Some("content_filter" | "content_policy_violation"))
        || fields.message.as_deref().is_some_and(|message| {
            let message = message.to_ascii_lowercase();
            message.contains("content management policy") || message.contains("content filter")
        })
}

/// The kind of an error object, from its type or code, when the status alone
/// does not say (or there is no status, inside a stream).
fn kind_from_fields(fields: &ProviderErrorFields) -> Option<ErrorKind> {
    if is_context_too_long(fields) {
        return Some(ErrorKind::ContextTooLong);
    }
    if is_refusal(fields) {
        return Some(ErrorKind::Refused);
    }
    // OpenAI's code is more specific than its type ("overloaded" vs "server_error").
    let named = [fields.code.as_deref(), fields.error_type.as_deref()];
    named.into_iter().flatten().find_map(|name| match name {
        "overloaded_error" | "overloaded" => Some(ErrorKind::Overloaded),
        "rate_limit_error" | "rate_limit_exceeded" => Some(ErrorKind::RateLimited),
        "api_error" | "server_error" | "internal_error" => Some(ErrorKind::ServerError),
        "authentication_error" | "permission_error" | "invalid_api_key" => Some(ErrorKind::Authentication),
        "invalid_request_error" | "not_found_error" | "request_too_large" => Some(ErrorKind::InvalidRequest),
        _ => None,
    })
}

fn kind_from_status(status: u16, fields: &ProviderErrorFields) -> ErrorKind {
    match status {
        429 => ErrorKind::RateLimited,
        529 | 503 => ErrorKind::Overloaded,
        401 | 403 => ErrorKind::Authentication,
        // Request timeout and conflict are transient; the official SDKs retry them too.
        408 | 409 => ErrorKind::ServerError,
        500..=599 => {
            kind_from_fields(fields).filter(|kind| *kind == ErrorKind::Overloaded).unwrap_or(ErrorKind::ServerError)
        }
        _ => match kind_from_fields(fields) {
            Some(kind @ (ErrorKind::ContextTooLong | ErrorKind::Refused)) => kind,
            _ => ErrorKind::InvalidRequest,
        },
    }
}

/// How long the provider asked us to wait: `retry-after-ms` (milliseconds,
/// preferred as the more precise) or `retry-after` in seconds. An HTTP-date
/// `retry-after` is not understood and ignored (providers send seconds).
pub fn retry_after_from_headers(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok().filter(|value| value.is_finite() && *value >= 0.0)
    };
    if let Some(milliseconds) = number("retry-after-ms") {
        return Some(Duration::from_secs_f64(milliseconds / 1000.0));
    }
    number("retry-after").map(Duration::from_secs_f64)
}

fn shorten(message: &str) -> String {
    if message.chars().count() <= MAX_MESSAGE_CHARS {
        return message.to_owned();
    }
    let cut: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
    format!("{cut}…")
}

/// An error from a non-success HTTP response. `redact` scrubs the API key
/// from the provider's text before it is kept anywhere.
pub fn http_error(
    source_name: &str,
    status: u16,
    headers: &HeaderMap,
    body_text: &str,
    redact: impl Fn(&str) -> String,
) -> LlmError {
    let body: Value = serde_json::from_str(body_text).unwrap_or(Value::Null);
    let fields = error_fields(&body);
    let kind = kind_from_status(status, &fields);
    let message = match &fields.message {
        Some(message) => message.clone(),
        None if body_text.trim().is_empty() => format!("HTTP {status} with an empty body"),
        None => format!("HTTP {status}: {}", body_text.trim()),
    };
    LlmError::new(kind, source_name, shorten(&redact(&message)))
        .with_status(status)
        .with_retry_after(retry_after_from_headers(headers))
}

/// An error object that arrived inside a stream (Anthropic's `error` event,
/// OpenAI's `{"error":…}` chunk).
pub fn stream_error(source_name: &str, error_object: &Value, redact: impl Fn(&str) -> String) -> LlmError {
    let fields = error_fields(error_object);
    let kind = kind_from_fields(&fields).unwrap_or(ErrorKind::ServerError);
    let message = fields.message.unwrap_or_else(|| error_object.to_string());
    LlmError::new(kind, source_name, shorten(&redact(&format!("error in the reply stream: {message}"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn classify(status: u16, body: &str) -> ErrorKind {
        http_error("p", status, &HeaderMap::new(), body, str::to_owned).kind()
    }

    #[test]
    fn statuses_and_bodies_map_to_kinds() {
        assert_eq!(
            classify(429, r#"{"type":"error","error":{"type":"rate_limit_error","message":"x"}}"#),
            ErrorKind::RateLimited
        );
        assert_eq!(
            classify(529, r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
            ErrorKind::Overloaded
        );
        assert_eq!(classify(503, ""), ErrorKind::Overloaded);
        assert_eq!(classify(500, r#"{"error":{"message":"boom","type":"server_error"}}"#), ErrorKind::ServerError);
        assert_eq!(classify(502, "<html>bad gateway</html>"), ErrorKind::ServerError);
        assert_eq!(classify(401, r#"{"error":{"code":"invalid_api_key"}}"#), ErrorKind::Authentication);
        assert_eq!(
            classify(400, r#"{"error":{"message":"too long","code":"context_length_exceeded"}}"#),
            ErrorKind::ContextTooLong
        );
        assert_eq!(
            classify(
                400,
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#
            ),
            ErrorKind::ContextTooLong
        );
        assert_eq!(classify(400, r#"{"error":{"message":"no","code":"content_filter"}}"#), ErrorKind::Refused);
        assert_eq!(
            classify(404, r#"{"type":"error","error":{"type":"not_found_error","message":"model: x"}}"#),
            ErrorKind::InvalidRequest
        );
        assert_eq!(classify(422, "{}"), ErrorKind::InvalidRequest);
    }

    #[test]
    fn retry_after_prefers_milliseconds_and_ignores_dates() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after_from_headers(&headers), Some(Duration::from_secs(3)));
        headers.insert("retry-after-ms", HeaderValue::from_static("1500.5"));
        assert_eq!(retry_after_from_headers(&headers), Some(Duration::from_micros(1_500_500)));
        let mut dated = HeaderMap::new();
        dated.insert("retry-after", HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after_from_headers(&dated), None);
    }

    #[test]
    fn stream_errors_are_classified_by_type() {
        let overloaded =
            serde_json::json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
        assert_eq!(stream_error("p", &overloaded, str::to_owned).kind(), ErrorKind::Overloaded);
        let unknown = serde_json::json!({"error": {"message": "???"}});
        assert_eq!(stream_error("p", &unknown, str::to_owned).kind(), ErrorKind::ServerError);
    }
}
