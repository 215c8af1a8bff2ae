//! The `provider/model` name that identifies a model, below the events,
//! replies and traits that carry it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::LlmError;

/// A model named `provider/model`, e.g. `anthropic/claude-sonnet-4-5`. The
/// model part may itself contain slashes (`openrouter/meta-llama/llama-3-70b`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ModelId {
    provider: String,
    model: String,
}

impl ModelId {
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Self {
        ModelId { provider: provider.into(), model: model.into() }
    }

    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The model's name at its provider, as sent on the wire.
    pub fn model(&self) -> &str {
        &self.model
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.provider, self.model)
    }
}

impl FromStr for ModelId {
    type Err = LlmError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once('/') {
            Some((provider, model)) if !provider.is_empty() && !model.is_empty() => Ok(ModelId::new(provider, model)),
            _ => Err(LlmError::not_configured(format!(
                "model `{text}` is not of the form provider/model (for example anthropic/claude-sonnet-4-5)"
            ))),
        }
    }
}

impl TryFrom<String> for ModelId {
    type Error = LlmError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<ModelId> for String {
    fn from(id: ModelId) -> Self {
        id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_provider_and_model_at_the_first_slash() {
        let id: ModelId = "openrouter/meta-llama/llama-3-70b".parse().unwrap();
        assert_eq!((id.provider(), id.model()), ("openrouter", "meta-llama/llama-3-70b"));
        assert_eq!(id.to_string(), "openrouter/meta-llama/llama-3-70b");
        assert!("claude".parse::<ModelId>().is_err());
        assert!("/claude".parse::<ModelId>().is_err());
    }
}
