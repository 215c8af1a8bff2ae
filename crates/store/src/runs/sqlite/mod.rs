//! Runs on SQLite: starting a run with the job that executes it, scheduling
//! an action, the worker's begin and finish, and cancellation. Steps are in
//! [`steps`], approvals in [`crate::approvals::sqlite`]; this module also
//! holds the [`RunStore`] implementation that dispatches to all three.

mod in_flight;
mod steps;

use crate::ownership::{list_condition, list_parameter};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use steward_domain::access::Owners;
use steward_domain::event::RunQueuedFor;
use steward_domain::{
    Action, ActionId, ActionState, AgentId, Approval, ApprovalId, JobId, JobState, ModelCallStarted, NewApproval,
    NewEvent, NewRun, NewRunStep, Run, RunId, RunStep, Spend, UserId,
};

use self::steps as run_steps;
use crate::actions::sqlite::{self as actions, move_action};
use crate::approvals::sqlite as approvals;
use crate::events::sqlite::append;
use crate::jobs::sqlite::admin as job_admin;
use crate::jobs::sqlite::enqueue;
use crate::rules::{self, NewWork, StoredLimits};
use crate::runs::decide::RunJobPurpose;
use crate::runs::decide::{self, ActionOfRun, Stop};
use crate::runs::{AgentMetrics, ApprovalFilter, MAX_PAGE, RunFilter, RunFinish, RunStore};
use crate::sqlite::SqliteStore;
use crate::sqlite::connection::to_micros;
use crate::sqlite::rows::optional;
use crate::sqlite::runtime_rows::{self, RUN_COLUMNS};
use crate::sqlite::writer::Effects;
use crate::{Entity, Result, StoreError};

/// The user's run `id`.
pub(crate) fn load(connection: &Connection, user: UserId, id: RunId) -> Result<Run> {
    let mut statement =
        connection.prepare_cached(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1 AND user_id = ?2"))?;
    optional(statement.query_row(params![id.get(), user.get()], runtime_rows::run))?
        .ok_or_else(|| StoreError::not_found(Entity::Run, id))
}

/// Run `id` whoever owns it: for the worker executing it, which knows the
/// run from its job and acts as the run's user.
pub(crate) fn load_for_worker(connection: &Connection, id: RunId) -> Result<Run> {
    let mut statement = connection.prepare_cached(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"))?;
    optional(statement.query_row([id.get()], runtime_rows::run))?.ok_or_else(|| StoreError::not_found(Entity::Run, id))
}

/// Inserts a queued run and enqueues the job that starts it.
fn insert(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    run: &NewRun,
    now: DateTime<Utc>,
) -> Result<Run> {
    let limits = StoredLimits::of(&run.limits);
    connection.execute(
        "INSERT INTO runs (user_id, agent_id, action_id, status, instruction, max_steps, max_tokens, max_cost_usd, \
         max_wall_secs, created_at, updated_at) VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        params![
            user.get(),
            run.agent_id.get(),
            run.action_id.map(ActionId::get),
            run.instruction,
            limits.max_steps,
            limits.max_tokens,
            limits.max_cost_usd,
            limits.max_wall_secs,
            to_micros(now),
        ],
    )?;
    let id = RunId(connection.last_insert_rowid());
    let job = enqueue_job(connection, effects, user, id, RunJobPurpose::Start, run.run_at, now)?;
    append(
        connection,
        effects,
        user,
        now,
        NewEvent::RunQueued {
            run: id,
            agent_id: run.agent_id,
            action_id: run.action_id,
            job_id: job,
            queued: RunQueuedFor::Start { run_at: rules::initial_run_at(run.run_at, now) },
        },
    )?;
    load(connection, user, id)
}

/// Enqueues the job that starts or resumes `run` and makes it the run's job.
pub(crate) fn enqueue_job(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    run: RunId,
    purpose: RunJobPurpose,
    run_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<JobId> {
    let outcomes = enqueue::enqueue(connection, effects, user, vec![decide::run_job(run, purpose, run_at)], now)?;
    let job = decide::job_of_run(run, outcomes)?;
    connection.execute("UPDATE runs SET job_id = ?1 WHERE id = ?2", params![job.id.get(), run.get()])?;
    Ok(job.id)
}

/// The run's agent must be the user's and not archived; its action, if
/// any, the agent's.
fn check_run_subjects(connection: &Connection, user: UserId, run: &NewRun) -> Result<()> {
    let status = actions::agent_status(connection, user, run.agent_id)?;
    rules::check_agent_takes(run.agent_id, status, NewWork::Run)?;
    if let Some(action_id) = run.action_id {
        let owner: Option<i64> = optional(connection.query_row(
            "SELECT agent_id FROM actions WHERE id = ?1 AND user_id = ?2",
            params![action_id.get(), user.get()],
            |row| row.get(0),
        ))?;
        match owner.map(AgentId) {
            None => return Err(crate::actions::decide::missing_action("action_id", action_id)),
            Some(owner) if owner != run.agent_id => {
                return Err(crate::actions::decide::action_of_other_agent(action_id, owner, run.agent_id));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

pub(crate) fn start(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    run: &NewRun,
    now: DateTime<Utc>,
) -> Result<Run> {
    check_run_subjects(connection, user, run)?;
    insert(connection, effects, user, run, now)
}

pub(crate) fn schedule(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    id: ActionId,
    run: &NewRun,
    now: DateTime<Utc>,
) -> Result<(Action, Run)> {
    decide::check_scheduled_run(id, run.action_id)?;
    let action = actions::load(connection, user, id)?;
    rules::check_action_transition(action.state, ActionState::Scheduled)?;
    check_run_subjects(connection, user, run)?;
    move_action(connection, effects, &action, ActionState::Scheduled, None, now)?;
    let run = insert(connection, effects, user, run, now)?;
    connection
        .execute("UPDATE actions SET job_id = ?1 WHERE id = ?2", params![run.job_id.map(JobId::get), id.get()])?;
    Ok((actions::load(connection, user, id)?, run))
}

fn begin(connection: &Connection, effects: &mut Effects, id: RunId, job: JobId, now: DateTime<Utc>) -> Result<Run> {
    let run = load_for_worker(connection, id)?;
    decide::check_not_finished(&run)?;
    // The job must be the run's user's (a typo'd id is "not found", not a
    // foreign-key failure).
    job_admin::load(connection, run.user_id, job)?;
    // A model call the previous job never saw the end of is counted now.
    in_flight::settle(connection, effects, id, now)?;
    connection.execute(
        "UPDATE runs SET status = 'running', job_id = ?1, started_at = coalesce(started_at, ?2), updated_at = ?2 \
         WHERE id = ?3",
        params![job.get(), to_micros(now), id.get()],
    )?;
    if let Some(of) = action_of(connection, &run)?
        && let Some(moved) = decide::action_move_on_begin(&of)
    {
        move_action(connection, effects, &of.action, moved.to, moved.reason.as_deref(), now)?;
    }
    append(connection, effects, run.user_id, now, decide::started_event(&run, job))?;
    load_for_worker(connection, id)
}

/// Finishes `run` (not finished yet) with what follows from it: pending
/// approvals withdrawn, the action completed or failed.
fn finish(
    connection: &Connection,
    effects: &mut Effects,
    run: &Run,
    finish: RunFinish,
    now: DateTime<Utc>,
) -> Result<Run> {
    decide::check_not_finished(run)?;
    // A model call cut off by a cancel is counted before the run ends.
    in_flight::settle(connection, effects, run.id, now)?;
    let finish = decide::storable_finish(finish);
    connection.execute(
        "UPDATE runs SET status = 'finished', outcome = ?1, output = ?2, error = ?3, finished_at = ?4, updated_at = ?4 \
         WHERE id = ?5",
        params![finish.outcome.as_str(), finish.output, finish.error, to_micros(now), run.id.get()],
    )?;
    approvals::withdraw_pending(connection, effects, run, now)?;
    if let Some(of) = action_of(connection, run)?
        && let Some(moved) = decide::action_move_on_finish(&of, &finish)
    {
        move_action(connection, effects, &of.action, moved.to, moved.reason.as_deref(), now)?;
    }
    let finished = load_for_worker(connection, run.id)?;
    append(connection, effects, run.user_id, now, decide::finished_event(run, &finish, &finished))?;
    Ok(finished)
}

/// The action `run` works on, if any, and whether the run is its latest.
fn action_of(connection: &Connection, run: &Run) -> Result<Option<ActionOfRun>> {
    let Some(action_id) = run.action_id else { return Ok(None) };
    let action = actions::load(connection, run.user_id, action_id)?;
    let latest_run = is_latest_of_action(connection, run, action_id)?;
    Ok(Some(ActionOfRun { action, latest_run }))
}

/// Cancels the run's job if it may still run (so a worker holding it hears
/// at its next heartbeat).
fn cancel_job_of(connection: &Connection, effects: &mut Effects, run: &Run, now: DateTime<Utc>) -> Result<()> {
    let Some(job_id) = run.job_id else { return Ok(()) };
    let job = job_admin::load(connection, run.user_id, job_id)?;
    if matches!(job.state, JobState::Blocked | JobState::Queued | JobState::Running) {
        job_admin::cancel(connection, effects, run.user_id, job_id, now)?;
    }
    Ok(())
}

/// Stops `run` as a cancel does, recording `error` as why (see
/// [`decide::decide_stop`]).
pub(crate) fn stop(
    connection: &Connection,
    effects: &mut Effects,
    run: &Run,
    error: &str,
    now: DateTime<Utc>,
) -> Result<Run> {
    apply_stop(connection, effects, run, decide::decide_stop(run, error), now)
}

fn apply_stop(
    connection: &Connection,
    effects: &mut Effects,
    run: &Run,
    stop: Stop,
    now: DateTime<Utc>,
) -> Result<Run> {
    match stop {
        Stop::AlreadyAsked => load_for_worker(connection, run.id),
        Stop::Ask(event) => {
            connection.execute(
                "UPDATE runs SET cancel_requested = 1, updated_at = ?1 WHERE id = ?2",
                params![to_micros(now), run.id.get()],
            )?;
            append(connection, effects, run.user_id, now, event)?;
            cancel_job_of(connection, effects, run, now)?;
            load_for_worker(connection, run.id)
        }
        Stop::EndNow(cancelled) => {
            cancel_job_of(connection, effects, run, now)?;
            finish(connection, effects, run, cancelled, now)
        }
    }
}

pub(crate) fn cancel(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    id: RunId,
    now: DateTime<Utc>,
) -> Result<Run> {
    let run = load(connection, user, id)?;
    let stop = decide::decide_cancel(&run)?;
    apply_stop(connection, effects, &run, stop, now)
}

/// The runs of `action` that are not finished, oldest first.
pub(crate) fn unfinished_of_action(connection: &Connection, user: UserId, action: ActionId) -> Result<Vec<Run>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {RUN_COLUMNS} FROM runs WHERE user_id = ?1 AND action_id = ?2 AND status <> 'finished' ORDER BY id"
    ))?;
    let runs = statement
        .query_map(params![user.get(), action.get()], runtime_rows::run)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(runs)
}

/// Whether `run` is the latest run of `action`, the only one that moves it.
fn is_latest_of_action(connection: &Connection, run: &Run, action: ActionId) -> Result<bool> {
    let latest: Option<i64> = connection
        .prepare_cached("SELECT max(id) FROM runs WHERE user_id = ?1 AND action_id = ?2")?
        .query_row(params![run.user_id.get(), action.get()], |row| row.get(0))?;
    Ok(latest == Some(run.id.get()))
}

fn list(connection: &Connection, owners: Owners, filter: &RunFilter) -> Result<Vec<Run>> {
    let owner = list_condition(owners, "?1");
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {RUN_COLUMNS} FROM runs WHERE {owner} AND (?2 IS NULL OR agent_id = ?2) \
         AND (?3 IS NULL OR action_id = ?3) AND (?4 = '[]' OR status IN (SELECT value FROM json_each(?4))) \
         AND (?5 IS NULL OR id < ?5) ORDER BY id DESC LIMIT ?6"
    ))?;
    let statuses: Vec<&str> = filter.statuses.iter().map(|status| status.as_str()).collect();
    let runs = statement
        .query_map(
            params![
                list_parameter(owners),
                filter.agent_id.map(AgentId::get),
                filter.action_id.map(ActionId::get),
                serde_json::to_string(&statuses)?,
                filter.before.map(RunId::get),
                filter.limit.clamp(1, MAX_PAGE) as i64,
            ],
            runtime_rows::run,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(runs)
}

#[async_trait]
impl RunStore for SqliteStore {
    async fn start_run(&self, user: UserId, run: NewRun) -> Result<Run> {
        run.validate()?;
        let now = self.now();
        self.writer.write(move |connection, effects| start(connection, effects, user, &run, now)).await
    }

    async fn schedule_action(&self, user: UserId, id: ActionId, run: NewRun) -> Result<(Action, Run)> {
        run.validate()?;
        let now = self.now();
        self.writer.write(move |connection, effects| schedule(connection, effects, user, id, &run, now)).await
    }

    async fn get_run(&self, user: UserId, id: RunId) -> Result<Run> {
        self.readers.read(move |connection| load(connection, user, id)).await
    }

    async fn list_runs(&self, owners: Owners, filter: RunFilter) -> Result<Vec<Run>> {
        self.readers.read(move |connection| list(connection, owners, &filter)).await
    }

    async fn begin_run(&self, id: RunId, job: JobId) -> Result<Run> {
        let now = self.now();
        self.writer.write(move |connection, effects| begin(connection, effects, id, job, now)).await
    }

    async fn append_step(&self, step: NewRunStep) -> Result<Run> {
        crate::runs::steps::check_step(&step)?;
        let now = self.now();
        self.writer.write(move |connection, effects| run_steps::append_step(connection, effects, step, now)).await
    }

    async fn model_call_started(&self, run: RunId, started: ModelCallStarted) -> Result<()> {
        self.writer.write(move |connection, _| in_flight::record_started(connection, run, &started)).await
    }

    async fn model_call_failed(&self, run: RunId) -> Result<()> {
        self.writer.write(move |connection, _| in_flight::clear(connection, run)).await
    }

    async fn list_steps(&self, user: UserId, run: RunId) -> Result<Vec<RunStep>> {
        self.readers.read(move |connection| run_steps::list_steps(connection, user, run)).await
    }

    async fn finish_run(&self, id: RunId, outcome: RunFinish) -> Result<Run> {
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                let run = load_for_worker(connection, id)?;
                finish(connection, effects, &run, outcome, now)
            })
            .await
    }

    async fn cancel_run(&self, user: UserId, id: RunId) -> Result<Run> {
        let now = self.now();
        self.writer.write(move |connection, effects| cancel(connection, effects, user, id, now)).await
    }

    async fn agent_spend(&self, user: UserId, agent: AgentId, since: Option<DateTime<Utc>>) -> Result<Spend> {
        self.readers.read(move |connection| run_steps::spend(connection, user, agent, since)).await
    }

    async fn agent_metrics(&self, user: UserId, agent: AgentId) -> Result<AgentMetrics> {
        let today = rules::start_of_utc_day(self.now());
        self.readers.read(move |connection| run_steps::metrics(connection, user, agent, today)).await
    }

    async fn request_approvals(&self, id: RunId, requests: Vec<NewApproval>) -> Result<Vec<Approval>> {
        let now = self.now();
        self.writer.write(move |connection, effects| approvals::request(connection, effects, id, &requests, now)).await
    }

    async fn get_approval(&self, user: UserId, id: ApprovalId) -> Result<Approval> {
        self.readers.read(move |connection| approvals::load(connection, user, id)).await
    }

    async fn list_approvals(&self, owners: Owners, filter: ApprovalFilter) -> Result<Vec<Approval>> {
        self.readers.read(move |connection| approvals::list(connection, owners, &filter)).await
    }
}
