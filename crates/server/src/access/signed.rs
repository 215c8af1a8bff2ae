//! Endpoints authenticated by a signature over their body instead of a
//! token or session: a routine's inbound trigger and Slack's slash
//! commands. Senders are services, not browsers, so they carry no token,
//! and Slack posts a form, not JSON; the handler checks the signature (and
//! its timestamp's 5-minute window) before anything happens.

use axum::http::Method;

/// Slack's slash commands are posted here.
pub const SLACK_COMMANDS_PATH: &str = "/api/v1/slack/commands";

/// Whether the request is one of the signed endpoints.
pub fn is_signed(method: &Method, path: &str) -> bool {
    if *method != Method::POST {
        return false;
    }
    if path == SLACK_COMMANDS_PATH {
        return true;
    }
    path.strip_prefix("/api/v1/routines/")
        .and_then(|rest| rest.strip_suffix("/trigger"))
        .is_some_and(|name| !name.is_empty() && !name.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_trigger_and_slack_paths_are_signed() {
        assert!(is_signed(&Method::POST, "/api/v1/routines/morning-plan/trigger"));
        assert!(is_signed(&Method::POST, SLACK_COMMANDS_PATH));
        assert!(!is_signed(&Method::GET, "/api/v1/routines/morning-plan/trigger"));
        assert!(!is_signed(&Method::POST, "/api/v1/routines/morning-plan/run"));
        assert!(!is_signed(&Method::POST, "/api/v1/routines/a/b/trigger"));
        assert!(!is_signed(&Method::POST, "/api/v1/routines//trigger"));
    }
}
