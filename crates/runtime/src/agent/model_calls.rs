//! One model call of a run, recorded as started before it is sent: a call
//! the process never sees the end of (a crash, a cancel) is then stored by
//! the store, when the run resumes or finishes, as an interrupted step with
//! the estimated input tokens and cost, so budgets never under-count.

use steward_domain::{ModelCallStarted, RunId};
use steward_llm::{ChatModel, ChatRequest, ChatResponse, LlmError, Usage};
use tokio_util::sync::CancellationToken;

use super::failures::store_failure;
use super::runtime::AgentRuntime;
use crate::handlers::JobError;

/// How a model call ended.
pub(crate) enum ModelCallEnd {
    Reply(ChatResponse),
    /// It failed before a reply; the in-flight record is cleared (providers
    /// do not bill a refused or failed call).
    Failed(LlmError),
    /// The run was cancelled mid-call; finishing the run counts the call.
    Cancelled,
}

impl AgentRuntime {
    /// Records the call for step `sequence` as started, then makes it.
    pub(crate) async fn call_model(
        &self,
        run: RunId,
        sequence: u32,
        model: &dyn ChatModel,
        request: ChatRequest,
        estimated_input_tokens: u64,
        cancel: &CancellationToken,
    ) -> Result<ModelCallEnd, JobError> {
        let estimate = Usage { input_tokens: estimated_input_tokens, ..Usage::default() };
        let started = ModelCallStarted {
            sequence,
            model: model.id().to_string(),
            estimated_input_tokens,
            estimated_cost_usd: self.models.price_of(model.id()).map(|price| price.cost_usd(&estimate)),
            started_at: self.clock.now(),
        };
        self.store.model_call_started(run, started).await.map_err(store_failure)?;
        let response = tokio::select! {
            response = model.complete(request) => response,
            () = cancel.cancelled() => return Ok(ModelCallEnd::Cancelled),
        };
        match response {
            Ok(response) => Ok(ModelCallEnd::Reply(response)),
            Err(error) => {
                self.store.model_call_failed(run).await.map_err(store_failure)?;
                Ok(ModelCallEnd::Failed(error))
            }
        }
    }
}
