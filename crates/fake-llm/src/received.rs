//! A request as the fake received it (headers and JSON body), with
//! protocol-neutral accessors so a responder can pick a reply by content.

use std::time::Instant;

use serde_json::Value;

/// Which wire protocol a request arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Anthropic,
    OpenAi,
}

/// Which endpoint a request arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/messages`
    AnthropicMessages,
    /// `POST /v1/chat/completions`
    OpenAiChatCompletions,
    /// `POST /v1/embeddings`
    OpenAiEmbeddings,
}

impl Endpoint {
    pub fn protocol(self) -> Protocol {
        match self {
            Endpoint::AnthropicMessages => Protocol::Anthropic,
            Endpoint::OpenAiChatCompletions | Endpoint::OpenAiEmbeddings => Protocol::OpenAi,
        }
    }
}

/// One received request. Header names are lower-case.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    /// Position in arrival order, from 0.
    pub sequence: u64,
    pub endpoint: Endpoint,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    /// The client's address and port: requests sharing it shared a connection.
    pub peer_address: Option<std::net::SocketAddr>,
    pub received_at: Instant,
}

impl ReceivedRequest {
    pub fn protocol(&self) -> Protocol {
        self.endpoint.protocol()
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header_name, _)| header_name.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn model(&self) -> Option<&str> {
        self.body.get("model").and_then(Value::as_str)
    }

    pub fn is_streaming(&self) -> bool {
        self.body.get("stream").and_then(Value::as_bool).unwrap_or(false)
    }

    /// The API key the client presented: for Anthropic `x-api-key` (or, as
    /// the 2.x Python SDK sends it, a bearer token); for OpenAI the bearer token.
    pub fn presented_api_key(&self) -> Option<&str> {
        let bearer = || self.header("authorization").and_then(|value| value.strip_prefix("Bearer "));
        match self.protocol() {
            Protocol::Anthropic => self.header("x-api-key").or_else(bearer),
            Protocol::OpenAi => bearer(),
        }
    }

    /// The system prompt: Anthropic's `system` (string or text blocks), or the
    /// OpenAI `system`/`developer` messages joined.
    pub fn system_text(&self) -> Option<String> {
        match self.protocol() {
            Protocol::Anthropic => self.body.get("system").map(text_of_content),
            Protocol::OpenAi => {
                let parts: Vec<String> = self
                    .messages()
                    .iter()
                    .filter(|message| matches!(role_of(message), "system" | "developer"))
                    .map(|message| message.get("content").map(text_of_content).unwrap_or_default())
                    .collect();
                if parts.is_empty() { None } else { Some(parts.join("\n")) }
            }
        }
    }

    /// The conversation messages (for OpenAI this includes system messages).
    pub fn messages(&self) -> &[Value] {
        self.body.get("messages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The text of the last user message, ignoring tool results.
    pub fn last_user_text(&self) -> Option<String> {
        self.messages()
            .iter()
            .rev()
            .filter(|message| role_of(message) == "user")
            .map(|message| message.get("content").map(text_of_content).unwrap_or_default())
            .find(|text| !text.is_empty())
    }

    /// The text of every user message in order, ignoring tool results (and
    /// messages that are only tool results).
    pub fn user_texts(&self) -> Vec<String> {
        self.messages()
            .iter()
            .filter(|message| role_of(message) == "user")
            .map(|message| message.get("content").map(text_of_content).unwrap_or_default())
            .filter(|text| !text.is_empty())
            .collect()
    }

    /// Whether any system or message text contains `needle`; handy for a
    /// responder that routes by a marker placed in each conversation.
    pub fn mentions(&self, needle: &str) -> bool {
        self.system_text().is_some_and(|text| text.contains(needle))
            || self
                .messages()
                .iter()
                .any(|message| message.get("content").map(text_of_content).is_some_and(|text| text.contains(needle)))
    }

    /// Number of tool results sent back so far (Anthropic `tool_result`
    /// blocks, OpenAI `tool` messages): how far a tool loop has come.
    pub fn tool_result_count(&self) -> usize {
        self.messages()
            .iter()
            .map(|message| match self.protocol() {
                Protocol::OpenAi => usize::from(role_of(message) == "tool"),
                Protocol::Anthropic => message
                    .get("content")
                    .and_then(Value::as_array)
                    .map(|blocks| blocks.iter().filter(|block| block_type(block) == "tool_result").count())
                    .unwrap_or(0),
            })
            .sum()
    }

    /// Rough size of the prompt in characters, for token estimates.
    pub(crate) fn prompt_char_count(&self) -> usize {
        let system = self.system_text().map(|text| text.chars().count()).unwrap_or(0);
        let messages: usize = match self.body.get("messages") {
            Some(messages) => messages.to_string().chars().count(),
            None => 0,
        };
        let tools = self.body.get("tools").map(|tools| tools.to_string().len()).unwrap_or(0);
        system + messages + tools
    }
}

fn role_of(message: &Value) -> &str {
    message.get("role").and_then(Value::as_str).unwrap_or("")
}

fn block_type(block: &Value) -> &str {
    block.get("type").and_then(Value::as_str).unwrap_or("")
}

/// Text of a `content` field in either protocol: a plain string, or an array
/// of parts of which the `text` ones count.
fn text_of_content(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter(|part| block_type(part) == "text")
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}
