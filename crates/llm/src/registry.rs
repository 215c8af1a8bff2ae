//! From configuration and environment to ready models: the built-in
//! `anthropic` and `openai` providers (keys and base URLs from the same
//! variables as the official SDKs), the providers of `[llm.providers]`, and
//! `provider/model` names resolved to models with retries and fallback.
//!
//! The environment is passed in as a function, so tests need not touch the
//! process environment.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use crate::config::{LlmConfig, ProviderConfig};
use crate::error::LlmError;
use crate::fallback::FallbackModel;
use crate::http::Timeouts;
use crate::model::{ChatModel, EmbeddingModel, ModelId};
use crate::pricing::{ModelPrice, PriceTable};
use crate::providers::{Protocol, ProviderClient, TokenLimitField};
use crate::retry::{Retrier, RetryingEmbeddingModel, RetryingModel};
use crate::secret::ApiKey;

pub const ANTHROPIC_API_KEY_ENV: &str = "ANTHROPIC_API_KEY";
pub const ANTHROPIC_BASE_URL_ENV: &str = "ANTHROPIC_BASE_URL";
pub const OPENAI_API_KEY_ENV: &str = "OPENAI_API_KEY";
pub const OPENAI_BASE_URL_ENV: &str = "OPENAI_BASE_URL";

const DEFAULT_ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
const BUILT_IN_ANTHROPIC_MODELS: &[&str] = &["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"];
const BUILT_IN_OPENAI_MODELS: &[&str] = &["gpt-4.1", "gpt-4.1-mini", "gpt-4o-mini", "text-embedding-3-small"];

/// Whether a provider can authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Present,
    /// The provider needs a key and its variable is unset or empty.
    Missing,
    /// A local server that takes no key.
    NotRequired,
}

/// A provider as `steward models` shows it; never holds the key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderSummary {
    pub name: String,
    pub protocol: Protocol,
    pub base_url: String,
    pub models: Vec<String>,
    pub key: KeyStatus,
    /// The variable the key is read from.
    pub api_key_env: Option<String>,
    pub built_in: bool,
}

impl ProviderSummary {
    pub fn is_usable(&self) -> bool {
        self.key != KeyStatus::Missing
    }
}

#[derive(Debug)]
struct ProviderEntry {
    summary: ProviderSummary,
    api_key: Option<ApiKey>,
    token_limit_field: TokenLimitField,
    /// Built on first use: creating an HTTP client loads TLS roots.
    client: OnceLock<Result<ProviderClient, LlmError>>,
}

/// Resolves `provider/model` names to ready models.
#[derive(Debug)]
pub struct ModelRegistry {
    providers: BTreeMap<String, ProviderEntry>,
    default_model: Option<String>,
    fallback_model: Option<String>,
    prices: PriceTable,
    timeouts: Timeouts,
    retrier: Retrier,
}

fn no_provider_message() -> String {
    format!(
        "no model provider is configured. Set {ANTHROPIC_API_KEY_ENV} (Anthropic) or {OPENAI_API_KEY_ENV} (OpenAI) — \
         {ANTHROPIC_BASE_URL_ENV} / {OPENAI_BASE_URL_ENV} point them at another server — or add an OpenAI-compatible \
         server to the config file:\n  [llm.providers.ollama]\n  protocol = \"openai\"\n  base_url = \"http://localhost:11434/v1\"\n  models = [\"llama3.2\"]"
    )
}

struct BuiltIn {
    name: &'static str,
    protocol: Protocol,
    key_env: &'static str,
    base_url_env: &'static str,
    default_base_url: &'static str,
    models: &'static [&'static str],
    token_limit_field: TokenLimitField,
}

const BUILT_INS: [BuiltIn; 2] = [
    BuiltIn {
        name: "anthropic",
        protocol: Protocol::Anthropic,
        key_env: ANTHROPIC_API_KEY_ENV,
        base_url_env: ANTHROPIC_BASE_URL_ENV,
        default_base_url: DEFAULT_ANTHROPIC_BASE_URL,
        models: BUILT_IN_ANTHROPIC_MODELS,
        token_limit_field: TokenLimitField::MaxTokens,
    },
    BuiltIn {
        name: "openai",
        protocol: Protocol::OpenAi,
        key_env: OPENAI_API_KEY_ENV,
        base_url_env: OPENAI_BASE_URL_ENV,
        default_base_url: DEFAULT_OPENAI_BASE_URL,
        models: BUILT_IN_OPENAI_MODELS,
        token_limit_field: TokenLimitField::MaxCompletionTokens,
    },
];

impl ModelRegistry {
    /// Builds the registry from the `[llm]` config and an environment lookup
    /// (`|name| std::env::var(name).ok()` in production).
    pub fn new(config: &LlmConfig, environment: &dyn Fn(&str) -> Option<String>) -> Result<Self, LlmError> {
        let lookup =
            |name: &str| environment(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
        let mut providers = BTreeMap::new();
        for built_in in &BUILT_INS {
            let overrides = config.providers.get(built_in.name);
            if let Some(overrides) = overrides
                && overrides.protocol != built_in.protocol
            {
                return Err(LlmError::not_configured(format!(
                    "llm.providers.{}.protocol must be \"{}\" (the name is reserved for the built-in provider)",
                    built_in.name,
                    built_in.protocol.as_str()
                )));
            }
            let key_env = overrides
                .and_then(|provider| provider.api_key_env.clone())
                .unwrap_or_else(|| built_in.key_env.to_owned());
            let base_url = lookup(built_in.base_url_env)
                .or_else(|| overrides.and_then(|provider| provider.base_url.clone()))
                .unwrap_or_else(|| built_in.default_base_url.to_owned());
            let models = match overrides {
                Some(provider) if !provider.models.is_empty() => provider.models.clone(),
                _ => built_in.models.iter().map(|model| (*model).to_owned()).collect(),
            };
            let api_key = lookup(&key_env).map(ApiKey::new);
            let summary = ProviderSummary {
                name: built_in.name.to_owned(),
                protocol: built_in.protocol,
                base_url,
                models,
                key: if api_key.is_some() { KeyStatus::Present } else { KeyStatus::Missing },
                api_key_env: Some(key_env),
                built_in: true,
            };
            let token_limit_field =
                overrides.and_then(|provider| provider.token_limit_field).unwrap_or(built_in.token_limit_field);
            providers.insert(
                built_in.name.to_owned(),
                ProviderEntry { summary, api_key, token_limit_field, client: OnceLock::new() },
            );
        }
        for (name, provider) in &config.providers {
            if providers.contains_key(name) {
                continue;
            }
            providers.insert(name.clone(), custom_provider(name, provider, &lookup)?);
        }
        Ok(ModelRegistry {
            providers,
            default_model: config.default_model.clone(),
            fallback_model: config.fallback_model.clone(),
            prices: PriceTable::built_in_with(&config.prices),
            timeouts: config.timeouts.timeouts(),
            retrier: Retrier::new(config.retry.policy()),
        })
    }

    /// [`ModelRegistry::new`] with the process environment.
    pub fn from_process_environment(config: &LlmConfig) -> Result<Self, LlmError> {
        ModelRegistry::new(config, &|name| std::env::var(name).ok())
    }

    /// Replaces the retry machinery (tests inject a recording sleeper).
    pub fn with_retrier(mut self, retrier: Retrier) -> Self {
        self.retrier = retrier;
        self
    }

    /// Every provider, usable or not, by name.
    pub fn providers(&self) -> Vec<ProviderSummary> {
        self.providers.values().map(|entry| entry.summary.clone()).collect()
    }

    pub fn has_usable_provider(&self) -> bool {
        self.providers.values().any(|entry| entry.summary.is_usable())
    }

    pub fn price_of(&self, model: &ModelId) -> Option<ModelPrice> {
        self.prices.price_of(model.provider(), model.model())
    }

    /// `provider/model`, or a bare model name that exactly one usable
    /// provider lists.
    pub fn resolve_name(&self, name: &str) -> Result<ModelId, LlmError> {
        if name.contains('/') {
            return name.parse();
        }
        let listing: Vec<&ProviderSummary> = self
            .providers
            .values()
            .map(|entry| &entry.summary)
            .filter(|summary| summary.is_usable() && summary.models.iter().any(|model| model == name))
            .collect();
        match listing.as_slice() {
            [only] => Ok(ModelId::new(&only.name, name)),
            [] => Err(LlmError::not_configured(format!(
                "no usable provider lists a model `{name}`; name it as provider/model"
            ))),
            several => {
                let names: Vec<String> = several.iter().map(|summary| format!("{}/{name}", summary.name)).collect();
                Err(LlmError::not_configured(format!("`{name}` is ambiguous; use one of {}", names.join(", "))))
            }
        }
    }

    /// The configured default model, or the first built-in or configured
    /// model that has a key.
    pub fn default_model(&self) -> Result<ModelId, LlmError> {
        if let Some(name) = &self.default_model {
            return self.resolve_name(name);
        }
        let preferred = [("anthropic", "claude-sonnet-4-5"), ("openai", "gpt-4.1-mini")];
        for (provider, model) in preferred {
            if self.providers.get(provider).is_some_and(|entry| entry.summary.is_usable()) {
                return Ok(ModelId::new(provider, model));
            }
        }
        self.providers
            .values()
            .filter(|entry| entry.summary.is_usable())
            .find_map(|entry| entry.summary.models.first().map(|model| ModelId::new(&entry.summary.name, model)))
            .ok_or_else(|| LlmError::not_configured(no_provider_message()))
    }

    fn client_for(&self, model: &ModelId) -> Result<&ProviderClient, LlmError> {
        let Some(entry) = self.providers.get(model.provider()) else {
            if !self.has_usable_provider() {
                return Err(LlmError::not_configured(no_provider_message()));
            }
            let known: Vec<&str> = self.providers.keys().map(String::as_str).collect();
            return Err(LlmError::not_configured(format!(
                "unknown provider `{}` in `{model}`; known providers: {}",
                model.provider(),
                known.join(", ")
            )));
        };
        if entry.summary.key == KeyStatus::Missing {
            let variable = entry.summary.api_key_env.as_deref().unwrap_or("its API key variable");
            return Err(LlmError::not_configured(format!("`{model}` needs an API key: set {variable}")));
        }
        let built = entry.client.get_or_init(|| {
            ProviderClient::new(
                &entry.summary.name,
                entry.summary.protocol,
                &entry.summary.base_url,
                entry.api_key.clone(),
                self.timeouts,
            )
            .map(|client| client.with_token_limit_field(entry.token_limit_field))
        });
        built.as_ref().map_err(Clone::clone)
    }

    fn retrying_chat_model(&self, model: &ModelId) -> Result<Arc<dyn ChatModel>, LlmError> {
        let raw = self.client_for(model)?.chat_model(model.model(), self.price_of(model));
        Ok(Arc::new(RetryingModel::new(raw, self.retrier.clone())))
    }

    /// A model with retries, and the configured fallback unless it is this model.
    pub fn chat_model(&self, name: &str) -> Result<Arc<dyn ChatModel>, LlmError> {
        let id = self.resolve_name(name)?;
        let primary = self.retrying_chat_model(&id)?;
        let Some(fallback_name) = &self.fallback_model else {
            return Ok(primary);
        };
        let fallback_id = self.resolve_name(fallback_name)?;
        if fallback_id == id {
            return Ok(primary);
        }
        let fallback = self.retrying_chat_model(&fallback_id).map_err(|error| {
            LlmError::not_configured(format!("the fallback model {fallback_id} cannot be used: {}", error.message()))
        })?;
        Ok(Arc::new(FallbackModel::new(primary, fallback)))
    }

    /// [`ModelRegistry::chat_model`] for the default model.
    pub fn default_chat_model(&self) -> Result<Arc<dyn ChatModel>, LlmError> {
        let id = self.default_model()?;
        self.chat_model(&id.to_string())
    }

    /// An embedding model with retries (OpenAI-protocol providers only), or
    /// `local:/dir`: a sentence-transformers model run on the CPU.
    pub fn embedding_model(&self, name: &str) -> Result<Arc<dyn EmbeddingModel>, LlmError> {
        if let Some(dir) = name.strip_prefix(LOCAL_PREFIX) {
            return local_embedding_model(std::path::Path::new(dir));
        }
        let id = self.resolve_name(name)?;
        let raw = self.client_for(&id)?.embedding_model(id.model(), self.price_of(&id))?;
        Ok(Arc::new(RetryingEmbeddingModel::new(raw, self.retrier.clone())))
    }
}

fn custom_provider(
    name: &str,
    provider: &ProviderConfig,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<ProviderEntry, LlmError> {
    let base_url = provider.base_url.clone().ok_or_else(|| {
        LlmError::not_configured(format!(
            "llm.providers.{name}.base_url is required (e.g. \"http://localhost:11434/v1\")"
        ))
    })?;
    let api_key = provider.api_key_env.as_deref().and_then(lookup).map(ApiKey::new);
    let key = match (&provider.api_key_env, &api_key) {
        (None, _) => KeyStatus::NotRequired,
        (Some(_), Some(_)) => KeyStatus::Present,
        (Some(_), None) => KeyStatus::Missing,
    };
    let summary = ProviderSummary {
        name: name.to_owned(),
        protocol: provider.protocol,
        base_url,
        models: provider.models.clone(),
        key,
        api_key_env: provider.api_key_env.clone(),
        built_in: false,
    };
    Ok(ProviderEntry {
        summary,
        api_key,
        token_limit_field: provider.token_limit_field.unwrap_or_default(),
        client: OnceLock::new(),
    })
}

/// The prefix of a local model's name: `local:/dir`.
pub const LOCAL_PREFIX: &str = "local:";

/// Loads the sentence-transformers model in `dir` (the part after
/// [`LOCAL_PREFIX`]). It reads the whole model from disk: call it once, off
/// the async threads, and share the model.
#[cfg(feature = "local-embeddings")]
pub fn local_embedding_model(dir: &std::path::Path) -> Result<Arc<dyn EmbeddingModel>, LlmError> {
    Ok(Arc::new(crate::local::LocalEmbeddingModel::load(dir)?))
}

/// Without the feature a local model is refused, saying how to get one.
#[cfg(not(feature = "local-embeddings"))]
pub fn local_embedding_model(dir: &std::path::Path) -> Result<Arc<dyn EmbeddingModel>, LlmError> {
    Err(LlmError::not_configured(format!(
        "the local embedding model {LOCAL_PREFIX}{} cannot be used: this steward was built without the cargo \
         feature `local-embeddings` (it is on by default; --no-default-features leaves it out). Build it with \
         `cargo build --release -p steward-cli --features local-embeddings`, or name an embeddings endpoint \
         (provider/model) instead",
        dir.display()
    )))
}
