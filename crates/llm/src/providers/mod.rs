//! The wire protocols. A [`ProviderClient`] is one configured provider (base
//! URL, key, pooled HTTP client, timeouts) that hands out chat and embedding
//! models speaking its protocol.

pub mod anthropic;
pub mod openai;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, LlmError};
use crate::http::{Timeouts, Transport};
use crate::model::{ChatModel, EmbeddingModel, ModelId};
use crate::pricing::ModelPrice;
use crate::secret::ApiKey;

/// Which wire protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Anthropic Messages (`POST {base}/v1/messages`).
    Anthropic,
    /// OpenAI Chat Completions (`POST {base}/chat/completions`); the base URL
    /// includes the version path (`https://api.openai.com/v1`).
    #[serde(rename = "openai")]
    OpenAi,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Anthropic => "anthropic",
            Protocol::OpenAi => "openai",
        }
    }
}

/// Which field an OpenAI-protocol request uses to cap the reply length.
/// OpenAI itself wants `max_completion_tokens` (and its reasoning models
/// reject `max_tokens`); most compatible servers only know `max_tokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenLimitField {
    #[default]
    MaxTokens,
    MaxCompletionTokens,
}

/// One configured provider.
#[derive(Debug, Clone)]
pub struct ProviderClient {
    name: String,
    protocol: Protocol,
    base_url: String,
    transport: Arc<Transport>,
    token_limit_field: TokenLimitField,
}

impl ProviderClient {
    /// `name` is the `provider` part of model names; `base_url` is what the
    /// official SDK of the protocol takes (Anthropic without `/v1`, OpenAI with it).
    pub fn new(
        name: impl Into<String>,
        protocol: Protocol,
        base_url: &str,
        api_key: Option<ApiKey>,
        timeouts: Timeouts,
    ) -> Result<Self, LlmError> {
        let name = name.into();
        let transport = Arc::new(Transport::new(name.clone(), api_key, timeouts)?);
        Ok(ProviderClient {
            name,
            protocol,
            base_url: base_url.trim_end_matches('/').to_owned(),
            transport,
            token_limit_field: TokenLimitField::default(),
        })
    }

    pub fn with_token_limit_field(mut self, field: TokenLimitField) -> Self {
        self.token_limit_field = field;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A chat model of this provider. `price` is `None` when unknown.
    pub fn chat_model(&self, model: &str, price: Option<ModelPrice>) -> Arc<dyn ChatModel> {
        let id = ModelId::new(&self.name, model);
        match self.protocol {
            Protocol::Anthropic => {
                Arc::new(anthropic::AnthropicChatModel::new(id, &self.base_url, Arc::clone(&self.transport), price))
            }
            Protocol::OpenAi => Arc::new(openai::OpenAiChatModel::new(
                id,
                &self.base_url,
                Arc::clone(&self.transport),
                price,
                self.token_limit_field,
            )),
        }
    }

    /// An embedding model of this provider; only the OpenAI protocol has an
    /// embeddings endpoint.
    pub fn embedding_model(&self, model: &str, price: Option<ModelPrice>) -> Result<Arc<dyn EmbeddingModel>, LlmError> {
        let id = ModelId::new(&self.name, model);
        match self.protocol {
            Protocol::OpenAi => {
                Ok(Arc::new(openai::OpenAiEmbeddingModel::new(id, &self.base_url, Arc::clone(&self.transport), price)))
            }
            Protocol::Anthropic => Err(LlmError::new(
                ErrorKind::NotConfigured,
                &self.name,
                "the Anthropic API has no embeddings endpoint; use an OpenAI-compatible provider for embeddings",
            )),
        }
    }
}
