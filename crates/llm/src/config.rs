//! The `[llm]` table of Steward's config file. Keys are never in it: a
//! provider names the environment variable that holds its key.
//!
//! ```toml
//! [llm]
//! default_model = "anthropic/claude-sonnet-4-5"
//! fallback_model = "openai/gpt-4.1-mini"
//!
//! [llm.providers.ollama]
//! protocol = "openai"                  # wire protocol: openai | anthropic
//! base_url = "http://localhost:11434/v1"
//! api_key_env = "OLLAMA_API_KEY"       # optional
//! models = ["llama3.2"]
//!
//! [llm.prices."openai/gpt-4.1-mini"]   # USD per million tokens
//! input = 0.40
//! output = 1.60
//! cache_read = 0.10
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::http::Timeouts;
use crate::pricing::ModelPrice;
use crate::providers::{Protocol, TokenLimitField};
use crate::retry::RetryPolicy;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// `provider/model` used when a command or agent names none.
    pub default_model: Option<String>,
    /// `provider/model` tried when a call fails for a transient reason after
    /// its retries.
    pub fallback_model: Option<String>,
    /// Providers besides (or overriding) the built-in `anthropic` and `openai`.
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Prices by `provider/model`, on top of the built-in table.
    pub prices: BTreeMap<String, ModelPrice>,
    pub retry: RetryConfig,
    pub timeouts: TimeoutConfig,
}

/// One provider. For the built-in names (`anthropic`, `openai`) every field
/// but `protocol` is optional and overrides the built-in value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub protocol: Protocol,
    /// As the protocol's official SDK takes it: Anthropic without `/v1`,
    /// OpenAI-compatible with it (`http://localhost:11434/v1`).
    #[serde(default)]
    pub base_url: Option<String>,
    /// The environment variable holding the key; none for keyless local servers.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Models to list in `steward models`; others can still be named.
    #[serde(default)]
    pub models: Vec<String>,
    /// OpenAI protocol only: `max_tokens` (default for compatible servers) or
    /// `max_completion_tokens` (what OpenAI itself wants).
    #[serde(default)]
    pub token_limit_field: Option<TokenLimitField>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    pub max_retries: u32,
    pub initial_delay_ms: u64,
    pub max_delay_ms: u64,
    /// A `retry-after` longer than this is not waited out; the error is returned.
    pub max_retry_after_secs: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        let policy = RetryPolicy::default();
        RetryConfig {
            max_retries: policy.max_retries,
            initial_delay_ms: u64::try_from(policy.initial_delay.as_millis()).unwrap_or(u64::MAX),
            max_delay_ms: u64::try_from(policy.max_delay.as_millis()).unwrap_or(u64::MAX),
            max_retry_after_secs: policy.max_retry_after.as_secs(),
        }
    }
}

impl RetryConfig {
    pub fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_retries: self.max_retries,
            initial_delay: Duration::from_millis(self.initial_delay_ms),
            max_delay: Duration::from_millis(self.max_delay_ms),
            max_retry_after: Duration::from_secs(self.max_retry_after_secs),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimeoutConfig {
    pub connect_secs: u64,
    /// Until the reply starts.
    pub first_byte_secs: u64,
    /// Longest silence inside a streamed reply.
    pub stream_idle_secs: u64,
}

impl Default for TimeoutConfig {
    fn default() -> Self {
        let timeouts = Timeouts::default();
        TimeoutConfig {
            connect_secs: timeouts.connect.as_secs(),
            first_byte_secs: timeouts.first_byte.as_secs(),
            stream_idle_secs: timeouts.stream_idle.as_secs(),
        }
    }
}

impl TimeoutConfig {
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(self.connect_secs),
            first_byte: Duration::from_secs(self.first_byte_secs),
            stream_idle: Duration::from_secs(self.stream_idle_secs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let text = r#"
            default_model = "anthropic/claude-sonnet-4-5"
            [providers.ollama]
            protocol = "openai"
            base_url = "http://localhost:11434/v1"
            api_key_env = "OLLAMA_API_KEY"
            models = ["llama3.2"]
            [prices."openai/gpt-4.1-mini"]
            input = 0.40
            output = 1.60
            [retry]
            max_retries = 5
        "#;
        let config: LlmConfig = toml::from_str(text).unwrap();
        assert_eq!(config.providers["ollama"].protocol, Protocol::OpenAi);
        assert_eq!(config.prices["openai/gpt-4.1-mini"].cache_read, None);
        assert_eq!(config.retry.max_retries, 5);
        assert_eq!(config.retry.initial_delay_ms, 1000);
        assert_eq!(config.timeouts, TimeoutConfig::default());
    }

    #[test]
    fn typos_are_rejected() {
        let error =
            toml::from_str::<LlmConfig>("[providers.x]\nprotocol = \"openai\"\nbase_ur = \"http://x\"").unwrap_err();
        assert!(error.to_string().contains("base_ur"), "{error}");
    }
}
