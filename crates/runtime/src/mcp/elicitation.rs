//! How Steward answers a server that asks for input (`elicitation/create`,
//! or a 2026-07-28 `input_required` result carrying one): no person watches
//! a run, so a server's `elicitation` setting decides. `decline` (the
//! default) declares no elicitation capability and declines any request;
//! `defaults` declares form elicitation and accepts a form with the
//! defaults its schema gives (SEP-1034), declining one whose required
//! field has no default, and any URL elicitation.

use rmcp::model::{ElicitRequestParams, ElicitResult, ElicitationAction};
use serde_json::{Map, Value};

/// The `elicitation` setting of a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElicitationPolicy {
    Decline,
    Defaults,
}

impl ElicitationPolicy {
    /// The setting's value in `config.toml`, or `None` for a value it cannot be.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "decline" => Some(ElicitationPolicy::Decline),
            "defaults" => Some(ElicitationPolicy::Defaults),
            _ => None,
        }
    }

    /// The answer to `request`.
    pub fn answer(self, request: &ElicitRequestParams) -> ElicitResult {
        let ElicitRequestParams::FormElicitationParams { requested_schema, .. } = request else {
            return ElicitResult::new(ElicitationAction::Decline);
        };
        if self == ElicitationPolicy::Decline {
            return ElicitResult::new(ElicitationAction::Decline);
        }
        match serde_json::to_value(requested_schema).ok().and_then(|schema| defaults_of(&schema)) {
            Some(content) => ElicitResult::new(ElicitationAction::Accept).with_content(Value::Object(content)),
            None => ElicitResult::new(ElicitationAction::Decline),
        }
    }
}

/// Each property's `default` in a form's schema; `None` when a required
/// property has none (the form cannot be filled without a person).
pub fn defaults_of(schema: &Value) -> Option<Map<String, Value>> {
    let empty = Map::new();
    let properties = schema.get("properties").and_then(Value::as_object).unwrap_or(&empty);
    let defaults: Map<String, Value> = properties
        .iter()
        .filter_map(|(name, property)| property.get("default").map(|default| (name.clone(), default.clone())))
        .collect();
    let required = schema.get("required").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let all_given = required.iter().filter_map(Value::as_str).all(|name| defaults.contains_key(name));
    all_given.then_some(defaults)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_form_is_filled_with_its_defaults() {
        let schema = json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "default": "Ada"},
                "age": {"type": "integer", "default": 36},
                "colour": {"type": "string", "enum": ["red", "blue"], "default": "blue"},
                "note": {"type": "string"}
            },
            "required": ["name"]
        });
        let filled = defaults_of(&schema).unwrap();
        assert_eq!(Value::Object(filled), json!({"name": "Ada", "age": 36, "colour": "blue"}));
    }

    #[test]
    fn a_required_field_without_a_default_cannot_be_filled() {
        let schema = json!({"type": "object", "properties": {"email": {"type": "string"}}, "required": ["email"]});
        assert_eq!(defaults_of(&schema), None);
        assert_eq!(defaults_of(&json!({"type": "object"})), Some(Map::new()));
    }

    #[test]
    fn the_setting_is_decline_or_defaults() {
        assert_eq!(ElicitationPolicy::parse("defaults"), Some(ElicitationPolicy::Defaults));
        assert_eq!(ElicitationPolicy::parse("decline"), Some(ElicitationPolicy::Decline));
        assert_eq!(ElicitationPolicy::parse("accept"), None);
    }
}
