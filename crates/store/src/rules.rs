//! The parts of the store's behaviour that do not depend on the database
//! and are not one area's own: checks of an enqueue batch and the queue's
//! refusals, retry delays and death reasons, agents' and actions' refusals,
//! limits and text as both databases store them. Each area's own decisions
//! are in its `decide.rs` (runs, steps, actions, approvals, conversations,
//! artifacts, jobs). Both backends call these, so SQLite and PostgreSQL
//! cannot drift apart in what they accept, refuse or record.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use steward_domain::job::limits;
use steward_domain::{
    ActionId, ActionState, AgentId, AgentPatch, AgentStatus, ApprovalId, ApprovalStatus, JobId, JobRef, JobState,
    NewJob, RunLimits,
};

use crate::{ConflictKind, StoreError};

/// Midnight UTC of the day of `now`: where "today's" spending starts (the
/// runtime's budget check uses the same function, so both agree on "today").
pub(crate) use steward_domain::time::start_of_utc_day;

/// Checks an enqueue batch before anything is looked up: size, each job's
/// fields, idempotency keys unique within the batch.
pub(crate) fn check_batch(jobs: &[NewJob]) -> Result<(), StoreError> {
    if jobs.is_empty() {
        return Err(StoreError::invalid("jobs", "must contain at least one job"));
    }
    if jobs.len() > limits::MAX_BATCH {
        return Err(StoreError::invalid(
            "jobs",
            format!("has {} jobs; the limit is {} per request", jobs.len(), limits::MAX_BATCH),
        ));
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (index, job) in jobs.iter().enumerate() {
        job.validate().map_err(|error| error.within(&format!("jobs[{index}]")))?;
        if let Some(key) = job.idempotency_key.as_deref()
            && let Some(first) = seen.insert(key, index)
        {
            return Err(StoreError::invalid(
                format!("jobs[{index}].idempotency_key"),
                format!("{key:?} is also the key of jobs[{first}]"),
            ));
        }
    }
    Ok(())
}

/// The error for a dependency cycle inside a batch, naming the cycle and
/// pointing at the dependency entry that closes its first edge.
pub(crate) fn name_cycle(jobs: &[NewJob], edges: &[Vec<usize>], cycle: &[usize]) -> StoreError {
    let label = |index: usize| match &jobs[index].idempotency_key {
        Some(key) => format!("{key:?}"),
        None => format!("jobs[{index}]"),
    };
    let path: Vec<String> = cycle.iter().map(|&index| label(index)).collect();
    let (first, second) = (cycle[0], cycle.get(1).copied().unwrap_or(cycle[0]));
    let position = jobs[first]
        .depends_on
        .iter()
        .position(
            |reference| matches!(reference, JobRef::Key(key) if jobs[second].idempotency_key.as_ref() == Some(key)),
        )
        .or_else(|| edges[first].iter().position(|&target| target == second))
        .unwrap_or(0);
    StoreError::invalid(
        format!("jobs[{first}].depends_on[{position}]"),
        format!("dependency cycle: {}", path.join(" → ")),
    )
}

pub(crate) fn missing_dependency_by_id(field: &str, id: JobId) -> StoreError {
    StoreError::invalid(field, format!("there is no job {id}"))
}

pub(crate) fn missing_dependency_by_key(field: &str, key: &str) -> StoreError {
    StoreError::invalid(field, format!("no job with idempotency key {key:?} exists or is in this request"))
}

/// A new job may not depend on a job that is dead or cancelled.
pub(crate) fn dependency_can_never_complete(field: &str, id: JobId, state: JobState) -> Option<StoreError> {
    matches!(state, JobState::Dead | JobState::Cancelled).then(|| {
        StoreError::conflict(
            ConflictKind::DependencyFailed,
            Some(field),
            format!("job {id} is {state} and can never complete; retry it first"),
        )
    })
}

pub(crate) fn check_cancellable(id: JobId, state: JobState) -> Result<(), StoreError> {
    if matches!(state, JobState::Blocked | JobState::Queued | JobState::Running) {
        return Ok(());
    }
    Err(StoreError::conflict(
        ConflictKind::IllegalTransition,
        None,
        format!("job {id} is {state}; only blocked, queued or running jobs can be cancelled"),
    ))
}

pub(crate) fn check_retriable(id: JobId, state: JobState) -> Result<(), StoreError> {
    if matches!(state, JobState::Dead | JobState::Cancelled) {
        return Ok(());
    }
    Err(StoreError::conflict(
        ConflictKind::IllegalTransition,
        None,
        format!("job {id} is {state}; only dead or cancelled jobs can be retried"),
    ))
}

/// A job cannot be retried while one of its dependencies is dead or cancelled.
pub(crate) fn check_dependency_of_retry(id: JobId, dependency: JobId, state: JobState) -> Result<(), StoreError> {
    if !matches!(state, JobState::Dead | JobState::Cancelled) {
        return Ok(());
    }
    Err(StoreError::conflict(
        ConflictKind::DependencyFailed,
        None,
        format!("job {id} depends on job {dependency}, which is {state}; retry job {dependency} first"),
    ))
}

/// `held` is the name as the holder has it: names are compared without
/// regard to case, so it may differ from `name` in case only.
pub(crate) fn agent_name_taken(name: &str, held: &str, holder: AgentId) -> StoreError {
    let message = if name == held {
        format!("an agent named {name:?} already exists (agent {holder})")
    } else {
        format!(
            "an agent named {held:?} already exists (agent {holder}); names are compared without regard to case, \
             so {name:?} is taken"
        )
    };
    StoreError::conflict(ConflictKind::AlreadyExists, Some("name"), message)
}

pub(crate) fn agent_archived(id: AgentId) -> StoreError {
    StoreError::conflict(ConflictKind::Archived, None, format!("agent {id} is archived and can no longer be changed"))
}

/// What new work an agent is named for: an action, a run or a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NewWork {
    Action,
    Run,
    Conversation,
}

/// The agent named for new work must be the user's (`status` is `None`
/// when it is not) and not archived.
pub(crate) fn check_agent_takes(agent: AgentId, status: Option<AgentStatus>, work: NewWork) -> Result<(), StoreError> {
    let refusal = match status {
        None => return Err(StoreError::invalid("agent_id", format!("no agent {agent}"))),
        Some(AgentStatus::Archived) => match work {
            NewWork::Action => "it takes no new actions",
            NewWork::Run => "it starts no runs",
            NewWork::Conversation => "it takes no new conversations",
        },
        Some(_) => return Ok(()),
    };
    Err(StoreError::conflict(ConflictKind::Archived, Some("agent_id"), format!("agent {agent} is archived; {refusal}")))
}

pub(crate) fn action_is_final(id: ActionId, state: ActionState) -> StoreError {
    StoreError::conflict(
        ConflictKind::IllegalTransition,
        None,
        format!("action {id} is {state}, which is final; it can no longer be changed"),
    )
}

pub(crate) fn check_action_transition(from: ActionState, to: ActionState) -> Result<(), StoreError> {
    from.check_transition(to)
        .map_err(|error| StoreError::conflict(ConflictKind::IllegalTransition, Some(&error.field), error.message))
}

/// An agent's or a run's limits as both databases store them: the token
/// ceiling and the wall time (in whole seconds) as 63-bit integers,
/// saturating rather than refusing an absurd limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct StoredLimits {
    pub max_steps: Option<u32>,
    pub max_tokens: Option<i64>,
    pub max_cost_usd: Option<f64>,
    pub max_wall_secs: Option<i64>,
}

impl StoredLimits {
    pub fn of(limits: &RunLimits) -> StoredLimits {
        let saturating = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        StoredLimits {
            max_steps: limits.max_steps,
            max_tokens: limits.max_tokens.map(saturating),
            max_cost_usd: limits.max_cost_usd,
            max_wall_secs: limits.max_wall_time.map(|wall| saturating(wall.as_secs())),
        }
    }

    /// The limits back; a negative number (never written) reads as 0.
    pub fn into_limits(self) -> RunLimits {
        let count = |value: i64| u64::try_from(value).unwrap_or(0);
        RunLimits {
            max_steps: self.max_steps,
            max_tokens: self.max_tokens.map(count),
            max_cost_usd: self.max_cost_usd,
            max_wall_time: self.max_wall_secs.map(|secs| Duration::from_secs(count(secs))),
        }
    }
}

/// Names of the fields a patch sets, for the event log.
pub(crate) fn patched_fields(patch: &AgentPatch) -> Vec<&'static str> {
    let candidates = [
        ("name", patch.name.is_some()),
        ("goal", patch.goal.is_some()),
        ("success_criteria", patch.success_criteria.is_some()),
        ("timeline", patch.timeline.is_some()),
        ("status", patch.status.is_some()),
        ("model", patch.model.is_some()),
        ("instructions", patch.instructions.is_some()),
        ("tools", patch.tools.is_some()),
        ("limits", patch.limits.is_some()),
        ("budget", patch.budget.is_some()),
    ];
    candidates.into_iter().filter(|(_, present)| *present).map(|(name, _)| name).collect()
}

/// A worker's error text as stored: kept to a size that fits an event and a
/// table cell, with NUL characters (which PostgreSQL cannot store, and a
/// failing program may well print) replaced by U+FFFD.
pub(crate) fn storable_error(error: &str) -> String {
    const MAX_CHARS: usize = 4000;
    let mut stored: String = error.chars().take(MAX_CHARS).map(without_nul).collect();
    if error.chars().nth(MAX_CHARS).is_some() {
        stored.push('…');
    }
    stored
}

/// A job's result as stored: NUL characters in strings and keys replaced by
/// U+FFFD, as in [`storable_error`]. Input from people is refused instead
/// (see `NewJob::validate`); a result comes from a job that already ran, and
/// losing it over one character would be worse.
pub(crate) fn storable_result(result: &Value) -> Value {
    match result {
        Value::String(text) if text.contains('\0') => Value::String(text.chars().map(without_nul).collect()),
        Value::Array(items) => Value::Array(items.iter().map(storable_result).collect()),
        Value::Object(map) => Value::Object(
            map.iter().map(|(key, item)| (key.chars().map(without_nul).collect(), storable_result(item))).collect(),
        ),
        other => other.clone(),
    }
}

fn without_nul(character: char) -> char {
    if character == '\0' { char::REPLACEMENT_CHARACTER } else { character }
}

/// When a new job becomes claimable: its `run_at`, or now. Truncated to the
/// microseconds both databases keep, so the job an enqueue returns equals
/// the one read back later.
pub(crate) fn initial_run_at(requested: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
    requested.map_or(now, steward_domain::time::truncate_to_micros)
}

/// `at + duration` as stored: truncated to microseconds (a jittered retry
/// delay has nanoseconds, and an event must not name a retry time the job
/// row does not hold), and saturating at the latest time both databases can
/// store instead of panicking on an absurd lease or delay.
pub(crate) fn later_by(at: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
    let later = chrono::Duration::from_std(duration)
        .ok()
        .and_then(|duration| at.checked_add_signed(duration))
        .map_or_else(latest_storable_time, |later| later.min(latest_storable_time()));
    steward_domain::time::truncate_to_micros(later)
}

/// 9999-12-31T23:59:59Z: far enough to mean "never", and within the range
/// of both SQLite's microsecond integers and PostgreSQL's timestamptz.
fn latest_storable_time() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The refusal of a decision on an approval that is no longer pending (a
/// run's, or a project gate's).
pub(crate) fn approval_already_decided(id: ApprovalId, status: ApprovalStatus) -> StoreError {
    let message = match status {
        ApprovalStatus::Withdrawn => format!("approval {id} was withdrawn because its run ended; nothing waits for it"),
        // A gate decided by `project approve|reject` resolves its approval
        // too, so a late decision in the inbox lands here.
        other => format!("approval {id} was already {other}; a decision cannot be changed"),
    };
    StoreError::conflict(ConflictKind::IllegalTransition, None, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absurd_lease_saturates_instead_of_panicking() {
        let now = Utc::now();
        assert_eq!(later_by(now, Duration::MAX), latest_storable_time());
        let now = steward_domain::time::truncate_to_micros(now);
        assert_eq!(later_by(now, Duration::from_secs(30)), now + chrono::Duration::seconds(30));
        assert_eq!(later_by(now, Duration::from_nanos(1_999)), now + chrono::Duration::microseconds(1));
    }

    #[test]
    fn limits_are_stored_saturating_and_read_back() {
        let limits = RunLimits {
            max_steps: Some(5),
            max_tokens: Some(u64::MAX),
            max_cost_usd: Some(1.5),
            max_wall_time: Some(Duration::from_millis(90_400)),
        };
        let stored = StoredLimits::of(&limits);
        assert_eq!((stored.max_tokens, stored.max_wall_secs), (Some(i64::MAX), Some(90)));
        let read = StoredLimits { max_tokens: Some(7), ..stored }.into_limits();
        assert_eq!(read, RunLimits { max_tokens: Some(7), max_wall_time: Some(Duration::from_secs(90)), ..limits });
        assert_eq!(StoredLimits { max_tokens: Some(-1), ..stored }.into_limits().max_tokens, Some(0));
    }

    #[test]
    fn long_errors_are_truncated_on_a_character_boundary() {
        let error = "é".repeat(5000);
        let truncated = storable_error(&error);
        assert_eq!(truncated.chars().count(), 4001);
        assert!(truncated.ends_with('…'));
        assert_eq!(storable_error(&"é".repeat(4000)), "é".repeat(4000));
    }

    #[test]
    fn nul_characters_are_replaced_where_they_cannot_be_refused() {
        assert_eq!(storable_error("exit\0code"), "exit\u{fffd}code");
        let result = serde_json::json!({ "out\0": ["a\0", 1, null] });
        assert_eq!(storable_result(&result), serde_json::json!({ "out\u{fffd}": ["a\u{fffd}", 1, null] }));
    }

    #[test]
    fn today_starts_at_midnight_utc() {
        use chrono::TimeZone;
        let now = Utc.with_ymd_and_hms(2030, 3, 4, 17, 5, 9).unwrap();
        assert_eq!(start_of_utc_day(now), Utc.with_ymd_and_hms(2030, 3, 4, 0, 0, 0).unwrap());
    }
}
