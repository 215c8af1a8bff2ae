//! The durable job queue's operations: enqueue, claim with a lease, heartbeat,
//! settle (complete or fail), cancel, retry, reclaim expired leases.
//!
//! Workers are identified by a `worker_id` and hold a job's lease for one
//! attempt; the attempt number doubles as a fencing token, so a worker whose
//! lease expired and whose job was claimed again cannot settle the new
//! attempt.

pub(crate) mod decide;
pub(crate) mod listing;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use std::collections::BTreeMap;
use std::time::Duration;
use steward_domain::access::Owners;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use steward_domain::{Event, Job, JobId, JobState, NewJob, UserId};

use crate::Result;

/// One job of an enqueue request, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct EnqueueOutcome {
    pub job: Job,
    /// False when a job with the same idempotency key already existed and was
    /// returned instead.
    pub created: bool,
}

/// A request for up to `limit` ready jobs.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimRequest {
    pub worker_id: String,
    pub limit: usize,
    /// How long the lease lasts unless renewed by a heartbeat.
    pub lease: Duration,
    /// Only these queues; `None` means every queue.
    pub queues: Option<Vec<String>>,
    /// Concurrency limits: at most this many running jobs in the named queue,
    /// counted across all workers sharing the database.
    pub queue_limits: BTreeMap<String, u32>,
    /// Results of earlier jobs, settled in the same transaction before
    /// claiming (saves a round trip per batch).
    pub settlements: Vec<Settlement>,
}

impl ClaimRequest {
    pub fn new(worker_id: impl Into<String>, limit: usize, lease: Duration) -> Self {
        ClaimRequest {
            worker_id: worker_id.into(),
            limit,
            lease,
            queues: None,
            queue_limits: BTreeMap::new(),
            settlements: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClaimResponse {
    pub jobs: Vec<ClaimedJob>,
    /// One outcome per settlement of the request, in order.
    pub settled: Vec<SettleOutcome>,
    /// The earliest `run_at` of a queued job that is not ready yet, so the
    /// caller can sleep exactly until then.
    pub next_run_at: Option<DateTime<Utc>>,
}

/// A job handed to a worker for one attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimedJob {
    pub id: JobId,
    pub user_id: UserId,
    pub queue: String,
    pub kind: String,
    pub payload: Value,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub max_attempts: u32,
    pub timeout: Duration,
    pub idempotency_key: Option<String>,
    pub lease_expires_at: DateTime<Utc>,
    /// When the job became due (its `run_at`: the enqueue time, unless it
    /// was delayed or is being retried); claimed minus this is how long it
    /// waited for a worker.
    pub ready_at: DateTime<Utc>,
}

impl ClaimedJob {
    pub fn lease(&self) -> LeaseRef {
        LeaseRef { job_id: self.id, attempt: self.attempt }
    }
}

/// Names one attempt of one job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LeaseRef {
    pub job_id: JobId,
    pub attempt: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum JobOutcome {
    Completed { result: Value },
    Failed { error: String, retry: RetryDecision },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RetryDecision {
    /// Dead at once, whatever attempts are left.
    Permanent,
    /// Retried while attempts are left, after `after` or the exponential
    /// backoff when `None`.
    Retryable { after: Option<Duration> },
}

/// The result of one attempt, reported by the worker that holds its lease.
#[derive(Clone, Debug, PartialEq)]
pub struct Settlement {
    pub lease: LeaseRef,
    pub worker_id: String,
    pub outcome: JobOutcome,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettleOutcome {
    /// Recorded; the job is now in this state (`queued` means a retry is scheduled).
    Applied(JobState),
    /// The worker no longer holds the lease (it expired, or the job was
    /// cancelled); nothing was changed.
    LeaseLost,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseStatus {
    Extended {
        until: DateTime<Utc>,
    },
    /// The job was cancelled; the worker should stop it.
    Cancelled,
    /// The lease is gone (expired and reclaimed); the worker should stop.
    Lost,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobFilter {
    /// Empty means every state.
    pub states: Vec<JobState>,
    pub queue: Option<String>,
    pub kind: Option<String>,
    /// Only jobs with a smaller id (newest first paging).
    pub before: Option<JobId>,
    pub limit: usize,
}

/// How many jobs are in each state.
pub type JobCounts = BTreeMap<JobState, u64>;

#[async_trait]
pub trait JobQueue {
    /// Enqueues a batch atomically: either every job is stored (or found by
    /// its idempotency key) or nothing is, with an error naming the bad field
    /// (`jobs[2].depends_on[0]`).
    async fn enqueue(&self, user: UserId, jobs: Vec<NewJob>) -> Result<Vec<EnqueueOutcome>>;

    /// Settles `request.settlements`, then claims up to `request.limit` ready
    /// jobs in priority order, respecting queue concurrency limits.
    async fn claim(&self, request: ClaimRequest) -> Result<ClaimResponse>;

    /// Records the results of attempts, in one transaction.
    async fn settle(&self, settlements: Vec<Settlement>) -> Result<Vec<SettleOutcome>>;

    /// Extends the leases a worker holds; tells it which jobs to stop.
    async fn heartbeat(&self, worker_id: &str, leases: Vec<LeaseRef>, lease: Duration) -> Result<Vec<LeaseStatus>>;

    /// Gives running jobs back to the queue without counting the attempt (a
    /// worker shutting down before they finished). The attempt number is
    /// reused by the next claim, so a worker must forget a lease it released.
    async fn release(&self, worker_id: &str, leases: Vec<LeaseRef>) -> Result<usize>;

    /// Requeues (or kills, when out of attempts) running jobs whose lease
    /// expired before `now`; returns how many.
    async fn reclaim_expired_leases(&self) -> Result<usize>;

    /// At start-up: takes back jobs left running by a previous process that
    /// cannot be alive any more. On SQLite the store holds the database
    /// exclusively, so every running job is abandoned; on PostgreSQL other
    /// nodes may be alive, so only expired leases are reclaimed.
    async fn recover_abandoned_jobs(&self) -> Result<usize>;

    /// Cancels a blocked, queued or running job (and, transitively, the jobs
    /// depending on it). A running job's worker learns at its next heartbeat.
    async fn cancel_job(&self, user: UserId, id: JobId) -> Result<Job>;

    /// Puts a dead or cancelled job back in the queue with fresh attempts,
    /// and restores the dependents that were cancelled because of it.
    async fn retry_job(&self, user: UserId, id: JobId) -> Result<Job>;

    async fn get_job(&self, user: UserId, id: JobId) -> Result<Job>;

    /// Jobs matching `filter`, newest first.
    async fn list_jobs(&self, owners: Owners, filter: JobFilter) -> Result<Vec<Job>>;

    /// Counts by state of the jobs matching the queue and kind of `filter`
    /// (its states and paging are ignored).
    async fn count_jobs(&self, owners: Owners, filter: JobFilter) -> Result<JobCounts>;

    /// The job's events, oldest first (its history of attempts).
    async fn job_events(&self, user: UserId, id: JobId) -> Result<Vec<Event>>;
}
