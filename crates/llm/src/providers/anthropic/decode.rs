//! Reading the Anthropic event stream: `message_start`, `content_block_start`
//! / `_delta` (text and `input_json_delta`) / `_stop`, `message_delta`,
//! `message_stop`, `ping` and `error`. Unknown events are skipped, as the
//! API's versioning policy asks of clients.

use std::collections::HashMap;
use std::sync::Arc;

use eventsource_stream::Event;
use serde::Deserialize;
use serde_json::Value;

use crate::classify;
use crate::error::{ErrorKind, LlmError};
use crate::event::{StopReason, StreamEvent, ToolCall, Usage};
use crate::http::Transport;
use crate::providers::anthropic::STRUCTURED_OUTPUT_TOOL;
use crate::streaming::{Decoded, EventDecoder};

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireEvent {
    MessageStart {
        message: StartedMessage,
    },
    ContentBlockStart {
        index: usize,
        content_block: WireBlock,
    },
    ContentBlockDelta {
        index: usize,
        delta: WireDelta,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        delta: MessageDeltaBody,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop,
    Ping,
    Error {
        error: Value,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize)]
struct StartedMessage {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    model: String,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct MessageDeltaBody {
    #[serde(default)]
    stop_reason: Option<String>,
}

/// Every field is optional: `message_delta` may carry only some of them,
/// and a field it carries replaces the one from `message_start`.
#[derive(Debug, Default, Deserialize)]
struct WireUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
}

/// A content block that is still streaming.
#[derive(Debug)]
enum OpenBlock {
    Text,
    Tool {
        tool_index: usize,
        id: String,
        name: String,
        arguments: String,
    },
    /// The forced structured-output tool: its input is the reply's text.
    StructuredOutput,
    Ignored,
}

pub struct AnthropicDecoder {
    transport: Arc<Transport>,
    /// Whether the request forced the structured-output tool.
    structured_output: bool,
    open_blocks: HashMap<usize, OpenBlock>,
    next_tool_index: usize,
    usage: Usage,
    usage_reported: bool,
    stop_reason: Option<StopReason>,
}

impl AnthropicDecoder {
    pub fn new(transport: Arc<Transport>, structured_output: bool) -> Self {
        AnthropicDecoder {
            transport,
            structured_output,
            open_blocks: HashMap::new(),
            next_tool_index: 0,
            usage: Usage::default(),
            usage_reported: false,
            stop_reason: None,
        }
    }

    fn merge_usage(&mut self, wire: &WireUsage) {
        let fields = [
            (&mut self.usage.input_tokens, wire.input_tokens),
            (&mut self.usage.output_tokens, wire.output_tokens),
            (&mut self.usage.cache_write_tokens, wire.cache_creation_input_tokens),
            (&mut self.usage.cache_read_tokens, wire.cache_read_input_tokens),
        ];
        for (field, reported) in fields {
            if let Some(value) = reported {
                *field = value;
                self.usage_reported = true;
            }
        }
    }

    fn malformed(&self, what: impl std::fmt::Display) -> LlmError {
        LlmError::new(
            ErrorKind::MalformedResponse,
            self.transport.source_name(),
            format!("unexpected event stream: {what}"),
        )
    }

    fn start_block(&mut self, index: usize, block: WireBlock, out: &mut Vec<Decoded>) {
        let open = match block {
            WireBlock::Text { text } => {
                if !text.is_empty() {
                    out.push(Decoded::Event(StreamEvent::TextDelta { text }));
                }
                OpenBlock::Text
            }
            WireBlock::ToolUse { name, .. } if self.structured_output && name == STRUCTURED_OUTPUT_TOOL => {
                OpenBlock::StructuredOutput
            }
            WireBlock::ToolUse { id, name } => {
                let tool_index = self.next_tool_index;
                self.next_tool_index += 1;
                out.push(Decoded::Event(StreamEvent::ToolCallStarted {
                    index: tool_index,
                    id: id.clone(),
                    name: name.clone(),
                }));
                OpenBlock::Tool { tool_index, id, name, arguments: String::new() }
            }
            WireBlock::Other => OpenBlock::Ignored,
        };
        self.open_blocks.insert(index, open);
    }

    fn block_delta(&mut self, index: usize, delta: WireDelta, out: &mut Vec<Decoded>) -> Result<(), LlmError> {
        let Some(open) = self.open_blocks.get_mut(&index) else {
            return Err(self.malformed(format!("a delta for content block {index}, which was never started")));
        };
        match (open, delta) {
            (OpenBlock::Text, WireDelta::TextDelta { text }) => {
                out.push(Decoded::Event(StreamEvent::TextDelta { text }))
            }
            (OpenBlock::Tool { tool_index, arguments, .. }, WireDelta::InputJsonDelta { partial_json }) => {
                arguments.push_str(&partial_json);
                out.push(Decoded::Event(StreamEvent::ToolCallArgumentsDelta {
                    index: *tool_index,
                    fragment: partial_json,
                }));
            }
            (OpenBlock::StructuredOutput, WireDelta::InputJsonDelta { partial_json }) => {
                out.push(Decoded::Event(StreamEvent::TextDelta { text: partial_json }));
            }
            // Deltas this client does not use (thinking, citations, signatures).
            _ => {}
        }
        Ok(())
    }

    fn stop_block(&mut self, index: usize, out: &mut Vec<Decoded>) {
        if let Some(OpenBlock::Tool { tool_index, id, name, arguments }) = self.open_blocks.remove(&index) {
            let call = ToolCall::from_arguments_text(id, name, &arguments);
            out.push(Decoded::Event(StreamEvent::ToolCallFinished { index: tool_index, call }));
        }
    }
}

fn stop_reason(wire: &str) -> StopReason {
    match wire {
        "end_turn" => StopReason::EndTurn,
        "tool_use" => StopReason::ToolUse,
        "max_tokens" => StopReason::MaxTokens,
        "stop_sequence" => StopReason::StopSequence,
        "refusal" => StopReason::Refusal,
        other => StopReason::Other(other.to_owned()),
    }
}

impl EventDecoder for AnthropicDecoder {
    fn decode(&mut self, event: &Event, out: &mut Vec<Decoded>) -> Result<(), LlmError> {
        let wire: WireEvent = serde_json::from_str(&event.data)
            .map_err(|error| self.malformed(format!("{error} in `{}`", event.data)))?;
        match wire {
            WireEvent::MessageStart { message } => {
                out.push(Decoded::Event(StreamEvent::Started {
                    response_id: message.id,
                    provider_model: message.model,
                }));
                if let Some(usage) = &message.usage {
                    self.merge_usage(usage);
                    out.push(Decoded::Event(StreamEvent::Usage { usage: self.usage }));
                }
            }
            WireEvent::ContentBlockStart { index, content_block } => self.start_block(index, content_block, out),
            WireEvent::ContentBlockDelta { index, delta } => self.block_delta(index, delta, out)?,
            WireEvent::ContentBlockStop { index } => self.stop_block(index, out),
            WireEvent::MessageDelta { delta, usage } => {
                if let Some(reason) = delta.stop_reason {
                    let mut reason = stop_reason(&reason);
                    // The forced structured-output tool call is the answer, not a request for a tool.
                    if self.structured_output && reason == StopReason::ToolUse && self.next_tool_index == 0 {
                        reason = StopReason::EndTurn;
                    }
                    self.stop_reason = Some(reason);
                }
                if let Some(usage) = &usage {
                    self.merge_usage(usage);
                    out.push(Decoded::Event(StreamEvent::Usage { usage: self.usage }));
                }
            }
            WireEvent::MessageStop => {
                let stop_reason = self.stop_reason.take().unwrap_or(StopReason::EndTurn);
                out.push(Decoded::Done { stop_reason, usage: self.usage_reported.then_some(self.usage) });
            }
            WireEvent::Error { error } => {
                return Err(classify::stream_error(
                    self.transport.source_name(),
                    &serde_json::json!({ "error": error }),
                    |text| self.transport.redact(text),
                ));
            }
            WireEvent::Ping | WireEvent::Unknown => {}
        }
        Ok(())
    }
}
