//! The validator's look at a finished task: the validator agent's model
//! (the project's agent when it has none) asked for `{pass, feedback}`
//! as structured output, given the task's done-when, the acceptance
//! criteria it serves, the agent's account and the files it left.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use steward_domain::UserId;
use steward_domain::project::ProjectTask;
use steward_llm::{ChatRequest, StructuredOptions, complete_typed};
use steward_store::{ProjectRecord, Store};

use super::{agent_and_model, model_error, prompts};
use crate::agent::runtime::AgentRuntime;
use crate::handlers::JobError;

/// The validator's verdict, as the model writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Assessment {
    /// Whether the task's done-when and its criteria hold.
    pub pass: bool,
    /// What is missing or wrong (or why it passes).
    pub feedback: String,
}

/// Asks the validator about `task`, whose run answered `answer` and left `files`.
pub(crate) async fn assess(
    runtime: &AgentRuntime,
    store: &Arc<dyn Store>,
    user: UserId,
    record: &ProjectRecord,
    task: &ProjectTask,
    answer: &str,
    files: &str,
) -> Result<Assessment, JobError> {
    let project = &record.project;
    let validator = project
        .validator_id
        .or(project.agent_id)
        .ok_or_else(|| JobError::permanent(format!("project {} has no agent to validate its tasks", project.id)))?;
    let (agent, model) = agent_and_model(runtime, store, user, validator).await?;
    let (system, text) = prompts::validation_prompt(&agent, record, task, answer, files);
    let request =
        ChatRequest::from_user_text(text).with_system(system).with_max_tokens(runtime.settings.max_output_tokens);
    let reply = complete_typed::<Assessment>(model.as_ref(), request, StructuredOptions::default())
        .await
        .map_err(|error| model_error(&format!("validating task {}", task.spec.id), &error))?;
    Ok(reply.value)
}
