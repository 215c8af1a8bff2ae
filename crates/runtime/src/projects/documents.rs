//! `project.document`: asks the project's agent for a phase's document as
//! structured output matching the phase's JSON Schema, checks what a schema
//! cannot (unique ids, known references, tasks serving approved
//! requirements, no cycle — the cycle named), re-asking with the problem
//! when either fails ([`super::asking`], each refusal a
//! `project.document_refused` event), and proposes it at the gate — through
//! an automatic gate it is approved at once and the store queues the next
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
use steward_llm::{ChatRequest, JsonSchemaSpec};
use steward_store::{Store, StoreError};

use super::asking::{self, Asked};
use super::{agent_and_model, prompts, store_error};
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
        asking::fail(self.store.as_ref(), user, project, phase, reason).await
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
        let requirements = match prompts::approved(&record.documents, Phase::Requirements) {
            Some(PhaseDocument::Requirements(requirements)) => Some(requirements),
            _ => None,
        };
        // What the store would refuse, checked here so the agent can fix it.
        let read = |value: Value| -> Result<PhaseDocument, String> {
            let document = PhaseDocument::from_json(phase, value).map_err(|error| error.to_string())?;
            document.validate().map_err(|error| error.to_string())?;
            if let (PhaseDocument::Tasks(tasks), Some(requirements)) = (&document, requirements) {
                tasks.check_requirements(requirements).map_err(|error| error.to_string())?;
            }
            Ok(document)
        };
        let asked = Asked::Document(phase);
        let store = self.store.as_ref();
        let reply = asking::ask_checked(store, user, id, asked, model.as_ref(), request, &schema, read).await?;
        match self.store.propose_document(user, id, reply.value).await {
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
