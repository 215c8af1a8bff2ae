//! `steward models`: the model providers and their models, whether each has
//! its key (never the key itself), prices, and the default model — as the
//! running server has them (`GET /api/v1/models`), since its environment,
//! not the CLI's, holds the keys agents use. `--offline` reads the local
//! configuration and environment instead, with no server.

use std::path::PathBuf;

use steward_server::api::{ModelsResponse, PriceBody, ProviderBody};

use crate::client::ApiClient;
use crate::commands::llm_setup::load_registry;
use crate::options::GlobalOptions;
use crate::output::{decimal, print_json, say};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  steward models\n  steward models --offline --home ./data")]
pub struct ModelsArgs {
    /// Read the local config.toml and environment instead of asking the server.
    #[arg(long)]
    pub offline: bool,

    /// With --offline: Steward's data directory, where config.toml is read from (default: STEWARD_HOME).
    #[arg(long, value_name = "DIR", requires = "offline")]
    pub home: Option<PathBuf>,
}

pub async fn run(args: ModelsArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let (models, raw) = if args.offline {
        let (_, registry) = load_registry(args.home, global)?;
        let models = ModelsResponse::from(&registry);
        let raw = serde_json::to_value(&models)?;
        (models, raw)
    } else {
        let client = ApiClient::new(&global.server_url()?)?;
        let reply = client.get::<ModelsResponse>("/models", &[]).await?;
        (reply.body, reply.raw)
    };
    if global.json {
        print_json(&raw);
        return Ok(());
    }
    print_table(&models);
    Ok(())
}

fn print_table(models: &ModelsResponse) {
    let mut table = crate::output::table(["model", "protocol", "base URL", "key", "$ / M in", "$ / M out"]);
    for provider in &models.providers {
        for model in &provider.models {
            let price = model.price_per_million_tokens;
            let dollars = |value: Option<f64>| value.map_or_else(|| "?".to_owned(), decimal);
            table.add_row([
                model.name.clone(),
                provider.protocol.clone(),
                provider.base_url.clone(),
                key_description(provider),
                dollars(price.map(|price: PriceBody| price.input)),
                dollars(price.map(|price: PriceBody| price.output)),
            ]);
        }
    }
    say!("{table}");
    match (&models.default_model, &models.default_model_problem) {
        (Some(model), _) => say!("Default model: {model}. Any provider/model name can be used, listed or not."),
        (None, Some(problem)) => say!("{problem}"),
        (None, None) => say!("No default model."),
    }
}

fn key_description(provider: &ProviderBody) -> String {
    let variable = provider.api_key_env.as_deref().unwrap_or("?");
    match provider.key.as_str() {
        "present" => format!("set ({variable})"),
        "missing" => format!("missing: set {variable}"),
        _ => "not needed".to_owned(),
    }
}
