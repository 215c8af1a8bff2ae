//! `POST {base}/embeddings` on OpenAI and compatible servers.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::header::AUTHORIZATION;
use serde::Deserialize;
use serde_json::json;

use crate::error::{ErrorKind, LlmError};
use crate::event::Usage;
use crate::http::Transport;
use crate::model::{EmbeddingModel, Embeddings, ModelId};
use crate::pricing::ModelPrice;

#[derive(Debug, Deserialize)]
struct EmbeddingsReply {
    data: Vec<EmbeddingItem>,
    #[serde(default)]
    usage: Option<EmbeddingUsage>,
}

#[derive(Debug, Deserialize)]
struct EmbeddingItem {
    index: usize,
    embedding: Vec<f32>,
}

#[derive(Debug, Deserialize)]
struct EmbeddingUsage {
    #[serde(default)]
    prompt_tokens: u64,
}

/// An embedding model reached over the OpenAI embeddings API.
#[derive(Debug, Clone)]
pub struct OpenAiEmbeddingModel {
    id: ModelId,
    embeddings_url: String,
    transport: Arc<Transport>,
    price: Option<ModelPrice>,
}

impl OpenAiEmbeddingModel {
    pub(crate) fn new(id: ModelId, base_url: &str, transport: Arc<Transport>, price: Option<ModelPrice>) -> Self {
        OpenAiEmbeddingModel { id, embeddings_url: format!("{base_url}/embeddings"), transport, price }
    }

    fn malformed(&self, what: impl std::fmt::Display) -> LlmError {
        LlmError::new(
            ErrorKind::MalformedResponse,
            self.transport.source_name(),
            format!("unexpected embeddings reply: {what}"),
        )
    }
}

#[async_trait]
impl EmbeddingModel for OpenAiEmbeddingModel {
    fn id(&self) -> &ModelId {
        &self.id
    }

    async fn embed(&self, inputs: &[String]) -> Result<Embeddings, LlmError> {
        if inputs.is_empty() {
            return Ok(Embeddings {
                vectors: Vec::new(),
                input_tokens: 0,
                cost_usd: self.price.map(|_| 0.0),
                model: self.id.clone(),
            });
        }
        let body = json!({ "model": self.id.model(), "input": inputs, "encoding_format": "float" });
        let mut request = self.transport.post_json(&self.embeddings_url, body.to_string());
        if let Some(authorization) = self.transport.secret_header("Bearer ") {
            request = request.header(AUTHORIZATION, authorization);
        }
        let reply = self.transport.post_for_json(request).await?;
        let mut reply: EmbeddingsReply = serde_json::from_value(reply).map_err(|error| self.malformed(error))?;
        if reply.data.len() != inputs.len() {
            return Err(self.malformed(format!("{} vectors for {} inputs", reply.data.len(), inputs.len())));
        }
        reply.data.sort_by_key(|item| item.index);
        let input_tokens = reply.usage.as_ref().map(|usage| usage.prompt_tokens);
        let cost_usd = match (self.price, input_tokens) {
            (Some(price), Some(tokens)) => Some(price.cost_usd(&Usage { input_tokens: tokens, ..Usage::default() })),
            _ => None,
        };
        Ok(Embeddings {
            vectors: reply.data.into_iter().map(|item| item.embedding).collect(),
            input_tokens: input_tokens.unwrap_or(0),
            cost_usd,
            model: self.id.clone(),
        })
    }
}
