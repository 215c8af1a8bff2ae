//! Command-line options shared by `steward-fake-llm` and `steward dev
//! fake-llm` that shape every reply: how long each is held, a scripted
//! tool loop for load tests, and a conversation script for demos.

use std::time::Duration;

use serde_json::Value;

use crate::FakeLlm;
use crate::conversation_script::ConversationScript;
use crate::tool_loop::ToolLoop;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct BehaviourOptions {
    /// Hold every reply this many milliseconds before answering, like a slow model.
    #[arg(long = "hold-ms", visible_alias = "reply-delay-ms", value_name = "MS", default_value_t = 0)]
    pub hold_ms: u64,

    /// Answer every conversation with N tool calls, one per reply, then a
    /// short final answer: an agent loop for load tests, with no script.
    #[arg(long, value_name = "N")]
    pub tool_calls: Option<usize>,

    /// With --tool-calls: the tool to call, by its wire name (`workspace__list`);
    /// by default the first tool the request offers.
    #[arg(long, value_name = "NAME", requires = "tool_calls")]
    pub tool: Option<String>,

    /// With --tool-calls: the call's arguments as a JSON object; by default an
    /// example made from the tool's schema.
    #[arg(long, value_name = "JSON", requires = "tool_calls", value_parser = parse_json_object)]
    pub tool_input: Option<Value>,

    /// Play this conversation script (YAML or JSON; see examples/tour.yaml): turns matched on the
    /// request, with the default reply for the rest.
    #[arg(long, value_name = "FILE", conflicts_with = "tool_calls", value_parser = parse_script)]
    pub script: Option<ConversationScript>,
}

impl BehaviourOptions {
    pub fn apply(&self, fake: &FakeLlm) {
        fake.set_reply_delay(Duration::from_millis(self.hold_ms));
        if let Some(tool_calls) = self.tool_calls {
            let mut tool_loop = ToolLoop::new(tool_calls);
            tool_loop.tool = self.tool.clone();
            tool_loop.arguments = self.tool_input.clone();
            fake.set_tool_loop(tool_loop);
        }
        if let Some(script) = &self.script {
            fake.set_script(script.clone());
        }
    }
}

fn parse_script(path: &str) -> Result<ConversationScript, String> {
    ConversationScript::load(std::path::Path::new(path))
}

fn parse_json_object(text: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) if value.is_object() => Ok(value),
        Ok(_) => Err("tool arguments must be a JSON object, e.g. {\"path\": \".\"}".into()),
        Err(error) => Err(format!("not valid JSON: {error}")),
    }
}
