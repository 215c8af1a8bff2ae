//! Checks of an agent's model and tools before it is stored: a mistyped tool
//! or model name is refused at the door, naming the field and the closest
//! known name, instead of a run silently going without the tool or the first
//! chat failing with a server error.

use steward_domain::suggest::{did_you_mean, misspelling_of};
use steward_llm::KeyStatus;

use super::runtime::AgentRuntime;

/// Why an agent's equipment was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EquipmentProblemKind {
    /// A name this server does not know: a typo, or a provider not configured.
    Unknown,
    /// A known model whose provider has no API key on this server.
    NoKey,
    /// A known tool that cannot work on this machine (`shell.run` without
    /// bubblewrap).
    Unavailable,
}

/// A refused tool or model name, with the field it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EquipmentProblem {
    pub kind: EquipmentProblemKind,
    /// `model`, or `tools[2]`.
    pub field: String,
    pub message: String,
}

impl EquipmentProblem {
    fn unknown(field: impl Into<String>, message: String) -> Self {
        EquipmentProblem { kind: EquipmentProblemKind::Unknown, field: field.into(), message }
    }
}

impl AgentRuntime {
    /// Refuses tool names no tool has and model names no provider can
    /// serve. `None` means "not given" (the default set, the default model).
    pub fn check_equipment(&self, model: Option<&str>, tools: Option<&[String]>) -> Result<(), EquipmentProblem> {
        if let Some(tools) = tools {
            self.check_tools(tools)?;
        }
        if let Some(model) = model {
            self.check_model(model.trim())?;
        }
        Ok(())
    }

    fn check_tools(&self, tools: &[String]) -> Result<(), EquipmentProblem> {
        let known = self.tools.tool_names();
        for (index, name) in tools.iter().enumerate() {
            if known.iter().any(|tool| tool == name) {
                if let Some(reason) = self.tools.unavailable(name) {
                    return Err(EquipmentProblem {
                        kind: EquipmentProblemKind::Unavailable,
                        field: format!("tools[{index}]"),
                        message: format!("`{name}` cannot be enabled on this server: {reason}"),
                    });
                }
            } else {
                return Err(EquipmentProblem::unknown(
                    format!("tools[{index}]"),
                    format!(
                        "unknown tool `{name}`{}; the tools are: {}",
                        did_you_mean(name, known.iter().map(String::as_str)),
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_model(&self, name: &str) -> Result<(), EquipmentProblem> {
        let providers = self.models.providers();
        // A name not of the form provider/model is refused by the agent's
        // own validation, with its own message.
        let Some((provider_name, model)) = name.split_once('/') else {
            return Ok(());
        };
        let Some(provider) = providers.iter().find(|provider| provider.name == provider_name) else {
            let names: Vec<&str> = providers.iter().map(|provider| provider.name.as_str()).collect();
            return Err(EquipmentProblem::unknown(
                "model",
                format!(
                    "unknown provider `{provider_name}` in `{name}`{}; the providers are: {}",
                    did_you_mean(provider_name, names.iter().copied()),
                    names.join(", ")
                ),
            ));
        };
        // A provider serves more models than it lists, so an unlisted model
        // is refused only when it is a misspelling of a listed one.
        if !provider.models.iter().any(|listed| listed == model)
            && let Some(meant) = misspelling_of(model, provider.models.iter().map(String::as_str))
        {
            return Err(EquipmentProblem::unknown(
                "model",
                format!("`{name}` is not a model {provider_name} lists; did you mean `{provider_name}/{meant}`?"),
            ));
        }
        if provider.key == KeyStatus::Missing {
            return Err(no_key(name, &provider.name, provider.api_key_env.as_deref()));
        }
        Ok(())
    }
}

fn no_key(model: &str, provider: &str, variable: Option<&str>) -> EquipmentProblem {
    let set = variable.map_or_else(|| "configure its API key".to_string(), |variable| format!("set {variable}"));
    EquipmentProblem {
        kind: EquipmentProblemKind::NoKey,
        field: "model".into(),
        message: format!(
            "`{model}` cannot be used here: provider {provider} has no API key on this server; {set} in the \
             environment of `steward serve` and restart it, or choose a model of a provider that has its key"
        ),
    }
}
