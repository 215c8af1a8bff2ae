//! Message contents in the GenAI semantic conventions' JSON shapes
//! (`gen_ai.input.messages`, `gen_ai.output.messages`,
//! `gen_ai.system_instructions`), put on spans only when
//! `telemetry.capture_message_content` is on.

use serde_json::{Value, json};
use steward_llm::{ChatRequest, ChatResponse, ContentPart, Message, Role};

pub(crate) fn system_instructions(system: &str) -> String {
    json!([{ "type": "text", "content": system }]).to_string()
}

pub(crate) fn input_messages(request: &ChatRequest) -> String {
    Value::Array(request.messages.iter().map(message).collect()).to_string()
}

pub(crate) fn output_messages(response: &ChatResponse) -> String {
    let parts: Vec<Value> = response.content.iter().map(part).collect();
    json!([{ "role": "assistant", "parts": parts, "finish_reason": response.stop_reason.as_str() }]).to_string()
}

/// A run's instruction as its one input message.
pub(crate) fn user_text(text: &str) -> String {
    json!([{ "role": "user", "parts": [{ "type": "text", "content": text }] }]).to_string()
}

/// A run's final answer as its one output message.
pub(crate) fn assistant_text(text: &str) -> String {
    json!([{ "role": "assistant", "parts": [{ "type": "text", "content": text }], "finish_reason": "stop" }])
        .to_string()
}

fn message(message: &Message) -> Value {
    let role = match message.role {
        Role::User => "user",
        Role::Assistant => "assistant",
    };
    json!({ "role": role, "parts": message.content.iter().map(part).collect::<Vec<_>>() })
}

fn part(part: &ContentPart) -> Value {
    match part {
        ContentPart::Text { text } => json!({ "type": "text", "content": text }),
        ContentPart::Image { .. } => json!({ "type": "image" }),
        ContentPart::ToolUse { id, name, input } => {
            json!({ "type": "tool_call", "id": id, "name": name, "arguments": input })
        }
        ContentPart::ToolResult { tool_use_id, content, .. } => {
            json!({ "type": "tool_call_response", "id": tool_use_id, "response": content })
        }
    }
}
