//! Reading OpenAI `chat.completion.chunk`s: text deltas, tool-call deltas
//! keyed by index (id and name in the first, argument text after), the
//! finish reason, the usage chunk, `data: [DONE]`, and error objects.

use std::collections::BTreeMap;
use std::sync::Arc;

use eventsource_stream::Event;
use serde::Deserialize;
use serde_json::Value;

use crate::classify;
use crate::error::{ErrorKind, LlmError};
use crate::event::{StopReason, StreamEvent, ToolCall, Usage};
use crate::http::Transport;
use crate::streaming::{Decoded, EventDecoder};

#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Debug, Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: usize,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Debug, Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptTokensDetails>,
}

#[derive(Debug, Deserialize)]
struct PromptTokensDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Debug)]
struct OpenToolCall {
    tool_index: usize,
    id: String,
    name: String,
    arguments: String,
    finished: bool,
}

pub struct OpenAiDecoder {
    transport: Arc<Transport>,
    started: bool,
    /// Keyed by the wire index of the tool call.
    tool_calls: BTreeMap<usize, OpenToolCall>,
    finish_reason: Option<StopReason>,
    refused: bool,
    usage: Option<Usage>,
}

impl OpenAiDecoder {
    pub fn new(transport: Arc<Transport>) -> Self {
        OpenAiDecoder {
            transport,
            started: false,
            tool_calls: BTreeMap::new(),
            finish_reason: None,
            refused: false,
            usage: None,
        }
    }

    fn tool_call_delta(&mut self, delta: ToolCallDelta, out: &mut Vec<Decoded>) {
        let (name, arguments) = match delta.function {
            Some(function) => (function.name, function.arguments),
            None => (None, None),
        };
        let next_tool_index = self.tool_calls.len();
        let call = self.tool_calls.entry(delta.index).or_insert_with(|| {
            let id = delta.id.clone().unwrap_or_else(|| format!("call_{}", delta.index));
            let name = name.clone().unwrap_or_default();
            out.push(Decoded::Event(StreamEvent::ToolCallStarted {
                index: next_tool_index,
                id: id.clone(),
                name: name.clone(),
            }));
            OpenToolCall { tool_index: next_tool_index, id, name, arguments: String::new(), finished: false }
        });
        if let Some(fragment) = arguments.filter(|fragment| !fragment.is_empty()) {
            call.arguments.push_str(&fragment);
            out.push(Decoded::Event(StreamEvent::ToolCallArgumentsDelta { index: call.tool_index, fragment }));
        }
    }

    fn finish_tool_calls(&mut self, out: &mut Vec<Decoded>) {
        for call in self.tool_calls.values_mut().filter(|call| !call.finished) {
            call.finished = true;
            let finished = ToolCall::from_arguments_text(call.id.clone(), call.name.clone(), &call.arguments);
            out.push(Decoded::Event(StreamEvent::ToolCallFinished { index: call.tool_index, call: finished }));
        }
    }

    fn stop_reason(&self) -> StopReason {
        let reason = self.finish_reason.clone().unwrap_or(StopReason::EndTurn);
        match reason {
            StopReason::EndTurn if self.refused => StopReason::Refusal,
            // Some compatible servers say "stop" even when the model called tools.
            StopReason::EndTurn if !self.tool_calls.is_empty() => StopReason::ToolUse,
            other => other,
        }
    }
}

fn finish_reason(wire: &str) -> StopReason {
    match wire {
        "stop" => StopReason::EndTurn,
        "length" => StopReason::MaxTokens,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "content_filter" => StopReason::Refusal,
        other => StopReason::Other(other.to_owned()),
    }
}

impl EventDecoder for OpenAiDecoder {
    fn decode(&mut self, event: &Event, out: &mut Vec<Decoded>) -> Result<(), LlmError> {
        if event.data.trim() == "[DONE]" {
            self.finish_tool_calls(out);
            out.push(Decoded::Done { stop_reason: self.stop_reason(), usage: self.usage });
            return Ok(());
        }
        let chunk: Chunk = serde_json::from_str(&event.data).map_err(|error| {
            LlmError::new(
                ErrorKind::MalformedResponse,
                self.transport.source_name(),
                format!("unexpected chunk: {error} in `{}`", event.data),
            )
        })?;
        if let Some(error) = &chunk.error {
            return Err(classify::stream_error(
                self.transport.source_name(),
                &serde_json::json!({ "error": error }),
                |text| self.transport.redact(text),
            ));
        }
        if !self.started {
            self.started = true;
            out.push(Decoded::Event(StreamEvent::Started {
                response_id: chunk.id.clone(),
                provider_model: chunk.model.clone().unwrap_or_default(),
            }));
        }
        // Only the first choice is read; Steward never asks for more (`n` is 1).
        for choice in chunk.choices.into_iter().filter(|choice| choice.index == 0) {
            if let Some(delta) = choice.delta {
                if let Some(text) = delta.content.filter(|text| !text.is_empty()) {
                    out.push(Decoded::Event(StreamEvent::TextDelta { text }));
                }
                if let Some(refusal) = delta.refusal.filter(|text| !text.is_empty()) {
                    self.refused = true;
                    out.push(Decoded::Event(StreamEvent::TextDelta { text: refusal }));
                }
                for tool_call in delta.tool_calls.unwrap_or_default() {
                    self.tool_call_delta(tool_call, out);
                }
            }
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(finish_reason(&reason));
                self.finish_tool_calls(out);
            }
        }
        if let Some(wire) = chunk.usage {
            let cached = wire.prompt_tokens_details.and_then(|details| details.cached_tokens).unwrap_or(0);
            let usage = Usage {
                input_tokens: wire.prompt_tokens.saturating_sub(cached),
                output_tokens: wire.completion_tokens,
                cache_read_tokens: cached,
                cache_write_tokens: 0,
            };
            self.usage = Some(usage);
            out.push(Decoded::Event(StreamEvent::Usage { usage }));
        }
        Ok(())
    }
}
