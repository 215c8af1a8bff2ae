//! Property tests of the temporal rules: supersession, out-of-order
//! episodes, missing dates and point-in-time queries, on a simulated slot
//! (one subject and relation that holds one value at a time, so every new
//! fact contradicts every earlier one).

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::ids::{EntityId, UserId};
use crate::memory::{Fact, FactKind};

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn fact(id: i64, interval: Interval, expired: bool) -> Fact {
    Fact {
        id: FactId(id),
        user_id: UserId(1),
        agent_id: None,
        kind: FactKind::Preference,
        subject: EntityId(1),
        object: None,
        relation: "prefers".into(),
        statement: format!("value {id}"),
        valid_at: interval.valid_at,
        invalid_at: interval.invalid_at,
        created_at: at(0),
        expired_at: expired.then(|| at(10_000)),
        episodes: Vec::new(),
    }
}

/// The slot as a store would hold it: every fact ever added, closed or not.
#[derive(Default)]
struct Slot {
    facts: Vec<Fact>,
}

impl Slot {
    /// Adds a fact valid from `valid_at` (ids follow arrival order).
    fn add(&mut self, valid_at: DateTime<Utc>) {
        let new = Interval { valid_at, invalid_at: None };
        let existing: Vec<(FactId, Interval)> = self.facts.iter().map(|fact| (fact.id, fact.interval())).collect();
        let outcome = supersede(new, &existing);
        for closing in outcome.close {
            let old = self.facts.iter_mut().find(|fact| fact.id == closing.fact).unwrap();
            old.invalid_at = Some(closing.invalid_at);
            old.expired_at = old.expired_at.or(Some(at(10_000)));
        }
        let id = self.facts.len() as i64 + 1;
        self.facts.push(fact(id, Interval { valid_at, invalid_at: outcome.new_invalid_at }, false));
    }

    /// The valid_at of each fact valid at `t` (the fact's identity here,
    /// since the generated dates are distinct).
    fn valid_at(&self, t: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        self.facts.iter().filter(|fact| visible(fact, Some(t), at(10_000))).map(|fact| fact.valid_at).collect()
    }
}

fn distinct_minutes() -> impl Strategy<Value = Vec<i64>> {
    prop::collection::btree_set(0i64..5_000, 1..12).prop_map(|set| set.into_iter().collect())
}

proptest! {
    /// Whatever order the episodes arrive in, the slot holds one value at a
    /// time, and at any T it is the latest one that began by T: the same
    /// answer as in date order. Nothing is ever deleted.
    #[test]
    fn point_in_time_answers_do_not_depend_on_arrival_order(
        (dates, arrival) in distinct_minutes().prop_flat_map(|dates| {
            let order = Just(dates.clone()).prop_shuffle();
            (Just(dates), order)
        }),
        probes in prop::collection::vec(-10i64..5_100, 1..20),
    ) {
        let mut slot = Slot::default();
        for minute in &arrival {
            slot.add(at(*minute));
        }
        prop_assert_eq!(slot.facts.len(), dates.len());
        for probe in probes {
            let expected: Vec<DateTime<Utc>> =
                dates.iter().filter(|minute| **minute <= probe).max().map(|minute| at(*minute)).into_iter().collect();
            prop_assert_eq!(slot.valid_at(at(probe)), expected, "at minute {}", probe);
        }
    }

    /// No two facts of the slot are valid at the same instant.
    #[test]
    fn superseded_intervals_never_overlap(arrival in distinct_minutes().prop_shuffle()) {
        let mut slot = Slot::default();
        for minute in &arrival {
            slot.add(at(*minute));
        }
        for a in &slot.facts {
            for b in &slot.facts {
                if a.id != b.id {
                    let overlap = a.interval().contains(b.valid_at) && b.interval().contains(b.valid_at);
                    prop_assert!(!overlap, "{:?} and {:?} overlap", a.interval(), b.interval());
                }
            }
        }
    }

    /// A fact whose episode states no date is valid from the episode's
    /// time, and the rules then treat it like any dated fact.
    #[test]
    fn missing_dates_take_the_episode_time(
        episodes in prop::collection::vec((0i64..5_000, prop::option::of(0i64..5_000)), 1..10)
            .prop_filter("distinct effective dates", |episodes| {
                let mut dates: Vec<i64> = episodes.iter().map(|(time, stated)| stated.unwrap_or(*time)).collect();
                dates.sort();
                dates.windows(2).all(|pair| pair[0] != pair[1])
            }),
        probe in 0i64..5_100,
    ) {
        let mut slot = Slot::default();
        for (episode_time, stated) in &episodes {
            slot.add(valid_from(stated.map(at), at(*episode_time)));
        }
        let latest = episodes.iter().map(|(time, stated)| stated.unwrap_or(*time)).filter(|date| *date <= probe).max();
        prop_assert_eq!(slot.valid_at(at(probe)), latest.map(at).into_iter().collect::<Vec<_>>());
    }

    /// Now (no `as_of`), only the latest fact is believed: every other one
    /// was closed and expired.
    #[test]
    fn only_the_latest_is_current(arrival in distinct_minutes().prop_shuffle()) {
        let mut slot = Slot::default();
        for minute in &arrival {
            slot.add(at(*minute));
        }
        let latest = at(*arrival.iter().max().unwrap());
        let current: Vec<DateTime<Utc>> =
            slot.facts.iter().filter(|fact| visible(fact, None, at(20_000))).map(|fact| fact.valid_at).collect();
        prop_assert_eq!(current, vec![latest]);
    }
}

#[test]
fn a_contradiction_closes_the_old_fact_at_the_new_ones_start() {
    let old = Interval { valid_at: at(0), invalid_at: None };
    let outcome = supersede(Interval { valid_at: at(60), invalid_at: None }, &[(FactId(7), old)]);
    assert_eq!(outcome.close, vec![Closing { fact: FactId(7), invalid_at: at(60) }]);
    assert_eq!(outcome.new_invalid_at, None);
}

#[test]
fn a_late_arriving_older_fact_ends_where_the_newer_begins() {
    let newer = Interval { valid_at: at(60), invalid_at: None };
    let outcome = supersede(Interval { valid_at: at(0), invalid_at: None }, &[(FactId(7), newer)]);
    assert!(outcome.close.is_empty());
    assert_eq!(outcome.new_invalid_at, Some(at(60)));
}

#[test]
fn a_fact_that_already_ended_is_left_alone() {
    let ended = Interval { valid_at: at(0), invalid_at: Some(at(30)) };
    let outcome = supersede(Interval { valid_at: at(60), invalid_at: None }, &[(FactId(7), ended)]);
    assert_eq!(outcome, Supersession::default());
}

#[test]
fn as_of_sees_a_closed_fact_and_now_does_not() {
    let closed = fact(1, Interval { valid_at: at(0), invalid_at: Some(at(60)) }, true);
    assert!(visible(&closed, Some(at(30)), at(100)));
    assert!(!visible(&closed, Some(at(60)), at(100)));
    assert!(!visible(&closed, None, at(30)), "an expired fact is not believed now");
    let open = fact(2, Interval { valid_at: at(60), invalid_at: None }, false);
    assert!(visible(&open, None, at(100)));
    assert!(!visible(&open, None, at(30)), "not yet valid");
}
