//! What an enqueue stores, decided once for both databases: the job row a
//! `NewJob` becomes and the event that records it. Each backend inserts
//! the row in its own dialect (one statement per job on SQLite, arrays
//! through `unnest` on PostgreSQL).

use chrono::{DateTime, Utc};
use steward_domain::{Job, JobChange, JobEvent, JobId, JobState, NewJob, UserId};

use std::time::Duration;

use steward_domain::dependency_graph::topological_order;
use steward_domain::{DeathReason, backoff};

use crate::jobs::RetryDecision;
use crate::{QueueSettings, StoreError, rules};

/// The job `job` becomes: blocked while `pending` of its dependencies are
/// not completed, queued otherwise, claimable from its `run_at` (or now).
pub(crate) fn new_job(
    id: JobId,
    user: UserId,
    job: NewJob,
    depends_on: Vec<JobId>,
    pending: u32,
    now: DateTime<Utc>,
) -> Job {
    Job {
        id,
        user_id: user,
        state: if pending > 0 { JobState::Blocked } else { JobState::Queued },
        run_at: rules::initial_run_at(job.run_at, now),
        queue: job.queue,
        kind: job.kind,
        payload: job.payload,
        priority: job.priority,
        attempts: 0,
        max_attempts: job.max_attempts,
        timeout: job.timeout,
        idempotency_key: job.idempotency_key,
        depends_on,
        pending_dependencies: pending,
        lease_owner: None,
        lease_expires_at: None,
        result: None,
        last_error: None,
        state_reason: None,
        created_at: now,
        updated_at: now,
        started_at: None,
        finished_at: None,
    }
}

/// The event that records a new job.
/// A new job's dependency once resolved: another new job of the same batch,
/// or a job already stored (with its state, to tell whether it is done).
#[derive(Clone, Copy)]
pub(crate) enum Dependency {
    /// Another new job of the batch, by index.
    InBatch(usize),
    Stored {
        id: JobId,
        state: JobState,
    },
}

/// The order in which a batch's new jobs are inserted: every job after the
/// batch jobs it depends on; a cycle is refused, naming its jobs.
pub(crate) fn insertion_order(jobs: &[NewJob], dependencies: &[Vec<Dependency>]) -> Result<Vec<usize>, StoreError> {
    let edges: Vec<Vec<usize>> = dependencies
        .iter()
        .map(|deps| {
            deps.iter()
                .filter_map(|dependency| match dependency {
                    Dependency::InBatch(index) => Some(*index),
                    Dependency::Stored { .. } => None,
                })
                .collect()
        })
        .collect();
    topological_order(&edges).map_err(|cycle| rules::name_cycle(jobs, &edges, &cycle))
}

pub(crate) fn enqueued(job: &Job) -> JobEvent {
    let change =
        JobChange::Enqueued { to: job.state, queue: job.queue.clone(), kind: job.kind.clone(), priority: job.priority };
    JobEvent { job: job.id, change }
}

/// How long a failed attempt waits before its retry, or `None` when the job
/// dies instead (a permanent error, or no attempts left).
pub(crate) fn retry_delay(
    retry: RetryDecision,
    attempt: u32,
    max_attempts: u32,
    settings: &QueueSettings,
) -> Option<Duration> {
    if attempt < max_attempts { requested_retry_delay(retry, attempt, settings) } else { None }
}

/// The delay a failure asks for if attempts are left: the one it names, or
/// the exponential backoff after `attempt`; `None` for a permanent failure.
pub(crate) fn requested_retry_delay(retry: RetryDecision, attempt: u32, settings: &QueueSettings) -> Option<Duration> {
    match retry {
        RetryDecision::Retryable { after } => Some(after.unwrap_or_else(|| {
            backoff::retry_delay(attempt, rand::Rng::random::<f64>(&mut rand::rng()), settings.retry_backoff_cap)
        })),
        RetryDecision::Permanent => None,
    }
}

/// Why a failed attempt killed its job (recorded in `state_reason`).
pub(crate) fn death_reason(retry: RetryDecision) -> DeathReason {
    if matches!(retry, RetryDecision::Permanent) { DeathReason::PermanentError } else { DeathReason::OutOfAttempts }
}
