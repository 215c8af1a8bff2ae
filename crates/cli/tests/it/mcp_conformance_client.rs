//! The official MCP conformance suite's client scenarios (`mcp_suite.rs`)
//! against Steward's MCP client, through `steward dev
//! mcp-conformance-client` (the connection agents use): every client
//! scenario the 2025-11-25 revision requires, on its stateful wire, and
//! every one the 2026-07-28 revision requires, on its stateless wire,
//! including the OAuth scenarios (`auth/*`, through `auth = "oauth"`). The
//! baseline (`baseline.yml`) lists none of them: the suite fails the run on
//! any failure it does not list.

use crate::mcp_suite::{SuiteRun, passed_checks, run_suite};
use crate::support::STEWARD;

/// Runs the client scenarios `requirements` names; returns the suite's
/// output, having asserted that it passed.
fn run_client_scenarios(requirements: &str) -> String {
    // The suite splits the command at spaces and appends the server's URL.
    let command = format!("{STEWARD} dev mcp-conformance-client");
    assert!(!STEWARD.contains(' '), "the suite cannot run a binary whose path has a space: {STEWARD}");
    let SuiteRun { passed, printed } = run_suite("client", &["--command", &command], requirements);
    assert!(passed, "the {requirements} client scenarios failed beyond the baseline:\n{printed}");
    printed
}

/// Whether the suite's summary marks `scenario` as passed.
fn passes(printed: &str, scenario: &str) -> bool {
    printed.lines().any(|line| line.starts_with(&format!("✓ {scenario}: ")))
}

/// Runs the client scenarios of `set`: each of `scenarios` passes, and at
/// least `floor` checks in all (a client that does nothing still shows
/// "✓ initialize: 0 passed").
fn assert_client_conforms(set: &str, scenarios: &[&str], floor: usize) {
    let printed = run_client_scenarios(set);
    for scenario in scenarios {
        assert!(passes(&printed, scenario), "{scenario} did not pass:\n{printed}");
    }
    assert!(passed_checks(&printed) >= floor, "{printed}");
}

#[test]
fn the_client_conforms_to_2025_11_25() {
    let scenarios = [
        "initialize",
        "tools_call",
        "elicitation-sep1034-client-defaults",
        "sse-retry",
        "json-schema-2020-12-preservation",
        "auth/metadata-default",
        "auth/basic-cimd",
        "auth/pre-registration",
        "auth/scope-step-up",
        "auth/scope-retry-limit",
        "auth/token-endpoint-auth-basic",
    ];
    assert_client_conforms("2025-11-25", &scenarios, 300);
}

#[test]
fn the_client_conforms_to_2026_07_28() {
    let scenarios = [
        "tools_call",
        "request-metadata",
        "sep-2322-client-request-state",
        "http-standard-headers",
        "http-custom-headers",
        "http-invalid-tool-headers",
        "json-schema-ref-no-deref",
        "json-schema-2020-12-preservation",
        "auth/metadata-var3",
        "auth/scope-step-up",
        "auth/offline-access-scope",
        "auth/authorization-server-migration",
        "auth/iss-wrong-issuer",
        "auth/resource-mismatch",
    ];
    assert_client_conforms("2026-07-28", &scenarios, 460);
}
