//! Agents on SQLite.

use crate::ownership::{list_condition, list_parameter};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use steward_domain::access::Owners;
use steward_domain::{Agent, AgentId, AgentPatch, AgentStatus, NewAgent, NewEvent, UserId};

use crate::agents::{AgentFilter, AgentStore, decide};
use crate::events::sqlite::append;
use crate::rules::StoredLimits;
use crate::sqlite::SqliteStore;
use crate::sqlite::connection::to_micros;
use crate::sqlite::rows::{self, AGENT_COLUMNS, optional};
use crate::sqlite::writer::Effects;
use crate::{Entity, Result, StoreError, rules};

pub(crate) fn load(connection: &Connection, user: UserId, id: AgentId) -> Result<Agent> {
    let mut statement =
        connection.prepare_cached(&format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = ?1 AND user_id = ?2"))?;
    optional(statement.query_row(params![id.get(), user.get()], rows::agent))?
        .ok_or_else(|| StoreError::not_found(Entity::Agent, id))
}

fn ensure_name_free(connection: &Connection, user: UserId, name: &str, except: Option<AgentId>) -> Result<()> {
    let taken: Option<(i64, String)> = optional(connection.query_row(
        "SELECT id, name FROM agents WHERE user_id = ?1 AND lower(name) = lower(?2) AND status <> 'archived'",
        params![user.get(), name],
        |row| Ok((row.get(0)?, row.get(1)?)),
    ))?;
    decide::check_name_free(name, taken.map(|(id, held)| (AgentId(id), held)), except)
}

#[async_trait]
impl AgentStore for SqliteStore {
    async fn create_agent(&self, user: UserId, agent: NewAgent) -> Result<Agent> {
        agent.validate()?;
        let now = self.now();
        self.writer.write(move |connection, effects| insert(connection, effects, user, &agent, now)).await
    }

    async fn get_agent(&self, user: UserId, id: AgentId) -> Result<Agent> {
        self.readers.read(move |connection| load(connection, user, id)).await
    }

    async fn find_agent_by_name(&self, user: UserId, name: &str) -> Result<Agent> {
        let name = name.trim().to_string();
        self.readers
            .read(move |connection| {
                let mut statement = connection.prepare_cached(&format!(
                    "SELECT {AGENT_COLUMNS} FROM agents WHERE user_id = ?1 AND lower(name) = lower(?2) AND status <> 'archived'"
                ))?;
                optional(statement.query_row(params![user.get(), name], rows::agent))?
                    .ok_or_else(|| StoreError::not_found(Entity::Agent, format!("{name:?}")))
            })
            .await
    }

    async fn list_agents(&self, owners: Owners, filter: AgentFilter) -> Result<Vec<Agent>> {
        self.readers
            .read(move |connection| {
                let owner = list_condition(owners, "?1");
                let mut statement = connection.prepare_cached(&format!(
                    "SELECT {AGENT_COLUMNS} FROM agents WHERE {owner} \
                     AND (CASE WHEN ?2 IS NULL THEN status <> 'archived' ELSE status = ?2 END) ORDER BY id"
                ))?;
                let status = filter.status.map(AgentStatus::as_str);
                let agents = statement
                    .query_map(params![list_parameter(owners), status], rows::agent)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(agents)
            })
            .await
    }

    async fn update_agent(&self, user: UserId, id: AgentId, patch: AgentPatch) -> Result<Agent> {
        patch.validate()?;
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                let agent = decide::patched(load(connection, user, id)?, &patch)?;
                ensure_name_free(connection, user, &agent.name, Some(id))?;
                let limits = StoredLimits::of(&agent.limits);
                connection.execute(
                    "UPDATE agents SET name = ?1, goal = ?2, success_criteria = ?3, timeline = ?4, status = ?5, \
                     model = ?6, instructions = ?7, updated_at = ?8, tools = ?10, max_steps = ?11, max_tokens = ?12, \
                     max_cost_usd = ?13, max_wall_secs = ?14, budget_daily_usd = ?15, budget_total_usd = ?16 \
                     WHERE id = ?9",
                    params![
                        agent.name,
                        agent.goal,
                        serde_json::to_string(&agent.success_criteria)?,
                        agent.timeline,
                        agent.status.as_str(),
                        agent.model,
                        agent.instructions,
                        to_micros(now),
                        id.get(),
                        agent.tools.as_ref().map(serde_json::to_string).transpose()?,
                        limits.max_steps,
                        limits.max_tokens,
                        limits.max_cost_usd,
                        limits.max_wall_secs,
                        agent.budget.daily_usd,
                        agent.budget.total_usd,
                    ],
                )?;
                append(
                    connection,
                    effects,
                    user,
                    now,
                    NewEvent::AgentUpdated { agent: id, fields: rules::patched_fields(&patch), status: agent.status },
                )?;
                load(connection, user, id)
            })
            .await
    }

    async fn archive_agent(&self, user: UserId, id: AgentId) -> Result<Agent> {
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                let agent = load(connection, user, id)?;
                let Some(from) = decide::archiving(&agent) else { return Ok(agent) };
                connection.execute(
                    "UPDATE agents SET status = 'archived', updated_at = ?1 WHERE id = ?2",
                    params![to_micros(now), id.get()],
                )?;
                append(connection, effects, user, now, NewEvent::AgentArchived { agent: id, from })?;
                load(connection, user, id)
            })
            .await
    }
}

/// Creates an agent (already validated) and records its event.
pub(crate) fn insert(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    agent: &NewAgent,
    now: DateTime<Utc>,
) -> Result<Agent> {
    let name = agent.name.trim();
    ensure_name_free(connection, user, name, None)?;
    let limits = StoredLimits::of(&agent.limits);
    connection.execute(
        "INSERT INTO agents (user_id, name, goal, success_criteria, timeline, status, model, instructions, \
         created_at, updated_at, tools, max_steps, max_tokens, max_cost_usd, max_wall_secs, \
         budget_daily_usd, budget_total_usd) \
         VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            user.get(),
            name,
            agent.goal,
            serde_json::to_string(&agent.success_criteria)?,
            agent.timeline,
            agent.model,
            agent.instructions,
            to_micros(now),
            agent.tools.as_ref().map(serde_json::to_string).transpose()?,
            limits.max_steps,
            limits.max_tokens,
            limits.max_cost_usd,
            limits.max_wall_secs,
            agent.budget.daily_usd,
            agent.budget.total_usd,
        ],
    )?;
    let id = AgentId(connection.last_insert_rowid());
    append(connection, effects, user, now, NewEvent::AgentCreated { agent: id, name: name.to_string() })?;
    load(connection, user, id)
}
