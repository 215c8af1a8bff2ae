//! `/api/v1/actions`: content, the action lifecycle, and refusals.

use serde_json::json;
use steward_domain::{JobId, RunId, RunOutcome};
use steward_store::RunFinish;

use crate::support::{TestApp, api_tests, assert_api_snapshot};

api_tests!(
    an_action_goes_from_draft_to_completed,
    illegal_transitions_explain_what_is_allowed,
    actions_are_listed_by_agent_and_state,
    updates_change_content_and_can_clear_the_schedule,
    bad_action_input_names_the_field_and_writes_nothing,
);

async fn an_action_goes_from_draft_to_completed(app: TestApp) {
    let agent = app.agent("Writer").await;
    let response = app.post("/api/v1/actions", json!({"agent_id": agent, "title": "Draft the plan"})).await;
    let created = response.assert_status(201).clone();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(response.headers["location"], format!("/api/v1/actions/{id}"));
    assert_api_snapshot!(created);

    let path = format!("/api/v1/actions/{id}/transition");
    for state in ["defined", "scheduled"] {
        let response = app.post(&path, json!({"to": state})).await;
        assert_eq!(response.assert_status(200)["state"], state);
    }
    // Scheduling started the run that works on the action; from here the
    // run moves it, as a worker executes it (played here through the store).
    let runs = app.get(&format!("/api/v1/runs?action_id={id}")).await;
    let run = &runs.assert_status(200)["runs"][0];
    let (run, job) = (RunId(run["id"].as_i64().unwrap()), JobId(run["job_id"].as_i64().unwrap()));
    app.store.begin_run(run, job).await.unwrap();
    let action = app.get(&format!("/api/v1/actions/{id}")).await;
    assert_eq!(action.assert_status(200)["state"], "in_progress");
    let done = RunFinish { outcome: RunOutcome::Completed, output: Some("The plan".into()), error: None };
    app.store.finish_run(run, done).await.unwrap();
    let action = app.get(&format!("/api/v1/actions/{id}")).await;
    assert_eq!(action.assert_status(200)["state"], "completed");

    let events = app.get(&format!("/api/v1/events?subject=action&subject_id={id}")).await;
    let kinds: Vec<&str> =
        events.body["events"].as_array().unwrap().iter().map(|event| event["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["action.created", "action.transitioned", "action.transitioned", "action.transitioned", "action.transitioned"]
    );
}

async fn illegal_transitions_explain_what_is_allowed(app: TestApp) {
    let agent = app.agent("Writer").await;
    let id = app.post("/api/v1/actions", json!({"agent_id": agent, "title": "T"})).await.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/actions/{id}/transition");

    let response = app.refused(app.post(&path, json!({"to": "completed"}))).await;
    let message = response.assert_error(409, "illegal_transition", Some("to"));
    assert_eq!(message, "cannot go from draft to completed; from draft it can become defined, dismissed");

    let dismissed = app.post(&path, json!({"to": "dismissed", "reason": "not needed"})).await;
    assert_eq!(dismissed.assert_status(200)["state_reason"], "not needed");
    let response = app.refused(app.post(&path, json!({"to": "draft"}))).await;
    let message = response.assert_error(409, "illegal_transition", Some("to"));
    assert!(message.contains("final"), "{message}");
    let response = app.refused(app.patch(&format!("/api/v1/actions/{id}"), json!({"title": "late"}))).await;
    response.assert_error(409, "illegal_transition", None);

    let response = app.refused(app.post(&path, json!({"to": "finished"}))).await;
    let message = response.assert_error(422, "invalid_field", Some("to"));
    assert!(message.contains("in_progress"), "the accepted values are listed: {message}");
    app.refused(app.post(&path, json!({}))).await.assert_error(422, "invalid_field", Some("to"));
    app.refused(app.post("/api/v1/actions/77/transition", json!({"to": "defined"}))).await.assert_error(
        404,
        "not_found",
        None,
    );
}

async fn actions_are_listed_by_agent_and_state(app: TestApp) {
    let first = app.agent("First").await;
    let second = app.agent("Second").await;
    for (agent, title) in [(first, "a"), (first, "b"), (second, "c")] {
        app.post("/api/v1/actions", json!({"agent_id": agent, "title": title})).await.assert_status(201);
    }
    let b = app.get(&format!("/api/v1/actions?agent_id={first}")).await.body["actions"][1]["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/actions/{b}/transition"), json!({"to": "defined"})).await.assert_status(200);

    let titles = |response: &crate::support::TestResponse| -> Vec<String> {
        response.body["actions"].as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(titles(&app.get("/api/v1/actions").await), ["a", "b", "c"]);
    assert_eq!(titles(&app.get(&format!("/api/v1/actions?agent_id={second}")).await), ["c"]);
    assert_eq!(titles(&app.get("/api/v1/actions?state=defined").await), ["b"]);
    assert_eq!(titles(&app.get("/api/v1/actions?state=draft,defined").await), ["a", "b", "c"]);
    assert_eq!(titles(&app.get("/api/v1/actions?state=draft&state=defined").await), ["a", "b", "c"]);

    app.get("/api/v1/actions?state=done").await.assert_error(400, "invalid_parameter", Some("state"));
    app.get("/api/v1/actions?agent_id=x").await.assert_error(400, "invalid_parameter", Some("agent_id"));
    app.get("/api/v1/actions?agent=1").await.assert_error(400, "invalid_parameter", Some("agent"));
}

async fn updates_change_content_and_can_clear_the_schedule(app: TestApp) {
    let agent = app.agent("Planner").await;
    let body = json!({
        "agent_id": agent, "title": "Weekly review", "priority": "high", "mode": "scheduled",
        "scheduled_for": "2030-01-06T09:00:00+01:00",
    });
    let created = app.post("/api/v1/actions", body).await;
    assert_eq!(created.assert_status(201)["scheduled_for"], "2030-01-06T08:00:00Z", "stored in UTC");
    let id = created.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/actions/{id}");

    let updated = app.patch(&path, json!({"priority": "urgent", "description": "Look back"})).await;
    assert_eq!(updated.assert_status(200)["priority"], "urgent");
    assert_eq!(updated.body["title"], "Weekly review");
    let cleared = app.patch(&path, json!({"scheduled_for": null})).await;
    assert_eq!(cleared.assert_status(200)["scheduled_for"], json!(null));
    app.refused(app.patch(&path, json!({}))).await.assert_error(422, "invalid_field", None);
    app.refused(app.patch(&path, json!({"state": "defined"}))).await.assert_error(422, "invalid_field", Some("state"));
}

async fn bad_action_input_names_the_field_and_writes_nothing(app: TestApp) {
    let agent = app.agent("Writer").await;
    let cases = [
        (json!({"title": "T"}), "agent_id", "is required"),
        (json!({"agent_id": agent, "title": ""}), "title", "must not be empty"),
        (json!({"agent_id": agent, "title": "T", "priority": "asap"}), "priority", "unknown value asap"),
        (json!({"agent_id": agent, "title": "T", "mode": 1}), "mode", "invalid type: expected a string"),
        (json!({"agent_id": agent, "title": "T", "scheduled_for": "tomorrow"}), "scheduled_for", "RFC 3339"),
        (json!({"agent_id": "one", "title": "T"}), "agent_id", "invalid type"),
        (json!({"agent_id": 999, "title": "T"}), "agent_id", "no agent 999"),
        (json!({"agent_id": 0, "title": "T"}), "agent_id", "positive"),
    ];
    for (body, field, fragment) in cases {
        let response = app.refused(app.post("/api/v1/actions", body.clone())).await;
        let message = response.assert_error(422, "invalid_field", Some(field));
        assert!(message.contains(fragment), "{body}: {message}");
    }
    app.post_empty(&format!("/api/v1/agents/{agent}/archive")).await.assert_status(200);
    let response = app.refused(app.post("/api/v1/actions", json!({"agent_id": agent, "title": "T"}))).await;
    response.assert_error(409, "archived", Some("agent_id"));
    assert_eq!(app.get("/api/v1/actions").await.body["actions"], json!([]));
}
