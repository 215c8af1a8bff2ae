//! The JSON Schemas an agent's phase document must match. They say more
//! than the types do where a model needs telling: ids by pattern, EARS
//! criteria (a `SHALL`), a done-when for every task. What a schema cannot
//! say (unique ids, known references, no cycle) is checked by
//! [`super::PhaseDocument::validate`] after it.

use serde_json::{Value, json};

use super::Phase;

fn text() -> Value {
    json!({ "type": "string", "minLength": 1 })
}

fn sections() -> Value {
    json!({
        "type": "array",
        "items": {
            "type": "object",
            "properties": { "heading": text(), "body": { "type": "string" } },
            "required": ["heading", "body"],
            "additionalProperties": false
        }
    })
}

fn references() -> Value {
    json!({ "type": "array", "items": { "type": "string", "pattern": "^R[1-9][0-9]*(\\.[1-9][0-9]*)?$" } })
}

/// The schema of `phase`'s document; `None` for phases without one.
pub fn document_schema(phase: Phase) -> Option<Value> {
    match phase {
        Phase::Requirements => Some(requirements()),
        Phase::Design => Some(design()),
        Phase::Tasks => Some(tasks()),
        _ => None,
    }
}

fn requirements() -> Value {
    json!({
        "title": "requirements",
        "type": "object",
        "properties": {
            "title": text(),
            "introduction": { "type": "string" },
            "requirements": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "string", "pattern": "^R[1-9][0-9]*$" },
                        "title": text(),
                        "story": { "type": "string", "description": "As a …, I want …, so that …" },
                        "priority": { "type": "string" },
                        "criteria": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "properties": {
                                    "id": { "type": "string", "pattern": "^R[1-9][0-9]*\\.[1-9][0-9]*$" },
                                    "text": {
                                        "type": "string",
                                        "pattern": "SHALL",
                                        "description": "EARS: WHEN <trigger> THE SYSTEM SHALL <response>"
                                    }
                                },
                                "required": ["id", "text"],
                                "additionalProperties": false
                            }
                        }
                    },
                    "required": ["id", "title", "story", "criteria"],
                    "additionalProperties": false
                }
            },
            "open_questions": {
                "type": "array",
                "maxItems": 5,
                "items": text(),
                "description": "Ask instead of guessing; at most a few."
            },
            "sections": sections()
        },
        "required": ["title", "requirements", "open_questions"],
        "additionalProperties": false
    })
}

fn design() -> Value {
    json!({
        "title": "design",
        "type": "object",
        "properties": {
            "title": text(),
            "overview": { "type": "string" },
            "architecture": text(),
            "data_model": text(),
            "error_handling": text(),
            "diagrams": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": { "title": text(), "mermaid": text() },
                    "required": ["title", "mermaid"],
                    "additionalProperties": false
                }
            },
            "properties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "string", "pattern": "^P[1-9][0-9]*$" },
                        "text": text(),
                        "requirements": references()
                    },
                    "required": ["id", "text", "requirements"],
                    "additionalProperties": false
                }
            },
            "sections": sections()
        },
        "required": ["title", "architecture", "data_model", "error_handling", "diagrams", "properties"],
        "additionalProperties": false
    })
}

fn tasks() -> Value {
    json!({
        "title": "tasks",
        "type": "object",
        "properties": {
            "title": text(),
            "introduction": { "type": "string" },
            "tasks": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "string", "pattern": "^[A-Za-z]*[0-9]+(\\.[0-9]+)*$" },
                        "title": text(),
                        "requirements": references(),
                        "done_when": text(),
                        "parallel": { "type": "boolean" },
                        "depends_on": { "type": "array", "items": { "type": "string" } },
                        "group": { "type": "string" },
                        "details": { "type": "array", "items": { "type": "string" } }
                    },
                    "required": ["id", "title", "requirements", "done_when", "parallel", "depends_on"],
                    "additionalProperties": false
                }
            },
            "sections": sections()
        },
        "required": ["title", "tasks"],
        "additionalProperties": false
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::document::tests_support::requirements;

    #[test]
    fn a_valid_document_matches_its_schema_and_a_guess_does_not() {
        let schema = document_schema(Phase::Requirements).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let document = serde_json::to_value(requirements()).unwrap();
        assert!(
            validator.is_valid(&document),
            "{:?}",
            validator.iter_errors(&document).map(|e| e.to_string()).collect::<Vec<_>>()
        );
        let mut not_ears = document.clone();
        not_ears["requirements"][0]["criteria"][0]["text"] = json!("the receipt is sent");
        assert!(!validator.is_valid(&not_ears), "a criterion without SHALL is not EARS");
        for phase in [Phase::Design, Phase::Tasks] {
            jsonschema::validator_for(&document_schema(phase).unwrap()).unwrap();
        }
        assert_eq!(document_schema(Phase::Execution), None);
    }
}
