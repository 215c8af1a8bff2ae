//! Ideas and spec-driven projects: a project with its phase documents
//! (every version, with its gate decision) and its task graph. Each change
//! is one transaction with its events; an approved document moves the
//! project to the next phase, and an approved tasks document re-plans the
//! task rows. The rules are in `decide.rs`, written once for both
//! databases.

pub(crate) mod decide;
pub(crate) mod gate;
pub(crate) mod merge;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;
use steward_domain::oversight::GuardianOverride;
use steward_domain::oversight::duplicates::Duplicate;
use steward_domain::project::Phase;
use steward_domain::project::idea::IdeaPatch;
use steward_domain::project::{
    DiscoveredTask, GateDecision, Idea, NewIdea, NewProject, PhaseDocument, Project, ProjectPatch, ProjectTask,
    QuickDocuments, StoredDocument, TaskState,
};
use steward_domain::{DuplicateId, IdeaId, JobId, ProjectId, RunId, UserId};

use crate::Result;

/// A project with its documents (every version, oldest first) and tasks (in document order).
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectRecord {
    pub project: Project,
    pub documents: Vec<StoredDocument>,
    pub tasks: Vec<ProjectTask>,
}

/// A task's move, by the executor or the validator.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskUpdate {
    pub state: TaskState,
    /// The validator's feedback (kept until replaced).
    pub feedback: Option<String>,
    /// The job executing it.
    pub job_id: Option<JobId>,
    /// The agent's run on it (kept until replaced).
    pub run_id: Option<RunId>,
    /// The validator sent it back: one more round.
    pub sent_back: bool,
    /// The task's `replans` this move was decided on: when an edit of the
    /// spec re-planned the task since, the move is refused as stale (the
    /// task's job reads it again). `None` moves it whatever the count.
    pub replans: Option<u32>,
}

impl TaskUpdate {
    /// A move to `state` that changes nothing else.
    pub fn to(state: TaskState) -> TaskUpdate {
        TaskUpdate { state, feedback: None, job_id: None, run_id: None, sent_back: false, replans: None }
    }

    /// The same move, made only if `task` was not re-planned since it was read.
    pub fn decided_on(self, task: &ProjectTask) -> TaskUpdate {
        TaskUpdate { replans: Some(task.replans), ..self }
    }
}

#[async_trait]
pub trait ProjectStore {
    /// Captures an idea (state `new`), with event `idea.captured`.
    async fn create_idea(&self, user: UserId, idea: NewIdea) -> Result<Idea>;

    async fn get_idea(&self, user: UserId, id: IdeaId) -> Result<Idea>;

    /// The user's ideas, newest first.
    async fn list_ideas(&self, user: UserId) -> Result<Vec<Idea>>;

    /// Changes an idea's notes or state (promotion happens by creating a
    /// project from it), with event `idea.updated`.
    async fn update_idea(&self, user: UserId, id: IdeaId, patch: IdeaPatch) -> Result<Idea>;

    /// Adds a project with the approved documents it brings (an import)
    /// and their task rows, promotes the idea it comes from, with events
    /// `project.created` and one `project.task_changed` per task.
    async fn create_project(&self, user: UserId, project: NewProject) -> Result<ProjectRecord>;

    async fn get_project(&self, user: UserId, id: ProjectId) -> Result<ProjectRecord>;

    /// The user's projects, newest first.
    async fn list_projects(&self, user: UserId) -> Result<Vec<Project>>;

    /// A person changes a project's settings (whether discovered tasks need
    /// approval, its check commands), with event `project.settings_changed`.
    /// They apply from the next task on.
    async fn update_project(&self, user: UserId, id: ProjectId, patch: ProjectPatch) -> Result<Project>;

    /// Proposes the next version of the current phase's document
    /// (`project.document_proposed`). Through an automatic gate it is
    /// approved at once and the project enters the next phase; at a manual
    /// gate it waits in the approvals inbox as a pending `project.gate`
    /// approval (`approval.requested`), written in the same transaction.
    async fn propose_document(&self, user: UserId, id: ProjectId, document: PhaseDocument) -> Result<ProjectRecord>;

    /// The light path: proposes a project's three documents together, in
    /// the requirements phase (`project.document_proposed` for each, in
    /// phase order). When every gate is automatic all three are approved at
    /// once and the project passes each gate to execution, its task graph
    /// written; otherwise they wait together at one gate, and the next
    /// decision decides all three. A part refused (a schema rule, a cycle,
    /// a task serving a requirement that does not exist) stores none.
    async fn propose_quick(&self, user: UserId, id: ProjectId, documents: QuickDocuments) -> Result<ProjectRecord>;

    /// Approves the document waiting at the current phase's gate (the
    /// project enters the next phase; an approved tasks document re-plans
    /// the tasks), or rejects it with a comment for the revision. The light
    /// path's three documents waiting together are decided together:
    /// approved, the project goes to execution with its task graph; sent
    /// back, all three are rejected with the comment and one job asks the
    /// agent for the three again. The gate's pending approval in the inbox
    /// is resolved in the same transaction (`approval.decided`).
    async fn decide_document(&self, user: UserId, id: ProjectId, decision: GateDecision) -> Result<ProjectRecord>;

    /// A person replaces an approved document with a new version, approved
    /// (`project.document_edited`). Compared by stable ids, only the tasks it
    /// affects are re-planned, each with `project.task_replanned` and its
    /// reason, and counts the re-plan (`replans`): the tasks serving a
    /// requirement or criterion that changed, was added or removed (a done
    /// one goes back to pending); for a tasks edit, the tasks whose
    /// definition changed (a done one goes back to pending when its
    /// requirements or done-when changed), new tasks (pending), and removed
    /// ones (dropped, a live job cancelled, a live run stopped). A task
    /// being worked on whose text changed is restarted: its live run is
    /// stopped and it is pending again, its job kept, so its next run gets
    /// the new instruction and a move decided on the old text is refused
    /// ([`TaskUpdate::replans`]). Every other task keeps its state and job.
    async fn edit_document(&self, user: UserId, id: ProjectId, document: PhaseDocument) -> Result<ProjectRecord>;

    /// A person merges the two tasks of an open duplicate flag, keeping
    /// `kept` (one of its refs, `PROJECT/TASK`): in one transaction the
    /// flag is decided (`duplicate.decided`) and the project's tasks
    /// document is edited as `edit_document` does, the dropped task merged
    /// into the kept one (`TasksDocument::merge_tasks`). Refused whole,
    /// with nothing written, when the flag is decided already or either
    /// task has left the graph. Returns the decided flag.
    async fn merge_duplicate_tasks(&self, user: UserId, duplicate: DuplicateId, kept: &str) -> Result<Duplicate>;

    /// An agent working on `discovered.from_task` adds a task it discovered
    /// (`project.task_discovered`): the approved tasks document gets a new
    /// version with the task at its end (a graph it would break, or a
    /// requirement that does not exist, is refused), the task joins the
    /// graph pending, and its job is queued after its dependencies'. The
    /// same task added again by the same call changes nothing.
    async fn add_task(&self, user: UserId, id: ProjectId, discovered: DiscoveredTask) -> Result<ProjectRecord>;

    /// The project and the task a run works on, when it is a task's run.
    async fn task_of_run(&self, user: UserId, run: RunId) -> Result<Option<(Project, String)>>;

    /// Replaces what the project changes of the guardian's policy for its
    /// tasks' runs (`GuardianOverride::default()` changes nothing); event
    /// `project.guardian_set`.
    async fn set_project_guardian(&self, user: UserId, id: ProjectId, guardian: GuardianOverride) -> Result<Project>;

    /// Moves a task (`project.task_changed`); when every task is done the
    /// project is done (`project.phase_entered`). A move decided on an
    /// earlier re-plan of the task is refused (`Conflict`, kind `Stale`).
    async fn update_task(&self, user: UserId, id: ProjectId, task: &str, update: TaskUpdate) -> Result<ProjectTask>;

    /// Records that an agent's work on the project failed
    /// (`project.agent_failed`); kept on the project until a document is proposed.
    async fn record_agent_failure(&self, user: UserId, id: ProjectId, phase: Phase, reason: &str) -> Result<()>;

    /// Records that the agent's reply for `phase`'s document failed a check
    /// a schema cannot make (a cycle, a reference to nothing) and was sent
    /// back to it (`project.document_refused`, its `attempt`-th reply); the
    /// project itself does not change.
    async fn record_document_refused(
        &self,
        user: UserId,
        id: ProjectId,
        phase: Phase,
        attempt: u32,
        problem: &str,
    ) -> Result<()>;

    /// `project run`: queues a job for each task not done whose job is not
    /// waiting or running, `depends_on` following the task graph, in one
    /// transaction (`project.execution_started`). Done tasks are never
    /// queued again, so running again resumes.
    async fn start_execution(&self, user: UserId, id: ProjectId) -> Result<ProjectRecord>;
}
