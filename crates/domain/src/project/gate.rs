//! A phase gate in the approvals inbox: a document waiting at a manual gate
//! gets a pending approval (tool [`GATE_TOOL`]) naming the project, its
//! title, the phase and the revision, so the inbox can show what is being
//! approved. Approving it approves the phase as `project approve` does;
//! rejecting it sends the document back with the reason as the comment.
//! An approval decides only the revision it was asked for.

use serde_json::{Value, json};

use super::{Phase, StoredDocument};
use crate::ids::ProjectId;
use crate::validation::ValidationError;

/// The approval's tool name: a project's phase gate.
pub const GATE_TOOL: &str = "project.gate";

/// What a gate's approval asks a person to let through.
#[derive(Clone, Debug, PartialEq)]
pub struct GateApproval {
    pub project_id: ProjectId,
    pub title: String,
    /// The phase whose gate it is (the light path's three wait at the
    /// requirements gate).
    pub phase: Phase,
    /// The revision of `phase`'s document that waits.
    pub version: u32,
    /// The phases whose documents this one decision decides, in order:
    /// only `phase`, or the light path's three.
    pub phases: Vec<Phase>,
}

impl GateApproval {
    /// The approval's call id: the revision it decides (`requirements-v2`).
    pub fn call_id(&self) -> String {
        format!("{}-v{}", self.phase, self.version)
    }

    /// The approval's arguments, what the inbox shows.
    pub fn arguments(&self) -> Value {
        let phases: Vec<&str> = self.phases.iter().map(|phase| phase.as_str()).collect();
        json!({
            "project_id": self.project_id,
            "title": self.title,
            "phase": self.phase.as_str(),
            "version": self.version,
            "phases": phases,
        })
    }

    /// Reads the phase and revision back from stored arguments.
    pub fn revision(arguments: &Value) -> Result<(Phase, u32), ValidationError> {
        let phase = arguments
            .get("phase")
            .and_then(Value::as_str)
            .ok_or_else(|| ValidationError::new("arguments.phase", "is missing"))?
            .parse()?;
        let version = arguments
            .get("version")
            .and_then(Value::as_u64)
            .and_then(|version| u32::try_from(version).ok())
            .ok_or_else(|| ValidationError::new("arguments.version", "is missing"))?;
        Ok((phase, version))
    }
}

/// Whether an approval for `phase`'s revision `version` may decide what
/// waits at the gate now: only while that very revision waits. A person
/// who decided an older revision (in the inbox or with `project approve`)
/// cannot, by deciding its approval late, let a newer one through.
pub fn decides_waiting(phase: Phase, version: u32, waiting: Option<&StoredDocument>) -> bool {
    waiting.is_some_and(|document| document.phase == phase && document.version == version)
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::project::{DocumentStatus, PhaseDocument, RequirementsDocument};

    fn waiting(version: u32) -> StoredDocument {
        StoredDocument {
            project_id: ProjectId(3),
            phase: Phase::Requirements,
            version,
            status: DocumentStatus::Proposed,
            document: PhaseDocument::Requirements(RequirementsDocument::default()),
            comment: None,
            created_at: DateTime::UNIX_EPOCH,
            decided_at: None,
        }
    }

    #[test]
    fn a_gate_names_its_revision_and_decides_only_that_one() {
        let gate = GateApproval {
            project_id: ProjectId(3),
            title: "Shop".into(),
            phase: Phase::Requirements,
            version: 2,
            phases: vec![Phase::Requirements],
        };
        assert_eq!(gate.call_id(), "requirements-v2");
        let arguments = gate.arguments();
        assert_eq!(
            arguments.to_string(),
            r#"{"phase":"requirements","phases":["requirements"],"project_id":3,"title":"Shop","version":2}"#
        );
        assert_eq!(GateApproval::revision(&arguments).unwrap(), (Phase::Requirements, 2));
        assert!(decides_waiting(Phase::Requirements, 2, Some(&waiting(2))));
        assert!(!decides_waiting(Phase::Requirements, 2, Some(&waiting(3))), "a newer revision waits");
        assert!(!decides_waiting(Phase::Design, 2, Some(&waiting(2))));
        assert!(!decides_waiting(Phase::Requirements, 2, None), "nothing waits any more");
        assert_eq!(GateApproval::revision(&json!({"phase": "requirements"})).unwrap_err().field, "arguments.version");
    }
}
