//! An MCP server's tool as an agent's [`Tool`]: named `mcp.<server>.<tool>`,
//! with the server's JSON Schema, approval from the server's
//! `require_approval` globs, and a result turned into text for the model
//! (text parts as they are, other parts described, structured content as
//! JSON), cut at the server's `max_result_chars` with a note saying so.

use std::sync::Arc;

use async_trait::async_trait;
use rmcp::model::{CallToolResult, ContentBlock, Tool as McpToolDefinition};
use serde_json::Value;

use super::connection::Connection;
use crate::tools::{Tool, ToolContext, ToolError, ToolOutput};

/// The prefix of every MCP tool's name.
pub const PREFIX: &str = "mcp.";

/// One tool of one server.
pub struct McpTool {
    name: String,
    description: String,
    schema: Arc<Value>,
    remote_name: String,
    requires_approval: bool,
    connection: Arc<Connection>,
}

impl McpTool {
    pub fn new(connection: Arc<Connection>, definition: &McpToolDefinition) -> Self {
        let remote_name = definition.name.to_string();
        let description = definition
            .description
            .as_deref()
            .map_or_else(|| format!("{remote_name} (MCP server {})", connection.name()), str::to_string);
        McpTool {
            name: format!("{PREFIX}{}.{remote_name}", connection.name()),
            description,
            schema: Arc::new(Value::Object(definition.input_schema.as_ref().clone())),
            requires_approval: connection.config().needs_approval(&remote_name),
            remote_name,
            connection,
        }
    }

    /// Whether a provider can carry the tool's name: providers take
    /// `[a-zA-Z0-9_-]` and the dots become `__`.
    pub fn has_usable_name(definition: &McpToolDefinition) -> bool {
        !definition.name.is_empty()
            && definition.name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    }
}

#[async_trait]
impl Tool for McpTool {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn input_schema(&self) -> Arc<Value> {
        self.schema.clone()
    }

    fn requires_approval(&self) -> bool {
        self.requires_approval
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let arguments = match input {
            Value::Object(arguments) => arguments,
            Value::Null => serde_json::Map::new(),
            other => return Err(ToolError::InvalidInput(format!("the arguments must be an object, not {other}"))),
        };
        let called = tokio::select! {
            called = self.connection.call(&self.remote_name, arguments) => called,
            () = context.cancel.cancelled() => return Err(ToolError::Failed("the run was cancelled".into())),
        };
        let result = called.map_err(ToolError::Failed)?;
        let text = result_text(&result);
        let text = cap(text, self.connection.config().max_result_chars, self.connection.name());
        if result.is_error == Some(true) { Err(ToolError::Failed(text)) } else { Ok(ToolOutput::text(text)) }
    }
}

/// A call's result as the text the model reads.
pub fn result_text(result: &CallToolResult) -> String {
    let mut parts: Vec<String> = result.content.iter().map(describe).collect();
    if let Some(structured) = &result.structured_content
        && parts.iter().all(String::is_empty)
    {
        parts = vec![structured.to_string()];
    }
    parts.retain(|part| !part.is_empty());
    parts.join("\n")
}

fn describe(block: &ContentBlock) -> String {
    let value = serde_json::to_value(block).unwrap_or(Value::Null);
    let field = |name: &str| value.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
    match field("type").as_str() {
        "text" => field("text"),
        "image" | "audio" => {
            format!("[{} {}, {} bytes of base64]", field("type"), field("mimeType"), field("data").len())
        }
        "resource_link" => format!("[resource {} {}]", field("name"), field("uri")),
        "resource" => {
            let resource = value.get("resource").cloned().unwrap_or(Value::Null);
            let text = resource.get("text").and_then(Value::as_str);
            let uri = resource.get("uri").and_then(Value::as_str).unwrap_or_default();
            match text {
                Some(text) => format!("[resource {uri}]\n{text}"),
                None => format!("[resource {uri}, binary]"),
            }
        }
        other => format!("[{other} content]"),
    }
}

/// `text` cut at `max_chars` characters, with a note saying so.
pub fn cap(text: String, max_chars: usize, server: &str) -> String {
    let total = text.chars().count();
    if total <= max_chars {
        return text;
    }
    let mut kept: String = text.chars().take(max_chars).collect();
    kept.push_str(&format!(
        "\n… (truncated: the result was {total} characters; the first {max_chars} are shown \
         (mcp.servers.{server}.max_result_chars))"
    ));
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_results_are_cut_with_a_note() {
        assert_eq!(cap("short".into(), 10, "s"), "short");
        let cut = cap("x".repeat(30), 10, "everything");
        assert!(cut.starts_with(&"x".repeat(10)));
        assert!(cut.contains("the result was 30 characters"), "{cut}");
        assert!(cut.contains("mcp.servers.everything.max_result_chars"), "{cut}");
    }

    #[test]
    fn content_becomes_text() {
        let result = CallToolResult::success(vec![ContentBlock::text("hello"), ContentBlock::text("world")]);
        assert_eq!(result_text(&result), "hello\nworld");
        let structured = CallToolResult::structured(serde_json::json!({"sum": 3}));
        assert_eq!(result_text(&structured), "{\"sum\":3}");
    }
}
