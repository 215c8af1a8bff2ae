//! `steward tools`: the built-in tools an agent can be given — name, what
//! it does, whether it needs a person's approval (by default or through
//! `tools.require_approval`) — read from the local configuration, no server
//! needed; `--json` adds each tool's argument schema.

use std::path::PathBuf;

use serde_json::{Value, json};
use steward_runtime::agent::HomeToolsAndSkills;
use steward_runtime::tools::BuiltinTools;

use crate::config::{Config, Overrides};
use crate::options::GlobalOptions;
use crate::output::{print_json, say, table};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  steward tools\n  steward tools --json")]
pub struct ToolsArgs {
    /// Steward's data directory, whose config.toml says which tools need approval (default: STEWARD_HOME).
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
}

pub fn run(args: ToolsArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let config = Config::load(&Overrides { home: args.home, ..Overrides::default() })?;
    let builtins = BuiltinTools::new(&config.tools).map_err(|error| anyhow::anyhow!("invalid [tools]: {error}"))?;
    let registry = HomeToolsAndSkills::new(builtins, config.home.clone()).every_tool();
    let tools: Vec<_> = registry.names().into_iter().filter_map(|name| registry.get(&name)).collect();
    if global.json {
        let listed: Vec<Value> = tools
            .iter()
            .map(|tool| {
                json!({
                    "name": tool.name(),
                    "description": tool.description(),
                    "requires_approval": tool.requires_approval(),
                    "input_schema": tool.input_schema().as_ref(),
                })
            })
            .collect();
        print_json(&json!({ "tools": listed }));
        return Ok(());
    }
    let mut listed = table(["tool", "approval", "what it does"]);
    for tool in &tools {
        let approval = if tool.requires_approval() { "asks first" } else { "—" };
        let summary = tool.description().lines().next().unwrap_or_default().to_string();
        listed.add_row([tool.name().to_string(), approval.to_string(), summary]);
    }
    say!("{listed}");
    say!(
        "Give an agent some of them with `steward agent create … --tool NAME`; `--json` shows their argument schemas."
    );
    Ok(())
}
