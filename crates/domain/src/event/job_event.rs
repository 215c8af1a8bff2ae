//! A job's state change as an event, typed by transition: each variant
//! carries what its event records, and the states it moves between follow
//! from the variant instead of being passed beside it.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::ids::JobId;
use crate::job::{DeathReason, JobState, JobTransition, cancel_reason};

/// One job's state change.
#[derive(Clone, Debug, PartialEq)]
pub struct JobEvent {
    pub job: JobId,
    pub change: JobChange,
}

/// What happened to the job, with the details its event records.
#[derive(Clone, Debug, PartialEq)]
pub enum JobChange {
    /// A new job, `blocked` on dependencies or `queued`.
    Enqueued {
        to: JobState,
        queue: String,
        kind: String,
        priority: i32,
    },
    /// Its last pending dependency completed.
    Unblocked {
        dependency: JobId,
    },
    /// A worker claimed it for attempt `attempt`.
    Started {
        attempt: u32,
        worker: String,
        queue: String,
        kind: String,
    },
    Completed {
        attempt: u32,
    },
    /// A failed attempt that will be retried at `retry_at`.
    Failed {
        attempt: u32,
        error: String,
        retry_at: DateTime<Utc>,
    },
    /// A failed or lost attempt after which the job gives up.
    Died {
        attempt: u32,
        error: String,
        reason: DeathReason,
    },
    Cancelled {
        from: JobState,
        cause: CancelCause,
    },
    /// Back to the queue (or blocked again) after dying or being cancelled.
    Retried {
        from: JobState,
        to: JobState,
        cause: RetryCause,
    },
    /// Its worker stopped renewing the lease; the attempt is lost.
    LeaseExpired {
        attempt: u32,
        worker: Option<String>,
        error: String,
    },
    /// Its worker gave it back unfinished (at shutdown).
    Released {
        attempt: u32,
        worker: String,
    },
}

/// Why a job was cancelled.
#[derive(Clone, Debug, PartialEq)]
pub enum CancelCause {
    /// Someone asked, during attempt `attempt` (0 before the first).
    Requested { attempt: u32 },
    /// A job it depends on died or was cancelled.
    DependencyFailed { dependency: JobId },
}

/// Why a job went back to the queue.
#[derive(Clone, Debug, PartialEq)]
pub enum RetryCause {
    /// Someone asked; its earlier attempts and last error are recorded.
    Requested { previous_attempts: u32, last_error: Option<String> },
    /// It had been cancelled because `dependency` failed, which was retried.
    DependencyRetried { dependency: JobId },
}

/// The reason recorded when a job goes back because a dependency was retried.
pub const DEPENDENCY_RETRIED: &str = "dependency_retried";

impl JobChange {
    pub fn transition(&self) -> JobTransition {
        match self {
            JobChange::Enqueued { .. } => JobTransition::Enqueue,
            JobChange::Unblocked { .. } => JobTransition::Unblock,
            JobChange::Started { .. } => JobTransition::Claim,
            JobChange::Completed { .. } => JobTransition::Complete,
            JobChange::Failed { .. } => JobTransition::Fail,
            JobChange::Died { .. } => JobTransition::Die,
            JobChange::Cancelled { .. } => JobTransition::Cancel,
            JobChange::Retried { .. } => JobTransition::Retry,
            JobChange::LeaseExpired { .. } => JobTransition::ExpireLease,
            JobChange::Released { .. } => JobTransition::Release,
        }
    }

    /// The state the job left (`None` for a new job).
    pub fn from(&self) -> Option<JobState> {
        use JobState::*;
        match self {
            JobChange::Enqueued { .. } => None,
            JobChange::Unblocked { .. } => Some(Blocked),
            JobChange::Started { .. } => Some(Queued),
            JobChange::Completed { .. }
            | JobChange::Failed { .. }
            | JobChange::Died { .. }
            | JobChange::LeaseExpired { .. }
            | JobChange::Released { .. } => Some(Running),
            JobChange::Cancelled { from, .. } | JobChange::Retried { from, .. } => Some(*from),
        }
    }

    /// The state the job is in now.
    pub fn to(&self) -> JobState {
        use JobState::*;
        match self {
            JobChange::Enqueued { to, .. } | JobChange::Retried { to, .. } => *to,
            JobChange::Unblocked { .. }
            | JobChange::Failed { .. }
            | JobChange::LeaseExpired { .. }
            | JobChange::Released { .. } => Queued,
            JobChange::Started { .. } => Running,
            JobChange::Completed { .. } => Completed,
            JobChange::Died { .. } => Dead,
            JobChange::Cancelled { .. } => Cancelled,
        }
    }

    /// The event's data: the change's details plus `from` and `to`.
    pub(super) fn data(&self) -> Value {
        let details = match self {
            JobChange::Enqueued { queue, kind, priority, .. } => {
                json!({ "queue": queue, "kind": kind, "priority": priority })
            }
            JobChange::Unblocked { dependency } => json!({ "dependency": dependency }),
            JobChange::Started { attempt, worker, queue, kind } => {
                json!({ "attempt": attempt, "worker": worker, "queue": queue, "kind": kind })
            }
            JobChange::Completed { attempt } => json!({ "attempt": attempt }),
            JobChange::Failed { attempt, error, retry_at } => {
                json!({ "attempt": attempt, "error": error, "retry_at": retry_at })
            }
            JobChange::Died { attempt, error, reason } => {
                json!({ "attempt": attempt, "error": error, "reason": reason.as_str() })
            }
            JobChange::Cancelled { cause: CancelCause::Requested { attempt }, .. } => {
                json!({ "reason": cancel_reason::REQUESTED, "attempt": attempt })
            }
            JobChange::Cancelled { cause: CancelCause::DependencyFailed { dependency }, .. } => {
                json!({ "reason": cancel_reason::DEPENDENCY_FAILED, "dependency": dependency })
            }
            JobChange::Retried { cause: RetryCause::Requested { previous_attempts, last_error }, .. } => {
                json!({ "previous_attempts": previous_attempts, "last_error": last_error })
            }
            JobChange::Retried { cause: RetryCause::DependencyRetried { dependency }, .. } => {
                json!({ "reason": DEPENDENCY_RETRIED, "dependency": dependency })
            }
            JobChange::LeaseExpired { attempt, worker, error } => {
                json!({ "attempt": attempt, "worker": worker, "error": error })
            }
            JobChange::Released { attempt, worker } => json!({ "attempt": attempt, "worker": worker }),
        };
        let mut data = match details {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let (from, to) = (self.from(), self.to());
        debug_assert!(self.transition().allows(from, to), "{self:?}");
        data.insert("from".into(), from.map_or(Value::Null, |state| Value::from(state.as_str())));
        data.insert("to".into(), Value::from(to.as_str()));
        Value::Object(data)
    }
}
