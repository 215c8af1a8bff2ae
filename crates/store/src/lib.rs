//! Persistence for Steward: the [`Store`] trait surface and its two
//! implementations, embedded SQLite ([`sqlite`]) and PostgreSQL
//! ([`postgres`]), including the durable job queue in SQL.
//!
//! Architecture invariant: this is the only crate that knows SQL. Callers see
//! domain types and [`StoreError`]; rows, statements and dialects stay here.
//! Every state change of a job, agent, action, run or approval, and every
//! message and artifact written, is one transaction that also appends an
//! event row.

pub mod actions;
pub mod actor;
pub mod agents;
mod approvals;
pub mod artifacts;
pub mod auth;
pub mod conversations;
pub mod costs;
pub mod database_url;
pub mod deliveries;
pub mod error;
pub mod events;
mod inbox;
pub mod jobs;
pub mod memory;
pub mod metrics;
pub mod migrations;
pub mod nodes;
pub mod oversight;
pub mod ownership;
pub mod postgres;
pub mod projects;
pub mod routines;
mod rules;
pub mod runs;
pub mod schedules;
pub mod sqlite;
pub mod wakeups;

use std::sync::Arc;

use async_trait::async_trait;
use steward_domain::Clock;

pub use actions::{ActionFilter, ActionStore};
pub use agents::{AgentFilter, AgentStore};
pub use artifacts::{ArtifactFilter, ArtifactStore};
pub use auth::AuthStore;
pub use conversations::ConversationStore;
pub use costs::{CostEntry, CostPurpose, CostStore};
pub use database_url::{DatabaseKind, DatabaseUrl};
pub use deliveries::{DeliveryAttempt, DeliveryFilter, DeliveryStore};
pub use error::{ConflictKind, Entity, StoreError};
pub use events::{EventLog, EventQuery};
pub use inbox::InboxStore;
pub use jobs::{
    ClaimRequest, ClaimResponse, ClaimedJob, EnqueueOutcome, JobCounts, JobFilter, JobOutcome, JobQueue, LeaseRef,
    LeaseStatus, RetryDecision, SettleOutcome, Settlement,
};
pub use memory::MemoryStore;
pub use metrics::{MetricsSnapshot, MetricsStore, ModelUsage};
pub use migrations::MigrationReport;
pub use nodes::{Node, NodeBeat, NodeState, NodeStore};
pub use oversight::{
    DeliveredInterventions, GuardianCandidate, NewOversightCall, OversightCallPurpose, OversightStore,
};
pub use ownership::OwnershipStore;
pub use projects::{ProjectRecord, ProjectStore, TaskUpdate};
pub use routines::{FireRecord, RoutineStore};
pub use runs::{AgentMetrics, ApprovalFilter, RunFilter, RunFinish, RunStore};
pub use schedules::{FireRequest, PreconditionCheck, ScheduleStore, SettleReport};
pub use wakeups::Wakeups;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything Steward persists, behind one object-safe surface so the
/// backend is chosen at run time.
#[async_trait]
pub trait Store:
    AgentStore
    + ActionStore
    + AuthStore
    + RunStore
    + InboxStore
    + ConversationStore
    + ArtifactStore
    + DeliveryStore
    + CostStore
    + MetricsStore
    + MemoryStore
    + JobQueue
    + NodeStore
    + EventLog
    + ScheduleStore
    + OwnershipStore
    + RoutineStore
    + ProjectStore
    + OversightStore
    + Send
    + Sync
    + 'static
{
    fn kind(&self) -> DatabaseKind;

    /// Signals raised after commits that made jobs ready or appended events,
    /// including (on PostgreSQL) commits made by other processes.
    fn wakeups(&self) -> &Wakeups;

    /// Applies pending migrations; safe to call on every start and from
    /// several processes at once.
    async fn migrate(&self) -> Result<MigrationReport>;

    /// Waits for in-flight writes and closes connections.
    async fn close(&self);
}

/// Queue behaviour that is configuration rather than per job (here, beside
/// the options that carry it, so the backends' plumbing needs no area).
#[derive(Clone, Debug, PartialEq)]
pub struct QueueSettings {
    /// Ceiling of the automatic retry delay.
    pub retry_backoff_cap: std::time::Duration,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings { retry_backoff_cap: steward_domain::backoff::DEFAULT_CAP }
    }
}

/// Options shared by both backends.
#[derive(Clone)]
pub struct StoreOptions {
    pub clock: Arc<dyn Clock>,
    pub queue: QueueSettings,
    /// Connections the PostgreSQL pool opens at most (SQLite ignores it).
    pub postgres_max_connections: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            clock: Arc::new(steward_domain::SystemClock),
            queue: QueueSettings::default(),
            postgres_max_connections: postgres::connection::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("queue", &self.queue)
            .field("postgres_max_connections", &self.postgres_max_connections)
            .finish_non_exhaustive()
    }
}

/// Opens the database named by `url` (without migrating it).
pub async fn open(url: &DatabaseUrl, options: StoreOptions) -> Result<Arc<dyn Store>> {
    match url {
        DatabaseUrl::Sqlite(path) => Ok(Arc::new(sqlite::SqliteStore::open(path, options).await?)),
        DatabaseUrl::Postgres(url) => postgres::PostgresStore::connect(url, options).await,
    }
}
