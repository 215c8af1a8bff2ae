//! Scheduling actions: `POST /actions/{id}/schedule` and the transition to
//! `scheduled` both start the run that works on the action, so a scheduled
//! action always has one; dismissing it cancels that run, moving it on by
//! hand is refused while the run works; and what a server without a
//! runtime refuses.

use axum::http::Method;
use serde_json::json;

use crate::support::{TestApp, api_tests};

api_tests!(
    scheduling_an_action_starts_its_run,
    the_transition_to_scheduled_starts_a_run_too,
    a_failed_action_can_be_scheduled_again,
    dismissing_a_scheduled_action_cancels_its_run,
    moving_an_action_on_by_hand_while_its_run_works_is_refused,
    bad_schedules_name_the_field_and_write_nothing,
);

async fn scheduling_an_action_starts_its_run(app: TestApp) {
    let agent = app.agent("Writer").await;
    let id = app.defined_action(agent, "Outline issue #1").await;
    // No body at all: every field has a default.
    let response = app.post_empty(&format!("/api/v1/actions/{id}/schedule")).await;
    let (action, run) = (&response.assert_status(200)["action"], &response.body["run"]);
    assert_eq!(action["state"], "scheduled");
    assert_eq!(action["job_id"], run["job_id"], "the action records its run's job");
    assert_eq!((run["action_id"].as_i64(), run["agent_id"].as_i64()), (Some(id), Some(agent)));
    assert_eq!(run["status"], "queued");
    let instruction = run["instruction"].as_str().unwrap();
    assert!(instruction.contains("Outline issue #1") && instruction.contains("Three sections."), "{instruction}");
    let job = app.get(&format!("/api/v1/jobs/{}", run["job_id"])).await;
    assert_eq!(job.body["run_at"], "2030-01-01T00:00:00Z", "now by default");

    let other = app.defined_action(agent, "Write issue #1").await;
    let body = json!({"instruction": "Write it in French", "limits": {"max_steps": 8}, "delay_ms": 60_000});
    let response = app.post(&format!("/api/v1/actions/{other}/schedule"), body).await;
    let run = &response.assert_status(200)["run"];
    assert_eq!(
        (run["instruction"].as_str(), run["limits"]["max_steps"].as_u64()),
        (Some("Write it in French"), Some(8))
    );
    let job = app.get(&format!("/api/v1/jobs/{}", run["job_id"])).await;
    assert_eq!(job.body["run_at"], "2030-01-01T00:01:00Z");
}

async fn the_transition_to_scheduled_starts_a_run_too(app: TestApp) {
    let agent = app.agent("Writer").await;
    let body = json!({"agent_id": agent, "title": "Weekly review", "scheduled_for": "2030-01-06T09:00:00Z"});
    let id = app.post("/api/v1/actions", body).await.body["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/actions/{id}/transition"), json!({"to": "defined"})).await.assert_status(200);
    let response = app.post(&format!("/api/v1/actions/{id}/transition"), json!({"to": "scheduled"})).await;
    let action = response.assert_status(200);
    assert_eq!(action["state"], "scheduled");
    let runs = app.get(&format!("/api/v1/runs?action_id={id}")).await;
    let run = &runs.body["runs"][0];
    assert_eq!(run["job_id"], action["job_id"]);
    let job = app.get(&format!("/api/v1/jobs/{}", run["job_id"])).await;
    assert_eq!(job.body["run_at"], "2030-01-06T09:00:00Z", "the action's own time");
    assert_eq!(runs.body["runs"].as_array().unwrap().len(), 1);
}

async fn a_failed_action_can_be_scheduled_again(app: TestApp) {
    let agent = app.agent("Writer").await;
    let id = app.defined_action(agent, "Outline").await;
    let first = app.post(&format!("/api/v1/actions/{id}/schedule"), json!({})).await;
    let run = first.assert_status(200)["run"]["id"].as_i64().unwrap();
    app.post_empty(&format!("/api/v1/runs/{run}/cancel")).await.assert_status(200);
    let action = app.get(&format!("/api/v1/actions/{id}")).await;
    assert_eq!(action.body["state"], "failed", "its run ended before it began");
    assert_eq!(action.body["state_reason"], "cancelled by request");
    let again = app.post(&format!("/api/v1/actions/{id}/schedule"), json!({})).await;
    assert_ne!(again.assert_status(200)["run"]["id"], run, "a new run");
    assert_eq!(again.body["action"]["state"], "scheduled");
}

async fn dismissing_a_scheduled_action_cancels_its_run(app: TestApp) {
    let agent = app.agent("Writer").await;
    let id = app.defined_action(agent, "Outline").await;
    let scheduled = app.post(&format!("/api/v1/actions/{id}/schedule"), json!({})).await;
    let run = scheduled.assert_status(200)["run"]["id"].as_i64().unwrap();
    let job = scheduled.body["run"]["job_id"].as_i64().unwrap();

    let body = json!({"to": "dismissed", "reason": "the launch moved"});
    let dismissed = app.post(&format!("/api/v1/actions/{id}/transition"), body).await;
    let action = dismissed.assert_status(200);
    assert_eq!(
        (action["state"].as_str(), action["state_reason"].as_str()),
        (Some("dismissed"), Some("the launch moved"))
    );
    let run = app.get(&format!("/api/v1/runs/{run}")).await;
    let run = run.assert_status(200);
    assert_eq!((run["status"].as_str(), run["outcome"].as_str()), (Some("finished"), Some("cancelled")));
    assert_eq!(run["error"], format!("cancelled: action {id} was dismissed"));
    assert_eq!(app.get(&format!("/api/v1/jobs/{job}")).await.body["state"], "cancelled");
}

async fn moving_an_action_on_by_hand_while_its_run_works_is_refused(app: TestApp) {
    let agent = app.agent("Writer").await;
    let id = app.defined_action(agent, "Outline").await;
    let scheduled = app.post(&format!("/api/v1/actions/{id}/schedule"), json!({})).await;
    let run = scheduled.assert_status(200)["run"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/actions/{id}/transition");
    let response = app.refused(app.post(&path, json!({"to": "in_progress"}))).await;
    let message = response.assert_error(409, "illegal_transition", Some("to"));
    assert_eq!(message, format!("run {run} is working on this action; cancel it first (steward runs cancel {run})"));
    assert_eq!(app.get(&format!("/api/v1/actions/{id}")).await.body["state"], "scheduled");
    assert_eq!(app.get(&format!("/api/v1/runs/{run}")).await.body["status"], "queued");
}

async fn bad_schedules_name_the_field_and_write_nothing(app: TestApp) {
    let agent = app.agent("Writer").await;
    let draft = app.action(agent, "Draft").await;
    let response = app.refused(app.post(&format!("/api/v1/actions/{draft}/schedule"), json!({}))).await;
    let message = response.assert_error(409, "illegal_transition", None);
    assert!(message.contains("from draft it can become defined"), "{message}");
    let response =
        app.refused(app.post(&format!("/api/v1/actions/{draft}/transition"), json!({"to": "scheduled"}))).await;
    response.assert_error(409, "illegal_transition", Some("to"));

    let id = app.defined_action(agent, "Defined").await;
    let path = format!("/api/v1/actions/{id}/schedule");
    let cases = [
        (json!({"at": "2030-01-01T00:00:00Z", "delay_ms": 1}), "delay_ms", "not both"),
        (json!({"at": "tomorrow"}), "at", "RFC 3339"),
        (json!({"instruction": ""}), "instruction", "must not be empty"),
        (json!({"limits": {"max_tokens": 0}}), "limits.max_tokens", "at least 1"),
        (json!({"when": "now"}), "when", "unknown field"),
        (json!({"delay_ms": -5}), "delay_ms", "invalid value"),
    ];
    for (body, field, fragment) in cases {
        let response = app.refused(app.post(&path, body.clone())).await;
        let message = response.assert_error(422, "invalid_field", Some(field));
        assert!(message.contains(fragment), "{body}: {message}");
    }
    let response = app.refused(app.raw(Method::POST, &path, Some("text/plain"), "at=now")).await;
    response.assert_error(415, "unsupported_media_type", None);
    let response = app.refused(app.raw(Method::POST, &path, None, "{\"at\": 1}")).await;
    response.assert_error(415, "unsupported_media_type", None);
    app.refused(app.post("/api/v1/actions/999/schedule", json!({}))).await.assert_error(404, "not_found", None);
    app.refused(app.post("/api/v1/actions/x/schedule", json!({}))).await.assert_error(
        400,
        "invalid_parameter",
        Some("id"),
    );
    app.post_empty(&format!("/api/v1/agents/{agent}/archive")).await.assert_status(200);
    app.refused(app.post(&path, json!({}))).await.assert_error(409, "archived", Some("agent_id"));
    assert_eq!(app.get("/api/v1/runs").await.body["runs"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_runtime_nothing_starts_and_reads_still_work() {
    let app = TestApp::without_runtime(steward_test_support::TestDatabase::sqlite()).await;
    let agent = app.agent("Writer").await;
    let action = app.defined_action(agent, "Outline").await;
    let refusals = [
        (format!("/api/v1/agents/{agent}/runs"), json!({"instruction": "x"})),
        (format!("/api/v1/actions/{action}/schedule"), json!({})),
        (format!("/api/v1/actions/{action}/transition"), json!({"to": "scheduled"})),
        ("/api/v1/agents/setup-chat".to_string(), json!({"message": "hi"})),
        ("/api/v1/agents/setup-chat/1/confirm".to_string(), json!({})),
        (format!("/api/v1/agents/{agent}/chat"), json!({"message": "hi"})),
        (format!("/api/v1/actions/{action}/chat"), json!({"message": "hi"})),
    ];
    for (path, body) in refusals {
        let response = app.refused(app.post(&path, body)).await;
        let message = response.assert_error(503, "no_agent_runtime", None);
        assert!(message.contains("without an agent runtime"), "{path}: {message}");
    }
    app.get("/api/v1/artifacts/1/content").await.assert_error(503, "no_agent_runtime", None);
    assert_eq!(app.get("/api/v1/runs").await.assert_status(200)["runs"], json!([]));
    assert_eq!(app.get("/api/v1/approvals").await.assert_status(200)["approvals"], json!([]));
    assert_eq!(app.get(&format!("/api/v1/agents/{agent}/chat")).await.assert_status(200)["messages"], json!([]));
    app.get(&format!("/api/v1/agents/{agent}/metrics")).await.assert_status(200);
    // Other transitions do not need the runtime.
    let response = app.post(&format!("/api/v1/actions/{action}/transition"), json!({"to": "dismissed"})).await;
    assert_eq!(response.assert_status(200)["state"], "dismissed");
}
