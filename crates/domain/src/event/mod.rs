//! The append-only event log: one entry per state change, in commit order.

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::ids::{EventId, UserId};

mod job_event;
mod new_event;
#[cfg(test)]
mod wire_format_tests;

pub use job_event::{CancelCause, DEPENDENCY_RETRIED, JobChange, JobEvent, RetryCause};
pub use new_event::{DuplicateAbout, NewEvent, RunQueuedFor, WITHDRAWN_REASON};

/// What an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventSubject {
    Job,
    Agent,
    Action,
    Run,
    Approval,
    Conversation,
    Artifact,
    Delivery,
    Routine,
    Episode,
    Fact,
    Schedule,
    Project,
    Idea,
}

impl EventSubject {
    pub const ALL: [EventSubject; 14] = [
        EventSubject::Job,
        EventSubject::Agent,
        EventSubject::Action,
        EventSubject::Run,
        EventSubject::Approval,
        EventSubject::Conversation,
        EventSubject::Artifact,
        EventSubject::Delivery,
        EventSubject::Routine,
        EventSubject::Episode,
        EventSubject::Fact,
        EventSubject::Schedule,
        EventSubject::Project,
        EventSubject::Idea,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventSubject::Job => "job",
            EventSubject::Agent => "agent",
            EventSubject::Action => "action",
            EventSubject::Run => "run",
            EventSubject::Approval => "approval",
            EventSubject::Conversation => "conversation",
            EventSubject::Artifact => "artifact",
            EventSubject::Delivery => "delivery",
            EventSubject::Routine => "routine",
            EventSubject::Episode => "episode",
            EventSubject::Fact => "fact",
            EventSubject::Schedule => "schedule",
            EventSubject::Project => "project",
            EventSubject::Idea => "idea",
        }
    }

    pub fn parse(text: &str) -> Option<EventSubject> {
        EventSubject::ALL.into_iter().find(|subject| subject.as_str() == text)
    }
}

impl fmt::Display for EventSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Kinds of events that are not job transitions (those come from
/// [`crate::job::JobTransition::event_kind`]).
pub struct EventKind;

impl EventKind {
    pub const AGENT_CREATED: &'static str = "agent.created";
    pub const AGENT_UPDATED: &'static str = "agent.updated";
    pub const AGENT_ARCHIVED: &'static str = "agent.archived";
    pub const ACTION_CREATED: &'static str = "action.created";
    pub const ACTION_UPDATED: &'static str = "action.updated";
    pub const ACTION_TRANSITIONED: &'static str = "action.transitioned";
    pub const RUN_QUEUED: &'static str = "run.queued";
    pub const RUN_STARTED: &'static str = "run.started";
    pub const RUN_STEP: &'static str = "run.step";
    pub const RUN_AWAITING_APPROVAL: &'static str = "run.awaiting_approval";
    pub const RUN_CANCEL_REQUESTED: &'static str = "run.cancel_requested";
    pub const RUN_FINISHED: &'static str = "run.finished";
    pub const RUN_ASSESSED: &'static str = "run.assessed";
    pub const DUPLICATE_FLAGGED: &'static str = "duplicate.flagged";
    pub const DUPLICATE_DECIDED: &'static str = "duplicate.decided";
    pub const APPROVAL_REQUESTED: &'static str = "approval.requested";
    pub const APPROVAL_DECIDED: &'static str = "approval.decided";
    pub const MESSAGE_CREATED: &'static str = "message.created";
    pub const ARTIFACT_WRITTEN: &'static str = "artifact.written";
    pub const DELIVERY_SENT: &'static str = "delivery.sent";
    pub const DELIVERY_FAILED: &'static str = "delivery.failed";
    pub const ROUTINE_FIRED: &'static str = "routine.fired";
    pub const ROUTINE_UPDATED: &'static str = "routine.updated";
    pub const MEMORY_EPISODE_INGESTED: &'static str = "memory.episode_ingested";
    pub const MEMORY_FACT_INVALIDATED: &'static str = "memory.fact_invalidated";
    pub const SCHEDULE_CREATED: &'static str = "schedule.created";
    pub const SCHEDULE_PAUSED: &'static str = "schedule.paused";
    pub const SCHEDULE_RESUMED: &'static str = "schedule.resumed";
    pub const SCHEDULE_DELETED: &'static str = "schedule.deleted";
    pub const SCHEDULE_FIRED: &'static str = "schedule.fired";
    pub const SCHEDULE_SLOTS_NOT_FIRED: &'static str = "schedule.slots_not_fired";
    pub const SCHEDULE_FIRE_SETTLED: &'static str = "schedule.fire_settled";
    pub const IDEA_CAPTURED: &'static str = "idea.captured";
    pub const IDEA_UPDATED: &'static str = "idea.updated";
    pub const PROJECT_CREATED: &'static str = "project.created";
    pub const PROJECT_DOCUMENT_PROPOSED: &'static str = "project.document_proposed";
    pub const PROJECT_DOCUMENT_DECIDED: &'static str = "project.document_decided";
    pub const PROJECT_PHASE_ENTERED: &'static str = "project.phase_entered";
    pub const PROJECT_TASK_CHANGED: &'static str = "project.task_changed";
    pub const PROJECT_AGENT_FAILED: &'static str = "project.agent_failed";
    pub const PROJECT_DOCUMENT_REFUSED: &'static str = "project.document_refused";
    pub const PROJECT_EXECUTION_STARTED: &'static str = "project.execution_started";
    pub const PROJECT_TASK_DISCOVERED: &'static str = "project.task_discovered";
    pub const PROJECT_DOCUMENT_EDITED: &'static str = "project.document_edited";
    pub const PROJECT_TASK_REPLANNED: &'static str = "project.task_replanned";
    pub const PROJECT_GUARDIAN_SET: &'static str = "project.guardian_set";
    pub const PROJECT_SETTINGS_CHANGED: &'static str = "project.settings_changed";
}

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub user_id: UserId,
    pub occurred_at: DateTime<Utc>,
    /// `job.completed`, `agent.created`, …
    pub kind: String,
    pub subject: EventSubject,
    pub subject_id: i64,
    pub data: Value,
    /// Who made the change; `None` for what the system did by itself.
    pub actor: Option<crate::access::Actor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subject_parses_its_own_name() {
        for subject in EventSubject::ALL {
            assert_eq!(EventSubject::parse(subject.as_str()), Some(subject));
        }
        assert_eq!(EventSubject::parse("message"), None);
    }
}
