//! Reading the agent runtime's rows (runs, steps, approvals, conversations,
//! messages, artifacts) into domain types. As in [`super::rows`], column
//! lists are macros so queries are static strings, each next to the
//! function that reads it.

use std::time::Duration;

use sqlx::Row;
use sqlx::postgres::PgRow;
use steward_domain::{
    ActionId, AgentId, Approval, ApprovalId, Artifact, ArtifactId, ChatMessage, Conversation, ConversationId, JobId,
    MessageCost, MessageId, ProjectId, Run, RunId, RunStep, RunUsage, TokenUsage, UserId,
};

use super::connection::from_integer;
use super::rows::parsed;
use crate::rules::StoredLimits;

/// A stored count (never negative) as an unsigned number.
fn count(row: &PgRow, index: usize) -> Result<u64, sqlx::Error> {
    Ok(u64::try_from(row.try_get::<i64, _>(index)?).unwrap_or(0))
}

fn optional_count(row: &PgRow, index: usize) -> Result<Option<u64>, sqlx::Error> {
    Ok(row.try_get::<Option<i64>, _>(index)?.map(|value| u64::try_from(value).unwrap_or(0)))
}

fn integer(row: &PgRow, index: usize) -> Result<u32, sqlx::Error> {
    Ok(from_integer(row.try_get(index)?))
}

macro_rules! run_columns {
    () => {
        "id, user_id, agent_id, action_id, job_id, status, outcome, instruction, max_steps, max_tokens, \
         max_cost_usd, max_wall_secs, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, \
         unknown_cost_calls, model_calls, tool_calls, steps, output, error, cancel_requested, created_at, \
         updated_at, started_at, finished_at, estimated_calls"
    };
}

macro_rules! step_columns {
    () => {
        "run_id, sequence, kind, name, content, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, \
         cost_usd, time_to_first_token_micros, stop_reason, error, started_at, finished_at"
    };
}

macro_rules! approval_columns {
    () => {
        "id, user_id, run_id, agent_id, step_sequence, call_id, tool, arguments, status, reason, created_at, \
         decided_at, project_id"
    };
}

macro_rules! conversation_columns {
    () => {
        "id, user_id, kind, agent_id, action_id, created_at, updated_at"
    };
}

macro_rules! message_columns {
    () => {
        "id, conversation_id, role, text, data, model_calls, cost_usd, unknown_cost_calls, created_at"
    };
}

macro_rules! artifact_columns {
    () => {
        "id, user_id, run_id, action_id, path, bytes, created_at, updated_at"
    };
}

pub(crate) use {approval_columns, artifact_columns, conversation_columns, message_columns, run_columns, step_columns};

pub(crate) fn run(row: &PgRow) -> Result<Run, sqlx::Error> {
    let outcome = match row.try_get::<Option<String>, _>(6)? {
        Some(_) => Some(parsed(row, 6)?),
        None => None,
    };
    Ok(Run {
        id: RunId(row.try_get(0)?),
        user_id: UserId(row.try_get(1)?),
        agent_id: AgentId(row.try_get(2)?),
        action_id: row.try_get::<Option<i64>, _>(3)?.map(ActionId),
        job_id: row.try_get::<Option<i64>, _>(4)?.map(JobId),
        status: parsed(row, 5)?,
        outcome,
        instruction: row.try_get(7)?,
        limits: StoredLimits {
            max_steps: row.try_get::<Option<i32>, _>(8)?.map(from_integer),
            max_tokens: row.try_get(9)?,
            max_cost_usd: row.try_get(10)?,
            max_wall_secs: row.try_get(11)?,
        }
        .into_limits(),
        usage: RunUsage {
            input_tokens: count(row, 12)?,
            output_tokens: count(row, 13)?,
            cache_read_tokens: count(row, 14)?,
            cache_write_tokens: count(row, 15)?,
            cost_usd: row.try_get(16)?,
            unknown_cost_calls: integer(row, 17)?,
            model_calls: integer(row, 18)?,
            tool_calls: integer(row, 19)?,
            estimated_calls: integer(row, 28)?,
        },
        steps: integer(row, 20)?,
        output: row.try_get(21)?,
        error: row.try_get(22)?,
        cancel_requested: row.try_get(23)?,
        created_at: row.try_get(24)?,
        updated_at: row.try_get(25)?,
        started_at: row.try_get(26)?,
        finished_at: row.try_get(27)?,
    })
}

pub(crate) fn step(row: &PgRow) -> Result<RunStep, sqlx::Error> {
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
        run_id: RunId(row.try_get(0)?),
        sequence: integer(row, 1)?,
        kind: parsed(row, 2)?,
        name: row.try_get(3)?,
        content: row.try_get(4)?,
        usage,
        cost_usd: row.try_get(9)?,
        time_to_first_token: optional_count(row, 10)?.map(Duration::from_micros),
        stop_reason: row.try_get(11)?,
        error: row.try_get(12)?,
        started_at: row.try_get(13)?,
        finished_at: row.try_get(14)?,
    })
}

pub(crate) fn approval(row: &PgRow) -> Result<Approval, sqlx::Error> {
    Ok(Approval {
        id: ApprovalId(row.try_get(0)?),
        user_id: UserId(row.try_get(1)?),
        run_id: row.try_get::<Option<i64>, _>(2)?.map(RunId),
        agent_id: row.try_get::<Option<i64>, _>(3)?.map(AgentId),
        step_sequence: row.try_get::<Option<i32>, _>(4)?.map(from_integer),
        call_id: row.try_get(5)?,
        tool: row.try_get(6)?,
        arguments: row.try_get(7)?,
        status: parsed(row, 8)?,
        reason: row.try_get(9)?,
        created_at: row.try_get(10)?,
        decided_at: row.try_get(11)?,
        project_id: row.try_get::<Option<i64>, _>(12)?.map(ProjectId),
    })
}

pub(crate) fn conversation(row: &PgRow) -> Result<Conversation, sqlx::Error> {
    Ok(Conversation {
        id: ConversationId(row.try_get(0)?),
        user_id: UserId(row.try_get(1)?),
        kind: parsed(row, 2)?,
        agent_id: row.try_get::<Option<i64>, _>(3)?.map(AgentId),
        action_id: row.try_get::<Option<i64>, _>(4)?.map(ActionId),
        created_at: row.try_get(5)?,
        updated_at: row.try_get(6)?,
    })
}

pub(crate) fn message(row: &PgRow) -> Result<ChatMessage, sqlx::Error> {
    Ok(ChatMessage {
        id: MessageId(row.try_get(0)?),
        conversation_id: ConversationId(row.try_get(1)?),
        role: parsed(row, 2)?,
        text: row.try_get(3)?,
        data: row.try_get(4)?,
        cost: MessageCost {
            model_calls: integer(row, 5)?,
            cost_usd: row.try_get(6)?,
            unknown_cost_calls: integer(row, 7)?,
        },
        created_at: row.try_get(8)?,
    })
}

pub(crate) fn artifact(row: &PgRow) -> Result<Artifact, sqlx::Error> {
    Ok(Artifact {
        id: ArtifactId(row.try_get(0)?),
        user_id: UserId(row.try_get(1)?),
        run_id: RunId(row.try_get(2)?),
        action_id: row.try_get::<Option<i64>, _>(3)?.map(ActionId),
        path: row.try_get(4)?,
        bytes: count(row, 5)?,
        created_at: row.try_get(6)?,
        updated_at: row.try_get(7)?,
    })
}
