//! A run's trace: the spans of one run, made as it goes. The
//! `invoke_agent` span is sent when the run finishes, with the run's first
//! start as its start; `chat` and `execute_tool` spans are sent as each call
//! ends, as its children. Each `chat` span says what the call was for
//! (`steward.purpose`): the run's own work, or the guardian's look at it
//! (`oversight`), which is in the run's trace but not the run's usage.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use serde_json::Value;
use steward_domain::{Agent, Run, RunId, RunOutcome, RunStep};
use steward_llm::{ChatRequest, ChatResponse, LlmError, ModelId};

use super::content;
use super::export::Telemetry;
use super::ids::{self, SpanId, TraceId};
use super::wire::{SpanParts, int, string, strings};
use crate::outbound::Redactor;

/// The spans of one run go through this.
#[derive(Clone)]
pub struct RunTrace {
    telemetry: Telemetry,
    redactor: Redactor,
    run: RunId,
    trace: TraceId,
    root: SpanId,
    agent_id: i64,
    agent_name: Arc<str>,
    /// The model the agent asks for (`None` when none can be had).
    model: Option<ModelId>,
    /// What its model calls are for: `work` or `oversight`.
    purpose: &'static str,
}

/// One model call as it ended.
pub struct ChatCall<'a> {
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    /// The model asked for (a fallback may have answered).
    pub model: &'a ModelId,
    pub max_tokens: u32,
    /// The request, when contents are exported.
    pub request: Option<&'a ChatRequest>,
    pub end: ChatEnd<'a>,
}

pub enum ChatEnd<'a> {
    Reply(&'a ChatResponse),
    Failed(&'a LlmError),
    /// The run was cancelled while the call was in flight.
    Cancelled,
}

impl RunTrace {
    pub fn new(telemetry: &Telemetry, redactor: &Redactor, run: &Run, agent: &Agent, model: Option<ModelId>) -> Self {
        let trace = ids::trace_id(run.id, run.created_at);
        RunTrace {
            telemetry: telemetry.clone(),
            redactor: redactor.clone(),
            run: run.id,
            trace,
            root: ids::root_span_id(&trace),
            agent_id: agent.id.get(),
            agent_name: Arc::from(agent.name.as_str()),
            model,
            purpose: "work",
        }
    }

    /// The same trace for the guardian's looks at the run: its `chat`
    /// spans say `steward.purpose = oversight`.
    pub fn for_oversight(mut self) -> Self {
        self.purpose = "oversight";
        self
    }

    pub fn run_id(&self) -> RunId {
        self.run
    }

    pub fn is_enabled(&self) -> bool {
        self.telemetry.is_enabled()
    }

    /// Whether spans carry message contents.
    pub fn captures_content(&self) -> bool {
        self.telemetry.capture_content()
    }

    /// The trace id as exporters and trace viewers write it (32 hex digits).
    pub fn trace_id(&self) -> String {
        hex::encode(self.trace)
    }

    pub fn chat(&self, call: ChatCall<'_>) {
        if !self.is_enabled() {
            return;
        }
        let capture = self.telemetry.capture_content();
        let mut attributes = vec![string("gen_ai.operation.name", "chat")];
        attributes.extend(self.common());
        attributes.push(string("gen_ai.request.model", call.model.model()));
        attributes.push(int("gen_ai.request.max_tokens", u64::from(call.max_tokens)));
        attributes.push(string("steward.purpose", self.purpose));
        if let Some(request) = call.request.filter(|_| capture) {
            if let Some(system) = &request.system {
                attributes.push(self.text("gen_ai.system_instructions", &content::system_instructions(system)));
            }
            attributes.push(self.text("gen_ai.input.messages", &content::input_messages(request)));
        }
        let mut provider = call.model.provider().to_string();
        let error = match call.end {
            ChatEnd::Reply(response) => {
                provider = response.model.provider().to_string();
                let model = if response.provider_model.is_empty() {
                    response.model.model()
                } else {
                    response.provider_model.as_str()
                };
                attributes.push(string("gen_ai.response.model", model));
                attributes.push(strings("gen_ai.response.finish_reasons", &[response.stop_reason.as_str()]));
                if let Some(id) = &response.response_id {
                    attributes.push(string("gen_ai.response.id", id));
                }
                attributes.extend(usage(
                    response.usage.input_tokens,
                    response.usage.output_tokens,
                    response.usage.cache_read_tokens,
                    response.usage.cache_write_tokens,
                ));
                if capture {
                    attributes.push(self.text("gen_ai.output.messages", &content::output_messages(response)));
                }
                None
            }
            ChatEnd::Failed(error) => {
                attributes.push(string("error.type", error.kind().as_str()));
                Some(self.redactor.text(&error.to_string()))
            }
            ChatEnd::Cancelled => {
                attributes.push(string("error.type", "cancelled"));
                Some("the run was cancelled while the model call was in flight".into())
            }
        };
        attributes.push(string("gen_ai.provider.name", provider));
        self.child(format!("chat {}", call.model.model()), true, call.started, call.ended, attributes, error);
    }

    /// A model call the process never saw the end of, stored as an
    /// interrupted step when the run was taken up again after a crash.
    pub fn interrupted_chat(&self, step: &RunStep) {
        if !self.is_enabled() {
            return;
        }
        let model: Option<ModelId> = step.name.parse().ok();
        let provider = model.as_ref().map_or("", ModelId::provider);
        let name = model.as_ref().map_or(step.name.as_str(), ModelId::model);
        let mut attributes = vec![string("gen_ai.operation.name", "chat")];
        attributes.extend(self.common());
        attributes.push(string("gen_ai.provider.name", provider));
        attributes.push(string("gen_ai.request.model", name));
        if let Some(usage) = &step.usage {
            attributes.push(int("gen_ai.usage.input_tokens", usage.input_tokens));
        }
        attributes.push(string("steward.usage.estimated", "true"));
        attributes.push(string("error.type", "interrupted"));
        let error = Some("the process stopped while this model call was in flight".to_string());
        self.child(format!("chat {name}"), true, step.started_at, step.finished_at, attributes, error);
    }

    /// A tool call's stored result.
    pub fn tool_call(&self, step: &RunStep) {
        if !self.is_enabled() {
            return;
        }
        let field = |name: &str| step.content.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
        let mut attributes = vec![string("gen_ai.operation.name", "execute_tool")];
        attributes.extend(self.common());
        attributes.push(string("gen_ai.tool.name", step.name.as_str()));
        attributes.push(string("gen_ai.tool.call.id", field("call_id")));
        attributes.push(string("gen_ai.tool.type", "function"));
        if self.telemetry.capture_content() {
            let arguments = step.content.get("arguments").cloned().unwrap_or(Value::Null);
            attributes.push(self.text("gen_ai.tool.call.arguments", &arguments.to_string()));
            attributes.push(self.text("gen_ai.tool.call.result", &field("result")));
        }
        let is_error = step.content.get("is_error").and_then(Value::as_bool).unwrap_or(step.error.is_some());
        let error = is_error.then(|| {
            let result = field("result");
            attributes.push(string("error.type", tool_error_type(&result)));
            // The result is content; the status says only that it failed.
            "the tool call failed".to_string()
        });
        let name = format!("execute_tool {}", step.name);
        self.child(name, false, step.started_at, step.finished_at, attributes, error);
    }

    /// The run's `invoke_agent` span, once it has finished.
    pub fn finished(&self, run: &Run) {
        if !self.is_enabled() {
            return;
        }
        let mut attributes = vec![string("gen_ai.operation.name", "invoke_agent")];
        attributes.extend(self.common());
        if let Some(model) = &self.model {
            attributes.push(string("gen_ai.provider.name", model.provider()));
            attributes.push(string("gen_ai.request.model", model.model()));
        }
        let usage_of = &run.usage;
        attributes.extend(usage(
            usage_of.input_tokens,
            usage_of.output_tokens,
            usage_of.cache_read_tokens,
            usage_of.cache_write_tokens,
        ));
        attributes.push(int("steward.run.model_calls", u64::from(usage_of.model_calls)));
        attributes.push(int("steward.run.tool_calls", u64::from(usage_of.tool_calls)));
        let outcome = run.outcome.unwrap_or(RunOutcome::Failed);
        attributes.push(string("steward.run.outcome", outcome.as_str()));
        if self.telemetry.capture_content() {
            attributes.push(self.text("gen_ai.input.messages", &content::user_text(&run.instruction)));
            if let Some(output) = &run.output {
                attributes.push(self.text("gen_ai.output.messages", &content::assistant_text(output)));
            }
        }
        let error = (outcome != RunOutcome::Completed).then(|| {
            attributes.push(string("error.type", outcome.as_str()));
            run.error.clone().unwrap_or_else(|| outcome.as_str().to_string())
        });
        let start = run.started_at.unwrap_or(run.created_at);
        let end = run.finished_at.unwrap_or(run.updated_at);
        let span = SpanParts {
            trace: self.trace,
            id: self.root,
            parent: None,
            name: format!("invoke_agent {}", self.agent_name),
            client: false,
            start,
            end,
            attributes,
            error,
        };
        self.telemetry.send(span.into_span());
    }

    fn common(&self) -> Vec<KeyValue> {
        vec![
            string("gen_ai.agent.id", self.agent_id.to_string()),
            string("gen_ai.agent.name", self.agent_name.as_ref()),
            int("steward.run.id", u64::try_from(self.run.get()).unwrap_or_default()),
        ]
    }

    fn text(&self, key: &str, text: &str) -> KeyValue {
        string(key, self.redactor.text(text))
    }

    fn child(
        &self,
        name: String,
        client: bool,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        attributes: Vec<KeyValue>,
        error: Option<String>,
    ) {
        let span = SpanParts {
            trace: self.trace,
            id: ids::random_span_id(),
            parent: Some(self.root),
            name,
            client,
            start,
            end,
            attributes,
            error,
        };
        self.telemetry.send(span.into_span());
    }
}

/// Token counts as the conventions define them: `input_tokens` counts all
/// input, cached or not (ours counts only what is billed at the full price).
fn usage(input: u64, output: u64, cache_read: u64, cache_creation: u64) -> Vec<KeyValue> {
    vec![
        int("gen_ai.usage.input_tokens", input + cache_read + cache_creation),
        int("gen_ai.usage.output_tokens", output),
        int("gen_ai.usage.cache_read.input_tokens", cache_read),
        int("gen_ai.usage.cache_creation.input_tokens", cache_creation),
    ]
}

/// A low-cardinality name for why a tool call failed, from the kind its
/// result starts with (`ToolError`'s, or the runtime's own answers).
fn tool_error_type(result: &str) -> &'static str {
    [
        ("invalid input", "invalid_input"),
        ("refused", "refused"),
        ("failed", "failed"),
        ("rejected by a person", "rejected"),
    ]
    .into_iter()
    .find_map(|(prefix, kind)| result.starts_with(prefix).then_some(kind))
    .unwrap_or("tool_error")
}
