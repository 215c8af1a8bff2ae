//! The person side of the queue on SQLite: cancel, retry, and reading jobs.

use crate::ownership::{list_condition, list_parameter};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use steward_domain::access::Owners;
use steward_domain::event::{CancelCause, RetryCause};
use steward_domain::job::cancel_reason;
use steward_domain::{Event, Job, JobChange, JobEvent, JobId, JobState, UserId};

use crate::events::sqlite::append;
use crate::jobs::listing::{self, StatePath};
use crate::jobs::sqlite::dependents::{cancel_dependents, restore_dependents};
use crate::jobs::{JobCounts, JobFilter};
use crate::sqlite::connection::to_micros;
use crate::sqlite::rows::{self, EVENT_COLUMNS, JOB_COLUMNS, optional};
use crate::sqlite::writer::Effects;
use crate::{Entity, Result, StoreError, rules};

/// The most jobs one page lists.
const MAX_PAGE: usize = 1000;

pub(crate) fn load(connection: &Connection, user: UserId, id: JobId) -> Result<Job> {
    let mut statement =
        connection.prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1 AND user_id = ?2"))?;
    let job = optional(statement.query_row(params![id.get(), user.get()], rows::job))?
        .ok_or_else(|| StoreError::not_found(Entity::Job, id))?;
    let mut jobs = [job];
    rows::load_dependencies(connection, &mut jobs)?;
    let [job] = jobs;
    Ok(job)
}

pub(crate) fn cancel(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    id: JobId,
    now: DateTime<Utc>,
) -> Result<Job> {
    let job = load(connection, user, id)?;
    rules::check_cancellable(id, job.state)?;
    connection.execute(
        "UPDATE jobs SET state = 'cancelled', state_reason = ?1, lease_owner = NULL, lease_expires_at = NULL, \
         finished_at = ?2, updated_at = ?2 WHERE id = ?3",
        params![cancel_reason::REQUESTED, to_micros(now), id.get()],
    )?;
    let change = JobChange::Cancelled { from: job.state, cause: CancelCause::Requested { attempt: job.attempts } };
    append(connection, effects, user, now, JobEvent { job: id, change })?;
    cancel_dependents(connection, effects, id, now)?;
    load(connection, user, id)
}

pub(crate) fn retry(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    id: JobId,
    now: DateTime<Utc>,
) -> Result<Job> {
    let job = load(connection, user, id)?;
    rules::check_retriable(id, job.state)?;
    let dependencies: Vec<(i64, String)> = connection
        .prepare_cached(
            "SELECT j.id, j.state FROM job_dependencies d JOIN jobs j ON j.id = d.depends_on_id \
             WHERE d.job_id = ?1 ORDER BY j.id",
        )?
        .query_map([id.get()], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut pending = 0u32;
    for (dependency, state) in &dependencies {
        let state: JobState = state.parse()?;
        rules::check_dependency_of_retry(id, JobId(*dependency), state)?;
        if state != JobState::Completed {
            pending += 1;
        }
    }
    let state = if pending > 0 { JobState::Blocked } else { JobState::Queued };
    connection.execute(
        "UPDATE jobs SET state = ?1, attempts = 0, pending_dependencies = ?2, run_at = ?3, state_reason = NULL, \
         finished_at = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?3 WHERE id = ?4",
        params![state.as_str(), pending, to_micros(now), id.get()],
    )?;
    if state == JobState::Queued {
        effects.jobs_ready = true;
    }
    let cause = RetryCause::Requested { previous_attempts: job.attempts, last_error: job.last_error };
    append(
        connection,
        effects,
        user,
        now,
        JobEvent { job: id, change: JobChange::Retried { from: job.state, to: state, cause } },
    )?;
    restore_dependents(connection, effects, id, now)?;
    load(connection, user, id)
}

/// One page of jobs, newest first: one query per way into the table that
/// the requested states need (see [`crate::jobs::listing`]).
pub(crate) fn list(connection: &Connection, owners: Owners, filter: &JobFilter) -> Result<Vec<Job>> {
    let owner = list_condition(owners, "?1");
    let limit = filter.limit.clamp(1, MAX_PAGE);
    let mut pages = Vec::new();
    for path in listing::state_paths(&filter.states) {
        let mut statement = connection.prepare_cached(&list_sql(&owner, &path))?;
        let states: Vec<&str> = path.states.iter().map(|state| state.as_str()).collect();
        let page = statement
            .query_map(
                params![
                    list_parameter(owners),
                    serde_json::to_string(&states)?,
                    filter.queue,
                    filter.kind,
                    filter.before.map(JobId::get),
                    limit as i64
                ],
                rows::job,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        pages.push(page);
    }
    let mut jobs = listing::newest_first(pages, limit);
    rows::load_dependencies(connection, &mut jobs)?;
    Ok(jobs)
}

/// One listing query for one way in, `owner` as [`list`] makes it; then ?2
/// the states as a JSON array, ?3 queue, ?4 kind, ?5 before, ?6 limit.
/// Without statistics (Steward never runs ANALYZE) SQLite's planner may
/// prefer walking the whole table in id order to a partial index, so it is
/// told which index the way in was written for.
fn list_sql(owner: &str, path: &StatePath) -> String {
    let index = path.index.map(|index| format!("INDEXED BY {index}")).unwrap_or_default();
    let condition = path.condition;
    format!(
        "SELECT {JOB_COLUMNS} FROM jobs {index} WHERE {owner} AND {condition} \
         AND state IN (SELECT value FROM json_each(?2)) \
         AND (?3 IS NULL OR queue = ?3) AND (?4 IS NULL OR kind = ?4) AND (?5 IS NULL OR id < ?5) \
         ORDER BY id DESC LIMIT ?6"
    )
}

pub(crate) fn count(connection: &Connection, owners: Owners, filter: &JobFilter) -> Result<JobCounts> {
    let mut counts: JobCounts = JobState::ALL.into_iter().map(|state| (state, 0)).collect();
    let owner = list_condition(owners, "?1");
    let mut statement = connection.prepare_cached(&format!(
        "SELECT state, count(*) FROM jobs WHERE {owner} AND (?2 IS NULL OR queue = ?2) \
         AND (?3 IS NULL OR kind = ?3) GROUP BY state",
    ))?;
    let mut rows = statement.query(params![list_parameter(owners), filter.queue, filter.kind])?;
    while let Some(row) = rows.next()? {
        let state: String = row.get(0)?;
        let count: i64 = row.get(1)?;
        counts.insert(state.parse()?, u64::try_from(count).unwrap_or(0));
    }
    Ok(counts)
}

pub(crate) fn events(connection: &Connection, user: UserId, id: JobId) -> Result<Vec<Event>> {
    // Existence check first, so a missing job is "not found", not "no events".
    let exists: Option<i64> = optional(connection.query_row(
        "SELECT id FROM jobs WHERE id = ?1 AND user_id = ?2",
        params![id.get(), user.get()],
        |row| row.get(0),
    ))?;
    if exists.is_none() {
        return Err(StoreError::not_found(Entity::Job, id));
    }
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE subject = 'job' AND subject_id = ?1 AND user_id = ?2 ORDER BY id"
    ))?;
    let events =
        statement.query_map(params![id.get(), user.get()], rows::event)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What SQLite's planner does with each way in, on the real schema.
    fn plan(connection: &Connection, owners: Owners, states: &[JobState]) -> String {
        let [path] = listing::state_paths(states).try_into().unwrap_or_else(|paths| panic!("{paths:?}"));
        let sql = format!("EXPLAIN QUERY PLAN {}", list_sql(&list_condition(owners, "?1"), &path));
        let mut statement = connection.prepare(&sql).unwrap_or_else(|error| panic!("{sql}: {error}"));
        let details = statement
            .query_map(params![1, "[]", None::<String>, None::<String>, None::<i64>, 10], |row| row.get::<_, String>(3))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>());
        details.unwrap_or_else(|error| panic!("{sql}: {error}")).join("; ")
    }

    #[test]
    fn each_way_in_uses_the_index_meant_for_it() {
        let connection = crate::sqlite::connection::migrated_in_memory();
        for owners in [Owners::One(UserId::LOCAL_OWNER), Owners::Everyone] {
            let off_path = plan(&connection, owners, &[JobState::Dead, JobState::Blocked]);
            assert!(off_path.contains("USING INDEX jobs_off_path"), "{owners:?}: {off_path}");
            let queued = plan(&connection, owners, &[JobState::Queued]);
            assert!(queued.contains("USING INDEX jobs_ready"), "{owners:?}: {queued}");
            let running = plan(&connection, owners, &[JobState::Running]);
            assert!(running.contains("USING INDEX jobs_running"), "{owners:?}: {running}");
            // Completed jobs are most of the table: walked newest first.
            let completed = plan(&connection, owners, &[JobState::Completed]);
            assert!(completed.starts_with("SCAN jobs;"), "{owners:?}: {completed}");
        }
    }
}
