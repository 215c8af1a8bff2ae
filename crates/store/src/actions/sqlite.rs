//! Actions on SQLite.

use crate::ownership::{list_condition, list_parameter};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use steward_domain::access::Owners;
use steward_domain::action::check_reason;
use steward_domain::{Action, ActionId, ActionPatch, ActionState, AgentId, AgentStatus, NewAction, NewEvent, UserId};

use crate::actions::decide;
use crate::actions::{ActionFilter, ActionStore};
use crate::events::sqlite::append;
use crate::rules::NewWork;
use crate::runs::sqlite as runs;
use crate::sqlite::SqliteStore;
use crate::sqlite::connection::to_micros;
use crate::sqlite::rows::{self, ACTION_COLUMNS, optional};
use crate::sqlite::writer::Effects;
use crate::{Entity, Result, StoreError, rules};

pub(crate) fn load(connection: &Connection, user: UserId, id: ActionId) -> Result<Action> {
    let mut statement =
        connection.prepare_cached(&format!("SELECT {ACTION_COLUMNS} FROM actions WHERE id = ?1 AND user_id = ?2"))?;
    optional(statement.query_row(params![id.get(), user.get()], rows::action))?
        .ok_or_else(|| StoreError::not_found(Entity::Action, id))
}

pub(crate) fn agent_status(connection: &Connection, user: UserId, agent: AgentId) -> Result<Option<AgentStatus>> {
    let status: Option<String> = optional(connection.query_row(
        "SELECT status FROM agents WHERE id = ?1 AND user_id = ?2",
        params![agent.get(), user.get()],
        |row| row.get(0),
    ))?;
    status.map(|status| status.parse().map_err(StoreError::from)).transpose()
}

#[async_trait]
impl ActionStore for SqliteStore {
    async fn create_action(&self, user: UserId, action: NewAction) -> Result<Action> {
        action.validate()?;
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                let status = agent_status(connection, user, action.agent_id)?;
                rules::check_agent_takes(action.agent_id, status, NewWork::Action)?;
                connection.execute(
                    "INSERT INTO actions (user_id, agent_id, title, description, priority, mode, scheduled_for, \
                     state, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'draft', ?8, ?8)",
                    params![
                        user.get(),
                        action.agent_id.get(),
                        action.title.trim(),
                        action.description,
                        action.priority.as_str(),
                        action.mode.as_str(),
                        action.scheduled_for.map(to_micros),
                        to_micros(now)
                    ],
                )?;
                let id = ActionId(connection.last_insert_rowid());
                append(
                    connection,
                    effects,
                    user,
                    now,
                    NewEvent::ActionCreated {
                        action: id,
                        agent_id: action.agent_id,
                        title: action.title.trim().to_string(),
                    },
                )?;
                load(connection, user, id)
            })
            .await
    }

    async fn get_action(&self, user: UserId, id: ActionId) -> Result<Action> {
        self.readers.read(move |connection| load(connection, user, id)).await
    }

    async fn list_actions(&self, owners: Owners, filter: ActionFilter) -> Result<Vec<Action>> {
        self.readers
            .read(move |connection| {
                let owner = list_condition(owners, "?1");
                let mut statement = connection.prepare_cached(&format!(
                    "SELECT {ACTION_COLUMNS} FROM actions WHERE {owner} AND (?2 IS NULL OR agent_id = ?2) \
                     AND (?3 = '[]' OR state IN (SELECT value FROM json_each(?3))) ORDER BY id"
                ))?;
                let states: Vec<&str> = filter.states.iter().map(|state| state.as_str()).collect();
                let actions = statement
                    .query_map(
                        params![
                            list_parameter(owners),
                            filter.agent_id.map(AgentId::get),
                            serde_json::to_string(&states)?
                        ],
                        rows::action,
                    )?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(actions)
            })
            .await
    }

    async fn update_action(&self, user: UserId, id: ActionId, patch: ActionPatch) -> Result<Action> {
        patch.validate()?;
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                let mut action = load(connection, user, id)?;
                if action.state.is_final() {
                    return Err(rules::action_is_final(id, action.state));
                }
                patch.apply_to(&mut action);
                connection.execute(
                    "UPDATE actions SET title = ?1, description = ?2, priority = ?3, mode = ?4, scheduled_for = ?5, \
                     updated_at = ?6 WHERE id = ?7",
                    params![
                        action.title,
                        action.description,
                        action.priority.as_str(),
                        action.mode.as_str(),
                        action.scheduled_for.map(to_micros),
                        to_micros(now),
                        id.get()
                    ],
                )?;
                append(
                    connection,
                    effects,
                    user,
                    now,
                    NewEvent::ActionUpdated { action: id, agent_id: action.agent_id },
                )?;
                load(connection, user, id)
            })
            .await
    }

    async fn transition_action(
        &self,
        user: UserId,
        id: ActionId,
        to: ActionState,
        reason: Option<String>,
    ) -> Result<Action> {
        check_reason(reason.as_deref())?;
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                let action = load(connection, user, id)?;
                let working = runs::unfinished_of_action(connection, user, id)?;
                let stop_runs = decide::decide_manual_move(&action, to, &working)?;
                // The action moves first, so the runs' ends leave it where
                // the person put it.
                move_action(connection, effects, &action, to, reason.as_deref(), now)?;
                if let Some(error) = stop_runs {
                    for run in &working {
                        runs::stop(connection, effects, run, &error, now)?;
                    }
                }
                load(connection, user, id)
            })
            .await
    }
}

/// Moves `action` to `to` and records the event; the caller has checked
/// that the move is allowed.
pub(crate) fn move_action(
    connection: &Connection,
    effects: &mut Effects,
    action: &Action,
    to: ActionState,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    connection.execute(
        "UPDATE actions SET state = ?1, state_reason = ?2, updated_at = ?3 WHERE id = ?4",
        params![to.as_str(), reason, to_micros(now), action.id.get()],
    )?;
    append(
        connection,
        effects,
        action.user_id,
        now,
        NewEvent::ActionTransitioned {
            action: action.id,
            agent_id: action.agent_id,
            from: action.state,
            to,
            reason: reason.map(str::to_string),
        },
    )
}
