//! Schedules on SQLite. The one writer thread serialises every fire, and a
//! fire's slot row, its work (run or job) and the schedule's next slot are
//! written in one transaction, so a slot is recorded and started at most
//! once even across a `kill -9`.

use crate::ownership::{list_condition, list_parameter};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, params};
use steward_domain::access::Owners;
use steward_domain::schedule::{FireStatus, NewSchedule, Schedule, ScheduleFire};
use steward_domain::{ActionId, AgentId, JobId, NewEvent, RunId, ScheduleId, UserId};

use crate::actions::sqlite as actions;
use crate::events::sqlite::append;
use crate::jobs::sqlite::{admin as job_admin, enqueue};
use crate::runs::sqlite as runs;
use crate::schedules::decide::{self, ScheduleRow, SlotRow, Work, WorkState};
use crate::schedules::{FireRequest, MAX_FIRES_PAGE, PreconditionCheck, ScheduleStore, SettleReport};
use crate::sqlite::SqliteStore;
use crate::sqlite::connection::{from_micros, to_micros};
use crate::sqlite::rows::{conversion_error, optional, optional_json, parsed};
use crate::sqlite::writer::Effects;
use crate::{Entity, Result, StoreError};

const SCHEDULE_COLUMNS: &str = "id, user_id, name, when_text, zone, target_kind, agent_id, action_id, instruction, \
     routine, job_kind, payload, missed_policy, catchup_window_secs, overlap_policy, jitter_ms, pause_on_failures, \
     consecutive_failures, paused, precondition, precondition_state, handled_through_at, next_slot_at, next_fire_at, \
     created_at, updated_at";

mod batch;

const FIRE_COLUMNS: &str = "schedule_id, slot_at, fired_at, status, job_id, run_id, outcome, detail";

fn schedule_row(row: &Row<'_>) -> rusqlite::Result<ScheduleRow> {
    Ok(ScheduleRow {
        id: row.get(0)?,
        user_id: row.get(1)?,
        name: row.get(2)?,
        when_text: row.get(3)?,
        zone: row.get(4)?,
        target_kind: row.get(5)?,
        agent_id: row.get(6)?,
        action_id: row.get(7)?,
        instruction: row.get(8)?,
        routine: row.get(9)?,
        job_kind: row.get(10)?,
        payload: optional_json(row, 11)?,
        missed_policy: row.get(12)?,
        catchup_window_secs: row.get(13)?,
        overlap_policy: row.get(14)?,
        jitter_ms: row.get(15)?,
        pause_on_failures: row.get(16)?,
        consecutive_failures: row.get(17)?,
        paused: row.get(18)?,
        precondition: optional_json(row, 19)?,
        precondition_state: row.get(20)?,
        handled_through_at: from_micros(row.get(21)?),
        next_slot_at: row.get::<_, Option<i64>>(22)?.map(from_micros),
        next_fire_at: row.get::<_, Option<i64>>(23)?.map(from_micros),
        created_at: from_micros(row.get(24)?),
        updated_at: from_micros(row.get(25)?),
    })
}

fn fire_row(row: &Row<'_>) -> rusqlite::Result<ScheduleFire> {
    let outcome: Option<String> = row.get(6)?;
    Ok(ScheduleFire {
        schedule_id: ScheduleId(row.get(0)?),
        slot: from_micros(row.get(1)?),
        fired_at: from_micros(row.get(2)?),
        status: parsed(row, 3)?,
        job_id: row.get::<_, Option<i64>>(4)?.map(JobId),
        run_id: row.get::<_, Option<i64>>(5)?.map(RunId),
        outcome: outcome.map(|text| text.parse().map_err(|error| conversion_error(6, error))).transpose()?,
        detail: row.get(7)?,
    })
}

fn query_schedules(connection: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Vec<Schedule>> {
    let mut statement = connection.prepare_cached(sql)?;
    let rows = statement.query_map(params, schedule_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(ScheduleRow::into_schedule).collect()
}

pub(crate) fn load(connection: &Connection, user: UserId, id: ScheduleId) -> Result<Schedule> {
    let sql = format!("SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE id = ?1 AND user_id = ?2");
    query_schedules(connection, &sql, params![id.get(), user.get()])?
        .pop()
        .ok_or_else(|| StoreError::not_found(Entity::Schedule, id))
}

/// Checks that an agent or action target exists (and the agent is live).
fn check_target(connection: &Connection, schedule: &NewSchedule) -> Result<()> {
    let user = schedule.user_id;
    match &schedule.target {
        steward_domain::schedule::ScheduleTarget::Agent { agent_id, .. } => {
            let status = actions::agent_status(connection, user, *agent_id)?;
            decide::check_agent(*agent_id, status)
        }
        steward_domain::schedule::ScheduleTarget::Action { action_id, .. } => {
            actions::load(connection, user, *action_id).map(|_| ()).map_err(|_| decide::missing_action(*action_id))
        }
        _ => Ok(()),
    }
}

/// The user's schedules that fire routine `name`, locked for the change.
pub(crate) fn of_routine(connection: &Connection, user: UserId, name: &str) -> Result<Vec<Schedule>> {
    let sql = format!(
        "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE user_id = ?1 AND target_kind = 'routine' \
         AND lower(routine) = lower(?2) ORDER BY id"
    );
    query_schedules(connection, &sql, params![user.get(), name])
}

pub(crate) fn create(
    connection: &Connection,
    effects: &mut Effects,
    schedule: &NewSchedule,
    now: DateTime<Utc>,
) -> Result<Schedule> {
    let row = decide::new_row(schedule, now)?;
    check_target(connection, schedule)?;
    let user = schedule.user_id;
    let taken: Option<i64> = optional(connection.query_row(
        "SELECT id FROM schedules WHERE user_id = ?1 AND lower(name) = lower(?2)",
        params![user.get(), schedule.name],
        |row| row.get(0),
    ))?;
    if taken.is_some() {
        return Err(decide::name_taken(&schedule.name));
    }
    connection.execute(
        "INSERT INTO schedules (user_id, name, when_text, zone, target_kind, agent_id, action_id, instruction, \
         routine, job_kind, payload, missed_policy, catchup_window_secs, overlap_policy, jitter_ms, \
         pause_on_failures, precondition, handled_through_at, next_slot_at, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?18, ?18)",
        params![
            user.get(),
            schedule.name,
            schedule.when.as_str(),
            schedule.zone.name(),
            row.target_kind,
            row.agent_id,
            row.action_id,
            row.instruction,
            row.routine,
            row.job_kind,
            row.payload.as_ref().map(serde_json::to_string).transpose()?,
            row.missed_policy,
            row.catchup_window_secs,
            row.overlap_policy,
            row.jitter_ms,
            row.pause_on_failures,
            row.precondition.as_ref().map(serde_json::to_string).transpose()?,
            to_micros(now),
            to_micros(row.next_slot_at),
        ],
    )?;
    let id = ScheduleId(connection.last_insert_rowid());
    let fire_at = decide::fire_at(id, Some(row.next_slot_at), schedule.policies.jitter);
    connection
        .execute("UPDATE schedules SET next_fire_at = ?1 WHERE id = ?2", params![fire_at.map(to_micros), id.get()])?;
    let created = load(connection, user, id)?;
    append(connection, effects, user, now, decide::created_event(&created))?;
    Ok(created)
}

pub(crate) fn set_paused(
    connection: &Connection,
    effects: &mut Effects,
    schedule: &Schedule,
    paused: bool,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<()> {
    if schedule.paused == paused {
        return Ok(());
    }
    let next_slot = if paused { schedule.next_slot } else { decide::next_slot_on_resume(schedule) };
    let fire_at = decide::fire_at(schedule.id, next_slot, schedule.policies.jitter);
    connection.execute(
        "UPDATE schedules SET paused = ?1, next_slot_at = ?2, next_fire_at = ?3, updated_at = ?4, \
         consecutive_failures = CASE WHEN ?1 THEN consecutive_failures ELSE 0 END WHERE id = ?5",
        params![paused, next_slot.map(to_micros), fire_at.map(to_micros), to_micros(now), schedule.id.get()],
    )?;
    let event = if paused {
        NewEvent::SchedulePaused { schedule: schedule.id, reason }
    } else {
        NewEvent::ScheduleResumed { schedule: schedule.id }
    };
    append(connection, effects, schedule.user_id, now, event)
}

pub(crate) fn delete(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    id: ScheduleId,
    now: DateTime<Utc>,
) -> Result<Schedule> {
    let schedule = load(connection, user, id)?;
    connection.execute("DELETE FROM schedule_fires WHERE schedule_id = ?1", [id.get()])?;
    connection.execute("DELETE FROM schedules WHERE id = ?1", [id.get()])?;
    append(connection, effects, user, now, NewEvent::ScheduleDeleted { schedule: id, name: schedule.name.clone() })?;
    Ok(schedule)
}

/// Records a slot; `false` when it was recorded already.
fn insert_slot(connection: &Connection, schedule: ScheduleId, row: &SlotRow, now: DateTime<Utc>) -> Result<bool> {
    let inserted = connection.execute(
        "INSERT INTO schedule_fires (schedule_id, slot_at, fired_at, status, detail) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (schedule_id, slot_at) DO NOTHING",
        params![schedule.get(), to_micros(row.slot), to_micros(now), row.status.as_str(), row.detail],
    )?;
    Ok(inserted == 1)
}

fn load_fire(connection: &Connection, schedule: ScheduleId, slot: DateTime<Utc>) -> Result<ScheduleFire> {
    let sql = format!("SELECT {FIRE_COLUMNS} FROM schedule_fires WHERE schedule_id = ?1 AND slot_at = ?2");
    Ok(connection.prepare_cached(&sql)?.query_row(params![schedule.get(), to_micros(slot)], fire_row)?)
}

/// The earlier fires of `schedule` whose work is still running: (run, job).
fn running_work(connection: &Connection, schedule: ScheduleId) -> Result<Vec<(Option<RunId>, JobId)>> {
    let mut statement = connection.prepare_cached(
        "SELECT f.run_id, f.job_id, j.state, r.status, r.outcome FROM schedule_fires f \
         JOIN jobs j ON j.id = f.job_id LEFT JOIN runs r ON r.id = f.run_id \
         WHERE f.schedule_id = ?1 AND f.outcome IS NULL AND f.job_id IS NOT NULL",
    )?;
    let rows = statement.query_map([schedule.get()], |row| {
        let state = work_state(row, 2)?;
        Ok((row.get::<_, Option<i64>>(0)?.map(RunId), JobId(row.get(1)?), state))
    })?;
    let mut running = Vec::new();
    for row in rows {
        let (run, job, state) = row?;
        if decide::outcome_of(state).is_none() {
            running.push((run, job));
        }
    }
    Ok(running)
}

/// Reads (job state, run status, run outcome) from columns `first..first+3`.
fn work_state(row: &Row<'_>, first: usize) -> rusqlite::Result<WorkState> {
    let status: Option<String> = row.get(first + 1)?;
    let outcome: Option<String> = row.get(first + 2)?;
    let run = match status {
        Some(status) => {
            let status = status.parse().map_err(|error| conversion_error(first + 1, error))?;
            let outcome =
                outcome.map(|text| text.parse().map_err(|error| conversion_error(first + 2, error))).transpose()?;
            Some((status, outcome))
        }
        None => None,
    };
    Ok(WorkState { job: parsed(row, first)?, run })
}

/// Starts the work of one fire: `Ok(Err(reason))` when the store refused it
/// (an archived agent, a dismissed action), which the fire records.
fn start_work(
    connection: &Connection,
    effects: &mut Effects,
    schedule: &Schedule,
    slot: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<std::result::Result<(JobId, Option<RunId>), String>> {
    let action = match &schedule.target {
        steward_domain::schedule::ScheduleTarget::Action { action_id, .. } => {
            optional_action(connection, schedule.user_id, *action_id)?
        }
        _ => None,
    };
    let user = schedule.user_id;
    let started = match decide::work_for(schedule, slot, action) {
        Work::Refused(reason) => return Ok(Err(reason)),
        Work::Run(run) => runs::start(connection, effects, user, &run, now).map(|run| (run.job_id, Some(run.id))),
        Work::ScheduleAction(run) => {
            let id = run.action_id.unwrap_or(ActionId(0));
            runs::schedule(connection, effects, user, id, &run, now).map(|(_, run)| (run.job_id, Some(run.id)))
        }
        Work::Job(job) => enqueue::enqueue(connection, effects, user, vec![job], now)
            .map(|mut outcomes| (outcomes.pop().map(|outcome| outcome.job.id), None)),
    };
    decide::started(started)
}

fn optional_action(
    connection: &Connection,
    user: UserId,
    id: ActionId,
) -> Result<Option<(AgentId, steward_domain::ActionState)>> {
    match actions::load(connection, user, id) {
        Ok(action) => Ok(Some((action.agent_id, action.state))),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Fires one slot under the overlap policy (`overlap` false: whatever
/// runs, as a manual fire or a backfill does). `None`: already recorded.
fn fire_slot(
    connection: &Connection,
    effects: &mut Effects,
    schedule: &Schedule,
    slot: DateTime<Utc>,
    status: FireStatus,
    overlap: bool,
    now: DateTime<Utc>,
) -> Result<Option<ScheduleFire>> {
    let mut row = SlotRow { slot, status, detail: None };
    let mut cancel = Vec::new();
    if overlap {
        let running = running_work(connection, schedule.id)?;
        let buffered: i64 = connection.query_row(
            "SELECT count(*) FROM schedule_fires WHERE schedule_id = ?1 AND status = 'buffered'",
            [schedule.id.get()],
            |row| row.get(0),
        )?;
        let decision = schedule.policies.overlap.decide(!running.is_empty(), usize::try_from(buffered).unwrap_or(0));
        if let Some((status, detail)) = decide::overlap_row(decision, &decide::describe_running(&running)) {
            row = SlotRow { slot, status, detail: Some(detail) };
        } else if decision == steward_domain::schedule::OverlapDecision::CancelRunningThenStart {
            cancel = running;
        }
    }
    if !insert_slot(connection, schedule.id, &row, now)? {
        return Ok(None);
    }
    if row.status == status {
        for (run, job) in cancel {
            cancel_work(connection, effects, schedule.user_id, run, job, now)?;
        }
        match start_work(connection, effects, schedule, slot, now)? {
            Ok((job, run)) => {
                connection.execute(
                    "UPDATE schedule_fires SET job_id = ?1, run_id = ?2 WHERE schedule_id = ?3 AND slot_at = ?4",
                    params![job.get(), run.map(RunId::get), schedule.id.get(), to_micros(slot)],
                )?;
            }
            Err(reason) => {
                connection.execute(
                    "UPDATE schedule_fires SET status = 'skipped', detail = ?1 WHERE schedule_id = ?2 AND slot_at = ?3",
                    params![reason, schedule.id.get(), to_micros(slot)],
                )?;
            }
        }
    }
    let fire = load_fire(connection, schedule.id, slot)?;
    append(connection, effects, schedule.user_id, now, decide::fired_event(&fire))?;
    Ok(Some(fire))
}

fn cancel_work(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    run: Option<RunId>,
    job: JobId,
    now: DateTime<Utc>,
) -> Result<()> {
    let cancelled = match run {
        Some(run) => runs::cancel(connection, effects, user, run, now).map(|_| ()),
        None => job_admin::cancel(connection, effects, user, job, now).map(|_| ()),
    };
    // Work that ended meanwhile needs no cancelling.
    match cancelled {
        Err(StoreError::Conflict { .. }) => Ok(()),
        other => other,
    }
}

/// Fires one due schedule: every due slot recorded, the planned ones fired.
fn fire_due(
    connection: &Connection,
    effects: &mut Effects,
    schedule: &Schedule,
    check: Option<&PreconditionCheck>,
    now: DateTime<Utc>,
) -> Result<Vec<ScheduleFire>> {
    let plan = decide::plan(schedule, now);
    let rows = decide::not_fired_rows(&plan);
    for row in &rows {
        insert_slot(connection, schedule.id, row, now)?;
    }
    if let Some(event) = decide::not_fired_event(schedule.id, &rows) {
        append(connection, effects, schedule.user_id, now, event)?;
    }
    let passed = decide::precondition_passed(schedule, check);
    let mut fires = Vec::new();
    for planned in &plan.fires {
        if passed {
            fires.extend(fire_slot(connection, effects, schedule, planned.slot, FireStatus::Fired, true, now)?);
        } else if insert_slot(connection, schedule.id, &decide::no_change_row(planned.slot), now)? {
            let fire = load_fire(connection, schedule.id, planned.slot)?;
            append(connection, effects, schedule.user_id, now, decide::fired_event(&fire))?;
            fires.push(fire);
        }
    }
    let fire_at = decide::fire_at(schedule.id, plan.next_slot, schedule.policies.jitter);
    connection.execute(
        "UPDATE schedules SET handled_through_at = ?1, next_slot_at = ?2, next_fire_at = ?3, \
         precondition_state = ?4, updated_at = ?5 WHERE id = ?6",
        params![
            to_micros(plan.handled_through),
            plan.next_slot.map(to_micros),
            fire_at.map(to_micros),
            decide::precondition_state(schedule, check, !plan.fires.is_empty()),
            to_micros(now),
            schedule.id.get()
        ],
    )?;
    Ok(fires)
}

fn settle(connection: &Connection, effects: &mut Effects, now: DateTime<Utc>) -> Result<SettleReport> {
    let mut report = SettleReport::default();
    let mut statement = connection.prepare_cached(
        "SELECT f.schedule_id, f.slot_at, j.state, r.status, r.outcome FROM schedule_fires f \
         JOIN jobs j ON j.id = f.job_id LEFT JOIN runs r ON r.id = f.run_id \
         WHERE f.outcome IS NULL AND f.job_id IS NOT NULL ORDER BY f.slot_at",
    )?;
    let ended = statement
        .query_map([], |row| Ok((ScheduleId(row.get(0)?), from_micros(row.get(1)?), work_state(row, 2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (id, slot, state) in ended {
        let Some(outcome) = decide::outcome_of(state) else { continue };
        let schedule = load_any(connection, id)?;
        let (consecutive, pause) =
            decide::after_outcome(schedule.consecutive_failures, outcome, schedule.policies.pause_on_failures);
        connection.execute(
            "UPDATE schedule_fires SET outcome = ?1 WHERE schedule_id = ?2 AND slot_at = ?3",
            params![outcome.as_str(), id.get(), to_micros(slot)],
        )?;
        connection
            .execute("UPDATE schedules SET consecutive_failures = ?1 WHERE id = ?2", params![consecutive, id.get()])?;
        let event = NewEvent::ScheduleFireSettled { schedule: id, slot, outcome, consecutive_failures: consecutive };
        append(connection, effects, schedule.user_id, now, event)?;
        report.settled += 1;
        if let Some(reason) = pause.filter(|_| !schedule.paused) {
            set_paused(connection, effects, &schedule, true, Some(reason), now)?;
            report.paused.push(id);
        }
    }
    let buffered: Vec<(i64, i64)> = connection
        .prepare_cached(
            "SELECT f.schedule_id, min(f.slot_at) FROM schedule_fires f JOIN schedules s ON s.id = f.schedule_id \
             WHERE f.status = 'buffered' AND s.paused = 0 GROUP BY f.schedule_id",
        )?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, slot) in buffered {
        let schedule = load_any(connection, ScheduleId(id))?;
        if !running_work(connection, schedule.id)?.is_empty() {
            continue;
        }
        let slot = from_micros(slot);
        connection.execute(
            "DELETE FROM schedule_fires WHERE schedule_id = ?1 AND slot_at = ?2",
            params![id, to_micros(slot)],
        )?;
        report.released.extend(fire_slot(connection, effects, &schedule, slot, FireStatus::Fired, false, now)?);
    }
    Ok(report)
}

fn load_any(connection: &Connection, id: ScheduleId) -> Result<Schedule> {
    let sql = format!("SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE id = ?1");
    query_schedules(connection, &sql, [id.get()])?.pop().ok_or_else(|| StoreError::not_found(Entity::Schedule, id))
}

fn backfill(
    connection: &Connection,
    effects: &mut Effects,
    schedule: &Schedule,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<ScheduleFire>> {
    let mut fires = Vec::new();
    for slot in decide::backfill_slots(schedule, from, to)? {
        fires.extend(fire_slot(connection, effects, schedule, slot, FireStatus::Backfilled, false, now)?);
    }
    Ok(fires)
}

#[async_trait]
impl ScheduleStore for SqliteStore {
    async fn create_schedule(&self, schedule: NewSchedule) -> Result<Schedule> {
        let now = self.now();
        self.writer.write(move |connection, effects| create(connection, effects, &schedule, now)).await
    }

    async fn get_schedule(&self, user: UserId, id: ScheduleId) -> Result<Schedule> {
        self.readers.read(move |connection| load(connection, user, id)).await
    }

    async fn find_schedule(&self, user: UserId, name: &str) -> Result<Schedule> {
        let name = name.to_string();
        self.readers
            .read(move |connection| {
                let sql =
                    format!("SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE user_id = ?1 AND lower(name) = lower(?2)");
                query_schedules(connection, &sql, params![user.get(), name])?
                    .pop()
                    .ok_or_else(|| StoreError::not_found(Entity::Schedule, format!("{name:?}")))
            })
            .await
    }

    async fn list_schedules(&self, owners: Owners) -> Result<Vec<Schedule>> {
        self.readers
            .read(move |connection| {
                let owner = list_condition(owners, "?1");
                let sql = format!("SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE {owner} ORDER BY lower(name), id");
                query_schedules(connection, &sql, [list_parameter(owners)])
            })
            .await
    }

    async fn set_schedule_paused(&self, user: UserId, id: ScheduleId, paused: bool) -> Result<Schedule> {
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                let schedule = load(connection, user, id)?;
                set_paused(connection, effects, &schedule, paused, None, now)?;
                load(connection, user, id)
            })
            .await
    }

    async fn delete_schedule(&self, user: UserId, id: ScheduleId) -> Result<Schedule> {
        let now = self.now();
        self.writer.write(move |connection, effects| delete(connection, effects, user, id, now)).await
    }

    async fn next_schedule_fire(&self) -> Result<Option<DateTime<Utc>>> {
        self.readers
            .read(|connection| {
                let next: Option<i64> = connection
                    .prepare_cached(
                        "SELECT min(next_fire_at) FROM schedules WHERE paused = 0 AND next_fire_at IS NOT NULL",
                    )?
                    .query_row([], |row| row.get(0))?;
                Ok(next.map(from_micros))
            })
            .await
    }

    async fn due_schedules(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Schedule>> {
        self.readers
            .read(move |connection| {
                let sql = format!(
                    "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE paused = 0 AND next_fire_at IS NOT NULL \
                     AND next_fire_at <= ?1 ORDER BY next_fire_at LIMIT ?2"
                );
                query_schedules(connection, &sql, params![to_micros(now), i64::try_from(limit).unwrap_or(i64::MAX)])
            })
            .await
    }

    async fn fire_schedules(&self, request: FireRequest) -> Result<Vec<ScheduleFire>> {
        let now = self.now();
        self.writer.write(move |connection, effects| batch::fire_requested(connection, effects, &request, now)).await
    }

    async fn fire_schedule_now(&self, user: UserId, id: ScheduleId) -> Result<ScheduleFire> {
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                let schedule = load(connection, user, id)?;
                fire_slot(connection, effects, &schedule, now, FireStatus::Manual, false, now)?
                    .ok_or_else(|| decide::manual_fire_taken(now))
            })
            .await
    }

    async fn backfill_schedule(
        &self,
        user: UserId,
        id: ScheduleId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ScheduleFire>> {
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                let schedule = load(connection, user, id)?;
                backfill(connection, effects, &schedule, from, to, now)
            })
            .await
    }

    async fn settle_schedule_fires(&self) -> Result<SettleReport> {
        let now = self.now();
        self.writer.write(move |connection, effects| settle(connection, effects, now)).await
    }

    async fn list_schedule_fires(&self, user: UserId, id: ScheduleId, limit: usize) -> Result<Vec<ScheduleFire>> {
        self.readers
            .read(move |connection| {
                load(connection, user, id)?;
                let sql = format!(
                    "SELECT {FIRE_COLUMNS} FROM schedule_fires WHERE schedule_id = ?1 ORDER BY slot_at DESC LIMIT ?2"
                );
                let fires = connection
                    .prepare_cached(&sql)?
                    .query_map(params![id.get(), limit.clamp(1, MAX_FIRES_PAGE) as i64], fire_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(fires)
            })
            .await
    }
}
