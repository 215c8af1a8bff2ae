//! The one error shape of the API, `{"error": {"code", "message", "field"}}`,
//! and the table of stable error codes, each mapped once to an HTTP status.
//!
//! Clients branch on `code` (never on the message, which is for people and
//! may be reworded); `field` names the offending input (`name`,
//! `jobs[2].priority`, `id`, `state`) when the error is about one.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $code:literal, $status:literal;)+) => {
        /// A stable, machine-readable error code.
        // The serde names are the snake_case variant names; a test checks
        // they equal the codes of the table.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)+
        }

        impl ErrorCode {
            /// Every code, in the order of the table.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code),+ }
            }

            /// The HTTP status every response with this code has.
            pub fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status),+ }
            }

            /// What the code means, for the documentation.
            pub fn description(self) -> &'static str {
                match self { $(ErrorCode::$variant => concat!($($doc),*).trim_ascii_start()),+ }
            }
        }
    };
}

error_codes! {
    /// The body is not valid JSON; the message gives the line and column.
    InvalidJson = "invalid_json", 400;
    /// A path or query parameter is malformed or unknown (`/jobs/abc`, `?limit=-1`); `field` names it.
    InvalidParameter = "invalid_parameter", 400;
    /// The JSON is well-formed but a field is missing, unknown, of the wrong type or
    /// invalid (an empty name, a dependency on a missing job, a cycle); `field` names it.
    InvalidField = "invalid_field", 422;
    /// The agent names a model whose provider has no API key on this server; set the key
    /// where `steward serve` runs, or choose another model. `field` is `model`.
    ModelUnavailable = "model_unavailable", 422;
    /// The endpoint takes no body (cancel, retry, archive) and one was sent.
    UnexpectedBody = "unexpected_body", 400;
    /// The request carries no credential where one is required, or one that is not valid
    /// (unknown, expired, revoked; or a wrong user name or password).
    Unauthenticated = "unauthenticated", 401;
    /// The credential is valid but may not do this (a `read` token's change, a dashboard
    /// session's change without its `X-CSRF-Token`).
    Forbidden = "forbidden", 403;
    /// A browser sent the request from another site's page (its `Origin` is not this server's,
    /// or `Sec-Fetch-Site` says cross-site); only the server's own pages may use the API.
    CrossSiteRequest = "cross_site_request", 403;
    /// The request's `Host` is not a name this server answers to (DNS rebinding protection);
    /// add the name to `server.allowed_hosts`.
    HostNotAllowed = "host_not_allowed", 403;
    /// The agent, action or job named in the path does not exist.
    NotFound = "not_found", 404;
    /// No endpoint has this path.
    RouteNotFound = "route_not_found", 404;
    /// The endpoint exists but not with this HTTP method (see the `Allow` header).
    MethodNotAllowed = "method_not_allowed", 405;
    /// The state machine forbids the change (action draft → completed, cancel a completed job).
    IllegalTransition = "illegal_transition", 409;
    /// A unique name is already taken.
    AlreadyExists = "already_exists", 409;
    /// A job this one depends on died or was cancelled, so it could never run.
    DependencyFailed = "dependency_failed", 409;
    /// The agent is archived and no longer changes or takes new actions.
    Archived = "archived", 409;
    /// Someone else changed the thing first, so the request acted on an out-of-date view;
    /// read it again and retry.
    Stale = "stale", 409;
    /// The agent's daily or total budget is spent (runs and chats count), or it cannot be
    /// counted because the model's price is unknown; the message says which.
    BudgetExceeded = "budget_exceeded", 409;
    /// The body did not arrive within `server.body_timeout_secs`.
    RequestTimeout = "request_timeout", 408;
    /// The body is larger than the server accepts (`server.max_body_bytes`).
    PayloadTooLarge = "payload_too_large", 413;
    /// The request's URI is longer than the server accepts.
    UriTooLong = "uri_too_long", 414;
    /// The body is not sent as `Content-Type: application/json` (a state-changing request with
    /// a form or text content type is refused even without a body).
    UnsupportedMediaType = "unsupported_media_type", 415;
    /// Too many failed authentication attempts from this address or for this user; the
    /// `Retry-After` header says how many seconds to wait.
    RateLimited = "rate_limited", 429;
    /// The request's headers are larger, or more numerous, than the server accepts.
    HeadersTooLarge = "headers_too_large", 431;
    /// A bug or a database failure; the server log has the details.
    Internal = "internal", 500;
    /// The model provider failed or refused the call (rate limit, outage, rejected key, a reply
    /// that broke the protocol); the message says which. The user's message is kept.
    ModelFailed = "model_failed", 502;
    /// The server is shutting down or its database is closed; try again shortly.
    Unavailable = "unavailable", 503;
    /// This server runs without an agent runtime, so it cannot chat with agents, start or
    /// schedule runs, or serve artifact files; `steward serve` runs one.
    NoAgentRuntime = "no_agent_runtime", 503;
    /// No model provider is configured for the model asked for; set ANTHROPIC_API_KEY or
    /// OPENAI_API_KEY, or add the provider under [llm] in the configuration.
    ModelNotConfigured = "model_not_configured", 503;
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What every failed request returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// What went wrong and how to fix it, for a person.
    pub message: String,
    /// The input at fault (`name`, `jobs[2].depends_on[0]`, `id`), or null
    /// when the error is not about one field.
    pub field: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_table_names() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::Value::from(code.as_str()));
            assert!((400..600).contains(&code.http_status()), "{code}");
        }
    }
}
