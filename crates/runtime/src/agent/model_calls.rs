//! One model call of a run, recorded as started before it is sent: a call
//! the process never sees the end of (a crash, a cancel) is then stored by
//! the store, when the run resumes or finishes, as an interrupted step with
//! the estimated input tokens and cost, so budgets never under-count. Each
//! call that ends here is a `chat` span of the run's trace.

use steward_domain::ModelCallStarted;
use steward_llm::{ChatModel, ChatRequest, ChatResponse, LlmError, Usage};
use tokio_util::sync::CancellationToken;

use super::failures::store_failure;
use super::runtime::AgentRuntime;
use crate::handlers::JobError;
use crate::telemetry::{ChatCall, ChatEnd, RunTrace};

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
        trace: &RunTrace,
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
        let started_at = started.started_at;
        let run = trace.run_id();
        self.store.model_call_started(run, started).await.map_err(store_failure)?;
        // The request is kept for the span only when contents are exported.
        let kept = trace.captures_content().then(|| request.clone());
        let max_tokens = request.max_tokens;
        let response = tokio::select! {
            response = model.complete(request) => response,
            () = cancel.cancelled() => {
                self.chat_span(trace, model, (max_tokens, kept.as_ref()), started_at, ChatEnd::Cancelled);
                return Ok(ModelCallEnd::Cancelled);
            }
        };
        match response {
            Ok(response) => {
                self.chat_span(trace, model, (max_tokens, kept.as_ref()), started_at, ChatEnd::Reply(&response));
                Ok(ModelCallEnd::Reply(response))
            }
            Err(error) => {
                self.chat_span(trace, model, (max_tokens, kept.as_ref()), started_at, ChatEnd::Failed(&error));
                self.store.model_call_failed(run).await.map_err(store_failure)?;
                Ok(ModelCallEnd::Failed(error))
            }
        }
    }

    fn chat_span(
        &self,
        trace: &RunTrace,
        model: &dyn ChatModel,
        (max_tokens, request): (u32, Option<&ChatRequest>),
        started: chrono::DateTime<chrono::Utc>,
        end: ChatEnd<'_>,
    ) {
        if trace.is_enabled() {
            trace.chat(ChatCall { started, ended: self.clock.now(), model: model.id(), max_tokens, request, end });
        }
    }
}
