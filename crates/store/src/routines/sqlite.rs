//! Routines on SQLite. The one writer thread serialises fires, so the fire
//! key is checked and the fire recorded, with its run and deliveries, in
//! one transaction.

use crate::ownership::{list_condition, list_parameter};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, Params, Row, params};
use steward_domain::access::Owners;
use steward_domain::routine::{NewFire, NewRoutine, Routine, RoutineChange, RoutineFire};
use steward_domain::{FireId, RoutineId, UserId};

use crate::agents::sqlite as agents;
use crate::deliveries::DeliveryFilter;
use crate::deliveries::sqlite as deliveries;
use crate::events::sqlite::append;
use crate::routines::decide::{self, FIRE_COLUMNS, FireRow, ROUTINE_COLUMNS, RoutineRow};
use crate::routines::{FireRecord, RoutineStore};
use crate::runs::sqlite as runs;
use crate::schedules::sqlite as schedules;
use crate::sqlite::SqliteStore;
use crate::sqlite::connection::{from_micros, to_micros};
use crate::sqlite::writer::Effects;
use crate::{Entity, Result, StoreError};

fn routine_row(row: &Row<'_>) -> rusqlite::Result<RoutineRow> {
    Ok(RoutineRow {
        id: row.get(0)?,
        user_id: row.get(1)?,
        name: row.get(2)?,
        agent_id: row.get(3)?,
        template: row.get(4)?,
        sources: row.get(5)?,
        deliveries: row.get(6)?,
        zone: row.get(7)?,
        trigger: row.get(8)?,
        created_at: from_micros(row.get(9)?),
        updated_at: from_micros(row.get(10)?),
    })
}

fn fire_row(row: &Row<'_>) -> rusqlite::Result<FireRow> {
    Ok(FireRow {
        id: row.get(0)?,
        user_id: row.get(1)?,
        routine_id: row.get(2)?,
        trigger: row.get(3)?,
        fire_key: row.get(4)?,
        replay_of: row.get(5)?,
        inputs: row.get(6)?,
        prompt: row.get(7)?,
        run_id: row.get(8)?,
        created_at: from_micros(row.get(9)?),
    })
}

/// The routines whose owner `owner` keeps (a condition on `?1`) and that
/// `filter` keeps, by name.
fn routines(connection: &Connection, owner: &str, filter: &str, params: impl Params) -> Result<Vec<Routine>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {ROUTINE_COLUMNS} FROM routines WHERE {owner} {filter} ORDER BY lower(name), id"
    ))?;
    let rows = statement.query_map(params, routine_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(RoutineRow::into_routine).collect()
}

fn load(connection: &Connection, user: UserId, id: RoutineId) -> Result<Routine> {
    routines(connection, "user_id = ?1", "AND id = ?2", params![user.get(), id.get()])?
        .pop()
        .ok_or_else(|| StoreError::not_found(Entity::Routine, id))
}

fn find(connection: &Connection, user: UserId, name: &str) -> Result<Option<Routine>> {
    Ok(routines(connection, "user_id = ?1", "AND lower(name) = lower(?2)", params![user.get(), name])?.pop())
}

fn fires(connection: &Connection, filter: &str, params: impl Params) -> Result<Vec<RoutineFire>> {
    let mut statement =
        connection.prepare_cached(&format!("SELECT {FIRE_COLUMNS} FROM routine_fires WHERE user_id = ?1 {filter}"))?;
    let rows = statement.query_map(params, fire_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(FireRow::into_fire).collect()
}

fn load_fire(connection: &Connection, user: UserId, id: FireId) -> Result<RoutineFire> {
    fires(connection, "AND id = ?2", params![user.get(), id.get()])?
        .pop()
        .ok_or_else(|| StoreError::not_found(Entity::Fire, id))
}

fn create(connection: &Connection, user: UserId, new: &NewRoutine, now: DateTime<Utc>) -> Result<Routine> {
    new.validate()?;
    let agent = agents::load(connection, user, new.agent_id)?;
    decide::check_agent(agent.status, &agent.name)?;
    if find(connection, user, &new.name)?.is_some() {
        return Err(decide::name_taken(&new.name));
    }
    if let Some(after) = &new.after
        && find(connection, user, after)?.is_none()
    {
        return Err(decide::after_unknown(after));
    }
    connection.execute(
        "INSERT INTO routines (user_id, name, agent_id, template, sources, deliveries, zone, trigger, created_at, \
         updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        params![
            user.get(),
            new.name.trim(),
            new.agent_id.get(),
            new.template,
            decide::sources_text(&new.sources)?,
            decide::deliveries_text(&new.deliveries)?,
            new.zone.trim(),
            decide::trigger_text(new.after.as_deref()),
            to_micros(now)
        ],
    )?;
    load(connection, user, RoutineId(connection.last_insert_rowid()))
}

fn update(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    id: RoutineId,
    change: &RoutineChange,
    now: DateTime<Utc>,
) -> Result<Routine> {
    let routine = load(connection, user, id)?;
    let edited = change.applied_to(&routine);
    edited.validate()?;
    if change.agent_id.is_some() {
        let agent = agents::load(connection, user, edited.agent_id)?;
        decide::check_agent(agent.status, &agent.name)?;
    }
    connection.execute(
        "UPDATE routines SET agent_id = ?1, template = ?2, sources = ?3, deliveries = ?4, zone = ?5, updated_at = ?6 \
         WHERE id = ?7",
        params![
            edited.agent_id.get(),
            edited.template,
            decide::sources_text(&edited.sources)?,
            decide::deliveries_text(&edited.deliveries)?,
            edited.zone.trim(),
            to_micros(now),
            id.get()
        ],
    )?;
    let mut scheduled = schedules::of_routine(connection, user, &routine.name)?;
    if let Some(replacement) = &change.schedule {
        let own = decide::own_schedule(&routine, &scheduled).map(|index| scheduled.remove(index));
        if let Some(old) = &own {
            schedules::delete(connection, effects, user, old.id, now)?;
        }
        if let Some(new) = replacement {
            let created = schedules::create(connection, effects, new, now)?;
            if decide::keep_paused(own.map(|old| old.paused), change.enabled) {
                schedules::set_paused(connection, effects, &created, true, None, now)?;
            }
            scheduled.push(created);
        }
    }
    if let Some(enabled) = change.enabled {
        if scheduled.is_empty() {
            return Err(decide::nothing_to_enable(&routine.name));
        }
        for schedule in &scheduled {
            schedules::set_paused(connection, effects, schedule, !enabled, None, now)?;
        }
    }
    append(connection, effects, user, now, decide::updated_event(id, change))?;
    load(connection, user, id)
}

fn delete(connection: &Connection, user: UserId, id: RoutineId) -> Result<Routine> {
    let routine = load(connection, user, id)?;
    connection.execute(
        "UPDATE deliveries SET fire_id = NULL WHERE fire_id IN (SELECT id FROM routine_fires WHERE routine_id = ?1)",
        [id.get()],
    )?;
    connection.execute("DELETE FROM routine_fires WHERE routine_id = ?1", [id.get()])?;
    connection.execute("DELETE FROM routines WHERE id = ?1", [id.get()])?;
    Ok(routine)
}

fn record(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    new: &NewFire,
    now: DateTime<Utc>,
) -> Result<FireRecord> {
    let routine = load(connection, user, new.routine_id)?;
    if let Some(key) = &new.fire_key {
        let found =
            fires(connection, "AND routine_id = ?2 AND fire_key = ?3", params![user.get(), routine.id.get(), key])?;
        if let Some(fire) = found.into_iter().next() {
            return existing(connection, user, fire);
        }
    }
    decide::check_fire(&routine, new)?;
    let run = runs::start(connection, effects, user, &new.run, now)?;
    connection.execute(
        "INSERT INTO routine_fires (user_id, routine_id, trigger, fire_key, replay_of, inputs, prompt, run_id, \
         created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            user.get(),
            routine.id.get(),
            new.trigger.as_str(),
            new.fire_key,
            new.replay_of.map(FireId::get),
            decide::inputs_text(&new.inputs)?,
            new.prompt,
            run.id.get(),
            to_micros(now)
        ],
    )?;
    let fire = load_fire(connection, user, FireId(connection.last_insert_rowid()))?;
    let sent = match decide::deliveries(new, fire.id, &run) {
        Some(wanted) => deliveries::create(connection, effects, user, &wanted, now)?,
        None => Vec::new(),
    };
    append(connection, effects, user, now, decide::fired_event(&fire))?;
    Ok(FireRecord { fire, run: Some(run), deliveries: sent, created: true })
}

fn existing(connection: &Connection, user: UserId, fire: RoutineFire) -> Result<FireRecord> {
    let run = fire.run_id.map(|id| runs::load(connection, user, id)).transpose()?;
    let filter = DeliveryFilter { fire_id: Some(fire.id), ..DeliveryFilter::default() };
    let sent = deliveries::list(connection, user.into(), &filter)?;
    Ok(FireRecord { fire, run, deliveries: sent, created: false })
}

#[async_trait]
impl RoutineStore for SqliteStore {
    async fn create_routine(&self, user: UserId, routine: NewRoutine) -> Result<Routine> {
        let now = self.now();
        self.writer.write(move |connection, _| create(connection, user, &routine, now)).await
    }

    async fn get_routine(&self, user: UserId, id: RoutineId) -> Result<Routine> {
        self.readers.read(move |connection| load(connection, user, id)).await
    }

    async fn find_routine(&self, user: UserId, name: &str) -> Result<Routine> {
        let name = name.to_string();
        self.readers
            .read(move |connection| {
                find(connection, user, &name)?
                    .ok_or_else(|| StoreError::not_found(Entity::Routine, format!("{name:?}")))
            })
            .await
    }

    async fn list_routines(&self, owners: Owners) -> Result<Vec<Routine>> {
        self.readers
            .read(move |connection| {
                routines(connection, &list_condition(owners, "?1"), "", params![list_parameter(owners)])
            })
            .await
    }

    async fn update_routine(&self, user: UserId, id: RoutineId, change: RoutineChange) -> Result<Routine> {
        let now = self.now();
        self.writer.write(move |connection, effects| update(connection, effects, user, id, &change, now)).await
    }

    async fn delete_routine(&self, user: UserId, id: RoutineId) -> Result<Routine> {
        self.writer.write(move |connection, _| delete(connection, user, id)).await
    }

    async fn record_fire(&self, user: UserId, fire: NewFire) -> Result<FireRecord> {
        let now = self.now();
        self.writer.write(move |connection, effects| record(connection, effects, user, &fire, now)).await
    }

    async fn get_fire(&self, user: UserId, id: FireId) -> Result<RoutineFire> {
        self.readers.read(move |connection| load_fire(connection, user, id)).await
    }

    async fn list_fires(&self, user: UserId, routine: RoutineId, limit: usize) -> Result<Vec<RoutineFire>> {
        let limit = decide::page(limit);
        self.readers
            .read(move |connection| {
                fires(
                    connection,
                    "AND routine_id = ?2 ORDER BY id DESC LIMIT ?3",
                    params![user.get(), routine.get(), limit],
                )
            })
            .await
    }
}
