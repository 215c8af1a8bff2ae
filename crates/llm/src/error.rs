//! Provider errors, classified so callers can decide: retry (and after how
//! long), fall back to another model, or give up and tell the user.

use std::fmt;
use std::time::Duration;

/// Which wait ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutPhase {
    /// Establishing the TCP/TLS connection.
    Connect,
    /// Waiting for the response to start (headers and the first bytes).
    FirstByte,
    /// Waiting for the next piece of a response that had started.
    StreamIdle,
}

/// What went wrong, as far as a caller needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// HTTP 429; usually comes with a `retry_after`.
    RateLimited,
    /// The provider is overloaded (Anthropic 529, HTTP 503, `overloaded_error`).
    Overloaded,
    /// Any other 5xx, or a provider-reported internal error.
    ServerError,
    Timeout(TimeoutPhase),
    /// The connection could not be made, or broke before the reply was complete.
    Connection,
    /// The request was rejected as malformed (400, 404, 422 …).
    InvalidRequest,
    /// The key is missing, wrong or lacks permission (401, 403).
    Authentication,
    /// The prompt does not fit the model's context window.
    ContextTooLong,
    /// The provider refused or filtered the request or the reply.
    Refused,
    /// The provider answered something that is not the protocol (bad JSON, broken SSE).
    MalformedResponse,
    /// Structured output still did not match its schema after every re-ask.
    InvalidStructuredOutput,
    /// No provider, key or model is configured for what was asked.
    NotConfigured,
}

impl ErrorKind {
    /// Transient failures, worth trying again after a pause.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited
                | ErrorKind::Overloaded
                | ErrorKind::ServerError
                | ErrorKind::Timeout(_)
                | ErrorKind::Connection
        )
    }

    /// A short stable name, for logs and `--json` output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::ServerError => "server_error",
            ErrorKind::Timeout(TimeoutPhase::Connect) => "connect_timeout",
            ErrorKind::Timeout(TimeoutPhase::FirstByte) => "first_byte_timeout",
            ErrorKind::Timeout(TimeoutPhase::StreamIdle) => "stream_idle_timeout",
            ErrorKind::Connection => "connection",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::Authentication => "authentication",
            ErrorKind::ContextTooLong => "context_too_long",
            ErrorKind::Refused => "refused",
            ErrorKind::MalformedResponse => "malformed_response",
            ErrorKind::InvalidStructuredOutput => "invalid_structured_output",
            ErrorKind::NotConfigured => "not_configured",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::ServerError => "server error",
            ErrorKind::Timeout(TimeoutPhase::Connect) => "timed out connecting",
            ErrorKind::Timeout(TimeoutPhase::FirstByte) => "timed out waiting for the reply to start",
            ErrorKind::Timeout(TimeoutPhase::StreamIdle) => "timed out waiting for the reply to continue",
            ErrorKind::Connection => "connection failed",
            ErrorKind::InvalidRequest => "invalid request",
            ErrorKind::Authentication => "authentication failed",
            ErrorKind::ContextTooLong => "prompt too long for the model's context window",
            ErrorKind::Refused => "refused by the provider",
            ErrorKind::MalformedResponse => "malformed response",
            ErrorKind::InvalidStructuredOutput => "reply did not match the JSON Schema",
            ErrorKind::NotConfigured => "not configured",
        };
        formatter.write_str(text)
    }
}

/// An error from a model provider or from resolving one.
///
/// The message never contains an API key: provider messages are scrubbed of
/// the key before they get here.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{source_name}: {kind}: {message}")]
pub struct LlmError {
    kind: ErrorKind,
    /// The provider (or `provider/model`) the error came from.
    source_name: String,
    message: String,
    status: Option<u16>,
    retry_after: Option<Duration>,
}

impl LlmError {
    pub fn new(kind: ErrorKind, source_name: impl Into<String>, message: impl Into<String>) -> Self {
        LlmError { kind, source_name: source_name.into(), message: message.into(), status: None, retry_after: None }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    pub fn not_configured(message: impl Into<String>) -> Self {
        LlmError::new(ErrorKind::NotConfigured, "llm", message)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// How long the provider asked us to wait (`retry-after` / `retry-after-ms`).
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The HTTP status, when the error came from one.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The provider or model the error came from.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_kinds_are_retryable() {
        let retryable: Vec<ErrorKind> = [
            ErrorKind::RateLimited,
            ErrorKind::Overloaded,
            ErrorKind::ServerError,
            ErrorKind::Timeout(TimeoutPhase::Connect),
            ErrorKind::Timeout(TimeoutPhase::FirstByte),
            ErrorKind::Timeout(TimeoutPhase::StreamIdle),
            ErrorKind::Connection,
            ErrorKind::InvalidRequest,
            ErrorKind::Authentication,
            ErrorKind::ContextTooLong,
            ErrorKind::Refused,
            ErrorKind::MalformedResponse,
            ErrorKind::InvalidStructuredOutput,
            ErrorKind::NotConfigured,
        ]
        .into_iter()
        .filter(|kind| kind.is_retryable())
        .collect();
        assert_eq!(retryable.len(), 7);
        assert!(!retryable.contains(&ErrorKind::InvalidRequest));
    }

    #[test]
    fn display_names_the_source_kind_and_message() {
        let error = LlmError::new(ErrorKind::RateLimited, "anthropic", "slow down")
            .with_retry_after(Some(Duration::from_secs(2)));
        assert_eq!(error.to_string(), "anthropic: rate limited: slow down");
        assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
    }
}
