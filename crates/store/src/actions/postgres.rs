//! Actions on PostgreSQL.

use crate::ownership::{list_condition, list_parameter};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::PgConnection;
use steward_domain::access::Owners;
use steward_domain::action::check_reason;
use steward_domain::{Action, ActionId, ActionPatch, ActionState, AgentId, AgentStatus, NewAction, NewEvent, UserId};

use crate::actions::decide;
use crate::actions::{ActionFilter, ActionStore};
use crate::postgres::PostgresStore;
use crate::postgres::rows::{self, action_columns};
use crate::postgres::transaction::{Begin, Transaction, TransactionResult};
use crate::rules::NewWork;
use crate::runs::postgres as runs;
use crate::{Entity, Result, StoreError, rules};

pub(crate) async fn load(connection: &mut PgConnection, user: UserId, id: ActionId) -> Result<Action> {
    let row = sqlx::query(concat!("SELECT ", action_columns!(), " FROM actions WHERE id = $1 AND user_id = $2"))
        .bind(id.get())
        .bind(user.get())
        .fetch_optional(connection)
        .await?;
    Ok(rows::action(&row.ok_or_else(|| StoreError::not_found(Entity::Action, id))?)?)
}

/// Loads the action and locks it, so two transitions cannot both start from
/// the same state.
pub(crate) async fn load_for_update(
    connection: &mut PgConnection,
    user: UserId,
    id: ActionId,
) -> TransactionResult<Action> {
    let row =
        sqlx::query(concat!("SELECT ", action_columns!(), " FROM actions WHERE id = $1 AND user_id = $2 FOR UPDATE"))
            .bind(id.get())
            .bind(user.get())
            .fetch_optional(connection)
            .await?;
    Ok(rows::action(&row.ok_or_else(|| StoreError::not_found(Entity::Action, id))?)?)
}

/// The agent's status, with the agent row share-locked so it cannot be
/// archived between this check and the commit of the new action.
pub(crate) async fn agent_status_for_share(
    connection: &mut PgConnection,
    user: UserId,
    agent: AgentId,
) -> TransactionResult<Option<AgentStatus>> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM agents WHERE id = $1 AND user_id = $2 FOR SHARE")
            .bind(agent.get())
            .bind(user.get())
            .fetch_optional(connection)
            .await?;
    Ok(status.map(|status| status.parse()).transpose()?)
}

#[async_trait]
impl ActionStore for PostgresStore {
    async fn create_action(&self, user: UserId, action: NewAction) -> Result<Action> {
        action.validate()?;
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let action = action.clone();
            Box::pin(async move {
                let status = agent_status_for_share(transaction.connection(), user, action.agent_id).await?;
                rules::check_agent_takes(action.agent_id, status, NewWork::Action)?;
                let title = action.title.trim();
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO actions (user_id, agent_id, title, description, priority, mode, scheduled_for, \
                     state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', $8, $8) RETURNING id",
                )
                .bind(user.get())
                .bind(action.agent_id.get())
                .bind(title)
                .bind(&action.description)
                .bind(action.priority.as_str())
                .bind(action.mode.as_str())
                .bind(action.scheduled_for)
                .bind(now)
                .fetch_one(transaction.connection())
                .await?;
                transaction.record(
                    user,
                    now,
                    NewEvent::ActionCreated {
                        action: ActionId(id),
                        agent_id: action.agent_id,
                        title: title.to_string(),
                    },
                );
                Ok(load(transaction.connection(), user, ActionId(id)).await?)
            })
        })
        .await
    }

    async fn get_action(&self, user: UserId, id: ActionId) -> Result<Action> {
        load(&mut *self.pool.acquire().await?, user, id).await
    }

    async fn list_actions(&self, owners: Owners, filter: ActionFilter) -> Result<Vec<Action>> {
        let states: Vec<&str> = filter.states.iter().map(|state| state.as_str()).collect();
        let rows = sqlx::query(AssertSqlSafe(format!(
            concat!(
                "SELECT ",
                action_columns!(),
                " FROM actions WHERE {owner} AND ($2::bigint IS NULL OR agent_id = $2) \
                  AND (cardinality($3::text[]) = 0 OR state = ANY($3)) ORDER BY id"
            ),
            owner = list_condition(owners, "$1::bigint")
        )))
        .bind(list_parameter(owners))
        .bind(filter.agent_id.map(AgentId::get))
        .bind(states)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(rows::action).collect::<Result<_, _>>()?)
    }

    async fn update_action(&self, user: UserId, id: ActionId, patch: ActionPatch) -> Result<Action> {
        patch.validate()?;
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let patch = patch.clone();
            Box::pin(async move {
                let mut action = load_for_update(transaction.connection(), user, id).await?;
                if action.state.is_final() {
                    return Err(rules::action_is_final(id, action.state).into());
                }
                patch.apply_to(&mut action);
                sqlx::query(
                    "UPDATE actions SET title = $1, description = $2, priority = $3, mode = $4, \
                     scheduled_for = $5, updated_at = $6 WHERE id = $7",
                )
                .bind(&action.title)
                .bind(&action.description)
                .bind(action.priority.as_str())
                .bind(action.mode.as_str())
                .bind(action.scheduled_for)
                .bind(now)
                .bind(id.get())
                .execute(transaction.connection())
                .await?;
                transaction.record(user, now, NewEvent::ActionUpdated { action: id, agent_id: action.agent_id });
                Ok(load(transaction.connection(), user, id).await?)
            })
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
        self.write(Begin::Plain, |transaction| {
            let reason = reason.clone();
            Box::pin(async move {
                // The action's runs are locked before the action, the order
                // every operation on a run takes its locks in; once the
                // action is locked nothing can start another run, and
                // looking again locks one that scheduling added meanwhile.
                runs::lock_unfinished_of_action(transaction.connection(), user, id).await?;
                let action = load_for_update(transaction.connection(), user, id).await?;
                let working = runs::lock_unfinished_of_action(transaction.connection(), user, id).await?;
                let stop_runs = decide::decide_manual_move(&action, to, &working)?;
                // The action moves first, so the runs' ends leave it where
                // the person put it.
                move_action(transaction, &action, to, reason.as_deref(), now).await?;
                if let Some(error) = stop_runs {
                    for run in &working {
                        runs::stop(transaction, run, &error, now).await?;
                    }
                }
                Ok(load(transaction.connection(), user, id).await?)
            })
        })
        .await
    }
}

/// Moves `action` (locked by the caller) to `to` and records the event; the
/// caller has checked that the move is allowed.
pub(crate) async fn move_action(
    transaction: &mut Transaction,
    action: &Action,
    to: ActionState,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    sqlx::query("UPDATE actions SET state = $1, state_reason = $2, updated_at = $3 WHERE id = $4")
        .bind(to.as_str())
        .bind(reason)
        .bind(now)
        .bind(action.id.get())
        .execute(transaction.connection())
        .await?;
    transaction.record(
        action.user_id,
        now,
        NewEvent::ActionTransitioned {
            action: action.id,
            agent_id: action.agent_id,
            from: action.state,
            to,
            reason: reason.map(str::to_string),
        },
    );
    Ok(())
}
