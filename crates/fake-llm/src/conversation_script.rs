//! A conversation script: a YAML (or JSON) file of turns the fake plays as a
//! scripted peer, for demos and tests such as the README tour
//! (`examples/tour.yaml`). Each turn says when it applies — conditions on
//! the request — and what the model answers: text, tool calls, or a
//! structured value. The first turn whose conditions all hold answers; a
//! request no turn matches gets the fake's usual default reply.
//!
//! ```yaml
//! turns:
//!   - name: the setup chat's last question   # for people; not matched
//!     when:
//!       system: set up an AI agent           # the system prompt contains this (any case)
//!       user: 'called (?P<name>[^,.]+)'      # a regex some user message matches;
//!                                            # its named groups fill {{name}} below
//!       user_messages: 2                     # exactly this many user messages so far
//!     reply:
//!       structured: {reply: "Shall I create {{name}}?", ready: true}
//! ```
//!
//! Other conditions: `last_user` (a regex the last user message matches, its
//! groups also filling placeholders), `tool_offered` (a tool's wire name the
//! request offers) and `tool_results` (exactly this many tool results so
//! far, which is how far a tool loop has come). A reply has `text`,
//! `tool_calls` (a list of `name` and `arguments`), or `structured`: the
//! value a forced tool call or a JSON-schema response format asks for.

use std::path::Path;

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use crate::defaults::{forced_tool, offered_tools};
use crate::received::ReceivedRequest;
use crate::script::Reply;

/// A loaded, checked script.
#[derive(Debug, Clone)]
pub struct ConversationScript {
    turns: Vec<Turn>,
}

#[derive(Debug, Clone)]
struct Turn {
    when: Conditions,
    reply: TurnReply,
}

#[derive(Debug, Clone, Default)]
struct Conditions {
    system: Option<String>,
    user: Option<Regex>,
    last_user: Option<Regex>,
    user_messages: Option<usize>,
    tool_offered: Option<String>,
    tool_results: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TurnReply {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ScriptedCall>,
    #[serde(default)]
    structured: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptedCall {
    name: String,
    #[serde(default = "empty_object")]
    arguments: Value,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptText {
    turns: Vec<TurnText>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TurnText {
    #[serde(default)]
    #[allow(dead_code, reason = "a label for people reading the script")]
    name: Option<String>,
    #[serde(default)]
    when: ConditionsText,
    reply: TurnReply,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionsText {
    system: Option<String>,
    user: Option<String>,
    last_user: Option<String>,
    user_messages: Option<usize>,
    tool_offered: Option<String>,
    tool_results: Option<usize>,
}

impl ConversationScript {
    /// Reads and checks a script file; the error names the file, and the
    /// turn and field at fault.
    pub fn load(path: &Path) -> Result<ConversationScript, String> {
        let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        ConversationScript::parse(&text).map_err(|error| format!("{}: {error}", path.display()))
    }

    /// Parses a script's text (YAML, of which JSON is a part).
    pub fn parse(text: &str) -> Result<ConversationScript, String> {
        let parsed: ScriptText = serde_saphyr::from_str(text).map_err(|error| error.to_string())?;
        let mut turns = Vec::with_capacity(parsed.turns.len());
        for (index, turn) in parsed.turns.into_iter().enumerate() {
            let pattern = |field: &str, pattern: Option<String>| {
                pattern
                    .map(|pattern| Regex::new(&pattern))
                    .transpose()
                    .map_err(|error| format!("turns[{index}].when.{field}: not a regular expression: {error}"))
            };
            let reply = turn.reply;
            if reply.text.is_none() && reply.tool_calls.is_empty() && reply.structured.is_none() {
                return Err(format!("turns[{index}].reply: give text, tool_calls or structured"));
            }
            turns.push(Turn {
                when: Conditions {
                    user: pattern("user", turn.when.user)?,
                    last_user: pattern("last_user", turn.when.last_user)?,
                    system: turn.when.system.map(|text| text.to_lowercase()),
                    user_messages: turn.when.user_messages,
                    tool_offered: turn.when.tool_offered,
                    tool_results: turn.when.tool_results,
                },
                reply,
            });
        }
        Ok(ConversationScript { turns })
    }

    /// The reply of the first turn that matches `request`, if any.
    pub fn reply_for(&self, request: &ReceivedRequest) -> Option<Reply> {
        self.turns.iter().find_map(|turn| {
            let captures = turn.when.captures(request)?;
            Some(turn.reply.render(request, &captures))
        })
    }
}

impl Conditions {
    /// The named groups the patterns captured when every condition holds;
    /// `None` when one does not.
    fn captures(&self, request: &ReceivedRequest) -> Option<Vec<(String, String)>> {
        let user_texts = request.user_texts();
        if let Some(system) = &self.system {
            let prompt = request.system_text().unwrap_or_default().to_lowercase();
            if !prompt.contains(system.as_str()) {
                return None;
            }
        }
        if self.user_messages.is_some_and(|count| count != user_texts.len()) {
            return None;
        }
        if self.tool_results.is_some_and(|count| count != request.tool_result_count()) {
            return None;
        }
        if let Some(tool) = &self.tool_offered
            && !offered_tools(request).any(|(name, _)| name == tool)
        {
            return None;
        }
        let mut captured = Vec::new();
        if let Some(pattern) = &self.user {
            let text = user_texts.iter().find(|text| pattern.is_match(text))?;
            captured.extend(named_groups(pattern, text));
        }
        if let Some(pattern) = &self.last_user {
            let text = user_texts.last().filter(|text| pattern.is_match(text))?;
            captured.extend(named_groups(pattern, text));
        }
        Some(captured)
    }
}

fn named_groups(pattern: &Regex, text: &str) -> Vec<(String, String)> {
    let Some(found) = pattern.captures(text) else {
        return Vec::new();
    };
    pattern
        .capture_names()
        .flatten()
        .filter_map(|name| found.name(name).map(|value| (name.to_string(), value.as_str().trim().to_string())))
        .collect()
}

impl TurnReply {
    fn render(&self, request: &ReceivedRequest, captures: &[(String, String)]) -> Reply {
        if let Some(value) = &self.structured {
            let value = fill_value(value, captures);
            // A forced tool call carries the value as its arguments; a JSON
            // response format (or no format at all) gets it as the text.
            return match forced_tool(request) {
                Some((name, _)) => Reply::tool_call(name, &value),
                None => Reply::json(&value),
            };
        }
        let mut reply = Reply::default();
        if let Some(text) = &self.text {
            reply = reply.then_text(fill(text, captures));
        }
        for call in &self.tool_calls {
            reply = reply.then_tool_call(&call.name, &fill_value(&call.arguments, captures));
        }
        reply
    }
}

/// `{{name}}` replaced by what the group `name` captured; a placeholder
/// nothing captured stays as written, so a script mistake shows.
fn fill(text: &str, captures: &[(String, String)]) -> String {
    captures.iter().fold(text.to_string(), |text, (name, value)| text.replace(&format!("{{{{{name}}}}}"), value))
}

fn fill_value(value: &Value, captures: &[(String, String)]) -> Value {
    match value {
        Value::String(text) => Value::String(fill(text, captures)),
        Value::Array(items) => Value::Array(items.iter().map(|item| fill_value(item, captures)).collect()),
        Value::Object(fields) => {
            Value::Object(fields.iter().map(|(key, item)| (key.clone(), fill_value(item, captures))).collect())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use serde_json::json;

    use super::*;
    use crate::received::Endpoint;
    use crate::script::ReplyBlock;

    const SCRIPT: &str = r#"
turns:
  - name: setup, ready
    when:
      system: SET UP an agent
      user: 'called (?P<name>[^,.]+)'
      user_messages: 2
    reply:
      structured: {reply: "Create {{name}}?", ready: true, agent: {name: "{{name}}"}}
  - when: {tool_offered: propose_action, tool_results: 0, last_user: '(?i)draft (?P<what>.+)'}
    reply:
      text: On it.
      tool_calls:
        - name: propose_action
          arguments: {title: "{{what}}", priority: high}
  - when: {tool_results: 1}
    reply: {text: "Proposed."}
"#;

    fn request(body: Value) -> ReceivedRequest {
        ReceivedRequest {
            sequence: 0,
            endpoint: Endpoint::AnthropicMessages,
            path: "/v1/messages".into(),
            headers: Vec::new(),
            body,
            peer_address: None,
            received_at: Instant::now(),
        }
    }

    fn user(text: &str) -> Value {
        json!({"role": "user", "content": text})
    }

    #[test]
    fn a_turn_fills_placeholders_from_what_the_person_said() {
        let script = ConversationScript::parse(SCRIPT).unwrap();
        let setup = request(json!({
            "system": "You help a person set up an agent.",
            "messages": [user("An agent called Launch writer, for posts"), {"role": "assistant", "content": "When?"},
                         user("By March")],
            "tools": [{"name": "structured_output", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "tool", "name": "structured_output"}
        }));
        let reply = script.reply_for(&setup).unwrap();
        let [ReplyBlock::ToolCall { name, arguments_json, .. }] = reply.blocks.as_slice() else { panic!("{reply:?}") };
        assert_eq!(name, "structured_output", "the forced tool carries the value");
        assert_eq!(
            serde_json::from_str::<Value>(arguments_json).unwrap(),
            json!({"reply": "Create Launch writer?", "ready": true, "agent": {"name": "Launch writer"}})
        );
        // One user message: the setup turn does not match, and nothing else does.
        let first = request(json!({"system": "set up an agent", "messages": [user("An agent called X, hi")]}));
        assert!(script.reply_for(&first).is_none());
    }

    #[test]
    fn tool_conditions_follow_the_loop() {
        let script = ConversationScript::parse(SCRIPT).unwrap();
        let tools = json!([{"name": "propose_action", "input_schema": {}}]);
        let asking = request(json!({"messages": [user("Please draft the launch post")], "tools": tools}));
        let reply = script.reply_for(&asking).unwrap();
        assert_eq!(reply.blocks[0], ReplyBlock::Text("On it.".into()));
        let ReplyBlock::ToolCall { name, arguments_json, .. } = &reply.blocks[1] else { panic!("{reply:?}") };
        assert_eq!(name, "propose_action");
        let arguments: Value = serde_json::from_str(arguments_json).unwrap();
        assert_eq!(arguments, json!({"title": "the launch post", "priority": "high"}));
        let answered = request(json!({"messages": [
            user("Please draft the launch post"),
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "propose_action", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "Done"}]}
        ], "tools": tools}));
        assert_eq!(script.reply_for(&answered).unwrap().blocks, [ReplyBlock::Text("Proposed.".into())]);
    }

    #[test]
    fn mistakes_in_a_script_name_the_turn_and_field() {
        let bad_pattern = "turns:\n  - when: {user: '(unclosed'}\n    reply: {text: x}\n";
        assert!(ConversationScript::parse(bad_pattern).unwrap_err().starts_with("turns[0].when.user: not a regular"));
        let empty = "turns:\n  - reply: {}\n";
        assert_eq!(
            ConversationScript::parse(empty).unwrap_err(),
            "turns[0].reply: give text, tool_calls or structured"
        );
        let unknown = "turns:\n  - when: {sytem: x}\n    reply: {text: x}\n";
        assert!(ConversationScript::parse(unknown).unwrap_err().contains("sytem"));
        let tour = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/tour.yaml");
        assert!(ConversationScript::load(Path::new(tour)).is_ok(), "the shipped tour script loads");
    }
}
