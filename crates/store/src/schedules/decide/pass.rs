//! One firing pass over a batch of due schedules, decided in memory for
//! both databases: for each schedule, from its row, its precondition's
//! check and the work its earlier fires still run, which slots are recorded
//! with which status, which one starts work (cancelling what), and where
//! the schedule moves on to. The backend reads everything a batch needs in
//! a few statements, applies the passes in a few more, and builds the fires
//! it recorded with [`recorded`].

use chrono::{DateTime, Utc};
use steward_domain::schedule::{FireStatus, OverlapDecision, Schedule, ScheduleFire};
use steward_domain::{JobId, NewEvent, RunId};

use super::{SlotRow, describe_running, fire_at, no_change_row, not_fired_event, not_fired_rows, overlap_row, plan};
use crate::schedules::PreconditionCheck;

/// What a schedule's earlier fires leave when a pass begins.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct EarlierWork {
    /// Work of earlier fires still running: (run, job).
    pub running: Vec<(Option<RunId>, JobId)>,
    /// Fires waiting in the buffer.
    pub buffered: usize,
}

/// The fire that starts work, once its slot is recorded.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Start {
    pub slot: DateTime<Utc>,
    /// Earlier work to cancel first (`cancel_running`).
    pub cancel: Vec<(Option<RunId>, JobId)>,
}

/// One schedule's part of a pass.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SchedulePass {
    /// Due slots that do not fire (missed, coalesced), recorded silently
    /// but for [`SchedulePass::not_fired_event`].
    pub not_fired: Vec<SlotRow>,
    pub not_fired_event: Option<NewEvent>,
    /// Slots recorded as fires, each with a `schedule.fired` event: the one
    /// that starts work, or those a precondition or the overlap policy held.
    pub fires: Vec<SlotRow>,
    pub start: Option<Start>,
    pub handled_through: DateTime<Utc>,
    pub next_slot: Option<DateTime<Utc>>,
    pub next_fire_at: Option<DateTime<Utc>>,
    pub precondition_state: Option<String>,
}

/// Decides one due schedule's part of a pass at `now`. `None` when several
/// slots fire (`run_all` after downtime): each one's overlap decision
/// depends on the work the one before started, so the backend fires them
/// one at a time, reading that work back in between.
pub(crate) fn decide(
    schedule: &Schedule,
    check: Option<&PreconditionCheck>,
    earlier: &EarlierWork,
    now: DateTime<Utc>,
) -> Option<SchedulePass> {
    let plan = plan(schedule, now);
    let passed = super::precondition_passed(schedule, check);
    if passed && plan.fires.len() > 1 {
        return None;
    }
    let not_fired = not_fired_rows(&plan);
    let mut fires = Vec::new();
    let mut start = None;
    for planned in &plan.fires {
        let slot = planned.slot;
        if !passed {
            fires.push(no_change_row(slot));
            continue;
        }
        let decision = schedule.policies.overlap.decide(!earlier.running.is_empty(), earlier.buffered);
        match overlap_row(decision, &describe_running(&earlier.running)) {
            Some((status, detail)) => fires.push(SlotRow { slot, status, detail: Some(detail) }),
            None => {
                let cancel = if decision == OverlapDecision::CancelRunningThenStart {
                    earlier.running.clone()
                } else {
                    Vec::new()
                };
                fires.push(SlotRow { slot, status: FireStatus::Fired, detail: None });
                start = Some(Start { slot, cancel });
            }
        }
    }
    Some(SchedulePass {
        not_fired_event: not_fired_event(schedule.id, &not_fired),
        not_fired,
        fires,
        start,
        handled_through: plan.handled_through,
        next_slot: plan.next_slot,
        next_fire_at: fire_at(schedule.id, plan.next_slot, schedule.policies.jitter),
        precondition_state: super::precondition_state(schedule, check, !plan.fires.is_empty()),
    })
}

/// The fire a recorded row became: `started` is what starting its work
/// gave, for the row that started work (a refusal turns it into a skip).
pub(crate) fn recorded(
    schedule: &Schedule,
    row: &SlotRow,
    started: Option<&Result<(JobId, Option<RunId>), String>>,
    now: DateTime<Utc>,
) -> ScheduleFire {
    let mut fire = ScheduleFire {
        schedule_id: schedule.id,
        slot: row.slot,
        fired_at: now,
        status: row.status,
        job_id: None,
        run_id: None,
        outcome: None,
        detail: row.detail.clone(),
    };
    match started {
        Some(Ok((job, run))) => {
            fire.job_id = Some(*job);
            fire.run_id = *run;
        }
        Some(Err(reason)) => {
            fire.status = FireStatus::Skipped;
            fire.detail = Some(reason.clone());
        }
        None => {}
    }
    fire
}
