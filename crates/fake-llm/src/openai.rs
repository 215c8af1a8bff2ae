//! The OpenAI Chat Completions wire format as the fake writes it: the
//! `chat.completion` object, the `chat.completion.chunk` SSE sequence ending
//! in `data: [DONE]` (with tool-call deltas by index and the optional usage
//! chunk), the `{"error":{…}}` error shape, and embeddings.

use serde_json::{Value, json};

use crate::render::{ReplyContext, chunk_text, estimate_tokens};
use crate::script::{ErrorSpec, Reply, ReplyBlock, StopKind};

/// A fixed creation time keeps replies reproducible.
const CREATED_UNIX_SECONDS: u64 = 1_750_000_000;

fn finish_reason(stop: StopKind) -> &'static str {
    match stop {
        StopKind::EndTurn | StopKind::StopSequence => "stop",
        StopKind::ToolUse => "tool_calls",
        StopKind::MaxTokens => "length",
        StopKind::Refusal => "content_filter",
    }
}

fn completion_id(context: &ReplyContext) -> String {
    format!("chatcmpl-fake-{}", context.sequence)
}

fn call_id(context: &ReplyContext, call_index: usize, scripted: Option<&String>) -> String {
    scripted.cloned().unwrap_or_else(|| format!("call_fake_{}_{call_index}", context.sequence))
}

fn usage_json(context: &ReplyContext) -> Value {
    let usage = context.usage;
    // OpenAI counts cached tokens inside prompt_tokens and has no cache writes.
    let prompt_tokens = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens;
    json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": prompt_tokens + usage.output_tokens,
        "prompt_tokens_details": { "cached_tokens": usage.cache_read_tokens, "audio_tokens": 0 },
        "completion_tokens_details": { "reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0 },
    })
}

/// The body of a non-streamed `POST /v1/chat/completions` reply.
pub fn completion_body(reply: &Reply, context: &ReplyContext) -> Value {
    let text: String = reply
        .blocks
        .iter()
        .filter_map(|block| match block {
            ReplyBlock::Text(text) => Some(text.as_str()),
            ReplyBlock::ToolCall { .. } => None,
        })
        .collect();
    let tool_calls: Vec<Value> = reply
        .blocks
        .iter()
        .filter_map(|block| match block {
            ReplyBlock::ToolCall { id, name, arguments_json } => Some((id, name, arguments_json)),
            ReplyBlock::Text(_) => None,
        })
        .enumerate()
        .map(|(call_index, (id, name, arguments_json))| {
            json!({
                "id": call_id(context, call_index, id.as_ref()),
                "type": "function",
                "function": { "name": name, "arguments": arguments_json },
            })
        })
        .collect();
    let has_text = reply.blocks.iter().any(|block| matches!(block, ReplyBlock::Text(_)));
    let mut message = json!({
        "role": "assistant",
        "content": if has_text { Value::String(text) } else { Value::Null },
        "refusal": null,
        "annotations": [],
    });
    if !tool_calls.is_empty() {
        message["tool_calls"] = Value::Array(tool_calls);
    }
    json!({
        "id": completion_id(context),
        "object": "chat.completion",
        "created": CREATED_UNIX_SECONDS,
        "model": context.model,
        "choices": [{ "index": 0, "message": message, "logprobs": null, "finish_reason": finish_reason(reply.effective_stop()) }],
        "usage": usage_json(context),
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    })
}

fn data_frame(data: &Value) -> String {
    format!("data: {data}\n\n")
}

fn chunk(context: &ReplyContext, choices: Value) -> Value {
    let mut chunk = json!({
        "id": completion_id(context),
        "object": "chat.completion.chunk",
        "created": CREATED_UNIX_SECONDS,
        "model": context.model,
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
        "choices": choices,
    });
    if context.include_usage_chunk {
        chunk["usage"] = Value::Null;
    }
    chunk
}

fn delta_chunk(context: &ReplyContext, delta: Value) -> Value {
    chunk(context, json!([{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": null }]))
}

/// The SSE frames of a streamed reply, in order, ending with `[DONE]`.
pub fn stream_frames(reply: &Reply, context: &ReplyContext) -> Vec<String> {
    let mut frames =
        vec![data_frame(&delta_chunk(context, json!({ "role": "assistant", "content": "", "refusal": null })))];
    let mut call_index = 0;
    for block in &reply.blocks {
        match block {
            ReplyBlock::Text(text) => {
                for piece in chunk_text(text, reply.chunk_chars) {
                    frames.push(data_frame(&delta_chunk(context, json!({ "content": piece }))));
                }
            }
            ReplyBlock::ToolCall { id, name, arguments_json } => {
                let opening = json!({ "tool_calls": [{
                    "index": call_index,
                    "id": call_id(context, call_index, id.as_ref()),
                    "type": "function",
                    "function": { "name": name, "arguments": "" },
                }]});
                frames.push(data_frame(&delta_chunk(context, opening)));
                for piece in chunk_text(arguments_json, reply.chunk_chars) {
                    let delta = json!({ "tool_calls": [{ "index": call_index, "function": { "arguments": piece } }] });
                    frames.push(data_frame(&delta_chunk(context, delta)));
                }
                call_index += 1;
            }
        }
    }
    let finish =
        json!([{ "index": 0, "delta": {}, "logprobs": null, "finish_reason": finish_reason(reply.effective_stop()) }]);
    frames.push(data_frame(&chunk(context, finish)));
    if context.include_usage_chunk {
        let mut usage_chunk = chunk(context, json!([]));
        usage_chunk["usage"] = usage_json(context);
        frames.push(data_frame(&usage_chunk));
    }
    frames.push("data: [DONE]\n\n".to_owned());
    frames
}

/// The error JSON OpenAI sends, with `{api_key}` in the message replaced by
/// the key the client presented.
pub fn error_body(error: &ErrorSpec, presented_api_key: Option<&str>) -> Value {
    json!({ "error": {
        "message": error.message.replace("{api_key}", presented_api_key.unwrap_or("")),
        "type": error.openai_type,
        "param": null,
        "code": error.openai_code,
    }})
}

/// An error object inside a stream, as OpenAI sends one.
pub fn stream_error_frame(error: &ErrorSpec) -> String {
    data_frame(&error_body(error, None))
}

/// The first problem that makes the real API reject a chat request with 400.
pub fn validate_chat_request(body: &Value) -> Option<String> {
    if body.get("model").and_then(Value::as_str).is_none() {
        return Some("you must provide a model parameter".into());
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Some("Missing required parameter: 'messages'.".into());
    };
    if messages.is_empty() {
        return Some("Invalid 'messages': empty array.".into());
    }
    for (index, message) in messages.iter().enumerate() {
        match message.get("role").and_then(Value::as_str) {
            Some("system" | "developer" | "user" | "assistant" | "tool") => {}
            _ => return Some(format!("Invalid value for 'messages[{index}].role'.")),
        }
    }
    None
}

/// Dimensions of a fake embedding unless the request asks for others.
pub const DEFAULT_EMBEDDING_DIMENSIONS: usize = 256;

/// The reply to `POST /v1/embeddings`: a deterministic hashed bag-of-words
/// vector per input, unit length, so texts that share words are close.
pub fn embeddings_body(body: &Value) -> Result<Value, String> {
    let inputs: Vec<String> = match body.get("input") {
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| "'input' must be a string or an array of strings".to_owned())
            })
            .collect::<Result<_, _>>()?,
        _ => return Err("Missing required parameter: 'input'.".into()),
    };
    let model = body.get("model").and_then(Value::as_str).ok_or("you must provide a model parameter")?;
    let dimensions = body
        .get("dimensions")
        .and_then(Value::as_u64)
        .and_then(|value| usize::try_from(value).ok())
        .unwrap_or(DEFAULT_EMBEDDING_DIMENSIONS)
        .max(1);
    let as_base64 = body.get("encoding_format").and_then(Value::as_str) == Some("base64");
    let mut total_tokens = 0;
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| {
            total_tokens += estimate_tokens(text.chars().count());
            let vector = hashed_embedding(text, dimensions);
            let embedding = if as_base64 { Value::String(base64_of_f32s(&vector)) } else { json!(vector) };
            json!({ "object": "embedding", "index": index, "embedding": embedding })
        })
        .collect();
    Ok(json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": { "prompt_tokens": total_tokens, "total_tokens": total_tokens },
    }))
}

fn hashed_embedding(text: &str, dimensions: usize) -> Vec<f32> {
    let mut vector = vec![0.0f32; dimensions];
    for word in text.split(|character: char| !character.is_alphanumeric()).filter(|word| !word.is_empty()) {
        let hash = fnv1a(word.to_lowercase().as_bytes());
        let bucket = usize::try_from(hash % dimensions as u64).unwrap_or(0);
        // The hash's top bit picks the sign so unrelated words do not all pile up positively.
        vector[bucket] += if hash >> 63 == 0 { 1.0 } else { -1.0 };
    }
    let norm = vector.iter().map(|value| value * value).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|value| *value /= norm);
    } else {
        vector[0] = 1.0;
    }
    vector
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

fn base64_of_f32s(values: &[f32]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = values.iter().flat_map(|value| value.to_le_bytes()).collect();
    let mut encoded = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let padded = [group[0], group.get(1).copied().unwrap_or(0), group.get(2).copied().unwrap_or(0)];
        let triple = u32::from(padded[0]) << 16 | u32::from(padded[1]) << 8 | u32::from(padded[2]);
        for position in 0..4 {
            if position <= group.len() {
                encoded.push(char::from(ALPHABET[((triple >> (18 - 6 * position)) & 0x3f) as usize]));
            } else {
                encoded.push('=');
            }
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64_of_f32s(&[1.0]), "AACAPw==");
        assert_eq!(base64_of_f32s(&[]), "");
    }

    #[test]
    fn texts_sharing_words_are_closer_than_unrelated_texts() {
        let cosine = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        let cats = hashed_embedding("the cat sat on the mat", 64);
        let more_cats = hashed_embedding("a cat on a mat", 64);
        let finance = hashed_embedding("quarterly revenue forecast", 64);
        assert!(cosine(&cats, &more_cats) > cosine(&cats, &finance));
    }
}
