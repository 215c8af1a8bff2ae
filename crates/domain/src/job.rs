//! Jobs of the durable queue: their states, the legal transitions between
//! them, and the validation of a job before it is enqueued.
//!
//! ```text
//!             unblock                claim                complete
//!   blocked ──────────▶ queued ─────────────▶ running ─────────────▶ completed
//!      │                 ▲  ▲                  │ │ │
//!      │                 │  └──────────────────┘ │ │  fail (retryable, attempts left),
//!      │                 │                       │ │  lease expired (attempts left),
//!      │                 │                       │ │  released at shutdown
//!      │                 │                       │ └─die (permanent error, or out of attempts)──▶ dead
//!      │                 │                       └─cancel──────────────────────────────────────▶ cancelled
//!      └─cancel (by request, or a dependency died or was cancelled)────────────────────────────▶ cancelled
//!   dead, cancelled ──retry──▶ blocked or queued
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::ids::{JobId, UserId};
use crate::validation::{ValidationError, check_machine_name, check_optional_text};

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobState {
    /// Waiting for dependencies to complete.
    Blocked,
    /// Ready to be claimed once `run_at` has passed.
    Queued,
    /// Claimed by a worker holding a lease.
    Running,
    /// Finished successfully. Terminal.
    Completed,
    /// Failed permanently or ran out of attempts; can be retried by hand.
    Dead,
    /// Cancelled by a person or because a dependency failed; can be retried.
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 6] = [
        JobState::Blocked,
        JobState::Queued,
        JobState::Running,
        JobState::Completed,
        JobState::Dead,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Blocked => "blocked",
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Completed => "completed",
            JobState::Dead => "dead",
            JobState::Cancelled => "cancelled",
        }
    }

    /// No further transition happens without a person asking for a retry.
    pub fn is_finished(self) -> bool {
        matches!(self, JobState::Completed | JobState::Dead | JobState::Cancelled)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL.into_iter().find(|state| state.as_str() == s).ok_or_else(|| {
            ValidationError::new(
                "state",
                format!(
                    "unknown job state {s:?}; expected one of blocked, queued, running, completed, dead, cancelled"
                ),
            )
        })
    }
}

/// Something that happens to a job. Each one is recorded as an event whose
/// kind is `job.<transition>` and whose data names the `from` and `to` states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobTransition {
    Enqueue,
    Unblock,
    Claim,
    Complete,
    /// A failed attempt that will be retried.
    Fail,
    /// A failed attempt after which the job gives up.
    Die,
    Cancel,
    Retry,
    ExpireLease,
    Release,
}

impl JobTransition {
    pub const ALL: [JobTransition; 10] = [
        JobTransition::Enqueue,
        JobTransition::Unblock,
        JobTransition::Claim,
        JobTransition::Complete,
        JobTransition::Fail,
        JobTransition::Die,
        JobTransition::Cancel,
        JobTransition::Retry,
        JobTransition::ExpireLease,
        JobTransition::Release,
    ];

    /// The event kind that records this transition.
    pub fn event_kind(self) -> &'static str {
        match self {
            JobTransition::Enqueue => "job.enqueued",
            JobTransition::Unblock => "job.unblocked",
            JobTransition::Claim => "job.started",
            JobTransition::Complete => "job.completed",
            JobTransition::Fail => "job.failed",
            JobTransition::Die => "job.dead",
            JobTransition::Cancel => "job.cancelled",
            JobTransition::Retry => "job.retried",
            JobTransition::ExpireLease => "job.lease_expired",
            JobTransition::Release => "job.released",
        }
    }

    pub fn from_event_kind(kind: &str) -> Option<JobTransition> {
        JobTransition::ALL.into_iter().find(|t| t.event_kind() == kind)
    }

    /// Whether this transition may move a job from `from` (`None` for a job
    /// that does not exist yet) to `to`. The store implements these moves in
    /// SQL; this table is the specification they are tested against.
    pub fn allows(self, from: Option<JobState>, to: JobState) -> bool {
        use JobState::*;
        match (self, from) {
            (JobTransition::Enqueue, None) => matches!(to, Blocked | Queued),
            (JobTransition::Enqueue, Some(_)) => false,
            (_, None) => false,
            (JobTransition::Unblock, Some(from)) => from == Blocked && to == Queued,
            (JobTransition::Claim, Some(from)) => from == Queued && to == Running,
            (JobTransition::Complete, Some(from)) => from == Running && to == Completed,
            (JobTransition::Fail, Some(from)) => from == Running && to == Queued,
            (JobTransition::Die, Some(from)) => from == Running && to == Dead,
            (JobTransition::ExpireLease, Some(from)) => from == Running && to == Queued,
            (JobTransition::Release, Some(from)) => from == Running && to == Queued,
            (JobTransition::Cancel, Some(from)) => matches!(from, Blocked | Queued | Running) && to == Cancelled,
            (JobTransition::Retry, Some(from)) => matches!(from, Dead | Cancelled) && matches!(to, Blocked | Queued),
        }
    }
}

/// Why a job was cancelled, recorded in `state_reason`.
pub mod cancel_reason {
    /// A job this one depends on died or was cancelled, so this one can never run.
    pub const DEPENDENCY_FAILED: &str = "dependency_failed";
    /// Someone asked for it through the API or CLI.
    pub const REQUESTED: &str = "requested";
}

/// Why a job died, recorded in `state_reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeathReason {
    /// The worker said retrying cannot help.
    PermanentError,
    /// Its last allowed attempt failed or was lost.
    OutOfAttempts,
}

impl DeathReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DeathReason::PermanentError => "permanent_error",
            DeathReason::OutOfAttempts => "out_of_attempts",
        }
    }
}

/// A job as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub user_id: UserId,
    pub queue: String,
    pub kind: String,
    pub payload: Value,
    pub priority: i32,
    pub state: JobState,
    /// Not claimed before this moment (also the time of the next retry).
    pub run_at: DateTime<Utc>,
    /// Attempts started so far; never more than `max_attempts`.
    pub attempts: u32,
    pub max_attempts: u32,
    pub timeout: Duration,
    pub idempotency_key: Option<String>,
    pub depends_on: Vec<JobId>,
    /// Dependencies not yet completed; the job is `blocked` while above zero.
    pub pending_dependencies: u32,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub result: Option<Value>,
    pub last_error: Option<String>,
    /// Why the job is in its state when that is not obvious (`dependency_failed`).
    pub state_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A reference to a job in `depends_on`: its id, or the idempotency key of a
/// job enqueued earlier or earlier-or-later in the same batch.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum JobRef {
    Id(JobId),
    Key(String),
}

impl fmt::Display for JobRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobRef::Id(id) => write!(f, "job {id}"),
            JobRef::Key(key) => write!(f, "job {key:?}"),
        }
    }
}

/// Limits on what may be enqueued.
pub mod limits {
    use std::time::Duration;

    pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;
    pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 200;
    pub const MAX_DEPENDENCIES: usize = 256;
    pub const MAX_BATCH: usize = 1000;
    pub const PRIORITY_RANGE: std::ops::RangeInclusive<i32> = -1000..=1000;
    pub const MAX_ATTEMPTS_RANGE: std::ops::RangeInclusive<u32> = 1..=100;
    pub const MIN_TIMEOUT: Duration = Duration::from_millis(1);
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);
}

/// Defaults applied when a field of [`NewJob`] is left out.
pub mod defaults {
    use std::time::Duration;

    pub const QUEUE: &str = "default";
    pub const PRIORITY: i32 = 0;
    pub const MAX_ATTEMPTS: u32 = 5;
    pub const TIMEOUT: Duration = Duration::from_secs(300);
}

/// A job to enqueue.
#[derive(Clone, Debug, PartialEq)]
pub struct NewJob {
    pub queue: String,
    pub kind: String,
    pub payload: Value,
    /// Higher runs first.
    pub priority: i32,
    /// `None` means now.
    pub run_at: Option<DateTime<Utc>>,
    pub max_attempts: u32,
    pub timeout: Duration,
    /// Enqueueing again with the same key returns the existing job.
    pub idempotency_key: Option<String>,
    pub depends_on: Vec<JobRef>,
}

impl NewJob {
    /// A job of `kind` on the default queue with default settings.
    pub fn new(kind: impl Into<String>, payload: Value) -> Self {
        NewJob {
            queue: defaults::QUEUE.to_string(),
            kind: kind.into(),
            payload,
            priority: defaults::PRIORITY,
            run_at: None,
            max_attempts: defaults::MAX_ATTEMPTS,
            timeout: defaults::TIMEOUT,
            idempotency_key: None,
            depends_on: Vec::new(),
        }
    }

    pub fn with_queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = queue.into();
        self
    }

    pub fn with_priority(mut self, priority: i32) -> Self {
        self.priority = priority;
        self
    }

    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn with_run_at(mut self, run_at: DateTime<Utc>) -> Self {
        self.run_at = Some(run_at);
        self
    }

    pub fn depending_on(mut self, dependency: JobRef) -> Self {
        self.depends_on.push(dependency);
        self
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_machine_name("queue", &self.queue)?;
        check_machine_name("kind", &self.kind)?;
        let payload_bytes = serde_json::to_vec(&self.payload).map(|bytes| bytes.len()).unwrap_or(usize::MAX);
        if payload_bytes > limits::MAX_PAYLOAD_BYTES {
            return Err(ValidationError::new(
                "payload",
                format!("is {payload_bytes} bytes; the limit is {} bytes", limits::MAX_PAYLOAD_BYTES),
            ));
        }
        if contains_nul(&self.payload) {
            // PostgreSQL's jsonb cannot store U+0000; refusing it on both
            // backends keeps them interchangeable.
            return Err(ValidationError::new("payload", "must not contain NUL characters (\\u0000)"));
        }
        if !limits::PRIORITY_RANGE.contains(&self.priority) {
            return Err(ValidationError::new(
                "priority",
                format!("must be between {} and {}", limits::PRIORITY_RANGE.start(), limits::PRIORITY_RANGE.end()),
            ));
        }
        if !limits::MAX_ATTEMPTS_RANGE.contains(&self.max_attempts) {
            return Err(ValidationError::new(
                "max_attempts",
                format!(
                    "must be between {} and {}",
                    limits::MAX_ATTEMPTS_RANGE.start(),
                    limits::MAX_ATTEMPTS_RANGE.end()
                ),
            ));
        }
        if self.timeout < limits::MIN_TIMEOUT || self.timeout > limits::MAX_TIMEOUT {
            return Err(ValidationError::new("timeout_ms", "must be between 1 ms and 7 days"));
        }
        if let Some(key) = &self.idempotency_key {
            if key.is_empty() {
                return Err(ValidationError::new("idempotency_key", "must not be empty when given"));
            }
            check_optional_text("idempotency_key", key, limits::MAX_IDEMPOTENCY_KEY_CHARS)?;
        }
        if self.depends_on.len() > limits::MAX_DEPENDENCIES {
            return Err(ValidationError::new(
                "depends_on",
                format!("has {} entries; the limit is {}", self.depends_on.len(), limits::MAX_DEPENDENCIES),
            ));
        }
        for (index, dependency) in self.depends_on.iter().enumerate() {
            let field = format!("depends_on[{index}]");
            match dependency {
                JobRef::Id(id) if id.get() <= 0 => {
                    return Err(ValidationError::new(field, "job ids are positive integers"));
                }
                JobRef::Key(key) if key.is_empty() => {
                    return Err(ValidationError::new(field, "an idempotency key must not be empty"));
                }
                JobRef::Key(key) if self.idempotency_key.as_deref() == Some(key.as_str()) => {
                    return Err(ValidationError::new(
                        field,
                        format!("dependency cycle: {key:?} → {key:?} (a job cannot depend on itself)"),
                    ));
                }
                _ => {}
            }
            if self.depends_on[..index].contains(dependency) {
                return Err(ValidationError::new(field, format!("{dependency} is listed twice")));
            }
        }
        Ok(())
    }
}

/// Whether a NUL character occurs in any string or key of `value`.
fn contains_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map.iter().any(|(key, item)| key.contains('\0') || contains_nul(item)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn transition_table_matches_the_diagram() {
        use JobState::*;
        assert!(JobTransition::Enqueue.allows(None, Blocked));
        assert!(JobTransition::Enqueue.allows(None, Queued));
        assert!(!JobTransition::Enqueue.allows(None, Running));
        assert!(JobTransition::Claim.allows(Some(Queued), Running));
        assert!(!JobTransition::Claim.allows(Some(Blocked), Running));
        assert!(JobTransition::Fail.allows(Some(Running), Queued));
        assert!(!JobTransition::Fail.allows(Some(Running), Dead));
        assert!(JobTransition::Die.allows(Some(Running), Dead));
        assert!(!JobTransition::Complete.allows(Some(Queued), Completed));
        assert!(!JobTransition::Cancel.allows(Some(Completed), Cancelled));
        assert!(JobTransition::Retry.allows(Some(Cancelled), Blocked));
        assert!(!JobTransition::Retry.allows(Some(Completed), Queued));
    }

    #[test]
    fn event_kinds_round_trip() {
        for transition in JobTransition::ALL {
            assert_eq!(JobTransition::from_event_kind(transition.event_kind()), Some(transition));
        }
    }

    #[test]
    fn states_round_trip_and_unknown_names_are_explained() {
        for state in JobState::ALL {
            assert_eq!(state.as_str().parse::<JobState>(), Ok(state));
        }
        let error = "done".parse::<JobState>().unwrap_err();
        assert_eq!(error.field, "state");
        assert!(error.message.contains("\"done\""));
    }

    #[test]
    fn validation_names_the_field() {
        let good = NewJob::new("noop", json!({}));
        assert_eq!(good.validate(), Ok(()));

        let cases = [
            (NewJob::new("", json!({})), "kind"),
            (NewJob::new("noop", json!({})).with_queue("Bad Queue"), "queue"),
            (NewJob::new("noop", json!({})).with_priority(5000), "priority"),
            (NewJob::new("noop", json!({})).with_max_attempts(0), "max_attempts"),
            (NewJob::new("noop", json!({})).with_timeout(Duration::ZERO), "timeout_ms"),
            (NewJob::new("noop", json!({})).with_key(""), "idempotency_key"),
            (NewJob::new("noop", json!({})).depending_on(JobRef::Id(JobId(0))), "depends_on[0]"),
            (
                NewJob::new("noop", json!({})).depending_on(JobRef::Id(JobId(4))).depending_on(JobRef::Id(JobId(4))),
                "depends_on[1]",
            ),
            (NewJob::new("noop", json!({})).with_key("a").depending_on(JobRef::Key("a".into())), "depends_on[0]"),
        ];
        for (job, field) in cases {
            assert_eq!(job.validate().unwrap_err().field, field, "{job:?}");
        }
    }

    #[test]
    fn payloads_with_nul_characters_are_refused() {
        for payload in [json!({ "text": "a\u{0}b" }), json!({ "a\u{0}": 1 }), json!([[null, "\u{0}"]])] {
            let error = NewJob::new("noop", payload.clone()).validate().unwrap_err();
            assert_eq!(error.field, "payload", "{payload}");
        }
        assert_eq!(
            NewJob::new("noop", json!({ "text": "a\\u0000b" })).validate(),
            Ok(()),
            "an escaped backslash is fine"
        );
    }

    #[test]
    fn oversized_payloads_are_refused() {
        let big = "x".repeat(limits::MAX_PAYLOAD_BYTES + 1);
        let error = NewJob::new("noop", json!({ "blob": big })).validate().unwrap_err();
        assert_eq!(error.field, "payload");
    }
}
