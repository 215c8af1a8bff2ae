//! `runs.start` after the run is queued: follows the run until it finishes
//! or waits for a person, sending a progress notification for each step
//! stored (when the client asked for progress), and answers with the final
//! answer. It wakes on the store's "events appended" signal, as the event
//! stream does, with the keep-alive interval as a safety net. A client that
//! cancels the call stops the following, not the run.

use rmcp::RoleServer;
use rmcp::model::{CallToolResult, ContentBlock, ProgressNotificationParam};
use rmcp::service::RequestContext;
use serde_json::json;
use steward_domain::{ApprovalStatus, Run, RunOutcome, RunStatus, RunStep, StepKind, UserId};
use steward_store::ApprovalFilter;

use crate::AppState;
use crate::api::{ApprovalResponse, RunResponse};
use crate::error::ApiError;

/// Follows `run` to its end (or a pause for approval) and answers.
pub(super) async fn follow(
    state: &AppState,
    user: UserId,
    run: Run,
    context: &RequestContext<RoleServer>,
) -> Result<CallToolResult, ApiError> {
    let progress_token = context.meta.get_progress_token();
    let mut wake = state.store.wakeups().subscribe_events();
    let mut reported = 0_u32;
    let mut run = run;
    loop {
        wake.borrow_and_update();
        run = state.store.get_run(user, run.id).await?;
        if let Some(token) = &progress_token
            && run.steps > reported
        {
            let steps = state.store.list_steps(user, run.id).await?;
            for step in steps.iter().filter(|step| step.sequence >= reported) {
                let note = ProgressNotificationParam::new(token.clone(), f64::from(step.sequence + 1))
                    .with_message(describe(step));
                // A client gone away stops hearing progress; the run goes on.
                let _ = context.peer.notify_progress(note).await;
            }
            reported = run.steps;
        }
        match run.status {
            RunStatus::Finished => return Ok(finished(run)),
            RunStatus::AwaitingApproval => return waiting(state, user, run).await,
            RunStatus::Queued | RunStatus::Running => {}
        }
        tokio::select! {
            _ = wake.changed() => {}
            () = tokio::time::sleep(state.keep_alive) => {}
            () = context.ct.cancelled() => {
                return Err(ApiError::internal(format!("the call was cancelled; run {} goes on", run.id)));
            }
            () = state.shutdown.cancelled() => {
                return Err(ApiError::internal(format!("the server is shutting down; run {} goes on", run.id)));
            }
        }
    }
}

/// A step in a few words, for a progress message.
fn describe(step: &RunStep) -> String {
    match step.kind {
        StepKind::Instruction => "instruction received".to_string(),
        StepKind::ModelCall => format!("model call ({})", step.name),
        StepKind::ToolCall if step.error.is_some() => format!("tool call {} failed", step.name),
        StepKind::ToolCall => format!("tool call {}", step.name),
        StepKind::Summary => "summarised earlier work".to_string(),
    }
}

/// The run's answer: the final text when it completed; otherwise an error
/// result saying how it ended.
fn finished(run: Run) -> CallToolResult {
    let text = match (run.outcome, &run.output, &run.error) {
        (Some(RunOutcome::Completed), Some(output), _) => output.clone(),
        (outcome, _, error) => format!(
            "run {} ended {}: {}",
            run.id,
            outcome.map_or("without an outcome", RunOutcome::as_str),
            error.as_deref().unwrap_or("no reason recorded")
        ),
    };
    let completed = run.outcome == Some(RunOutcome::Completed);
    let structured = json!({ "run": RunResponse::from(run), "answer": completed.then(|| text.clone()) });
    let mut result =
        if completed { CallToolResult::structured(structured) } else { CallToolResult::structured_error(structured) };
    result.content = vec![ContentBlock::text(text)];
    result
}

/// The run waits for a person: the approvals it waits for, to decide with
/// `approvals.decide` (the run then goes on; `steward://runs/{id}/trace`
/// follows it).
async fn waiting(state: &AppState, user: UserId, run: Run) -> Result<CallToolResult, ApiError> {
    let filter = ApprovalFilter { run_id: Some(run.id), statuses: vec![ApprovalStatus::Pending] };
    let approvals = state.store.list_approvals(user.into(), filter).await?;
    let names: Vec<String> =
        approvals.iter().map(|approval| format!("approval {} ({})", approval.id, approval.tool)).collect();
    let text = format!(
        "run {} waits for a person to decide: {}. Decide with approvals.decide; the run then goes on.",
        run.id,
        names.join(", ")
    );
    let approvals: Vec<ApprovalResponse> = approvals.into_iter().map(ApprovalResponse::from).collect();
    let mut result = CallToolResult::structured(json!({ "run": RunResponse::from(run), "approvals": approvals }));
    result.content = vec![ContentBlock::text(text)];
    Ok(result)
}
