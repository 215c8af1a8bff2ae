//! Projects and ideas on the wire: a project to add (with the documents an
//! import brings), a project with its documents and task graph, a document
//! proposed for the current phase, a gate decision, and the ideas inbox.
//! Documents travel as JSON objects shaped by their phase's JSON Schema.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_domain::project::idea::IdeaPatch;
use steward_domain::project::{
    Idea, NewIdea, NewProject, Phase, PhaseDocument, PhaseGates, Project, ProjectPatch, ProjectTask, SpecLayout,
    StoredDocument,
};
use steward_domain::{AgentId, IdeaId, ProjectId, ValidationError};
use steward_store::ProjectRecord;
use utoipa::ToSchema;

/// The three documents an imported spec brings, approved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportedDocuments {
    #[schema(value_type = Object)]
    pub requirements: Value,
    #[schema(value_type = Object)]
    pub design: Value,
    #[schema(value_type = Object)]
    pub tasks: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProjectRequest {
    pub title: String,
    #[serde(default)]
    pub brief: String,
    /// A git repository (a path) tasks work in, each on its own branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Each document phase's gate: `{"requirements": "manual", "design": "automatic", "tasks": "manual"}`
    /// (manual by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub gates: Option<PhaseGates>,
    /// How many tasks may run at once (2 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_limit: Option<u32>,
    /// `spec-kit` or `kiro` (the layout export writes; `kiro` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<String>,
    /// The idea it is made from (promoted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idea_id: Option<i64>,
    /// An import's documents, approved; the project starts in execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<ImportedDocuments>,
    /// Ids of tasks already done (an imported spec's checked boxes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub done_tasks: Vec<String>,
    /// The agent that writes each phase's document (asked as soon as the
    /// project enters the phase, and again when a document is sent back)
    /// and works on the tasks. Without one, a person proposes the documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<i64>,
    /// The agent that checks each finished task (the project's agent when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator_id: Option<i64>,
    /// Times the validator may send a task back before a person decides (2 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rounds: Option<u32>,
    /// A task an agent discovers while working (`project.add_task`) joins the graph once a person
    /// approves the call (`approve`, the default) or at once (`allow`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovered_tasks: Option<String>,
    /// Commands run in a task's workspace after the validator passes it (`cargo test`); one
    /// failing sends the task back with its output's tail, counted as a round.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
    /// The light path for small work: the agent (`agent_id` needed) writes requirements, design
    /// and tasks in one go, and the three wait together at one gate (approved or sent back
    /// together; automatic when every gate is).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quick: bool,
    /// What the project changes of the guardian's policy for its tasks' runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardian: Option<crate::api::GuardianPolicyBody>,
}

impl TryFrom<CreateProjectRequest> for NewProject {
    type Error = ValidationError;

    fn try_from(request: CreateProjectRequest) -> Result<Self, Self::Error> {
        let mut project = NewProject::from_brief(&request.title, &request.brief);
        project.repository = request.repository;
        project.gates = request.gates.unwrap_or_default();
        project.parallel_limit = request.parallel_limit.unwrap_or(project.parallel_limit);
        if let Some(layout) = request.layout {
            project.layout = layout.parse::<SpecLayout>()?;
        }
        project.idea_id = request.idea_id.map(IdeaId);
        if let Some(documents) = request.documents {
            project.documents = vec![
                PhaseDocument::from_json(Phase::Requirements, documents.requirements)
                    .map_err(|error| error.within("documents.requirements"))?,
                PhaseDocument::from_json(Phase::Design, documents.design)
                    .map_err(|error| error.within("documents.design"))?,
                PhaseDocument::from_json(Phase::Tasks, documents.tasks)
                    .map_err(|error| error.within("documents.tasks"))?,
            ];
        }
        project.done_tasks = request.done_tasks;
        project.agent_id = request.agent_id.map(AgentId);
        project.validator_id = request.validator_id.map(AgentId);
        project.max_rounds = request.max_rounds.unwrap_or(project.max_rounds);
        project.checks = request.checks;
        project.quick = request.quick;
        project.guardian = request.guardian.map(Into::into).unwrap_or_default();
        if let Some(discovered) = request.discovered_tasks {
            project.discovered_tasks = discovered.parse()?;
        }
        Ok(project)
    }
}

/// A version of a phase's document: proposed for the project's current
/// phase, or an edit replacing an approved one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeDocumentRequest {
    /// `requirements`, `design` or `tasks`: the project's current phase
    /// (a proposal) or a phase with an approved document (an edit).
    pub phase: String,
    #[schema(value_type = Object)]
    pub document: Value,
}

impl TryFrom<ProposeDocumentRequest> for PhaseDocument {
    type Error = ValidationError;

    fn try_from(request: ProposeDocumentRequest) -> Result<Self, Self::Error> {
        PhaseDocument::from_json(request.phase.parse()?, request.document)
    }
}

/// Sends the waiting document back for a revision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectDocumentRequest {
    /// What the revision must address.
    pub comment: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DocumentResponse {
    pub phase: String,
    pub version: u32,
    /// `proposed` (waiting at its gate), `approved` or `rejected`.
    pub status: String,
    #[schema(value_type = Object)]
    pub document: Value,
    #[serde(default)]
    pub comment: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<StoredDocument> for DocumentResponse {
    fn from(stored: StoredDocument) -> Self {
        DocumentResponse {
            phase: stored.phase.as_str().into(),
            version: stored.version,
            status: stored.status.as_str().into(),
            document: stored.document.to_json(),
            comment: stored.comment,
            created_at: stored.created_at,
            decided_at: stored.decided_at,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskResponse {
    /// `T001`, `1.2`.
    pub id: String,
    pub title: String,
    /// `pending`, `running`, `validating`, `done` or `failed`.
    pub state: String,
    pub parallel: bool,
    pub depends_on: Vec<String>,
    pub requirements: Vec<String>,
    pub done_when: String,
    /// Times the validator sent it back.
    pub rounds: u32,
    #[serde(default)]
    pub feedback: Option<String>,
    #[serde(default)]
    pub job_id: Option<i64>,
    /// The agent's latest run on it.
    #[serde(default)]
    pub run_id: Option<i64>,
    /// How many times an edit of the spec re-planned it (a task being
    /// worked on whose text changed is restarted on the new text).
    #[serde(default)]
    pub replans: u32,
}

impl From<ProjectTask> for TaskResponse {
    fn from(task: ProjectTask) -> Self {
        TaskResponse {
            id: task.spec.id,
            title: task.spec.title,
            state: task.state.as_str().into(),
            parallel: task.spec.parallel,
            depends_on: task.spec.depends_on,
            requirements: task.spec.requirements,
            done_when: task.spec.done_when,
            rounds: task.rounds,
            feedback: task.feedback,
            job_id: task.job_id.map(|id| id.get()),
            run_id: task.run_id.map(|id| id.get()),
            replans: task.replans,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProjectResponse {
    #[schema(value_type = i64)]
    pub id: ProjectId,
    pub title: String,
    pub brief: String,
    #[serde(default)]
    pub repository: Option<String>,
    /// `requirements`, `design`, `tasks`, `execution`, `validation` or `done`.
    pub phase: String,
    #[schema(value_type = Object)]
    pub gates: Value,
    pub parallel_limit: u32,
    pub layout: String,
    #[serde(default)]
    pub idea_id: Option<i64>,
    /// The agent that writes the documents and works on the tasks.
    #[serde(default)]
    pub agent_id: Option<i64>,
    /// The agent that checks finished tasks (the project's agent when absent).
    #[serde(default)]
    pub validator_id: Option<i64>,
    /// Times the validator may send a task back before a person decides.
    pub max_rounds: u32,
    /// `approve` (a person approves each task an agent discovers) or `allow`.
    pub discovered_tasks: String,
    /// Commands run in a task's workspace after the validator passes it.
    #[serde(default)]
    pub checks: Vec<String>,
    /// What the project changes of the guardian's policy (project > agent > global); `{}` changes nothing.
    #[serde(default)]
    pub guardian: crate::api::GuardianPolicyBody,
    /// The latest failure of an agent's work on the project, until a document is proposed.
    #[serde(default)]
    pub failure: Option<String>,
    /// The light path: the three documents are written in one go and reviewed together.
    #[serde(default)]
    pub quick: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Every version of each phase's document, oldest first (left out of lists).
    #[serde(default)]
    pub documents: Vec<DocumentResponse>,
    /// The task graph in document order (left out of lists).
    #[serde(default)]
    pub tasks: Vec<TaskResponse>,
}

impl From<Project> for ProjectResponse {
    fn from(project: Project) -> Self {
        ProjectResponse {
            id: project.id,
            title: project.title,
            brief: project.brief,
            repository: project.repository,
            phase: project.phase.as_str().into(),
            gates: serde_json::to_value(project.gates).unwrap_or(Value::Null),
            parallel_limit: project.parallel_limit,
            layout: project.layout.as_str().into(),
            idea_id: project.idea_id.map(|id| id.get()),
            agent_id: project.agent_id.map(|id| id.get()),
            validator_id: project.validator_id.map(|id| id.get()),
            max_rounds: project.max_rounds,
            discovered_tasks: project.discovered_tasks.as_str().into(),
            checks: project.checks,
            guardian: project.guardian.into(),
            failure: project.failure,
            quick: project.quick,
            created_at: project.created_at,
            updated_at: project.updated_at,
            documents: Vec::new(),
            tasks: Vec::new(),
        }
    }
}

impl From<ProjectRecord> for ProjectResponse {
    fn from(record: ProjectRecord) -> Self {
        ProjectResponse {
            documents: record.documents.into_iter().map(Into::into).collect(),
            tasks: record.tasks.into_iter().map(Into::into).collect(),
            ..record.project.into()
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProjectListResponse {
    pub projects: Vec<ProjectResponse>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIdeaRequest {
    pub title: String,
    #[serde(default)]
    pub notes: String,
}

impl From<CreateIdeaRequest> for NewIdea {
    fn from(request: CreateIdeaRequest) -> Self {
        NewIdea { title: request.title, notes: request.notes }
    }
}

/// A project's settings to change; fields left out stay as they are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProjectRequest {
    /// `approve` (a person approves each task an agent discovers) or `allow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovered_tasks: Option<String>,
    /// The commands run in a task's workspace after the validator passes
    /// it, replacing the current list (empty: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<Vec<String>>,
}

impl TryFrom<UpdateProjectRequest> for ProjectPatch {
    type Error = ValidationError;

    fn try_from(request: UpdateProjectRequest) -> Result<Self, Self::Error> {
        Ok(ProjectPatch {
            discovered_tasks: request.discovered_tasks.as_deref().map(str::parse).transpose()?,
            checks: request.checks,
        })
    }
}

/// New notes, a new state (`new`, `refining`, `dropped`), or both.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIdeaRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

impl TryFrom<UpdateIdeaRequest> for IdeaPatch {
    type Error = ValidationError;

    fn try_from(request: UpdateIdeaRequest) -> Result<Self, Self::Error> {
        Ok(IdeaPatch { notes: request.notes, state: request.state.as_deref().map(str::parse).transpose()? })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IdeaResponse {
    #[schema(value_type = i64)]
    pub id: IdeaId,
    pub title: String,
    pub notes: String,
    /// `new`, `refining`, `promoted` or `dropped`.
    pub state: String,
    #[serde(default)]
    pub project_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Idea> for IdeaResponse {
    fn from(idea: Idea) -> Self {
        IdeaResponse {
            id: idea.id,
            title: idea.title,
            notes: idea.notes,
            state: idea.state.as_str().into(),
            project_id: idea.project_id.map(|id| id.get()),
            created_at: idea.created_at,
            updated_at: idea.updated_at,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IdeaListResponse {
    pub ideas: Vec<IdeaResponse>,
}
