//! `steward models`: the configured providers and their models, whether each
//! has its key (never the key itself), prices, and the default model.

use crate::output::say;
use std::path::PathBuf;

use serde_json::{Value, json};
use steward_llm::{KeyStatus, ModelId, ModelRegistry, ProviderSummary};

use crate::commands::llm_setup::load_registry;
use crate::options::GlobalOptions;

#[derive(Debug, clap::Args)]
pub struct ModelsArgs {
    /// Steward's data directory, where config.toml is read from (default: STEWARD_HOME).
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
}

pub async fn run(args: ModelsArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let (_, registry) = load_registry(args.home, global)?;
    let providers = registry.providers();
    let default_model = registry.default_model();
    if global.json {
        let listed: Vec<Value> = providers.iter().map(|provider| provider_json(&registry, provider)).collect();
        let default = default_model.as_ref().ok().map(ModelId::to_string);
        crate::output::print_json(&json!({ "default_model": default, "providers": listed }));
        return Ok(());
    }
    let mut table = crate::output::table(["model", "protocol", "base URL", "key", "$ / M in", "$ / M out"]);
    for provider in &providers {
        for model in &provider.models {
            let price = registry.price_of(&ModelId::new(&provider.name, model));
            let dollars = |value: Option<f64>| value.map_or_else(|| "?".to_owned(), |value| format!("{value:.2}"));
            table.add_row([
                format!("{}/{model}", provider.name),
                provider.protocol.as_str().to_owned(),
                provider.base_url.clone(),
                key_description(provider),
                dollars(price.map(|price| price.input)),
                dollars(price.map(|price| price.output)),
            ]);
        }
    }
    say!("{table}");
    match default_model {
        Ok(model) => say!("Default model: {model}. Any provider/model name can be used, listed or not."),
        Err(error) => say!("{}", error.message()),
    }
    Ok(())
}

fn key_description(provider: &ProviderSummary) -> String {
    let variable = provider.api_key_env.as_deref().unwrap_or("?");
    match provider.key {
        KeyStatus::Present => format!("set ({variable})"),
        KeyStatus::Missing => format!("missing: set {variable}"),
        KeyStatus::NotRequired => "not needed".to_owned(),
    }
}

fn provider_json(registry: &ModelRegistry, provider: &ProviderSummary) -> Value {
    let models: Vec<Value> = provider
        .models
        .iter()
        .map(|model| {
            let price = registry.price_of(&ModelId::new(&provider.name, model));
            json!({ "name": format!("{}/{model}", provider.name), "price_per_million_tokens": price })
        })
        .collect();
    json!({
        "name": provider.name,
        "protocol": provider.protocol,
        "base_url": provider.base_url,
        "key": provider.key,
        "api_key_env": provider.api_key_env,
        "built_in": provider.built_in,
        "models": models,
    })
}
