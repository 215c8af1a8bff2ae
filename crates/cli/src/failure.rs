//! How a failed command ends: its message on stderr, or with `--json` one
//! `{"error": {"code", "message", "field"}}` document on stdout, and an exit
//! status by class of error (the table is in `steward --help`).
//!
//! Codes are the API's own ([`ErrorCode`]) wherever the server answered, or
//! where a command used the store directly and it refused;
//! the CLI adds two of its own: `unreachable` (no server answered) and
//! `failed` (the command ran, but what it did or waited for failed: a run
//! that did not complete, skills with problems, anything else).

use std::fmt;

use serde_json::json;
use steward_server::ApiError;
use steward_server::api::ErrorCode;
use steward_store::StoreError;

/// The server refused a request; displayed as `field: message`.
#[derive(Debug, Clone)]
pub struct ApiFailure {
    /// The API's error code (`not_found`), or `failed` when the answer was
    /// not the API's error shape.
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ApiFailure {}

/// The exit statuses, one per class of error.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success
  1  failed: the command ran but did not succeed (a run that did not complete,
     skills with problems, a server error)
  2  usage: a bad flag, argument or field (invalid_parameter, invalid_field,
     model_unavailable, invalid_json, payload_too_large), or a confirmation
     refused
  3  not_found: the agent, action, run or job does not exist
  4  conflict: the current state forbids it (illegal_transition,
     already_exists, archived, stale, dependency_failed, budget_exceeded)
  5  unavailable: no server answered (unreachable), or it cannot do this now
     (unavailable, no_agent_runtime, model_not_configured, model_failed)

With --json every command prints one JSON document on stdout, errors too:
{\"error\": {\"code\": \"not_found\", \"message\": \"…\", \"field\": null}}
(`events --follow` and a chat without a message print one document a line).
Amounts of money (`cost_usd`, prices) are decimal strings: \"0.3\".";

/// A failure the CLI itself found, with a code and the input at fault.
#[derive(Debug, Clone)]
pub struct CliFailure {
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl CliFailure {
    /// A flag or argument that cannot be used; `field` names it (`--server`).
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> CliFailure {
        CliFailure { code: ErrorCode::InvalidParameter.as_str(), message: message.into(), field: Some(field.into()) }
    }

    /// A configuration key that cannot be used; `field` names it (`workers.concurrency`).
    pub fn invalid_config(field: impl Into<String>, message: impl Into<String>) -> CliFailure {
        CliFailure { code: ErrorCode::InvalidField.as_str(), message: message.into(), field: Some(field.into()) }
    }

    /// A configuration that cannot be used, when no single key is to blame.
    pub fn bad_configuration(message: impl Into<String>) -> CliFailure {
        CliFailure { code: ErrorCode::InvalidField.as_str(), message: message.into(), field: None }
    }

    /// Something named on the command line does not exist.
    pub fn not_found(message: impl Into<String>) -> CliFailure {
        CliFailure { code: ErrorCode::NotFound.as_str(), message: message.into(), field: None }
    }

    /// No server answered at the address the CLI resolved.
    pub fn unreachable(message: impl Into<String>) -> CliFailure {
        CliFailure { code: UNREACHABLE, message: message.into(), field: None }
    }
}

impl fmt::Display for CliFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliFailure {}

/// The command failed after printing its `--json` document, which says why
/// (a run that did not complete, skills with problems): only the exit
/// status is left to give, so `--json` still prints one document.
#[derive(Debug, Clone)]
pub struct AlreadyShown {
    pub message: String,
}

impl fmt::Display for AlreadyShown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AlreadyShown {}

/// No server answered.
pub const UNREACHABLE: &str = "unreachable";
/// Anything without a more precise code.
pub const FAILED: &str = "failed";
/// Command-line syntax errors (clap's own), with the API's code for a bad parameter.
pub const USAGE: &str = "invalid_parameter";

/// The exit status of an error code.
pub fn exit_status(code: &str) -> u8 {
    match code {
        "invalid_parameter"
        | "invalid_field"
        | "model_unavailable"
        | "invalid_json"
        | "payload_too_large"
        | "unsupported_media_type"
        | "unexpected_body" => 2,
        "not_found" => 3,
        "illegal_transition" | "already_exists" | "dependency_failed" | "archived" | "stale" | "budget_exceeded" => 4,
        "unreachable" | "unavailable" | "no_agent_runtime" | "model_not_configured" | "model_failed" => 5,
        _ => 1,
    }
}

/// What the user is told: code, message and field of any error.
#[derive(Debug, PartialEq)]
pub struct Described {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    /// The `--json` document was printed by the command itself.
    pub already_shown: bool,
}

/// Finds the most precise code in the error's chain: the API's answer, a
/// failure the CLI typed, or `failed`.
pub fn describe(error: &anyhow::Error) -> Described {
    for cause in error.chain() {
        if let Some(failure) = cause.downcast_ref::<ApiFailure>() {
            // The API's own message, unless context was added around it.
            let message = if error.chain().count() == 1 { failure.message.clone() } else { format!("{error:#}") };
            return Described {
                code: failure.code.clone(),
                message,
                field: failure.field.clone(),
                already_shown: false,
            };
        }
        if let Some(refusal) = cause.downcast_ref::<StoreError>() {
            // The API's code and field; a database failure is this command's
            // own failure, not a server's `internal` one.
            let answer = ApiError::from(refusal);
            let code = if answer.code == ErrorCode::Internal { FAILED } else { answer.code.as_str() };
            return Described {
                code: code.to_string(),
                message: format!("{error:#}"),
                field: answer.field,
                already_shown: false,
            };
        }
        if let Some(failure) = cause.downcast_ref::<CliFailure>() {
            return Described {
                code: failure.code.to_string(),
                message: format!("{error:#}"),
                field: failure.field.clone(),
                already_shown: false,
            };
        }
    }
    let already_shown = error.chain().any(|cause| cause.is::<AlreadyShown>());
    Described { code: FAILED.to_string(), message: format!("{error:#}"), field: None, already_shown }
}

/// The error as the one JSON document `--json` prints.
pub fn error_document(described: &Described) -> serde_json::Value {
    json!({ "error": { "code": described.code, "message": described.message, "field": described.field } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_code_has_a_class() {
        for code in ErrorCode::ALL {
            let status = exit_status(code.as_str());
            let expected = match code.http_status() {
                400 | 413 | 415 | 422 => 2,
                404 if *code == ErrorCode::NotFound => 3,
                409 => 4,
                502 | 503 => 5,
                _ => 1,
            };
            assert_eq!(status, expected, "{code}");
        }
        assert_eq!(exit_status(UNREACHABLE), 5);
        assert_eq!(exit_status(FAILED), 1);
    }

    #[test]
    fn the_api_code_wins_through_context() {
        let failure = ApiFailure { code: "not_found".into(), message: "there is no job 9".into(), field: None };
        let error = anyhow::Error::new(failure).context("cancelling job 9");
        let described = describe(&error);
        assert_eq!(described.code, "not_found");
        assert_eq!(described.message, "cancelling job 9: there is no job 9");
        let plain = describe(&anyhow::anyhow!("run 3 did not complete"));
        assert_eq!((plain.code.as_str(), plain.field), (FAILED, None));
    }

    #[test]
    fn a_store_refusal_keeps_its_code_and_field() {
        let refusal = StoreError::conflict(
            steward_store::ConflictKind::IllegalTransition,
            Some("name"),
            "the user \"walker\" still owns jobs",
        );
        let described = describe(&anyhow::Error::new(refusal));
        assert_eq!((described.code.as_str(), described.field.as_deref()), ("illegal_transition", Some("name")));
        assert_eq!(exit_status(&described.code), 4);
        let missing = describe(&anyhow::Error::new(StoreError::not_found(steward_store::Entity::User, "\"nobody\"")));
        assert_eq!((missing.code.as_str(), exit_status(&missing.code)), ("not_found", 3));
        let broken = describe(&anyhow::Error::new(StoreError::Database("disk full".into())));
        assert_eq!(broken.code, FAILED);
    }
}
