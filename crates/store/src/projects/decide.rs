//! The rules of projects and ideas, written once for both databases: rows
//! read back into domain types, what a proposed document or a gate decision
//! writes, and how an approved tasks document re-plans the task rows
//! (unchanged tasks keep their state, so done work stays done).

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use steward_domain::project::idea::IdeaPatch;
use steward_domain::project::quick::QUICK_PHASES;
use steward_domain::project::{
    DiscoveredTask, DocumentStatus, Gate, GateDecision, Idea, NewProject, Phase, PhaseDocument, PhaseGates, Project,
    ProjectPatch, ProjectTask, QuickDocuments, StoredDocument, TaskSpec, TaskState, TasksDocument, tasks_to_start,
};

use steward_domain::project::replan::{self, Replan, Replanned};
use steward_domain::project::work::{self, PlannedTaskJob};
use steward_domain::{AgentId, IdeaId, JobId, JobState, NewEvent, NewJob, ProjectId, RunId, UserId, ValidationError};

use crate::{ConflictKind, StoreError};

pub(crate) fn damaged(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("stored {what}: {error}"))
}

fn count(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// An `ideas` row as stored.
pub(crate) struct IdeaRow {
    pub id: i64,
    pub user_id: i64,
    pub title: String,
    pub notes: String,
    pub state: String,
    pub project_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl IdeaRow {
    pub(crate) fn into_idea(self) -> Result<Idea, StoreError> {
        Ok(Idea {
            id: IdeaId(self.id),
            user_id: UserId(self.user_id),
            title: self.title,
            notes: self.notes,
            state: self.state.parse().map_err(|error| damaged("idea state", error))?,
            project_id: self.project_id.map(ProjectId),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A `projects` row as stored (gates as JSON text).
pub(crate) struct ProjectRow {
    pub id: i64,
    pub user_id: i64,
    pub title: String,
    pub brief: String,
    pub repository: Option<String>,
    pub phase: String,
    pub gates: String,
    pub parallel_limit: i64,
    pub layout: String,
    pub idea_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub validator_id: Option<i64>,
    pub max_rounds: i64,
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub discovered_tasks: String,
    /// A JSON array of commands.
    pub checks: String,
    pub quick: bool,
    /// A JSON object: the project's changes to the guardian's policy.
    pub guardian: String,
}

impl ProjectRow {
    pub(crate) fn into_project(self) -> Result<Project, StoreError> {
        Ok(Project {
            id: ProjectId(self.id),
            user_id: UserId(self.user_id),
            title: self.title,
            brief: self.brief,
            repository: self.repository,
            phase: self.phase.parse().map_err(|error| damaged("project phase", error))?,
            gates: serde_json::from_str(&self.gates).map_err(|error| damaged("project gates", error))?,
            parallel_limit: count(self.parallel_limit),
            layout: self.layout.parse().map_err(|error| damaged("project layout", error))?,
            idea_id: self.idea_id.map(IdeaId),
            agent_id: self.agent_id.map(AgentId),
            validator_id: self.validator_id.map(AgentId),
            max_rounds: count(self.max_rounds),
            discovered_tasks: self.discovered_tasks.parse().map_err(|error| damaged("discovered_tasks", error))?,
            checks: serde_json::from_str(&self.checks).map_err(|error| damaged("project checks", error))?,
            guardian: serde_json::from_str(&self.guardian).map_err(|error| damaged("project guardian", error))?,
            failure: self.failure,
            quick: self.quick,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The event of a settings change.
pub(crate) fn settings_event(project: ProjectId, patch: &ProjectPatch) -> NewEvent {
    NewEvent::ProjectSettingsChanged { project, discovered_tasks: patch.discovered_tasks, checks: patch.checks.clone() }
}

pub(crate) fn gates_text(gates: &PhaseGates) -> Result<String, StoreError> {
    Ok(serde_json::to_string(gates)?)
}

/// A `project_documents` row as stored.
pub(crate) struct DocumentRow {
    pub project_id: i64,
    pub phase: String,
    pub version: i64,
    pub status: String,
    pub document: String,
    pub comment: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl DocumentRow {
    pub(crate) fn into_document(self) -> Result<StoredDocument, StoreError> {
        let phase: Phase = self.phase.parse().map_err(|error| damaged("document phase", error))?;
        let value = serde_json::from_str(&self.document).map_err(|error| damaged("document", error))?;
        Ok(StoredDocument {
            project_id: ProjectId(self.project_id),
            phase,
            version: count(self.version),
            status: self.status.parse().map_err(|error| damaged("document status", error))?,
            document: PhaseDocument::from_json(phase, value).map_err(|error| damaged("document", error))?,
            comment: self.comment,
            created_at: self.created_at,
            decided_at: self.decided_at,
        })
    }
}

/// A `project_tasks` row as stored.
pub(crate) struct TaskRow {
    pub project_id: i64,
    pub spec: String,
    pub state: String,
    pub rounds: i64,
    pub feedback: Option<String>,
    pub job_id: Option<i64>,
    pub run_id: Option<i64>,
    pub replans: i64,
    pub updated_at: DateTime<Utc>,
}

impl TaskRow {
    pub(crate) fn into_task(self) -> Result<ProjectTask, StoreError> {
        Ok(ProjectTask {
            project_id: ProjectId(self.project_id),
            spec: serde_json::from_str(&self.spec).map_err(|error| damaged("task", error))?,
            state: self.state.parse().map_err(|error| damaged("task state", error))?,
            rounds: count(self.rounds),
            feedback: self.feedback,
            job_id: self.job_id.map(JobId),
            run_id: self.run_id.map(RunId),
            replans: count(self.replans),
            updated_at: self.updated_at,
        })
    }
}

pub(crate) fn spec_text(spec: &TaskSpec) -> Result<String, StoreError> {
    Ok(serde_json::to_string(spec)?)
}

pub(crate) fn document_text(document: &PhaseDocument) -> Result<String, StoreError> {
    Ok(serde_json::to_string(&document.to_json())?)
}

/// Checks a new project against the idea it promotes (when any).
pub(crate) fn check_promotion(idea: Option<&Idea>) -> Result<(), StoreError> {
    match idea {
        Some(idea) if !idea.state.is_open() => Err(StoreError::conflict(
            ConflictKind::IllegalTransition,
            Some("idea_id"),
            format!("idea {} is {}; only a new or refining idea becomes a project", idea.id, idea.state),
        )),
        _ => Ok(()),
    }
}

pub(crate) fn created_event(project: &Project, new: &NewProject) -> NewEvent {
    let tasks = new.documents.iter().map(|document| match document {
        PhaseDocument::Tasks(tasks) => tasks.tasks.len(),
        _ => 0,
    });
    NewEvent::ProjectCreated {
        project: project.id,
        title: project.title.clone(),
        phase: project.phase,
        imported: !new.documents.is_empty(),
        tasks: tasks.sum(),
    }
}

pub(crate) fn idea_event(idea: &Idea, to: steward_domain::project::IdeaState, project: Option<ProjectId>) -> NewEvent {
    NewEvent::IdeaUpdated { idea: idea.id, from: idea.state, to, project_id: project.or(idea.project_id) }
}

pub(crate) fn check_idea_patch(idea: &Idea, patch: &IdeaPatch) -> Result<(), StoreError> {
    Ok(patch.check(idea)?)
}

/// What proposing a document writes.
pub(crate) struct Proposal {
    pub version: u32,
    pub status: DocumentStatus,
}

/// Checks a document proposed for the project's current phase: it
/// validates, tasks serve requirements that exist, and nothing else waits
/// at the gate. Through an automatic gate it is approved at once.
pub(crate) fn proposal(
    project: &Project,
    documents: &[StoredDocument],
    document: &PhaseDocument,
) -> Result<Proposal, StoreError> {
    let phase = document.phase();
    if project.phase != phase {
        return Err(StoreError::conflict(
            ConflictKind::IllegalTransition,
            Some("phase"),
            format!(
                "project {} is in the {} phase; a {phase} document cannot be proposed now",
                project.id, project.phase
            ),
        ));
    }
    document.validate().map_err(|error| error.within("document"))?;
    if let PhaseDocument::Tasks(tasks) = document
        && let Some(StoredDocument { document: PhaseDocument::Requirements(requirements), .. }) =
            approved(documents, Phase::Requirements)
    {
        tasks.check_requirements(requirements).map_err(|error| error.within("document"))?;
    }
    if let Some(waiting) = documents.iter().find(|d| d.phase == phase && d.status == DocumentStatus::Proposed) {
        return Err(StoreError::conflict(
            ConflictKind::IllegalTransition,
            Some("phase"),
            format!(
                "version {} of the {phase} document waits at its gate; approve or reject it first",
                waiting.version
            ),
        ));
    }
    let version = documents.iter().filter(|d| d.phase == phase).map(|d| d.version).max().unwrap_or(0) + 1;
    let status = match project.gates.of(phase) {
        Some(Gate::Automatic) => DocumentStatus::Approved,
        _ => DocumentStatus::Proposed,
    };
    Ok(Proposal { version, status })
}

/// What proposing the light path's three documents writes: each its
/// next version, all with one status.
pub(crate) struct QuickProposal {
    pub versions: [u32; 3],
    pub status: DocumentStatus,
}

/// Checks the light path's three documents, proposed together while the
/// project is in the requirements phase with nothing waiting at a gate.
/// They pass at once only when every gate is automatic; otherwise they
/// wait together at the requirements gate.
pub(crate) fn quick_proposal(
    project: &Project,
    documents: &[StoredDocument],
    quick: &QuickDocuments,
) -> Result<QuickProposal, StoreError> {
    if project.phase != Phase::Requirements {
        return Err(StoreError::conflict(
            ConflictKind::IllegalTransition,
            Some("phase"),
            format!(
                "project {} is in the {} phase; the three documents are proposed together only in the requirements \
                 phase",
                project.id, project.phase
            ),
        ));
    }
    quick.check().map_err(|error| error.within("documents"))?;
    if let Some(waiting) = documents.iter().find(|d| d.status == DocumentStatus::Proposed) {
        return Err(StoreError::conflict(
            ConflictKind::IllegalTransition,
            Some("phase"),
            format!(
                "version {} of the {} document waits at its gate; approve or reject it first",
                waiting.version, waiting.phase
            ),
        ));
    }
    let automatic = QUICK_PHASES.iter().all(|phase| project.gates.of(*phase) == Some(Gate::Automatic));
    Ok(QuickProposal {
        versions: QUICK_PHASES.map(|phase| next_version(documents, phase)),
        status: if automatic { DocumentStatus::Approved } else { DocumentStatus::Proposed },
    })
}

/// The three documents of a light-path proposal waiting together at the
/// requirements gate, in phase order; `None` when the gate holds a single
/// phase's document (or nothing).
pub(crate) fn waiting_together<'a>(
    project: &Project,
    documents: &'a [StoredDocument],
) -> Option<[&'a StoredDocument; 3]> {
    if project.phase != Phase::Requirements {
        return None;
    }
    let waiting = |phase: Phase| documents.iter().find(|d| d.phase == phase && d.status == DocumentStatus::Proposed);
    Some([waiting(Phase::Requirements)?, waiting(Phase::Design)?, waiting(Phase::Tasks)?])
}

/// The phases a light-path approval moves the project through, each
/// `from → to` entered as the normal path enters it, one gate at a time:
/// requirements → design → tasks → execution.
pub(crate) fn quick_passage() -> [(Phase, Phase); 3] {
    QUICK_PHASES.map(|phase| (phase, phase.next()))
}

/// The latest approved document of `phase`.
pub(crate) fn approved(documents: &[StoredDocument], phase: Phase) -> Option<&StoredDocument> {
    documents.iter().filter(|d| d.phase == phase && d.status == DocumentStatus::Approved).max_by_key(|d| d.version)
}

/// The document waiting at the current phase's gate, and what the decision makes of it.
pub(crate) fn decision<'a>(
    project: &Project,
    documents: &'a [StoredDocument],
    decision: &GateDecision,
) -> Result<(&'a StoredDocument, DocumentStatus, Option<String>), StoreError> {
    decision.validate()?;
    let waiting = documents
        .iter()
        .find(|d| d.phase == project.phase && d.status == DocumentStatus::Proposed)
        .ok_or_else(|| {
            StoreError::conflict(
                ConflictKind::IllegalTransition,
                None,
                format!("nothing waits at the {} gate of project {}", project.phase, project.id),
            )
        })?;
    let (status, comment) = outcome(decision)?;
    Ok((waiting, status, comment))
}

/// What a gate decision makes of the document(s) waiting: their status and the comment kept.
pub(crate) fn outcome(decision: &GateDecision) -> Result<(DocumentStatus, Option<String>), StoreError> {
    decision.validate()?;
    Ok(match decision {
        GateDecision::Approve => (DocumentStatus::Approved, None),
        GateDecision::Reject { comment } => (DocumentStatus::Rejected, Some(comment.trim().to_string())),
    })
}

/// One task row to write after a tasks document is approved.
pub(crate) struct PlannedTask {
    pub spec: TaskSpec,
    pub state: TaskState,
    pub rounds: u32,
    pub feedback: Option<String>,
    pub job_id: Option<JobId>,
    pub run_id: Option<RunId>,
    pub replans: u32,
    /// The state before, when the task existed.
    pub before: Option<TaskState>,
    /// Its spec or state changed (an event is due).
    pub changed: bool,
}

/// Re-plans the task rows for an approved tasks document: a task whose
/// spec is unchanged keeps its state and history; a changed or new task
/// starts pending (or done when `done` lists it); a task no longer listed
/// goes.
pub(crate) fn plan_tasks(existing: &[ProjectTask], tasks: &[TaskSpec], done: &[String]) -> Vec<PlannedTask> {
    tasks
        .iter()
        .map(|spec| {
            let before = existing.iter().find(|task| task.spec.id == spec.id);
            let initial = if done.contains(&spec.id) { TaskState::Done } else { TaskState::Pending };
            match before {
                Some(task) if task.spec == *spec => PlannedTask {
                    spec: spec.clone(),
                    state: task.state,
                    rounds: task.rounds,
                    feedback: task.feedback.clone(),
                    job_id: task.job_id,
                    run_id: task.run_id,
                    replans: task.replans,
                    before: Some(task.state),
                    changed: false,
                },
                _ => PlannedTask {
                    spec: spec.clone(),
                    state: initial,
                    rounds: 0,
                    feedback: None,
                    job_id: None,
                    run_id: None,
                    // A move decided on the task as it was is refused.
                    replans: before.map_or(0, |task| task.replans + 1),
                    before: before.map(|task| task.state),
                    changed: true,
                },
            }
        })
        .collect()
}

pub(crate) fn task_event(project: ProjectId, task: &PlannedTask) -> Option<NewEvent> {
    task.changed.then(|| NewEvent::ProjectTaskChanged {
        project,
        task: task.spec.id.clone(),
        from: task.before,
        to: task.state,
        rounds: task.rounds,
    })
}

/// What a person's edit of an approved document writes: its version, and
/// the task graph re-planned by stable ids.
pub(crate) struct Edit {
    pub version: u32,
    pub replan: Replan,
    /// The project was done and a task is no longer: it executes again.
    pub reopens: bool,
}

/// Checks an edit of an approved document (it validates, differs from the
/// approved version, and a tasks document serves requirements that exist)
/// and re-plans only the tasks it affects.
pub(crate) fn edit(
    project: &Project,
    documents: &[StoredDocument],
    tasks: &[ProjectTask],
    document: &PhaseDocument,
    now: DateTime<Utc>,
) -> Result<Edit, StoreError> {
    let phase = document.phase();
    document.validate().map_err(|error| error.within("document"))?;
    let current = approved(documents, phase).ok_or_else(|| {
        StoreError::conflict(
            ConflictKind::IllegalTransition,
            Some("phase"),
            format!(
                "project {} has no approved {phase} document to edit; propose one and let it through its gate",
                project.id
            ),
        )
    })?;
    if current.document == *document {
        return Err(ValidationError::new(
            "document",
            format!("is the approved version {} unchanged: nothing to edit", current.version),
        )
        .into());
    }
    let replan = match (&current.document, document) {
        (PhaseDocument::Requirements(before), PhaseDocument::Requirements(after)) => {
            replan::replan_for_requirements(tasks, &replan::changed_requirements(before, after))
        }
        (PhaseDocument::Design(before), PhaseDocument::Design(after)) => {
            replan::replan_for_requirements(tasks, &replan::changed_by_design(before, after))
        }
        (_, PhaseDocument::Tasks(after)) => {
            if let Some(StoredDocument { document: PhaseDocument::Requirements(requirements), .. }) =
                approved(documents, Phase::Requirements)
            {
                after.check_requirements(requirements).map_err(|error| error.within("document"))?;
            }
            replan::replan_for_tasks(project.id, tasks, after, now)
        }
        _ => return Err(damaged("document", format!("the approved {phase} document is of another phase"))),
    };
    let reopens = project.phase == Phase::Done && replan.tasks.iter().any(|task| task.state != TaskState::Done);
    Ok(Edit { version: next_version(documents, phase), replan, reopens })
}

/// The rows an edit writes: each task as re-planned, with no
/// `project.task_changed` event (the edit records `project.task_replanned`).
pub(crate) fn edited_rows(replan: &Replan) -> Vec<PlannedTask> {
    kept_rows(&replan.tasks)
}

fn kept_rows(tasks: &[ProjectTask]) -> Vec<PlannedTask> {
    tasks
        .iter()
        .map(|task| PlannedTask {
            spec: task.spec.clone(),
            state: task.state,
            rounds: task.rounds,
            feedback: task.feedback.clone(),
            job_id: task.job_id,
            run_id: task.run_id,
            replans: task.replans,
            before: Some(task.state),
            changed: false,
        })
        .collect()
}

pub(crate) fn edit_events(project: &Project, phase: Phase, edit: &Edit) -> Vec<NewEvent> {
    let mut events = vec![NewEvent::ProjectDocumentEdited {
        project: project.id,
        phase,
        version: edit.version,
        replanned: edit.replan.replanned.len(),
    }];
    events.extend(edit.replan.replanned.iter().map(|replanned| NewEvent::ProjectTaskReplanned {
        project: project.id,
        task: replanned.task.clone(),
        from: replanned.from,
        to: replanned.to,
        reason: replanned.reason.clone(),
    }));
    events
}

/// Why the run of a task an edit restarted or dropped is stopped.
pub(crate) fn stop_reason(replanned: &Replanned) -> String {
    format!("task {} was re-planned by an edit of the spec: {}", replanned.task, replanned.reason)
}

/// What adding a discovered task writes: the tasks document's next
/// version, with the task at its end.
pub(crate) enum Discovery {
    Added {
        document: Box<TasksDocument>,
        version: u32,
        spec: TaskSpec,
    },
    /// The same call added it already (a run's call executed again).
    AlreadyAdded,
}

/// Checks a task an agent discovered: the project executes, the task joins
/// the approved tasks document without breaking its graph, and it serves
/// requirements that exist.
pub(crate) fn discovery(
    project: &Project,
    documents: &[StoredDocument],
    discovered: &DiscoveredTask,
) -> Result<Discovery, StoreError> {
    if !matches!(project.phase, Phase::Execution | Phase::Validation | Phase::Done) {
        return Err(StoreError::conflict(
            ConflictKind::IllegalTransition,
            Some("phase"),
            format!("project {} is in the {} phase; tasks are added while it executes", project.id, project.phase),
        ));
    }
    let Some(StoredDocument { document: PhaseDocument::Tasks(current), .. }) = approved(documents, Phase::Tasks) else {
        return Err(damaged("project", format!("project {} executes without an approved tasks document", project.id)));
    };
    let spec = discovered.spec_with_origin();
    if current.tasks.contains(&spec) {
        return Ok(Discovery::AlreadyAdded);
    }
    let document = discovered.added_to(current)?;
    if let Some(StoredDocument { document: PhaseDocument::Requirements(requirements), .. }) =
        approved(documents, Phase::Requirements)
    {
        document.check_requirements(requirements).map_err(|error| ValidationError::new("task", error.to_string()))?;
    }
    Ok(Discovery::Added { document: Box::new(document), version: next_version(documents, Phase::Tasks), spec })
}

/// The rows of `existing` tasks kept as they are, then `added` as a new
/// pending task (with its `project.task_changed` event).
pub(crate) fn rows_with_added(existing: &[ProjectTask], added: &TaskSpec) -> Vec<PlannedTask> {
    let mut rows = kept_rows(existing);
    rows.push(PlannedTask {
        spec: added.clone(),
        state: TaskState::Pending,
        rounds: 0,
        feedback: None,
        job_id: None,
        run_id: None,
        replans: 0,
        before: None,
        changed: true,
    });
    rows
}

/// Checks a task's move; the validator's rounds count when it sends a task back.
pub(crate) fn check_task_move(task: &ProjectTask, to: TaskState) -> Result<(), StoreError> {
    use TaskState::*;
    let allowed = matches!(
        (task.state, to),
        (Pending, Running)
            | (Running, Running | Validating | Done | Failed | Pending)
            | (Validating, Done | Running | Failed | Pending)
            | (Failed, Pending)
            | (Done, Pending)
    );
    if !allowed {
        return Err(StoreError::conflict(
            ConflictKind::IllegalTransition,
            Some("state"),
            format!("task {} is {}; it cannot become {to}", task.spec.id, task.state),
        ));
    }
    Ok(())
}

/// A move decided on the task as it was before an edit re-planned it (a
/// stopped run's result landing late, a start from an old reading of its
/// text) is refused as stale: the task's job reads it again.
pub(crate) fn check_replans(task: &ProjectTask, decided_on: Option<u32>) -> Result<(), StoreError> {
    match decided_on {
        Some(replans) if replans != task.replans => Err(StoreError::conflict(
            ConflictKind::Stale,
            Some("replans"),
            format!(
                "task {} was re-planned by an edit of the spec since this move was decided (re-plan {replans}, now                  {}); read it again",
                task.spec.id, task.replans
            ),
        )),
        _ => Ok(()),
    }
}

/// A task starts (pending → running) only when its dependencies are done
/// and it fits the parallel limit ([`tasks_to_start`]); checked in the
/// transaction of the move, so two task jobs cannot both take the last place.
pub(crate) fn check_may_start(project: &Project, tasks: &[ProjectTask], key: &str) -> Result<(), StoreError> {
    if tasks_to_start(tasks, project.parallel_limit).iter().any(|task| task.spec.id == key) {
        return Ok(());
    }
    Err(StoreError::conflict(
        ConflictKind::IllegalTransition,
        Some("state"),
        format!(
            "task {key} cannot start yet: a task it depends on is not done, or the project's limit of {} tasks at \
             once (a task not marked parallel runs alone) is reached",
            project.parallel_limit
        ),
    ))
}

/// Checks that the agent a project names is the user's.
pub(crate) fn check_agent(field: &str, agent: AgentId, found: bool) -> Result<(), StoreError> {
    if found {
        return Ok(());
    }
    Err(steward_domain::ValidationError::new(field, format!("there is no agent {agent}")).into())
}

/// The version the next proposal of `phase` gets.
pub(crate) fn next_version(documents: &[StoredDocument], phase: Phase) -> u32 {
    documents.iter().filter(|d| d.phase == phase).map(|d| d.version).max().unwrap_or(0) + 1
}

/// The job asking the project's agent for the next version of `phase`'s
/// document, when the project has an agent and the phase a document.
pub(crate) fn document_job(project: &Project, documents: &[StoredDocument], phase: Phase) -> Option<NewJob> {
    work::document_job(project, phase, next_version(documents, phase))
}

/// Checks `project run`: the tasks document approved and an agent to work.
pub(crate) fn check_execution(project: &Project) -> Result<(), StoreError> {
    if project.agent_id.is_none() {
        return Err(StoreError::conflict(
            ConflictKind::IllegalTransition,
            Some("agent_id"),
            format!("project {} has no agent to work on its tasks; give it one with agent_id", project.id),
        ));
    }
    if !matches!(project.phase, Phase::Execution | Phase::Validation | Phase::Done) {
        return Err(StoreError::conflict(
            ConflictKind::IllegalTransition,
            Some("phase"),
            format!(
                "project {} is in the {} phase; it runs once its tasks document is approved",
                project.id, project.phase
            ),
        ));
    }
    Ok(())
}

/// The task jobs `project run` queues, given the state of each task's job.
pub(crate) fn execution_jobs(
    project: ProjectId,
    tasks: &[ProjectTask],
    job_states: &BTreeMap<JobId, JobState>,
) -> Vec<PlannedTaskJob> {
    let live: BTreeMap<String, JobId> = tasks
        .iter()
        .filter_map(|task| {
            let job = task.job_id?;
            let state = job_states.get(&job)?;
            (!state.is_finished()).then(|| (task.spec.id.clone(), job))
        })
        .collect();
    work::task_jobs(project, tasks, &live)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str, title: &str) -> TaskSpec {
        TaskSpec { id: id.into(), title: title.into(), ..TaskSpec::default() }
    }

    #[test]
    fn re_planning_keeps_unchanged_tasks_and_resets_changed_ones() {
        let task = |spec: TaskSpec, state| ProjectTask {
            project_id: ProjectId(1),
            spec,
            state,
            rounds: 1,
            feedback: None,
            job_id: None,
            run_id: None,
            replans: 0,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        };
        let existing = [task(spec("T001", "a"), TaskState::Done), task(spec("T002", "b"), TaskState::Done)];
        let planned = plan_tasks(&existing, &[spec("T001", "a"), spec("T002", "b, changed"), spec("T003", "c")], &[]);
        let states: Vec<(TaskState, bool)> = planned.iter().map(|task| (task.state, task.changed)).collect();
        assert_eq!(states, [(TaskState::Done, false), (TaskState::Pending, true), (TaskState::Pending, true)]);
        assert_eq!(planned[0].rounds, 1);
        assert_eq!(planned[1].before, Some(TaskState::Done));
    }
}
