//! The light path: a small project's three documents written together, in
//! one reply whose schema is the three phase schemas side by side, and
//! proposed together at one gate. Each part is read and checked as its
//! phase's document would be (a problem named with its document, as in
//! `tasks.tasks[1].depends_on[0]`), and the tasks must serve requirements
//! of the requirements beside them, so the three are stored together or
//! not at all.

use serde_json::{Value, json};

use super::schema::document_schema;
use super::{DesignDocument, Phase, PhaseDocument, RequirementsDocument, TasksDocument};
use crate::validation::ValidationError;

/// A project's three documents, written in one go.
#[derive(Clone, Debug, PartialEq)]
pub struct QuickDocuments {
    pub requirements: RequirementsDocument,
    pub design: DesignDocument,
    pub tasks: TasksDocument,
}

/// The three document phases, in order: the keys of the light path's reply.
pub const QUICK_PHASES: [Phase; 3] = [Phase::Requirements, Phase::Design, Phase::Tasks];

/// The schema of the light path's reply: an object with one member per
/// document phase, each matching that phase's schema.
pub fn quick_schema() -> Value {
    let mut properties = serde_json::Map::new();
    for phase in QUICK_PHASES {
        properties.insert(phase.as_str().to_string(), document_schema(phase).unwrap_or(Value::Null));
    }
    json!({
        "title": "quick",
        "type": "object",
        "properties": properties,
        "required": QUICK_PHASES.map(Phase::as_str),
        "additionalProperties": false
    })
}

impl QuickDocuments {
    /// Reads the reply: each member as its phase's document, checked like
    /// one (ids, references, the task graph without a cycle), and the
    /// tasks against the requirements beside them. The field of a problem
    /// starts with its document's name.
    pub fn from_json(value: Value) -> Result<QuickDocuments, ValidationError> {
        let Value::Object(mut members) = value else {
            return Err(ValidationError::new("", "is not an object with requirements, design and tasks"));
        };
        if let Some(extra) = members.keys().find(|key| !QUICK_PHASES.iter().any(|phase| phase.as_str() == *key)) {
            return Err(ValidationError::new(extra.clone(), "is not a document; expected requirements, design, tasks"));
        }
        let mut part = |phase: Phase| {
            let name = phase.as_str();
            let value = members.remove(name).ok_or_else(|| ValidationError::new(name, "is missing"))?;
            // `from_json` names the whole document; say which one.
            PhaseDocument::from_json(phase, value).map_err(|error| ValidationError::new(name, error.message))
        };
        let (requirements, design, tasks) = (part(Phase::Requirements)?, part(Phase::Design)?, part(Phase::Tasks)?);
        let (PhaseDocument::Requirements(requirements), PhaseDocument::Design(design), PhaseDocument::Tasks(tasks)) =
            (requirements, design, tasks)
        else {
            return Err(ValidationError::new("", "expected requirements, design and tasks"));
        };
        let documents = QuickDocuments { requirements, design, tasks };
        documents.check()?;
        Ok(documents)
    }

    /// Checks each document and that every task serves a requirement of the
    /// requirements document, naming the document of a problem.
    pub fn check(&self) -> Result<(), ValidationError> {
        self.requirements.validate().map_err(|error| error.within("requirements"))?;
        self.design.validate().map_err(|error| error.within("design"))?;
        self.tasks.validate().map_err(|error| error.within("tasks"))?;
        self.tasks.check_requirements(&self.requirements).map_err(|error| error.within("tasks"))
    }

    /// The three, in phase order.
    pub fn into_documents(self) -> [PhaseDocument; 3] {
        [
            PhaseDocument::Requirements(self.requirements),
            PhaseDocument::Design(self.design),
            PhaseDocument::Tasks(self.tasks),
        ]
    }

    /// The three as one JSON object, shaped by [`quick_schema`].
    pub fn to_json(&self) -> Value {
        json!({
            "requirements": PhaseDocument::Requirements(self.requirements.clone()).to_json(),
            "design": PhaseDocument::Design(self.design.clone()).to_json(),
            "tasks": PhaseDocument::Tasks(self.tasks.clone()).to_json(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::TaskSpec;
    use crate::project::document::tests_support::requirements;

    fn documents() -> QuickDocuments {
        let task = |id: &str, depends_on: &[&str]| TaskSpec {
            id: id.into(),
            title: format!("Do {id}"),
            requirements: vec!["R1.1".into()],
            done_when: format!("{id} is done"),
            depends_on: depends_on.iter().map(|id| id.to_string()).collect(),
            ..TaskSpec::default()
        };
        QuickDocuments {
            requirements: requirements(),
            design: DesignDocument {
                title: "Shop".into(),
                architecture: "One service.".into(),
                data_model: "Orders.".into(),
                error_handling: "Retried.".into(),
                ..DesignDocument::default()
            },
            tasks: TasksDocument {
                title: "Shop".into(),
                tasks: vec![task("T001", &[]), task("T002", &["T001"])],
                ..TasksDocument::default()
            },
        }
    }

    #[test]
    fn the_reply_matches_the_three_schemas_side_by_side() {
        let validator = jsonschema::validator_for(&quick_schema()).unwrap();
        let reply = documents().to_json();
        assert!(
            validator.is_valid(&reply),
            "{:?}",
            validator.iter_errors(&reply).map(|e| e.to_string()).collect::<Vec<_>>()
        );
        let mut without_design = reply.clone();
        without_design.as_object_mut().unwrap().remove("design");
        assert!(!validator.is_valid(&without_design), "all three documents are required");
        let mut not_ears = reply.clone();
        not_ears["requirements"]["requirements"][0]["criteria"][0]["text"] = json!("a receipt is sent");
        assert!(!validator.is_valid(&not_ears), "each part keeps its phase's rules");
        assert_eq!(QuickDocuments::from_json(reply).unwrap(), documents());
    }

    #[test]
    fn a_problem_is_named_with_its_document() {
        let mut cycle = documents().to_json();
        cycle["tasks"]["tasks"][0]["depends_on"] = json!(["T002"]);
        let error = QuickDocuments::from_json(cycle).unwrap_err();
        assert_eq!(error.field, "tasks.tasks");
        assert!(error.message.contains("T001 → T002 → T001"), "{error}");

        let mut unknown = documents().to_json();
        unknown["tasks"]["tasks"][1]["requirements"] = json!(["R9"]);
        let error = QuickDocuments::from_json(unknown).unwrap_err();
        assert_eq!(error.field, "tasks.tasks[1].requirements[0]");

        let mut twice = documents().to_json();
        twice["requirements"]["requirements"][0]["criteria"][1]["id"] = json!("R1.1");
        assert_eq!(QuickDocuments::from_json(twice).unwrap_err().field, "requirements.requirements[0].criteria[1].id");

        let mut wrong_type = documents().to_json();
        wrong_type["design"]["architecture"] = json!(42);
        assert_eq!(QuickDocuments::from_json(wrong_type).unwrap_err().field, "design");

        let mut missing = documents().to_json();
        missing.as_object_mut().unwrap().remove("tasks");
        assert_eq!(QuickDocuments::from_json(missing).unwrap_err().field, "tasks");
        assert_eq!(QuickDocuments::from_json(json!({"notes": 1})).unwrap_err().field, "notes");
    }
}
