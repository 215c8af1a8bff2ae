//! An event to append, typed by kind. The store supplies the user and the
//! time; everything else an event holds — its kind, subject and data — is
//! decided here, and [`NewEvent::data`] is the one place that turns it into
//! the JSON the events table holds (and the API, the SSE stream and the
//! dashboard read). Backends never build event JSON.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::job_event::JobEvent;
use super::{EventKind, EventSubject};
use crate::action::ActionState;
use crate::agent::AgentStatus;
use crate::approval::ApprovalStatus;
use crate::conversation::{ChatRole, ConversationKind};
use crate::delivery::DeliveryStatus;
use crate::ids::{
    ActionId, AgentId, ApprovalId, ArtifactId, AssessmentId, ConversationId, DeliveryId, DuplicateId, EpisodeId,
    FactId, FireId, IdeaId, JobId, MessageId, ProjectId, RoutineId, RunId, ScheduleId,
};
use crate::oversight::duplicates::{DuplicateKind, DuplicateStatus};
use crate::oversight::{AssessmentStatus, Intervention};
use crate::project::gate::GATE_TOOL;
use crate::project::{DiscoveredTasks, DocumentStatus, IdeaState, Phase, TaskState};
use crate::run::{RunOutcome, RunStatus, StepKind};
use crate::schedule::{FireOutcome, FireStatus};

/// The reason recorded on approvals withdrawn because their run ended.
pub const WITHDRAWN_REASON: &str = "the run ended before a decision";

#[derive(Clone, Debug, PartialEq)]
pub enum NewEvent {
    Job(JobEvent),
    AgentCreated {
        agent: AgentId,
        name: String,
    },
    /// `fields` names the fields the patch set.
    AgentUpdated {
        agent: AgentId,
        fields: Vec<&'static str>,
        status: AgentStatus,
    },
    AgentArchived {
        agent: AgentId,
        from: AgentStatus,
    },
    /// A new action, always a draft.
    ActionCreated {
        action: ActionId,
        agent_id: AgentId,
        title: String,
    },
    ActionUpdated {
        action: ActionId,
        agent_id: AgentId,
    },
    ActionTransitioned {
        action: ActionId,
        agent_id: AgentId,
        from: ActionState,
        to: ActionState,
        reason: Option<String>,
    },
    /// A run waits for job `job_id` to execute it.
    RunQueued {
        run: RunId,
        agent_id: AgentId,
        action_id: Option<ActionId>,
        job_id: JobId,
        queued: RunQueuedFor,
    },
    RunStarted {
        run: RunId,
        agent_id: AgentId,
        job_id: JobId,
        from: RunStatus,
        /// It had started before (it resumes after approvals or a retry).
        resumed: bool,
    },
    RunStep {
        run: RunId,
        agent_id: AgentId,
        sequence: u32,
        kind: StepKind,
        name: String,
        cost_usd: Option<f64>,
        cost_unknown: bool,
        error: Option<String>,
    },
    RunAwaitingApproval {
        run: RunId,
        agent_id: AgentId,
        approvals: Vec<ApprovalId>,
    },
    RunCancelRequested {
        run: RunId,
        agent_id: AgentId,
        job_id: Option<JobId>,
        reason: String,
    },
    RunFinished {
        run: RunId,
        agent_id: AgentId,
        action_id: Option<ActionId>,
        from: RunStatus,
        outcome: RunOutcome,
        error: Option<String>,
        steps: u32,
        cost_usd: f64,
        unknown_cost_calls: u32,
    },
    ApprovalRequested {
        approval: ApprovalId,
        run_id: RunId,
        agent_id: AgentId,
        tool: String,
        call_id: String,
    },
    /// A person approved or rejected.
    ApprovalDecided {
        approval: ApprovalId,
        run_id: RunId,
        tool: String,
        status: ApprovalStatus,
        reason: Option<String>,
    },
    /// Its run ended before a decision ([`WITHDRAWN_REASON`]).
    ApprovalWithdrawn {
        approval: ApprovalId,
        run_id: RunId,
    },
    /// A document waits at a project's manual gate, in the inbox
    /// (`approval.requested`, tool `project.gate`).
    GateApprovalRequested {
        approval: ApprovalId,
        project: ProjectId,
        agent_id: Option<AgentId>,
        phase: Phase,
        version: u32,
    },
    /// A person decided a gate, in the inbox or with `project approve|reject`
    /// (`approval.decided`).
    GateApprovalDecided {
        approval: ApprovalId,
        project: ProjectId,
        phase: Phase,
        version: u32,
        status: ApprovalStatus,
        reason: Option<String>,
    },
    MessageCreated {
        conversation: ConversationId,
        message_id: MessageId,
        role: ChatRole,
        kind: ConversationKind,
        agent_id: Option<AgentId>,
    },
    ArtifactWritten {
        artifact: ArtifactId,
        run_id: RunId,
        action_id: Option<ActionId>,
        path: String,
        bytes: u64,
        /// First written (not overwritten).
        created: bool,
    },
    /// A delivery reached its destination (shown redacted: never a secret URL).
    DeliverySent {
        delivery: DeliveryId,
        run_id: RunId,
        destination: String,
        attempt: u32,
    },
    /// An attempt failed: `retrying` or `dead`, with the reason.
    DeliveryFailed {
        delivery: DeliveryId,
        run_id: RunId,
        destination: String,
        attempt: u32,
        status: DeliveryStatus,
        reason: String,
    },
    /// A routine fired (by hand, a schedule, a webhook, or a replay).
    RoutineFired {
        routine: RoutineId,
        fire: FireId,
        trigger: String,
        run_id: Option<RunId>,
        dry_run: bool,
    },
    /// A routine was edited: the fields changed (`agent`, `template`,
    /// `sources`, `deliver`, `tz`, `when`, `enabled`); the actor says who.
    RoutineUpdated {
        routine: RoutineId,
        fields: Vec<&'static str>,
    },
    /// Memory stored what an episode yields.
    MemoryEpisodeIngested {
        episode: EpisodeId,
        entities_created: usize,
        facts_created: usize,
        facts_merged: usize,
        facts_closed: usize,
    },
    /// A fact was closed on request (`memory.forget`), with the reason.
    MemoryFactInvalidated {
        fact: FactId,
        reason: String,
    },
    ScheduleCreated {
        schedule: ScheduleId,
        name: String,
        when: String,
        zone: String,
        /// `agent`, `action`, `routine` or `job`.
        target: &'static str,
    },
    /// Paused by a person (`reason` none) or after failed fires.
    SchedulePaused {
        schedule: ScheduleId,
        reason: Option<String>,
    },
    ScheduleResumed {
        schedule: ScheduleId,
    },
    ScheduleDeleted {
        schedule: ScheduleId,
        name: String,
    },
    /// One slot recorded that started work, waits, or was skipped.
    ScheduleFired {
        schedule: ScheduleId,
        slot: DateTime<Utc>,
        status: FireStatus,
        job_id: Option<JobId>,
        run_id: Option<RunId>,
        detail: Option<String>,
    },
    /// Slots recorded as missed or coalesced in one pass, counted.
    ScheduleSlotsNotFired {
        schedule: ScheduleId,
        missed: u64,
        coalesced: u64,
        first_slot: DateTime<Utc>,
        last_slot: DateTime<Utc>,
    },
    /// A fire's work ended.
    ScheduleFireSettled {
        schedule: ScheduleId,
        slot: DateTime<Utc>,
        outcome: FireOutcome,
        consecutive_failures: u32,
    },
    IdeaCaptured {
        idea: IdeaId,
        title: String,
    },
    /// Its notes or state changed (`from` = `to` when only the notes did).
    IdeaUpdated {
        idea: IdeaId,
        from: IdeaState,
        to: IdeaState,
        project_id: Option<ProjectId>,
    },
    ProjectCreated {
        project: ProjectId,
        title: String,
        phase: Phase,
        /// Imported from a spec folder (with its documents).
        imported: bool,
        tasks: usize,
    },
    /// A version of a phase's document waits at its gate.
    ProjectDocumentProposed {
        project: ProjectId,
        phase: Phase,
        version: u32,
    },
    /// A gate let a document through or sent it back.
    ProjectDocumentDecided {
        project: ProjectId,
        phase: Phase,
        version: u32,
        status: DocumentStatus,
        comment: Option<String>,
    },
    ProjectPhaseEntered {
        project: ProjectId,
        from: Phase,
        to: Phase,
    },
    /// A task was added, changed state, or was re-planned.
    ProjectTaskChanged {
        project: ProjectId,
        task: String,
        from: Option<TaskState>,
        to: TaskState,
        rounds: u32,
    },
    /// An agent's work on a project failed: a document that did not match
    /// its phase's schema, a task's run that did not complete.
    ProjectAgentFailed {
        project: ProjectId,
        phase: Phase,
        reason: String,
    },
    /// The agent's reply for a phase's document failed a check a schema
    /// cannot make (a cycle in the task graph, a reference to nothing) and
    /// was sent back to it with the problem; `attempt` counts the model's
    /// replies so far.
    ProjectDocumentRefused {
        project: ProjectId,
        phase: Phase,
        attempt: u32,
        problem: String,
    },
    /// `project run`: these tasks were queued (the others were done or already queued).
    ProjectExecutionStarted {
        project: ProjectId,
        tasks: Vec<String>,
    },
    /// A person changed a project's settings (the fields named, with their new values).
    ProjectSettingsChanged {
        project: ProjectId,
        discovered_tasks: Option<DiscoveredTasks>,
        checks: Option<Vec<String>>,
    },
    /// An agent added a task it discovered while working on another.
    ProjectTaskDiscovered {
        project: ProjectId,
        task: String,
        from_task: String,
        reason: String,
    },
    /// A person replaced an approved document with a new version.
    ProjectDocumentEdited {
        project: ProjectId,
        phase: Phase,
        version: u32,
        /// How many tasks the edit re-planned.
        replanned: usize,
    },
    /// An edit re-planned a task: added (`from` none), dropped (`to` none),
    /// sent back to pending, or kept in its state with a new definition.
    ProjectTaskReplanned {
        project: ProjectId,
        task: String,
        from: Option<TaskState>,
        to: Option<TaskState>,
        reason: String,
    },
    /// A person set what the project changes of the guardian's policy.
    ProjectGuardianSet {
        project: ProjectId,
        guardian: crate::oversight::GuardianOverride,
    },
    /// Two open work items were flagged as duplicates, or a person decided
    /// on the flag (merged or kept both). About the first action, or the
    /// tasks' project.
    DuplicateChanged {
        duplicate: DuplicateId,
        about: DuplicateAbout,
        kind: DuplicateKind,
        first: String,
        second: String,
        similarity: f64,
        status: DuplicateStatus,
        kept: Option<String>,
    },
    /// The guardian looked at a run's trajectory and decided an intervention.
    RunAssessed {
        run: RunId,
        agent_id: AgentId,
        assessment: AssessmentId,
        alignment: f64,
        intervention: Intervention,
        status: AssessmentStatus,
    },
}

/// What a duplicate flag's event is about.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DuplicateAbout {
    Action(ActionId),
    Project(ProjectId),
}

/// Why a run is queued: to start (not before `run_at`), or to resume after
/// its approvals were decided (its `number`-th resume).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RunQueuedFor {
    Start { run_at: DateTime<Utc> },
    Resume { number: u32 },
}

impl NewEvent {
    /// `job.completed`, `agent.created`, …
    pub fn kind(&self) -> &'static str {
        match self {
            NewEvent::Job(event) => event.change.transition().event_kind(),
            NewEvent::AgentCreated { .. } => EventKind::AGENT_CREATED,
            NewEvent::AgentUpdated { .. } => EventKind::AGENT_UPDATED,
            NewEvent::AgentArchived { .. } => EventKind::AGENT_ARCHIVED,
            NewEvent::ActionCreated { .. } => EventKind::ACTION_CREATED,
            NewEvent::ActionUpdated { .. } => EventKind::ACTION_UPDATED,
            NewEvent::ActionTransitioned { .. } => EventKind::ACTION_TRANSITIONED,
            NewEvent::RunQueued { .. } => EventKind::RUN_QUEUED,
            NewEvent::RunStarted { .. } => EventKind::RUN_STARTED,
            NewEvent::RunStep { .. } => EventKind::RUN_STEP,
            NewEvent::RunAwaitingApproval { .. } => EventKind::RUN_AWAITING_APPROVAL,
            NewEvent::RunCancelRequested { .. } => EventKind::RUN_CANCEL_REQUESTED,
            NewEvent::RunFinished { .. } => EventKind::RUN_FINISHED,
            NewEvent::ApprovalRequested { .. } | NewEvent::GateApprovalRequested { .. } => {
                EventKind::APPROVAL_REQUESTED
            }
            NewEvent::ApprovalDecided { .. }
            | NewEvent::ApprovalWithdrawn { .. }
            | NewEvent::GateApprovalDecided { .. } => EventKind::APPROVAL_DECIDED,
            NewEvent::MessageCreated { .. } => EventKind::MESSAGE_CREATED,
            NewEvent::ArtifactWritten { .. } => EventKind::ARTIFACT_WRITTEN,
            NewEvent::DeliverySent { .. } => EventKind::DELIVERY_SENT,
            NewEvent::DeliveryFailed { .. } => EventKind::DELIVERY_FAILED,
            NewEvent::RoutineFired { .. } => EventKind::ROUTINE_FIRED,
            NewEvent::RoutineUpdated { .. } => EventKind::ROUTINE_UPDATED,
            NewEvent::MemoryEpisodeIngested { .. } => EventKind::MEMORY_EPISODE_INGESTED,
            NewEvent::MemoryFactInvalidated { .. } => EventKind::MEMORY_FACT_INVALIDATED,
            NewEvent::ScheduleCreated { .. } => EventKind::SCHEDULE_CREATED,
            NewEvent::SchedulePaused { .. } => EventKind::SCHEDULE_PAUSED,
            NewEvent::ScheduleResumed { .. } => EventKind::SCHEDULE_RESUMED,
            NewEvent::ScheduleDeleted { .. } => EventKind::SCHEDULE_DELETED,
            NewEvent::ScheduleFired { .. } => EventKind::SCHEDULE_FIRED,
            NewEvent::ScheduleSlotsNotFired { .. } => EventKind::SCHEDULE_SLOTS_NOT_FIRED,
            NewEvent::ScheduleFireSettled { .. } => EventKind::SCHEDULE_FIRE_SETTLED,
            NewEvent::IdeaCaptured { .. } => EventKind::IDEA_CAPTURED,
            NewEvent::IdeaUpdated { .. } => EventKind::IDEA_UPDATED,
            NewEvent::ProjectCreated { .. } => EventKind::PROJECT_CREATED,
            NewEvent::ProjectDocumentProposed { .. } => EventKind::PROJECT_DOCUMENT_PROPOSED,
            NewEvent::ProjectDocumentDecided { .. } => EventKind::PROJECT_DOCUMENT_DECIDED,
            NewEvent::ProjectPhaseEntered { .. } => EventKind::PROJECT_PHASE_ENTERED,
            NewEvent::ProjectTaskChanged { .. } => EventKind::PROJECT_TASK_CHANGED,
            NewEvent::ProjectAgentFailed { .. } => EventKind::PROJECT_AGENT_FAILED,
            NewEvent::ProjectDocumentRefused { .. } => EventKind::PROJECT_DOCUMENT_REFUSED,
            NewEvent::ProjectExecutionStarted { .. } => EventKind::PROJECT_EXECUTION_STARTED,
            NewEvent::ProjectDocumentEdited { .. } => EventKind::PROJECT_DOCUMENT_EDITED,
            NewEvent::ProjectTaskDiscovered { .. } => EventKind::PROJECT_TASK_DISCOVERED,
            NewEvent::ProjectSettingsChanged { .. } => EventKind::PROJECT_SETTINGS_CHANGED,
            NewEvent::ProjectTaskReplanned { .. } => EventKind::PROJECT_TASK_REPLANNED,
            NewEvent::ProjectGuardianSet { .. } => EventKind::PROJECT_GUARDIAN_SET,
            NewEvent::RunAssessed { .. } => EventKind::RUN_ASSESSED,
            NewEvent::DuplicateChanged { status: DuplicateStatus::Open, .. } => EventKind::DUPLICATE_FLAGGED,
            NewEvent::DuplicateChanged { .. } => EventKind::DUPLICATE_DECIDED,
        }
    }

    /// What the event is about, and its id.
    pub fn subject(&self) -> (EventSubject, i64) {
        match self {
            NewEvent::Job(event) => (EventSubject::Job, event.job.get()),
            NewEvent::AgentCreated { agent, .. }
            | NewEvent::AgentUpdated { agent, .. }
            | NewEvent::AgentArchived { agent, .. } => (EventSubject::Agent, agent.get()),
            NewEvent::ActionCreated { action, .. }
            | NewEvent::ActionUpdated { action, .. }
            | NewEvent::ActionTransitioned { action, .. } => (EventSubject::Action, action.get()),
            NewEvent::RunQueued { run, .. }
            | NewEvent::RunStarted { run, .. }
            | NewEvent::RunStep { run, .. }
            | NewEvent::RunAwaitingApproval { run, .. }
            | NewEvent::RunCancelRequested { run, .. }
            | NewEvent::RunFinished { run, .. }
            | NewEvent::RunAssessed { run, .. } => (EventSubject::Run, run.get()),
            NewEvent::ApprovalRequested { approval, .. }
            | NewEvent::ApprovalDecided { approval, .. }
            | NewEvent::ApprovalWithdrawn { approval, .. }
            | NewEvent::GateApprovalRequested { approval, .. }
            | NewEvent::GateApprovalDecided { approval, .. } => (EventSubject::Approval, approval.get()),
            NewEvent::MessageCreated { conversation, .. } => (EventSubject::Conversation, conversation.get()),
            NewEvent::ArtifactWritten { artifact, .. } => (EventSubject::Artifact, artifact.get()),
            NewEvent::DeliverySent { delivery, .. } | NewEvent::DeliveryFailed { delivery, .. } => {
                (EventSubject::Delivery, delivery.get())
            }
            NewEvent::RoutineFired { routine, .. } | NewEvent::RoutineUpdated { routine, .. } => {
                (EventSubject::Routine, routine.get())
            }
            NewEvent::MemoryEpisodeIngested { episode, .. } => (EventSubject::Episode, episode.get()),
            NewEvent::MemoryFactInvalidated { fact, .. } => (EventSubject::Fact, fact.get()),
            NewEvent::ScheduleCreated { schedule, .. }
            | NewEvent::SchedulePaused { schedule, .. }
            | NewEvent::ScheduleResumed { schedule }
            | NewEvent::ScheduleDeleted { schedule, .. }
            | NewEvent::ScheduleFired { schedule, .. }
            | NewEvent::ScheduleSlotsNotFired { schedule, .. }
            | NewEvent::ScheduleFireSettled { schedule, .. } => (EventSubject::Schedule, schedule.get()),
            NewEvent::IdeaCaptured { idea, .. } | NewEvent::IdeaUpdated { idea, .. } => {
                (EventSubject::Idea, idea.get())
            }
            NewEvent::DuplicateChanged { about: DuplicateAbout::Action(action), .. } => {
                (EventSubject::Action, action.get())
            }
            NewEvent::DuplicateChanged { about: DuplicateAbout::Project(project), .. } => {
                (EventSubject::Project, project.get())
            }
            NewEvent::ProjectCreated { project, .. }
            | NewEvent::ProjectDocumentProposed { project, .. }
            | NewEvent::ProjectDocumentDecided { project, .. }
            | NewEvent::ProjectPhaseEntered { project, .. }
            | NewEvent::ProjectTaskChanged { project, .. }
            | NewEvent::ProjectAgentFailed { project, .. }
            | NewEvent::ProjectDocumentRefused { project, .. }
            | NewEvent::ProjectExecutionStarted { project, .. }
            | NewEvent::ProjectDocumentEdited { project, .. }
            | NewEvent::ProjectTaskDiscovered { project, .. }
            | NewEvent::ProjectTaskReplanned { project, .. }
            | NewEvent::ProjectSettingsChanged { project, .. }
            | NewEvent::ProjectGuardianSet { project, .. } => (EventSubject::Project, project.get()),
        }
    }

    /// The event's data as the events table holds it (a JSON object; the
    /// subject's own id is not repeated in it).
    pub fn data(&self) -> Value {
        match self {
            NewEvent::Job(event) => event.change.data(),
            NewEvent::AgentCreated { name, .. } => json!({ "name": name }),
            NewEvent::AgentUpdated { fields, status, .. } => json!({ "fields": fields, "status": status.as_str() }),
            NewEvent::AgentArchived { from, .. } => json!({ "from": from.as_str() }),
            NewEvent::ActionCreated { agent_id, title, .. } => {
                json!({ "agent_id": agent_id, "title": title, "state": ActionState::Draft.as_str() })
            }
            NewEvent::ActionUpdated { agent_id, .. } => json!({ "agent_id": agent_id }),
            NewEvent::ActionTransitioned { agent_id, from, to, reason, .. } => {
                json!({ "agent_id": agent_id, "from": from.as_str(), "to": to.as_str(), "reason": reason })
            }
            NewEvent::RunQueued { agent_id, action_id, job_id, queued: RunQueuedFor::Start { run_at }, .. } => {
                json!({ "agent_id": agent_id, "action_id": action_id, "job_id": job_id, "run_at": run_at })
            }
            NewEvent::RunQueued { agent_id, action_id, job_id, queued: RunQueuedFor::Resume { number }, .. } => {
                json!({ "agent_id": agent_id, "action_id": action_id, "job_id": job_id, "resume": number })
            }
            NewEvent::RunStarted { agent_id, job_id, from, resumed, .. } => {
                json!({ "agent_id": agent_id, "job_id": job_id, "from": from.as_str(), "resumed": resumed })
            }
            NewEvent::RunStep { agent_id, sequence, kind, name, cost_usd, cost_unknown, error, .. } => json!({
                "agent_id": agent_id, "sequence": sequence, "kind": kind.as_str(), "name": name,
                "cost_usd": cost_usd, "cost_unknown": cost_unknown, "error": error,
            }),
            NewEvent::RunAwaitingApproval { agent_id, approvals, .. } => {
                json!({ "agent_id": agent_id, "approvals": approvals })
            }
            NewEvent::RunCancelRequested { agent_id, job_id, reason, .. } => {
                json!({ "agent_id": agent_id, "job_id": job_id, "reason": reason })
            }
            NewEvent::RunFinished {
                agent_id,
                action_id,
                from,
                outcome,
                error,
                steps,
                cost_usd,
                unknown_cost_calls,
                ..
            } => json!({
                "agent_id": agent_id, "action_id": action_id, "from": from.as_str(),
                "outcome": outcome.as_str(), "error": error, "steps": steps,
                "cost_usd": cost_usd, "unknown_cost_calls": unknown_cost_calls,
            }),
            NewEvent::ApprovalRequested { run_id, agent_id, tool, call_id, .. } => {
                json!({ "run_id": run_id, "agent_id": agent_id, "tool": tool, "call_id": call_id })
            }
            NewEvent::ApprovalDecided { run_id, tool, status, reason, .. } => {
                json!({ "run_id": run_id, "tool": tool, "status": status.as_str(), "reason": reason })
            }
            NewEvent::ApprovalWithdrawn { run_id, .. } => json!({
                "run_id": run_id, "status": ApprovalStatus::Withdrawn.as_str(), "reason": WITHDRAWN_REASON,
            }),
            NewEvent::GateApprovalRequested { project, agent_id, phase, version, .. } => json!({
                "project_id": project, "agent_id": agent_id, "tool": GATE_TOOL,
                "phase": phase.as_str(), "version": version,
            }),
            NewEvent::GateApprovalDecided { project, phase, version, status, reason, .. } => json!({
                "project_id": project, "tool": GATE_TOOL, "phase": phase.as_str(), "version": version,
                "status": status.as_str(), "reason": reason,
            }),
            NewEvent::MessageCreated { message_id, role, kind, agent_id, .. } => json!({
                "message_id": message_id, "role": role.as_str(), "kind": kind.as_str(), "agent_id": agent_id,
            }),
            NewEvent::ArtifactWritten { run_id, action_id, path, bytes, created, .. } => json!({
                "run_id": run_id, "action_id": action_id, "path": path, "bytes": bytes, "created": created,
            }),
            NewEvent::DeliverySent { run_id, destination, attempt, .. } => {
                json!({ "run_id": run_id, "destination": destination, "attempt": attempt })
            }
            NewEvent::DeliveryFailed { run_id, destination, attempt, status, reason, .. } => json!({
                "run_id": run_id, "destination": destination, "attempt": attempt,
                "status": status.as_str(), "reason": reason,
            }),
            NewEvent::RoutineFired { fire, trigger, run_id, dry_run, .. } => {
                json!({ "fire": fire, "trigger": trigger, "run_id": run_id, "dry_run": dry_run })
            }
            NewEvent::RoutineUpdated { fields, .. } => json!({ "fields": fields }),
            NewEvent::MemoryEpisodeIngested { entities_created, facts_created, facts_merged, facts_closed, .. } => {
                json!({
                    "entities_created": entities_created, "facts_created": facts_created,
                    "facts_merged": facts_merged, "facts_closed": facts_closed,
                })
            }
            NewEvent::MemoryFactInvalidated { reason, .. } => json!({ "reason": reason }),
            NewEvent::ScheduleCreated { name, when, zone, target, .. } => {
                json!({ "name": name, "when": when, "zone": zone, "target": target })
            }
            NewEvent::SchedulePaused { reason, .. } => json!({ "reason": reason }),
            NewEvent::ScheduleResumed { .. } => json!({}),
            NewEvent::ScheduleDeleted { name, .. } => json!({ "name": name }),
            NewEvent::ScheduleFired { slot, status, job_id, run_id, detail, .. } => json!({
                "slot": slot, "status": status.as_str(), "job_id": job_id, "run_id": run_id, "detail": detail,
            }),
            NewEvent::ScheduleSlotsNotFired { missed, coalesced, first_slot, last_slot, .. } => json!({
                "missed": missed, "coalesced": coalesced, "first_slot": first_slot, "last_slot": last_slot,
            }),
            NewEvent::ScheduleFireSettled { slot, outcome, consecutive_failures, .. } => json!({
                "slot": slot, "outcome": outcome.as_str(), "consecutive_failures": consecutive_failures,
            }),
            NewEvent::IdeaCaptured { title, .. } => json!({ "title": title }),
            NewEvent::IdeaUpdated { from, to, project_id, .. } => {
                json!({ "from": from.as_str(), "to": to.as_str(), "project_id": project_id })
            }
            NewEvent::ProjectCreated { title, phase, imported, tasks, .. } => {
                json!({ "title": title, "phase": phase.as_str(), "imported": imported, "tasks": tasks })
            }
            NewEvent::ProjectDocumentProposed { phase, version, .. } => {
                json!({ "phase": phase.as_str(), "version": version })
            }
            NewEvent::ProjectDocumentDecided { phase, version, status, comment, .. } => json!({
                "phase": phase.as_str(), "version": version, "status": status.as_str(), "comment": comment,
            }),
            NewEvent::ProjectPhaseEntered { from, to, .. } => json!({ "from": from.as_str(), "to": to.as_str() }),
            NewEvent::ProjectTaskChanged { task, from, to, rounds, .. } => json!({
                "task": task, "from": from.map(TaskState::as_str), "to": to.as_str(), "rounds": rounds,
            }),
            NewEvent::ProjectAgentFailed { phase, reason, .. } => {
                json!({ "phase": phase.as_str(), "reason": reason })
            }
            NewEvent::ProjectDocumentRefused { phase, attempt, problem, .. } => {
                json!({ "phase": phase.as_str(), "attempt": attempt, "problem": problem })
            }
            NewEvent::ProjectExecutionStarted { tasks, .. } => json!({ "tasks": tasks }),
            NewEvent::ProjectTaskDiscovered { task, from_task, reason, .. } => {
                json!({ "task": task, "from_task": from_task, "reason": reason })
            }
            NewEvent::ProjectSettingsChanged { discovered_tasks, checks, .. } => {
                let mut data = serde_json::Map::new();
                if let Some(discovered) = discovered_tasks {
                    data.insert("discovered_tasks".into(), json!(discovered.as_str()));
                }
                if let Some(checks) = checks {
                    data.insert("checks".into(), json!(checks));
                }
                Value::Object(data)
            }
            NewEvent::ProjectDocumentEdited { phase, version, replanned, .. } => {
                json!({ "phase": phase.as_str(), "version": version, "replanned": replanned })
            }
            NewEvent::ProjectTaskReplanned { task, from, to, reason, .. } => json!({
                "task": task, "from": from.map(TaskState::as_str), "to": to.map(TaskState::as_str), "reason": reason,
            }),
            NewEvent::ProjectGuardianSet { guardian, .. } => json!({ "guardian": guardian }),
            NewEvent::DuplicateChanged { duplicate, kind, first, second, similarity, status, kept, .. } => json!({
                "duplicate": duplicate, "kind": kind.as_str(), "first": first, "second": second,
                "similarity": similarity, "status": status.as_str(), "kept": kept,
            }),
            NewEvent::RunAssessed { agent_id, assessment, alignment, intervention, status, .. } => json!({
                "agent_id": agent_id, "assessment": assessment, "alignment": alignment,
                "intervention": intervention.as_str(), "status": status.as_str(),
            }),
        }
    }
}

impl From<JobEvent> for NewEvent {
    fn from(event: JobEvent) -> Self {
        NewEvent::Job(event)
    }
}
