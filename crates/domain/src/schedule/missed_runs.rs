//! Missed runs: after downtime or a pause, which due slots fire and which are
//! recorded as coalesced or missed, and why. [`plan_due_slots`] is the pure
//! decision the firing loop applies; it reads no clock and stores nothing.
//!
//! A slot is *due* when it lies after the last slot handled and at or before
//! now. The newest due slot is *on time* when it is at most the grace old (the
//! scheduler woke a little late); every other due slot is *late*. A late slot
//! older than the catch-up window is missed, whatever the policy. The late
//! slots inside the window are handled by the policy:
//! - `catch_up_once`: one fire stands for all of them — the on-time fire if
//!   there is one, else a catch-up fire of the newest; the rest are recorded
//!   as coalesced into it;
//! - `skip`: none fires; each is recorded as missed;
//! - `run_all`: the newest `max_runs` fire, oldest first; older ones are
//!   missed.
//!
//! Due slots are listed one by one up to [`LISTED_SLOTS_LIMIT`] (the newest);
//! older ones, which a dense schedule can have by the million after a long
//! downtime, are summarised in counted spans.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};

use super::when::When;
use super::zone::ScheduleZone;
use crate::text_enum::text_enum;
use crate::validation::ValidationError;

/// At most this many due slots are listed one by one.
pub const LISTED_SLOTS_LIMIT: usize = 1_000;
/// Slots in a summarised span are counted up to this many.
pub const COUNTED_SLOTS_LIMIT: u64 = 100_000;
/// `run_all` without a number fires at most this many missed slots.
pub const DEFAULT_RUN_ALL_MAX: u32 = 10;
/// `run_all` fires at most this many missed slots, whatever it asks for. It
/// stays below [`LISTED_SLOTS_LIMIT`], so the slots it fires are all among
/// the listed ones (which hold at most one on-time slot besides).
pub const MAX_RUN_ALL_MAX: u32 = 500;
/// How far back missed slots are caught up by default.
pub const DEFAULT_CATCHUP_WINDOW: TimeDelta = TimeDelta::days(1);

/// What happens to slots missed during downtime or a pause.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MissedRunPolicy {
    /// One fire for all missed slots. The default.
    #[default]
    CatchUpOnce,
    /// Missed slots do not fire.
    Skip,
    /// Every missed slot fires, oldest first, at most `max_runs` of them (the
    /// newest; `max_runs` is capped at [`MAX_RUN_ALL_MAX`]).
    RunAll { max_runs: u32 },
}

impl fmt::Display for MissedRunPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MissedRunPolicy::CatchUpOnce => f.write_str("catch_up_once"),
            MissedRunPolicy::Skip => f.write_str("skip"),
            MissedRunPolicy::RunAll { max_runs } => write!(f, "run_all:{max_runs}"),
        }
    }
}

impl FromStr for MissedRunPolicy {
    type Err = ValidationError;

    /// `catch_up_once`, `skip`, `run_all` (at most [`DEFAULT_RUN_ALL_MAX`]) or
    /// `run_all:N` with N from 1 to [`MAX_RUN_ALL_MAX`].
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |message: String| ValidationError::new("missed", message);
        match text {
            "catch_up_once" => Ok(MissedRunPolicy::CatchUpOnce),
            "skip" => Ok(MissedRunPolicy::Skip),
            "run_all" => Ok(MissedRunPolicy::RunAll { max_runs: DEFAULT_RUN_ALL_MAX }),
            _ => match text.strip_prefix("run_all:").map(str::parse::<u32>) {
                Some(Ok(max_runs)) if (1..=MAX_RUN_ALL_MAX).contains(&max_runs) => {
                    Ok(MissedRunPolicy::RunAll { max_runs })
                }
                Some(_) => Err(error(format!("`{text}`: the N of run_all:N must be from 1 to {MAX_RUN_ALL_MAX}"))),
                None => Err(error(format!(
                    "unknown value {text:?}; expected one of catch_up_once, skip, run_all, run_all:N"
                ))),
            },
        }
    }
}

/// A schedule's missed-run policy and how far back it reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MissedRunSettings {
    pub policy: MissedRunPolicy,
    /// Late slots older than this are missed whatever the policy.
    pub catchup_window: TimeDelta,
}

impl Default for MissedRunSettings {
    fn default() -> Self {
        MissedRunSettings { policy: MissedRunPolicy::default(), catchup_window: DEFAULT_CATCHUP_WINDOW }
    }
}

impl MissedRunSettings {
    /// Checks the window: positive, at most a year.
    pub fn new(policy: MissedRunPolicy, catchup_window: TimeDelta) -> Result<Self, ValidationError> {
        if catchup_window <= TimeDelta::zero() || catchup_window > TimeDelta::days(366) {
            return Err(ValidationError::new("catchup_window", "must be more than zero and at most 366 days"));
        }
        Ok(MissedRunSettings { policy, catchup_window })
    }
}

text_enum!(
    /// Why a due slot was recorded as missed.
    MissedReason, "reason", {
        /// Older than the catch-up window.
        OutsideCatchupWindow => "outside_catchup_window",
        /// The policy is `skip`.
        SkipPolicy => "skip_policy",
        /// Beyond the newest `max_runs` of `run_all`.
        OverRunAllLimit => "over_run_all_limit",
    }
);

/// Why a slot fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FireReason {
    /// The newest due slot, at most the grace late.
    OnTime,
    /// A late slot caught up by the policy.
    CatchUp,
}

/// A slot to fire now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlannedFire {
    pub slot: DateTime<Utc>,
    pub reason: FireReason,
}

/// What is recorded for a due slot that does not fire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotFired {
    /// Stood for by the fire of slot `into`.
    Coalesced {
        into: DateTime<Utc>,
    },
    Missed(MissedReason),
}

/// A due slot that does not fire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotFiredSlot {
    pub slot: DateTime<Utc>,
    pub outcome: NotFired,
}

/// How many slots a span holds: exactly, or at least (counting stopped at
/// [`COUNTED_SLOTS_LIMIT`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotCount {
    Exactly(u64),
    AtLeast(u64),
}

/// Older due slots that do not fire, summarised: all slots from `first_slot`
/// to `through` (inclusive) share `outcome`. `through` is the span's last slot
/// when the count is exact, else a bound no slot of the span is after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotSpan {
    pub first_slot: DateTime<Utc>,
    pub through: DateTime<Utc>,
    pub count: SlotCount,
    pub outcome: NotFired,
}

/// What to do about the due slots of one schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuePlan {
    /// Slots to fire, oldest first.
    pub fires: Vec<PlannedFire>,
    /// The newest due slots that do not fire, oldest first.
    pub not_fired: Vec<NotFiredSlot>,
    /// Older due slots that do not fire, oldest first, not listed one by one.
    pub summarized: Vec<SlotSpan>,
    /// The newest due slot, where the next plan starts; the input's
    /// `handled_through` when nothing was due.
    pub handled_through: DateTime<Utc>,
    /// The first slot after now: when to wake next.
    pub next_slot: Option<DateTime<Utc>>,
}

/// The input of [`plan_due_slots`].
#[derive(Clone, Copy, Debug)]
pub struct DueSlots<'a> {
    pub when: &'a When,
    pub zone: ScheduleZone,
    pub settings: MissedRunSettings,
    /// Slots after this instant are due: the last slot fired or recorded, or
    /// the creation (or resumption) of a schedule that has fired none since.
    pub handled_through: DateTime<Utc>,
    pub now: DateTime<Utc>,
    /// How late the newest due slot may be and still count as on time.
    pub on_time_grace: TimeDelta,
}

/// Decides which due slots fire now and what is recorded for the others.
pub fn plan_due_slots(input: &DueSlots<'_>) -> DuePlan {
    let window_start = input.now.checked_sub_signed(input.settings.catchup_window).unwrap_or(DateTime::<Utc>::MIN_UTC);
    // The last instant before the window: where spans outside it end.
    let before_window = window_start.checked_sub_signed(TimeDelta::nanoseconds(1)).unwrap_or(window_start);
    let (listed, unlisted_through) = newest_due_slots(input);
    let handled_through = listed.last().copied().unwrap_or(input.handled_through);
    let on_time = listed.last().copied().filter(|slot| input.now - *slot <= input.on_time_grace);
    let late = &listed[..listed.len() - usize::from(on_time.is_some())];
    let (catchable, outside): (Vec<_>, Vec<_>) = late.iter().copied().partition(|slot| *slot >= window_start);

    let mut fires: Vec<PlannedFire> = Vec::new();
    let mut not_fired: Vec<NotFiredSlot> = outside
        .iter()
        .map(|slot| NotFiredSlot { slot: *slot, outcome: NotFired::Missed(MissedReason::OutsideCatchupWindow) })
        .collect();
    // The outcome of catchable slots that do not fire.
    let policy_outcome = match input.settings.policy {
        MissedRunPolicy::CatchUpOnce => {
            let into = on_time.or(catchable.last().copied());
            if on_time.is_none()
                && let Some(newest) = into
            {
                fires.push(PlannedFire { slot: newest, reason: FireReason::CatchUp });
            }
            into.map(|into| NotFired::Coalesced { into })
        }
        MissedRunPolicy::Skip => Some(NotFired::Missed(MissedReason::SkipPolicy)),
        MissedRunPolicy::RunAll { max_runs } => {
            let first_fired = catchable.len().saturating_sub(max_runs.min(MAX_RUN_ALL_MAX) as usize);
            fires.extend(
                catchable[first_fired..].iter().map(|slot| PlannedFire { slot: *slot, reason: FireReason::CatchUp }),
            );
            Some(NotFired::Missed(MissedReason::OverRunAllLimit))
        }
    };
    let fired: Vec<DateTime<Utc>> = fires.iter().map(|fire| fire.slot).collect();
    if let Some(outcome) = policy_outcome {
        not_fired.extend(
            catchable.iter().filter(|slot| !fired.contains(slot)).map(|slot| NotFiredSlot { slot: *slot, outcome }),
        );
    }
    if let Some(slot) = on_time {
        fires.push(PlannedFire { slot, reason: FireReason::OnTime });
    }
    not_fired.sort_by_key(|record| record.slot);

    let mut summarized = Vec::new();
    if let Some(through) = unlisted_through {
        let outside_through = through.min(before_window);
        let outside = NotFired::Missed(MissedReason::OutsideCatchupWindow);
        summarized.extend(span(input, input.handled_through, outside_through, outside));
        if let Some(outcome) = policy_outcome {
            let after = input.handled_through.max(before_window);
            summarized.extend(span(input, after, through, outcome));
        }
    }
    DuePlan { fires, not_fired, summarized, handled_through, next_slot: input.when.next_after(input.zone, input.now) }
}

/// The newest due slots, at most [`LISTED_SLOTS_LIMIT`] of them, and, when
/// there are older ones, the instant through which they lie.
fn newest_due_slots(input: &DueSlots<'_>) -> (Vec<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let due_after = |after: DateTime<Utc>| {
        input.when.fire_times(input.zone, after).take_while(|slot| *slot <= input.now).take(LISTED_SLOTS_LIMIT + 1)
    };
    let all: Vec<DateTime<Utc>> = due_after(input.handled_through).collect();
    if all.len() <= LISTED_SLOTS_LIMIT {
        return (all, None);
    }
    // Too many: bisect (to the second) for the latest instant after which
    // few enough slots are due. Each probe lists at most the limit plus one.
    // Slots are whole seconds, so exactly one lies in the last second
    // bisected: the newest slot not listed.
    let mut too_early = input.handled_through;
    let mut late_enough = input.now;
    while late_enough - too_early > TimeDelta::seconds(1) {
        let middle = too_early + (late_enough - too_early) / 2;
        if due_after(middle).count() <= LISTED_SLOTS_LIMIT {
            late_enough = middle;
        } else {
            too_early = middle;
        }
    }
    (due_after(late_enough).collect(), input.when.next_after(input.zone, too_early))
}

/// The slots after `after` and at or before `bound`, counted, as a span.
fn span(input: &DueSlots<'_>, after: DateTime<Utc>, bound: DateTime<Utc>, outcome: NotFired) -> Option<SlotSpan> {
    let first_slot = input.when.next_after(input.zone, after).filter(|first| *first <= bound)?;
    let mut counted: u64 = 0;
    let mut last_slot = first_slot;
    for slot in input.when.fire_times(input.zone, after).take_while(|slot| *slot <= bound) {
        if counted == COUNTED_SLOTS_LIMIT {
            return Some(SlotSpan { first_slot, through: bound, count: SlotCount::AtLeast(counted), outcome });
        }
        counted += 1;
        last_slot = slot;
    }
    Some(SlotSpan { first_slot, through: last_slot, count: SlotCount::Exactly(counted), outcome })
}
