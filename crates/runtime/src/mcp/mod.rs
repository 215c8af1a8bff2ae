//! Steward as an MCP client: the servers of the `[mcp]` table
//! (`config.rs`), each held by a [`Connection`] (`connection.rs`: started
//! lazily, kept alive, restarted with backoff), whose tools become agents'
//! tools named `mcp.<server>.<tool>` (`tool.rs`). They go through the run's
//! tool round like built-in tools: the allowlist of the server (its `agents`,
//! `allow` and `deny`), approvals, idempotency keys, and a trace step
//! named after the tool (so after its server). A server's request for input
//! is answered by its `elicitation` setting (`elicitation.rs`). An HTTP
//! server with `auth = "oauth"` is authorized by OAuth 2.1 (`oauth.rs`).
//!
//! A server that cannot start, or whose tools cannot be listed, is a
//! problem reported in the run (its instruction step's notes and the
//! system prompt) and in the log, never a failed run.

mod config;
mod connection;
mod elicitation;
mod glob;
mod oauth;
mod tool;

use std::collections::BTreeMap;
use std::sync::Arc;

use steward_domain::Agent;

pub use config::{McpConfig, McpConfigError, McpServerConfig};
pub use connection::{Connection, SecretLookup, ServerState};
pub use elicitation::{ElicitationPolicy, defaults_of};
pub use glob::Glob;
pub use oauth::{AUTHORIZATIONS_PER_REQUEST, ClientSettings, FollowRedirect, NoUserAgent, OAuth, UserAgent};
pub use tool::{McpTool, PREFIX, cap, result_text};

use crate::tools::Tool;

/// Every configured server, by name.
pub struct McpServers {
    connections: BTreeMap<String, Arc<Connection>>,
}

impl std::fmt::Debug for McpServers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServers").field("servers", &self.connections.keys().collect::<Vec<_>>()).finish()
    }
}

/// The MCP tools an agent gets for a run, and the servers that failed.
#[derive(Default)]
pub struct AgentMcpTools {
    pub tools: Vec<Arc<dyn Tool>>,
    /// One sentence per server that could not be used, naming it.
    pub problems: Vec<String>,
}

/// What `steward mcp list` and the dashboard show of one server.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerReport {
    pub name: String,
    /// `stdio: npx -y …` or `http: https://…`.
    pub transport: String,
    pub state: ServerState,
    /// The tools offered to the agent (after allow and deny), by full name.
    pub tools: Vec<String>,
}

impl McpServers {
    /// The servers of `config` (checked already), none started.
    pub fn new(config: &McpConfig, secrets: SecretLookup) -> Self {
        let connections = config
            .servers
            .iter()
            .map(|(name, server)| {
                (name.clone(), Arc::new(Connection::new(name.clone(), server.clone(), secrets.clone())))
            })
            .collect();
        McpServers { connections }
    }

    pub fn is_empty(&self) -> bool {
        self.connections.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<Arc<Connection>> {
        self.connections.get(name).cloned()
    }

    pub fn names(&self) -> Vec<String> {
        self.connections.keys().cloned().collect()
    }

    fn serving<'a>(&'a self, agent: &'a Agent) -> impl Iterator<Item = &'a Arc<Connection>> {
        self.connections.values().filter(|connection| connection.config().serves(&agent.name))
    }

    /// The tools of every server `agent` gets, starting servers as needed
    /// (concurrently).
    pub async fn tools_for(&self, agent: &Agent) -> AgentMcpTools {
        let listed = futures::future::join_all(
            self.serving(agent).map(|connection| async move { (connection.clone(), connection.tools().await) }),
        )
        .await;
        let mut found = AgentMcpTools::default();
        for (connection, tools) in listed {
            match tools {
                Ok(tools) => found.tools.extend(offered(&connection, &tools).into_iter().map(|tool| {
                    let tool: Arc<dyn Tool> = Arc::new(tool);
                    tool
                })),
                Err(problem) => found.problems.push(problem),
            }
        }
        found
    }

    /// Each server `agent` gets, its state and the tools it offers (which
    /// starts it).
    pub async fn report_for(&self, agent: &Agent) -> Vec<ServerReport> {
        let mut reports = Vec::new();
        for connection in self.serving(agent) {
            let tools = match connection.tools().await {
                Ok(tools) => offered(connection, &tools).iter().map(|tool| tool.name().to_string()).collect(),
                Err(_) => Vec::new(),
            };
            reports.push(ServerReport {
                name: connection.name().to_string(),
                transport: transport_of(connection.config()),
                state: connection.state().await,
                tools,
            });
        }
        reports
    }
}

/// The tools `connection` offers after its allow and deny lists; tools
/// whose names a model provider cannot carry are skipped (and logged).
fn offered(connection: &Arc<Connection>, tools: &[rmcp::model::Tool]) -> Vec<McpTool> {
    tools
        .iter()
        .filter(|definition| connection.config().offers(&definition.name))
        .filter(|definition| {
            let usable = McpTool::has_usable_name(definition);
            if !usable {
                tracing::warn!(server = connection.name(), tool = %definition.name, "skipping an MCP tool whose name \
                    model providers cannot carry");
            }
            usable
        })
        .map(|definition| McpTool::new(connection.clone(), definition))
        .collect()
}

fn transport_of(config: &McpServerConfig) -> String {
    match (&config.url, &config.command) {
        (Some(url), _) => format!("http: {url}"),
        (None, Some(command)) => format!("stdio: {} {}", command, config.args.join(" ")).trim_end().to_string(),
        (None, None) => "none".to_string(),
    }
}
