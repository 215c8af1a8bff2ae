//! Falling back to a second model when the first is unavailable (its
//! retries exhausted on a transient error) before it produced any output.

use std::sync::Arc;

use async_trait::async_trait;
use futures::FutureExt;
use futures::future::BoxFuture;

use crate::error::LlmError;
use crate::event::ChatStream;
use crate::message::ChatRequest;
use crate::model::{ChatModel, ModelId};
use crate::reattempt::{NextAttempt, reattempting_stream};
use crate::response::ChatResponse;

/// Calls `primary`; on a retryable failure calls `fallback` instead. The
/// reply's `model` says which one answered, so its cost is attributed right.
#[derive(Debug, Clone)]
pub struct FallbackModel {
    primary: Arc<dyn ChatModel>,
    fallback: Arc<dyn ChatModel>,
}

impl FallbackModel {
    pub fn new(primary: Arc<dyn ChatModel>, fallback: Arc<dyn ChatModel>) -> Self {
        FallbackModel { primary, fallback }
    }

    /// Only availability problems fall back; a bad request or a bad key would
    /// fail the same way (or leak the request to a provider for nothing).
    fn should_fall_back(error: &LlmError) -> bool {
        error.is_retryable()
    }

    fn note_fallback(&self, error: &LlmError) {
        tracing::warn!(primary = %self.primary.id(), fallback = %self.fallback.id(), %error, "falling back to another model");
    }
}

struct FallbackPlan {
    model: FallbackModel,
    request: Option<ChatRequest>,
}

impl NextAttempt for FallbackPlan {
    fn next_attempt<'a>(&'a mut self, error: &'a LlmError) -> BoxFuture<'a, Option<ChatStream>> {
        async move {
            if !FallbackModel::should_fall_back(error) {
                return None;
            }
            let request = self.request.take()?;
            self.model.note_fallback(error);
            Some(self.model.fallback.stream(request))
        }
        .boxed()
    }
}

#[async_trait]
impl ChatModel for FallbackModel {
    fn id(&self) -> &ModelId {
        self.primary.id()
    }

    fn stream(&self, request: ChatRequest) -> ChatStream {
        let first_attempt = self.primary.stream(request.clone());
        reattempting_stream(first_attempt, FallbackPlan { model: self.clone(), request: Some(request) })
    }

    async fn complete(&self, request: ChatRequest) -> Result<ChatResponse, LlmError> {
        match self.primary.complete(request.clone()).await {
            Err(error) if FallbackModel::should_fall_back(&error) => {
                self.note_fallback(&error);
                self.fallback.complete(request).await
            }
            outcome => outcome,
        }
    }
}
