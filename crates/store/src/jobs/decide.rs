//! What an enqueue stores, decided once for both databases: the job row a
//! `NewJob` becomes and the event that records it. Each backend inserts
//! the row in its own dialect (one statement per job on SQLite, arrays
//! through `unnest` on PostgreSQL).

use chrono::{DateTime, Utc};
use steward_domain::{Job, JobChange, JobEvent, JobId, JobState, NewJob, UserId};

use crate::rules;

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
pub(crate) fn enqueued(job: &Job) -> JobEvent {
    let change =
        JobChange::Enqueued { to: job.state, queue: job.queue.clone(), kind: job.kind.clone(), priority: job.priority };
    JobEvent { job: job.id, change }
}
