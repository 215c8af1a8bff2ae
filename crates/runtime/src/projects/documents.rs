//! `project.document`: asks the project's agent for a phase's document as
//! structured output matching the phase's JSON Schema (re-asked with the
//! problems when it does not), checks what a schema cannot (unique ids,
//! known references, no cycle), and proposes it at the gate — through an
//! automatic gate it is approved at once and the store queues the next
//! phase's job. A reply that never fits is recorded on the project
//! (`project.agent_failed`) and the job dies with the same words. A quick
//! project's requirements job writes all three documents in one call
//! ([`super::quick`]).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use steward_domain::project::schema::document_schema;
use steward_domain::project::work::DocumentJob;
use steward_domain::project::{Phase, PhaseDocument};
use steward_domain::{ProjectId, UserId};
use steward_llm::{ChatRequest, JsonSchemaSpec, StructuredOptions, complete_json};
use steward_store::{Store, StoreError};

use super::{agent_and_model, model_error, prompts, store_error};
use crate::agent::runtime::AgentRuntime;
use crate::handlers::{JobContext, JobError, JobHandler};

/// Writes phase documents with the project's agent.
pub struct DocumentHandler {
    pub(super) runtime: Arc<AgentRuntime>,
    pub(super) store: Arc<dyn Store>,
}

impl DocumentHandler {
    pub fn new(runtime: Arc<AgentRuntime>) -> Self {
        let store = runtime.store().clone();
        DocumentHandler { runtime, store }
    }

    pub(super) async fn fail(&self, user: UserId, project: ProjectId, phase: Phase, reason: String) -> JobError {
        if let Err(error) = self.store.record_agent_failure(user, project, phase, &reason).await {
            tracing::warn!(%error, %project, "the agent's failure could not be recorded");
        }
        JobError::permanent(reason)
    }
}

#[async_trait]
impl JobHandler for DocumentHandler {
    async fn run(&self, context: JobContext) -> Result<Value, JobError> {
        let payload: DocumentJob = serde_json::from_value(context.job.payload.clone()).map_err(|error| {
            JobError::permanent(format!(
                "payload: {error} (expected {{\"project_id\": 1, \"phase\": \"requirements\", \"version\": 1}})"
            ))
        })?;
        let user = context.job.user_id;
        let (id, phase) = (payload.project_id, payload.phase);
        let record =
            self.store.get_project(user, id).await.map_err(|error| store_error("reading the project", error))?;
        let written = record.documents.iter().any(|d| d.phase == phase && d.version >= payload.version);
        if record.project.phase != phase || written {
            // A person proposed first, or the project moved on: nothing to ask.
            return Ok(json!({"project": id, "phase": phase.as_str(), "status": "not_needed"}));
        }
        let Some(agent_id) = record.project.agent_id else {
            return Ok(json!({"project": id, "phase": phase.as_str(), "status": "no_agent"}));
        };
        let (agent, model) = agent_and_model(&self.runtime, &self.store, user, agent_id).await?;
        if record.project.quick && phase == Phase::Requirements {
            return self.write_together(user, &record, &agent, model.as_ref()).await;
        }
        let schema =
            document_schema(phase).ok_or_else(|| JobError::permanent(format!("the {phase} phase has no document")))?;
        let schema = JsonSchemaSpec::new(phase.as_str(), schema)
            .map_err(|error| JobError::permanent(format!("the {phase} schema: {error}")))?;
        let (system, text) = prompts::document_prompt(&agent, &record, phase);
        let request = ChatRequest::from_user_text(text)
            .with_system(system)
            .with_max_tokens(self.runtime.settings.max_output_tokens);
        let reply = match complete_json(model.as_ref(), request, &schema, StructuredOptions::default()).await {
            Ok(reply) => reply,
            Err(error) if error.is_retryable() => return Err(model_error("asking for the document", &error)),
            Err(error) => {
                let reason = format!("the agent's {phase} document did not match the schema: {}", error.message());
                return Err(self.fail(user, id, phase, reason).await);
            }
        };
        let document = match PhaseDocument::from_json(phase, reply.value).and_then(|d| d.validate().map(|()| d)) {
            Ok(document) => document,
            Err(error) => {
                let reason = format!("the agent's {phase} document was refused: {error}");
                return Err(self.fail(user, id, phase, reason).await);
            }
        };
        match self.store.propose_document(user, id, document).await {
            Ok(record) => Ok(json!({
                "project": id, "phase": phase.as_str(), "status": "proposed", "attempts": reply.attempts,
                "project_phase": record.project.phase.as_str(),
            })),
            Err(StoreError::Invalid(error)) => {
                let reason = format!("the agent's {phase} document was refused: {error}");
                Err(self.fail(user, id, phase, reason).await)
            }
            Err(error) => Err(store_error("proposing the document", error)),
        }
    }
}
