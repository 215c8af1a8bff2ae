//! How one attempt of a delivery ended, and the one table that tells a
//! transient failure (tried again with backoff) from a permanent one (dead
//! at once, with the reason shown).

use std::time::Duration;

/// Whether trying again could help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureClass {
    Transient,
    Permanent,
}

/// A sent message: the service's answer, kept as a short excerpt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub http_status: Option<u16>,
    pub response_excerpt: Option<String>,
    /// Slack's message `ts`, for example.
    pub external_id: Option<String>,
}

/// A failed attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptFailure {
    pub class: FailureClass,
    /// What went wrong, for people (`slack: channel_not_found`).
    pub reason: String,
    pub http_status: Option<u16>,
    pub response_excerpt: Option<String>,
    /// What the service asked for (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl AttemptFailure {
    pub fn transient(reason: impl Into<String>) -> Self {
        AttemptFailure {
            class: FailureClass::Transient,
            reason: reason.into(),
            http_status: None,
            response_excerpt: None,
            retry_after: None,
        }
    }

    pub fn permanent(reason: impl Into<String>) -> Self {
        AttemptFailure { class: FailureClass::Permanent, ..AttemptFailure::transient(reason) }
    }

    pub fn with_response(mut self, status: u16, body: &str) -> Self {
        self.http_status = Some(status);
        self.response_excerpt = Some(excerpt(body));
        self
    }
}

/// How an attempt ended, as the store records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptResult {
    Sent(Sent),
    /// `final_attempt`: no attempt follows (the job's last), so a transient
    /// failure is dead too.
    Failed {
        failure: AttemptFailure,
        final_attempt: bool,
    },
}

/// Most characters of a response body kept with a delivery.
pub const EXCERPT_CHARS: usize = 300;

/// The start of a response body, on one line.
pub fn excerpt(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(EXCERPT_CHARS) {
        Some((at, _)) => format!("{}…", &flat[..at]),
        None => flat,
    }
}

/// An HTTP status that is not a success: 408, 425, 429 and 5xx are worth
/// another attempt; any other refusal is not.
pub fn classify_http(status: u16) -> FailureClass {
    match status {
        408 | 425 | 429 | 500..=599 => FailureClass::Transient,
        _ => FailureClass::Permanent,
    }
}

/// A Slack Web API `error` code (the answer was 200 with `"ok": false`).
/// Rate limits and Slack's own trouble are transient; everything else
/// (`invalid_auth`, `channel_not_found`, `invalid_blocks`…) needs a person.
pub fn classify_slack_error(code: &str) -> FailureClass {
    match code {
        "ratelimited"
        | "rate_limited"
        | "internal_error"
        | "fatal_error"
        | "service_unavailable"
        | "request_timeout"
        | "team_added_to_org" => FailureClass::Transient,
        _ => FailureClass::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_slack_codes_are_classified_once() {
        for status in [408, 429, 500, 502, 503] {
            assert_eq!(classify_http(status), FailureClass::Transient, "{status}");
        }
        for status in [400, 401, 403, 404, 410] {
            assert_eq!(classify_http(status), FailureClass::Permanent, "{status}");
        }
        assert_eq!(classify_slack_error("ratelimited"), FailureClass::Transient);
        for code in ["invalid_auth", "not_authed", "channel_not_found", "user_not_found", "invalid_blocks"] {
            assert_eq!(classify_slack_error(code), FailureClass::Permanent, "{code}");
        }
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(excerpt("{\n  \"ok\": false\n}"), "{ \"ok\": false }");
        let long = excerpt(&"x".repeat(1000));
        assert_eq!(long.chars().count(), EXCERPT_CHARS + 1);
    }
}
