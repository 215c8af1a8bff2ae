//! One round of tool calls: the calls a model reply asked for, checked
//! against the agent's allowlist and approvals, run concurrently, and each
//! result stored as a step the moment it is known (and sent as an
//! `execute_tool` span of the run's trace).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde_json::json;
use steward_domain::{Approval, ApprovalStatus, NewApproval, Run, RunStep, StepKind};
use tokio_util::sync::CancellationToken;

use super::failures::store_failure;
use super::runtime::AgentRuntime;
use super::steps::{RequestedCall, ToolCallContent, new_step};
use crate::handlers::JobError;
use crate::telemetry::RunTrace;
use crate::tools::{Tool, ToolContext, ToolError, ToolRegistry, wire_name};

/// The most of a tool's result kept for the model and the trace.
const MAX_RESULT_CHARS: usize = 100_000;

/// How a round ended.
pub(crate) enum ToolRound {
    /// Every call has a stored result.
    Stored(Vec<RunStep>),
    /// Some calls wait for a person; the others' results are stored.
    NeedsApproval { stored: Vec<RunStep>, requests: Vec<NewApproval> },
    /// The run was cancelled while tools ran (finished results are stored).
    Cancelled,
}

/// What to do with one call.
enum Plan {
    /// Its result is known without running it (refused, malformed, rejected).
    Answer(String),
    Execute(Arc<dyn Tool>),
    AskApproval(Arc<dyn Tool>),
}

/// The calls of one model step, and where their results go.
pub(crate) struct ToolRoundInput {
    pub model_step: u32,
    pub calls: Vec<(u32, RequestedCall)>,
    /// The sequence of the first result stored.
    pub first_sequence: u32,
    pub trace: RunTrace,
}

/// Runs the calls of `round` with `tools`, those offered now of the agent's
/// `registry`; `run_approvals` are all the run's approvals (decided ones let
/// a call go ahead or answer it).
pub(crate) async fn run_tool_round(
    runtime: &AgentRuntime,
    run: &Run,
    registry: &ToolRegistry,
    tools: &[Arc<dyn Tool>],
    run_approvals: &[Approval],
    round: ToolRoundInput,
    cancel: &CancellationToken,
) -> Result<ToolRound, JobError> {
    let ToolRoundInput { model_step, calls, first_sequence, trace } = round;
    let approvals: HashMap<&str, &Approval> = run_approvals
        .iter()
        .filter(|approval| approval.step_sequence == Some(model_step))
        .map(|approval| (approval.call_id.as_str(), approval))
        .collect();
    let mut sequence = first_sequence;
    let mut stored = Vec::new();
    let mut requests = Vec::new();
    let mut executions = FuturesUnordered::new();
    for (index, call) in calls {
        match plan(registry, tools, &call, approvals.get(call.id.as_str()).copied()) {
            Plan::Answer(error) => {
                let step = result_step(
                    runtime,
                    run,
                    model_step,
                    index,
                    &call,
                    tool_name(tools, &call),
                    Err(error),
                    runtime.clock.now(),
                );
                stored.push(append(runtime, &trace, step, &mut sequence).await?);
            }
            Plan::AskApproval(tool) => requests.push(NewApproval {
                step_sequence: model_step,
                call_id: call.id.clone(),
                tool: tool.name().to_string(),
                arguments: call.input.clone(),
            }),
            Plan::Execute(tool) => {
                let context = ToolContext {
                    user_id: run.user_id,
                    agent_id: run.agent_id,
                    run_id: run.id,
                    action_id: run.action_id,
                    idempotency_key: format!("run-{}-step-{model_step}-call-{index}", run.id),
                    workspace: runtime.workspace_of(run.id),
                    artifacts: runtime.artifacts_of(run.id, run.action_id),
                    store: runtime.store.clone(),
                    clock: runtime.clock.clone(),
                    cancel: cancel.child_token(),
                };
                let clock = runtime.clock.clone();
                executions.push(async move {
                    let started = clock.now();
                    let result = tool.call(&context, call.input.clone()).await;
                    (index, call, tool.name().to_string(), result, started)
                });
            }
        }
    }
    // Results are stored in the order they arrive; the conversation puts
    // them back in call order.
    loop {
        tokio::select! {
            next = executions.next() => match next {
                Some((index, call, name, result, started)) => {
                    let result = result.map(|output| output.content).map_err(|error| describe(&error));
                    let step = result_step(runtime, run, model_step, index, &call, name, result, started);
                    stored.push(append(runtime, &trace, step, &mut sequence).await?);
                }
                None => break,
            },
            () = cancel.cancelled() => return Ok(ToolRound::Cancelled),
        }
    }
    if requests.is_empty() { Ok(ToolRound::Stored(stored)) } else { Ok(ToolRound::NeedsApproval { stored, requests }) }
}

fn plan(registry: &ToolRegistry, tools: &[Arc<dyn Tool>], call: &RequestedCall, approval: Option<&Approval>) -> Plan {
    let Some(tool) = tools.iter().find(|tool| wire_name(tool.name()) == call.wire_name) else {
        let reason = match registry.by_wire_name(&call.wire_name) {
            Some(tool) => format!("refused: the tool {} is not available to this agent now", tool.name()),
            None => format!("refused: there is no tool named {}", call.wire_name),
        };
        return Plan::Answer(reason);
    };
    if let Some(raw) = &call.malformed_input {
        return Plan::Answer(format!("invalid input: the arguments were not valid JSON: {}", truncate(raw, 500)));
    }
    if !tool.requires_approval() {
        return Plan::Execute(tool.clone());
    }
    match approval.map(|approval| (approval.status, approval.reason.clone())) {
        Some((ApprovalStatus::Approved, _)) => Plan::Execute(tool.clone()),
        Some((ApprovalStatus::Rejected, reason)) => Plan::Answer(format!(
            "rejected by a person: {}",
            reason.filter(|reason| !reason.trim().is_empty()).unwrap_or_else(|| "no reason given".into())
        )),
        Some((ApprovalStatus::Withdrawn, _)) => Plan::Answer("refused: the approval request was withdrawn".into()),
        Some((ApprovalStatus::Pending, _)) | None => Plan::AskApproval(tool.clone()),
    }
}

fn tool_name(tools: &[Arc<dyn Tool>], call: &RequestedCall) -> String {
    tools
        .iter()
        .find(|tool| wire_name(tool.name()) == call.wire_name)
        .map_or_else(|| call.wire_name.clone(), |tool| tool.name().to_string())
}

fn describe(error: &ToolError) -> String {
    error.to_string()
}

#[allow(clippy::too_many_arguments)]
fn result_step(
    runtime: &AgentRuntime,
    run: &Run,
    model_step: u32,
    index: u32,
    call: &RequestedCall,
    tool: String,
    result: Result<String, String>,
    started: DateTime<Utc>,
) -> RunStep {
    let (text, is_error) = match result {
        Ok(text) => (text, false),
        Err(error) => (error, true),
    };
    let text = runtime.redactor.text(&truncate(&text, MAX_RESULT_CHARS));
    let content = ToolCallContent {
        model_step,
        call_index: index,
        call_id: call.id.clone(),
        tool: tool.clone(),
        arguments: runtime.redactor.value(&call.input),
        result: text.clone(),
        is_error,
    };
    // The sequence is set when the step is appended.
    let mut stored = new_step(run.id, 0, StepKind::ToolCall, &tool, json!(content), started, runtime.clock.now());
    if is_error {
        stored.error = Some(text);
    }
    stored
}

async fn append(
    runtime: &AgentRuntime,
    trace: &RunTrace,
    mut step: RunStep,
    sequence: &mut u32,
) -> Result<RunStep, JobError> {
    step.sequence = *sequence;
    runtime.store.append_step(step.clone()).await.map_err(store_failure)?;
    trace.tool_call(&step);
    *sequence += 1;
    Ok(step)
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut kept: String = text.chars().take(max_chars).collect();
    kept.push_str("\n… (truncated)");
    kept
}
