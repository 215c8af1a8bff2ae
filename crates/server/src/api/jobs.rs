//! Jobs on the wire: enqueue requests (one or a batch), jobs as returned,
//! listing filters and counts. The attempt history is in [`super::job_history`].

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use steward_domain::job::defaults;
use steward_domain::{JobId, JobRef, NewJob, ValidationError};
use steward_runtime::usecases::start_time;
use utoipa::{IntoParams, ToSchema};

use super::enums::JobState;
use super::fields;
use super::job_history::{JobAttempt, JobTimings};

/// A job to enqueue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnqueueJobRequest {
    /// Default `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// A kind this server has a handler for (`noop`, `sleep`, `fail`, …).
    pub kind: String,
    /// Any JSON the handler understands; default `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// Higher runs first, −1000…1000; default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    /// Not started before this RFC 3339 time. Give this or `delay_ms`, not both.
    #[serde(default, deserialize_with = "fields::optional_time", skip_serializing_if = "Option::is_none")]
    pub run_at: Option<DateTime<Utc>>,
    /// Not started before this many milliseconds from now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// 1…100; default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// How long one attempt may run; default 300000 (5 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Enqueueing again with the same key returns the existing job (status 200, `created: false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// Jobs that must complete first: ids of stored jobs, or idempotency keys
    /// of stored jobs or of jobs in the same batch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<JobReference>,
}

impl EnqueueJobRequest {
    /// A request for a job of `kind` with every other field left to its default.
    pub fn new(kind: impl Into<String>) -> Self {
        EnqueueJobRequest {
            queue: None,
            kind: kind.into(),
            payload: None,
            priority: None,
            run_at: None,
            delay_ms: None,
            max_attempts: None,
            timeout_ms: None,
            idempotency_key: None,
            depends_on: Vec::new(),
        }
    }

    /// The domain job, with defaults filled in and `delay_ms` resolved
    /// against `now`. Field names in errors are relative to this job.
    pub fn into_new_job(self, now: DateTime<Utc>) -> Result<NewJob, ValidationError> {
        let run_at = start_time("run_at", self.run_at, self.delay_ms, now)?;
        Ok(NewJob {
            queue: self.queue.unwrap_or_else(|| defaults::QUEUE.to_string()),
            kind: self.kind,
            payload: self.payload.unwrap_or_else(|| Value::Object(serde_json::Map::new())),
            priority: self.priority.unwrap_or(defaults::PRIORITY),
            run_at,
            max_attempts: self.max_attempts.unwrap_or(defaults::MAX_ATTEMPTS),
            timeout: self.timeout_ms.map_or(defaults::TIMEOUT, Duration::from_millis),
            idempotency_key: self.idempotency_key,
            depends_on: self.depends_on.into_iter().map(JobRef::from).collect(),
        })
    }
}

/// A dependency: a job id (a number) or an idempotency key (a string).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(untagged)]
pub enum JobReference {
    Id(i64),
    Key(String),
}

impl From<JobReference> for JobRef {
    fn from(reference: JobReference) -> Self {
        match reference {
            JobReference::Id(id) => JobRef::Id(JobId(id)),
            JobReference::Key(key) => JobRef::Key(key),
        }
    }
}

impl fmt::Display for JobReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobReference::Id(id) => write!(f, "{id}"),
            JobReference::Key(key) => write!(f, "{key:?}"),
        }
    }
}

/// Written by hand so a wrong type gets a message naming both accepted forms
/// (an untagged enum would only say "did not match any variant").
impl<'de> Deserialize<'de> for JobReference {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ReferenceVisitor;

        impl Visitor<'_> for ReferenceVisitor {
            type Value = JobReference;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a job id (a positive integer) or an idempotency key (a string)")
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<JobReference, E> {
                Ok(JobReference::Id(value))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<JobReference, E> {
                i64::try_from(value)
                    .map(JobReference::Id)
                    .map_err(|_| E::custom(format!("job id {value} is too large")))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<JobReference, E> {
                Ok(JobReference::Key(value.to_string()))
            }
        }

        deserializer.deserialize_any(ReferenceVisitor)
    }
}

/// Several jobs enqueued atomically: all are stored, or none is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnqueueBatchRequest {
    /// 1…1000 jobs; `depends_on` may name jobs of the same batch by key.
    pub jobs: Vec<EnqueueJobRequest>,
}

/// One enqueued job, and whether it is new (`created`) or an existing job
/// returned for its idempotency key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EnqueuedJob {
    pub created: bool,
    pub job: JobResponse,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EnqueueBatchResponse {
    /// In the order of the request.
    pub jobs: Vec<EnqueuedJob>,
    /// How many jobs are new.
    pub created: usize,
    /// How many were already stored under their idempotency key.
    pub existing: usize,
}

/// A job as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobResponse {
    #[schema(value_type = i64)]
    pub id: JobId,
    pub queue: String,
    pub kind: String,
    pub payload: Value,
    pub priority: i32,
    pub state: JobState,
    /// Why the job is in its state when that is not obvious
    /// (`requested`, `dependency_failed`, `permanent_error`, `out_of_attempts`).
    pub state_reason: Option<String>,
    /// Not started before this time (also the time of the next retry).
    pub run_at: DateTime<Utc>,
    /// Attempts started so far.
    pub attempts: u32,
    pub max_attempts: u32,
    pub timeout_ms: u64,
    pub idempotency_key: Option<String>,
    #[schema(value_type = Vec<i64>)]
    pub depends_on: Vec<JobId>,
    /// Dependencies not completed yet; the job is `blocked` while above zero.
    pub pending_dependencies: u32,
    /// The worker holding the job's lease while it runs.
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub result: Option<Value>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the latest attempt started.
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<steward_domain::Job> for JobResponse {
    fn from(job: steward_domain::Job) -> Self {
        JobResponse {
            id: job.id,
            queue: job.queue,
            kind: job.kind,
            payload: job.payload,
            priority: job.priority,
            state: job.state.into(),
            state_reason: job.state_reason,
            run_at: job.run_at,
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            timeout_ms: u64::try_from(job.timeout.as_millis()).unwrap_or(u64::MAX),
            idempotency_key: job.idempotency_key,
            depends_on: job.depends_on,
            pending_dependencies: job.pending_dependencies,
            lease_owner: job.lease_owner,
            lease_expires_at: job.lease_expires_at,
            result: job.result,
            last_error: job.last_error,
            created_at: job.created_at,
            updated_at: job.updated_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
        }
    }
}

/// A job with the history of its attempts and how long it waited and ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobDetailResponse {
    #[serde(flatten)]
    pub job: JobResponse,
    /// Every attempt, oldest first (a retry by hand starts counting at 1 again).
    pub attempt_history: Vec<JobAttempt>,
    pub timings: JobTimings,
}

/// How many jobs are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JobCounts {
    pub blocked: u64,
    pub queued: u64,
    pub running: u64,
    pub completed: u64,
    pub dead: u64,
    pub cancelled: u64,
    pub total: u64,
}

impl From<&steward_store::JobCounts> for JobCounts {
    fn from(counts: &steward_store::JobCounts) -> Self {
        use steward_domain::JobState as State;
        let count = |state: State| counts.get(&state).copied().unwrap_or(0);
        JobCounts {
            blocked: count(State::Blocked),
            queued: count(State::Queued),
            running: count(State::Running),
            completed: count(State::Completed),
            dead: count(State::Dead),
            cancelled: count(State::Cancelled),
            total: counts.values().sum(),
        }
    }
}

impl JobCounts {
    pub fn get(&self, state: JobState) -> u64 {
        match state {
            JobState::Blocked => self.blocked,
            JobState::Queued => self.queued,
            JobState::Running => self.running,
            JobState::Completed => self.completed,
            JobState::Dead => self.dead,
            JobState::Cancelled => self.cancelled,
        }
    }
}

/// A page of jobs, newest first, with the counts by state of every job
/// matching the queue and kind filters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobListResponse {
    pub jobs: Vec<JobResponse>,
    pub counts: JobCounts,
    /// Pass as `before` to get the next (older) page; null on the last page.
    #[schema(value_type = Option<i64>)]
    pub next_before: Option<JobId>,
}

/// Filters and paging of `GET /jobs`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobListQuery {
    /// Only jobs in these states: repeat the parameter or separate with commas.
    #[param(value_type = Option<Vec<JobState>>, style = Form, explode)]
    pub state: Vec<JobState>,
    pub queue: Option<String>,
    pub kind: Option<String>,
    /// Only jobs with a smaller id (the `next_before` of the previous page).
    #[param(value_type = Option<i64>)]
    pub before: Option<JobId>,
    /// 1…1000, default 50.
    pub limit: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    #[test]
    fn references_are_ids_or_keys_and_anything_else_is_explained() {
        let references: Vec<JobReference> = serde_json::from_value(json!([4, "build"])).unwrap();
        assert_eq!(references, vec![JobReference::Id(4), JobReference::Key("build".into())]);
        let error = serde_json::from_value::<Vec<JobReference>>(json!([true])).unwrap_err();
        assert!(error.to_string().contains("a job id (a positive integer) or an idempotency key"), "{error}");
    }

    #[test]
    fn defaults_fill_what_was_left_out_and_delays_count_from_now() {
        let now = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        let job =
            EnqueueJobRequest { delay_ms: Some(1500), ..EnqueueJobRequest::new("noop") }.into_new_job(now).unwrap();
        assert_eq!(job.queue, "default");
        assert_eq!(job.payload, json!({}));
        assert_eq!(job.run_at, Some(now + chrono::Duration::milliseconds(1500)));
        assert_eq!(job.max_attempts, defaults::MAX_ATTEMPTS);

        let both = EnqueueJobRequest { delay_ms: Some(1), run_at: Some(now), ..EnqueueJobRequest::new("noop") };
        assert_eq!(both.into_new_job(now).unwrap_err().field, "delay_ms");
        let far = EnqueueJobRequest { delay_ms: Some(u64::MAX), ..EnqueueJobRequest::new("noop") };
        assert_eq!(far.into_new_job(now).unwrap_err().field, "delay_ms");
    }
}
