//! `steward dev mcp-conformance-client URL`: Steward's MCP client as the
//! official conformance suite (`@modelcontextprotocol/conformance client`)
//! drives an SDK's client. The suite starts a scenario's server, runs this
//! command with the server's URL appended, and names the scenario, the
//! protocol revision and any context in `MCP_CONFORMANCE_SCENARIO`,
//! `MCP_CONFORMANCE_PROTOCOL_VERSION` and `MCP_CONFORMANCE_CONTEXT`.
//!
//! It uses the connection agents use (`steward_runtime::mcp::Connection`,
//! as `[mcp.servers]` configures it: that revision, forms answered with
//! their defaults): it lists the server's tools, then calls the tools the
//! context names, or else every listed tool with arguments made from its
//! schema. Every scenario is that one flow; the suite's server decides
//! what it exercises (SSE resumption, `input_required` rounds, headers).
//! One scenario asks for more: `json-schema-2020-12-preservation` wants a
//! tool's schema, as the client holds it, sent back through an echo tool;
//! it gets the schema an agent's model is offered (`McpTool::input_schema`).
//!
//! The `auth/` scenarios get the connection as `auth = "oauth"` configures
//! it (`steward_runtime::mcp::OAuth`), with the context's pre-registered
//! client if it names one, and the scenarios' client ID metadata document
//! URL; their authorization server approves without a person, so the
//! browser's part is to take its redirect (`FollowRedirect`).

use std::sync::Arc;

use anyhow::Context;
use rmcp::model::Tool as McpToolDefinition;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use steward_runtime::mcp::{Connection, FollowRedirect, McpServerConfig, McpTool, SecretLookup, result_text};
use steward_runtime::tools::Tool;

use crate::output::say;

/// The scenario's echo tool, and the tool whose schema it wants back.
const SCHEMA_ECHO_TOOL: &str = "json_schema_echo";
const SCHEMA_FOCAL_TOOL: &str = "json_schema_2020_12_tool";

/// The longest a call waits; below the suite's 30 s per scenario, so a
/// server that never answers fails here, with a message.
const CALL_TIMEOUT_SECS: u64 = 20;

/// The client ID metadata document the `auth/` scenarios accept as a
/// client ID (they do not fetch it).
const CLIENT_METADATA_URL: &str = "https://conformance-test.local/client-metadata.json";

/// Where the scenarios' authorization server redirects to; nothing listens.
const REDIRECT_URI: &str = "http://localhost:3000/callback";

#[derive(Debug, clap::Args)]
pub struct McpConformanceClientArgs {
    /// The scenario server's MCP endpoint (the suite appends it).
    pub url: String,
}

/// `MCP_CONFORMANCE_CONTEXT`: what some scenarios tell the client.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScenarioContext {
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
    /// A client pre-registered with the scenario's authorization server.
    #[serde(default, rename = "client_id")]
    client_id: Option<String>,
    #[serde(default, rename = "client_secret")]
    client_secret: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ToolCall {
    name: String,
    #[serde(default)]
    arguments: Map<String, Value>,
}

pub async fn run(args: McpConformanceClientArgs) -> anyhow::Result<()> {
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    let revision = std::env::var("MCP_CONFORMANCE_PROTOCOL_VERSION").unwrap_or_default();
    let context: ScenarioContext = match std::env::var("MCP_CONFORMANCE_CONTEXT") {
        Ok(text) => serde_json::from_str(&text).context("MCP_CONFORMANCE_CONTEXT is not the expected JSON")?,
        Err(_) => ScenarioContext::default(),
    };
    let oauth = scenario.starts_with("auth/");
    let config = McpServerConfig {
        url: Some(args.url.clone()),
        protocol: protocol_setting(&revision).to_string(),
        elicitation: "defaults".to_string(),
        timeout_secs: CALL_TIMEOUT_SECS,
        auth: if oauth { "oauth" } else { "none" }.to_string(),
        client_id: context.client_id.clone().filter(|_| oauth),
        client_secret: context.client_secret.clone().filter(|_| oauth),
        client_metadata_url: oauth.then(|| CLIENT_METADATA_URL.to_string()),
        ..McpServerConfig::default()
    };
    let no_secrets: SecretLookup = Arc::new(|_| None);
    let user_agent = Arc::new(FollowRedirect { redirect_uri: REDIRECT_URI.to_string() });
    let connection =
        Arc::new(Connection::new("conformance".to_string(), config, no_secrets).with_user_agent(user_agent));
    say!("scenario {scenario:?} ({revision}) against {}", args.url);

    let tools = connection.tools().await.map_err(anyhow::Error::msg)?;
    say!("{} tools: {}", tools.len(), tools.iter().map(|tool| tool.name.as_ref()).collect::<Vec<_>>().join(", "));
    let calls: Vec<ToolCall> = if context.tool_calls.is_empty() {
        tools.iter().map(|tool| call_for(&connection, tool, &tools)).collect()
    } else {
        context.tool_calls
    };
    let mut failures = Vec::new();
    for call in calls {
        match connection.call(&call.name, call.arguments).await {
            Ok(result) => say!("{}: {}", call.name, result_text(&result)),
            Err(error) => {
                say!("{}: failed: {error}", call.name);
                failures.push(call.name);
            }
        }
    }
    if !failures.is_empty() {
        anyhow::bail!("calls failed: {}", failures.join(", "));
    }
    Ok(())
}

/// The call of `tool` when the context names none: arguments made from its
/// schema, except for the schema-echo tool, which gets the focal tool's
/// schema as an agent's model is offered it.
fn call_for(connection: &Arc<Connection>, tool: &McpToolDefinition, tools: &[McpToolDefinition]) -> ToolCall {
    let focal = tools.iter().find(|tool| tool.name == SCHEMA_FOCAL_TOOL);
    let arguments = match focal {
        Some(focal) if tool.name == SCHEMA_ECHO_TOOL => {
            let offered = McpTool::new(connection.clone(), focal).input_schema();
            Map::from_iter([("schema".to_string(), offered.as_ref().clone())])
        }
        _ => arguments_for(&Value::Object(tool.input_schema.as_ref().clone())),
    };
    ToolCall { name: tool.name.to_string(), arguments }
}

/// The `protocol` setting for the revision the suite asks for.
fn protocol_setting(revision: &str) -> &'static str {
    match revision {
        "2026-07-28" => "2026-07-28",
        "" => "auto",
        _ => "2025-11-25",
    }
}

/// Arguments for a tool the context does not describe: a plain value for
/// each required property, by its type.
fn arguments_for(schema: &Value) -> Map<String, Value> {
    let required = schema.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
    required
        .iter()
        .filter_map(Value::as_str)
        .map(|name| {
            let kind = schema.pointer(&format!("/properties/{name}/type")).and_then(Value::as_str);
            let value = match kind {
                Some("number") | Some("integer") => json!(1),
                Some("boolean") => json!(true),
                Some("array") => json!([]),
                Some("object") => json!({}),
                _ => json!("test"),
            };
            (name.to_string(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_properties_get_a_value_of_their_type() {
        let schema = json!({
            "type": "object",
            "properties": {"a": {"type": "number"}, "b": {"type": "integer"}, "s": {"type": "string"}, "o": {"type": "boolean"}},
            "required": ["a", "b", "s"]
        });
        assert_eq!(Value::Object(arguments_for(&schema)), json!({"a": 1, "b": 1, "s": "test"}));
        assert_eq!(protocol_setting("2025-11-25"), "2025-11-25");
        assert_eq!(protocol_setting("2026-07-28"), "2026-07-28");
    }
}
