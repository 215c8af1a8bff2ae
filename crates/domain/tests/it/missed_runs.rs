//! Missed-run planning, by example: what fires and what is recorded after a
//! downtime, for each policy, with the catch-up window and the on-time grace.

use chrono::{DateTime, TimeDelta, Utc};
use steward_domain::schedule::{
    DuePlan, DueSlots, FireReason, MissedReason, MissedRunPolicy, MissedRunSettings, NotFired, NotFiredSlot,
    PlannedFire, SlotCount, SlotSpan, plan_due_slots,
};

use crate::support::{instant, when, zone};

fn plan(when_text: &str, policy: MissedRunPolicy, window: TimeDelta, handled_through: &str, now: &str) -> DuePlan {
    let parsed = when(when_text);
    plan_due_slots(&DueSlots {
        when: &parsed,
        zone: zone("UTC"),
        settings: MissedRunSettings::new(policy, window).unwrap(),
        handled_through: instant(handled_through),
        now: instant(now),
        on_time_grace: TimeDelta::minutes(1),
    })
}

fn fire(slot: &str, reason: FireReason) -> PlannedFire {
    PlannedFire { slot: instant(slot), reason }
}

fn coalesced(slot: &str, into: &str) -> NotFiredSlot {
    NotFiredSlot { slot: instant(slot), outcome: NotFired::Coalesced { into: instant(into) } }
}

fn missed(slot: &str, reason: MissedReason) -> NotFiredSlot {
    NotFiredSlot { slot: instant(slot), outcome: NotFired::Missed(reason) }
}

fn at(text: &str) -> DateTime<Utc> {
    instant(text)
}

const DAY: TimeDelta = TimeDelta::days(1);

#[test]
fn a_slot_on_time_fires_and_nothing_else_happens() {
    let plan =
        plan("every minute", MissedRunPolicy::CatchUpOnce, DAY, "2025-01-01T09:59:00Z", "2025-01-01T10:00:00.005Z");
    assert_eq!(plan.fires, [fire("2025-01-01T10:00:00Z", FireReason::OnTime)]);
    assert!(plan.not_fired.is_empty() && plan.summarized.is_empty());
    assert_eq!(plan.handled_through, at("2025-01-01T10:00:00Z"));
    assert_eq!(plan.next_slot, Some(at("2025-01-01T10:01:00Z")));

    let idle = plan_due_slots(&DueSlots {
        when: &when("every minute"),
        zone: zone("UTC"),
        settings: MissedRunSettings::default(),
        handled_through: plan.handled_through,
        now: at("2025-01-01T10:00:30Z"),
        on_time_grace: TimeDelta::minutes(1),
    });
    assert!(idle.fires.is_empty() && idle.not_fired.is_empty() && idle.summarized.is_empty());
    assert_eq!(idle.handled_through, plan.handled_through);
}

/// Down from 06:30 to 09:30: the 07:00, 08:00 and 09:00 slots were missed.
#[test]
fn after_downtime_each_policy_decides_the_missed_slots() {
    let (handled, now) = ("2025-01-01T06:00:00Z", "2025-01-01T09:30:00Z");

    let catch_up = plan("0 * * * *", MissedRunPolicy::CatchUpOnce, DAY, handled, now);
    assert_eq!(catch_up.fires, [fire("2025-01-01T09:00:00Z", FireReason::CatchUp)]);
    assert_eq!(
        catch_up.not_fired,
        [
            coalesced("2025-01-01T07:00:00Z", "2025-01-01T09:00:00Z"),
            coalesced("2025-01-01T08:00:00Z", "2025-01-01T09:00:00Z")
        ]
    );
    assert_eq!(catch_up.handled_through, at("2025-01-01T09:00:00Z"));
    assert_eq!(catch_up.next_slot, Some(at("2025-01-01T10:00:00Z")));

    let skip = plan("0 * * * *", MissedRunPolicy::Skip, DAY, handled, now);
    assert!(skip.fires.is_empty());
    assert_eq!(
        skip.not_fired,
        [
            missed("2025-01-01T07:00:00Z", MissedReason::SkipPolicy),
            missed("2025-01-01T08:00:00Z", MissedReason::SkipPolicy),
            missed("2025-01-01T09:00:00Z", MissedReason::SkipPolicy),
        ]
    );

    let run_all = plan("0 * * * *", MissedRunPolicy::RunAll { max_runs: 2 }, DAY, handled, now);
    assert_eq!(
        run_all.fires,
        [fire("2025-01-01T08:00:00Z", FireReason::CatchUp), fire("2025-01-01T09:00:00Z", FireReason::CatchUp)]
    );
    assert_eq!(run_all.not_fired, [missed("2025-01-01T07:00:00Z", MissedReason::OverRunAllLimit)]);
}

/// Back exactly at 09:00: that slot is on time, the two before it are late.
#[test]
fn an_on_time_slot_stands_for_the_missed_ones_under_catch_up_once() {
    let (handled, now) = ("2025-01-01T06:00:00Z", "2025-01-01T09:00:00.500Z");
    let catch_up = plan("0 * * * *", MissedRunPolicy::CatchUpOnce, DAY, handled, now);
    assert_eq!(catch_up.fires, [fire("2025-01-01T09:00:00Z", FireReason::OnTime)]);
    assert_eq!(
        catch_up.not_fired,
        [
            coalesced("2025-01-01T07:00:00Z", "2025-01-01T09:00:00Z"),
            coalesced("2025-01-01T08:00:00Z", "2025-01-01T09:00:00Z")
        ]
    );

    let skip = plan("0 * * * *", MissedRunPolicy::Skip, DAY, handled, now);
    assert_eq!(skip.fires, [fire("2025-01-01T09:00:00Z", FireReason::OnTime)]);
    assert_eq!(skip.not_fired.len(), 2);

    let run_all = plan("0 * * * *", MissedRunPolicy::RunAll { max_runs: 10 }, DAY, handled, now);
    assert_eq!(
        run_all.fires,
        [
            fire("2025-01-01T07:00:00Z", FireReason::CatchUp),
            fire("2025-01-01T08:00:00Z", FireReason::CatchUp),
            fire("2025-01-01T09:00:00Z", FireReason::OnTime),
        ]
    );
    assert!(run_all.not_fired.is_empty());
}

/// Down from 1 January after the 08:00 report until 07:00 on the 5th: the
/// 4th's report is 23 hours old and is caught up; the 2nd's and 3rd's are
/// beyond the one-day window.
#[test]
fn slots_older_than_the_catchup_window_are_missed_whatever_the_policy() {
    let (handled, now) = ("2025-01-01T08:00:00Z", "2025-01-05T07:00:00Z");
    for policy in [MissedRunPolicy::CatchUpOnce, MissedRunPolicy::RunAll { max_runs: 10 }] {
        let plan = plan("daily at 08:00", policy, DAY, handled, now);
        assert_eq!(plan.fires, [fire("2025-01-04T08:00:00Z", FireReason::CatchUp)], "{policy}");
        assert_eq!(
            plan.not_fired,
            [
                missed("2025-01-02T08:00:00Z", MissedReason::OutsideCatchupWindow),
                missed("2025-01-03T08:00:00Z", MissedReason::OutsideCatchupWindow),
            ],
            "{policy}"
        );
        assert_eq!(plan.next_slot, Some(at("2025-01-05T08:00:00Z")));
    }
}

/// Six hours of an every-second schedule: 21,600 due slots. The newest
/// thousand are listed; the rest are counted in two spans.
#[test]
fn a_dense_schedule_after_a_long_downtime_is_summarised() {
    let plan = plan(
        "* * * * * *",
        MissedRunPolicy::CatchUpOnce,
        TimeDelta::hours(1),
        "2025-01-01T00:00:00Z",
        "2025-01-01T06:00:00Z",
    );
    assert_eq!(plan.fires, [fire("2025-01-01T06:00:00Z", FireReason::OnTime)]);
    assert_eq!(plan.not_fired.len(), 999);
    assert_eq!(plan.not_fired[0], coalesced("2025-01-01T05:43:21Z", "2025-01-01T06:00:00Z"));
    assert_eq!(plan.not_fired[998], coalesced("2025-01-01T05:59:59Z", "2025-01-01T06:00:00Z"));
    assert_eq!(
        plan.summarized,
        [
            SlotSpan {
                first_slot: at("2025-01-01T00:00:01Z"),
                through: at("2025-01-01T04:59:59Z"),
                count: SlotCount::Exactly(17_999),
                outcome: NotFired::Missed(MissedReason::OutsideCatchupWindow),
            },
            SlotSpan {
                first_slot: at("2025-01-01T05:00:00Z"),
                through: at("2025-01-01T05:43:20Z"),
                count: SlotCount::Exactly(2_601),
                outcome: NotFired::Coalesced { into: at("2025-01-01T06:00:00Z") },
            },
        ]
    );
    assert_eq!(plan.handled_through, at("2025-01-01T06:00:00Z"));
}

/// Three days of an every-second schedule: counting stops at 100,000.
#[test]
fn spans_too_long_to_count_say_at_least() {
    let plan =
        plan("* * * * * *", MissedRunPolicy::Skip, TimeDelta::hours(1), "2025-01-01T00:00:00Z", "2025-01-04T00:00:00Z");
    assert_eq!(plan.summarized[0].first_slot, at("2025-01-01T00:00:01Z"));
    assert_eq!(plan.summarized[0].count, SlotCount::AtLeast(100_000));
    assert_eq!(plan.summarized[0].through, at("2025-01-03T23:00:00Z") - TimeDelta::nanoseconds(1));
    assert_eq!(plan.summarized[1].count, SlotCount::Exactly(2_601));
    assert_eq!(plan.fires, [fire("2025-01-04T00:00:00Z", FireReason::OnTime)]);
    assert_eq!(plan.not_fired.len(), 999);
}

#[test]
fn a_missed_one_shot_fires_once_late_or_is_recorded() {
    let (handled, now) = ("2024-12-31T00:00:00Z", "2025-01-01T12:00:00Z");
    let once = "at 2025-01-01T09:00:00Z";
    let late = plan(once, MissedRunPolicy::CatchUpOnce, DAY, handled, now);
    assert_eq!(late.fires, [fire("2025-01-01T09:00:00Z", FireReason::CatchUp)]);
    assert_eq!(late.next_slot, None);
    let skipped = plan(once, MissedRunPolicy::Skip, DAY, handled, now);
    assert_eq!(skipped.not_fired, [missed("2025-01-01T09:00:00Z", MissedReason::SkipPolicy)]);
}

#[test]
fn policies_parse_and_print() {
    assert_eq!("catch_up_once".parse::<MissedRunPolicy>().unwrap(), MissedRunPolicy::CatchUpOnce);
    assert_eq!("skip".parse::<MissedRunPolicy>().unwrap(), MissedRunPolicy::Skip);
    assert_eq!("run_all".parse::<MissedRunPolicy>().unwrap(), MissedRunPolicy::RunAll { max_runs: 10 });
    assert_eq!("run_all:3".parse::<MissedRunPolicy>().unwrap().to_string(), "run_all:3");
    assert_eq!(MissedRunPolicy::default(), MissedRunPolicy::CatchUpOnce);
    let error = "run_all:0".parse::<MissedRunPolicy>().unwrap_err();
    assert_eq!(
        (error.field.as_str(), error.message.as_str()),
        ("missed", "`run_all:0`: the N of run_all:N must be from 1 to 500")
    );
    let error = "sometimes".parse::<MissedRunPolicy>().unwrap_err();
    assert!(error.message.contains("catch_up_once, skip, run_all, run_all:N"), "{error}");
    let error = MissedRunSettings::new(MissedRunPolicy::Skip, TimeDelta::zero()).unwrap_err();
    assert_eq!(error.field, "catchup_window");
}
