//! Storing actions and moving them through their lifecycle.

pub(crate) mod decide;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;
use steward_domain::access::Owners;
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

    async fn list_actions(&self, owners: Owners, filter: ActionFilter) -> Result<Vec<Action>>;

    /// Changes an action's content; refused once the action is final.
    async fn update_action(&self, user: UserId, id: ActionId, patch: ActionPatch) -> Result<Action>;

    /// Moves an action to `to` if its lifecycle allows it, recording `reason`,
    /// in one transaction with what the move means for the runs working on
    /// the action (its runs that are not finished):
    ///
    /// - to `dismissed`, `defined` or `draft`, nobody wants the work done
    ///   now, so each such run is cancelled as [`RunStore::cancel_run`]
    ///   cancels it: a queued run, or one awaiting approval, is finished
    ///   `cancelled` at once, its job cancelled, its approvals withdrawn; a
    ///   running run gets `cancel_requested` and its job is cancelled, so
    ///   the loop stops at the next step boundary (one already asked is left
    ///   to stop). The run's error says the action was dismissed or moved
    ///   back; when the run ends it leaves the action where the person put
    ///   it. Events `action.transitioned`, then `run.finished` or
    ///   `run.cancel_requested` (with the job's and approvals' events).
    /// - to `in_progress`, `completed` or `failed` is refused (`Conflict`,
    ///   field `to`) while a run works on the action, naming the run and how
    ///   to cancel it: the run moves the action itself when it ends.
    /// - to `scheduled` leaves the runs alone (scheduling with a run is
    ///   [`RunStore::schedule_action`]).
    ///
    /// [`RunStore::cancel_run`]: crate::RunStore::cancel_run
    /// [`RunStore::schedule_action`]: crate::RunStore::schedule_action
    async fn transition_action(
        &self,
        user: UserId,
        id: ActionId,
        to: ActionState,
        reason: Option<String>,
    ) -> Result<Action>;
}
