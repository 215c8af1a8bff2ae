//! The Anthropic Messages API: `POST {base}/v1/messages` with `x-api-key`
//! and `anthropic-version`, always streamed. This module builds the request
//! JSON; [`decode`] reads the event stream.

mod decode;

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::header::{ACCEPT, HeaderValue};
use serde_json::{Map, Value, json};

use crate::event::ChatStream;
use crate::http::Transport;
use crate::message::{ChatRequest, ContentPart, ImageSource, Message, ResponseFormat, Role, ToolChoice};
use crate::model::{ChatModel, ModelId};
use crate::pricing::ModelPrice;
use crate::streaming::{StreamedCall, run_streamed_call};

/// The API version this client is written against.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Anthropic has no JSON response format, so a JSON reply is requested by
/// forcing a call to a tool of this name whose input schema is the wanted
/// schema; its input is streamed back as text.
pub const STRUCTURED_OUTPUT_TOOL: &str = "structured_output";

/// A chat model reached over the Anthropic Messages API.
#[derive(Debug, Clone)]
pub struct AnthropicChatModel {
    id: ModelId,
    messages_url: String,
    transport: Arc<Transport>,
    price: Option<ModelPrice>,
}

impl AnthropicChatModel {
    pub(crate) fn new(id: ModelId, base_url: &str, transport: Arc<Transport>, price: Option<ModelPrice>) -> Self {
        AnthropicChatModel { id, messages_url: format!("{base_url}/v1/messages"), transport, price }
    }
}

#[async_trait]
impl ChatModel for AnthropicChatModel {
    fn id(&self) -> &ModelId {
        &self.id
    }

    fn stream(&self, request: ChatRequest) -> ChatStream {
        let body = request_body(self.id.model(), &request);
        let mut http_request = self
            .transport
            .post_json(&self.messages_url, body.to_string())
            .header("anthropic-version", ANTHROPIC_VERSION)
            .header(ACCEPT, HeaderValue::from_static("text/event-stream"));
        if let Some(key) = self.transport.secret_header("") {
            http_request = http_request.header("x-api-key", key);
        }
        let structured_output = !matches!(request.response_format, ResponseFormat::Text);
        let decoder = decode::AnthropicDecoder::new(Arc::clone(&self.transport), structured_output);
        let call = StreamedCall {
            transport: Arc::clone(&self.transport),
            request: http_request,
            model: self.id.clone(),
            price: self.price,
        };
        run_streamed_call(call, decoder)
    }
}

fn ephemeral_cache() -> Value {
    json!({ "type": "ephemeral" })
}

fn content_block(part: &ContentPart) -> Value {
    match part {
        ContentPart::Text { text } => json!({ "type": "text", "text": text }),
        ContentPart::Image { source: ImageSource::Base64 { media_type, data } } => {
            json!({ "type": "image", "source": { "type": "base64", "media_type": media_type, "data": data } })
        }
        ContentPart::Image { source: ImageSource::Url { url } } => {
            json!({ "type": "image", "source": { "type": "url", "url": url } })
        }
        ContentPart::ToolUse { id, name, input } => {
            json!({ "type": "tool_use", "id": id, "name": name, "input": input })
        }
        ContentPart::ToolResult { tool_use_id, content, is_error } => {
            let mut block = json!({ "type": "tool_result", "tool_use_id": tool_use_id, "content": content });
            if *is_error {
                block["is_error"] = Value::Bool(true);
            }
            block
        }
    }
}

fn wire_message(message: &Message) -> Value {
    let mut blocks: Vec<Value> = message.content.iter().map(content_block).collect();
    if message.cache_breakpoint
        && let Some(last) = blocks.last_mut()
    {
        last["cache_control"] = ephemeral_cache();
    }
    let role = match message.role {
        Role::User => "user",
        Role::Assistant => "assistant",
    };
    json!({ "role": role, "content": blocks })
}

fn wire_tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!({ "type": "auto" }),
        ToolChoice::None => json!({ "type": "none" }),
        ToolChoice::Any => json!({ "type": "any" }),
        ToolChoice::Tool { name } => json!({ "type": "tool", "name": name }),
    }
}

/// The JSON body of a streamed `POST /v1/messages`.
pub fn request_body(model: &str, request: &ChatRequest) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("max_tokens".into(), json!(request.max_tokens));
    let mut tools: Vec<Value> = request
        .tools
        .iter()
        .map(|tool| json!({ "name": tool.name, "description": tool.description, "input_schema": tool.input_schema }))
        .collect();
    let mut tool_choice = (!tools.is_empty()).then(|| wire_tool_choice(&request.tool_choice));
    let structured_schema = match &request.response_format {
        ResponseFormat::Text => None,
        ResponseFormat::Json => Some(("a JSON object".to_owned(), json!({ "type": "object" }))),
        ResponseFormat::JsonSchema { name, schema, .. } => {
            Some((format!("the JSON described by the `{name}` schema"), schema.clone()))
        }
    };
    if let Some((what, schema)) = structured_schema {
        tools.push(json!({
            "name": STRUCTURED_OUTPUT_TOOL,
            "description": format!("Give your final answer by calling this tool with {what} as its input."),
            "input_schema": schema,
        }));
        tool_choice = Some(json!({ "type": "tool", "name": STRUCTURED_OUTPUT_TOOL }));
    }
    match &request.system {
        Some(system) => {
            let mut block = json!({ "type": "text", "text": system });
            if request.cache_system_prompt {
                block["cache_control"] = ephemeral_cache();
            }
            body.insert("system".into(), json!([block]));
        }
        // With no system prompt, the last tool ends the cacheable prefix.
        None if request.cache_system_prompt => {
            if let Some(last_tool) = tools.last_mut() {
                last_tool["cache_control"] = ephemeral_cache();
            }
        }
        None => {}
    }
    body.insert("messages".into(), Value::Array(request.messages.iter().map(wire_message).collect()));
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(tool_choice) = tool_choice {
        body.insert("tool_choice".into(), tool_choice);
    }
    if let Some(temperature) = request.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if !request.stop_sequences.is_empty() {
        body.insert("stop_sequences".into(), json!(request.stop_sequences));
    }
    body.insert("stream".into(), Value::Bool(true));
    Value::Object(body)
}
