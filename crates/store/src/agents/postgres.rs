//! Agents on PostgreSQL.

use crate::ownership::{list_condition, list_parameter};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::PgConnection;
use steward_domain::access::Owners;
use steward_domain::{Agent, AgentId, AgentPatch, AgentStatus, NewAgent, NewEvent, UserId};

use crate::agents::{AgentFilter, AgentStore, decide};
use crate::postgres::PostgresStore;
use crate::postgres::connection::could_be_stored;
use crate::postgres::connection::to_integer;
use crate::postgres::rows::{self, agent_columns};
use crate::postgres::transaction::{Begin, Transaction, TransactionResult};
use crate::rules::StoredLimits;
use crate::{Entity, Result, StoreError, rules};

pub(crate) async fn load(connection: &mut PgConnection, user: UserId, id: AgentId) -> Result<Agent> {
    let row = sqlx::query(concat!("SELECT ", agent_columns!(), " FROM agents WHERE id = $1 AND user_id = $2"))
        .bind(id.get())
        .bind(user.get())
        .fetch_optional(connection)
        .await?;
    Ok(rows::agent(&row.ok_or_else(|| StoreError::not_found(Entity::Agent, id))?)?)
}

/// Loads the agent and locks it against concurrent changes until commit.
async fn load_for_update(connection: &mut PgConnection, user: UserId, id: AgentId) -> TransactionResult<Agent> {
    let row =
        sqlx::query(concat!("SELECT ", agent_columns!(), " FROM agents WHERE id = $1 AND user_id = $2 FOR UPDATE"))
            .bind(id.get())
            .bind(user.get())
            .fetch_optional(connection)
            .await?;
    Ok(rows::agent(&row.ok_or_else(|| StoreError::not_found(Entity::Agent, id))?)?)
}

/// Refuses a name held by another live agent. Two transactions can both
/// pass this check; the unique index `agents_live_name` then stops the
/// second, which is run again and refused here.
async fn ensure_name_free(
    connection: &mut PgConnection,
    user: UserId,
    name: &str,
    except: Option<AgentId>,
) -> TransactionResult<()> {
    let taken: Option<(i64, String)> = sqlx::query_as(
        "SELECT id, name FROM agents WHERE user_id = $1 AND lower(name) = lower($2) AND status <> 'archived'",
    )
    .bind(user.get())
    .bind(name)
    .fetch_optional(connection)
    .await?;
    Ok(decide::check_name_free(name, taken.map(|(id, held)| (AgentId(id), held)), except)?)
}

#[async_trait]
impl AgentStore for PostgresStore {
    async fn create_agent(&self, user: UserId, agent: NewAgent) -> Result<Agent> {
        agent.validate()?;
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let agent = agent.clone();
            Box::pin(async move { insert(transaction, user, &agent, now).await })
        })
        .await
    }

    async fn get_agent(&self, user: UserId, id: AgentId) -> Result<Agent> {
        load(&mut *self.pool.acquire().await?, user, id).await
    }

    async fn find_agent_by_name(&self, user: UserId, name: &str) -> Result<Agent> {
        let name = name.trim();
        if !could_be_stored(Some(name)) {
            return Err(StoreError::not_found(Entity::Agent, format!("{name:?}")));
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            agent_columns!(),
            " FROM agents WHERE user_id = $1 AND lower(name) = lower($2) AND status <> 'archived'"
        ))
        .bind(user.get())
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        Ok(rows::agent(&row.ok_or_else(|| StoreError::not_found(Entity::Agent, format!("{name:?}")))?)?)
    }

    async fn list_agents(&self, owners: Owners, filter: AgentFilter) -> Result<Vec<Agent>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            concat!(
                "SELECT ",
                agent_columns!(),
                " FROM agents WHERE {owner} \
                  AND (CASE WHEN $2::text IS NULL THEN status <> 'archived' ELSE status = $2 END) ORDER BY id"
            ),
            owner = list_condition(owners, "$1::bigint")
        )))
        .bind(list_parameter(owners))
        .bind(filter.status.map(AgentStatus::as_str))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(rows::agent).collect::<Result<_, _>>()?)
    }

    async fn update_agent(&self, user: UserId, id: AgentId, patch: AgentPatch) -> Result<Agent> {
        patch.validate()?;
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let patch = patch.clone();
            Box::pin(async move {
                let agent = decide::patched(load_for_update(transaction.connection(), user, id).await?, &patch)?;
                ensure_name_free(transaction.connection(), user, &agent.name, Some(id)).await?;
                let limits = StoredLimits::of(&agent.limits);
                sqlx::query(
                    "UPDATE agents SET name = $1, goal = $2, success_criteria = $3, timeline = $4, status = $5, \
                     model = $6, instructions = $7, updated_at = $8, tools = $10, max_steps = $11, max_tokens = $12, \
                     max_cost_usd = $13, max_wall_secs = $14, budget_daily_usd = $15, budget_total_usd = $16 \
                     WHERE id = $9",
                )
                .bind(&agent.name)
                .bind(&agent.goal)
                .bind(serde_json::to_value(&agent.success_criteria)?)
                .bind(&agent.timeline)
                .bind(agent.status.as_str())
                .bind(&agent.model)
                .bind(&agent.instructions)
                .bind(now)
                .bind(id.get())
                .bind(agent.tools.as_ref().map(serde_json::to_value).transpose()?)
                .bind(limits.max_steps.map(to_integer))
                .bind(limits.max_tokens)
                .bind(limits.max_cost_usd)
                .bind(limits.max_wall_secs)
                .bind(agent.budget.daily_usd)
                .bind(agent.budget.total_usd)
                .execute(transaction.connection())
                .await?;
                transaction.record(
                    user,
                    now,
                    NewEvent::AgentUpdated { agent: id, fields: rules::patched_fields(&patch), status: agent.status },
                );
                Ok(load(transaction.connection(), user, id).await?)
            })
        })
        .await
    }

    async fn archive_agent(&self, user: UserId, id: AgentId) -> Result<Agent> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            Box::pin(async move {
                let agent = load_for_update(transaction.connection(), user, id).await?;
                let Some(from) = decide::archiving(&agent) else { return Ok(agent) };
                sqlx::query("UPDATE agents SET status = 'archived', updated_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(id.get())
                    .execute(transaction.connection())
                    .await?;
                transaction.record(user, now, NewEvent::AgentArchived { agent: id, from });
                Ok(load(transaction.connection(), user, id).await?)
            })
        })
        .await
    }
}

/// Creates an agent (already validated) and records its event.
pub(crate) async fn insert(
    transaction: &mut Transaction,
    user: UserId,
    agent: &NewAgent,
    now: DateTime<Utc>,
) -> TransactionResult<Agent> {
    let name = agent.name.trim();
    ensure_name_free(transaction.connection(), user, name, None).await?;
    let limits = StoredLimits::of(&agent.limits);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO agents (user_id, name, goal, success_criteria, timeline, status, model, \
         instructions, created_at, updated_at, tools, max_steps, max_tokens, max_cost_usd, \
         max_wall_secs, budget_daily_usd, budget_total_usd) \
         VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $8, $9, $10, $11, $12, $13, $14, $15) \
         RETURNING id",
    )
    .bind(user.get())
    .bind(name)
    .bind(&agent.goal)
    .bind(serde_json::to_value(&agent.success_criteria)?)
    .bind(&agent.timeline)
    .bind(&agent.model)
    .bind(&agent.instructions)
    .bind(now)
    .bind(agent.tools.as_ref().map(serde_json::to_value).transpose()?)
    .bind(limits.max_steps.map(to_integer))
    .bind(limits.max_tokens)
    .bind(limits.max_cost_usd)
    .bind(limits.max_wall_secs)
    .bind(agent.budget.daily_usd)
    .bind(agent.budget.total_usd)
    .fetch_one(transaction.connection())
    .await?;
    let id = AgentId(id);
    transaction.record(user, now, NewEvent::AgentCreated { agent: id, name: name.to_string() });
    Ok(load(transaction.connection(), user, id).await?)
}
