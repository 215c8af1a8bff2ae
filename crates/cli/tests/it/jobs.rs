//! `steward job …`: enqueue with every option, list with counts, get with
//! attempts, cancel (with confirmation, after checking the job exists) and
//! retry.

use crate::support::{ServerProcess, eventually, steward};

#[test]
fn jobs_are_enqueued_run_and_shown() {
    let server = ServerProcess::start();
    let url = server.url();
    let enqueued = steward(
        url,
        &[
            "job",
            "enqueue",
            "--kind",
            "sleep",
            "--payload",
            r#"{"ms": 10}"#,
            "--queue",
            "naps",
            "--priority",
            "-5",
            "--max-attempts",
            "2",
            "--timeout",
            "30s",
            "--key",
            "nap-1",
            "--json",
        ],
    )
    .json();
    assert_eq!(enqueued["created"], true);
    let job = &enqueued["job"];
    assert_eq!((job["queue"].as_str(), job["priority"].as_i64()), (Some("naps"), Some(-5)));
    assert_eq!((job["max_attempts"].as_u64(), job["timeout_ms"].as_u64()), (Some(2), Some(30_000)));

    let again = steward(url, &["job", "enqueue", "--kind", "sleep", "--key", "nap-1"]);
    assert!(again.ok().contains("already exists"), "{}", again.stdout);

    let child =
        steward(url, &["job", "enqueue", "--kind", "noop", "--depends-on", "nap-1", "--delay", "100ms", "--json"])
            .json();
    assert_eq!(child["job"]["depends_on"][0], job["id"]);
    let failing =
        steward(url, &["job", "enqueue", "--kind", "fail", "--payload", r#"{"retryable": false}"#, "--json"]).json();
    let failing_id = failing["job"]["id"].to_string();

    eventually("every job finished", || {
        let list = steward(url, &["job", "list", "--json"]).json();
        list["counts"]["completed"] == 2 && list["counts"]["dead"] == 1
    });
    let list = steward(url, &["job", "list"]);
    assert!(list.ok().starts_with("completed 2 · dead 1 · total 3"), "{}", list.stdout);
    assert!(list.stdout.contains("failed on purpose"), "{}", list.stdout);
    let dead = steward(url, &["job", "list", "--state", "dead", "--json"]).json();
    assert_eq!(dead["jobs"].as_array().unwrap().len(), 1);

    let detail = steward(url, &["job", "get", &failing_id]);
    let text = detail.ok();
    assert!(text.contains("dead (permanent_error)") && text.contains("died") && text.contains("ATTEMPT"), "{text}");
    let retried = steward(url, &["job", "retry", &failing_id]);
    assert!(retried.ok().contains("again"), "{}", retried.stdout);
}

#[test]
fn cancelling_needs_confirmation_and_bad_input_is_explained() {
    let server = ServerProcess::start();
    let url = server.url();
    let job = steward(url, &["job", "enqueue", "--kind", "noop", "--delay", "1h", "--json"]).json();
    let id = job["job"]["id"].to_string();
    let stderr = steward(url, &["job", "cancel", &id]).failed().to_string();
    assert!(stderr.contains(&format!("refusing to cancel job {id} without confirmation")), "{stderr}");
    assert_eq!(steward(url, &["job", "get", &id, "--json"]).json()["state"], "queued");
    let cancelled = steward(url, &["job", "cancel", &id, "--yes", "--json"]).json();
    assert_eq!(cancelled["state"], "cancelled");
    let again = steward(url, &["job", "cancel", &id, "--yes"]);
    assert!(again.failed().contains("only blocked, queued or running jobs can be cancelled"), "{}", again.stderr);

    let cases: [(&[&str], &str); 5] = [
        (
            &["job", "enqueue", "--kind", "teleport"],
            "error: kind: unknown job kind \"teleport\"; this server runs: agent.run, delivery.send, fail, living_docs.commit, living_docs.fold, living_docs.sync, memory.consolidate, memory.ingest, noop, project.document, project.task, routine.run, sleep",
        ),
        (&["job", "enqueue", "--kind", "noop", "--depends-on", "999"], "error: depends_on[0]: there is no job 999"),
        (
            &["job", "enqueue", "--kind", "noop", "--priority", "5000"],
            "error: priority: must be between -1000 and 1000",
        ),
        (&["job", "enqueue", "--kind", "noop", "--payload", "{"], "the payload is not valid JSON"),
        (&["job", "enqueue", "--kind", "noop", "--delay", "soon"], "is not a duration"),
    ];
    for (args, expected) in cases {
        let output = steward(url, args);
        assert!(output.failed().contains(expected), "{args:?}: {}", output.stderr);
    }
    let list = steward(url, &["job", "list", "--json"]).json();
    assert_eq!(list["counts"]["total"], 1, "refused commands enqueued nothing");

    // A wrong id is told as such, with or without --yes, before any question.
    for args in [&["job", "cancel", "99999999"][..], &["job", "cancel", "99999999", "--yes"]] {
        let output = steward(url, args);
        let stderr = output.failed();
        assert!(stderr.contains("there is no job 99999999") && !stderr.contains("confirm"), "{args:?}: {stderr}");
    }
    // A negative priority is a value, not a flag.
    let low = steward(url, &["job", "enqueue", "--kind", "noop", "--priority", "-1", "--delay", "1h", "--json"]).json();
    assert_eq!(low["job"]["priority"], -1);
}
