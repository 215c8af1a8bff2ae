//! The official MCP conformance suite's server scenarios (`mcp_suite.rs`)
//! against `steward serve` with the suite's fixtures
//! (`--mcp-conformance-fixtures`): every server scenario the 2025-11-25
//! revision requires, on its stateful wire, and every one the 2026-07-28
//! revision requires, on its stateless wire. What Steward is known to fail
//! is listed, with the reason, in `baseline.yml`; the suite fails the run on
//! any other failure and on a listed one that now passes.

use crate::mcp_suite::{passed_checks, run_suite};
use crate::support::{ServerOptions, ServerProcess};

/// Runs the server scenarios `requirements` names against a fresh server;
/// returns the suite's output, having asserted that it passed.
fn run_server_scenarios(requirements: &str) -> String {
    let server = ServerProcess::start_with(ServerOptions::default().arg("--mcp-conformance-fixtures"));
    let run = run_suite("server", &["--url", &format!("{}/mcp", server.url())], requirements);
    assert!(
        run.passed,
        "the {requirements} server scenarios failed beyond the baseline:\n{}\n--- server log ---\n{}",
        run.printed,
        server.log()
    );
    run.printed
}

#[test]
fn the_server_conforms_to_2025_11_25() {
    let printed = run_server_scenarios("2025-11-25");
    assert!(printed.contains("tools-call-elicitation"), "{printed}");
    assert!(passed_checks(&printed) >= 60, "{printed}");
}

#[test]
fn the_server_conforms_to_2026_07_28() {
    let printed = run_server_scenarios("2026-07-28");
    assert!(printed.contains("input-required-result-multi-round"), "{printed}");
    assert!(passed_checks(&printed) >= 100, "{printed}");
}
