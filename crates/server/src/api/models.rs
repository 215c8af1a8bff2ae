//! `GET /api/v1/models`: the model providers this server has configured,
//! whether each has its key (never the key), their models with prices, and
//! the default model — what the server's agents can use, which may differ
//! from what the CLI's own environment holds.

use serde::{Deserialize, Serialize};
use steward_llm::registry::{KeyStatus, ModelRegistry};
use steward_llm::{ModelId, pricing::ModelPrice};
use utoipa::ToSchema;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelsResponse {
    /// The model agents use unless they name one; null when none can be chosen.
    pub default_model: Option<String>,
    /// Why there is no default model (no provider has a key), for a person.
    pub default_model_problem: Option<String>,
    pub providers: Vec<ProviderBody>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProviderBody {
    /// `anthropic`, `openai`, or a name from `[llm.providers]`.
    pub name: String,
    /// `anthropic` or `openai`: the wire protocol it speaks.
    pub protocol: String,
    pub base_url: String,
    /// `present`, `missing` or `not_required` (a local server); never the key.
    pub key: String,
    /// The environment variable the server reads the key from.
    pub api_key_env: Option<String>,
    /// Built in (Anthropic, OpenAI) rather than configured.
    pub built_in: bool,
    pub models: Vec<ModelBody>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelBody {
    /// `provider/model`.
    pub name: String,
    /// Null when the price is unknown (its cost is then not counted).
    pub price_per_million_tokens: Option<PriceBody>,
}

/// US dollars per million tokens.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PriceBody {
    pub input: f64,
    pub output: f64,
    pub cache_read: Option<f64>,
    pub cache_write: Option<f64>,
}

impl From<ModelPrice> for PriceBody {
    fn from(price: ModelPrice) -> Self {
        PriceBody {
            input: price.input,
            output: price.output,
            cache_read: price.cache_read,
            cache_write: price.cache_write,
        }
    }
}

impl From<&ModelRegistry> for ModelsResponse {
    fn from(registry: &ModelRegistry) -> Self {
        let providers = registry
            .providers()
            .into_iter()
            .map(|provider| ProviderBody {
                models: provider
                    .models
                    .iter()
                    .map(|model| ModelBody {
                        name: format!("{}/{model}", provider.name),
                        price_per_million_tokens: registry
                            .price_of(&ModelId::new(&provider.name, model))
                            .map(PriceBody::from),
                    })
                    .collect(),
                key: match provider.key {
                    KeyStatus::Present => "present",
                    KeyStatus::Missing => "missing",
                    KeyStatus::NotRequired => "not_required",
                }
                .to_string(),
                protocol: provider.protocol.as_str().to_string(),
                name: provider.name,
                base_url: provider.base_url,
                api_key_env: provider.api_key_env,
                built_in: provider.built_in,
            })
            .collect();
        let (default_model, default_model_problem) = match registry.default_model() {
            Ok(model) => (Some(model.to_string()), None),
            Err(error) => (None, Some(error.message().to_string())),
        };
        ModelsResponse { default_model, default_model_problem, providers }
    }
}
