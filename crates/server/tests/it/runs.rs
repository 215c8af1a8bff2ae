//! `/api/v1/runs` and `/api/v1/agents/{id}/runs` in-process: starting,
//! listing, cancelling and tracing runs, refusals, and what a server
//! without an agent runtime refuses.

use serde_json::json;

use crate::support::{TestApp, api_tests};

api_tests!(
    a_run_is_started_listed_and_cancelled,
    a_delayed_run_waits_for_its_time,
    bad_run_input_names_the_field_and_writes_nothing,
    runs_are_paged_and_filtered,
    a_trace_has_a_span_per_step,
    metrics_count_an_agents_runs_and_actions,
);

async fn a_run_is_started_listed_and_cancelled(app: TestApp) {
    let agent = app.agent("Scribe").await;
    let body = json!({"instruction": "Summarise the week", "limits": {"max_steps": 5, "max_cost_usd": 0.5}});
    let response = app.post(&format!("/api/v1/agents/{agent}/runs"), body).await;
    let run = response.assert_status(201).clone();
    let id = run["id"].as_i64().unwrap();
    assert_eq!(response.headers["location"], format!("/api/v1/runs/{id}"));
    assert_eq!((run["agent_id"].as_i64(), run["action_id"].as_i64()), (Some(agent), None));
    assert_eq!((run["status"].as_str(), run["outcome"].as_str()), (Some("queued"), None));
    assert_eq!(run["instruction"], "Summarise the week");
    assert_eq!(run["limits"], json!({"max_steps": 5, "max_tokens": null, "max_cost_usd": 0.5, "max_wall_secs": null}));
    assert_eq!(
        run["usage"],
        json!({"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0, "cache_write_tokens": 0,
               "cost_usd": 0.0, "cost_known": true, "unknown_cost_calls": 0, "model_calls": 0, "tool_calls": 0,
               "estimated_calls": 0})
    );
    assert_eq!((run["steps"].as_u64(), run["cancel_requested"].as_bool()), (Some(0), Some(false)));
    let job = app.get(&format!("/api/v1/jobs/{}", run["job_id"])).await;
    assert_eq!(job.assert_status(200)["kind"], "agent.run", "a job executes the run");
    assert_eq!(app.get(&format!("/api/v1/runs/{id}")).await.assert_status(200), &run);

    let listed = app.get(&format!("/api/v1/runs?agent_id={agent}&status=queued")).await;
    assert_eq!(listed.assert_status(200)["runs"][0]["id"], id);
    assert_eq!(app.get("/api/v1/runs?status=finished").await.body["runs"], json!([]));

    let trace = app.get(&format!("/api/v1/runs/{id}/trace")).await;
    assert_eq!(trace.assert_status(200)["run"]["id"], id);
    assert_eq!(trace.body["spans"], json!([]), "nothing ran yet");
    assert_eq!(app.get(&format!("/api/v1/runs/{id}/artifacts")).await.assert_status(200)["artifacts"], json!([]));

    let cancelled = app.post_empty(&format!("/api/v1/runs/{id}/cancel")).await;
    assert_eq!(cancelled.assert_status(200)["status"], "finished");
    assert_eq!(
        (cancelled.body["outcome"].as_str(), cancelled.body["error"].as_str()),
        (Some("cancelled"), Some("cancelled by request"))
    );
    let job = app.get(&format!("/api/v1/jobs/{}", run["job_id"])).await;
    assert_eq!(job.body["state"], "cancelled", "its queued job is cancelled with it");
    assert!(app.fake().requests().is_empty(), "requests only queue runs; workers call the model");
    let again = app.refused(app.post_empty(&format!("/api/v1/runs/{id}/cancel"))).await;
    let message = again.assert_error(409, "illegal_transition", None);
    assert!(message.contains("finished"), "{message}");
}

async fn a_delayed_run_waits_for_its_time(app: TestApp) {
    let agent = app.agent("Scribe").await;
    let path = format!("/api/v1/agents/{agent}/runs");
    let run = app.post(&path, json!({"instruction": "Later", "delay_ms": 90_000})).await;
    let job = app.get(&format!("/api/v1/jobs/{}", run.assert_status(201)["job_id"])).await;
    assert_eq!(job.body["run_at"], "2030-01-01T00:01:30Z", "90 s after the clock's now");
    let run = app.post(&path, json!({"instruction": "At nine", "at": "2030-01-02T10:00:00+01:00"})).await;
    let job = app.get(&format!("/api/v1/jobs/{}", run.assert_status(201)["job_id"])).await;
    assert_eq!(job.body["run_at"], "2030-01-02T09:00:00Z");
}

async fn bad_run_input_names_the_field_and_writes_nothing(app: TestApp) {
    let agent = app.agent("Scribe").await;
    let path = format!("/api/v1/agents/{agent}/runs");
    let cases = [
        (json!({}), "instruction", "is required"),
        (json!({"instruction": "  "}), "instruction", "must not be empty"),
        (json!({"instruction": "x", "model": "gpt"}), "model", "unknown field"),
        (json!({"instruction": "x", "limits": {"max_steps": 0}}), "limits.max_steps", "at least 1"),
        (json!({"instruction": "x", "limits": {"max_steps": -1}}), "limits.max_steps", "invalid value"),
        (json!({"instruction": "x", "limits": {"max_cost_usd": -2}}), "limits.max_cost_usd", "positive"),
        (json!({"instruction": "x", "limits": {"max_wall_time_ms": 5}}), "limits.max_wall_time_ms", "max_wall_secs"),
        (json!({"instruction": "x", "at": "2030-01-01T00:00:00Z", "delay_ms": 5}), "delay_ms", "not both"),
        (json!({"instruction": "x", "at": "soon"}), "at", "RFC 3339"),
        (json!({"instruction": "x", "delay_ms": "5"}), "delay_ms", "invalid type"),
    ];
    for (body, field, fragment) in cases {
        let response = app.refused(app.post(&path, body.clone())).await;
        let message = response.assert_error(422, "invalid_field", Some(field));
        assert!(message.contains(fragment), "{body}: {message}");
    }
    let body = json!({"instruction": "x"});
    app.refused(app.post("/api/v1/agents/abc/runs", body.clone())).await.assert_error(
        400,
        "invalid_parameter",
        Some("id"),
    );
    app.refused(app.post("/api/v1/agents/999/runs", body.clone())).await.assert_error(404, "not_found", None);
    app.post_empty(&format!("/api/v1/agents/{agent}/archive")).await.assert_status(200);
    let archived = app.refused(app.post(&path, body)).await;
    archived.assert_error(409, "archived", Some("agent_id"));

    for (query, parameter) in [
        ("status=done", "status"),
        ("limit=0", "limit"),
        ("agent=1", "agent"),
        ("before=x", "before"),
        ("action_id=-1", "action_id"),
    ] {
        app.get(&format!("/api/v1/runs?{query}")).await.assert_error(400, "invalid_parameter", Some(parameter));
    }
    app.get("/api/v1/runs/0").await.assert_error(400, "invalid_parameter", Some("id"));
    for path in ["/api/v1/runs/99", "/api/v1/runs/99/trace", "/api/v1/runs/99/artifacts"] {
        app.get(path).await.assert_error(404, "not_found", None);
    }
    app.refused(app.post_empty("/api/v1/runs/99/cancel")).await.assert_error(404, "not_found", None);
}

async fn runs_are_paged_and_filtered(app: TestApp) {
    let first = app.agent("First").await;
    let second = app.agent("Second").await;
    let mut ids = Vec::new();
    for (agent, instruction) in [(first, "a"), (second, "b"), (first, "c")] {
        let run = app.post(&format!("/api/v1/agents/{agent}/runs"), json!({"instruction": instruction})).await;
        ids.push(run.assert_status(201)["id"].as_i64().unwrap());
    }
    let ids_of = |response: &crate::support::TestResponse| -> Vec<i64> {
        response.body["runs"].as_array().unwrap().iter().map(|run| run["id"].as_i64().unwrap()).collect()
    };
    let page = app.get("/api/v1/runs?limit=2").await;
    assert_eq!(ids_of(&page), [ids[2], ids[1]], "newest first");
    assert_eq!(page.body["next_before"], ids[1]);
    let rest = app.get(&format!("/api/v1/runs?limit=2&before={}", ids[1])).await;
    assert_eq!((ids_of(&rest), &rest.body["next_before"]), (vec![ids[0]], &json!(null)));
    assert_eq!(ids_of(&app.get(&format!("/api/v1/runs?agent_id={first}")).await), [ids[2], ids[0]]);
    assert_eq!(ids_of(&app.get("/api/v1/runs?status=queued,finished").await).len(), 3);
}

async fn metrics_count_an_agents_runs_and_actions(app: TestApp) {
    let agent = app.agent("Scribe").await;
    let metrics = app.get(&format!("/api/v1/agents/{agent}/metrics")).await;
    assert_eq!(
        metrics.assert_status(200),
        &json!({"cost_usd_total": 0.0, "cost_usd_today": 0.0, "unknown_cost_calls": 0, "unknown_cost_calls_today": 0,
                "runs": 0, "actions_total": 0, "actions_completed": 0})
    );
    let action = app.defined_action(agent, "Outline").await;
    app.action(agent, "Another").await;
    app.post(&format!("/api/v1/actions/{action}/schedule"), json!({})).await.assert_status(200);
    app.post(&format!("/api/v1/agents/{agent}/runs"), json!({"instruction": "x"})).await.assert_status(201);
    let metrics = app.get(&format!("/api/v1/agents/{agent}/metrics")).await;
    assert_eq!((metrics.body["runs"].as_u64(), metrics.body["actions_total"].as_u64()), (Some(2), Some(2)));
    assert_eq!(metrics.body["actions_completed"], 0);
    app.get("/api/v1/agents/999/metrics").await.assert_error(404, "not_found", None);
    app.get("/api/v1/agents/x/metrics").await.assert_error(400, "invalid_parameter", Some("id"));
}

async fn a_trace_has_a_span_per_step(app: TestApp) {
    let (run, _) = crate::approvals::paused_run(&app, "Mailer").await;
    let trace = app.get(&format!("/api/v1/runs/{run}/trace")).await;
    let spans = trace.assert_status(200)["spans"].as_array().unwrap().clone();
    let kinds: Vec<&str> = spans.iter().map(|span| span["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["instruction", "model_call", "tool_call"]);
    assert_eq!((spans[0]["sequence"].as_u64(), &spans[0]["content"]), (Some(0), &json!({"text": "Send the letter"})));
    assert_eq!((&spans[0]["model_call"], &spans[0]["tool_call"]), (&json!(null), &json!(null)));
    assert_eq!(spans[1]["duration_ms"], 1500);
    assert_eq!(
        spans[1]["model_call"],
        json!({"provider": "anthropic", "model": "claude-unpriced", "input_tokens": 1200, "output_tokens": 80,
               "cache_read_tokens": 300, "cache_write_tokens": 0, "cost_usd": null, "cost_known": false,
               "time_to_first_token_ms": 420, "stop_reason": "tool_use"}),
        "an unknown price is null and flagged, never $0"
    );
    assert_eq!(
        spans[2]["tool_call"],
        json!({"tool": "workspace.read", "call_id": "call_read", "arguments": {"path": "list.csv"},
               "result_bytes": 12, "is_error": true})
    );
    assert_eq!(spans[2]["error"], "no such file");
    let usage = &trace.body["run"]["usage"];
    assert_eq!((usage["cost_known"].as_bool(), usage["unknown_cost_calls"].as_u64()), (Some(false), Some(1)));
    assert_eq!((usage["model_calls"].as_u64(), usage["tool_calls"].as_u64()), (Some(1), Some(1)));
}
