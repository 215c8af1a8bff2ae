//! `/api/v1/approvals` in-process, over runs paused the way the runtime
//! pauses them (stored steps, then a request for approval): listing,
//! deciding, and refusals.

use chrono::Duration;
use serde_json::json;
use steward_domain::{Clock, NewApproval, NewRunStep, RunId, StepKind, TokenUsage};

use crate::support::{TestApp, api_tests};

api_tests!(
    approving_resumes_the_run_and_a_decision_is_final,
    a_rejection_needs_a_reason,
    approvals_are_listed_by_status_and_run,
);

/// A run of a new agent paused for approval of one `mail.send` call, as a
/// worker leaves it: begun, its instruction and a model call stored (the
/// model call's price unknown), a tool call done, and the approval
/// requested. Returns the run's id and the approval's.
pub async fn paused_run(app: &TestApp, agent_name: &str) -> (i64, i64) {
    let agent = app.agent(agent_name).await;
    let response = app.post(&format!("/api/v1/agents/{agent}/runs"), json!({"instruction": "Send the letter"})).await;
    let run = response.assert_status(201);
    let (id, job) = (RunId(run["id"].as_i64().unwrap()), steward_domain::JobId(run["job_id"].as_i64().unwrap()));
    app.store.begin_run(id, job).await.unwrap();
    let at = app.clock.now();
    let step = |sequence, kind, name: &str, content| NewRunStep {
        run_id: id,
        sequence,
        kind,
        name: name.into(),
        content,
        usage: None,
        cost_usd: None,
        time_to_first_token: None,
        stop_reason: None,
        error: None,
        started_at: at,
        finished_at: at + Duration::milliseconds(1500),
    };
    app.store
        .append_step(step(0, StepKind::Instruction, "instruction", json!({"text": "Send the letter"})))
        .await
        .unwrap();
    let model_call = NewRunStep {
        usage: Some(TokenUsage {
            input_tokens: 1200,
            output_tokens: 80,
            cache_read_tokens: 300,
            cache_write_tokens: 0,
        }),
        time_to_first_token: Some(std::time::Duration::from_millis(420)),
        stop_reason: Some("tool_use".into()),
        ..step(1, StepKind::ModelCall, "anthropic/claude-unpriced", json!({"content": [], "tool_calls": []}))
    };
    app.store.append_step(model_call).await.unwrap();
    let tool_call = NewRunStep {
        error: Some("no such file".into()),
        ..step(
            2,
            StepKind::ToolCall,
            "workspace.read",
            json!({"model_step": 1, "call_index": 0, "call_id": "call_read", "tool": "workspace.read",
                   "arguments": {"path": "list.csv"}, "result": "no such file", "is_error": true}),
        )
    };
    app.store.append_step(tool_call).await.unwrap();
    let request = NewApproval {
        step_sequence: 1,
        call_id: "call_send".into(),
        tool: "mail.send".into(),
        arguments: json!({"to": "everyone"}),
    };
    let approval = app.store.request_approvals(id, vec![request]).await.unwrap().remove(0);
    (id.get(), approval.id.get())
}

async fn approving_resumes_the_run_and_a_decision_is_final(app: TestApp) {
    let (run, approval) = paused_run(&app, "Mailer").await;
    assert_eq!(app.get(&format!("/api/v1/runs/{run}")).await.body["status"], "awaiting_approval");
    let pending = app.get(&format!("/api/v1/approvals/{approval}")).await;
    let body = pending.assert_status(200);
    assert_eq!((body["run_id"].as_i64(), body["status"].as_str()), (Some(run), Some("pending")));
    assert_eq!((body["tool"].as_str(), &body["arguments"]), (Some("mail.send"), &json!({"to": "everyone"})));
    assert_eq!((body["step_sequence"].as_u64(), body["call_id"].as_str()), (Some(1), Some("call_send")));
    let job_before = app.get(&format!("/api/v1/runs/{run}")).await.body["job_id"].clone();

    // No body at all is fine for an approval, nor is an empty one sent as JSON.
    let approve = format!("/api/v1/approvals/{approval}/approve");
    let approved = app.raw(axum::http::Method::POST, &approve, Some("application/json"), "").await;
    assert_eq!(approved.assert_status(200)["status"], "approved");
    assert_eq!(approved.body["reason"], json!(null));
    assert!(approved.body["decided_at"].is_string());
    let resumed = app.get(&format!("/api/v1/runs/{run}")).await;
    assert_eq!(resumed.body["status"], "queued", "a new job resumes the run");
    assert_ne!(resumed.body["job_id"], job_before);

    let path = format!("/api/v1/approvals/{approval}");
    let again = app.refused(app.post(&format!("{path}/approve"), json!({"reason": "sure"}))).await;
    let message = again.assert_error(409, "illegal_transition", None);
    assert!(message.contains("already approved"), "{message}");
    let reject = app.refused(app.post(&format!("{path}/reject"), json!({"reason": "changed my mind"}))).await;
    reject.assert_error(409, "illegal_transition", None);
}

async fn a_rejection_needs_a_reason(app: TestApp) {
    let (run, approval) = paused_run(&app, "Mailer").await;
    let path = format!("/api/v1/approvals/{approval}/reject");
    for (body, field) in [
        (json!({}), "reason"),
        (json!({"reason": "   "}), "reason"),
        (json!({"reason": 5}), "reason"),
        (json!({"reason": "no", "why": "x"}), "why"),
        (json!({"reason": "x".repeat(2001)}), "reason"),
    ] {
        app.refused(app.post(&path, body)).await.assert_error(422, "invalid_field", Some(field));
    }
    app.refused(app.post_empty(&path)).await.assert_error(415, "unsupported_media_type", None);
    let approve = format!("/api/v1/approvals/{approval}/approve");
    app.refused(app.post(&approve, json!({"reasons": "x"}))).await.assert_error(422, "invalid_field", Some("reasons"));

    let rejected = app.post(&path, json!({"reason": "not to the whole list"})).await;
    assert_eq!(rejected.assert_status(200)["status"], "rejected");
    assert_eq!(rejected.body["reason"], "not to the whole list");
    assert_eq!(app.get(&format!("/api/v1/runs/{run}")).await.body["status"], "queued", "the run goes on");

    for path in ["/api/v1/approvals/99/approve", "/api/v1/approvals/99/reject"] {
        app.refused(app.post(path, json!({"reason": "x"}))).await.assert_error(404, "not_found", None);
    }
    app.get("/api/v1/approvals/99").await.assert_error(404, "not_found", None);
    app.get("/api/v1/approvals/abc").await.assert_error(400, "invalid_parameter", Some("id"));
}

async fn approvals_are_listed_by_status_and_run(app: TestApp) {
    let (first_run, first) = paused_run(&app, "First").await;
    let (_, second) = paused_run(&app, "Second").await;
    app.post(&format!("/api/v1/approvals/{first}/approve"), json!({"reason": "fine"})).await.assert_status(200);
    let ids = |query: &str| {
        let app = &app;
        let query = query.to_string();
        async move {
            let response = app.get(&format!("/api/v1/approvals{query}")).await;
            let approvals = response.assert_status(200)["approvals"].as_array().unwrap().clone();
            approvals.iter().map(|approval| approval["id"].as_i64().unwrap()).collect::<Vec<_>>()
        }
    };
    assert_eq!(ids("").await, [first, second], "oldest first");
    assert_eq!(ids("?status=pending").await, [second]);
    assert_eq!(ids("?status=approved,rejected").await, [first]);
    assert_eq!(ids(&format!("?run_id={first_run}")).await, [first]);
    for (query, parameter) in [("?status=open", "status"), ("?run_id=x", "run_id"), ("?run=1", "run")] {
        app.get(&format!("/api/v1/approvals{query}")).await.assert_error(400, "invalid_parameter", Some(parameter));
    }
    // Cancelling a paused run withdraws its approval.
    let (run, third) = paused_run(&app, "Third").await;
    app.post_empty(&format!("/api/v1/runs/{run}/cancel")).await.assert_status(200);
    assert_eq!(app.get(&format!("/api/v1/approvals/{third}")).await.body["status"], "withdrawn");
    let late = app.refused(app.post(&format!("/api/v1/approvals/{third}/approve"), json!({}))).await;
    assert!(late.assert_error(409, "illegal_transition", None).contains("withdrawn"));
}
