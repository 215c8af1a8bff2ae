//! What a model call streams back: text and tool-call deltas, usage, and a
//! final event with the stop reason, usage, cost and timing.

use std::pin::Pin;
use std::time::Duration;

use futures::Stream;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::LlmError;
use crate::model_id::ModelId;

/// Token counts as the provider reported them, normalised so the four
/// numbers never overlap: `input_tokens` excludes cached input (OpenAI's
/// `prompt_tokens` includes it; Anthropic's `input_tokens` does not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens billed at the full input price.
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read_tokens: u64,
    /// Input tokens written to the prompt cache.
    pub cache_write_tokens: u64,
}

impl Usage {
    /// All input tokens, cached or not.
    pub fn total_input_tokens(&self) -> u64 {
        self.input_tokens + self.cache_read_tokens + self.cache_write_tokens
    }

    /// Field-by-field sum, for totals across calls.
    pub fn add(&self, other: &Usage) -> Usage {
        Usage {
            input_tokens: self.input_tokens + other.input_tokens,
            output_tokens: self.output_tokens + other.output_tokens,
            cache_read_tokens: self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens: self.cache_write_tokens + other.cache_write_tokens,
        }
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// It finished its turn.
    EndTurn,
    /// It wants tool results before going on.
    ToolUse,
    /// It hit `max_tokens`.
    MaxTokens,
    /// It produced one of the stop sequences.
    StopSequence,
    /// It refused, or the provider's filter stopped it.
    Refusal,
    /// A reason this crate does not know, as the provider named it.
    Other(String),
}

impl StopReason {
    pub fn as_str(&self) -> &str {
        match self {
            StopReason::EndTurn => "end_turn",
            StopReason::ToolUse => "tool_use",
            StopReason::MaxTokens => "max_tokens",
            StopReason::StopSequence => "stop_sequence",
            StopReason::Refusal => "refusal",
            StopReason::Other(other) => other,
        }
    }
}

/// A complete tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The parsed arguments; `{}` when they were empty or not valid JSON.
    pub input: Value,
    /// The raw argument text when it was not valid JSON (a truncated reply,
    /// a sloppy model), so the caller can report it back as a tool error.
    pub malformed_input: Option<String>,
}

impl ToolCall {
    /// Parses the argument text accumulated from the stream.
    pub fn from_arguments_text(id: String, name: String, arguments: &str) -> Self {
        if arguments.trim().is_empty() {
            return ToolCall { id, name, input: Value::Object(Default::default()), malformed_input: None };
        }
        match serde_json::from_str::<Value>(arguments) {
            Ok(input @ Value::Object(_)) => ToolCall { id, name, input, malformed_input: None },
            _ => ToolCall {
                id,
                name,
                input: Value::Object(Default::default()),
                malformed_input: Some(arguments.to_owned()),
            },
        }
    }
}

/// The last event of every successful stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Finish {
    pub stop_reason: StopReason,
    pub usage: Usage,
    /// `None` when the model has no known price or the provider reported no
    /// usage: unknown, never a made-up $0.
    pub cost_usd: Option<f64>,
    /// The model that produced the reply (with a fallback, maybe not the one asked for).
    pub model: ModelId,
    /// From sending the request to the first text or tool-call event.
    pub time_to_first_token: Option<Duration>,
    /// From sending the request to this event.
    pub elapsed: Duration,
}

/// One event of a streamed reply. Tool calls are numbered from 0 in the
/// order they start, whatever the provider's own block numbering.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The provider accepted the request and started replying.
    Started {
        response_id: Option<String>,
        provider_model: String,
    },
    TextDelta {
        text: String,
    },
    ToolCallStarted {
        index: usize,
        id: String,
        name: String,
    },
    /// A piece of the tool call's JSON arguments.
    ToolCallArgumentsDelta {
        index: usize,
        fragment: String,
    },
    ToolCallFinished {
        index: usize,
        call: ToolCall,
    },
    /// Running token counts, whenever the provider reports them.
    Usage {
        usage: Usage,
    },
    Finished(Finish),
}

impl StreamEvent {
    /// Whether the event carries model output (as opposed to bookkeeping).
    pub fn is_output(&self) -> bool {
        matches!(
            self,
            StreamEvent::TextDelta { .. }
                | StreamEvent::ToolCallStarted { .. }
                | StreamEvent::ToolCallArgumentsDelta { .. }
                | StreamEvent::ToolCallFinished { .. }
                | StreamEvent::Finished(_)
        )
    }
}

/// A streamed reply. An `Err` item is the error event; nothing follows it.
pub type ChatStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, LlmError>> + Send>>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tool_call_arguments_are_parsed_or_kept_raw() {
        let good = ToolCall::from_arguments_text("a".into(), "f".into(), r#"{"x": 1}"#);
        assert_eq!((good.input, good.malformed_input), (json!({"x": 1}), None));
        let empty = ToolCall::from_arguments_text("a".into(), "f".into(), "");
        assert_eq!((empty.input, empty.malformed_input), (json!({}), None));
        let cut = ToolCall::from_arguments_text("a".into(), "f".into(), r#"{"x": "#);
        assert_eq!((cut.input, cut.malformed_input.as_deref()), (json!({}), Some(r#"{"x": "#)));
    }
}
