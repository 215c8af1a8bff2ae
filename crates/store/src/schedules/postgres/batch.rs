//! Firing a batch of due schedules on PostgreSQL in a constant number of
//! statements, whatever its size: the due schedules are locked and read in
//! one, the work their earlier fires still run in another; each schedule's
//! pass is decided in memory ([`pass::decide`]); then every slot is
//! recorded in one `unnest` insert (the unique `(schedule_id, slot_at)`
//! answers which are new), the jobs of the new fires are enqueued per user
//! through the queue's batch enqueue (each under the idempotency key of its
//! (schedule, slot)), the fires get their jobs, and the schedules move on —
//! all in the one transaction, so a slot is recorded and started together
//! or not at all, across `kill -9` and racing processes.
//!
//! Work that is not a plain job (an agent's run, an action's) is started
//! one fire at a time in the same transaction, as are the rare schedules
//! with several slots firing at once (see [`pass::decide`]).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::Row;
use steward_domain::job::limits::MAX_BATCH;
use steward_domain::schedule::{Schedule, ScheduleFire, ScheduleTarget};
use steward_domain::{JobId, NewJob, RunId, ScheduleId, UserId};

use super::{cancel_work, fire_due, schedule_row, start_work, work_state};
use crate::jobs::postgres::enqueue;
use crate::postgres::transaction::{Transaction, TransactionResult};
use crate::rules;
use crate::schedules::FireRequest;
use crate::schedules::decide::pass::{self, EarlierWork, SchedulePass};
use crate::schedules::decide::{self, SlotRow, Work};

type SlotKey = (ScheduleId, DateTime<Utc>);
type Started = std::result::Result<(JobId, Option<RunId>), String>;

pub(super) async fn fire_requested(
    transaction: &mut Transaction,
    request: &FireRequest,
    now: DateTime<Utc>,
) -> TransactionResult<Vec<ScheduleFire>> {
    let ids: Vec<i64> = request.schedules.iter().map(|id| id.get()).collect();
    // Locked in id order; a schedule another process is firing is skipped,
    // and one it fired already is no longer due.
    let rows = sqlx::query(concat!(
        "SELECT ",
        schedule_columns!(),
        " FROM schedules WHERE id = ANY($1) AND NOT paused AND next_fire_at <= $2 ORDER BY id FOR UPDATE SKIP LOCKED"
    ))
    .bind(&ids)
    .bind(now)
    .fetch_all(transaction.connection())
    .await?;
    let mut schedules = Vec::with_capacity(rows.len());
    for row in &rows {
        let schedule = schedule_row(row)?;
        if schedule.precondition.is_none() || request.checks.contains_key(&schedule.id) {
            schedules.push(schedule);
        }
    }
    if schedules.is_empty() {
        return Ok(Vec::new());
    }
    let earlier = earlier_work(transaction, &schedules).await?;
    let none = EarlierWork::default();
    let mut passes = Vec::with_capacity(schedules.len());
    let mut one_at_a_time = Vec::new();
    for schedule in &schedules {
        let check = request.checks.get(&schedule.id);
        match pass::decide(schedule, check, earlier.get(&schedule.id).unwrap_or(&none), now) {
            Some(pass) => passes.push((schedule, pass)),
            None => one_at_a_time.push(schedule),
        }
    }

    let recorded = record_slots(transaction, &passes, now).await?;
    for (schedule, pass) in &passes {
        if let Some(event) = &pass.not_fired_event {
            transaction.record(schedule.user_id, now, event.clone());
        }
    }
    let started = start_all(transaction, &passes, &recorded, now).await?;
    set_work(transaction, &started).await?;
    move_on(transaction, &passes, now).await?;

    let mut fires = Vec::new();
    for (schedule, pass) in &passes {
        for row in pass.fires.iter().filter(|row| recorded.contains(&(schedule.id, row.slot))) {
            let fire = pass::recorded(schedule, row, started.get(&(schedule.id, row.slot)), now);
            transaction.record(schedule.user_id, now, decide::fired_event(&fire));
            fires.push(fire);
        }
    }
    for schedule in one_at_a_time {
        fires.extend(fire_due(transaction, schedule, request.checks.get(&schedule.id), now).await?);
    }
    Ok(fires)
}

/// The running work and buffered fires of the schedules' earlier fires, in
/// one statement (read after the schedules were locked).
async fn earlier_work(
    transaction: &mut Transaction,
    schedules: &[Schedule],
) -> TransactionResult<HashMap<ScheduleId, EarlierWork>> {
    let ids: Vec<i64> = schedules.iter().map(|schedule| schedule.id.get()).collect();
    let rows = sqlx::query(
        "SELECT f.schedule_id, f.run_id, f.job_id, j.state, r.status, r.outcome FROM schedule_fires f \
         JOIN jobs j ON j.id = f.job_id LEFT JOIN runs r ON r.id = f.run_id \
         WHERE f.schedule_id = ANY($1) AND f.outcome IS NULL AND f.job_id IS NOT NULL \
         UNION ALL SELECT schedule_id, NULL, NULL, NULL, NULL, NULL FROM schedule_fires \
         WHERE schedule_id = ANY($1) AND status = 'buffered'",
    )
    .bind(&ids)
    .fetch_all(transaction.connection())
    .await?;
    let mut earlier: HashMap<ScheduleId, EarlierWork> = HashMap::new();
    for row in &rows {
        let entry = earlier.entry(ScheduleId(row.try_get(0)?)).or_default();
        let Some(job) = row.try_get::<Option<i64>, _>(2)? else {
            entry.buffered += 1;
            continue;
        };
        if decide::outcome_of(work_state(row, 3)?).is_none() {
            entry.running.push((row.try_get::<Option<i64>, _>(1)?.map(RunId), JobId(job)));
        }
    }
    Ok(earlier)
}

/// Records every slot of the passes in one statement; returns those that
/// were new (a slot recorded before, by a racing process, is left alone).
async fn record_slots(
    transaction: &mut Transaction,
    passes: &[(&Schedule, SchedulePass)],
    now: DateTime<Utc>,
) -> TransactionResult<HashSet<SlotKey>> {
    let rows: Vec<(ScheduleId, &SlotRow)> = passes
        .iter()
        .flat_map(|(schedule, pass)| pass.not_fired.iter().chain(&pass.fires).map(|row| (schedule.id, row)))
        .collect();
    if rows.is_empty() {
        return Ok(HashSet::new());
    }
    let inserted = sqlx::query(
        "INSERT INTO schedule_fires (schedule_id, slot_at, fired_at, status, detail) \
         SELECT schedule_id, slot, $1, status, detail \
         FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::text[]) AS slots(schedule_id, slot, status, detail) \
         ON CONFLICT (schedule_id, slot_at) DO NOTHING RETURNING schedule_id, slot_at",
    )
    .bind(now)
    .bind(rows.iter().map(|(id, _)| id.get()).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, row)| row.slot).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, row)| row.status.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, row)| row.detail.as_deref()).collect::<Vec<_>>())
    .fetch_all(transaction.connection())
    .await?;
    inserted
        .iter()
        .map(|row| Ok((ScheduleId(row.try_get(0)?), row.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Starts the work of every new fire that starts work: plain jobs in one
/// batch enqueue per user, other work one fire at a time.
async fn start_all(
    transaction: &mut Transaction,
    passes: &[(&Schedule, SchedulePass)],
    recorded: &HashSet<SlotKey>,
    now: DateTime<Utc>,
) -> TransactionResult<HashMap<SlotKey, Started>> {
    let mut started = HashMap::new();
    let mut jobs: Vec<(UserId, Vec<(SlotKey, NewJob)>)> = Vec::new();
    for (schedule, pass) in passes {
        let Some(start) = pass.start.as_ref().filter(|start| recorded.contains(&(schedule.id, start.slot))) else {
            continue;
        };
        let key = (schedule.id, start.slot);
        for (run, job) in &start.cancel {
            cancel_work(transaction, schedule.user_id, *run, *job, now).await?;
        }
        let job = match &schedule.target {
            ScheduleTarget::Job { .. } | ScheduleTarget::Routine { .. } => {
                match decide::work_for(schedule, start.slot, None) {
                    Work::Job(job) => job,
                    _ => continue,
                }
            }
            _ => {
                started.insert(key, start_work(transaction, schedule, start.slot, now).await?);
                continue;
            }
        };
        // A job the queue would refuse is refused alone, as the fire's reason.
        match rules::check_batch(std::slice::from_ref(&job)) {
            Ok(()) => match jobs.iter_mut().find(|(user, _)| *user == schedule.user_id) {
                Some((_, batch)) => batch.push((key, job)),
                None => jobs.push((schedule.user_id, vec![(key, job)])),
            },
            Err(error) => {
                started.insert(key, decide::started(Err(error))?);
            }
        }
    }
    for (user, mut entries) in jobs {
        while !entries.is_empty() {
            let rest = entries.split_off(entries.len().min(MAX_BATCH));
            let (keys, batch): (Vec<_>, Vec<_>) = std::mem::replace(&mut entries, rest).into_iter().unzip();
            let outcomes = enqueue::enqueue(transaction, user, batch, now).await?;
            for (key, outcome) in keys.into_iter().zip(outcomes) {
                started.insert(key, Ok((outcome.job.id, None)));
            }
        }
    }
    Ok(started)
}

/// Gives each started fire its job and run, and turns each refused one
/// into a skip with its reason: two statements for the batch.
async fn set_work(transaction: &mut Transaction, started: &HashMap<SlotKey, Started>) -> TransactionResult<()> {
    let (mut ids, mut slots, mut jobs, mut runs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut skipped_ids, mut skipped_slots, mut reasons) = (Vec::new(), Vec::new(), Vec::new());
    for ((id, slot), outcome) in started {
        match outcome {
            Ok((job, run)) => {
                ids.push(id.get());
                slots.push(*slot);
                jobs.push(job.get());
                runs.push(run.map(RunId::get));
            }
            Err(reason) => {
                skipped_ids.push(id.get());
                skipped_slots.push(*slot);
                reasons.push(reason.as_str());
            }
        }
    }
    if !ids.is_empty() {
        sqlx::query(
            "UPDATE schedule_fires f SET job_id = w.job_id, run_id = w.run_id \
             FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[], $4::bigint[]) AS w(schedule_id, slot, job_id, run_id) \
             WHERE f.schedule_id = w.schedule_id AND f.slot_at = w.slot",
        )
        .bind(ids)
        .bind(slots)
        .bind(jobs)
        .bind(runs)
        .execute(transaction.connection())
        .await?;
    }
    if !skipped_ids.is_empty() {
        sqlx::query(
            "UPDATE schedule_fires f SET status = 'skipped', detail = w.reason \
             FROM unnest($1::bigint[], $2::timestamptz[], $3::text[]) AS w(schedule_id, slot, reason) \
             WHERE f.schedule_id = w.schedule_id AND f.slot_at = w.slot",
        )
        .bind(skipped_ids)
        .bind(skipped_slots)
        .bind(reasons)
        .execute(transaction.connection())
        .await?;
    }
    Ok(())
}

/// Moves every schedule of the passes on to its next slot, in one statement.
async fn move_on(
    transaction: &mut Transaction,
    passes: &[(&Schedule, SchedulePass)],
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    if passes.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE schedules s SET handled_through_at = m.handled_through, next_slot_at = m.next_slot, \
         next_fire_at = m.next_fire_at, precondition_state = m.precondition_state, updated_at = $1 \
         FROM unnest($2::bigint[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[], $6::text[]) \
         AS m(id, handled_through, next_slot, next_fire_at, precondition_state) WHERE s.id = m.id",
    )
    .bind(now)
    .bind(passes.iter().map(|(schedule, _)| schedule.id.get()).collect::<Vec<_>>())
    .bind(passes.iter().map(|(_, pass)| pass.handled_through).collect::<Vec<_>>())
    .bind(passes.iter().map(|(_, pass)| pass.next_slot).collect::<Vec<_>>())
    .bind(passes.iter().map(|(_, pass)| pass.next_fire_at).collect::<Vec<_>>())
    .bind(passes.iter().map(|(_, pass)| pass.precondition_state.as_deref()).collect::<Vec<_>>())
    .execute(transaction.connection())
    .await?;
    Ok(())
}
