//! What a test scripts the fake to answer: a [`Reply`] (text, tool calls,
//! usage, stop reason, pacing) or a [`Fault`] (an HTTP error, a hang, a broken
//! stream). Both are protocol-neutral; the protocol modules render them.

use std::time::Duration;

use serde_json::Value;

/// One scripted answer: either a well-formed reply or an injected fault.
#[derive(Debug, Clone)]
pub enum Script {
    Reply(Reply),
    Fault(Fault),
}

impl From<Reply> for Script {
    fn from(reply: Reply) -> Self {
        Script::Reply(reply)
    }
}

impl From<Fault> for Script {
    fn from(fault: Fault) -> Self {
        Script::Fault(fault)
    }
}

/// A piece of assistant output, in the order the model "produces" it.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyBlock {
    Text(String),
    ToolCall {
        /// `None` lets the fake invent a protocol-looking id (`toolu_…` or `call_…`).
        id: Option<String>,
        name: String,
        /// The raw JSON text of the arguments, streamed in pieces. Kept as a
        /// string so a test can also script arguments that are not valid JSON.
        arguments_json: String,
    },
}

/// Token counts the fake reports. `None` in a [`Reply`] means "estimate from
/// the request and reply sizes" (about four characters a token).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplyUsage {
    /// Input tokens that were neither read from nor written to the cache.
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
}

/// Why the reply ended, rendered as each protocol names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopKind {
    EndTurn,
    ToolUse,
    MaxTokens,
    StopSequence,
    /// Anthropic `refusal`, OpenAI `content_filter`.
    Refusal,
}

/// A well-formed reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub blocks: Vec<ReplyBlock>,
    pub usage: Option<ReplyUsage>,
    /// `None` derives it: tool calls present ⇒ tool use, else end of turn.
    pub stop: Option<StopKind>,
    /// The model name echoed back; `None` echoes the requested model.
    pub model: Option<String>,
    /// Streamed text and arguments are cut into pieces of this many characters.
    pub chunk_chars: usize,
    /// Wait this long before sending the response headers (a slow first byte).
    pub first_byte_delay: Duration,
    /// Wait this long between streamed events.
    pub delay_between_chunks: Duration,
}

impl Default for Reply {
    fn default() -> Self {
        Reply {
            blocks: Vec::new(),
            usage: None,
            stop: None,
            model: None,
            chunk_chars: 4,
            first_byte_delay: Duration::ZERO,
            delay_between_chunks: Duration::ZERO,
        }
    }
}

impl Reply {
    /// A reply that is one text block.
    pub fn text(text: impl Into<String>) -> Self {
        Reply::default().then_text(text)
    }

    /// A reply whose text is the given JSON value, serialized compactly.
    pub fn json(value: &Value) -> Self {
        Reply::text(value.to_string())
    }

    /// A reply that is a single tool call with the given arguments.
    pub fn tool_call(name: impl Into<String>, arguments: &Value) -> Self {
        Reply::default().then_tool_call(name, arguments)
    }

    /// Appends a text block.
    pub fn then_text(mut self, text: impl Into<String>) -> Self {
        self.blocks.push(ReplyBlock::Text(text.into()));
        self
    }

    /// Appends a tool call whose id the fake invents.
    pub fn then_tool_call(mut self, name: impl Into<String>, arguments: &Value) -> Self {
        self.blocks.push(ReplyBlock::ToolCall { id: None, name: name.into(), arguments_json: arguments.to_string() });
        self
    }

    /// Appends a tool call with a fixed id and raw argument text.
    pub fn then_tool_call_raw(
        mut self,
        id: impl Into<String>,
        name: impl Into<String>,
        arguments_json: impl Into<String>,
    ) -> Self {
        self.blocks.push(ReplyBlock::ToolCall {
            id: Some(id.into()),
            name: name.into(),
            arguments_json: arguments_json.into(),
        });
        self
    }

    pub fn with_usage(mut self, usage: ReplyUsage) -> Self {
        self.usage = Some(usage);
        self
    }

    pub fn with_stop(mut self, stop: StopKind) -> Self {
        self.stop = Some(stop);
        self
    }

    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    pub fn with_chunk_chars(mut self, chunk_chars: usize) -> Self {
        self.chunk_chars = chunk_chars.max(1);
        self
    }

    pub fn with_first_byte_delay(mut self, delay: Duration) -> Self {
        self.first_byte_delay = delay;
        self
    }

    pub fn with_delay_between_chunks(mut self, delay: Duration) -> Self {
        self.delay_between_chunks = delay;
        self
    }

    /// The stop reason to report: the scripted one, or derived from the blocks.
    pub fn effective_stop(&self) -> StopKind {
        self.stop.unwrap_or_else(|| {
            if self.blocks.iter().any(|block| matches!(block, ReplyBlock::ToolCall { .. })) {
                StopKind::ToolUse
            } else {
                StopKind::EndTurn
            }
        })
    }

    /// All text blocks joined, for token estimates.
    pub(crate) fn output_char_count(&self) -> usize {
        self.blocks
            .iter()
            .map(|block| match block {
                ReplyBlock::Text(text) => text.chars().count(),
                ReplyBlock::ToolCall { name, arguments_json, .. } => name.len() + arguments_json.chars().count(),
            })
            .sum()
    }
}

/// How a provider error is described, in terms both protocols can render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorSpec {
    pub status: u16,
    /// Anthropic `error.type` (e.g. `rate_limit_error`).
    pub anthropic_type: String,
    /// OpenAI `error.type` (e.g. `invalid_request_error`).
    pub openai_type: String,
    /// OpenAI `error.code` (e.g. `context_length_exceeded`).
    pub openai_code: Option<String>,
    pub message: String,
}

/// An injected failure.
#[derive(Debug, Clone)]
pub enum Fault {
    /// An HTTP error in the provider's own error JSON, with optional
    /// `retry-after` (whole seconds) and `retry-after-ms` headers.
    Http { error: ErrorSpec, retry_after_seconds: Option<u64>, retry_after_ms: Option<u64> },
    /// The reply starts streaming, then the connection is cut after this many
    /// events (for a non-streamed request: after part of the JSON body).
    CutMidStream { reply: Reply, after_events: usize },
    /// The reply starts streaming, then stops sending without closing.
    StallMidStream { reply: Reply, after_events: usize },
    /// After this many events, a frame whose data is not valid JSON.
    MalformedSse { reply: Reply, after_events: usize },
    /// After this many events, an error event in the provider's stream format.
    StreamError { reply: Reply, after_events: usize, error: ErrorSpec },
    /// Accept the request and never answer.
    Hang,
}

impl Fault {
    /// 429 with `retry-after: <seconds>`.
    pub fn rate_limited(retry_after_seconds: u64) -> Self {
        Fault::Http {
            error: ErrorSpec::rate_limited(),
            retry_after_seconds: Some(retry_after_seconds),
            retry_after_ms: None,
        }
    }

    /// 429 with `retry-after-ms: <milliseconds>` (and no `retry-after`).
    pub fn rate_limited_ms(retry_after_ms: u64) -> Self {
        Fault::Http {
            error: ErrorSpec::rate_limited(),
            retry_after_seconds: None,
            retry_after_ms: Some(retry_after_ms),
        }
    }

    /// 429 with no hint of when to come back.
    pub fn rate_limited_without_hint() -> Self {
        Fault::Http { error: ErrorSpec::rate_limited(), retry_after_seconds: None, retry_after_ms: None }
    }

    /// 500.
    pub fn server_error() -> Self {
        Fault::http(ErrorSpec {
            status: 500,
            anthropic_type: "api_error".into(),
            openai_type: "server_error".into(),
            openai_code: None,
            message: "Internal server error".into(),
        })
    }

    /// Anthropic 529 `overloaded_error`; OpenAI 503.
    pub fn overloaded() -> Self {
        Fault::http(ErrorSpec::overloaded())
    }

    /// 401 whose message quotes the key it was sent, as a careless provider
    /// might: the client must keep it out of its own error text.
    pub fn authentication_echoing_key() -> Self {
        Fault::http(ErrorSpec {
            status: 401,
            anthropic_type: "authentication_error".into(),
            openai_type: "invalid_request_error".into(),
            openai_code: Some("invalid_api_key".into()),
            message: "Incorrect API key provided: {api_key}".into(),
        })
    }

    /// 400 because the prompt does not fit the context window.
    pub fn context_too_long() -> Self {
        Fault::http(ErrorSpec {
            status: 400,
            anthropic_type: "invalid_request_error".into(),
            openai_type: "invalid_request_error".into(),
            openai_code: Some("context_length_exceeded".into()),
            message: "prompt is too long: 250000 tokens > 200000 maximum".into(),
        })
    }

    /// 400 with the given message.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Fault::http(ErrorSpec {
            status: 400,
            anthropic_type: "invalid_request_error".into(),
            openai_type: "invalid_request_error".into(),
            openai_code: None,
            message: message.into(),
        })
    }

    /// 400 because the provider's content filter refused the request.
    pub fn content_filtered() -> Self {
        Fault::http(ErrorSpec {
            status: 400,
            anthropic_type: "invalid_request_error".into(),
            openai_type: "invalid_request_error".into(),
            openai_code: Some("content_filter".into()),
            message: "The request was rejected by the content filter.".into(),
        })
    }

    pub fn http(error: ErrorSpec) -> Self {
        Fault::Http { error, retry_after_seconds: None, retry_after_ms: None }
    }

    pub fn cut_after(after_events: usize, reply: Reply) -> Self {
        Fault::CutMidStream { reply, after_events }
    }

    pub fn stall_after(after_events: usize, reply: Reply) -> Self {
        Fault::StallMidStream { reply, after_events }
    }

    pub fn malformed_after(after_events: usize, reply: Reply) -> Self {
        Fault::MalformedSse { reply, after_events }
    }

    /// An `overloaded` error event in the middle of a stream.
    pub fn overloaded_mid_stream(after_events: usize, reply: Reply) -> Self {
        Fault::StreamError { reply, after_events, error: ErrorSpec::overloaded() }
    }

    pub fn hang() -> Self {
        Fault::Hang
    }
}

impl ErrorSpec {
    fn rate_limited() -> Self {
        ErrorSpec {
            status: 429,
            anthropic_type: "rate_limit_error".into(),
            openai_type: "requests".into(),
            openai_code: Some("rate_limit_exceeded".into()),
            message: "Rate limit reached; slow down.".into(),
        }
    }

    fn overloaded() -> Self {
        ErrorSpec {
            status: 529,
            anthropic_type: "overloaded_error".into(),
            openai_type: "server_error".into(),
            openai_code: Some("overloaded".into()),
            message: "Overloaded".into(),
        }
    }

    /// OpenAI has no 529; an overloaded OpenAI answers 503.
    pub(crate) fn openai_status(&self) -> u16 {
        if self.status == 529 { 503 } else { self.status }
    }
}
