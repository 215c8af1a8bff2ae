//! Storing actions and moving them through their lifecycle.

use async_trait::async_trait;
use steward_domain::{Action, ActionId, ActionPatch, ActionState, AgentId, NewAction, UserId};

use crate::Result;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActionFilter {
    pub agent_id: Option<AgentId>,
    /// Empty means every state.
    pub states: Vec<ActionState>,
}

#[async_trait]
pub trait ActionStore {
    /// Creates a draft action for an agent that exists and is not archived.
    async fn create_action(&self, user: UserId, action: NewAction) -> Result<Action>;

    async fn get_action(&self, user: UserId, id: ActionId) -> Result<Action>;

    async fn list_actions(&self, user: UserId, filter: ActionFilter) -> Result<Vec<Action>>;

    /// Changes an action's content; refused once the action is final.
    async fn update_action(&self, user: UserId, id: ActionId, patch: ActionPatch) -> Result<Action>;

    /// Moves an action to `to` if its lifecycle allows it, recording `reason`.
    async fn transition_action(
        &self,
        user: UserId,
        id: ActionId,
        to: ActionState,
        reason: Option<String>,
    ) -> Result<Action>;
}
