//! Routines on PostgreSQL: the same behaviour as on SQLite. Two fires with
//! the same key at once both find no row; the unique index
//! `routine_fires_key` stops the second, whose transaction runs again and
//! returns the first's fire. JSON columns are read as text.

use crate::ownership::{list_condition, list_parameter};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use steward_domain::access::Owners;
use steward_domain::routine::{NewFire, NewRoutine, Routine, RoutineChange, RoutineFire};
use steward_domain::{FireId, RoutineId, UserId};

use crate::agents::postgres as agents;
use crate::deliveries::postgres as deliveries;
use crate::deliveries::{DeliveryFilter, DeliveryStore};
use crate::postgres::PostgresStore;
use crate::postgres::transaction::{Begin, Transaction, TransactionResult};
use crate::routines::decide::{self, FireRow, RoutineRow};
use crate::routines::{FireRecord, RoutineStore};
use crate::runs::RunStore;
use crate::runs::postgres as runs;
use crate::schedules::postgres as schedules;
use crate::{Entity, Result, StoreError};

macro_rules! routines {
    ($filter:literal) => {
        concat!(
            "SELECT id, user_id, name, agent_id, template, sources::text, deliveries::text, zone, trigger, ",
            "created_at, updated_at FROM routines WHERE user_id = $1 ",
            $filter
        )
    };
}

macro_rules! fires {
    ($filter:literal) => {
        concat!(
            "SELECT id, user_id, routine_id, trigger, fire_key, replay_of, inputs::text, prompt, run_id, ",
            "created_at FROM routine_fires WHERE user_id = $1 ",
            $filter
        )
    };
}

fn routine_row(row: &PgRow) -> Result<Routine> {
    RoutineRow {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        name: row.try_get(2)?,
        agent_id: row.try_get(3)?,
        template: row.try_get(4)?,
        sources: row.try_get(5)?,
        deliveries: row.try_get(6)?,
        zone: row.try_get(7)?,
        trigger: row.try_get(8)?,
        created_at: row.try_get(9)?,
        updated_at: row.try_get(10)?,
    }
    .into_routine()
}

fn fire_row(row: &PgRow) -> Result<RoutineFire> {
    FireRow {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        routine_id: row.try_get(2)?,
        trigger: row.try_get(3)?,
        fire_key: row.try_get(4)?,
        replay_of: row.try_get(5)?,
        inputs: row.try_get(6)?,
        prompt: row.try_get(7)?,
        run_id: row.try_get(8)?,
        created_at: row.try_get(9)?,
    }
    .into_fire()
}

async fn load(connection: &mut PgConnection, user: UserId, id: RoutineId) -> Result<Routine> {
    let found =
        sqlx::query(routines!("AND id = $2")).bind(user.get()).bind(id.get()).fetch_optional(connection).await?;
    routine_row(&found.ok_or_else(|| StoreError::not_found(Entity::Routine, id))?)
}

async fn find(connection: &mut PgConnection, user: UserId, name: &str) -> Result<Option<Routine>> {
    let found = sqlx::query(routines!("AND lower(name) = lower($2)"))
        .bind(user.get())
        .bind(name)
        .fetch_optional(connection)
        .await?;
    found.as_ref().map(routine_row).transpose()
}

async fn load_fire(connection: &mut PgConnection, user: UserId, id: FireId) -> Result<RoutineFire> {
    let found = sqlx::query(fires!("AND id = $2")).bind(user.get()).bind(id.get()).fetch_optional(connection).await?;
    fire_row(&found.ok_or_else(|| StoreError::not_found(Entity::Fire, id))?)
}

async fn create(
    transaction: &mut Transaction,
    user: UserId,
    new: &NewRoutine,
    now: DateTime<Utc>,
) -> TransactionResult<Routine> {
    new.validate()?;
    let agent = agents::load(transaction.connection(), user, new.agent_id).await?;
    decide::check_agent(agent.status, &agent.name)?;
    if find(transaction.connection(), user, &new.name).await?.is_some() {
        return Err(decide::name_taken(&new.name).into());
    }
    if let Some(after) = &new.after
        && find(transaction.connection(), user, after).await?.is_none()
    {
        return Err(decide::after_unknown(after).into());
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO routines (user_id, name, agent_id, template, sources, deliveries, zone, trigger, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, $9) RETURNING id",
    )
    .bind(user.get())
    .bind(new.name.trim())
    .bind(new.agent_id.get())
    .bind(&new.template)
    .bind(decide::sources_text(&new.sources)?)
    .bind(decide::deliveries_text(&new.deliveries)?)
    .bind(new.zone.trim())
    .bind(decide::trigger_text(new.after.as_deref()))
    .bind(now)
    .fetch_one(transaction.connection())
    .await?;
    Ok(load(transaction.connection(), user, RoutineId(id)).await?)
}

async fn update(
    transaction: &mut Transaction,
    user: UserId,
    id: RoutineId,
    change: &RoutineChange,
    now: DateTime<Utc>,
) -> TransactionResult<Routine> {
    sqlx::query("SELECT id FROM routines WHERE id = $1 AND user_id = $2 FOR UPDATE")
        .bind(id.get())
        .bind(user.get())
        .fetch_optional(transaction.connection())
        .await?;
    let routine = load(transaction.connection(), user, id).await?;
    let edited = change.applied_to(&routine);
    edited.validate()?;
    if change.agent_id.is_some() {
        let agent = agents::load(transaction.connection(), user, edited.agent_id).await?;
        decide::check_agent(agent.status, &agent.name)?;
    }
    sqlx::query(
        "UPDATE routines SET agent_id = $1, template = $2, sources = $3::jsonb, deliveries = $4::jsonb, zone = $5, \
         updated_at = $6 WHERE id = $7",
    )
    .bind(edited.agent_id.get())
    .bind(&edited.template)
    .bind(decide::sources_text(&edited.sources)?)
    .bind(decide::deliveries_text(&edited.deliveries)?)
    .bind(edited.zone.trim())
    .bind(now)
    .bind(id.get())
    .execute(transaction.connection())
    .await?;
    let mut scheduled = schedules::of_routine(transaction.connection(), user, &routine.name).await?;
    if let Some(replacement) = &change.schedule {
        let own = decide::own_schedule(&routine, &scheduled).map(|index| scheduled.remove(index));
        if let Some(old) = &own {
            schedules::delete(transaction, user, old.id, now).await?;
        }
        if let Some(new) = replacement {
            let created = schedules::create(transaction, new, now).await?;
            if decide::keep_paused(own.map(|old| old.paused), change.enabled) {
                schedules::set_paused(transaction, &created, true, None, now).await?;
            }
            scheduled.push(created);
        }
    }
    if let Some(enabled) = change.enabled {
        if scheduled.is_empty() {
            return Err(decide::nothing_to_enable(&routine.name).into());
        }
        for schedule in &scheduled {
            schedules::set_paused(transaction, schedule, !enabled, None, now).await?;
        }
    }
    transaction.record(user, now, decide::updated_event(id, change));
    Ok(load(transaction.connection(), user, id).await?)
}

async fn delete(transaction: &mut Transaction, user: UserId, id: RoutineId) -> TransactionResult<Routine> {
    let routine = load(transaction.connection(), user, id).await?;
    sqlx::query(
        "UPDATE deliveries SET fire_id = NULL WHERE fire_id IN (SELECT id FROM routine_fires WHERE routine_id = $1)",
    )
    .bind(id.get())
    .execute(transaction.connection())
    .await?;
    sqlx::query("DELETE FROM routine_fires WHERE routine_id = $1")
        .bind(id.get())
        .execute(transaction.connection())
        .await?;
    sqlx::query("DELETE FROM routines WHERE id = $1").bind(id.get()).execute(transaction.connection()).await?;
    Ok(routine)
}

/// A fire recorded now, or the one recorded before under the same key.
enum Recorded {
    New(Box<FireRecord>),
    Existing(Box<RoutineFire>),
}

async fn record(
    transaction: &mut Transaction,
    user: UserId,
    new: &NewFire,
    now: DateTime<Utc>,
) -> TransactionResult<Recorded> {
    let routine = load(transaction.connection(), user, new.routine_id).await?;
    if let Some(key) = &new.fire_key {
        let found = sqlx::query(fires!("AND routine_id = $2 AND fire_key = $3"))
            .bind(user.get())
            .bind(routine.id.get())
            .bind(key)
            .fetch_optional(transaction.connection())
            .await?;
        if let Some(row) = found {
            return Ok(Recorded::Existing(Box::new(fire_row(&row)?)));
        }
    }
    decide::check_fire(&routine, new)?;
    let run = runs::start(transaction, user, &new.run, now).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO routine_fires (user_id, routine_id, trigger, fire_key, replay_of, inputs, prompt, run_id, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9) RETURNING id",
    )
    .bind(user.get())
    .bind(routine.id.get())
    .bind(new.trigger.as_str())
    .bind(&new.fire_key)
    .bind(new.replay_of.map(FireId::get))
    .bind(decide::inputs_text(&new.inputs)?)
    .bind(&new.prompt)
    .bind(run.id.get())
    .bind(now)
    .fetch_one(transaction.connection())
    .await?;
    let fire = load_fire(transaction.connection(), user, FireId(id)).await?;
    let sent = match decide::deliveries(new, fire.id, &run) {
        Some(wanted) => deliveries::create(transaction, user, &wanted, now).await?,
        None => Vec::new(),
    };
    transaction.record(user, now, decide::fired_event(&fire));
    Ok(Recorded::New(Box::new(FireRecord { fire, run: Some(run), deliveries: sent, created: true })))
}

#[async_trait]
impl RoutineStore for PostgresStore {
    async fn create_routine(&self, user: UserId, routine: NewRoutine) -> Result<Routine> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let routine = routine.clone();
            Box::pin(async move { create(transaction, user, &routine, now).await })
        })
        .await
    }

    async fn get_routine(&self, user: UserId, id: RoutineId) -> Result<Routine> {
        load(&mut *self.pool.acquire().await?, user, id).await
    }

    async fn find_routine(&self, user: UserId, name: &str) -> Result<Routine> {
        find(&mut *self.pool.acquire().await?, user, name)
            .await?
            .ok_or_else(|| StoreError::not_found(Entity::Routine, format!("{name:?}")))
    }

    async fn list_routines(&self, owners: Owners) -> Result<Vec<Routine>> {
        // `routines!` keeps one user's (`user_id = $1`); a list may keep everyone's.
        let sql = routines!("ORDER BY lower(name), id")
            .replace("user_id = $1 ", &format!("{} ", list_condition(owners, "$1::bigint")));
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(list_parameter(owners)).fetch_all(&self.pool).await?;
        rows.iter().map(routine_row).collect()
    }

    async fn update_routine(&self, user: UserId, id: RoutineId, change: RoutineChange) -> Result<Routine> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let change = change.clone();
            Box::pin(async move { update(transaction, user, id, &change, now).await })
        })
        .await
    }

    async fn delete_routine(&self, user: UserId, id: RoutineId) -> Result<Routine> {
        self.write(Begin::Plain, |transaction| Box::pin(async move { delete(transaction, user, id).await })).await
    }

    async fn record_fire(&self, user: UserId, fire: NewFire) -> Result<FireRecord> {
        let now = self.now();
        let recorded = self
            .write(Begin::Plain, |transaction| {
                let fire = fire.clone();
                Box::pin(async move { record(transaction, user, &fire, now).await })
            })
            .await?;
        match recorded {
            Recorded::New(record) => Ok(*record),
            Recorded::Existing(fire) => {
                let fire = *fire;
                let run = match fire.run_id {
                    Some(id) => Some(self.get_run(user, id).await?),
                    None => None,
                };
                let filter = DeliveryFilter { fire_id: Some(fire.id), ..DeliveryFilter::default() };
                let deliveries = self.list_deliveries(user.into(), filter).await?;
                Ok(FireRecord { fire, run, deliveries, created: false })
            }
        }
    }

    async fn get_fire(&self, user: UserId, id: FireId) -> Result<RoutineFire> {
        load_fire(&mut *self.pool.acquire().await?, user, id).await
    }

    async fn list_fires(&self, user: UserId, routine: RoutineId, limit: usize) -> Result<Vec<RoutineFire>> {
        let rows = sqlx::query(fires!("AND routine_id = $2 ORDER BY id DESC LIMIT $3"))
            .bind(user.get())
            .bind(routine.get())
            .bind(decide::page(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(fire_row).collect()
    }
}
