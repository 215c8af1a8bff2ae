//! The light path's document job: one structured call whose schema is the
//! three phase schemas side by side. Each part is read and checked as its
//! phase's document would be; a problem (a schema rule, a cycle, a task
//! serving a requirement that does not exist) goes back to the agent named
//! with its document, within the re-asks every document gets
//! ([`super::asking`]), and a reply that never fits is recorded on the
//! project. The store keeps the three together or none.

use serde_json::{Value, json};
use steward_domain::project::quick::quick_schema;
use steward_domain::project::{Phase, QuickDocuments};
use steward_domain::{Agent, UserId};
use steward_llm::{ChatModel, ChatRequest, JsonSchemaSpec};
use steward_store::{ProjectRecord, StoreError};

use super::asking::{self, Asked};
use super::documents::DocumentHandler;
use super::{prompts, store_error};
use crate::handlers::JobError;

impl DocumentHandler {
    /// Asks for the three documents at once and proposes them together.
    pub(super) async fn write_together(
        &self,
        user: UserId,
        record: &ProjectRecord,
        agent: &Agent,
        model: &dyn ChatModel,
    ) -> Result<Value, JobError> {
        let id = record.project.id;
        let schema = JsonSchemaSpec::new("quick", quick_schema())
            .map_err(|error| JobError::permanent(format!("the light path's schema: {error}")))?;
        let (system, text) = prompts::quick_prompt(agent, record);
        let request = ChatRequest::from_user_text(text)
            .with_system(system)
            .with_max_tokens(self.runtime.settings.max_output_tokens);
        let read = |value: Value| QuickDocuments::from_json(value).map_err(|error| error.to_string());
        let store = self.store.as_ref();
        let reply = asking::ask_checked(store, user, id, Asked::ThreeDocuments, model, request, &schema, read).await?;
        let documents = reply.value;
        let counts = json!({
            "requirements": documents.requirements.requirements.len(),
            "tasks": documents.tasks.tasks.len(),
        });
        match self.store.propose_quick(user, id, documents).await {
            Ok(record) => Ok(json!({
                "project": id, "phase": Phase::Requirements.as_str(), "status": "proposed", "quick": true,
                "attempts": reply.attempts, "counts": counts, "project_phase": record.project.phase.as_str(),
            })),
            Err(StoreError::Invalid(error)) => {
                let reason = format!("the agent's three documents were refused: {error}");
                Err(self.fail(user, id, Phase::Requirements, reason).await)
            }
            Err(error) => Err(store_error("proposing the three documents", error)),
        }
    }
}
