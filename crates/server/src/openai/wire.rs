//! OpenAI's chat-completion wire format: the request as clients send it,
//! read field by field so a bad one is named (`messages[2].content[0].type`),
//! and the responses and stream chunks as clients parse them.
//!
//! Fields of the request Steward has no use for (`temperature`, `top_p`,
//! `user`, …) are accepted and ignored: the agent's own settings decide.
//! What cannot be honoured is refused rather than silently dropped:
//! client-side tools (the agent's tools run on the server), `n` above 1,
//! and content that is not text.

use serde::Serialize;
use serde_json::{Map, Value};
use steward_domain::ValidationError;
use steward_runtime::agent::{Conversation, Speaker};

/// A chat-completion request, checked.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CompletionRequest {
    /// The agent's name.
    pub model: String,
    pub conversation: Conversation,
    pub stream: bool,
    /// Whether a stream ends with a chunk carrying `usage`.
    pub include_usage: bool,
}

impl CompletionRequest {
    pub(crate) fn parse(body: &[u8]) -> Result<CompletionRequest, ValidationError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|error| ValidationError::new("body", format!("is not valid JSON: {error}")))?;
        let Value::Object(fields) = value else {
            return Err(ValidationError::new("body", "must be a JSON object"));
        };
        let model = match fields.get("model") {
            Some(Value::String(model)) if !model.trim().is_empty() => model.clone(),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(ValidationError::new(
                    "model",
                    "is required: the name of one of your agents (GET /v1/models lists them)",
                ));
            }
            Some(_) => return Err(ValidationError::new("model", "must be a string")),
        };
        let stream = flag(&fields, "stream")?;
        let include_usage = match fields.get("stream_options") {
            None | Some(Value::Null) => false,
            Some(Value::Object(options)) => flag(options, "include_usage")
                .map_err(|error| ValidationError::new(format!("stream_options.{}", error.field), error.message))?,
            Some(_) => return Err(ValidationError::new("stream_options", "must be an object")),
        };
        match fields.get("n") {
            None | Some(Value::Null) => {}
            Some(n) if n.as_u64() == Some(1) => {}
            Some(_) => return Err(ValidationError::new("n", "only 1 is supported: an agent gives one answer")),
        }
        for field in ["tools", "functions"] {
            if fields.get(field).is_some_and(|tools| !tools.is_null() && tools.as_array().is_none_or(|t| !t.is_empty()))
            {
                return Err(ValidationError::new(
                    field,
                    "client-side tools are not supported: the agent's own tools run on the server",
                ));
            }
        }
        let Some(Value::Array(messages)) = fields.get("messages") else {
            return Err(ValidationError::new("messages", "is required: an array of messages"));
        };
        let messages = messages
            .iter()
            .enumerate()
            .map(|(index, message)| parse_message(index, message))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CompletionRequest { model, conversation: Conversation { messages }, stream, include_usage })
    }
}

fn flag(fields: &Map<String, Value>, name: &str) -> Result<bool, ValidationError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(value)) => Ok(*value),
        Some(_) => Err(ValidationError::new(name, "must be true or false")),
    }
}

fn parse_message(index: usize, message: &Value) -> Result<(Speaker, String), ValidationError> {
    let at = |field: &str| format!("messages[{index}].{field}");
    let Value::Object(fields) = message else {
        return Err(ValidationError::new(format!("messages[{index}]"), "must be an object with role and content"));
    };
    let speaker = match fields.get("role").and_then(Value::as_str) {
        Some("system" | "developer") => Speaker::Client,
        Some("user") => Speaker::User,
        Some("assistant") => Speaker::Agent,
        Some("tool" | "function") => {
            return Err(ValidationError::new(
                at("role"),
                "tool results are not accepted: the agent's own tools run on the server",
            ));
        }
        Some(other) => {
            return Err(ValidationError::new(
                at("role"),
                format!("`{other}` is not a role; use system, developer, user or assistant"),
            ));
        }
        None => return Err(ValidationError::new(at("role"), "is required: system, developer, user or assistant")),
    };
    if speaker == Speaker::Agent && fields.get("tool_calls").is_some_and(|calls| !calls.is_null()) {
        return Err(ValidationError::new(
            at("tool_calls"),
            "client-side tool calls are not supported: the agent's own tools run on the server",
        ));
    }
    let text = match fields.get("content") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for (part_index, part) in parts.iter().enumerate() {
                let part_at = format!("messages[{index}].content[{part_index}]");
                match part.get("type").and_then(Value::as_str) {
                    Some("text") => match part.get("text") {
                        Some(Value::String(part_text)) => {
                            if !text.is_empty() {
                                text.push('\n');
                            }
                            text.push_str(part_text);
                        }
                        _ => return Err(ValidationError::new(format!("{part_at}.text"), "must be a string")),
                    },
                    Some(other) => {
                        return Err(ValidationError::new(
                            format!("{part_at}.type"),
                            format!("`{other}` content is not supported: only text"),
                        ));
                    }
                    None => return Err(ValidationError::new(format!("{part_at}.type"), "is required")),
                }
            }
            text
        }
        Some(Value::Null) | None if speaker == Speaker::Agent => String::new(),
        Some(Value::Null) | None => return Err(ValidationError::new(at("content"), "is required")),
        Some(_) => return Err(ValidationError::new(at("content"), "must be a string or an array of text parts")),
    };
    Ok((speaker, text))
}

/// Token counts as OpenAI reports them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub(crate) struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

impl Usage {
    /// From a run's totals: every input token (cached or not) is a prompt token.
    pub(crate) fn of(run: &steward_domain::RunUsage) -> Usage {
        let prompt_tokens = run.input_tokens + run.cache_read_tokens + run.cache_write_tokens;
        Usage { prompt_tokens, completion_tokens: run.output_tokens, total_tokens: prompt_tokens + run.output_tokens }
    }
}

/// Steward's extension of a response or chunk: the run behind it, and (in
/// a stream) a note on each tool call the agent makes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Extension {
    pub run_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ChatCompletion {
    pub id: String,
    pub object: &'static str,
    pub created: i64,
    pub model: String,
    pub choices: Vec<Choice>,
    pub usage: Usage,
    pub steward: Extension,
}

#[derive(Debug, Serialize)]
pub(crate) struct Choice {
    pub index: u32,
    pub message: AssistantMessage,
    pub finish_reason: &'static str,
    pub logprobs: Option<()>,
}

#[derive(Debug, Serialize)]
pub(crate) struct AssistantMessage {
    pub role: &'static str,
    pub content: String,
    pub refusal: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ChatCompletionChunk {
    pub id: String,
    pub object: &'static str,
    pub created: i64,
    pub model: String,
    pub choices: Vec<ChunkChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    pub steward: Extension,
}

#[derive(Debug, Serialize)]
pub(crate) struct ChunkChoice {
    pub index: u32,
    pub delta: Delta,
    pub finish_reason: Option<&'static str>,
    pub logprobs: Option<()>,
}

#[derive(Debug, Default, Serialize)]
pub(crate) struct Delta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ModelList {
    pub object: &'static str,
    pub data: Vec<Model>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Model {
    pub id: String,
    pub object: &'static str,
    pub created: i64,
    pub owned_by: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> Result<CompletionRequest, ValidationError> {
        CompletionRequest::parse(&serde_json::to_vec(&value).unwrap())
    }

    fn field_of(value: Value) -> String {
        parse(value).unwrap_err().field
    }

    #[test]
    fn a_request_as_the_sdk_sends_it_is_read() {
        let request = parse(json!({
            "model": "Writer", "stream": true, "stream_options": {"include_usage": true}, "temperature": 0.2,
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": "there"}]},
            ],
        }))
        .unwrap();
        assert_eq!(request.model, "Writer");
        assert!(request.stream && request.include_usage);
        assert_eq!(
            request.conversation.messages,
            vec![(Speaker::Client, "Be brief.".into()), (Speaker::User, "Hello\nthere".into())]
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(field_of(json!({"messages": []})), "model");
        assert_eq!(field_of(json!({"model": 3, "messages": []})), "model");
        assert_eq!(field_of(json!({"model": "W"})), "messages");
        assert_eq!(field_of(json!({"model": "W", "messages": [], "n": 2})), "n");
        assert_eq!(field_of(json!({"model": "W", "messages": [], "stream": "yes"})), "stream");
        assert_eq!(
            field_of(json!({"model": "W", "messages": [], "stream_options": {"include_usage": 1}})),
            "stream_options.include_usage"
        );
        assert_eq!(field_of(json!({"model": "W", "messages": [], "tools": [{"type": "function"}]})), "tools");
        assert_eq!(
            field_of(json!({"model": "W", "messages": [{"role": "robot", "content": "x"}]})),
            "messages[0].role"
        );
        assert_eq!(field_of(json!({"model": "W", "messages": [{"role": "tool", "content": "x"}]})), "messages[0].role");
        assert_eq!(field_of(json!({"model": "W", "messages": [{"role": "user"}]})), "messages[0].content");
        assert_eq!(
            field_of(json!({"model": "W", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]})),
            "messages[0].content[0].type"
        );
        assert_eq!(field_of(json!([1, 2])), "body");
        assert_eq!(CompletionRequest::parse(b"{\"model\": ").unwrap_err().field, "body");
    }

    #[test]
    fn an_empty_tools_list_is_no_tools() {
        let request = parse(json!({"model": "W", "tools": [], "messages": [{"role": "user", "content": "Hi"}]}));
        assert!(request.is_ok());
    }
}
