//! `steward mcp`: Steward and the Model Context Protocol.
//! - `mcp serve --stdio`: Steward's MCP server on standard input and output,
//!   for desktop MCP clients; it relays to the running server's `/mcp`
//!   (`mcp_stdio.rs`), so one process owns the data and authentication is
//!   the API's (`STEWARD_TOKEN` or `steward login`).
//! - `mcp list AGENT`: the MCP servers an agent gets, their state and tools,
//!   as the running server holds them.
//! - `mcp call SERVER TOOL JSON`: calls one tool of a configured server by
//!   hand, from this process (no server or run needed).

use std::path::PathBuf;

use anyhow::Context;
use serde_json::Value;
use steward_runtime::mcp::{McpServers, result_text};
use steward_server::api::mcp::McpServerListResponse;

use crate::client::ApiClient;
use crate::config::{Config, Overrides};
use crate::failure::CliFailure;
use crate::input::{AgentRef, parse_agent, resolve_agent};
use crate::options::GlobalOptions;
use crate::output::{or_dash, print_json, say, table};

#[derive(Debug, clap::Subcommand)]
pub enum McpCommand {
    /// Serve Steward's MCP server on standard input and output (for desktop MCP clients).
    #[command(after_help = "Example (a desktop client's configuration):\n  \
                            {\"command\": \"steward\", \"args\": [\"mcp\", \"serve\", \"--stdio\"]}")]
    Serve {
        /// Speak MCP on standard input and output (the only transport here;
        /// `steward serve` serves streamable HTTP at /mcp).
        #[arg(long, required = true)]
        stdio: bool,
    },
    /// The MCP servers an agent gets, their state and their tools.
    #[command(after_help = "Example:\n  steward mcp list researcher")]
    List {
        /// The agent's name or id.
        #[arg(value_parser = parse_agent)]
        agent: AgentRef,
    },
    /// Call a tool of a configured MCP server by hand.
    #[command(after_help = "Example:\n  steward mcp call everything echo '{\"message\": \"hi\"}'")]
    Call {
        /// The server's name in [mcp.servers].
        server: String,
        /// The tool's name on that server.
        tool: String,
        /// The arguments, a JSON object.
        #[arg(default_value = "{}")]
        arguments: String,
        /// Steward's data directory, whose config.toml names the servers (default: STEWARD_HOME).
        #[arg(long, value_name = "DIR")]
        home: Option<PathBuf>,
    },
}

pub async fn run(command: McpCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    match command {
        McpCommand::Serve { .. } => super::mcp_stdio::serve(global).await,
        McpCommand::List { agent } => list(&agent, global).await,
        McpCommand::Call { server, tool, arguments, home } => call(&server, &tool, &arguments, home, global).await,
    }
}

async fn list(agent: &AgentRef, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let id = resolve_agent(&client, agent).await?;
    let reply = client.get::<McpServerListResponse>(&format!("/agents/{id}/mcp"), &[]).await?;
    if global.json {
        print_json(&reply.raw);
        return Ok(());
    }
    if reply.body.servers.is_empty() {
        say!("Agent {agent} gets no MCP servers (add them under [mcp.servers] in config.toml).");
        return Ok(());
    }
    let mut listed = table(["server", "state", "transport", "tools"]);
    for server in &reply.body.servers {
        let state = match (&server.protocol, &server.error) {
            (Some(protocol), _) => format!("{} ({protocol})", server.state),
            (None, Some(error)) => format!("{}: {error}", server.state),
            (None, None) => server.state.clone(),
        };
        listed.add_row([
            server.name.clone(),
            state,
            server.transport.clone(),
            or_dash(Some(server.tools.join(", ").as_str()).filter(|tools| !tools.is_empty())),
        ]);
    }
    say!("{listed}");
    Ok(())
}

async fn call(
    server: &str,
    tool: &str,
    arguments: &str,
    home: Option<PathBuf>,
    global: &GlobalOptions,
) -> anyhow::Result<()> {
    let arguments: Value = serde_json::from_str(arguments)
        .map_err(|error| CliFailure::invalid("JSON", format!("the arguments are not JSON: {error}")))?;
    let Value::Object(arguments) = arguments else {
        return Err(
            CliFailure::invalid("JSON", "the arguments must be a JSON object, like {\"message\": \"hi\"}").into()
        );
    };
    let config = Config::load(&Overrides { home, ..Overrides::default() })?;
    let environment = crate::vault::environment(&config.home)?;
    let servers: std::sync::Arc<McpServers> = super::serve::mcp_servers(&config, &environment)?;
    let connection = servers.get(server).ok_or_else(|| {
        let known = servers.names();
        CliFailure::not_found(if known.is_empty() {
            format!("there is no MCP server {server:?}: [mcp.servers] is empty in config.toml")
        } else {
            format!("there is no MCP server {server:?}; the servers are: {}", known.join(", "))
        })
    })?;
    let result = connection.call(tool, arguments).await.map_err(|error| anyhow::anyhow!(error))?;
    if global.json {
        print_json(&serde_json::to_value(&result).context("the result")?);
    } else {
        say!("{}", result_text(&result));
    }
    if result.is_error == Some(true) {
        anyhow::bail!("the tool {tool} of {server} answered with an error");
    }
    Ok(())
}
