//! The three phase documents. Each is JSON an agent produces against the
//! schemas in [`super::schema`]; here are their types and the checks a
//! schema cannot express: ids unique and stable (`R1`, its criteria `R1.1`,
//! `R1.2`), references that resolve, a task graph without cycles. Sections
//! the types do not model (an imported spec's "Edge Cases", "Key Entities")
//! are kept verbatim in `sections`, so nothing read is lost on export.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::Phase;
use super::graph::check_task_graph;
use crate::validation::{ValidationError, check_optional_text, check_text};

const TEXT_CHARS: usize = 100_000;
const LINE_CHARS: usize = 2_000;
const MAX_ITEMS: usize = 1_000;

/// A Markdown section kept as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub heading: String,
    pub body: String,
}

/// An acceptance criterion, EARS where a model wrote it
/// ("WHEN … THE SYSTEM SHALL …").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// `R1.2`: its requirement's id, a dot, a number.
    pub id: String,
    pub text: String,
}

/// A user story with its acceptance criteria.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// `R1`, `R2`, …; stable across revisions.
    pub id: String,
    pub title: String,
    /// "As a …, I want …, so that …".
    #[serde(default)]
    pub story: String,
    /// `P1`, `P2` (spec-kit's priorities), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    pub criteria: Vec<Criterion>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementsDocument {
    pub title: String,
    #[serde(default)]
    pub introduction: String,
    pub requirements: Vec<Requirement>,
    /// What the author had to ask instead of guessing (a few at most).
    #[serde(default)]
    pub open_questions: Vec<String>,
    #[serde(default)]
    pub sections: Vec<Section>,
}

/// A Mermaid diagram (a sequence diagram, a flow).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Diagram {
    pub title: String,
    pub mermaid: String,
}

/// A correctness property, tied to the requirements it validates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Property {
    /// `P1`, `P2`, …
    pub id: String,
    pub text: String,
    pub requirements: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesignDocument {
    pub title: String,
    #[serde(default)]
    pub overview: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub data_model: String,
    #[serde(default)]
    pub error_handling: String,
    #[serde(default)]
    pub diagrams: Vec<Diagram>,
    #[serde(default)]
    pub properties: Vec<Property>,
    #[serde(default)]
    pub sections: Vec<Section>,
}

/// One task of the graph.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// `T001` (spec-kit) or `1.2` (Kiro); unique in the project.
    pub id: String,
    pub title: String,
    /// Requirement or criterion ids it serves (`R1`, `R1.2`).
    #[serde(default)]
    pub requirements: Vec<String>,
    /// What must be true for it to count as done; the validator checks it.
    #[serde(default)]
    pub done_when: String,
    /// Whether it may run beside other tasks (spec-kit's `[P]`).
    #[serde(default)]
    pub parallel: bool,
    /// Ids of tasks that must be done first.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// The heading it was listed under ("Phase 1: Setup"), when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Further lines of the task as written (file paths, notes).
    #[serde(default)]
    pub details: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TasksDocument {
    pub title: String,
    /// Text before the first task or heading.
    #[serde(default)]
    pub introduction: String,
    pub tasks: Vec<TaskSpec>,
    #[serde(default)]
    pub sections: Vec<Section>,
}

/// A phase's document.
#[derive(Clone, Debug, PartialEq)]
pub enum PhaseDocument {
    Requirements(RequirementsDocument),
    Design(DesignDocument),
    Tasks(TasksDocument),
}

impl PhaseDocument {
    pub fn phase(&self) -> Phase {
        match self {
            PhaseDocument::Requirements(_) => Phase::Requirements,
            PhaseDocument::Design(_) => Phase::Design,
            PhaseDocument::Tasks(_) => Phase::Tasks,
        }
    }

    /// The document as JSON (its phase is said beside it, not inside).
    pub fn to_json(&self) -> serde_json::Value {
        let value = match self {
            PhaseDocument::Requirements(document) => serde_json::to_value(document),
            PhaseDocument::Design(document) => serde_json::to_value(document),
            PhaseDocument::Tasks(document) => serde_json::to_value(document),
        };
        // Plain structs of strings, lists and booleans always serialise.
        value.unwrap_or(serde_json::Value::Null)
    }

    /// Reads a `phase` document from JSON, naming the field that is wrong.
    pub fn from_json(phase: Phase, value: serde_json::Value) -> Result<PhaseDocument, ValidationError> {
        let wrong = |error: serde_json::Error| ValidationError::new("document", error.to_string());
        match phase {
            Phase::Requirements => serde_json::from_value(value).map(PhaseDocument::Requirements).map_err(wrong),
            Phase::Design => serde_json::from_value(value).map(PhaseDocument::Design).map_err(wrong),
            Phase::Tasks => serde_json::from_value(value).map(PhaseDocument::Tasks).map_err(wrong),
            other => Err(ValidationError::new("phase", format!("the {other} phase has no document"))),
        }
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            PhaseDocument::Requirements(document) => document.validate(),
            PhaseDocument::Design(document) => document.validate(),
            PhaseDocument::Tasks(document) => document.validate(),
        }
    }
}

fn check_count(field: &str, count: usize) -> Result<(), ValidationError> {
    if count > MAX_ITEMS {
        return Err(ValidationError::new(field, format!("has {count} items; the limit is {MAX_ITEMS}")));
    }
    Ok(())
}

fn check_sections(sections: &[Section]) -> Result<(), ValidationError> {
    check_count("sections", sections.len())?;
    for (index, section) in sections.iter().enumerate() {
        check_text(&format!("sections[{index}].heading"), &section.heading, LINE_CHARS)?;
        check_optional_text(&format!("sections[{index}].body"), &section.body, TEXT_CHARS)?;
    }
    Ok(())
}

/// `R` and a number without a leading zero.
pub fn is_requirement_id(id: &str) -> bool {
    id.strip_prefix('R').is_some_and(is_number)
}

/// A requirement id, a dot, a number: `R1.2`.
pub fn is_criterion_id(id: &str) -> bool {
    id.split_once('.').is_some_and(|(requirement, number)| is_requirement_id(requirement) && is_number(number))
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && !text.starts_with('0') && text.chars().all(|c| c.is_ascii_digit())
}

/// `T001`, `1`, `2.1`: optional letters, then dot-separated numbers.
pub fn is_task_id(id: &str) -> bool {
    let digits = id.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    id.len() <= 20
        && !digits.is_empty()
        && digits.split('.').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
}

impl RequirementsDocument {
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_text("title", &self.title, LINE_CHARS)?;
        check_optional_text("introduction", &self.introduction, TEXT_CHARS)?;
        check_count("requirements", self.requirements.len())?;
        let mut seen = BTreeSet::new();
        for (index, requirement) in self.requirements.iter().enumerate() {
            let field = format!("requirements[{index}]");
            if !is_requirement_id(&requirement.id) {
                return Err(ValidationError::new(
                    format!("{field}.id"),
                    format!("{:?} is not a requirement id like R1", requirement.id),
                ));
            }
            if !seen.insert(requirement.id.as_str()) {
                return Err(ValidationError::new(format!("{field}.id"), format!("{} is used twice", requirement.id)));
            }
            check_text(&format!("{field}.title"), &requirement.title, LINE_CHARS)?;
            check_optional_text(&format!("{field}.story"), &requirement.story, TEXT_CHARS)?;
            check_count(&format!("{field}.criteria"), requirement.criteria.len())?;
            for (number, criterion) in requirement.criteria.iter().enumerate() {
                let field = format!("{field}.criteria[{number}]");
                let own = criterion.id.strip_prefix(requirement.id.as_str()).and_then(|rest| rest.strip_prefix('.'));
                if !is_criterion_id(&criterion.id) || own.is_none() {
                    return Err(ValidationError::new(
                        format!("{field}.id"),
                        format!(
                            "{:?} is not a criterion id of {} (like {}.1)",
                            criterion.id, requirement.id, requirement.id
                        ),
                    ));
                }
                if !seen.insert(criterion.id.as_str()) {
                    return Err(ValidationError::new(format!("{field}.id"), format!("{} is used twice", criterion.id)));
                }
                check_text(&format!("{field}.text"), &criterion.text, TEXT_CHARS)?;
            }
        }
        check_count("open_questions", self.open_questions.len())?;
        for (index, question) in self.open_questions.iter().enumerate() {
            check_text(&format!("open_questions[{index}]"), question, TEXT_CHARS)?;
        }
        check_sections(&self.sections)
    }

    /// Every requirement and criterion id.
    pub fn ids(&self) -> BTreeSet<&str> {
        self.requirements
            .iter()
            .flat_map(|requirement| {
                std::iter::once(requirement.id.as_str()).chain(requirement.criteria.iter().map(|c| c.id.as_str()))
            })
            .collect()
    }
}

impl DesignDocument {
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_text("title", &self.title, LINE_CHARS)?;
        for (field, text) in [
            ("overview", &self.overview),
            ("architecture", &self.architecture),
            ("data_model", &self.data_model),
            ("error_handling", &self.error_handling),
        ] {
            check_optional_text(field, text, TEXT_CHARS)?;
        }
        check_count("diagrams", self.diagrams.len())?;
        for (index, diagram) in self.diagrams.iter().enumerate() {
            check_text(&format!("diagrams[{index}].title"), &diagram.title, LINE_CHARS)?;
            check_text(&format!("diagrams[{index}].mermaid"), &diagram.mermaid, TEXT_CHARS)?;
        }
        check_count("properties", self.properties.len())?;
        let mut seen = BTreeSet::new();
        for (index, property) in self.properties.iter().enumerate() {
            let field = format!("properties[{index}]");
            if !property.id.strip_prefix('P').is_some_and(is_number) || !seen.insert(property.id.as_str()) {
                return Err(ValidationError::new(
                    format!("{field}.id"),
                    format!("{:?} is not a new property id like P1", property.id),
                ));
            }
            check_text(&format!("{field}.text"), &property.text, TEXT_CHARS)?;
            check_references(&format!("{field}.requirements"), &property.requirements)?;
        }
        check_sections(&self.sections)
    }
}

fn check_references(field: &str, ids: &[String]) -> Result<(), ValidationError> {
    for (index, id) in ids.iter().enumerate() {
        if !is_requirement_id(id) && !is_criterion_id(id) {
            return Err(ValidationError::new(
                format!("{field}[{index}]"),
                format!("{id:?} is not a requirement id like R1 or R1.2"),
            ));
        }
    }
    Ok(())
}

impl TasksDocument {
    /// Checks each task and the graph: ids unique, dependencies known, no cycle.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_text("title", &self.title, LINE_CHARS)?;
        check_optional_text("introduction", &self.introduction, TEXT_CHARS)?;
        check_count("tasks", self.tasks.len())?;
        for (index, task) in self.tasks.iter().enumerate() {
            let field = format!("tasks[{index}]");
            if !is_task_id(&task.id) {
                return Err(ValidationError::new(
                    format!("{field}.id"),
                    format!("{:?} is not a task id like T001 or 1.2", task.id),
                ));
            }
            check_text(&format!("{field}.title"), &task.title, LINE_CHARS)?;
            check_optional_text(&format!("{field}.done_when"), &task.done_when, TEXT_CHARS)?;
            check_references(&format!("{field}.requirements"), &task.requirements)?;
            check_count(&format!("{field}.details"), task.details.len())?;
            for (line, detail) in task.details.iter().enumerate() {
                check_optional_text(&format!("{field}.details[{line}]"), detail, LINE_CHARS)?;
            }
        }
        let graph: Vec<(&str, &[String])> =
            self.tasks.iter().map(|task| (task.id.as_str(), task.depends_on.as_slice())).collect();
        check_task_graph(&graph)?;
        check_sections(&self.sections)
    }

    /// Checks that every requirement a task serves is in `requirements`.
    pub fn check_requirements(&self, requirements: &RequirementsDocument) -> Result<(), ValidationError> {
        let known = requirements.ids();
        for (index, task) in self.tasks.iter().enumerate() {
            for (position, id) in task.requirements.iter().enumerate() {
                if !known.contains(id.as_str()) {
                    return Err(ValidationError::new(
                        format!("tasks[{index}].requirements[{position}]"),
                        format!("task {} serves {id}, which the requirements do not have", task.id),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A small valid requirements document for tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub(crate) fn requirements() -> RequirementsDocument {
        RequirementsDocument {
            title: "Shop".into(),
            requirements: vec![Requirement {
                id: "R1".into(),
                title: "Checkout".into(),
                story: "As a buyer, I want to pay, so that I get my order".into(),
                priority: None,
                criteria: vec![
                    Criterion {
                        id: "R1.1".into(),
                        text: "WHEN the cart is paid THE SYSTEM SHALL send a receipt".into(),
                    },
                    Criterion { id: "R1.2".into(), text: "IF the card fails THEN THE SYSTEM SHALL say why".into() },
                ],
            }],
            ..RequirementsDocument::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::requirements;
    use super::*;

    #[test]
    fn ids_are_checked_and_named() {
        assert_eq!(requirements().validate(), Ok(()));
        let mut twice = requirements();
        twice.requirements[0].criteria[1].id = "R1.1".into();
        let error = twice.validate().unwrap_err();
        assert_eq!(error.field, "requirements[0].criteria[1].id");
        assert!(error.message.contains("used twice"), "{error}");
        let mut foreign = requirements();
        foreign.requirements[0].criteria[0].id = "R2.1".into();
        assert!(foreign.validate().unwrap_err().message.contains("not a criterion id of R1"));
        assert!(is_task_id("T001") && is_task_id("1.2") && is_task_id("12") && !is_task_id("T") && !is_task_id("1..2"));
        assert!(is_criterion_id("R10.3") && !is_criterion_id("R01.1") && !is_requirement_id("R1.1"));
    }

    #[test]
    fn tasks_must_serve_known_requirements() {
        let tasks = TasksDocument {
            title: "Shop".into(),
            tasks: vec![TaskSpec {
                id: "T001".into(),
                title: "Pay".into(),
                requirements: vec!["R1.3".into()],
                ..TaskSpec::default()
            }],
            ..TasksDocument::default()
        };
        assert_eq!(tasks.validate(), Ok(()));
        let error = tasks.check_requirements(&requirements()).unwrap_err();
        assert_eq!(error.field, "tasks[0].requirements[0]");
        assert!(error.message.contains("R1.3"), "{error}");
    }

    #[test]
    fn documents_read_back_from_their_json() {
        let document = PhaseDocument::Requirements(requirements());
        let read = PhaseDocument::from_json(Phase::Requirements, document.to_json()).unwrap();
        assert_eq!(read, document);
        let wrong = PhaseDocument::from_json(Phase::Tasks, document.to_json()).unwrap_err();
        assert_eq!(wrong.field, "document");
        assert!(PhaseDocument::from_json(Phase::Done, document.to_json()).is_err());
    }
}
