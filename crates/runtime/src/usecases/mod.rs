//! Use cases: the operations people and programs ask Steward for — start a
//! run, schedule an action, move an action, approve or reject a tool call,
//! cancel a run — with the rules that decide them. The HTTP API calls these
//! and only translates requests and results; the CLI's direct commands and
//! the coming scheduler, routines and MCP server call the same ones.
//!
//! Architecture invariant: a use case reads "now" from its injected clock,
//! never the system's, so its rules are tested by setting the time.

mod actions;
mod approvals;
mod duplicates;
mod interventions;
mod routine_edit;
mod routines;
mod runs;
mod schedules;
pub mod start_time;

use std::sync::Arc;

use steward_store::Store;

use crate::agent::AgentRuntime;
use crate::clock::SharedClock;

pub use actions::{ScheduleAction, instruction_for};
pub use duplicates::{DuplicateSettings, WorkGroup, WorkInventory, WorkItem};
pub use interventions::{Intervened, PersonIntervention};
pub use routine_edit::EditRoutine;
pub use routines::{AddRoutine, AddedRoutine};
pub use runs::StartRun;
pub use schedules::{CreateSchedule, TargetRequest};
pub use start_time::{MAX_DELAY, start_time};

pub use crate::use_case_error::UseCaseError;

/// What the use cases need: the store, the clock, and (for those that start
/// work) the agent runtime.
#[derive(Clone)]
pub struct UseCases {
    store: Arc<dyn Store>,
    clock: SharedClock,
    agents: Option<Arc<AgentRuntime>>,
    duplicates: DuplicateSettings,
}

impl UseCases {
    pub fn new(store: Arc<dyn Store>, clock: SharedClock) -> Self {
        UseCases { store, clock, agents: None, duplicates: DuplicateSettings::default() }
    }

    /// Lets the use cases that start work (runs, scheduling) do so.
    pub fn with_agents(mut self, agents: Option<Arc<AgentRuntime>>) -> Self {
        self.agents = agents;
        self
    }

    /// The store the use cases work on.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// How duplicate scans compare work: thresholds, and memory's embedding model.
    pub fn with_duplicates(mut self, duplicates: DuplicateSettings) -> Self {
        self.duplicates = duplicates;
        self
    }

    /// The agent runtime, or the refusal of work that needs one. Work that
    /// stops or unblocks (cancel, approve, reject) never asks for it.
    fn agent_runtime(&self) -> Result<&Arc<AgentRuntime>, UseCaseError> {
        self.agents.as_ref().ok_or(UseCaseError::NoAgentRuntime)
    }
}

impl std::fmt::Debug for UseCases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseCases")
            .field("database", &self.store.kind())
            .field("agents", &self.agents.is_some())
            .finish_non_exhaustive()
    }
}
