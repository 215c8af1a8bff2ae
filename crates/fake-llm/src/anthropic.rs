//! The Anthropic Messages wire format as the fake writes it: the
//! non-streamed message object, the SSE event sequence (`message_start`,
//! `content_block_*`, `ping`, `message_delta`, `message_stop`) and the
//! `{"type":"error","error":{…}}` error shape.

use serde_json::{Value, json};

use crate::render::{ReplyContext, chunk_text};
use crate::script::{ErrorSpec, Reply, ReplyBlock, StopKind};

fn stop_reason(stop: StopKind) -> &'static str {
    match stop {
        StopKind::EndTurn => "end_turn",
        StopKind::ToolUse => "tool_use",
        StopKind::MaxTokens => "max_tokens",
        StopKind::StopSequence => "stop_sequence",
        StopKind::Refusal => "refusal",
    }
}

fn stop_sequence(reply: &Reply, context: &ReplyContext) -> Value {
    if reply.effective_stop() == StopKind::StopSequence {
        Value::String(context.first_stop_sequence.clone().unwrap_or_else(|| "\n\nHuman:".into()))
    } else {
        Value::Null
    }
}

fn tool_use_id(context: &ReplyContext, block_index: usize, scripted: Option<&String>) -> String {
    scripted.cloned().unwrap_or_else(|| format!("toolu_fake_{}_{block_index}", context.sequence))
}

fn usage_json(context: &ReplyContext) -> Value {
    json!({
        "input_tokens": context.usage.input_tokens,
        "cache_creation_input_tokens": context.usage.cache_write_tokens,
        "cache_read_input_tokens": context.usage.cache_read_tokens,
        "output_tokens": context.usage.output_tokens,
    })
}

fn message_id(context: &ReplyContext) -> String {
    format!("msg_fake_{}", context.sequence)
}

/// The body of a non-streamed `POST /v1/messages` reply.
pub fn message_body(reply: &Reply, context: &ReplyContext) -> Value {
    let content: Vec<Value> = reply
        .blocks
        .iter()
        .enumerate()
        .map(|(index, block)| match block {
            ReplyBlock::Text(text) => json!({ "type": "text", "text": text }),
            ReplyBlock::ToolCall { id, name, arguments_json } => json!({
                "type": "tool_use",
                "id": tool_use_id(context, index, id.as_ref()),
                "name": name,
                // A scripted argument text that is not JSON is passed as a string,
                // which is as close as this shape can get to a broken reply.
                "input": serde_json::from_str::<Value>(arguments_json).unwrap_or_else(|_| Value::String(arguments_json.clone())),
            }),
        })
        .collect();
    json!({
        "id": message_id(context),
        "type": "message",
        "role": "assistant",
        "model": context.model,
        "content": content,
        "stop_reason": stop_reason(reply.effective_stop()),
        "stop_sequence": stop_sequence(reply, context),
        "usage": usage_json(context),
    })
}

fn frame(event: &str, data: &Value) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

/// The SSE frames of a streamed reply, in order.
pub fn stream_frames(reply: &Reply, context: &ReplyContext) -> Vec<String> {
    let mut frames = Vec::new();
    let mut start_usage = usage_json(context);
    // The real API reports a provisional output count at the start.
    start_usage["output_tokens"] = json!(1);
    frames.push(frame(
        "message_start",
        &json!({
            "type": "message_start",
            "message": {
                "id": message_id(context),
                "type": "message",
                "role": "assistant",
                "model": context.model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": start_usage,
            }
        }),
    ));
    for (index, block) in reply.blocks.iter().enumerate() {
        let (content_block, deltas) = match block {
            ReplyBlock::Text(text) => (
                json!({ "type": "text", "text": "" }),
                chunk_text(text, reply.chunk_chars)
                    .map(|piece| json!({ "type": "text_delta", "text": piece }))
                    .collect::<Vec<_>>(),
            ),
            ReplyBlock::ToolCall { id, name, arguments_json } => (
                json!({ "type": "tool_use", "id": tool_use_id(context, index, id.as_ref()), "name": name, "input": {} }),
                chunk_text(arguments_json, reply.chunk_chars)
                    .map(|piece| json!({ "type": "input_json_delta", "partial_json": piece }))
                    .collect(),
            ),
        };
        frames.push(frame(
            "content_block_start",
            &json!({ "type": "content_block_start", "index": index, "content_block": content_block }),
        ));
        if index == 0 {
            frames.push(frame("ping", &json!({ "type": "ping" })));
        }
        for delta in deltas {
            frames.push(frame(
                "content_block_delta",
                &json!({ "type": "content_block_delta", "index": index, "delta": delta }),
            ));
        }
        frames.push(frame("content_block_stop", &json!({ "type": "content_block_stop", "index": index })));
    }
    frames.push(frame(
        "message_delta",
        &json!({
            "type": "message_delta",
            "delta": { "stop_reason": stop_reason(reply.effective_stop()), "stop_sequence": stop_sequence(reply, context) },
            "usage": { "output_tokens": context.usage.output_tokens },
        }),
    ));
    frames.push(frame("message_stop", &json!({ "type": "message_stop" })));
    frames
}

/// The error JSON Anthropic sends, with `{api_key}` in the message replaced by
/// the key the client presented.
pub fn error_body(error: &ErrorSpec, presented_api_key: Option<&str>, sequence: u64) -> Value {
    json!({
        "type": "error",
        "error": { "type": error.anthropic_type, "message": error.message.replace("{api_key}", presented_api_key.unwrap_or("")) },
        "request_id": format!("req_fake_{sequence}"),
    })
}

/// An `error` event inside a stream.
pub fn stream_error_frame(error: &ErrorSpec) -> String {
    frame("error", &json!({ "type": "error", "error": { "type": error.anthropic_type, "message": error.message } }))
}

/// The first problem that makes the real API reject a request with 400.
pub fn validate_request(body: &Value, anthropic_version: Option<&str>) -> Option<String> {
    if anthropic_version.is_none() {
        return Some("anthropic-version: header is required".into());
    }
    if body.get("model").and_then(Value::as_str).is_none() {
        return Some("model: Field required".into());
    }
    if body.get("max_tokens").and_then(Value::as_u64).is_none() {
        return Some("max_tokens: Field required".into());
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Some("messages: Field required".into());
    };
    if messages.first().and_then(|message| message.get("role")).and_then(Value::as_str) != Some("user") {
        return Some("messages: first message must use the \"user\" role".into());
    }
    for (index, message) in messages.iter().enumerate() {
        match message.get("role").and_then(Value::as_str) {
            Some("user" | "assistant") => {}
            _ => {
                return Some(format!("messages.{index}.role: Input should be 'user' or 'assistant'"));
            }
        }
    }
    None
}
