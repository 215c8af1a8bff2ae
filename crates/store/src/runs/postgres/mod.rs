//! Runs on PostgreSQL: the same behaviour as on SQLite (starting a run with
//! its job, scheduling an action, the worker's begin and finish,
//! cancellation), safe for several nodes at once. Steps are in
//! [`steps`], approvals in [`crate::approvals::postgres`]; this module
//! also holds the [`RunStore`] implementation that dispatches to all three.
//!
//! Locking. Every operation that changes a run locks its row first (`FOR
//! UPDATE`) and only then the rows it touches because of it — the job, the
//! approvals, the action — so two operations on one run (two workers
//! appending the same step, a decision racing a cancel, a stray job's begin
//! racing a finish) run one after the other, each seeing what the other
//! committed, and no two take their locks in opposite orders.

mod in_flight;
mod steps;

use crate::ownership::{list_condition, list_parameter};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::PgConnection;
use steward_domain::access::Owners;
use steward_domain::event::RunQueuedFor;
use steward_domain::{
    Action, ActionId, ActionState, AgentId, Approval, ApprovalId, JobId, JobState, ModelCallStarted, NewApproval,
    NewEvent, NewRun, NewRunStep, Run, RunId, RunStep, Spend, UserId,
};

use self::steps as run_steps;
use crate::actions::postgres::{self as actions, agent_status_for_share, move_action};
use crate::approvals::postgres as approvals;
use crate::jobs::postgres::admin as job_admin;
use crate::jobs::postgres::enqueue;
use crate::postgres::PostgresStore;
use crate::postgres::connection::{to_bigint, to_integer};
use crate::postgres::runtime_rows::{self, run_columns};
use crate::postgres::transaction::{Begin, Transaction, TransactionResult};
use crate::rules::{self, NewWork, StoredLimits};
use crate::runs::decide::RunJobPurpose;
use crate::runs::decide::{self, ActionOfRun, Stop};
use crate::runs::{AgentMetrics, ApprovalFilter, MAX_PAGE, RunFilter, RunFinish, RunStore};
use crate::{Entity, Result, StoreError};

/// The user's run `id`, unlocked (for reading).
pub(crate) async fn load(connection: &mut PgConnection, user: UserId, id: RunId) -> Result<Run> {
    let row = sqlx::query(concat!("SELECT ", run_columns!(), " FROM runs WHERE id = $1 AND user_id = $2"))
        .bind(id.get())
        .bind(user.get())
        .fetch_optional(connection)
        .await?;
    Ok(runtime_rows::run(&row.ok_or_else(|| StoreError::not_found(Entity::Run, id))?)?)
}

/// The user's run `id`, locked until commit.
pub(crate) async fn load_for_update(connection: &mut PgConnection, user: UserId, id: RunId) -> TransactionResult<Run> {
    let row = sqlx::query(concat!("SELECT ", run_columns!(), " FROM runs WHERE id = $1 AND user_id = $2 FOR UPDATE"))
        .bind(id.get())
        .bind(user.get())
        .fetch_optional(connection)
        .await?;
    Ok(runtime_rows::run(&row.ok_or_else(|| StoreError::not_found(Entity::Run, id))?)?)
}

/// Run `id` whoever owns it, locked until commit: for the worker executing
/// it, which knows the run from its job and acts as the run's user.
pub(crate) async fn load_for_worker(connection: &mut PgConnection, id: RunId) -> TransactionResult<Run> {
    let row = sqlx::query(concat!("SELECT ", run_columns!(), " FROM runs WHERE id = $1 FOR UPDATE"))
        .bind(id.get())
        .fetch_optional(connection)
        .await?;
    Ok(runtime_rows::run(&row.ok_or_else(|| StoreError::not_found(Entity::Run, id))?)?)
}

/// Reads run `id` again within the transaction that changed it.
pub(crate) async fn reload(connection: &mut PgConnection, id: RunId) -> TransactionResult<Run> {
    let row = sqlx::query(concat!("SELECT ", run_columns!(), " FROM runs WHERE id = $1"))
        .bind(id.get())
        .fetch_optional(connection)
        .await?;
    Ok(runtime_rows::run(&row.ok_or_else(|| StoreError::not_found(Entity::Run, id))?)?)
}

/// Inserts a queued run and enqueues the job that starts it.
async fn insert(
    transaction: &mut Transaction,
    user: UserId,
    run: &NewRun,
    now: DateTime<Utc>,
) -> TransactionResult<Run> {
    let limits = StoredLimits::of(&run.limits);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO runs (user_id, agent_id, action_id, status, instruction, max_steps, max_tokens, max_cost_usd, \
         max_wall_secs, created_at, updated_at) VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9, $9) \
         RETURNING id",
    )
    .bind(user.get())
    .bind(run.agent_id.get())
    .bind(run.action_id.map(ActionId::get))
    .bind(&run.instruction)
    .bind(limits.max_steps.map(to_integer))
    .bind(limits.max_tokens)
    .bind(limits.max_cost_usd)
    .bind(limits.max_wall_secs)
    .bind(now)
    .fetch_one(transaction.connection())
    .await?;
    let id = RunId(id);
    let job = enqueue_job(transaction, user, id, RunJobPurpose::Start, run.run_at, now).await?;
    transaction.record(
        user,
        now,
        NewEvent::RunQueued {
            run: id,
            agent_id: run.agent_id,
            action_id: run.action_id,
            job_id: job,
            queued: RunQueuedFor::Start { run_at: rules::initial_run_at(run.run_at, now) },
        },
    );
    reload(transaction.connection(), id).await
}

/// Enqueues the job that starts or resumes `run` and makes it the run's job.
pub(crate) async fn enqueue_job(
    transaction: &mut Transaction,
    user: UserId,
    run: RunId,
    purpose: RunJobPurpose,
    run_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> TransactionResult<JobId> {
    let outcomes = enqueue::enqueue(transaction, user, vec![decide::run_job(run, purpose, run_at)], now).await?;
    let job = decide::job_of_run(run, outcomes)?;
    sqlx::query("UPDATE runs SET job_id = $1 WHERE id = $2")
        .bind(job.id.get())
        .bind(run.get())
        .execute(transaction.connection())
        .await?;
    Ok(job.id)
}

/// The run's agent must be the user's and not archived (share-locked so it
/// cannot be archived before the run commits); its action, if any, the
/// agent's.
async fn check_run_subjects(transaction: &mut Transaction, user: UserId, run: &NewRun) -> TransactionResult<()> {
    let status = agent_status_for_share(transaction.connection(), user, run.agent_id).await?;
    rules::check_agent_takes(run.agent_id, status, NewWork::Run)?;
    if let Some(action_id) = run.action_id {
        let owner: Option<i64> = sqlx::query_scalar("SELECT agent_id FROM actions WHERE id = $1 AND user_id = $2")
            .bind(action_id.get())
            .bind(user.get())
            .fetch_optional(transaction.connection())
            .await?;
        match owner.map(AgentId) {
            None => return Err(crate::actions::decide::missing_action("action_id", action_id).into()),
            Some(owner) if owner != run.agent_id => {
                return Err(crate::actions::decide::action_of_other_agent(action_id, owner, run.agent_id).into());
            }
            Some(_) => {}
        }
    }
    Ok(())
}

pub(crate) async fn start(
    transaction: &mut Transaction,
    user: UserId,
    run: &NewRun,
    now: DateTime<Utc>,
) -> TransactionResult<Run> {
    check_run_subjects(transaction, user, run).await?;
    insert(transaction, user, run, now).await
}

pub(crate) async fn schedule(
    transaction: &mut Transaction,
    user: UserId,
    id: ActionId,
    run: &NewRun,
    now: DateTime<Utc>,
) -> TransactionResult<(Action, Run)> {
    decide::check_scheduled_run(id, run.action_id)?;
    // Locked, so two people scheduling the action at once start one run.
    let action = actions::load_for_update(transaction.connection(), user, id).await?;
    rules::check_action_transition(action.state, ActionState::Scheduled)?;
    check_run_subjects(transaction, user, run).await?;
    move_action(transaction, &action, ActionState::Scheduled, None, now).await?;
    let run = insert(transaction, user, run, now).await?;
    sqlx::query("UPDATE actions SET job_id = $1 WHERE id = $2")
        .bind(run.job_id.map(JobId::get))
        .bind(id.get())
        .execute(transaction.connection())
        .await?;
    Ok((actions::load(transaction.connection(), user, id).await?, run))
}

async fn begin(transaction: &mut Transaction, id: RunId, job: JobId, now: DateTime<Utc>) -> TransactionResult<Run> {
    let run = load_for_worker(transaction.connection(), id).await?;
    decide::check_not_finished(&run)?;
    // The job must be the run's user's (a wrong id is "not found", not a
    // foreign-key failure).
    job_admin::load(transaction.connection(), run.user_id, job).await?;
    // A model call the previous job never saw the end of is counted now.
    in_flight::settle(transaction, id, now).await?;
    sqlx::query(
        "UPDATE runs SET status = 'running', job_id = $1, started_at = coalesce(started_at, $2), updated_at = $2 \
         WHERE id = $3",
    )
    .bind(job.get())
    .bind(now)
    .bind(id.get())
    .execute(transaction.connection())
    .await?;
    if let Some(of) = lock_action_of(transaction, &run).await?
        && let Some(moved) = decide::action_move_on_begin(&of)
    {
        move_action(transaction, &of.action, moved.to, moved.reason.as_deref(), now).await?;
    }
    transaction.record(run.user_id, now, decide::started_event(&run, job));
    reload(transaction.connection(), id).await
}

/// Finishes `run` (locked by the caller) with what follows from it: pending
/// approvals withdrawn, the action completed or failed.
async fn finish(
    transaction: &mut Transaction,
    run: &Run,
    finish: RunFinish,
    now: DateTime<Utc>,
) -> TransactionResult<Run> {
    decide::check_not_finished(run)?;
    // A model call cut off by a cancel is counted before the run ends.
    in_flight::settle(transaction, run.id, now).await?;
    let finish = decide::storable_finish(finish);
    sqlx::query(
        "UPDATE runs SET status = 'finished', outcome = $1, output = $2, error = $3, finished_at = $4, \
         updated_at = $4 WHERE id = $5",
    )
    .bind(finish.outcome.as_str())
    .bind(&finish.output)
    .bind(&finish.error)
    .bind(now)
    .bind(run.id.get())
    .execute(transaction.connection())
    .await?;
    approvals::withdraw_pending(transaction, run, now).await?;
    if let Some(of) = lock_action_of(transaction, run).await?
        && let Some(moved) = decide::action_move_on_finish(&of, &finish)
    {
        move_action(transaction, &of.action, moved.to, moved.reason.as_deref(), now).await?;
    }
    let finished = reload(transaction.connection(), run.id).await?;
    transaction.record(run.user_id, now, decide::finished_event(run, &finish, &finished));
    Ok(finished)
}

/// Locks the action `run` works on, if any (after the run, the order every
/// operation on a run takes its locks in), and says whether the run is its
/// latest.
async fn lock_action_of(transaction: &mut Transaction, run: &Run) -> TransactionResult<Option<ActionOfRun>> {
    let Some(action_id) = run.action_id else { return Ok(None) };
    let action = actions::load_for_update(transaction.connection(), run.user_id, action_id).await?;
    let latest_run = is_latest_of_action(transaction.connection(), run, action_id).await?;
    Ok(Some(ActionOfRun { action, latest_run }))
}

/// Cancels the run's job if it may still run (so a worker holding it hears
/// at its next heartbeat), through the queue's own cancel.
async fn cancel_job_of(transaction: &mut Transaction, run: &Run, now: DateTime<Utc>) -> TransactionResult<()> {
    let Some(job_id) = run.job_id else { return Ok(()) };
    // Locked before its state is read, so a worker settling it meanwhile
    // cannot turn the cancel into a refusal.
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM jobs WHERE id = $1 FOR UPDATE")
        .bind(job_id.get())
        .fetch_optional(transaction.connection())
        .await?;
    let state: Option<JobState> = state.map(|state| state.parse()).transpose()?;
    if matches!(state, Some(JobState::Blocked | JobState::Queued | JobState::Running)) {
        job_admin::cancel(transaction, run.user_id, job_id, now).await?;
    }
    Ok(())
}

/// Stops `run` (locked by the caller) as a cancel does, recording `error`
/// as why (see [`decide::decide_stop`]).
pub(crate) async fn stop(
    transaction: &mut Transaction,
    run: &Run,
    error: &str,
    now: DateTime<Utc>,
) -> TransactionResult<Run> {
    apply_stop(transaction, run, decide::decide_stop(run, error), now).await
}

async fn apply_stop(
    transaction: &mut Transaction,
    run: &Run,
    stop: Stop,
    now: DateTime<Utc>,
) -> TransactionResult<Run> {
    match stop {
        Stop::AlreadyAsked => reload(transaction.connection(), run.id).await,
        Stop::Ask(event) => {
            sqlx::query("UPDATE runs SET cancel_requested = true, updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(run.id.get())
                .execute(transaction.connection())
                .await?;
            transaction.record(run.user_id, now, event);
            cancel_job_of(transaction, run, now).await?;
            reload(transaction.connection(), run.id).await
        }
        Stop::EndNow(cancelled) => {
            cancel_job_of(transaction, run, now).await?;
            finish(transaction, run, cancelled, now).await
        }
    }
}

pub(crate) async fn cancel(
    transaction: &mut Transaction,
    user: UserId,
    id: RunId,
    now: DateTime<Utc>,
) -> TransactionResult<Run> {
    let run = load_for_update(transaction.connection(), user, id).await?;
    let stop = decide::decide_cancel(&run)?;
    apply_stop(transaction, &run, stop, now).await
}

/// Locks the runs of `action` that are not finished and returns them,
/// oldest first. A run that finishes while this waits for its lock is left
/// out (PostgreSQL checks the condition again on the row it waited for).
pub(crate) async fn lock_unfinished_of_action(
    connection: &mut PgConnection,
    user: UserId,
    action: ActionId,
) -> TransactionResult<Vec<Run>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        run_columns!(),
        " FROM runs WHERE user_id = $1 AND action_id = $2 AND status <> 'finished' ORDER BY id FOR UPDATE"
    ))
    .bind(user.get())
    .bind(action.get())
    .fetch_all(connection)
    .await?;
    Ok(rows.iter().map(runtime_rows::run).collect::<Result<_, _>>()?)
}

/// Whether `run` is the latest run of `action`, the only one that moves it.
/// The caller holds the action's lock, so a run that scheduling adds is
/// either committed and seen here or not yet inserted.
async fn is_latest_of_action(connection: &mut PgConnection, run: &Run, action: ActionId) -> TransactionResult<bool> {
    let latest: Option<i64> = sqlx::query_scalar("SELECT max(id) FROM runs WHERE user_id = $1 AND action_id = $2")
        .bind(run.user_id.get())
        .bind(action.get())
        .fetch_one(connection)
        .await?;
    Ok(latest == Some(run.id.get()))
}

#[async_trait]
impl RunStore for PostgresStore {
    async fn start_run(&self, user: UserId, run: NewRun) -> Result<Run> {
        run.validate()?;
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let run = run.clone();
            Box::pin(async move { start(transaction, user, &run, now).await })
        })
        .await
    }

    async fn schedule_action(&self, user: UserId, id: ActionId, run: NewRun) -> Result<(Action, Run)> {
        run.validate()?;
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let run = run.clone();
            Box::pin(async move { schedule(transaction, user, id, &run, now).await })
        })
        .await
    }

    async fn get_run(&self, user: UserId, id: RunId) -> Result<Run> {
        load(&mut *self.pool.acquire().await?, user, id).await
    }

    async fn list_runs(&self, owners: Owners, filter: RunFilter) -> Result<Vec<Run>> {
        let statuses: Vec<&str> = filter.statuses.iter().map(|status| status.as_str()).collect();
        let rows = sqlx::query(AssertSqlSafe(format!(
            concat!(
                "SELECT ",
                run_columns!(),
                " FROM runs WHERE {owner} AND ($2::bigint IS NULL OR agent_id = $2) \
                  AND ($3::bigint IS NULL OR action_id = $3) AND (cardinality($4::text[]) = 0 OR status = ANY($4)) \
                  AND ($5::bigint IS NULL OR id < $5) ORDER BY id DESC LIMIT $6"
            ),
            owner = list_condition(owners, "$1::bigint")
        )))
        .bind(list_parameter(owners))
        .bind(filter.agent_id.map(AgentId::get))
        .bind(filter.action_id.map(ActionId::get))
        .bind(statuses)
        .bind(filter.before.map(RunId::get))
        .bind(to_bigint(filter.limit.clamp(1, MAX_PAGE)))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(runtime_rows::run).collect::<Result<_, _>>()?)
    }

    async fn begin_run(&self, id: RunId, job: JobId) -> Result<Run> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| Box::pin(async move { begin(transaction, id, job, now).await })).await
    }

    async fn append_step(&self, step: NewRunStep) -> Result<Run> {
        crate::runs::steps::check_step(&step)?;
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let step = step.clone();
            Box::pin(async move { run_steps::append_step(transaction, step, now).await })
        })
        .await
    }

    async fn model_call_started(&self, run: RunId, started: ModelCallStarted) -> Result<()> {
        self.write(Begin::Plain, |transaction| {
            let started = started.clone();
            Box::pin(async move { in_flight::record_started(transaction, run, &started).await })
        })
        .await
    }

    async fn model_call_failed(&self, run: RunId) -> Result<()> {
        self.write(Begin::Plain, |transaction| Box::pin(async move { in_flight::clear(transaction, run).await })).await
    }

    async fn list_steps(&self, user: UserId, run: RunId) -> Result<Vec<RunStep>> {
        run_steps::list_steps(&mut *self.pool.acquire().await?, user, run).await
    }

    async fn finish_run(&self, id: RunId, outcome: RunFinish) -> Result<Run> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let outcome = outcome.clone();
            Box::pin(async move {
                let run = load_for_worker(transaction.connection(), id).await?;
                finish(transaction, &run, outcome, now).await
            })
        })
        .await
    }

    async fn cancel_run(&self, user: UserId, id: RunId) -> Result<Run> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| Box::pin(async move { cancel(transaction, user, id, now).await })).await
    }

    async fn agent_spend(&self, user: UserId, agent: AgentId, since: Option<DateTime<Utc>>) -> Result<Spend> {
        run_steps::spend(&mut *self.pool.acquire().await?, user, agent, since).await
    }

    async fn agent_metrics(&self, user: UserId, agent: AgentId) -> Result<AgentMetrics> {
        let today = rules::start_of_utc_day(self.now());
        run_steps::metrics(&mut *self.pool.acquire().await?, user, agent, today).await
    }

    async fn request_approvals(&self, id: RunId, requests: Vec<NewApproval>) -> Result<Vec<Approval>> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let requests = requests.clone();
            Box::pin(async move { approvals::request(transaction, id, &requests, now).await })
        })
        .await
    }

    async fn get_approval(&self, user: UserId, id: ApprovalId) -> Result<Approval> {
        approvals::load(&mut *self.pool.acquire().await?, user, id).await
    }

    async fn list_approvals(&self, owners: Owners, filter: ApprovalFilter) -> Result<Vec<Approval>> {
        approvals::list(&self.pool, owners, &filter).await
    }
}
