//! A whole reply, and folding a stream of events into one.

use std::time::Duration;

use futures::StreamExt;

use crate::error::{ErrorKind, LlmError};
use crate::event::{ChatStream, Finish, StopReason, StreamEvent, ToolCall, Usage};
use crate::message::{ContentPart, Message, Role};
use crate::model_id::ModelId;

/// A complete reply.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatResponse {
    /// Text and tool-use parts in the order the model produced them; ready
    /// to append to the conversation with [`ChatResponse::to_assistant_message`].
    pub content: Vec<ContentPart>,
    /// The tool calls, with the raw arguments of any that were malformed.
    pub tool_calls: Vec<ToolCall>,
    pub stop_reason: StopReason,
    pub usage: Usage,
    /// `None` when unknown (no price for the model, or no usage reported).
    pub cost_usd: Option<f64>,
    /// The model that answered.
    pub model: ModelId,
    /// The model name the provider echoed back (may carry a date suffix).
    pub provider_model: String,
    pub response_id: Option<String>,
    pub time_to_first_token: Option<Duration>,
    pub elapsed: Duration,
}

impl ChatResponse {
    /// All text parts joined.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|part| match part {
                ContentPart::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The reply as an assistant message for the conversation history.
    pub fn to_assistant_message(&self) -> Message {
        Message::new(Role::Assistant, self.content.clone())
    }
}

/// Reads a stream to its end and assembles the reply. Fails with the
/// stream's error, or if the stream ends without its final event.
pub async fn collect_response(mut stream: ChatStream) -> Result<ChatResponse, LlmError> {
    let mut content: Vec<ContentPart> = Vec::new();
    let mut tool_calls = Vec::new();
    let mut provider_model = String::new();
    let mut response_id = None;
    while let Some(event) = stream.next().await {
        match event? {
            StreamEvent::Started { response_id: id, provider_model: model } => {
                response_id = id;
                provider_model = model;
            }
            StreamEvent::TextDelta { text } => match content.last_mut() {
                Some(ContentPart::Text { text: current }) => current.push_str(&text),
                _ => content.push(ContentPart::Text { text }),
            },
            StreamEvent::ToolCallFinished { call, .. } => {
                content.push(ContentPart::ToolUse {
                    id: call.id.clone(),
                    name: call.name.clone(),
                    input: call.input.clone(),
                });
                tool_calls.push(call);
            }
            StreamEvent::ToolCallStarted { .. }
            | StreamEvent::ToolCallArgumentsDelta { .. }
            | StreamEvent::Usage { .. } => {}
            StreamEvent::Finished(Finish { stop_reason, usage, cost_usd, model, time_to_first_token, elapsed }) => {
                return Ok(ChatResponse {
                    content,
                    tool_calls,
                    stop_reason,
                    usage,
                    cost_usd,
                    model,
                    provider_model,
                    response_id,
                    time_to_first_token,
                    elapsed,
                });
            }
        }
    }
    Err(LlmError::new(ErrorKind::Connection, "llm", "the reply stream ended before its final event"))
}
