//! Pins the JSON of event data byte for byte, as the events table holds it
//! (SQLite stores the text; keys are in the order `serde_json` writes an
//! object, which is sorted): the API, the SSE stream and the dashboard read
//! these fields, so a change here is a change of the wire format.

use chrono::{TimeZone, Utc};

use super::*;
use crate::ids::{
    ActionId, AgentId, ApprovalId, ArtifactId, ConversationId, EpisodeId, FactId, JobId, MessageId, ProjectId, RunId,
};
use crate::job::{DeathReason, JobState};
use crate::project::Phase;
use crate::{ActionState, AgentStatus, ApprovalStatus, ChatRole, ConversationKind, RunOutcome, RunStatus, StepKind};

fn stored(event: &NewEvent) -> String {
    serde_json::to_string(&event.data()).unwrap()
}

fn job(change: JobChange) -> NewEvent {
    NewEvent::Job(JobEvent { job: JobId(7), change })
}

#[test]
fn job_events_record_their_details_and_the_states_they_move_between() {
    let at = Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap() + chrono::Duration::microseconds(250);
    let cases = [
        (
            job(JobChange::Enqueued {
                to: JobState::Blocked,
                queue: "default".into(),
                kind: "echo".into(),
                priority: 3,
            }),
            "job.enqueued",
            r#"{"from":null,"kind":"echo","priority":3,"queue":"default","to":"blocked"}"#,
        ),
        (
            job(JobChange::Started { attempt: 2, worker: "w1".into(), queue: "q".into(), kind: "k".into() }),
            "job.started",
            r#"{"attempt":2,"from":"queued","kind":"k","queue":"q","to":"running","worker":"w1"}"#,
        ),
        (
            job(JobChange::Failed { attempt: 1, error: "boom".into(), retry_at: at }),
            "job.failed",
            r#"{"attempt":1,"error":"boom","from":"running","retry_at":"2030-01-02T03:04:05.000250Z","to":"queued"}"#,
        ),
        (
            job(JobChange::Died { attempt: 3, error: "lost".into(), reason: DeathReason::OutOfAttempts }),
            "job.dead",
            r#"{"attempt":3,"error":"lost","from":"running","reason":"out_of_attempts","to":"dead"}"#,
        ),
        (
            job(JobChange::Cancelled {
                from: JobState::Blocked,
                cause: CancelCause::DependencyFailed { dependency: JobId(5) },
            }),
            "job.cancelled",
            r#"{"dependency":5,"from":"blocked","reason":"dependency_failed","to":"cancelled"}"#,
        ),
        (
            job(JobChange::Cancelled { from: JobState::Running, cause: CancelCause::Requested { attempt: 1 } }),
            "job.cancelled",
            r#"{"attempt":1,"from":"running","reason":"requested","to":"cancelled"}"#,
        ),
        (
            job(JobChange::Retried {
                from: JobState::Dead,
                to: JobState::Queued,
                cause: RetryCause::Requested { previous_attempts: 3, last_error: None },
            }),
            "job.retried",
            r#"{"from":"dead","last_error":null,"previous_attempts":3,"to":"queued"}"#,
        ),
        (
            job(JobChange::Retried {
                from: JobState::Cancelled,
                to: JobState::Blocked,
                cause: RetryCause::DependencyRetried { dependency: JobId(5) },
            }),
            "job.retried",
            r#"{"dependency":5,"from":"cancelled","reason":"dependency_retried","to":"blocked"}"#,
        ),
        (
            job(JobChange::LeaseExpired { attempt: 1, worker: None, error: "lease expired".into() }),
            "job.lease_expired",
            r#"{"attempt":1,"error":"lease expired","from":"running","to":"queued","worker":null}"#,
        ),
        (
            job(JobChange::Unblocked { dependency: JobId(4) }),
            "job.unblocked",
            r#"{"dependency":4,"from":"blocked","to":"queued"}"#,
        ),
    ];
    for (event, kind, data) in cases {
        assert_eq!(event.kind(), kind);
        assert_eq!(event.subject(), (EventSubject::Job, 7));
        assert_eq!(stored(&event), data, "{kind}");
    }
}

#[test]
fn agent_action_and_conversation_events_keep_their_fields() {
    let cases = [
        (
            NewEvent::AgentUpdated { agent: AgentId(1), fields: vec!["name", "goal"], status: AgentStatus::Active },
            (EventSubject::Agent, 1),
            r#"{"fields":["name","goal"],"status":"active"}"#,
        ),
        (
            NewEvent::ActionCreated { action: ActionId(2), agent_id: AgentId(1), title: "Plan".into() },
            (EventSubject::Action, 2),
            r#"{"agent_id":1,"state":"draft","title":"Plan"}"#,
        ),
        (
            NewEvent::ActionTransitioned {
                action: ActionId(2),
                agent_id: AgentId(1),
                from: ActionState::InProgress,
                to: ActionState::Failed,
                reason: Some("the run ended: cancelled".into()),
            },
            (EventSubject::Action, 2),
            r#"{"agent_id":1,"from":"in_progress","reason":"the run ended: cancelled","to":"failed"}"#,
        ),
        (
            NewEvent::MessageCreated {
                conversation: ConversationId(4),
                message_id: MessageId(9),
                role: ChatRole::User,
                kind: ConversationKind::Setup,
                agent_id: None,
            },
            (EventSubject::Conversation, 4),
            r#"{"agent_id":null,"kind":"setup","message_id":9,"role":"user"}"#,
        ),
        (
            NewEvent::ArtifactWritten {
                artifact: ArtifactId(6),
                run_id: RunId(3),
                action_id: Some(ActionId(2)),
                path: "out/report.md".into(),
                bytes: 120,
                created: true,
            },
            (EventSubject::Artifact, 6),
            r#"{"action_id":2,"bytes":120,"created":true,"path":"out/report.md","run_id":3}"#,
        ),
        (
            NewEvent::MemoryEpisodeIngested {
                episode: EpisodeId(5),
                entities_created: 2,
                facts_created: 1,
                facts_merged: 0,
                facts_closed: 1,
            },
            (EventSubject::Episode, 5),
            r#"{"entities_created":2,"facts_closed":1,"facts_created":1,"facts_merged":0}"#,
        ),
        (
            NewEvent::MemoryFactInvalidated { fact: FactId(8), reason: "wrong".into() },
            (EventSubject::Fact, 8),
            r#"{"reason":"wrong"}"#,
        ),
    ];
    for (event, subject, data) in cases {
        assert_eq!(event.subject(), subject);
        assert_eq!(stored(&event), data, "{}", event.kind());
    }
}

#[test]
fn run_and_approval_events_keep_their_fields() {
    let run_at = Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap();
    let queued =
        |queued| NewEvent::RunQueued { run: RunId(3), agent_id: AgentId(1), action_id: None, job_id: JobId(8), queued };
    let cases = [
        (
            queued(RunQueuedFor::Start { run_at }),
            "run.queued",
            r#"{"action_id":null,"agent_id":1,"job_id":8,"run_at":"2030-01-02T03:04:05Z"}"#,
        ),
        (
            queued(RunQueuedFor::Resume { number: 2 }),
            "run.queued",
            r#"{"action_id":null,"agent_id":1,"job_id":8,"resume":2}"#,
        ),
        (
            NewEvent::RunStep {
                run: RunId(3),
                agent_id: AgentId(1),
                sequence: 0,
                kind: StepKind::ModelCall,
                name: "claude".into(),
                cost_usd: Some(0.25),
                cost_unknown: false,
                error: None,
            },
            "run.step",
            r#"{"agent_id":1,"cost_unknown":false,"cost_usd":0.25,"error":null,"kind":"model_call","name":"claude","sequence":0}"#,
        ),
        (
            NewEvent::RunFinished {
                run: RunId(3),
                agent_id: AgentId(1),
                action_id: Some(ActionId(2)),
                from: RunStatus::Running,
                outcome: RunOutcome::Completed,
                error: None,
                steps: 4,
                cost_usd: 0.5,
                unknown_cost_calls: 0,
            },
            "run.finished",
            r#"{"action_id":2,"agent_id":1,"cost_usd":0.5,"error":null,"from":"running","outcome":"completed","steps":4,"unknown_cost_calls":0}"#,
        ),
        (
            NewEvent::ApprovalWithdrawn { approval: ApprovalId(11), run_id: RunId(3) },
            "approval.decided",
            r#"{"reason":"the run ended before a decision","run_id":3,"status":"withdrawn"}"#,
        ),
        (
            NewEvent::ApprovalDecided {
                approval: ApprovalId(11),
                run_id: RunId(3),
                tool: "shell".into(),
                status: ApprovalStatus::Rejected,
                reason: Some("no".into()),
            },
            "approval.decided",
            r#"{"reason":"no","run_id":3,"status":"rejected","tool":"shell"}"#,
        ),
        (
            NewEvent::GateApprovalRequested {
                approval: ApprovalId(12),
                project: ProjectId(4),
                agent_id: None,
                phase: Phase::Design,
                version: 2,
            },
            "approval.requested",
            r#"{"agent_id":null,"phase":"design","project_id":4,"tool":"project.gate","version":2}"#,
        ),
        (
            NewEvent::GateApprovalDecided {
                approval: ApprovalId(12),
                project: ProjectId(4),
                phase: Phase::Design,
                version: 2,
                status: ApprovalStatus::Rejected,
                reason: Some("name the payment provider".into()),
            },
            "approval.decided",
            r#"{"phase":"design","project_id":4,"reason":"name the payment provider","status":"rejected","tool":"project.gate","version":2}"#,
        ),
    ];
    for (event, kind, data) in cases {
        assert_eq!(event.kind(), kind);
        assert_eq!(stored(&event), data, "{kind}");
    }
}

#[test]
fn schedule_events_record_their_slots_statuses_and_counts() {
    use crate::ids::ScheduleId;
    use crate::schedule::{FireOutcome, FireStatus};
    let slot = Utc.with_ymd_and_hms(2030, 1, 2, 8, 0, 0).unwrap();
    let schedule = ScheduleId(4);
    let cases = [
        (
            NewEvent::ScheduleCreated {
                schedule,
                name: "Morning".into(),
                when: "daily at 08:00".into(),
                zone: "Europe/London".into(),
                target: "agent",
            },
            "schedule.created",
            r#"{"name":"Morning","target":"agent","when":"daily at 08:00","zone":"Europe/London"}"#,
        ),
        (
            NewEvent::SchedulePaused { schedule, reason: Some("3 failed fires in a row".into()) },
            "schedule.paused",
            r#"{"reason":"3 failed fires in a row"}"#,
        ),
        (NewEvent::ScheduleResumed { schedule }, "schedule.resumed", r#"{}"#),
        (NewEvent::ScheduleDeleted { schedule, name: "Morning".into() }, "schedule.deleted", r#"{"name":"Morning"}"#),
        (
            NewEvent::ScheduleFired {
                schedule,
                slot,
                status: FireStatus::Fired,
                job_id: Some(JobId(9)),
                run_id: Some(RunId(3)),
                detail: None,
            },
            "schedule.fired",
            r#"{"detail":null,"job_id":9,"run_id":3,"slot":"2030-01-02T08:00:00Z","status":"fired"}"#,
        ),
        (
            NewEvent::ScheduleSlotsNotFired {
                schedule,
                missed: 2,
                coalesced: 1,
                first_slot: slot,
                last_slot: slot + chrono::Duration::hours(2),
            },
            "schedule.slots_not_fired",
            r#"{"coalesced":1,"first_slot":"2030-01-02T08:00:00Z","last_slot":"2030-01-02T10:00:00Z","missed":2}"#,
        ),
        (
            NewEvent::ScheduleFireSettled { schedule, slot, outcome: FireOutcome::Failed, consecutive_failures: 2 },
            "schedule.fire_settled",
            r#"{"consecutive_failures":2,"outcome":"failed","slot":"2030-01-02T08:00:00Z"}"#,
        ),
    ];
    for (event, kind, data) in cases {
        assert_eq!(event.kind(), kind);
        assert_eq!(event.subject(), (EventSubject::Schedule, 4));
        assert_eq!(stored(&event), data, "{kind}");
    }
}

#[test]
fn delivery_and_routine_events_keep_their_fields() {
    use crate::delivery::DeliveryStatus;
    use crate::ids::{DeliveryId, FireId, RoutineId};
    let cases = [
        (
            NewEvent::DeliverySent {
                delivery: DeliveryId(4),
                run_id: RunId(2),
                destination: "slack:#a".into(),
                attempt: 1,
            },
            "delivery.sent",
            r#"{"attempt":1,"destination":"slack:#a","run_id":2}"#,
        ),
        (
            NewEvent::DeliveryFailed {
                delivery: DeliveryId(4),
                run_id: RunId(2),
                destination: "webhook:https://x.example/…".into(),
                attempt: 2,
                status: DeliveryStatus::Dead,
                reason: "HTTP 404".into(),
            },
            "delivery.failed",
            r#"{"attempt":2,"destination":"webhook:https://x.example/…","reason":"HTTP 404","run_id":2,"status":"dead"}"#,
        ),
        (
            NewEvent::RoutineFired {
                routine: RoutineId(1),
                fire: FireId(9),
                trigger: "manual".into(),
                run_id: Some(RunId(2)),
                dry_run: false,
            },
            "routine.fired",
            r#"{"dry_run":false,"fire":9,"run_id":2,"trigger":"manual"}"#,
        ),
        (
            NewEvent::RoutineUpdated { routine: RoutineId(1), fields: vec!["agent", "when"] },
            "routine.updated",
            r#"{"fields":["agent","when"]}"#,
        ),
    ];
    for (event, kind, data) in cases {
        assert_eq!(event.kind(), kind);
        assert_eq!(stored(&event), data, "{kind}");
    }
}

#[test]
fn project_and_idea_events_keep_their_fields() {
    use crate::ids::IdeaId;
    use crate::project::{DocumentStatus, IdeaState, TaskState};
    let cases = [
        (
            NewEvent::ProjectDocumentDecided {
                project: ProjectId(3),
                phase: Phase::Requirements,
                version: 1,
                status: DocumentStatus::Rejected,
                comment: Some("say what happens offline".into()),
            },
            "project.document_decided",
            r#"{"comment":"say what happens offline","phase":"requirements","status":"rejected","version":1}"#,
        ),
        (
            NewEvent::ProjectTaskChanged {
                project: ProjectId(3),
                task: "T002".into(),
                from: Some(TaskState::Running),
                to: TaskState::Done,
                rounds: 1,
            },
            "project.task_changed",
            r#"{"from":"running","rounds":1,"task":"T002","to":"done"}"#,
        ),
        (
            NewEvent::ProjectAgentFailed {
                project: ProjectId(3),
                phase: Phase::Design,
                reason: "at /diagrams: not an array".into(),
            },
            "project.agent_failed",
            r#"{"phase":"design","reason":"at /diagrams: not an array"}"#,
        ),
        (
            NewEvent::ProjectDocumentRefused {
                project: ProjectId(3),
                phase: Phase::Tasks,
                attempt: 1,
                problem: "the task graph has a cycle: T001 → T002 → T001".into(),
            },
            "project.document_refused",
            r#"{"attempt":1,"phase":"tasks","problem":"the task graph has a cycle: T001 → T002 → T001"}"#,
        ),
        (
            NewEvent::ProjectGuardianSet {
                project: ProjectId(3),
                guardian: crate::oversight::GuardianOverride {
                    guardian: Some(false),
                    auto_cancel: Some(true),
                    ..Default::default()
                },
            },
            "project.guardian_set",
            r#"{"guardian":{"auto_cancel":true,"guardian":false}}"#,
        ),
        (
            NewEvent::ProjectExecutionStarted { project: ProjectId(3), tasks: vec!["T001".into(), "T002".into()] },
            "project.execution_started",
            r#"{"tasks":["T001","T002"]}"#,
        ),
        (
            NewEvent::ProjectTaskDiscovered {
                project: ProjectId(3),
                task: "T007".into(),
                from_task: "T002".into(),
                reason: "the parser needs a fixture".into(),
            },
            "project.task_discovered",
            r#"{"from_task":"T002","reason":"the parser needs a fixture","task":"T007"}"#,
        ),
        (
            NewEvent::ProjectSettingsChanged {
                project: ProjectId(3),
                discovered_tasks: Some(crate::project::DiscoveredTasks::Allow),
                checks: Some(vec!["cargo test".into()]),
            },
            "project.settings_changed",
            r#"{"checks":["cargo test"],"discovered_tasks":"allow"}"#,
        ),
        (
            NewEvent::ProjectSettingsChanged { project: ProjectId(3), discovered_tasks: None, checks: Some(vec![]) },
            "project.settings_changed",
            r#"{"checks":[]}"#,
        ),
        (
            NewEvent::ProjectDocumentEdited {
                project: ProjectId(3),
                phase: Phase::Requirements,
                version: 3,
                replanned: 2,
            },
            "project.document_edited",
            r#"{"phase":"requirements","replanned":2,"version":3}"#,
        ),
        (
            NewEvent::ProjectTaskReplanned {
                project: ProjectId(3),
                task: "T004".into(),
                from: Some(TaskState::Running),
                to: None,
                reason: "removed from the tasks document".into(),
            },
            "project.task_replanned",
            r#"{"from":"running","reason":"removed from the tasks document","task":"T004","to":null}"#,
        ),
        (
            NewEvent::ProjectPhaseEntered { project: ProjectId(3), from: Phase::Tasks, to: Phase::Execution },
            "project.phase_entered",
            r#"{"from":"tasks","to":"execution"}"#,
        ),
    ];
    for (event, kind, data) in cases {
        assert_eq!(event.kind(), kind);
        assert_eq!(event.subject(), (EventSubject::Project, 3));
        assert_eq!(stored(&event), data, "{kind}");
    }
    let idea = NewEvent::IdeaUpdated {
        idea: IdeaId(5),
        from: IdeaState::Refining,
        to: IdeaState::Promoted,
        project_id: Some(ProjectId(3)),
    };
    assert_eq!(idea.subject(), (EventSubject::Idea, 5));
    assert_eq!(stored(&idea), r#"{"from":"refining","project_id":3,"to":"promoted"}"#);
}

#[test]
fn a_run_assessment_records_the_score_and_what_was_decided() {
    use crate::ids::AssessmentId;
    use crate::oversight::{AssessmentStatus, Intervention};
    let event = NewEvent::RunAssessed {
        run: RunId(4),
        agent_id: AgentId(2),
        assessment: AssessmentId(9),
        alignment: 0.25,
        intervention: Intervention::Steer,
        status: AssessmentStatus::Pending,
    };
    assert_eq!(event.kind(), "run.assessed");
    assert_eq!(event.subject(), (EventSubject::Run, 4));
    assert_eq!(
        stored(&event),
        r#"{"agent_id":2,"alignment":0.25,"assessment":9,"intervention":"steer","status":"pending"}"#
    );
}

#[test]
fn a_duplicate_flag_names_both_items_and_what_became_of_them() {
    use crate::event::DuplicateAbout;
    use crate::ids::DuplicateId;
    use crate::oversight::duplicates::{DuplicateKind, DuplicateStatus};
    let event = NewEvent::DuplicateChanged {
        duplicate: DuplicateId(2),
        about: DuplicateAbout::Action(ActionId(5)),
        kind: DuplicateKind::Action,
        first: "5".into(),
        second: "8".into(),
        similarity: 1.0,
        status: DuplicateStatus::Merged,
        kept: Some("5".into()),
    };
    assert_eq!(event.kind(), "duplicate.decided");
    assert_eq!(event.subject(), (EventSubject::Action, 5));
    assert_eq!(
        stored(&event),
        r#"{"duplicate":2,"first":"5","kept":"5","kind":"action","second":"8","similarity":1.0,"status":"merged"}"#
    );
}
