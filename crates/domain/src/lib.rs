//! Steward's pure core: identifiers, entities, their state machines and the
//! arithmetic around them (retry backoff, dependency cycles).
//!
//! Architecture invariant: this crate does no I/O. It has no tokio, no SQL, no
//! HTTP; everything here computes and returns values, so it is tested without
//! a database or a socket. The one ambient input is the [`Clock`], which is a
//! trait so callers can substitute a manual clock.

pub mod access;
pub mod action;
pub mod agent;
pub mod approval;
pub mod artifact;
pub mod auth;
pub mod backoff;
pub mod conversation;
pub mod delivery;
pub mod dependency_graph;
pub mod event;
pub mod ids;
pub mod job;
pub mod living_docs;
pub mod memory;
pub mod oversight;
pub mod project;
pub mod routine;
pub mod run;
pub mod schedule;
pub mod secret_text;
pub mod suggest;
mod text_enum;
pub mod time;
pub mod validation;

pub use action::{Action, ActionMode, ActionPatch, ActionPriority, ActionState, NewAction};
pub use agent::{Agent, AgentPatch, AgentStatus, Budget, NewAgent};
pub use approval::{Approval, ApprovalStatus, Decision, NewApproval};
pub use artifact::{Artifact, NewArtifact};
pub use conversation::{
    ChatMessage, ChatRole, Conversation, ConversationKind, MessageCost, NewChatMessage, NewConversation,
};
pub use event::{Event, EventKind, EventSubject, JobChange, JobEvent, NewEvent};
pub use ids::{
    ActionId, AgentId, ApprovalId, ArtifactId, AssessmentId, ConversationId, DeliveryId, DuplicateId, EntityId,
    EpisodeId, EventId, FactId, FireId, IdeaId, JobId, MessageId, ProjectId, RoutineId, RunId, ScheduleId, UserId,
};
pub use job::{DeathReason, Job, JobRef, JobState, NewJob};
pub use run::{
    ModelCallStarted, NewRun, NewRunStep, Run, RunLimits, RunOutcome, RunStatus, RunStep, RunUsage, Spend, StepKind,
    TokenUsage,
};
pub use time::{Clock, ManualClock, SystemClock};
pub use validation::{ValidationError, ValidationErrors};
