//! The one trait the rest of Steward talks to ([`ChatModel`]) and its
//! embedding sibling.

use std::fmt;

use async_trait::async_trait;

use crate::error::LlmError;
use crate::event::ChatStream;
use crate::message::ChatRequest;
pub use crate::model_id::ModelId;
use crate::response::{ChatResponse, collect_response};

/// A chat model, ready to call. Used as `Arc<dyn ChatModel>`.
#[async_trait]
pub trait ChatModel: Send + Sync + fmt::Debug {
    /// The model this handle calls (with a fallback: the primary one).
    fn id(&self) -> &ModelId;

    /// Starts a call and streams the reply. Nothing happens until the stream
    /// is polled; errors, including failing to connect, arrive as its items.
    fn stream(&self, request: ChatRequest) -> ChatStream;

    /// Calls the model and waits for the whole reply.
    async fn complete(&self, request: ChatRequest) -> Result<ChatResponse, LlmError> {
        collect_response(self.stream(request)).await
    }
}

/// Embedding vectors for a batch of texts.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    /// One vector per input, in input order.
    pub vectors: Vec<Vec<f32>>,
    pub input_tokens: u64,
    /// `None` when the model has no known price.
    pub cost_usd: Option<f64>,
    pub model: ModelId,
}

/// A model that turns texts into vectors. Used as `Arc<dyn EmbeddingModel>`.
#[async_trait]
pub trait EmbeddingModel: Send + Sync + fmt::Debug {
    fn id(&self) -> &ModelId;

    async fn embed(&self, inputs: &[String]) -> Result<Embeddings, LlmError>;
}
