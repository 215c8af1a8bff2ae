//! `steward bench agents` end to end at a small size: the real binary starts
//! its fake provider as a child, every run completes with its scripted
//! steps, and the JSON report counts them. No timing is checked.

use std::process::Stdio;

use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_run_completes_with_its_scripted_steps() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["bench", "agents", "--runs", "20", "--steps", "3", "--hold-ms", "0", "--workers", "8"])
        .args(["--agents", "4", "--json"])
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["runs"], 20, "{report}");
    assert_eq!(report["completed"], 20, "{report}");
    // Three model calls a run, with a tool call between each two; the
    // instruction is stored as a step too.
    assert_eq!(report["steps"], 20 * 3, "{report}");
    assert_eq!(report["tool_calls"], 20 * 2, "{report}");
    assert_eq!(report["stored_steps"], 20 * (1 + 3 + 2), "{report}");
    assert_eq!(report["agents"], 4, "{report}");
    assert_eq!(report["workers"], 8, "{report}");
    let in_flight = report["fake_peak_in_flight"].as_u64().unwrap();
    assert!((1..=8).contains(&in_flight), "{report}");
    assert!(report["peak_rss_mb"].as_f64().unwrap() > 0.0, "{report}");
}
