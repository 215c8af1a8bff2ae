//! A scripted agent loop that needs no script per request, for load tests and
//! benchmarks: every conversation is answered with a tool call until it holds
//! a given number of tool results, then with a short final answer. The
//! decision is read from the request alone (how many tool results it
//! carries), so any number of conversations can run at once, in any order.

use serde_json::{Value, json};

use crate::defaults::{example_for_schema, offered_tools};
use crate::received::ReceivedRequest;
use crate::script::Reply;

/// The final answer of a conversation that has had all its tool calls.
pub const TOOL_LOOP_ANSWER: &str = "Done: steward-fake-llm finished its scripted tool loop.";

/// How the fake answers every conversation in a tool loop.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolLoop {
    /// Tool calls asked for (one per reply) before the final answer; 0
    /// answers at once.
    pub tool_calls: usize,
    /// Wire name of the tool to call (`workspace__list`); `None` calls the
    /// first tool the request offers.
    pub tool: Option<String>,
    /// The call's arguments; `None` makes an example from the tool's schema
    /// (`{}` when the request does not describe the tool).
    pub arguments: Option<Value>,
}

impl ToolLoop {
    /// `tool_calls` calls of the first tool offered, with arguments made from its schema.
    pub fn new(tool_calls: usize) -> ToolLoop {
        ToolLoop { tool_calls, tool: None, arguments: None }
    }

    pub fn with_tool(mut self, wire_name: impl Into<String>) -> ToolLoop {
        self.tool = Some(wire_name.into());
        self
    }

    pub fn with_arguments(mut self, arguments: Value) -> ToolLoop {
        self.arguments = Some(arguments);
        self
    }

    /// The reply to one request of a conversation. A request that offers no
    /// tool (and names none) gets the final answer: there is nothing to call.
    pub fn reply_for(&self, request: &ReceivedRequest) -> Reply {
        if request.tool_result_count() >= self.tool_calls {
            return Reply::text(TOOL_LOOP_ANSWER);
        }
        let mut offered = offered_tools(request);
        let chosen = match &self.tool {
            Some(name) => Some((name.as_str(), offered.find(|(offered, _)| offered == name).map(|(_, schema)| schema))),
            None => offered.next().map(|(name, schema)| (name, Some(schema))),
        };
        let Some((name, schema)) = chosen else {
            return Reply::text(TOOL_LOOP_ANSWER);
        };
        let arguments = match (&self.arguments, schema) {
            (Some(arguments), _) => arguments.clone(),
            (None, Some(schema)) => example_for_schema(schema),
            (None, None) => json!({}),
        };
        Reply::tool_call(name, &arguments)
    }
}
