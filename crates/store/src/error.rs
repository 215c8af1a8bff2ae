//! What can go wrong in the store, typed so the API layer can map each case
//! to one HTTP status and a stable error code.

use std::fmt;

use steward_domain::ValidationError;

/// The kind of thing that was not found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entity {
    Agent,
    Action,
    Job,
    Event,
    Run,
    Approval,
    Conversation,
    Artifact,
    Delivery,
    Routine,
    Fire,
    Episode,
    Fact,
    MemoryEntity,
    Schedule,
    User,
    Token,
    Idea,
    Project,
    ProjectTask,
    Duplicate,
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entity::Agent => "agent",
            Entity::Action => "action",
            Entity::Job => "job",
            Entity::Event => "event",
            Entity::Run => "run",
            Entity::Duplicate => "duplicate",
            Entity::Approval => "approval",
            Entity::Conversation => "conversation",
            Entity::Artifact => "artifact",
            Entity::Delivery => "delivery",
            Entity::Routine => "routine",
            Entity::Fire => "fire",
            Entity::Episode => "episode",
            Entity::Fact => "fact",
            Entity::MemoryEntity => "entity",
            Entity::Schedule => "schedule",
            Entity::User => "user",
            Entity::Token => "token",
            Entity::Idea => "idea",
            Entity::Project => "project",
            Entity::ProjectTask => "task",
        })
    }
}

/// Why a well-formed request cannot be applied to the current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConflictKind {
    /// A state machine forbids the move (action draft → completed, cancel a
    /// completed job).
    IllegalTransition,
    /// A unique name is taken.
    AlreadyExists,
    /// A dependency died or was cancelled, so the job can never run.
    DependencyFailed,
    /// The thing is archived and no longer changes.
    Archived,
    /// The caller acted on an out-of-date view (a run step appended after
    /// another worker already appended it): reload, or stop.
    Stale,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} {id} not found")]
    NotFound { entity: Entity, id: String },

    /// Bad input that only the store can detect (a dependency on a missing
    /// job, a dependency cycle across a batch).
    #[error(transparent)]
    Invalid(#[from] ValidationError),

    #[error("{message}")]
    Conflict { kind: ConflictKind, field: Option<String>, message: String },

    /// The database refused or failed; the message is for operators.
    #[error("database error: {0}")]
    Database(String),

    #[error("migration failed: {0}")]
    Migration(String),

    /// The store was closed or its writer stopped.
    #[error("the store is closed")]
    Closed,
}

impl StoreError {
    pub fn not_found(entity: Entity, id: impl fmt::Display) -> Self {
        StoreError::NotFound { entity, id: id.to_string() }
    }

    pub fn conflict(kind: ConflictKind, field: Option<&str>, message: impl Into<String>) -> Self {
        StoreError::Conflict { kind, field: field.map(str::to_string), message: message.into() }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        StoreError::Invalid(ValidationError::new(field, message))
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Database(error.to_string())
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolClosed => StoreError::Closed,
            other => StoreError::Database(other.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        StoreError::Database(format!("stored JSON could not be read: {error}"))
    }
}
