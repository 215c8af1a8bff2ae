//! Asking a project's agent for its documents, shared by the phase-by-phase
//! path ([`super::documents`]) and the light path ([`super::quick`]): one
//! structured call whose reply must match the schema and then pass `read`,
//! the checks a schema cannot make (ids unique, references known, no cycle
//! in the task graph — the cycle named). A problem of either kind goes
//! back to the model, named, at most [`MAX_REASKS`] times. Each reply
//! `read` refuses is recorded in the project's events
//! (`project.document_refused`), and a reply that never fits is recorded
//! on the project (`project.agent_failed`) and fails the job with the same
//! words.

use std::sync::Mutex;

use serde_json::Value;
use steward_domain::project::Phase;
use steward_domain::{ProjectId, UserId};
use steward_llm::{ChatModel, ChatRequest, JsonSchemaSpec, StructuredOptions, StructuredResponse, complete_checked};

use steward_store::Store;

use super::model_error;
use crate::handlers::JobError;

/// Re-asks after the first reply: a document still refused after three
/// replies waits for a person rather than costing more calls.
pub(super) const MAX_REASKS: u32 = 2;

/// What the agent is asked for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Asked {
    /// One phase's document.
    Document(Phase),
    /// The light path's three documents in one reply.
    ThreeDocuments,
}

impl Asked {
    /// The phase a refusal or a failure is recorded against.
    fn phase(self) -> Phase {
        match self {
            Asked::Document(phase) => phase,
            Asked::ThreeDocuments => Phase::Requirements,
        }
    }

    /// Why the agent's reply never fitted, with the last problems.
    fn failure(self, refused: bool, problems: &str) -> String {
        let (what, verb) = match self {
            Asked::Document(phase) => (format!("{phase} document"), "was"),
            Asked::ThreeDocuments => ("three documents".to_string(), "were"),
        };
        if refused {
            format!("the agent's {what} {verb} refused: {problems}")
        } else {
            format!("the agent's {what} did not match the schema: {problems}")
        }
    }
}

/// Records on the project that the agent's work failed
/// (`project.agent_failed`) and returns the job's error, in the same words.
pub(super) async fn fail(
    store: &dyn Store,
    user: UserId,
    project: ProjectId,
    phase: Phase,
    reason: String,
) -> JobError {
    if let Err(error) = store.record_agent_failure(user, project, phase, &reason).await {
        tracing::warn!(%error, %project, "the agent's failure could not be recorded");
    }
    JobError::permanent(reason)
}

/// Asks `model` for `asked` (see the module's notes); the reply `read`
/// accepts, or the job's error after recording what went wrong.
#[allow(clippy::too_many_arguments)]
pub(super) async fn ask_checked<T>(
    store: &dyn Store,
    user: UserId,
    project: ProjectId,
    asked: Asked,
    model: &dyn ChatModel,
    request: ChatRequest,
    schema: &JsonSchemaSpec,
    read: impl Fn(Value) -> Result<T, String> + Send + Sync,
) -> Result<StructuredResponse<T>, JobError> {
    let refusals: Mutex<Vec<(u32, String)>> = Mutex::new(Vec::new());
    let check = |value: Value, attempt: u32| {
        read(value).inspect_err(|problem| {
            refusals.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push((attempt, problem.clone()));
        })
    };
    let options = StructuredOptions { max_reasks: MAX_REASKS };
    let outcome = complete_checked(model, request, schema, options, check).await;
    let refusals = refusals.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    for (attempt, problem) in &refusals {
        if let Err(error) = store.record_document_refused(user, project, asked.phase(), *attempt, problem).await {
            tracing::warn!(%error, %project, "a refused reply could not be recorded");
        }
    }
    match outcome {
        Ok(reply) => Ok(reply),
        Err(error) if error.is_retryable() => Err(model_error("asking for the documents", &error)),
        Err(error) => {
            let reason = asked.failure(!refusals.is_empty(), error.message());
            Err(fail(store, user, project, asked.phase(), reason).await)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_names_what_was_asked_and_how_it_failed() {
        let tasks = Asked::Document(Phase::Tasks);
        assert_eq!(tasks.failure(true, "a cycle"), "the agent's tasks document was refused: a cycle");
        assert_eq!(tasks.failure(false, "at /x"), "the agent's tasks document did not match the schema: at /x");
        assert_eq!(Asked::ThreeDocuments.failure(true, "a cycle"), "the agent's three documents were refused: a cycle");
        assert_eq!(Asked::ThreeDocuments.phase(), Phase::Requirements);
    }
}
