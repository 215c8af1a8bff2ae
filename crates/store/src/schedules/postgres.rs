//! Schedules on PostgreSQL, for any number of processes. A fire locks its
//! schedule's row (`FOR UPDATE SKIP LOCKED`: another process firing it is
//! left to it), checks it is still due, and records its slots, starts their
//! work and moves the schedule on in one transaction. The unique
//! `(schedule_id, slot_at)` and each job's idempotency key stop a slot from
//! firing twice even if two transactions got that far.

use crate::ownership::{list_condition, list_parameter};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use steward_domain::access::Owners;
use steward_domain::schedule::{FireStatus, NewSchedule, OverlapDecision, Schedule, ScheduleFire, ScheduleTarget};
use steward_domain::{ActionId, ActionState, AgentId, JobId, NewEvent, RunId, ScheduleId, UserId};

use crate::actions::postgres as actions;
use crate::jobs::postgres::{admin as job_admin, enqueue};
use crate::postgres::PostgresStore;
use crate::postgres::transaction::{Begin, Transaction, TransactionError, TransactionResult};
use crate::runs::postgres as runs;
use crate::schedules::decide::{self, ScheduleRow, SlotRow, Work, WorkState};
use crate::schedules::{FireRequest, MAX_FIRES_PAGE, PreconditionCheck, ScheduleStore, SettleReport};
use crate::{Entity, Result, StoreError};

macro_rules! schedule_columns {
    () => {
        "id, user_id, name, when_text, zone, target_kind, agent_id, action_id, instruction, routine, job_kind, \
         payload, missed_policy, catchup_window_secs, overlap_policy, jitter_ms, pause_on_failures, \
         consecutive_failures, paused, precondition, precondition_state, handled_through_at, next_slot_at, \
         next_fire_at, created_at, updated_at"
    };
}

mod batch;

macro_rules! fire_columns {
    () => {
        "schedule_id, slot_at, fired_at, status, job_id, run_id, outcome, detail"
    };
}

fn schedule_row(row: &PgRow) -> Result<Schedule> {
    let read = || -> std::result::Result<ScheduleRow, sqlx::Error> {
        Ok(ScheduleRow {
            id: row.try_get(0)?,
            user_id: row.try_get(1)?,
            name: row.try_get(2)?,
            when_text: row.try_get(3)?,
            zone: row.try_get(4)?,
            target_kind: row.try_get(5)?,
            agent_id: row.try_get(6)?,
            action_id: row.try_get(7)?,
            instruction: row.try_get(8)?,
            routine: row.try_get(9)?,
            job_kind: row.try_get(10)?,
            payload: row.try_get(11)?,
            missed_policy: row.try_get(12)?,
            catchup_window_secs: i64::from(row.try_get::<i32, _>(13)?),
            overlap_policy: row.try_get(14)?,
            jitter_ms: i64::from(row.try_get::<i32, _>(15)?),
            pause_on_failures: row.try_get::<Option<i32>, _>(16)?.map(i64::from),
            consecutive_failures: i64::from(row.try_get::<i32, _>(17)?),
            paused: row.try_get(18)?,
            precondition: row.try_get(19)?,
            precondition_state: row.try_get(20)?,
            handled_through_at: row.try_get(21)?,
            next_slot_at: row.try_get(22)?,
            next_fire_at: row.try_get(23)?,
            created_at: row.try_get(24)?,
            updated_at: row.try_get(25)?,
        })
    };
    read()?.into_schedule()
}

fn fire_row(row: &PgRow) -> Result<ScheduleFire> {
    let status: String = row.try_get(3)?;
    let outcome: Option<String> = row.try_get(6)?;
    Ok(ScheduleFire {
        schedule_id: ScheduleId(row.try_get(0)?),
        slot: row.try_get(1)?,
        fired_at: row.try_get(2)?,
        status: status.parse()?,
        job_id: row.try_get::<Option<i64>, _>(4)?.map(JobId),
        run_id: row.try_get::<Option<i64>, _>(5)?.map(RunId),
        outcome: outcome.map(|text| text.parse()).transpose()?,
        detail: row.try_get(7)?,
    })
}

pub(crate) async fn load(connection: &mut PgConnection, user: UserId, id: ScheduleId, lock: bool) -> Result<Schedule> {
    let sql = if lock {
        concat!("SELECT ", schedule_columns!(), " FROM schedules WHERE id = $1 AND user_id = $2 FOR UPDATE")
    } else {
        concat!("SELECT ", schedule_columns!(), " FROM schedules WHERE id = $1 AND user_id = $2")
    };
    let row = sqlx::query(sql).bind(id.get()).bind(user.get()).fetch_optional(connection).await?;
    schedule_row(&row.ok_or_else(|| StoreError::not_found(Entity::Schedule, id))?)
}

async fn check_target(transaction: &mut Transaction, schedule: &NewSchedule) -> TransactionResult<()> {
    let user = schedule.user_id;
    match &schedule.target {
        ScheduleTarget::Agent { agent_id, .. } => {
            let status = actions::agent_status_for_share(transaction.connection(), user, *agent_id).await?;
            Ok(decide::check_agent(*agent_id, status)?)
        }
        ScheduleTarget::Action { action_id, .. } => {
            match actions::load(transaction.connection(), user, *action_id).await {
                Ok(_) => Ok(()),
                Err(StoreError::NotFound { .. }) => Err(decide::missing_action(*action_id).into()),
                Err(error) => Err(error.into()),
            }
        }
        _ => Ok(()),
    }
}

pub(crate) async fn create(
    transaction: &mut Transaction,
    schedule: &NewSchedule,
    now: DateTime<Utc>,
) -> TransactionResult<Schedule> {
    let row = decide::new_row(schedule, now)?;
    check_target(transaction, schedule).await?;
    let user = schedule.user_id;
    let taken: Option<i64> =
        sqlx::query_scalar("SELECT id FROM schedules WHERE user_id = $1 AND lower(name) = lower($2)")
            .bind(user.get())
            .bind(&schedule.name)
            .fetch_optional(transaction.connection())
            .await?;
    if taken.is_some() {
        return Err(decide::name_taken(&schedule.name).into());
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO schedules (user_id, name, when_text, zone, target_kind, agent_id, action_id, instruction, \
         routine, job_kind, payload, missed_policy, catchup_window_secs, overlap_policy, jitter_ms, \
         pause_on_failures, precondition, handled_through_at, next_slot_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $18, $18) \
         RETURNING id",
    )
    .bind(user.get())
    .bind(&schedule.name)
    .bind(schedule.when.as_str())
    .bind(schedule.zone.name())
    .bind(row.target_kind)
    .bind(row.agent_id)
    .bind(row.action_id)
    .bind(&row.instruction)
    .bind(&row.routine)
    .bind(&row.job_kind)
    .bind(&row.payload)
    .bind(&row.missed_policy)
    .bind(i32::try_from(row.catchup_window_secs).unwrap_or(i32::MAX))
    .bind(row.overlap_policy)
    .bind(i32::try_from(row.jitter_ms).unwrap_or(i32::MAX))
    .bind(row.pause_on_failures.map(|n| i32::try_from(n).unwrap_or(i32::MAX)))
    .bind(&row.precondition)
    .bind(now)
    .bind(row.next_slot_at)
    .fetch_one(transaction.connection())
    .await?;
    let id = ScheduleId(id);
    let fire_at = decide::fire_at(id, Some(row.next_slot_at), schedule.policies.jitter);
    sqlx::query("UPDATE schedules SET next_fire_at = $1 WHERE id = $2")
        .bind(fire_at)
        .bind(id.get())
        .execute(transaction.connection())
        .await?;
    let created = load(transaction.connection(), user, id, false).await?;
    transaction.record(user, now, decide::created_event(&created));
    Ok(created)
}

/// Deletes a schedule and its history. Event `schedule.deleted`.
pub(crate) async fn delete(
    transaction: &mut Transaction,
    user: UserId,
    id: ScheduleId,
    now: DateTime<Utc>,
) -> TransactionResult<Schedule> {
    let schedule = load(transaction.connection(), user, id, true).await?;
    sqlx::query("DELETE FROM schedule_fires WHERE schedule_id = $1")
        .bind(id.get())
        .execute(transaction.connection())
        .await?;
    sqlx::query("DELETE FROM schedules WHERE id = $1").bind(id.get()).execute(transaction.connection()).await?;
    transaction.record(user, now, NewEvent::ScheduleDeleted { schedule: id, name: schedule.name.clone() });
    Ok(schedule)
}

/// The user's schedules that fire routine `name`, locked for the change.
pub(crate) async fn of_routine(connection: &mut PgConnection, user: UserId, name: &str) -> Result<Vec<Schedule>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        schedule_columns!(),
        " FROM schedules WHERE user_id = $1 AND target_kind = 'routine' AND lower(routine) = lower($2) \
         ORDER BY id FOR UPDATE"
    ))
    .bind(user.get())
    .bind(name)
    .fetch_all(connection)
    .await?;
    rows.iter().map(schedule_row).collect()
}

pub(crate) async fn set_paused(
    transaction: &mut Transaction,
    schedule: &Schedule,
    paused: bool,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    if schedule.paused == paused {
        return Ok(());
    }
    let next_slot = if paused { schedule.next_slot } else { decide::next_slot_on_resume(schedule) };
    let fire_at = decide::fire_at(schedule.id, next_slot, schedule.policies.jitter);
    sqlx::query(
        "UPDATE schedules SET paused = $1, next_slot_at = $2, next_fire_at = $3, updated_at = $4, \
         consecutive_failures = CASE WHEN $1 THEN consecutive_failures ELSE 0 END WHERE id = $5",
    )
    .bind(paused)
    .bind(next_slot)
    .bind(fire_at)
    .bind(now)
    .bind(schedule.id.get())
    .execute(transaction.connection())
    .await?;
    let event = if paused {
        NewEvent::SchedulePaused { schedule: schedule.id, reason }
    } else {
        NewEvent::ScheduleResumed { schedule: schedule.id }
    };
    transaction.record(schedule.user_id, now, event);
    Ok(())
}

async fn insert_slot(
    transaction: &mut Transaction,
    schedule: ScheduleId,
    row: &SlotRow,
    now: DateTime<Utc>,
) -> TransactionResult<bool> {
    let inserted = sqlx::query(
        "INSERT INTO schedule_fires (schedule_id, slot_at, fired_at, status, detail) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (schedule_id, slot_at) DO NOTHING",
    )
    .bind(schedule.get())
    .bind(row.slot)
    .bind(now)
    .bind(row.status.as_str())
    .bind(&row.detail)
    .execute(transaction.connection())
    .await?;
    Ok(inserted.rows_affected() == 1)
}

async fn load_fire(connection: &mut PgConnection, schedule: ScheduleId, slot: DateTime<Utc>) -> Result<ScheduleFire> {
    let row = sqlx::query(concat!(
        "SELECT ",
        fire_columns!(),
        " FROM schedule_fires WHERE schedule_id = $1 AND slot_at = $2"
    ))
    .bind(schedule.get())
    .bind(slot)
    .fetch_one(connection)
    .await?;
    fire_row(&row)
}

fn work_state(row: &PgRow, first: usize) -> Result<WorkState> {
    let state: String = row.try_get(first)?;
    let status: Option<String> = row.try_get(first + 1)?;
    let outcome: Option<String> = row.try_get(first + 2)?;
    let run = match status {
        Some(status) => Some((status.parse()?, outcome.map(|text| text.parse()).transpose()?)),
        None => None,
    };
    Ok(WorkState { job: state.parse()?, run })
}

async fn running_work(connection: &mut PgConnection, schedule: ScheduleId) -> Result<Vec<(Option<RunId>, JobId)>> {
    let rows = sqlx::query(
        "SELECT f.run_id, f.job_id, j.state, r.status, r.outcome FROM schedule_fires f \
         JOIN jobs j ON j.id = f.job_id LEFT JOIN runs r ON r.id = f.run_id \
         WHERE f.schedule_id = $1 AND f.outcome IS NULL AND f.job_id IS NOT NULL",
    )
    .bind(schedule.get())
    .fetch_all(connection)
    .await?;
    let mut running = Vec::new();
    for row in &rows {
        if decide::outcome_of(work_state(row, 2)?).is_none() {
            running.push((row.try_get::<Option<i64>, _>(0)?.map(RunId), JobId(row.try_get(1)?)));
        }
    }
    Ok(running)
}

/// A refusal becomes the fire's reason; a database error fails the pass.
fn refusal<T>(result: TransactionResult<T>) -> TransactionResult<std::result::Result<T, StoreError>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(TransactionError::Refused(error)) => Ok(Err(error)),
        Err(error) => Err(error),
    }
}

async fn start_work(
    transaction: &mut Transaction,
    schedule: &Schedule,
    slot: DateTime<Utc>,
    now: DateTime<Utc>,
) -> TransactionResult<std::result::Result<(JobId, Option<RunId>), String>> {
    let user = schedule.user_id;
    let action: Option<(AgentId, ActionState)> = match &schedule.target {
        ScheduleTarget::Action { action_id, .. } => {
            match actions::load(transaction.connection(), user, *action_id).await {
                Ok(action) => Some((action.agent_id, action.state)),
                Err(StoreError::NotFound { .. }) => None,
                Err(error) => return Err(error.into()),
            }
        }
        _ => None,
    };
    let started = match decide::work_for(schedule, slot, action) {
        Work::Refused(reason) => return Ok(Err(reason)),
        Work::Run(run) => {
            refusal(runs::start(transaction, user, &run, now).await)?.map(|run| (run.job_id, Some(run.id)))
        }
        Work::ScheduleAction(run) => {
            let id = run.action_id.unwrap_or(ActionId(0));
            refusal(runs::schedule(transaction, user, id, &run, now).await)?.map(|(_, run)| (run.job_id, Some(run.id)))
        }
        Work::Job(job) => refusal(enqueue::enqueue(transaction, user, vec![job], now).await)?
            .map(|mut outcomes| (outcomes.pop().map(|outcome| outcome.job.id), None)),
    };
    Ok(decide::started(started)?)
}

async fn cancel_work(
    transaction: &mut Transaction,
    user: UserId,
    run: Option<RunId>,
    job: JobId,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    let cancelled = match run {
        Some(run) => runs::cancel(transaction, user, run, now).await.map(|_| ()),
        None => job_admin::cancel(transaction, user, job, now).await.map(|_| ()),
    };
    match cancelled {
        Err(TransactionError::Refused(StoreError::Conflict { .. })) => Ok(()),
        other => other,
    }
}

async fn fire_slot(
    transaction: &mut Transaction,
    schedule: &Schedule,
    slot: DateTime<Utc>,
    status: FireStatus,
    overlap: bool,
    now: DateTime<Utc>,
) -> TransactionResult<Option<ScheduleFire>> {
    let mut row = SlotRow { slot, status, detail: None };
    let mut cancel = Vec::new();
    if overlap {
        let running = running_work(transaction.connection(), schedule.id).await?;
        let buffered: i64 =
            sqlx::query_scalar("SELECT count(*) FROM schedule_fires WHERE schedule_id = $1 AND status = 'buffered'")
                .bind(schedule.id.get())
                .fetch_one(transaction.connection())
                .await?;
        let decision = schedule.policies.overlap.decide(!running.is_empty(), usize::try_from(buffered).unwrap_or(0));
        if let Some((status, detail)) = decide::overlap_row(decision, &decide::describe_running(&running)) {
            row = SlotRow { slot, status, detail: Some(detail) };
        } else if decision == OverlapDecision::CancelRunningThenStart {
            cancel = running;
        }
    }
    if !insert_slot(transaction, schedule.id, &row, now).await? {
        return Ok(None);
    }
    if row.status == status {
        for (run, job) in cancel {
            cancel_work(transaction, schedule.user_id, run, job, now).await?;
        }
        let query = match start_work(transaction, schedule, slot, now).await? {
            Ok((job, run)) => sqlx::query(
                "UPDATE schedule_fires SET job_id = $1, run_id = $2 WHERE schedule_id = $3 AND slot_at = $4",
            )
            .bind(job.get())
            .bind(run.map(RunId::get)),
            Err(reason) => sqlx::query(
                "UPDATE schedule_fires SET status = 'skipped', detail = $1 WHERE schedule_id = $2 AND slot_at = $3",
            )
            .bind(reason),
        };
        query.bind(schedule.id.get()).bind(slot).execute(transaction.connection()).await?;
    }
    let fire = load_fire(transaction.connection(), schedule.id, slot).await?;
    transaction.record(schedule.user_id, now, decide::fired_event(&fire));
    Ok(Some(fire))
}

async fn fire_due(
    transaction: &mut Transaction,
    schedule: &Schedule,
    check: Option<&PreconditionCheck>,
    now: DateTime<Utc>,
) -> TransactionResult<Vec<ScheduleFire>> {
    let plan = decide::plan(schedule, now);
    let rows = decide::not_fired_rows(&plan);
    if !rows.is_empty() {
        let slots: Vec<DateTime<Utc>> = rows.iter().map(|row| row.slot).collect();
        let statuses: Vec<&str> = rows.iter().map(|row| row.status.as_str()).collect();
        let details: Vec<Option<String>> = rows.iter().map(|row| row.detail.clone()).collect();
        sqlx::query(
            "INSERT INTO schedule_fires (schedule_id, slot_at, fired_at, status, detail) \
             SELECT $1, slot, $2, status, detail FROM unnest($3::timestamptz[], $4::text[], $5::text[]) \
             AS slots(slot, status, detail) ON CONFLICT (schedule_id, slot_at) DO NOTHING",
        )
        .bind(schedule.id.get())
        .bind(now)
        .bind(slots)
        .bind(statuses)
        .bind(details)
        .execute(transaction.connection())
        .await?;
    }
    if let Some(event) = decide::not_fired_event(schedule.id, &rows) {
        transaction.record(schedule.user_id, now, event);
    }
    let passed = decide::precondition_passed(schedule, check);
    let mut fires = Vec::new();
    for planned in &plan.fires {
        if passed {
            fires.extend(fire_slot(transaction, schedule, planned.slot, FireStatus::Fired, true, now).await?);
        } else if insert_slot(transaction, schedule.id, &decide::no_change_row(planned.slot), now).await? {
            let fire = load_fire(transaction.connection(), schedule.id, planned.slot).await?;
            transaction.record(schedule.user_id, now, decide::fired_event(&fire));
            fires.push(fire);
        }
    }
    sqlx::query(
        "UPDATE schedules SET handled_through_at = $1, next_slot_at = $2, next_fire_at = $3, \
         precondition_state = $4, updated_at = $5 WHERE id = $6",
    )
    .bind(plan.handled_through)
    .bind(plan.next_slot)
    .bind(decide::fire_at(schedule.id, plan.next_slot, schedule.policies.jitter))
    .bind(decide::precondition_state(schedule, check, !plan.fires.is_empty()))
    .bind(now)
    .bind(schedule.id.get())
    .execute(transaction.connection())
    .await?;
    Ok(fires)
}

async fn load_any(connection: &mut PgConnection, id: ScheduleId) -> Result<Schedule> {
    let row = sqlx::query(concat!("SELECT ", schedule_columns!(), " FROM schedules WHERE id = $1 FOR UPDATE"))
        .bind(id.get())
        .fetch_one(connection)
        .await?;
    schedule_row(&row)
}

async fn settle(transaction: &mut Transaction, now: DateTime<Utc>) -> TransactionResult<SettleReport> {
    let mut report = SettleReport::default();
    let rows = sqlx::query(
        "SELECT f.schedule_id, f.slot_at, j.state, r.status, r.outcome FROM schedule_fires f \
         JOIN jobs j ON j.id = f.job_id LEFT JOIN runs r ON r.id = f.run_id \
         WHERE f.outcome IS NULL AND f.job_id IS NOT NULL ORDER BY f.slot_at FOR UPDATE OF f SKIP LOCKED",
    )
    .fetch_all(transaction.connection())
    .await?;
    for row in &rows {
        let Some(outcome) = decide::outcome_of(work_state(row, 2)?) else { continue };
        let id = ScheduleId(row.try_get(0)?);
        let slot: DateTime<Utc> = row.try_get(1)?;
        let schedule = load_any(transaction.connection(), id).await?;
        let (consecutive, pause) =
            decide::after_outcome(schedule.consecutive_failures, outcome, schedule.policies.pause_on_failures);
        sqlx::query("UPDATE schedule_fires SET outcome = $1 WHERE schedule_id = $2 AND slot_at = $3")
            .bind(outcome.as_str())
            .bind(id.get())
            .bind(slot)
            .execute(transaction.connection())
            .await?;
        sqlx::query("UPDATE schedules SET consecutive_failures = $1 WHERE id = $2")
            .bind(i32::try_from(consecutive).unwrap_or(i32::MAX))
            .bind(id.get())
            .execute(transaction.connection())
            .await?;
        let event = NewEvent::ScheduleFireSettled { schedule: id, slot, outcome, consecutive_failures: consecutive };
        transaction.record(schedule.user_id, now, event);
        report.settled += 1;
        if let Some(reason) = pause.filter(|_| !schedule.paused) {
            set_paused(transaction, &schedule, true, Some(reason), now).await?;
            report.paused.push(id);
        }
    }
    let buffered = sqlx::query(
        "SELECT f.schedule_id, min(f.slot_at) FROM schedule_fires f JOIN schedules s ON s.id = f.schedule_id \
         WHERE f.status = 'buffered' AND NOT s.paused GROUP BY f.schedule_id",
    )
    .fetch_all(transaction.connection())
    .await?;
    for row in &buffered {
        let id = ScheduleId(row.try_get(0)?);
        let slot: DateTime<Utc> = row.try_get(1)?;
        let schedule = load_any(transaction.connection(), id).await?;
        if !running_work(transaction.connection(), id).await?.is_empty() {
            continue;
        }
        let deleted =
            sqlx::query("DELETE FROM schedule_fires WHERE schedule_id = $1 AND slot_at = $2 AND status = 'buffered'")
                .bind(id.get())
                .bind(slot)
                .execute(transaction.connection())
                .await?;
        if deleted.rows_affected() == 1 {
            report.released.extend(fire_slot(transaction, &schedule, slot, FireStatus::Fired, false, now).await?);
        }
    }
    Ok(report)
}

#[async_trait]
impl ScheduleStore for PostgresStore {
    async fn create_schedule(&self, schedule: NewSchedule) -> Result<Schedule> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let schedule = schedule.clone();
            Box::pin(async move { create(transaction, &schedule, now).await })
        })
        .await
    }

    async fn get_schedule(&self, user: UserId, id: ScheduleId) -> Result<Schedule> {
        load(&mut *self.pool.acquire().await?, user, id, false).await
    }

    async fn find_schedule(&self, user: UserId, name: &str) -> Result<Schedule> {
        let row = sqlx::query(concat!(
            "SELECT ",
            schedule_columns!(),
            " FROM schedules WHERE user_id = $1 AND lower(name) = lower($2)"
        ))
        .bind(user.get())
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        schedule_row(&row.ok_or_else(|| StoreError::not_found(Entity::Schedule, format!("{name:?}")))?)
    }

    async fn list_schedules(&self, owners: Owners) -> Result<Vec<Schedule>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            concat!("SELECT ", schedule_columns!(), " FROM schedules WHERE {owner} ORDER BY lower(name), id"),
            owner = list_condition(owners, "$1::bigint")
        )))
        .bind(list_parameter(owners))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(schedule_row).collect()
    }

    async fn set_schedule_paused(&self, user: UserId, id: ScheduleId, paused: bool) -> Result<Schedule> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            Box::pin(async move {
                let schedule = load(transaction.connection(), user, id, true).await?;
                set_paused(transaction, &schedule, paused, None, now).await?;
                Ok(load(transaction.connection(), user, id, false).await?)
            })
        })
        .await
    }

    async fn delete_schedule(&self, user: UserId, id: ScheduleId) -> Result<Schedule> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| Box::pin(async move { delete(transaction, user, id, now).await })).await
    }

    async fn next_schedule_fire(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(sqlx::query_scalar("SELECT min(next_fire_at) FROM schedules WHERE NOT paused AND next_fire_at IS NOT NULL")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn due_schedules(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Schedule>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            schedule_columns!(),
            " FROM schedules WHERE NOT paused AND next_fire_at IS NOT NULL AND next_fire_at <= $1 \
              ORDER BY next_fire_at LIMIT $2"
        ))
        .bind(now)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(schedule_row).collect()
    }

    async fn fire_schedules(&self, request: FireRequest) -> Result<Vec<ScheduleFire>> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let request = request.clone();
            Box::pin(async move { batch::fire_requested(transaction, &request, now).await })
        })
        .await
    }

    async fn fire_schedule_now(&self, user: UserId, id: ScheduleId) -> Result<ScheduleFire> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            Box::pin(async move {
                let schedule = load(transaction.connection(), user, id, true).await?;
                fire_slot(transaction, &schedule, now, FireStatus::Manual, false, now)
                    .await?
                    .ok_or_else(|| decide::manual_fire_taken(now).into())
            })
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
        self.write(Begin::Plain, |transaction| {
            Box::pin(async move {
                let schedule = load(transaction.connection(), user, id, true).await?;
                let mut fires = Vec::new();
                for slot in decide::backfill_slots(&schedule, from, to)? {
                    fires.extend(fire_slot(transaction, &schedule, slot, FireStatus::Backfilled, false, now).await?);
                }
                Ok(fires)
            })
        })
        .await
    }

    async fn settle_schedule_fires(&self) -> Result<SettleReport> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| Box::pin(async move { settle(transaction, now).await })).await
    }

    async fn list_schedule_fires(&self, user: UserId, id: ScheduleId, limit: usize) -> Result<Vec<ScheduleFire>> {
        load(&mut *self.pool.acquire().await?, user, id, false).await?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            fire_columns!(),
            " FROM schedule_fires WHERE schedule_id = $1 ORDER BY slot_at DESC LIMIT $2"
        ))
        .bind(id.get())
        .bind(limit.clamp(1, MAX_FIRES_PAGE) as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(fire_row).collect()
    }
}
