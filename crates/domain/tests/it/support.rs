//! Helpers shared by the schedule tests: parse inputs, list fire times as
//! RFC 3339 text in the schedule's zone.

use chrono::{DateTime, Utc};
use steward_domain::schedule::{ScheduleZone, When};

pub fn when(text: &str) -> When {
    When::parse(text).unwrap_or_else(|error| panic!("{text:?}: {error}"))
}

pub fn zone(name: &str) -> ScheduleZone {
    ScheduleZone::parse("tz", name).unwrap()
}

pub fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap_or_else(|error| panic!("{text:?}: {error}")).with_timezone(&Utc)
}

/// The first `count` fire times of `when` in `zone` after `after`, written
/// with the zone's offset.
pub fn fires(when_text: &str, zone_name: &str, after: &str, count: usize) -> Vec<String> {
    let zone = zone(zone_name);
    when(when_text)
        .fire_times(zone, instant(after))
        .take(count)
        .map(|fire| fire.with_timezone(&zone.tz()).to_rfc3339())
        .collect()
}

/// Checks a table of (when, zone, after, expected fire times).
pub fn check_table(cases: &[(&str, &str, &str, &[&str])]) {
    let mut failures = Vec::new();
    for (when_text, zone_name, after, expected) in cases {
        let actual = fires(when_text, zone_name, after, expected.len());
        if actual != *expected {
            failures.push(format!(
                "{when_text:?} in {zone_name} after {after}:\n  expected {expected:?}\n  actual   {actual:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
