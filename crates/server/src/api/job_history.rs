//! A job's attempts and timings, derived from its events: each `job.started`
//! opens an attempt, and the next completion, failure, death, expired lease,
//! release or cancellation closes it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_domain::Event;
use steward_domain::job::JobTransition;
use utoipa::ToSchema;

/// How an attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// Still running.
    Running,
    Completed,
    /// Failed; another attempt is scheduled at `retry_at`.
    Failed,
    /// Failed for good: a permanent error or the last attempt.
    Died,
    /// The worker stopped heart-beating; the job was taken back.
    LeaseExpired,
    /// Given back by a worker shutting down; this attempt does not count.
    Released,
    /// The job was cancelled while it ran.
    Cancelled,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Running => "running",
            AttemptOutcome::Completed => "completed",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Died => "died",
            AttemptOutcome::LeaseExpired => "lease_expired",
            AttemptOutcome::Released => "released",
            AttemptOutcome::Cancelled => "cancelled",
        }
    }
}

/// One attempt of a job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobAttempt {
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The worker that ran it.
    pub worker: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<u64>,
    pub outcome: AttemptOutcome,
    pub error: Option<String>,
    /// When the next attempt is due, after a failure.
    pub retry_at: Option<DateTime<Utc>>,
}

/// How long a job waited and ran, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JobTimings {
    /// From enqueue to the start of the first attempt.
    pub wait_ms: Option<u64>,
    /// The attempts' durations added up (finished attempts only).
    pub run_ms: Option<u64>,
    /// From enqueue to the end (completed, dead or cancelled).
    pub total_ms: Option<u64>,
}

/// The attempts recorded in `events` (a job's events, oldest first).
pub fn attempt_history(events: &[Event]) -> Vec<JobAttempt> {
    let mut attempts: Vec<JobAttempt> = Vec::new();
    let mut open: Option<usize> = None;
    for event in events {
        let Some(transition) = JobTransition::from_event_kind(&event.kind) else { continue };
        let outcome = match transition {
            JobTransition::Claim => {
                // A start while another attempt looks open means an event is
                // missing; the new attempt is what matters.
                let attempt = text_or_number(&event.data, "attempt").unwrap_or(attempts.len() as u64 + 1);
                attempts.push(JobAttempt {
                    attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
                    worker: event.data.get("worker").and_then(Value::as_str).map(str::to_string),
                    started_at: event.occurred_at,
                    ended_at: None,
                    duration_ms: None,
                    outcome: AttemptOutcome::Running,
                    error: None,
                    retry_at: None,
                });
                open = Some(attempts.len() - 1);
                continue;
            }
            JobTransition::Complete => AttemptOutcome::Completed,
            JobTransition::Fail => AttemptOutcome::Failed,
            JobTransition::Die => AttemptOutcome::Died,
            JobTransition::ExpireLease => AttemptOutcome::LeaseExpired,
            JobTransition::Release => AttemptOutcome::Released,
            JobTransition::Cancel => AttemptOutcome::Cancelled,
            JobTransition::Enqueue | JobTransition::Unblock | JobTransition::Retry => continue,
        };
        let Some(index) = open.take() else { continue };
        let attempt = &mut attempts[index];
        attempt.outcome = outcome;
        attempt.ended_at = Some(event.occurred_at);
        attempt.duration_ms = Some(milliseconds_between(attempt.started_at, event.occurred_at));
        attempt.error = event.data.get("error").and_then(Value::as_str).map(str::to_string);
        attempt.retry_at = event
            .data
            .get("retry_at")
            .and_then(Value::as_str)
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .map(|time| time.with_timezone(&Utc));
    }
    attempts
}

/// The timings of `job` given its attempts.
pub fn timings(job: &steward_domain::Job, attempts: &[JobAttempt]) -> JobTimings {
    let finished: Vec<u64> = attempts.iter().filter_map(|attempt| attempt.duration_ms).collect();
    JobTimings {
        wait_ms: attempts.first().map(|first| milliseconds_between(job.created_at, first.started_at)),
        run_ms: (!finished.is_empty()).then(|| finished.iter().sum()),
        total_ms: job.finished_at.map(|finished_at| milliseconds_between(job.created_at, finished_at)),
    }
}

fn milliseconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    u64::try_from((to - from).num_milliseconds()).unwrap_or(0)
}

fn text_or_number(data: &Value, key: &str) -> Option<u64> {
    match data.get(key)? {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;
    use steward_domain::{EventId, EventSubject, UserId};

    fn event(seconds: i64, kind: &str, data: Value) -> Event {
        Event {
            id: EventId(seconds),
            user_id: UserId::LOCAL_OWNER,
            actor: None,
            occurred_at: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(seconds),
            kind: kind.into(),
            subject: EventSubject::Job,
            subject_id: 1,
            data,
        }
    }

    #[test]
    fn a_failure_then_a_success_makes_two_attempts() {
        let events = [
            event(0, "job.enqueued", json!({"to": "queued"})),
            event(1, "job.started", json!({"attempt": 1, "worker": "w1"})),
            event(3, "job.failed", json!({"attempt": 1, "error": "boom", "retry_at": "2030-01-01T00:00:05Z"})),
            event(5, "job.started", json!({"attempt": 2, "worker": "w2"})),
            event(6, "job.completed", json!({"attempt": 2})),
        ];
        let attempts = attempt_history(&events);
        assert_eq!(attempts.len(), 2);
        assert_eq!(attempts[0].outcome, AttemptOutcome::Failed);
        assert_eq!(attempts[0].duration_ms, Some(2000));
        assert_eq!(attempts[0].error.as_deref(), Some("boom"));
        assert_eq!(attempts[0].retry_at, Some(events[3].occurred_at));
        assert_eq!(attempts[1].worker.as_deref(), Some("w2"));
        assert_eq!(attempts[1].outcome, AttemptOutcome::Completed);
    }

    #[test]
    fn a_running_attempt_stays_open_and_a_cancel_before_any_start_adds_nothing() {
        let events = [event(0, "job.enqueued", json!({})), event(1, "job.started", json!({"attempt": 1}))];
        let attempts = attempt_history(&events);
        assert_eq!(attempts[0].outcome, AttemptOutcome::Running);
        assert_eq!(attempts[0].ended_at, None);

        let events = [event(0, "job.enqueued", json!({})), event(1, "job.cancelled", json!({"attempt": 0}))];
        assert!(attempt_history(&events).is_empty());
    }
}
