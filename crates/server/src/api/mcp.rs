//! `GET /api/v1/agents/{id}/mcp`: the MCP servers an agent gets, each with
//! its state (not started, running with its protocol revision, or failed
//! with the reason) and the tools it offers the agent.

use serde::{Deserialize, Serialize};
use steward_runtime::mcp::{ServerReport, ServerState};
use utoipa::ToSchema;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct McpServerListResponse {
    pub servers: Vec<McpServerBody>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct McpServerBody {
    /// The name in `[mcp.servers]`; its tools are `mcp.<name>.<tool>`.
    pub name: String,
    /// `stdio: <command and arguments>` or `http: <url>`.
    pub transport: String,
    /// `not_started`, `running` or `failed`.
    pub state: String,
    /// The protocol revision spoken, when running (`2025-11-25`, `2026-07-28`).
    pub protocol: Option<String>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Failed starts in a row (each waits longer before the next).
    pub failures: u32,
    /// The tools it offers the agent (after `allow` and `deny`), by full name.
    pub tools: Vec<String>,
}

impl From<ServerReport> for McpServerBody {
    fn from(report: ServerReport) -> Self {
        let (state, protocol, error, failures) = match report.state {
            ServerState::NotStarted => ("not_started", None, None, 0),
            ServerState::Running { protocol } => ("running", Some(protocol), None, 0),
            ServerState::Failed { error, failures } => ("failed", None, Some(error), failures),
        };
        McpServerBody {
            name: report.name,
            transport: report.transport,
            state: state.to_string(),
            protocol,
            error,
            failures,
            tools: report.tools,
        }
    }
}
