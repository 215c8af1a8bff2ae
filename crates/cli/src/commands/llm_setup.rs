//! What the model commands share: loading the `[llm]` configuration and the
//! registry of providers, and turning a not-configured error into plain advice.

use std::path::PathBuf;

use steward_llm::{ErrorKind, LlmError, ModelRegistry};

use crate::config::{Config, Overrides};
use crate::options::GlobalOptions;

/// Loads the configuration (for its `[llm]` table), starts logging, and
/// builds the registry from the process environment.
pub fn load_registry(home: Option<PathBuf>, global: &GlobalOptions) -> anyhow::Result<(Config, ModelRegistry)> {
    let config = Config::load(&Overrides { home, ..Overrides::default() })?;
    crate::logging::init(global.log.as_deref(), "warn", global.log_format.unwrap_or(config.log_format));
    let environment = crate::vault::environment(&config.home)?;
    let registry = ModelRegistry::new(&config.llm, &|name| environment.get(name).cloned()).map_err(user_facing)?;
    Ok((config, registry))
}

/// A configuration problem reads as advice, without the error-kind prefix.
pub fn user_facing(error: LlmError) -> anyhow::Error {
    if error.kind() == ErrorKind::NotConfigured {
        anyhow::anyhow!("{}", error.message())
    } else {
        anyhow::Error::new(error)
    }
}

/// `$0.000123`, or `unknown` when there is no price.
pub fn format_cost(cost_usd: Option<f64>) -> String {
    match cost_usd {
        Some(0.0) => "$0".to_owned(),
        Some(cost) if cost < 0.01 => format!("${cost:.6}"),
        Some(cost) => format!("${cost:.4}"),
        None => "unknown (no price for this model)".to_owned(),
    }
}
