//! Reading the agent runtime's rows (runs, steps, approvals, conversations,
//! messages, artifacts) into domain types, each column list next to the
//! function that reads it.

use std::time::Duration;

use rusqlite::Row;
use steward_domain::{
    ActionId, AgentId, Approval, ApprovalId, Artifact, ArtifactId, ChatMessage, Conversation, ConversationId, JobId,
    MessageCost, MessageId, ProjectId, Run, RunId, RunStep, RunUsage, TokenUsage, UserId, ValidationError,
};

use super::connection::from_micros;
use super::rows::{conversion_error, json, parsed};
use crate::rules::StoredLimits;

/// A stored count (never negative) as an unsigned number.
fn count(row: &Row<'_>, index: usize) -> rusqlite::Result<u64> {
    Ok(u64::try_from(row.get::<_, i64>(index)?).unwrap_or(0))
}

fn optional_count(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<u64>> {
    Ok(row.get::<_, Option<i64>>(index)?.map(|value| u64::try_from(value).unwrap_or(0)))
}

pub(crate) const RUN_COLUMNS: &str = "id, user_id, agent_id, action_id, job_id, status, outcome, instruction, \
     max_steps, max_tokens, max_cost_usd, max_wall_secs, input_tokens, output_tokens, cache_read_tokens, \
     cache_write_tokens, cost_usd, unknown_cost_calls, model_calls, tool_calls, steps, output, error, \
     cancel_requested, created_at, updated_at, started_at, finished_at, estimated_calls";

pub(crate) fn run(row: &Row<'_>) -> rusqlite::Result<Run> {
    let outcome: Option<String> = row.get(6)?;
    Ok(Run {
        id: RunId(row.get(0)?),
        user_id: UserId(row.get(1)?),
        agent_id: AgentId(row.get(2)?),
        action_id: row.get::<_, Option<i64>>(3)?.map(ActionId),
        job_id: row.get::<_, Option<i64>>(4)?.map(JobId),
        status: parsed(row, 5)?,
        outcome: outcome
            .map(|outcome| outcome.parse().map_err(|error: ValidationError| conversion_error(6, error.to_string())))
            .transpose()?,
        instruction: row.get(7)?,
        limits: StoredLimits {
            max_steps: row.get(8)?,
            max_tokens: row.get(9)?,
            max_cost_usd: row.get(10)?,
            max_wall_secs: row.get(11)?,
        }
        .into_limits(),
        usage: RunUsage {
            input_tokens: count(row, 12)?,
            output_tokens: count(row, 13)?,
            cache_read_tokens: count(row, 14)?,
            cache_write_tokens: count(row, 15)?,
            cost_usd: row.get(16)?,
            unknown_cost_calls: row.get(17)?,
            model_calls: row.get(18)?,
            tool_calls: row.get(19)?,
            estimated_calls: row.get(28)?,
        },
        steps: row.get(20)?,
        output: row.get(21)?,
        error: row.get(22)?,
        cancel_requested: row.get(23)?,
        created_at: from_micros(row.get(24)?),
        updated_at: from_micros(row.get(25)?),
        started_at: row.get::<_, Option<i64>>(26)?.map(from_micros),
        finished_at: row.get::<_, Option<i64>>(27)?.map(from_micros),
    })
}

pub(crate) const STEP_COLUMNS: &str = "run_id, sequence, kind, name, content, input_tokens, output_tokens, \
     cache_read_tokens, cache_write_tokens, cost_usd, time_to_first_token_micros, stop_reason, error, started_at, \
     finished_at";

pub(crate) fn step(row: &Row<'_>) -> rusqlite::Result<RunStep> {
    let usage = match optional_count(row, 5)? {
        Some(input_tokens) => Some(TokenUsage {
            input_tokens,
            output_tokens: count(row, 6)?,
            cache_read_tokens: count(row, 7)?,
            cache_write_tokens: count(row, 8)?,
        }),
        None => None,
    };
    Ok(RunStep {
        run_id: RunId(row.get(0)?),
        sequence: row.get(1)?,
        kind: parsed(row, 2)?,
        name: row.get(3)?,
        content: json(row, 4)?,
        usage,
        cost_usd: row.get(9)?,
        time_to_first_token: optional_count(row, 10)?.map(Duration::from_micros),
        stop_reason: row.get(11)?,
        error: row.get(12)?,
        started_at: from_micros(row.get(13)?),
        finished_at: from_micros(row.get(14)?),
    })
}

pub(crate) const APPROVAL_COLUMNS: &str = "id, user_id, run_id, agent_id, step_sequence, call_id, tool, arguments, \
     status, reason, created_at, decided_at, project_id";

pub(crate) fn approval(row: &Row<'_>) -> rusqlite::Result<Approval> {
    Ok(Approval {
        id: ApprovalId(row.get(0)?),
        user_id: UserId(row.get(1)?),
        run_id: row.get::<_, Option<i64>>(2)?.map(RunId),
        agent_id: row.get::<_, Option<i64>>(3)?.map(AgentId),
        step_sequence: row.get(4)?,
        call_id: row.get(5)?,
        tool: row.get(6)?,
        arguments: json(row, 7)?,
        status: parsed(row, 8)?,
        reason: row.get(9)?,
        created_at: from_micros(row.get(10)?),
        decided_at: row.get::<_, Option<i64>>(11)?.map(from_micros),
        project_id: row.get::<_, Option<i64>>(12)?.map(ProjectId),
    })
}

pub(crate) const CONVERSATION_COLUMNS: &str = "id, user_id, kind, agent_id, action_id, created_at, updated_at";

pub(crate) fn conversation(row: &Row<'_>) -> rusqlite::Result<Conversation> {
    Ok(Conversation {
        id: ConversationId(row.get(0)?),
        user_id: UserId(row.get(1)?),
        kind: parsed(row, 2)?,
        agent_id: row.get::<_, Option<i64>>(3)?.map(AgentId),
        action_id: row.get::<_, Option<i64>>(4)?.map(ActionId),
        created_at: from_micros(row.get(5)?),
        updated_at: from_micros(row.get(6)?),
    })
}

pub(crate) const MESSAGE_COLUMNS: &str =
    "id, conversation_id, role, text, data, model_calls, cost_usd, unknown_cost_calls, created_at";

pub(crate) fn message(row: &Row<'_>) -> rusqlite::Result<ChatMessage> {
    let calls = |index| -> rusqlite::Result<u32> { Ok(u32::try_from(row.get::<_, i64>(index)?).unwrap_or(0)) };
    Ok(ChatMessage {
        id: MessageId(row.get(0)?),
        conversation_id: ConversationId(row.get(1)?),
        role: parsed(row, 2)?,
        text: row.get(3)?,
        data: json(row, 4)?,
        cost: MessageCost { model_calls: calls(5)?, cost_usd: row.get(6)?, unknown_cost_calls: calls(7)? },
        created_at: from_micros(row.get(8)?),
    })
}

pub(crate) const ARTIFACT_COLUMNS: &str = "id, user_id, run_id, action_id, path, bytes, created_at, updated_at";

pub(crate) fn artifact(row: &Row<'_>) -> rusqlite::Result<Artifact> {
    Ok(Artifact {
        id: ArtifactId(row.get(0)?),
        user_id: UserId(row.get(1)?),
        run_id: RunId(row.get(2)?),
        action_id: row.get::<_, Option<i64>>(3)?.map(ActionId),
        path: row.get(4)?,
        bytes: count(row, 5)?,
        created_at: from_micros(row.get(6)?),
        updated_at: from_micros(row.get(7)?),
    })
}
