//! Firing a batch of due schedules on SQLite, in the writer's one
//! transaction: the same passes as on PostgreSQL ([`pass::decide`]),
//! applied with cached statements (the SQL is parsed once per connection,
//! not once per fire) and the new fires' plain jobs enqueued in one batch
//! per user. Each slot is recorded before its work starts; a slot already
//! recorded starts nothing.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use steward_domain::job::limits::MAX_BATCH;
use steward_domain::schedule::{Schedule, ScheduleFire, ScheduleTarget};
use steward_domain::{JobId, NewJob, RunId, ScheduleId, UserId};

use super::{SCHEDULE_COLUMNS, cancel_work, fire_due, query_schedules, running_work, start_work};
use crate::Result;
use crate::events::sqlite::append;
use crate::jobs::sqlite::enqueue;
use crate::rules;
use crate::schedules::FireRequest;
use crate::schedules::decide::pass::{self, EarlierWork, SchedulePass};
use crate::schedules::decide::{self, Work};
use crate::sqlite::connection::to_micros;
use crate::sqlite::writer::Effects;

type Started = std::result::Result<(JobId, Option<RunId>), String>;
type SlotKey = (ScheduleId, DateTime<Utc>);

pub(super) fn fire_requested(
    connection: &Connection,
    effects: &mut Effects,
    request: &FireRequest,
    now: DateTime<Utc>,
) -> Result<Vec<ScheduleFire>> {
    let sql = format!(
        "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE id = ?1 AND paused = 0 AND next_fire_at IS NOT NULL \
         AND next_fire_at <= ?2"
    );
    let mut passes = Vec::with_capacity(request.schedules.len());
    let mut one_at_a_time = Vec::new();
    for id in &request.schedules {
        // Fired meanwhile (by an earlier request), paused or deleted: left.
        let Some(schedule) = query_schedules(connection, &sql, params![id.get(), to_micros(now)])?.pop() else {
            continue;
        };
        let check = request.checks.get(id);
        if schedule.precondition.is_some() && check.is_none() {
            continue;
        }
        let earlier = earlier_work(connection, schedule.id)?;
        match pass::decide(&schedule, check, &earlier, now) {
            Some(pass) => passes.push((schedule, pass)),
            None => one_at_a_time.push(schedule),
        }
    }

    let mut recorded: HashSet<SlotKey> = HashSet::new();
    {
        let mut insert = connection.prepare_cached(
            "INSERT INTO schedule_fires (schedule_id, slot_at, fired_at, status, detail) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (schedule_id, slot_at) DO NOTHING",
        )?;
        for (schedule, pass) in &passes {
            for row in pass.not_fired.iter().chain(&pass.fires) {
                let params =
                    params![schedule.id.get(), to_micros(row.slot), to_micros(now), row.status.as_str(), row.detail];
                if insert.execute(params)? == 1 {
                    recorded.insert((schedule.id, row.slot));
                }
            }
        }
    }
    for (schedule, pass) in &passes {
        if let Some(event) = &pass.not_fired_event {
            append(connection, effects, schedule.user_id, now, event.clone())?;
        }
    }
    let started = start_all(connection, effects, &passes, &recorded, now)?;
    set_work(connection, &started)?;
    move_on(connection, &passes, now)?;

    let mut fires = Vec::new();
    for (schedule, pass) in &passes {
        for row in pass.fires.iter().filter(|row| recorded.contains(&(schedule.id, row.slot))) {
            let fire = pass::recorded(schedule, row, started.get(&(schedule.id, row.slot)), now);
            append(connection, effects, schedule.user_id, now, decide::fired_event(&fire))?;
            fires.push(fire);
        }
    }
    for schedule in &one_at_a_time {
        fires.extend(fire_due(connection, effects, schedule, request.checks.get(&schedule.id), now)?);
    }
    Ok(fires)
}

fn earlier_work(connection: &Connection, schedule: ScheduleId) -> Result<EarlierWork> {
    let running = running_work(connection, schedule)?;
    let buffered: i64 = connection
        .prepare_cached("SELECT count(*) FROM schedule_fires WHERE schedule_id = ?1 AND status = 'buffered'")?
        .query_row([schedule.get()], |row| row.get(0))?;
    Ok(EarlierWork { running, buffered: usize::try_from(buffered).unwrap_or(0) })
}

/// Starts the work of every new fire that starts work: plain jobs in one
/// batch enqueue per user, other work one fire at a time.
fn start_all(
    connection: &Connection,
    effects: &mut Effects,
    passes: &[(Schedule, SchedulePass)],
    recorded: &HashSet<SlotKey>,
    now: DateTime<Utc>,
) -> Result<HashMap<SlotKey, Started>> {
    let mut started = HashMap::new();
    let mut jobs: Vec<(UserId, Vec<(SlotKey, NewJob)>)> = Vec::new();
    for (schedule, pass) in passes {
        let Some(start) = pass.start.as_ref().filter(|start| recorded.contains(&(schedule.id, start.slot))) else {
            continue;
        };
        let key = (schedule.id, start.slot);
        for (run, job) in &start.cancel {
            cancel_work(connection, effects, schedule.user_id, *run, *job, now)?;
        }
        let job = match (&schedule.target, decide::work_for(schedule, start.slot, None)) {
            (ScheduleTarget::Job { .. } | ScheduleTarget::Routine { .. }, Work::Job(job)) => job,
            _ => {
                started.insert(key, start_work(connection, effects, schedule, start.slot, now)?);
                continue;
            }
        };
        // A job the queue would refuse is refused alone, as the fire's reason.
        if let Err(error) = rules::check_batch(std::slice::from_ref(&job)) {
            started.insert(key, decide::started(Err(error))?);
            continue;
        }
        match jobs.iter_mut().find(|(user, _)| *user == schedule.user_id) {
            Some((_, batch)) => batch.push((key, job)),
            None => jobs.push((schedule.user_id, vec![(key, job)])),
        }
    }
    for (user, entries) in jobs {
        for chunk in entries.chunks(MAX_BATCH) {
            let batch: Vec<NewJob> = chunk.iter().map(|(_, job)| job.clone()).collect();
            let outcomes = enqueue::enqueue(connection, effects, user, batch, now)?;
            for ((key, _), outcome) in chunk.iter().zip(outcomes) {
                started.insert(*key, Ok((outcome.job.id, None)));
            }
        }
    }
    Ok(started)
}

/// Gives each started fire its job and run; a refused one becomes a skip
/// with its reason.
fn set_work(connection: &Connection, started: &HashMap<SlotKey, Started>) -> Result<()> {
    let mut work = connection
        .prepare_cached("UPDATE schedule_fires SET job_id = ?1, run_id = ?2 WHERE schedule_id = ?3 AND slot_at = ?4")?;
    let mut skip = connection.prepare_cached(
        "UPDATE schedule_fires SET status = 'skipped', detail = ?1 WHERE schedule_id = ?2 AND slot_at = ?3",
    )?;
    for ((id, slot), outcome) in started {
        match outcome {
            Ok((job, run)) => work.execute(params![job.get(), run.map(RunId::get), id.get(), to_micros(*slot)])?,
            Err(reason) => skip.execute(params![reason, id.get(), to_micros(*slot)])?,
        };
    }
    Ok(())
}

fn move_on(connection: &Connection, passes: &[(Schedule, SchedulePass)], now: DateTime<Utc>) -> Result<()> {
    let mut update = connection.prepare_cached(
        "UPDATE schedules SET handled_through_at = ?1, next_slot_at = ?2, next_fire_at = ?3, \
         precondition_state = ?4, updated_at = ?5 WHERE id = ?6",
    )?;
    for (schedule, pass) in passes {
        update.execute(params![
            to_micros(pass.handled_through),
            pass.next_slot.map(to_micros),
            pass.next_fire_at.map(to_micros),
            pass.precondition_state,
            to_micros(now),
            schedule.id.get()
        ])?;
    }
    Ok(())
}
