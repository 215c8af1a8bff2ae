//! Spec-driven projects: an idea becomes a project with a brief; the project
//! moves through phases (requirements → design → tasks → execution →
//! validation → done), each of the first three producing a document
//! ([`document`]) that a gate lets through, by a person or automatically;
//! the tasks document becomes a task graph ([`task`]) executed under a
//! parallel limit. Spec-kit and Kiro folders are read and written by
//! [`markdown`], without a model.

pub mod discovered;
pub mod document;
pub mod gate;
pub mod graph;
pub mod idea;
pub mod markdown;
pub mod merge;
pub mod quick;
pub mod replan;
pub mod schema;
pub mod task;
pub mod work;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, IdeaId, ProjectId, UserId};
use crate::text_enum::text_enum;
use crate::validation::{ValidationError, check_display_name, check_optional_text};

pub use discovered::{DiscoveredTask, DiscoveredTasks};
pub use document::{
    Criterion, DesignDocument, Diagram, PhaseDocument, Property, Requirement, RequirementsDocument, Section, TaskSpec,
    TasksDocument,
};
pub use graph::check_task_graph;
pub use idea::{Idea, IdeaState, NewIdea};
pub use quick::QuickDocuments;
pub use task::{ProjectTask, TaskState, tasks_to_start};

pub mod limits {
    pub const TITLE_CHARS: usize = 200;
    pub const BRIEF_CHARS: usize = 50_000;
    pub const REPOSITORY_CHARS: usize = 4_096;
    pub const MAX_PARALLEL: u32 = 64;
    pub const COMMENT_CHARS: usize = 10_000;
    /// Times the validator may send one task back before a person decides.
    pub const MAX_ROUNDS: u32 = 20;
    /// Check commands a project may run after each validated task.
    pub const MAX_CHECKS: usize = 20;
    pub const CHECK_CHARS: usize = 2_000;
}

text_enum!(
    /// Where a project is in its life. The first three phases each produce
    /// a document; a project enters the next phase when its gate passes.
    Phase, "phase", {
        Requirements => "requirements",
        Design => "design",
        Tasks => "tasks",
        Execution => "execution",
        Validation => "validation",
        Done => "done",
    }
);

impl Phase {
    /// The phase after this one (`done` stays `done`).
    pub fn next(self) -> Phase {
        match self {
            Phase::Requirements => Phase::Design,
            Phase::Design => Phase::Tasks,
            Phase::Tasks => Phase::Execution,
            Phase::Execution => Phase::Validation,
            Phase::Validation | Phase::Done => Phase::Done,
        }
    }

    /// Whether the phase is settled by a document (requirements, design, tasks).
    pub fn has_document(self) -> bool {
        matches!(self, Phase::Requirements | Phase::Design | Phase::Tasks)
    }
}

text_enum!(
    /// Who lets a phase's document through.
    Gate, "gate", {
        /// A person approves it in the approvals inbox (the default).
        Manual => "manual",
        /// It passes as soon as it validates.
        Automatic => "automatic",
    }
);

/// The gate of each document phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhaseGates {
    #[serde(with = "gate_text")]
    pub requirements: Gate,
    #[serde(with = "gate_text")]
    pub design: Gate,
    #[serde(with = "gate_text")]
    pub tasks: Gate,
}

impl Default for PhaseGates {
    fn default() -> Self {
        PhaseGates { requirements: Gate::Manual, design: Gate::Manual, tasks: Gate::Manual }
    }
}

impl PhaseGates {
    /// Every gate automatic (imports of finished specs, the light path's tests).
    pub const AUTOMATIC: PhaseGates =
        PhaseGates { requirements: Gate::Automatic, design: Gate::Automatic, tasks: Gate::Automatic };

    /// The gate of a document phase; phases without a document have none.
    pub fn of(&self, phase: Phase) -> Option<Gate> {
        match phase {
            Phase::Requirements => Some(self.requirements),
            Phase::Design => Some(self.design),
            Phase::Tasks => Some(self.tasks),
            _ => None,
        }
    }
}

mod gate_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Gate;

    pub fn serialize<S: Serializer>(gate: &Gate, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(gate.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Gate, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

text_enum!(
    /// The Markdown layout a project's spec is read from and written to.
    SpecLayout, "layout", {
        /// GitHub spec-kit: `spec.md`, `plan.md`, `tasks.md`.
        SpecKit => "spec-kit",
        /// Kiro: `requirements.md`, `design.md`, `tasks.md`.
        Kiro => "kiro",
    }
);

impl SpecLayout {
    /// The file names of the requirements, design and tasks documents.
    pub fn file_names(self) -> [&'static str; 3] {
        match self {
            SpecLayout::SpecKit => ["spec.md", "plan.md", "tasks.md"],
            SpecLayout::Kiro => ["requirements.md", "design.md", "tasks.md"],
        }
    }
}

/// A stored project.
#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    pub id: ProjectId,
    pub user_id: UserId,
    pub title: String,
    pub brief: String,
    /// A git repository (a path) tasks work in, each on its own branch.
    pub repository: Option<String>,
    pub phase: Phase,
    pub gates: PhaseGates,
    /// How many tasks may run at once.
    pub parallel_limit: u32,
    pub layout: SpecLayout,
    /// The idea it was promoted from.
    pub idea_id: Option<IdeaId>,
    /// The agent that writes the documents and works on the tasks; without
    /// one, a person proposes the documents and nothing executes.
    pub agent_id: Option<AgentId>,
    /// The agent that checks each finished task (the project's agent, asked
    /// as a validator, when `None`).
    pub validator_id: Option<AgentId>,
    /// Times the validator may send a task back; the next failure goes to a person.
    pub max_rounds: u32,
    /// Whether a task an agent discovers needs a person's approval.
    pub discovered_tasks: DiscoveredTasks,
    /// Commands run in a task's workspace after the validator passes it
    /// (`cargo test`); one failing sends the task back.
    pub checks: Vec<String>,
    /// What the project changes of the guardian's policy for its tasks'
    /// runs (project > agent > global).
    pub guardian: crate::oversight::GuardianOverride,
    /// The latest failure of an agent's work on the project (a reply that
    /// did not match its phase's schema), until the next success.
    pub failure: Option<String>,
    /// The light path: the agent writes the three documents in one go, and
    /// they wait together at one gate ([`quick`]).
    pub quick: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Checks a project's check commands: at most [`limits::MAX_CHECKS`], each
/// a non-empty line of at most [`limits::CHECK_CHARS`].
pub fn check_commands(checks: &[String]) -> Result<(), ValidationError> {
    if checks.len() > limits::MAX_CHECKS {
        return Err(ValidationError::new("checks", format!("at most {} commands", limits::MAX_CHECKS)));
    }
    for (index, command) in checks.iter().enumerate() {
        crate::validation::check_text(&format!("checks[{index}]"), command, limits::CHECK_CHARS)?;
    }
    Ok(())
}

/// A person's change of a project's settings; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProjectPatch {
    pub discovered_tasks: Option<DiscoveredTasks>,
    /// The new list of check commands (empty: none).
    pub checks: Option<Vec<String>>,
}

impl ProjectPatch {
    /// Checks the fields given; a patch changing nothing is refused.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.discovered_tasks.is_none() && self.checks.is_none() {
            return Err(ValidationError::new("project", "name at least one of discovered_tasks and checks"));
        }
        if let Some(checks) = &self.checks {
            check_commands(checks)?;
        }
        Ok(())
    }
}

/// A project to add, with the documents it already has (an import brings
/// all three, approved; a new project none).
#[derive(Clone, Debug, PartialEq)]
pub struct NewProject {
    pub title: String,
    pub brief: String,
    pub repository: Option<String>,
    pub gates: PhaseGates,
    pub parallel_limit: u32,
    pub layout: SpecLayout,
    pub idea_id: Option<IdeaId>,
    pub agent_id: Option<AgentId>,
    pub validator_id: Option<AgentId>,
    pub max_rounds: u32,
    pub discovered_tasks: DiscoveredTasks,
    pub checks: Vec<String>,
    pub guardian: crate::oversight::GuardianOverride,
    /// Approved documents, in phase order; the project starts in the first
    /// phase without one.
    pub documents: Vec<PhaseDocument>,
    /// Task keys already done (an imported spec's checked boxes).
    pub done_tasks: Vec<String>,
    /// The light path: the agent writes all three documents in one go.
    pub quick: bool,
}

impl NewProject {
    /// A project with only a brief, in the requirements phase.
    pub fn from_brief(title: &str, brief: &str) -> NewProject {
        NewProject {
            title: title.to_string(),
            brief: brief.to_string(),
            repository: None,
            gates: PhaseGates::default(),
            parallel_limit: 2,
            layout: SpecLayout::Kiro,
            idea_id: None,
            agent_id: None,
            validator_id: None,
            max_rounds: 2,
            discovered_tasks: DiscoveredTasks::Approve,
            checks: Vec::new(),
            guardian: crate::oversight::GuardianOverride::default(),
            documents: Vec::new(),
            done_tasks: Vec::new(),
            quick: false,
        }
    }

    /// Checks what needs no lookup: the fields, each document, that the
    /// documents come in phase order without gaps, and that done tasks exist.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_display_name("title", &self.title, limits::TITLE_CHARS)?;
        check_optional_text("brief", &self.brief, limits::BRIEF_CHARS)?;
        if let Some(path) = &self.repository {
            check_display_name("repository", path, limits::REPOSITORY_CHARS)?;
        }
        check_parallel_limit(self.parallel_limit)?;
        check_commands(&self.checks)?;
        self.guardian.validate().map_err(|error| error.within("guardian"))?;
        if self.max_rounds > limits::MAX_ROUNDS {
            return Err(ValidationError::new(
                "max_rounds",
                format!("is {}; it must be at most {}", self.max_rounds, limits::MAX_ROUNDS),
            ));
        }
        if self.validator_id.is_some() && self.agent_id.is_none() {
            return Err(ValidationError::new(
                "validator_id",
                "needs an agent_id: the validator checks an agent's work",
            ));
        }
        if self.quick && self.agent_id.is_none() {
            return Err(ValidationError::new(
                "agent_id",
                "is needed by a quick project: its agent writes the three documents in one go",
            ));
        }
        if self.quick && !self.documents.is_empty() {
            return Err(ValidationError::new(
                "quick",
                "a project that brings its documents has nothing for the light path to write",
            ));
        }
        let expected = [Phase::Requirements, Phase::Design, Phase::Tasks];
        if self.documents.len() > expected.len() {
            return Err(ValidationError::new("documents", "at most three: requirements, design, tasks"));
        }
        for (index, (document, phase)) in self.documents.iter().zip(expected).enumerate() {
            if document.phase() != phase {
                return Err(ValidationError::new(
                    format!("documents[{index}]"),
                    format!("is a {} document; expected {phase} (documents come in phase order)", document.phase()),
                ));
            }
            document.validate().map_err(|error| error.within(&format!("documents[{index}]")))?;
        }
        let tasks = self.documents.iter().find_map(|document| match document {
            PhaseDocument::Tasks(tasks) => Some(tasks),
            _ => None,
        });
        if let (Some(PhaseDocument::Requirements(requirements)), Some(tasks)) = (self.documents.first(), tasks) {
            tasks.check_requirements(requirements).map_err(|error| error.within("documents[2]"))?;
        }
        for (index, key) in self.done_tasks.iter().enumerate() {
            if !tasks.is_some_and(|tasks| tasks.tasks.iter().any(|task| &task.id == key)) {
                return Err(ValidationError::new(format!("done_tasks[{index}]"), format!("no task {key:?}")));
            }
        }
        Ok(())
    }

    /// The phase the project starts in: the first without a document.
    pub fn starting_phase(&self) -> Phase {
        match self.documents.len() {
            0 => Phase::Requirements,
            1 => Phase::Design,
            2 => Phase::Tasks,
            _ => Phase::Execution,
        }
    }
}

pub fn check_parallel_limit(limit: u32) -> Result<(), ValidationError> {
    if limit == 0 || limit > limits::MAX_PARALLEL {
        return Err(ValidationError::new(
            "parallel_limit",
            format!("is {limit}; it must be between 1 and {}", limits::MAX_PARALLEL),
        ));
    }
    Ok(())
}

/// The status of one version of a phase's document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DocumentStatus {
    /// Waiting at its gate.
    Proposed,
    /// Let through; the project moved on.
    Approved,
    /// Sent back with a comment; a revision follows.
    Rejected,
}

impl DocumentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::Proposed => "proposed",
            DocumentStatus::Approved => "approved",
            DocumentStatus::Rejected => "rejected",
        }
    }
}

impl std::str::FromStr for DocumentStatus {
    type Err = ValidationError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [DocumentStatus::Proposed, DocumentStatus::Approved, DocumentStatus::Rejected]
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| ValidationError::new("status", format!("unknown document status {text:?}")))
    }
}

impl fmt::Display for DocumentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One version of a phase's document, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredDocument {
    pub project_id: ProjectId,
    pub phase: Phase,
    /// 1 for the first version; each revision adds one.
    pub version: u32,
    pub status: DocumentStatus,
    pub document: PhaseDocument,
    /// The person's comment when rejected (what the revision must address).
    pub comment: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// A person's decision on the document waiting at a gate.
#[derive(Clone, Debug, PartialEq)]
pub enum GateDecision {
    Approve,
    /// Sends the document back for a revision addressing the comment.
    Reject {
        comment: String,
    },
}

impl GateDecision {
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            GateDecision::Approve => Ok(()),
            GateDecision::Reject { comment } => {
                crate::validation::check_text("comment", comment, limits::COMMENT_CHARS)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_advance_in_order_and_stop_at_done() {
        let mut phase = Phase::Requirements;
        let mut seen = vec![phase];
        while phase != Phase::Done {
            phase = phase.next();
            seen.push(phase);
        }
        assert_eq!(seen, Phase::ALL);
        assert_eq!("design".parse::<Phase>().unwrap(), Phase::Design);
        let unknown = "build".parse::<Phase>().unwrap_err();
        assert_eq!(unknown.field, "phase");
    }

    #[test]
    fn gates_read_and_write_their_names() {
        let gates: PhaseGates = serde_json::from_str(r#"{"design": "automatic"}"#).unwrap();
        assert_eq!(gates.of(Phase::Design), Some(Gate::Automatic));
        assert_eq!(gates.of(Phase::Requirements), Some(Gate::Manual));
        assert_eq!(gates.of(Phase::Execution), None);
        assert_eq!(serde_json::to_value(gates).unwrap()["design"], "automatic");
        assert!(serde_json::from_str::<PhaseGates>(r#"{"design": "sometimes"}"#).is_err());
    }

    #[test]
    fn a_new_project_names_what_is_wrong() {
        let mut project = NewProject::from_brief("Shop", "A small shop");
        assert_eq!(project.validate(), Ok(()));
        project.parallel_limit = 0;
        assert_eq!(project.validate().unwrap_err().field, "parallel_limit");
        project.parallel_limit = 2;
        project.documents = vec![PhaseDocument::Design(DesignDocument::default())];
        let error = project.validate().unwrap_err();
        assert_eq!(error.field, "documents[0]");
        assert!(error.message.contains("expected requirements"), "{error}");
        project.documents.clear();
        project.done_tasks = vec!["T001".into()];
        assert_eq!(project.validate().unwrap_err().field, "done_tasks[0]");
        project.done_tasks.clear();
        project.quick = true;
        let error = project.validate().unwrap_err();
        assert_eq!(error.field, "agent_id", "the light path needs an agent to write: {error}");
        project.agent_id = Some(AgentId(1));
        assert_eq!(project.validate(), Ok(()));
    }
}
