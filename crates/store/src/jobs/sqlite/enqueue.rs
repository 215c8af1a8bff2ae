//! Enqueueing a batch of jobs on SQLite: idempotency keys, dependencies
//! resolved by id or key (across the batch too), cycles named, all or nothing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use steward_domain::{Job, JobId, JobRef, JobState, NewJob, UserId};

use crate::events::sqlite::append;
use crate::jobs::EnqueueOutcome;
use crate::jobs::decide::{self, Dependency};
use crate::sqlite::connection::to_micros;
use crate::sqlite::rows::{self, JOB_COLUMNS, optional};
use crate::sqlite::writer::Effects;
use crate::{Result, StoreError, rules};

pub(crate) fn enqueue(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    jobs: Vec<NewJob>,
    now: DateTime<Utc>,
) -> Result<Vec<EnqueueOutcome>> {
    rules::check_batch(&jobs)?;

    // Jobs whose idempotency key is already taken are returned as they are.
    let mut existing: Vec<Option<Job>> = Vec::with_capacity(jobs.len());
    for job in &jobs {
        existing.push(match &job.idempotency_key {
            Some(key) => find_by_key(connection, user, key)?,
            None => None,
        });
    }
    let batch_keys: HashMap<&str, usize> = jobs
        .iter()
        .enumerate()
        .filter(|(index, _)| existing[*index].is_none())
        .filter_map(|(index, job)| job.idempotency_key.as_deref().map(|key| (key, index)))
        .collect();

    let mut dependencies: Vec<Vec<Dependency>> = vec![Vec::new(); jobs.len()];
    for (index, job) in jobs.iter().enumerate() {
        if existing[index].is_some() {
            continue;
        }
        for (position, reference) in job.depends_on.iter().enumerate() {
            let field = format!("jobs[{index}].depends_on[{position}]");
            let dependency = resolve(connection, user, reference, &batch_keys, &field)?;
            if let Dependency::Stored { id, state } = dependency
                && let Some(error) = rules::dependency_can_never_complete(&field, id, state)
            {
                return Err(error);
            }
            dependencies[index].push(dependency);
        }
    }

    let order = decide::insertion_order(&jobs, &dependencies)?;

    let mut ids: Vec<Option<JobId>> = existing.iter().map(|job| job.as_ref().map(|job| job.id)).collect();
    let mut outcomes: Vec<Option<EnqueueOutcome>> =
        existing.into_iter().map(|job| job.map(|job| EnqueueOutcome { job, created: false })).collect();
    let mut jobs: Vec<Option<NewJob>> = jobs.into_iter().map(Some).collect();
    for index in order {
        if outcomes[index].is_some() {
            continue;
        }
        let Some(job) = jobs[index].take() else { continue };
        let mut depends_on = Vec::with_capacity(dependencies[index].len());
        let mut pending: u32 = 0;
        for dependency in &dependencies[index] {
            let (id, completed) = match *dependency {
                // Topological order stored it already; it is new, so not complete.
                Dependency::InBatch(other) => match ids[other] {
                    Some(id) => (id, false),
                    None => return Err(StoreError::Database("dependency inserted out of order".into())),
                },
                Dependency::Stored { id, state } => (id, state == JobState::Completed),
            };
            if !completed {
                pending += 1;
            }
            depends_on.push(id);
        }
        let stored = insert(connection, effects, user, job, depends_on, pending, now)?;
        ids[index] = Some(stored.id);
        outcomes[index] = Some(EnqueueOutcome { job: stored, created: true });
    }
    outcomes
        .into_iter()
        .map(|outcome| outcome.ok_or_else(|| StoreError::Database("a job of the batch was not stored".into())))
        .collect()
}

fn resolve(
    connection: &Connection,
    user: UserId,
    reference: &JobRef,
    batch_keys: &HashMap<&str, usize>,
    field: &str,
) -> Result<Dependency> {
    match reference {
        JobRef::Id(id) => {
            let state: Option<String> = optional(connection.query_row(
                "SELECT state FROM jobs WHERE id = ?1 AND user_id = ?2",
                params![id.get(), user.get()],
                |row| row.get(0),
            ))?;
            let state = state.ok_or_else(|| rules::missing_dependency_by_id(field, *id))?;
            Ok(Dependency::Stored { id: *id, state: state.parse()? })
        }
        JobRef::Key(key) => {
            if let Some(index) = batch_keys.get(key.as_str()) {
                return Ok(Dependency::InBatch(*index));
            }
            match find_by_key(connection, user, key)? {
                Some(job) => Ok(Dependency::Stored { id: job.id, state: job.state }),
                None => Err(rules::missing_dependency_by_key(field, key)),
            }
        }
    }
}

fn find_by_key(connection: &Connection, user: UserId, key: &str) -> Result<Option<Job>> {
    let mut statement = connection
        .prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE user_id = ?1 AND idempotency_key = ?2"))?;
    let Some(job) = optional(statement.query_row(params![user.get(), key], rows::job))? else {
        return Ok(None);
    };
    let mut jobs = [job];
    rows::load_dependencies(connection, &mut jobs)?;
    let [job] = jobs;
    Ok(Some(job))
}

fn insert(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    job: NewJob,
    depends_on: Vec<JobId>,
    pending: u32,
    now: DateTime<Utc>,
) -> Result<Job> {
    // The row is decided first; its id is the one SQLite assigns.
    let mut job = decide::new_job(JobId(0), user, job, depends_on, pending, now);
    let payload = serde_json::to_string(&job.payload)?;
    let timeout_ms = i64::try_from(job.timeout.as_millis()).unwrap_or(i64::MAX);
    let mut statement = connection.prepare_cached(
        "INSERT INTO jobs (user_id, queue, kind, payload, priority, state, run_at, max_attempts, timeout_ms, \
         idempotency_key, pending_dependencies, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
    )?;
    statement.execute(params![
        user.get(),
        job.queue,
        job.kind,
        payload,
        job.priority,
        job.state.as_str(),
        to_micros(job.run_at),
        job.max_attempts,
        timeout_ms,
        job.idempotency_key,
        job.pending_dependencies,
        to_micros(now),
    ])?;
    job.id = JobId(connection.last_insert_rowid());
    for dependency in &job.depends_on {
        connection
            .prepare_cached("INSERT INTO job_dependencies (job_id, depends_on_id) VALUES (?1, ?2)")?
            .execute(params![job.id.get(), dependency.get()])?;
        connection
            .prepare_cached("UPDATE jobs SET has_dependents = 1 WHERE id = ?1 AND has_dependents = 0")?
            .execute([dependency.get()])?;
    }
    if job.state == JobState::Queued {
        effects.jobs_ready = true;
    }
    append(connection, effects, user, now, decide::enqueued(&job))?;
    Ok(job)
}
