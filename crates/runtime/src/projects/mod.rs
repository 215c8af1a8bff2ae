//! Agents at work on spec-driven projects, as queue jobs. The store queues
//! `project.document` when a project enters a document phase or a document
//! is sent back ([`documents`]): the project's agent is asked for the
//! phase's document as structured output validated against the phase's
//! JSON Schema, and the reply is proposed at the gate (or the failure
//! recorded on the project). `project run` queues one `project.task` per
//! task not done ([`tasks`]): the agent works on it in a run whose
//! workspace is the task's own folder — a git worktree on the task's branch
//! when the project has a repository ([`workspace`]) — and the validator
//! checks the finished task against its done-when ([`validation`]), then the
//! project's check commands run in the task's workspace ([`checks`]). A
//! quick project's three documents come from one call ([`quick`]); both
//! ask through [`asking`], which re-asks a refused reply with its problem.
//!
//! A module of its own beside `usecases` because it starts runs through
//! them, as `living_docs_jobs` does.

mod asking;
pub mod checks;
pub mod documents;
mod prompts;
mod quick;
pub mod tasks;
mod validation;
pub mod workspace;

use std::sync::Arc;

use steward_domain::{Agent, AgentId, UserId};
use steward_llm::{ChatModel, LlmError};
use steward_store::{Store, StoreError};

use crate::agent::runtime::AgentRuntime;
use crate::handlers::JobError;

pub use documents::DocumentHandler;
pub use steward_domain::project::work::{DOCUMENT_JOB_KIND, TASK_JOB_KIND};
pub use tasks::TaskHandler;

/// A store failure while working: worth another attempt unless the row is gone or refused.
fn store_error(what: &str, error: StoreError) -> JobError {
    match error {
        StoreError::NotFound { .. } | StoreError::Invalid(_) | StoreError::Conflict { .. } => {
            JobError::permanent(format!("{what}: {error}"))
        }
        _ => JobError::retryable(format!("{what}: {error}")),
    }
}

/// A model failure: retried after the provider's delay when it says so.
fn model_error(what: &str, error: &LlmError) -> JobError {
    if error.is_retryable() {
        JobError::Retryable { message: format!("{what}: {error}"), retry_after: error.retry_after() }
    } else {
        JobError::permanent(format!("{what}: {error}"))
    }
}

/// The agent and the model it uses.
async fn agent_and_model(
    runtime: &AgentRuntime,
    store: &Arc<dyn Store>,
    user: UserId,
    agent: AgentId,
) -> Result<(Agent, Arc<dyn ChatModel>), JobError> {
    let agent = store.get_agent(user, agent).await.map_err(|error| store_error("reading the agent", error))?;
    let model = runtime.model_for(&agent).map_err(|error| model_error("the agent's model", &error))?;
    Ok((agent, model))
}
