//! The reply to a request nobody scripted, so the standalone fake is useful for
//! trying Steward end to end: a forced tool call gets arguments made from the
//! tool's schema, a JSON-schema response format gets an instance of the
//! schema, anything else gets a short text that quotes the prompt.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use crate::received::{Endpoint, ReceivedRequest};
use crate::script::Reply;

/// The reply the fake gives when neither the queue nor the responder has one.
pub fn default_reply(request: &ReceivedRequest) -> Reply {
    if let Some((name, schema)) = forced_tool(request) {
        return Reply::tool_call(name, &example_for_schema(schema));
    }
    if let Some(schema) = requested_json_schema(request) {
        return Reply::json(&example_for_schema(&schema));
    }
    if request.endpoint == Endpoint::OpenAiChatCompletions && response_format_type(request) == Some("json_object") {
        return Reply::json(&json!({ "reply": "steward-fake-llm" }));
    }
    let prompt = request.last_user_text().unwrap_or_default();
    let quoted: String = prompt.chars().take(200).collect();
    Reply::text(format!("This is steward-fake-llm, a stand-in model with no intelligence. You said: {quoted}"))
}

fn response_format_type(request: &ReceivedRequest) -> Option<&str> {
    request.body.get("response_format")?.get("type")?.as_str()
}

fn requested_json_schema(request: &ReceivedRequest) -> Option<Value> {
    match request.endpoint {
        Endpoint::OpenAiChatCompletions => {
            let format = request.body.get("response_format")?;
            if format.get("type")?.as_str()? != "json_schema" {
                return None;
            }
            format.get("json_schema")?.get("schema").cloned()
        }
        // Anthropic's native structured output (`output_format`) for callers that use it.
        Endpoint::AnthropicMessages => {
            let format = request.body.get("output_format")?;
            format.get("schema").cloned()
        }
        Endpoint::OpenAiEmbeddings => None,
    }
}

/// Reads a tool's name and parameter schema from one protocol's tool JSON,
/// borrowing both: a request may offer many tools, and only one is used.
type ToolReader = fn(&Value) -> Option<(&str, &Value)>;

/// The schema of a tool described without one.
static NO_SCHEMA: LazyLock<Value> = LazyLock::new(|| json!({}));

/// The tools a request offers, as (wire name, parameter schema), in order.
pub(crate) fn offered_tools(request: &ReceivedRequest) -> impl Iterator<Item = (&str, &Value)> {
    let reader: ToolReader = match request.endpoint {
        Endpoint::AnthropicMessages => anthropic_tool,
        Endpoint::OpenAiChatCompletions => openai_tool,
        Endpoint::OpenAiEmbeddings => |_| None,
    };
    let tools = request.body.get("tools").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    tools.iter().filter_map(reader)
}

/// The tool the request forces, with its parameter schema.
pub(crate) fn forced_tool(request: &ReceivedRequest) -> Option<(&str, &Value)> {
    let choice = request.body.get("tool_choice")?;
    let wanted: Option<&str> = match request.endpoint {
        Endpoint::AnthropicMessages => match choice.get("type")?.as_str()? {
            "tool" => Some(choice.get("name")?.as_str()?),
            "any" => None,
            _ => return None,
        },
        Endpoint::OpenAiChatCompletions => match choice {
            Value::String(mode) if mode == "required" => None,
            Value::Object(_) => Some(choice.get("function")?.get("name")?.as_str()?),
            _ => return None,
        },
        Endpoint::OpenAiEmbeddings => return None,
    };
    offered_tools(request).find(|(name, _)| wanted.is_none_or(|wanted| wanted == *name))
}

fn anthropic_tool(tool: &Value) -> Option<(&str, &Value)> {
    Some((tool.get("name")?.as_str()?, tool.get("input_schema").unwrap_or(&NO_SCHEMA)))
}

fn openai_tool(tool: &Value) -> Option<(&str, &Value)> {
    let function = tool.get("function")?;
    Some((function.get("name")?.as_str()?, function.get("parameters").unwrap_or(&NO_SCHEMA)))
}

/// A small instance that satisfies common JSON Schemas: every declared
/// property filled, enums and consts honoured, `$ref`s into `$defs` followed.
pub fn example_for_schema(schema: &Value) -> Value {
    example_at_depth(schema, schema, 0)
}

const MAX_SCHEMA_DEPTH: usize = 16;

fn example_at_depth(schema: &Value, root: &Value, depth: usize) -> Value {
    if depth > MAX_SCHEMA_DEPTH {
        return Value::Null;
    }
    let Some(object) = schema.as_object() else {
        return Value::Null;
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        return resolve_local_ref(root, reference)
            .map_or(Value::Null, |target| example_at_depth(target, root, depth + 1));
    }
    if let Some(constant) = object.get("const") {
        return constant.clone();
    }
    if let Some(first) = object.get("enum").and_then(Value::as_array).and_then(|values| values.first()) {
        return first.clone();
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = object.get(combinator).and_then(Value::as_array).and_then(|options| options.first()) {
            return example_at_depth(first, root, depth + 1);
        }
    }
    match declared_type(object).as_deref() {
        Some("object") => {
            let mut instance = Map::new();
            if let Some(properties) = object.get("properties").and_then(Value::as_object) {
                for (name, property_schema) in properties {
                    instance.insert(name.clone(), example_at_depth(property_schema, root, depth + 1));
                }
            }
            Value::Object(instance)
        }
        Some("array") => {
            let count = object.get("minItems").and_then(Value::as_u64).unwrap_or(1).min(8);
            let item = object.get("items").map_or(Value::Null, |items| example_at_depth(items, root, depth + 1));
            Value::Array(std::iter::repeat_n(item, usize::try_from(count).unwrap_or(1)).collect())
        }
        Some("string") => example_string(object),
        Some("integer") => json!(object.get("minimum").and_then(Value::as_i64).unwrap_or(0).max(0)),
        Some("number") => json!(object.get("minimum").and_then(Value::as_f64).unwrap_or(0.0).max(0.0)),
        Some("boolean") => Value::Bool(true),
        Some("null") => Value::Null,
        _ if object.contains_key("properties") => example_at_depth(&with_type(schema, "object"), root, depth + 1),
        _ => Value::Null,
    }
}

fn with_type(schema: &Value, kind: &str) -> Value {
    let mut copy = schema.clone();
    if let Some(object) = copy.as_object_mut() {
        object.insert("type".into(), Value::String(kind.into()));
    }
    copy
}

/// The schema's `type`; for a list such as `["string", "null"]`, the first
/// that is not `null`.
fn declared_type(object: &Map<String, Value>) -> Option<String> {
    match object.get("type")? {
        Value::String(kind) => Some(kind.clone()),
        Value::Array(kinds) => {
            kinds.iter().filter_map(Value::as_str).find(|kind| *kind != "null").or(Some("null")).map(str::to_owned)
        }
        _ => None,
    }
}

fn example_string(object: &Map<String, Value>) -> Value {
    let text = match object.get("format").and_then(Value::as_str) {
        Some("date-time") => "2025-01-01T00:00:00Z".to_owned(),
        Some("date") => "2025-01-01".to_owned(),
        Some("time") => "00:00:00Z".to_owned(),
        Some("email") => "someone@example.com".to_owned(),
        Some("uri") | Some("url") => "https://example.com/".to_owned(),
        Some("uuid") => "00000000-0000-4000-8000-000000000000".to_owned(),
        _ => "example".to_owned(),
    };
    let min_length = object.get("minLength").and_then(Value::as_u64).unwrap_or(0);
    let padding = usize::try_from(min_length).unwrap_or(0).saturating_sub(text.chars().count());
    Value::String(format!("{text}{}", "x".repeat(padding)))
}

/// Follows `#/…` JSON pointers inside the same document.
fn resolve_local_ref<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_property_and_follows_refs() {
        let schema = json!({
            "type": "object",
            "properties": {
                "title": {"type": "string", "minLength": 10},
                "priority": {"enum": ["high", "low"]},
                "due": {"type": ["string", "null"], "format": "date"},
                "steps": {"type": "array", "items": {"$ref": "#/$defs/Step"}, "minItems": 2},
                "done": {"type": "boolean"}
            },
            "required": ["title"],
            "$defs": {"Step": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}}}
        });
        assert_eq!(
            example_for_schema(&schema),
            json!({
                "title": "examplexxx",
                "priority": "high",
                "due": "2025-01-01",
                "steps": [{"n": 1}, {"n": 1}],
                "done": true
            })
        );
    }

    #[test]
    fn a_self_referencing_schema_terminates() {
        let schema = json!({"$ref": "#"});
        assert_eq!(example_for_schema(&schema), Value::Null);
    }
}
