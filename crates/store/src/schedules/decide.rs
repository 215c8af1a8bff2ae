//! The decisions of schedules, written once for both databases: a new
//! schedule's checks and first slot, which due slots fire (the domain's
//! missed-run plan), what each fire starts and under which idempotency key,
//! the overlap decision, a fire's outcome and the pause after failures, and
//! the rows and events recorded. Each backend loads what these need, in its
//! own locks, and applies what they return.

pub(crate) mod pass;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::Value;
use steward_domain::run::RunOutcome;
use steward_domain::schedule::spec::{MAX_BACKFILL_SLOTS, ROUTINE_JOB_KIND, RoutineRunPayload};
use steward_domain::schedule::{
    DuePlan, DueSlots, FireOutcome, FireStatus, MissedRunSettings, NewSchedule, NotFired, OverlapDecision,
    Precondition, Schedule, ScheduleFire, SchedulePolicies, ScheduleTarget, SlotCount, When, plan_due_slots,
    slot_jitter,
};
use steward_domain::{
    ActionId, ActionState, AgentId, AgentStatus, JobId, JobState, NewEvent, NewJob, NewRun, RunId, RunLimits,
    RunStatus, ScheduleId, UserId,
};

use crate::schedules::PreconditionCheck;

use crate::{ConflictKind, StoreError};

/// How late the newest due slot may fire and still be on time (beyond its
/// jitter): a loop woken a little late does not turn a fire into a catch-up.
const ON_TIME_GRACE: TimeDelta = TimeDelta::seconds(10);

/// A schedule's row as both databases hold it, in plain values.
#[derive(Clone, Debug)]
pub(crate) struct ScheduleRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub when_text: String,
    pub zone: String,
    pub target_kind: String,
    pub agent_id: Option<i64>,
    pub action_id: Option<i64>,
    pub instruction: Option<String>,
    pub routine: Option<String>,
    pub job_kind: Option<String>,
    pub payload: Option<Value>,
    pub missed_policy: String,
    pub catchup_window_secs: i64,
    pub overlap_policy: String,
    pub jitter_ms: i64,
    pub pause_on_failures: Option<i64>,
    pub consecutive_failures: i64,
    pub paused: bool,
    pub precondition: Option<Value>,
    pub precondition_state: Option<String>,
    pub handled_through_at: DateTime<Utc>,
    pub next_slot_at: Option<DateTime<Utc>>,
    pub next_fire_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("a stored schedule's {what} does not read back: {error}"))
}

impl ScheduleRow {
    pub fn into_schedule(self) -> Result<Schedule, StoreError> {
        let target = match self.target_kind.as_str() {
            "agent" => ScheduleTarget::Agent {
                agent_id: self.agent_id.ok_or_else(|| corrupt("agent", "missing"))?.into(),
                instruction: self.instruction.unwrap_or_default(),
            },
            "action" => ScheduleTarget::Action {
                action_id: self.action_id.ok_or_else(|| corrupt("action", "missing"))?.into(),
                instruction: self.instruction.unwrap_or_default(),
            },
            "routine" => ScheduleTarget::Routine { routine: self.routine.unwrap_or_default() },
            _ => ScheduleTarget::Job {
                job_kind: self.job_kind.unwrap_or_default(),
                payload: self.payload.unwrap_or(Value::Null),
            },
        };
        let precondition: Option<Precondition> = self
            .precondition
            .map(serde_json::from_value)
            .transpose()
            .map_err(|error| corrupt("precondition", error))?;
        let missed = MissedRunSettings::new(
            self.missed_policy.parse().map_err(|error| corrupt("missed policy", error))?,
            TimeDelta::seconds(self.catchup_window_secs),
        )
        .map_err(|error| corrupt("catch-up window", error))?;
        Ok(Schedule {
            id: ScheduleId(self.id),
            user_id: UserId(self.user_id),
            name: self.name,
            when: When::parse(&self.when_text).map_err(|error| corrupt("when", error))?,
            zone: steward_domain::schedule::ScheduleZone::parse("zone", &self.zone)
                .map_err(|error| corrupt("zone", error))?,
            target,
            policies: SchedulePolicies {
                missed,
                overlap: self.overlap_policy.parse().map_err(|error| corrupt("overlap policy", error))?,
                jitter: TimeDelta::milliseconds(self.jitter_ms),
                pause_on_failures: self.pause_on_failures.map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            },
            precondition,
            precondition_state: self.precondition_state,
            paused: self.paused,
            consecutive_failures: u32::try_from(self.consecutive_failures).unwrap_or(0),
            handled_through: self.handled_through_at,
            next_slot: self.next_slot_at,
            next_fire_at: self.next_fire_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A new schedule's columns, as stored.
#[derive(Clone, Debug)]
pub(crate) struct NewScheduleRow {
    pub target_kind: &'static str,
    pub agent_id: Option<i64>,
    pub action_id: Option<i64>,
    pub instruction: Option<String>,
    pub routine: Option<String>,
    pub job_kind: Option<String>,
    pub payload: Option<Value>,
    pub missed_policy: String,
    pub catchup_window_secs: i64,
    pub overlap_policy: &'static str,
    pub jitter_ms: i64,
    pub pause_on_failures: Option<i64>,
    pub precondition: Option<Value>,
    pub next_slot_at: DateTime<Utc>,
}

/// Checks a new schedule (what needs no lookup, and that it fires after
/// `now`) and decides its columns.
pub(crate) fn new_row(schedule: &NewSchedule, now: DateTime<Utc>) -> Result<NewScheduleRow, StoreError> {
    schedule.validate()?;
    schedule.when.check_fires_after(schedule.zone, now)?;
    let next_slot_at = schedule
        .when
        .next_after(schedule.zone, now)
        .ok_or_else(|| StoreError::invalid("when", format!("`{}` never fires after now", schedule.when)))?;
    let (mut agent_id, mut action_id, mut instruction, mut routine, mut job_kind, mut payload) =
        (None, None, None, None, None, None);
    let target_kind = target_kind(&schedule.target);
    match &schedule.target {
        ScheduleTarget::Agent { agent_id: agent, instruction: text } => {
            agent_id = Some(agent.get());
            instruction = Some(text.clone());
        }
        ScheduleTarget::Action { action_id: action, instruction: text } => {
            action_id = Some(action.get());
            instruction = Some(text.clone());
        }
        ScheduleTarget::Routine { routine: name } => routine = Some(name.clone()),
        ScheduleTarget::Job { job_kind: kind, payload: body } => {
            job_kind = Some(kind.clone());
            payload = Some(body.clone());
        }
    }
    let policies = &schedule.policies;
    Ok(NewScheduleRow {
        target_kind,
        agent_id,
        action_id,
        instruction,
        routine,
        job_kind,
        payload,
        missed_policy: policies.missed.policy.to_string(),
        catchup_window_secs: policies.missed.catchup_window.num_seconds(),
        overlap_policy: policies.overlap.as_str(),
        jitter_ms: policies.jitter.num_milliseconds(),
        pause_on_failures: policies.pause_on_failures.map(i64::from),
        precondition: schedule.precondition.as_ref().map(serde_json::to_value).transpose()?,
        next_slot_at,
    })
}

/// An agent target must exist and not be archived.
pub(crate) fn check_agent(agent: AgentId, status: Option<AgentStatus>) -> Result<(), StoreError> {
    match status {
        None => Err(StoreError::invalid("agent_id", format!("there is no agent {agent}"))),
        Some(AgentStatus::Archived) => Err(StoreError::invalid("agent_id", format!("agent {agent} is archived"))),
        Some(_) => Ok(()),
    }
}

pub(crate) fn missing_action(action: ActionId) -> StoreError {
    StoreError::invalid("action_id", format!("there is no action {action}"))
}

/// A manual fire takes the current instant as its slot; two in the same
/// microsecond are one.
pub(crate) fn manual_fire_taken(now: DateTime<Utc>) -> StoreError {
    StoreError::conflict(ConflictKind::AlreadyExists, None, format!("a fire was already recorded at {}", text(now)))
}

/// Whether a fire may start work: no precondition, or its check passed.
pub(crate) fn precondition_passed(schedule: &Schedule, check: Option<&PreconditionCheck>) -> bool {
    schedule.precondition.is_none() || check.is_some_and(|check| check.passed)
}

/// What the precondition saw becomes the baseline of the next check when
/// the check was false (nothing changed up to what it saw, so nothing is
/// lost) or when a fire passed it; a passing check with nothing fired (all
/// slots missed) keeps the old baseline, so the change still counts later.
pub(crate) fn precondition_state(
    schedule: &Schedule,
    check: Option<&PreconditionCheck>,
    fired: bool,
) -> Option<String> {
    match check {
        Some(check) if check.state.is_some() && (!check.passed || fired) => check.state.clone(),
        _ => schedule.precondition_state.clone(),
    }
}

/// The running work of earlier fires, in words.
pub(crate) fn describe_running(running: &[(Option<RunId>, JobId)]) -> Vec<String> {
    running
        .iter()
        .map(|(run, job)| match run {
            Some(run) => format!("run {run}"),
            None => format!("job {job}"),
        })
        .collect()
}

/// A fire's work as started: its job and run, or the reason the store
/// refused to start it (an archived agent, an oversized payload), which
/// the fire records instead of failing the whole pass.
pub(crate) fn started(
    result: Result<(Option<JobId>, Option<RunId>), StoreError>,
) -> Result<Result<(JobId, Option<RunId>), String>, StoreError> {
    match result {
        Ok((Some(job), run)) => Ok(Ok((job, run))),
        Ok((None, _)) => Err(StoreError::Database("a fire's work was started without a job".into())),
        Err(error @ (StoreError::Invalid(_) | StoreError::Conflict { .. } | StoreError::NotFound { .. })) => {
            Ok(Err(error.to_string()))
        }
        Err(error) => Err(error),
    }
}

pub(crate) fn target_kind(target: &ScheduleTarget) -> &'static str {
    match target {
        ScheduleTarget::Agent { .. } => "agent",
        ScheduleTarget::Action { .. } => "action",
        ScheduleTarget::Routine { .. } => "routine",
        ScheduleTarget::Job { .. } => "job",
    }
}

pub(crate) fn name_taken(name: &str) -> StoreError {
    StoreError::conflict(ConflictKind::AlreadyExists, Some("name"), format!("a schedule named {name:?} already exists"))
}

/// When a slot fires: the slot plus its jitter.
pub(crate) fn fire_at(id: ScheduleId, slot: Option<DateTime<Utc>>, jitter: TimeDelta) -> Option<DateTime<Utc>> {
    slot.map(|slot| slot + slot_jitter(id, slot, jitter))
}

pub(crate) fn created_event(schedule: &Schedule) -> NewEvent {
    NewEvent::ScheduleCreated {
        schedule: schedule.id,
        name: schedule.name.clone(),
        when: schedule.when.to_string(),
        zone: schedule.zone.to_string(),
        target: target_kind(&schedule.target),
    }
}

/// Resuming makes the slots after the last one handled due again.
pub(crate) fn next_slot_on_resume(schedule: &Schedule) -> Option<DateTime<Utc>> {
    schedule.when.next_after(schedule.zone, schedule.handled_through)
}

/// Which due slots of `schedule` fire at `now`.
pub(crate) fn plan(schedule: &Schedule, now: DateTime<Utc>) -> DuePlan {
    plan_due_slots(&DueSlots {
        when: &schedule.when,
        zone: schedule.zone,
        settings: schedule.policies.missed,
        handled_through: schedule.handled_through,
        now,
        on_time_grace: ON_TIME_GRACE + schedule.policies.jitter,
    })
}

/// One slot to record, with what the plan or a check decided.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SlotRow {
    pub slot: DateTime<Utc>,
    pub status: FireStatus,
    pub detail: Option<String>,
}

fn text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The due slots that do not fire, as rows: each listed one, and one row
/// per summarised span (at its first slot, with the count in its detail).
pub(crate) fn not_fired_rows(plan: &DuePlan) -> Vec<SlotRow> {
    let row = |slot, outcome: NotFired, detail: Option<String>| {
        let (status, reason) = match outcome {
            NotFired::Coalesced { into } => {
                (FireStatus::Coalesced, format!("coalesced into the fire of {}", text(into)))
            }
            NotFired::Missed(reason) => (FireStatus::Missed, reason.as_str().to_string()),
        };
        SlotRow { slot, status, detail: Some(detail.map_or(reason.clone(), |detail| format!("{reason}; {detail}"))) }
    };
    let mut rows: Vec<SlotRow> = plan
        .summarized
        .iter()
        .map(|span| {
            let count = match span.count {
                SlotCount::Exactly(n) => format!("{n} slots"),
                SlotCount::AtLeast(n) => format!("at least {n} slots"),
            };
            row(span.first_slot, span.outcome, Some(format!("{count} from here through {}", text(span.through))))
        })
        .collect();
    rows.extend(plan.not_fired.iter().map(|slot| row(slot.slot, slot.outcome, None)));
    rows
}

/// The event counting the slots that did not fire in one pass.
pub(crate) fn not_fired_event(schedule: ScheduleId, rows: &[SlotRow]) -> Option<NewEvent> {
    let first = rows.iter().map(|row| row.slot).min()?;
    let last = rows.iter().map(|row| row.slot).max()?;
    let count = |status| rows.iter().filter(|row| row.status == status).count() as u64;
    Some(NewEvent::ScheduleSlotsNotFired {
        schedule,
        missed: count(FireStatus::Missed),
        coalesced: count(FireStatus::Coalesced),
        first_slot: first,
        last_slot: last,
    })
}

/// What a fire's work is, given the target's action state when it is one.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Work {
    /// Start this run (the action, if any, stays where it is).
    Run(NewRun),
    /// Schedule the run's action (it moves to `scheduled`) and start the run.
    ScheduleAction(NewRun),
    Job(NewJob),
    /// Nothing can start; the fire is recorded as skipped with this reason.
    Refused(String),
}

/// The idempotency key of a fire's job: one per (schedule, slot).
pub(crate) fn fire_key(schedule: ScheduleId, slot: DateTime<Utc>) -> String {
    format!("schedule:{schedule}:{}", slot.timestamp_micros())
}

/// The work one fire of `schedule` for `slot` starts; `action` is the
/// target action's agent and state, when it is an action that exists. An
/// action that can be scheduled (defined, failed) is; one already
/// scheduled, in progress or completed gets a run working on it and stays
/// where it is (a recurring deliverable); a dismissed one starts nothing.
pub(crate) fn work_for(schedule: &Schedule, slot: DateTime<Utc>, action: Option<(AgentId, ActionState)>) -> Work {
    let run = |agent_id, action_id, instruction: &String| NewRun {
        agent_id,
        action_id,
        instruction: instruction.clone(),
        limits: RunLimits::default(),
        run_at: None,
    };
    match &schedule.target {
        ScheduleTarget::Agent { agent_id, instruction } => Work::Run(run(*agent_id, None, instruction)),
        ScheduleTarget::Action { action_id, instruction } => match action {
            None => Work::Refused(format!("action {action_id} no longer exists")),
            Some((_, ActionState::Dismissed)) => Work::Refused(format!("action {action_id} was dismissed")),
            Some((agent, state)) if state.check_transition(ActionState::Scheduled).is_ok() => {
                Work::ScheduleAction(run(agent, Some(*action_id), instruction))
            }
            Some((agent, _)) => Work::Run(run(agent, Some(*action_id), instruction)),
        },
        ScheduleTarget::Routine { routine } => Work::Job(
            NewJob::new(
                ROUTINE_JOB_KIND,
                RoutineRunPayload { routine: routine.clone(), schedule: schedule.name.clone(), slot: text(slot) }
                    .to_json(),
            )
            .with_key(fire_key(schedule.id, slot)),
        ),
        ScheduleTarget::Job { job_kind, payload } => {
            Work::Job(NewJob::new(job_kind.clone(), payload.clone()).with_key(fire_key(schedule.id, slot)))
        }
    }
}

/// What is known of an earlier fire's work: its job's state, and its run's
/// status and outcome when it started a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct WorkState {
    pub job: JobState,
    pub run: Option<(RunStatus, Option<RunOutcome>)>,
}

/// How a fire's work ended, or `None` while it runs. A run's outcome
/// counts (its job may end while the run waits for approval).
pub(crate) fn outcome_of(work: WorkState) -> Option<FireOutcome> {
    match work.run {
        Some((RunStatus::Finished, Some(RunOutcome::Completed))) => Some(FireOutcome::Completed),
        Some((RunStatus::Finished, Some(RunOutcome::Cancelled))) => Some(FireOutcome::Cancelled),
        Some((RunStatus::Finished, _)) => Some(FireOutcome::Failed),
        Some(_) => None,
        None => match work.job {
            JobState::Completed => Some(FireOutcome::Completed),
            JobState::Cancelled => Some(FireOutcome::Cancelled),
            JobState::Dead => Some(FireOutcome::Failed),
            _ => None,
        },
    }
}

/// After a fire ended with `outcome`: the schedule's count of consecutive
/// failed fires, and the reason to pause it when the count reached its limit.
pub(crate) fn after_outcome(
    consecutive: u32,
    outcome: FireOutcome,
    pause_on_failures: Option<u32>,
) -> (u32, Option<String>) {
    match outcome {
        FireOutcome::Failed => {
            let count = consecutive.saturating_add(1);
            let pause = pause_on_failures
                .filter(|limit| count >= *limit)
                .map(|_| format!("paused after {count} failed fires in a row"));
            (count, pause)
        }
        FireOutcome::Completed => (0, None),
        FireOutcome::Cancelled => (consecutive, None),
    }
}

/// The status a started fire records, and the detail of an overlap refusal.
pub(crate) fn overlap_row(decision: OverlapDecision, running: &[String]) -> Option<(FireStatus, String)> {
    let what = running.join(", ");
    match decision {
        OverlapDecision::Start | OverlapDecision::CancelRunningThenStart => None,
        OverlapDecision::Skip => Some((FireStatus::Skipped, format!("overlap: {what} still running"))),
        OverlapDecision::Buffer => Some((FireStatus::Buffered, format!("overlap: waits for {what}"))),
    }
}

/// A precondition that was false turns a fire into `skipped_no_change`.
pub(crate) fn no_change_row(slot: DateTime<Utc>) -> SlotRow {
    SlotRow { slot, status: FireStatus::SkippedNoChange, detail: Some("precondition false: nothing changed".into()) }
}

/// The slots of a backfill from `from` to `to`, refused when too many.
pub(crate) fn backfill_slots(
    schedule: &Schedule,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    if to < from {
        return Err(StoreError::invalid("to", "must not be before from"));
    }
    let after = from - TimeDelta::microseconds(1);
    let slots: Vec<DateTime<Utc>> = schedule
        .when
        .fire_times(schedule.zone, after)
        .take_while(|slot| *slot <= to)
        .take(MAX_BACKFILL_SLOTS + 1)
        .collect();
    if slots.len() > MAX_BACKFILL_SLOTS {
        return Err(StoreError::invalid(
            "to",
            format!("the interval holds more than {MAX_BACKFILL_SLOTS} slots; backfill a shorter one"),
        ));
    }
    Ok(slots)
}

pub(crate) fn fired_event(fire: &ScheduleFire) -> NewEvent {
    NewEvent::ScheduleFired {
        schedule: fire.schedule_id,
        slot: fire.slot,
        status: fire.status,
        job_id: fire.job_id,
        run_id: fire.run_id,
        detail: fire.detail.clone(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use steward_domain::JobState;

    use super::*;

    #[test]
    fn a_run_counts_over_its_job_and_failures_pause_at_the_limit() {
        let job_done = |run| WorkState { job: JobState::Completed, run };
        assert_eq!(outcome_of(job_done(Some((RunStatus::AwaitingApproval, None)))), None);
        assert_eq!(
            outcome_of(job_done(Some((RunStatus::Finished, Some(RunOutcome::MaxSteps))))),
            Some(FireOutcome::Failed)
        );
        assert_eq!(outcome_of(WorkState { job: JobState::Dead, run: None }), Some(FireOutcome::Failed));
        assert_eq!(outcome_of(WorkState { job: JobState::Running, run: None }), None);
        assert_eq!(after_outcome(1, FireOutcome::Failed, Some(3)), (2, None));
        assert_eq!(after_outcome(2, FireOutcome::Failed, Some(3)).1.unwrap(), "paused after 3 failed fires in a row");
        assert_eq!(after_outcome(2, FireOutcome::Completed, Some(3)), (0, None));
        assert_eq!(after_outcome(2, FireOutcome::Failed, None), (3, None));
    }

    #[test]
    fn fire_keys_name_the_schedule_and_the_slot() {
        let slot = Utc.with_ymd_and_hms(2030, 1, 1, 8, 0, 0).unwrap();
        assert_eq!(fire_key(ScheduleId(3), slot), format!("schedule:3:{}", slot.timestamp_micros()));
        assert_ne!(fire_key(ScheduleId(3), slot), fire_key(ScheduleId(3), slot + TimeDelta::seconds(1)));
    }
}
