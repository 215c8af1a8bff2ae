//! The provider-neutral request: system prompt, messages made of parts (text,
//! image, tool use, tool result), tools with JSON Schema, and the knobs that
//! both protocols share. Serializable so a conversation can be checkpointed.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
}

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImageSource {
    /// Inline bytes, base64-encoded, with their media type (`image/png` …).
    Base64 { media_type: String, data: String },
    /// A URL the provider fetches itself.
    Url { url: String },
}

/// One part of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    Text {
        text: String,
    },
    Image {
        source: ImageSource,
    },
    /// The model asked to call a tool (only in assistant messages).
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    /// The outcome of a tool call, sent back in a user message.
    ToolResult {
        tool_use_id: String,
        content: String,
        #[serde(default)]
        is_error: bool,
    },
}

impl ContentPart {
    pub fn text(text: impl Into<String>) -> Self {
        ContentPart::Text { text: text.into() }
    }

    pub fn tool_result(tool_use_id: impl Into<String>, content: impl Into<String>, is_error: bool) -> Self {
        ContentPart::ToolResult { tool_use_id: tool_use_id.into(), content: content.into(), is_error }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Vec<ContentPart>,
    /// Ask the provider to cache the prompt up to the end of this message
    /// (Anthropic `cache_control`; OpenAI caches prefixes by itself).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cache_breakpoint: bool,
}

impl Message {
    pub fn new(role: Role, content: Vec<ContentPart>) -> Self {
        Message { role, content, cache_breakpoint: false }
    }

    pub fn user(text: impl Into<String>) -> Self {
        Message::new(Role::User, vec![ContentPart::text(text)])
    }

    pub fn assistant(text: impl Into<String>) -> Self {
        Message::new(Role::Assistant, vec![ContentPart::text(text)])
    }

    /// A user message carrying tool results, the answer to an assistant's tool calls.
    pub fn tool_results(results: Vec<ContentPart>) -> Self {
        Message::new(Role::User, results)
    }

    pub fn with_cache_breakpoint(mut self) -> Self {
        self.cache_breakpoint = true;
        self
    }

    /// The text parts joined.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|part| match part {
                ContentPart::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    pub name: String,
    pub description: String,
    /// JSON Schema of the tool's input object. Shared: an agent runtime sends
    /// the same schemas with every call of every run, and a request is held
    /// for as long as its call lasts.
    pub input_schema: Arc<Value>,
}

impl ToolDefinition {
    pub fn new(name: impl Into<String>, description: impl Into<String>, input_schema: impl Into<Arc<Value>>) -> Self {
        ToolDefinition { name: name.into(), description: description.into(), input_schema: input_schema.into() }
    }
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    #[default]
    Auto,
    /// No tool calls.
    None,
    /// At least one tool call, any tool.
    Any,
    /// This tool.
    Tool { name: String },
}

/// The shape of the reply.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    #[default]
    Text,
    /// Some JSON object.
    Json,
    /// JSON matching this schema. OpenAI-protocol providers get
    /// `response_format: json_schema`; Anthropic gets a forced tool whose
    /// input is the schema, and its input is streamed back as text.
    JsonSchema {
        name: String,
        schema: Value,
        /// OpenAI strict mode; needs a schema that meets its restrictions.
        #[serde(default)]
        strict: bool,
    },
}

/// Everything a model call needs except the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub system: Option<String>,
    pub messages: Vec<Message>,
    #[serde(default)]
    pub tools: Vec<ToolDefinition>,
    #[serde(default)]
    pub tool_choice: ToolChoice,
    pub max_tokens: u32,
    pub temperature: Option<f64>,
    #[serde(default)]
    pub stop_sequences: Vec<String>,
    #[serde(default)]
    pub response_format: ResponseFormat,
    /// Cache the tools and system prompt (Anthropic puts `cache_control` on
    /// the system prompt, which covers the tools before it).
    #[serde(default)]
    pub cache_system_prompt: bool,
}

/// Used when a request does not say.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

impl ChatRequest {
    pub fn new(messages: Vec<Message>) -> Self {
        ChatRequest {
            system: None,
            messages,
            tools: Vec::new(),
            tool_choice: ToolChoice::Auto,
            max_tokens: DEFAULT_MAX_TOKENS,
            temperature: None,
            stop_sequences: Vec::new(),
            response_format: ResponseFormat::Text,
            cache_system_prompt: false,
        }
    }

    /// A one-turn request: a single user message.
    pub fn from_user_text(text: impl Into<String>) -> Self {
        ChatRequest::new(vec![Message::user(text)])
    }

    pub fn with_system(mut self, system: impl Into<String>) -> Self {
        self.system = Some(system.into());
        self
    }

    pub fn with_tools(mut self, tools: Vec<ToolDefinition>) -> Self {
        self.tools = tools;
        self
    }

    pub fn with_tool_choice(mut self, tool_choice: ToolChoice) -> Self {
        self.tool_choice = tool_choice;
        self
    }

    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    pub fn with_temperature(mut self, temperature: f64) -> Self {
        self.temperature = Some(temperature);
        self
    }

    pub fn with_stop_sequences(mut self, stop_sequences: Vec<String>) -> Self {
        self.stop_sequences = stop_sequences;
        self
    }

    pub fn with_response_format(mut self, response_format: ResponseFormat) -> Self {
        self.response_format = response_format;
        self
    }

    pub fn with_cached_system_prompt(mut self) -> Self {
        self.cache_system_prompt = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_serialize_as_tagged_parts_for_checkpoints() {
        let message = Message::new(
            Role::Assistant,
            vec![
                ContentPart::text("Checking."),
                ContentPart::ToolUse { id: "t1".into(), name: "search".into(), input: json!({"q": "x"}) },
            ],
        );
        let value = serde_json::to_value(&message).unwrap();
        assert_eq!(
            value,
            json!({"role": "assistant", "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "t1", "name": "search", "input": {"q": "x"}}
            ]})
        );
        assert_eq!(serde_json::from_value::<Message>(value).unwrap(), message);
    }
}
