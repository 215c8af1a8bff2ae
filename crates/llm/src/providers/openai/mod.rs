//! The OpenAI Chat Completions API and every server that copies it (Ollama,
//! llama.cpp, vLLM, LM Studio, OpenRouter): `POST {base}/chat/completions`
//! with a bearer key, always streamed with `stream_options.include_usage`.
//! This module builds the request JSON; [`decode`] reads the chunks and
//! [`embeddings`] calls `POST {base}/embeddings`.

mod decode;
mod embeddings;

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde_json::{Map, Value, json};

pub use embeddings::OpenAiEmbeddingModel;

use crate::event::ChatStream;
use crate::http::Transport;
use crate::message::{ChatRequest, ContentPart, ImageSource, Message, ResponseFormat, Role, ToolChoice};
use crate::model::{ChatModel, ModelId};
use crate::pricing::ModelPrice;
use crate::providers::TokenLimitField;
use crate::streaming::{StreamedCall, run_streamed_call};

/// OpenAI has no error flag on tool results, so failed tool output is
/// marked in its text.
const TOOL_ERROR_PREFIX: &str = "Error: ";

/// A chat model reached over the OpenAI Chat Completions API.
#[derive(Debug, Clone)]
pub struct OpenAiChatModel {
    id: ModelId,
    completions_url: String,
    transport: Arc<Transport>,
    price: Option<ModelPrice>,
    token_limit_field: TokenLimitField,
}

impl OpenAiChatModel {
    pub(crate) fn new(
        id: ModelId,
        base_url: &str,
        transport: Arc<Transport>,
        price: Option<ModelPrice>,
        token_limit_field: TokenLimitField,
    ) -> Self {
        OpenAiChatModel {
            id,
            completions_url: format!("{base_url}/chat/completions"),
            transport,
            price,
            token_limit_field,
        }
    }
}

#[async_trait]
impl ChatModel for OpenAiChatModel {
    fn id(&self) -> &ModelId {
        &self.id
    }

    fn stream(&self, request: ChatRequest) -> ChatStream {
        let body = request_body(self.id.model(), &request, self.token_limit_field);
        let mut http_request = self
            .transport
            .post_json(&self.completions_url, body.to_string())
            .header(ACCEPT, HeaderValue::from_static("text/event-stream"));
        if let Some(authorization) = self.transport.secret_header("Bearer ") {
            http_request = http_request.header(AUTHORIZATION, authorization);
        }
        let decoder = decode::OpenAiDecoder::new(Arc::clone(&self.transport));
        let call = StreamedCall {
            transport: Arc::clone(&self.transport),
            request: http_request,
            model: self.id.clone(),
            price: self.price,
        };
        run_streamed_call(call, decoder)
    }
}

fn image_url(source: &ImageSource) -> String {
    match source {
        ImageSource::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
        ImageSource::Url { url } => url.clone(),
    }
}

/// One of our messages becomes one or more OpenAI messages: tool results
/// are separate `tool` messages, placed first so they follow the assistant
/// message that asked for them.
fn push_wire_messages(message: &Message, wire: &mut Vec<Value>) {
    match message.role {
        Role::Assistant => {
            let text = message.text();
            let tool_calls: Vec<Value> = message
                .content
                .iter()
                .filter_map(|part| match part {
                    ContentPart::ToolUse { id, name, input } => {
                        Some(json!({ "id": id, "type": "function", "function": { "name": name, "arguments": input.to_string() } }))
                    }
                    _ => None,
                })
                .collect();
            let mut assistant = json!({ "role": "assistant", "content": if text.is_empty() { Value::Null } else { Value::String(text) } });
            if !tool_calls.is_empty() {
                assistant["tool_calls"] = Value::Array(tool_calls);
            }
            wire.push(assistant);
        }
        Role::User => {
            let mut parts = Vec::new();
            for part in &message.content {
                match part {
                    ContentPart::ToolResult { tool_use_id, content, is_error } => {
                        let content = if *is_error { format!("{TOOL_ERROR_PREFIX}{content}") } else { content.clone() };
                        wire.push(json!({ "role": "tool", "tool_call_id": tool_use_id, "content": content }));
                    }
                    ContentPart::Text { text } => parts.push(json!({ "type": "text", "text": text })),
                    ContentPart::Image { source } => {
                        parts.push(json!({ "type": "image_url", "image_url": { "url": image_url(source) } }))
                    }
                    // A user message cannot carry tool calls; there is nothing to send.
                    ContentPart::ToolUse { .. } => {}
                }
            }
            let only_text = parts.iter().all(|part| part["type"] == "text");
            match parts.len() {
                0 => {}
                // Plain string content is understood by every compatible server.
                _ if only_text => wire.push(json!({ "role": "user", "content": message.text() })),
                _ => wire.push(json!({ "role": "user", "content": parts })),
            }
        }
    }
}

fn wire_tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Any => json!("required"),
        ToolChoice::Tool { name } => json!({ "type": "function", "function": { "name": name } }),
    }
}

/// The JSON body of a streamed `POST /chat/completions`.
pub fn request_body(model: &str, request: &ChatRequest, token_limit_field: TokenLimitField) -> Value {
    let mut messages = Vec::new();
    if let Some(system) = &request.system {
        messages.push(json!({ "role": "system", "content": system }));
    }
    for message in &request.messages {
        push_wire_messages(message, &mut messages);
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("messages".into(), Value::Array(messages));
    let limit_field = match token_limit_field {
        TokenLimitField::MaxTokens => "max_tokens",
        TokenLimitField::MaxCompletionTokens => "max_completion_tokens",
    };
    body.insert(limit_field.into(), json!(request.max_tokens));
    if let Some(temperature) = request.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if !request.stop_sequences.is_empty() {
        body.insert("stop".into(), json!(request.stop_sequences));
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|tool| json!({ "type": "function", "function": { "name": tool.name, "description": tool.description, "parameters": tool.input_schema } }))
            .collect();
        body.insert("tools".into(), Value::Array(tools));
        body.insert("tool_choice".into(), wire_tool_choice(&request.tool_choice));
    }
    match &request.response_format {
        ResponseFormat::Text => {}
        ResponseFormat::Json => {
            body.insert("response_format".into(), json!({ "type": "json_object" }));
        }
        ResponseFormat::JsonSchema { name, schema, strict } => {
            body.insert(
                "response_format".into(),
                json!({ "type": "json_schema", "json_schema": { "name": name, "schema": schema, "strict": strict } }),
            );
        }
    }
    body.insert("stream".into(), Value::Bool(true));
    body.insert("stream_options".into(), json!({ "include_usage": true }));
    Value::Object(body)
}
