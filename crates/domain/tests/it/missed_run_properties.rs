//! Property tests of missed-run planning: for random schedules, policies,
//! windows and downtimes, every due slot is accounted for exactly once, fires
//! obey the policy and the window, and planning again from where a plan left
//! off finds nothing new.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use proptest::sample::select;
use steward_domain::schedule::{
    DueSlots, FireReason, MissedReason, MissedRunPolicy, MissedRunSettings, NotFired, ScheduleZone, SlotCount, When,
    plan_due_slots,
};

/// Schedules, each with the longest downtime tried: short enough for the
/// brute force to list every due slot and for spans to be counted exactly
/// (under 100,000 slots), long enough to need summarised spans.
const WHENS: &[(&str, i64)] = &[
    ("* * * * * *", 6 * 3600),
    ("*/10 * * * * *", 86_400),
    ("every minute", 2 * 86_400),
    ("*/5 * * * *", 2 * 86_400),
    ("0 * * * *", 2 * 86_400),
    ("every 7 minutes", 2 * 86_400),
    ("30 1 * * *", 2 * 86_400),
    ("@daily", 2 * 86_400),
    ("at 2025-01-02T12:00:00Z", 2 * 86_400),
];

fn policy() -> impl Strategy<Value = MissedRunPolicy> {
    prop_oneof![
        Just(MissedRunPolicy::CatchUpOnce),
        Just(MissedRunPolicy::Skip),
        (1u32..30).prop_map(|max_runs| MissedRunPolicy::RunAll { max_runs }),
        // The largest cap, with a dense schedule, reaches past the slots
        // listed one by one.
        Just(MissedRunPolicy::RunAll { max_runs: 500 }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_due_slot_is_accounted_for_once_and_fires_obey_the_policy(
        (when_text, longest_downtime) in select(WHENS),
        zone_name in select(&["UTC", "America/New_York", "Australia/Lord_Howe"][..]),
        policy in policy(),
        window_seconds in 1i64..(3 * 86_400),
        grace_seconds in 0i64..120,
        start_offset in 0i64..(3 * 86_400),
        downtime_fraction in 0.0f64..1.0,
    ) {
        let when = When::parse(when_text).unwrap();
        let zone = ScheduleZone::parse("tz", zone_name).unwrap();
        let window = TimeDelta::seconds(window_seconds);
        let grace = TimeDelta::seconds(grace_seconds);
        let handled_through = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap() + TimeDelta::seconds(start_offset);
        let now = handled_through + TimeDelta::milliseconds((downtime_fraction * longest_downtime as f64 * 1000.0) as i64);
        let input = DueSlots {
            when: &when,
            zone,
            settings: MissedRunSettings::new(policy, window).unwrap(),
            handled_through,
            now,
            on_time_grace: grace,
        };
        let plan = plan_due_slots(&input);

        // Brute force: every due slot.
        let due: Vec<DateTime<Utc>> = when.fire_times(zone, handled_through).take_while(|slot| *slot <= now).collect();
        let window_start = now - window;

        // Listed slots: the newest due slots, each once, fired or not.
        let mut listed: Vec<DateTime<Utc>> = plan.fires.iter().map(|fire| fire.slot).collect();
        listed.extend(plan.not_fired.iter().map(|record| record.slot));
        listed.sort();
        let distinct: BTreeSet<_> = listed.iter().collect();
        prop_assert_eq!(distinct.len(), listed.len(), "a slot listed twice");
        prop_assert_eq!(&listed[..], &due[due.len() - listed.len()..], "listed slots are not the newest due ones");

        // Summarised spans: older than every listed slot, counted exactly
        // (there are fewer than the counting limit here), adding up.
        let mut accounted = listed.len() as u64;
        let mut previous_through = handled_through;
        for span in &plan.summarized {
            let SlotCount::Exactly(count) = span.count else { panic!("{span:?} not counted exactly") };
            let inside: Vec<_> = due.iter().filter(|slot| **slot >= span.first_slot && **slot <= span.through).collect();
            prop_assert_eq!(inside.len() as u64, count);
            prop_assert!(span.first_slot > previous_through && Some(&span.through) < listed.first());
            match span.outcome {
                NotFired::Missed(MissedReason::OutsideCatchupWindow) => prop_assert!(span.through < window_start),
                _ => prop_assert!(span.first_slot >= window_start),
            }
            previous_through = span.through;
            accounted += count;
        }
        prop_assert_eq!(accounted, due.len() as u64, "due slots missing from the plan");

        // Fires: in order, due, on time only for the newest slot within the
        // grace, caught up only inside the window.
        let fired: Vec<DateTime<Utc>> = plan.fires.iter().map(|fire| fire.slot).collect();
        prop_assert!(fired.windows(2).all(|pair| pair[0] < pair[1]));
        for fire in &plan.fires {
            match fire.reason {
                FireReason::OnTime => prop_assert!(Some(&fire.slot) == due.last() && now - fire.slot <= grace),
                FireReason::CatchUp => prop_assert!(fire.slot >= window_start),
            }
        }
        let on_time = due.last().filter(|slot| now - **slot <= grace);
        let catchable: Vec<DateTime<Utc>> =
            due.iter().copied().filter(|slot| *slot >= window_start && Some(slot) != on_time).collect();
        let catch_ups: Vec<DateTime<Utc>> =
            plan.fires.iter().filter(|fire| fire.reason == FireReason::CatchUp).map(|fire| fire.slot).collect();
        prop_assert_eq!(plan.fires.iter().any(|fire| fire.reason == FireReason::OnTime), on_time.is_some());
        // Catch-ups are always the newest catchable slots.
        prop_assert_eq!(&catch_ups[..], &catchable[catchable.len() - catch_ups.len()..]);
        match policy {
            MissedRunPolicy::CatchUpOnce => {
                prop_assert_eq!(plan.fires.len(), usize::from(on_time.is_some() || !catchable.is_empty()));
            }
            MissedRunPolicy::Skip => prop_assert!(catch_ups.is_empty()),
            MissedRunPolicy::RunAll { max_runs } => {
                prop_assert_eq!(catch_ups.len(), catchable.len().min(max_runs as usize));
            }
        }

        // Records: missed outside the window exactly when older than it;
        // coalesced into a slot that fires.
        for record in &plan.not_fired {
            let outside = record.outcome == NotFired::Missed(MissedReason::OutsideCatchupWindow);
            prop_assert_eq!(outside, record.slot < window_start, "{:?}", record);
            if let NotFired::Coalesced { into } = record.outcome {
                prop_assert!(fired.contains(&into) && into > record.slot);
            }
        }

        // Where the plan leaves off, and what comes next.
        prop_assert_eq!(plan.handled_through, due.last().copied().unwrap_or(handled_through));
        prop_assert_eq!(plan.next_slot, when.next_after(zone, now));
        let again = plan_due_slots(&DueSlots { handled_through: plan.handled_through, ..input });
        prop_assert!(again.fires.is_empty() && again.not_fired.is_empty() && again.summarized.is_empty());
    }
}
