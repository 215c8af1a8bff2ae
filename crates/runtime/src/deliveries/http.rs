//! The HTTP answers of Slack and webhooks turned into a delivery's
//! outcome: 2xx is sent; 429 (with `Retry-After`), 408 and 5xx are worth
//! another attempt; other refusals are dead at once; a timeout or a broken
//! connection is transient. URLs never appear in a reason (a webhook URL
//! can be its secret).

use std::time::Duration;

use steward_domain::delivery::{AttemptFailure, FailureClass, classify_http, excerpt};

use crate::outbound::blocked_address_in;

/// Reads the answer's status, `Retry-After` and body (at most 64 KiB kept).
pub(super) async fn answer(response: reqwest::Response) -> (u16, Option<Duration>, String) {
    let status = response.status().as_u16();
    let retry_after = steward_llm::retry_after_from_headers(response.headers());
    let body = response.text().await.unwrap_or_default();
    let body: String = body.chars().take(64 * 1024).collect();
    (status, retry_after, body)
}

/// A non-2xx answer.
pub(super) fn refused(service: &str, status: u16, retry_after: Option<Duration>, body: &str) -> AttemptFailure {
    let reason = format!("{service} answered HTTP {status}: {}", excerpt(body));
    let failure = match classify_http(status) {
        FailureClass::Transient => AttemptFailure::transient(reason),
        FailureClass::Permanent => AttemptFailure::permanent(reason),
    };
    AttemptFailure { retry_after, ..failure.with_response(status, body) }
}

/// A request that got no answer.
pub(super) fn unreached(service: &str, error: reqwest::Error) -> AttemptFailure {
    if let Some(blocked) = blocked_address_in(&error) {
        return AttemptFailure::permanent(format!("{service}: {blocked}"));
    }
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    AttemptFailure::transient(format!("{service}: {what} ({})", error.without_url()))
}
