//! Storing agents.

pub(crate) mod decide;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;
use steward_domain::access::Owners;
use steward_domain::{Agent, AgentId, AgentPatch, AgentStatus, NewAgent, UserId};

use crate::Result;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct AgentFilter {
    /// Only agents in this status; `None` means active and paused.
    pub status: Option<AgentStatus>,
}

#[async_trait]
pub trait AgentStore {
    /// Creates an agent; its name must be unique among the user's agents that
    /// are not archived.
    async fn create_agent(&self, user: UserId, agent: NewAgent) -> Result<Agent>;

    async fn get_agent(&self, user: UserId, id: AgentId) -> Result<Agent>;

    /// Finds a non-archived agent by exact name.
    async fn find_agent_by_name(&self, user: UserId, name: &str) -> Result<Agent>;

    async fn list_agents(&self, owners: Owners, filter: AgentFilter) -> Result<Vec<Agent>>;

    /// Applies a validated patch. An archived agent no longer changes.
    async fn update_agent(&self, user: UserId, id: AgentId, patch: AgentPatch) -> Result<Agent>;

    /// Archives the agent (final). Archiving twice is not an error.
    async fn archive_agent(&self, user: UserId, id: AgentId) -> Result<Agent>;
}
