//! Property tests of the next-fire function: for random expressions, zones
//! and start instants (often right next to a DST transition), the fire times
//! are strictly increasing and equal what a brute-force walk of the wall
//! clock — minute by minute, or second by second for 6-field expressions —
//! finds under the documented DST rules.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use proptest::sample::select;
use steward_domain::schedule::{ScheduleZone, When};

const ZONES: &[&str] = &[
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Apia",
    "America/Sao_Paulo",
    "Australia/Adelaide",
    "Africa/Casablanca",
    "Asia/Tehran",
    "Asia/Kolkata",
    "UTC",
];

const SECONDS: &[&str] = &["0", "30", "0,30", "*/20", "15-17", "*/7", "*"];
const MINUTES: &[&str] = &["0", "*/15", "30", "*", "0,45", "5-10", "*/7", "59", "0/20"];
const HOURS: &[&str] = &["*", "*/2", "0", "1", "2", "3", "0-3", "1,2,3", "23", "22-23", "1-5/2", "*/3"];
const DAYS_OF_MONTH: &[&str] = &["*", "*", "*", "?", "1", "L", "15W", "*/2", "29", "30,31", "LW"];
const MONTHS: &[&str] = &["*", "*", "*", "3,4,9,10,11", "JAN-JUN", "*/2", "OCT-DEC"];
const DAYS_OF_WEEK: &[&str] = &["*", "*", "*", "?", "MON-FRI", "0", "7", "5L", "1#1", "SAT,SUN", "SUN#L"];

/// A random cron expression (5 fields, or 6 when `with_seconds`).
fn cron_expression(with_seconds: bool) -> impl Strategy<Value = String> {
    (select(SECONDS), select(MINUTES), select(HOURS), select(DAYS_OF_MONTH), select(MONTHS), select(DAYS_OF_WEEK))
        .prop_map(move |(second, minute, hour, day, month, weekday)| {
            let five = format!("{minute} {hour} {day} {month} {weekday}");
            if with_seconds { format!("{second} {five}") } else { five }
        })
}

/// A random friendly form or macro, with times near the usual DST hours.
fn friendly_form() -> impl Strategy<Value = String> {
    let days = select(&["daily", "weekdays", "weekends", "sundays", "every saturday"][..]);
    let time = (select(&[0u32, 1, 2, 3, 23][..]), select(&[0u32, 15, 30, 45, 59][..]));
    prop_oneof![
        (days, time).prop_map(|(days, (hour, minute))| format!("{days} at {hour:02}:{minute:02}")),
        select(&["@daily", "@hourly", "@weekly", "@monthly", "@midnight"][..]).prop_map(str::to_string),
    ]
}

/// Whether a calendar *when* fires in both passes of a repeated hour: its
/// hour field is `*` or has a step (`@hourly` is `0 * * * *`).
fn repeats_in_fold(text: &str) -> bool {
    let fields: Vec<&str> = text.split_whitespace().collect();
    match fields.len() {
        5 | 6 => fields[fields.len() - 4].contains(['*', '/']),
        _ => text == "@hourly",
    }
}

/// Offset changes of `zone` from 2000 to 2035, found by sampling every six
/// hours and bisecting to the second, independently of the code under test.
fn transitions(zone: Tz) -> &'static [DateTime<Utc>] {
    static ALL: OnceLock<BTreeMap<&'static str, Vec<DateTime<Utc>>>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        let offset = |zone: Tz, at: DateTime<Utc>| zone.offset_from_utc_datetime(&at.naive_utc()).fix();
        ZONES
            .iter()
            .map(|name| {
                let zone: Tz = name.parse().unwrap();
                let mut found = Vec::new();
                let mut at = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
                let end = Utc.with_ymd_and_hms(2035, 1, 1, 0, 0, 0).unwrap();
                while at < end {
                    let next = at + TimeDelta::hours(6);
                    if offset(zone, at) != offset(zone, next) {
                        let (mut before, mut after) = (at, next);
                        while after - before > TimeDelta::seconds(1) {
                            let middle = before + (after - before) / 2;
                            if offset(zone, middle) == offset(zone, at) { before = middle } else { after = middle }
                        }
                        found.push(after);
                    }
                    at = next;
                }
                (*name, found)
            })
            .collect()
    });
    &all[zone.name()]
}

/// A start instant: usually near one of the zone's transitions — half the
/// time within 2 hours, where starts inside a gap's or a fold's hour are
/// common, else within 36 hours — and sometimes anywhere in 2000–2035.
fn start_instant(zone: Tz, pick: usize, offset_seconds: i64, anywhere: bool) -> DateTime<Utc> {
    let near = transitions(zone);
    if anywhere || near.is_empty() {
        let seconds = offset_seconds.rem_euclid(35 * 365 * 86_400);
        return Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap() + TimeDelta::seconds(seconds);
    }
    let reach = if pick.is_multiple_of(2) { 2 * 3600 } else { 36 * 3600 };
    near[(pick / 2) % near.len()] + TimeDelta::seconds(offset_seconds % reach)
}

/// Every fire instant in (start, start + horizon], found by walking the wall
/// clock in `step`s from well before the start to well after it and placing
/// each matching time by the documented rules.
fn brute_force(when: &When, text: &str, zone: Tz, start: DateTime<Utc>, step: TimeDelta) -> Vec<DateTime<Utc>> {
    // No zone here moves its clock by more than 26 hours, so walls outside
    // this margin map to instants outside (start, start + horizon].
    let (margin, horizon) = horizon_for(step);
    let local_start = start.with_timezone(&zone).naive_local().with_second(0).unwrap().with_nanosecond(0).unwrap();
    let mut wall = local_start - margin;
    let mut fires = Vec::new();
    while wall <= local_start + margin {
        if when.matches_wall_clock(wall) == Some(true) {
            match zone.from_local_datetime(&wall) {
                LocalResult::Single(at) => fires.push(at.with_timezone(&Utc)),
                LocalResult::Ambiguous(first, second) => {
                    fires.push(first.with_timezone(&Utc));
                    if repeats_in_fold(text) {
                        fires.push(second.with_timezone(&Utc));
                    }
                }
                LocalResult::None => fires.push(first_instant_after_gap(zone, wall)),
            }
        }
        wall += step;
    }
    fires.retain(|fire| *fire > start && *fire <= start + horizon);
    fires.sort();
    fires.dedup();
    fires
}

/// Walls are scanned `margin` either side of the start; fires are compared
/// up to `horizon` after it.
fn horizon_for(step: TimeDelta) -> (TimeDelta, TimeDelta) {
    if step == TimeDelta::seconds(1) {
        (TimeDelta::hours(30), TimeDelta::hours(3))
    } else {
        (TimeDelta::days(6), TimeDelta::days(4))
    }
}

/// The first minute at or after `wall` whose wall-clock time exists.
fn first_instant_after_gap(zone: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = wall.with_second(0).unwrap();
    loop {
        match zone.from_local_datetime(&probe) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => return at.with_timezone(&Utc),
            LocalResult::None => probe += TimeDelta::minutes(1),
        }
    }
}

fn check_against_brute_force(text: &str, zone_name: &str, start: DateTime<Utc>, step: TimeDelta) {
    let Ok(when) = When::parse(text) else { return };
    let zone = ScheduleZone::parse("tz", zone_name).unwrap();
    let (_, horizon) = horizon_for(step);
    // More than any expression here can fire in the horizon: a search that
    // went backwards fails the order check below instead of looping.
    let at_most = 20_000;
    let actual: Vec<DateTime<Utc>> =
        when.fire_times(zone, start).take_while(|fire| *fire <= start + horizon).take(at_most).collect();
    for pair in actual.windows(2) {
        assert!(pair[0] < pair[1], "{text:?} in {zone_name} from {start}: not strictly increasing: {pair:?}");
    }
    let expected = brute_force(&when, text, zone.tz(), start, step);
    assert_eq!(actual, expected, "{text:?} in {zone_name} from {start}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn five_field_cron_agrees_with_a_minute_by_minute_walk(
        text in cron_expression(false),
        zone_name in select(ZONES),
        pick in any::<usize>(),
        offset_seconds in any::<i64>(),
        anywhere in proptest::bool::weighted(0.2),
    ) {
        let zone: Tz = zone_name.parse().unwrap();
        let start = start_instant(zone, pick, offset_seconds, anywhere);
        check_against_brute_force(&text, zone_name, start, TimeDelta::minutes(1));
    }

    #[test]
    fn friendly_forms_agree_with_a_minute_by_minute_walk(
        text in friendly_form(),
        zone_name in select(ZONES),
        pick in any::<usize>(),
        offset_seconds in any::<i64>(),
    ) {
        let zone: Tz = zone_name.parse().unwrap();
        let start = start_instant(zone, pick, offset_seconds, false);
        check_against_brute_force(&text, zone_name, start, TimeDelta::minutes(1));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn six_field_cron_agrees_with_a_second_by_second_walk(
        text in cron_expression(true),
        zone_name in select(ZONES),
        pick in any::<usize>(),
        offset_seconds in any::<i64>(),
    ) {
        let zone: Tz = zone_name.parse().unwrap();
        let start = start_instant(zone, pick, offset_seconds, false);
        check_against_brute_force(&text, zone_name, start, TimeDelta::seconds(1));
    }

    #[test]
    fn intervals_are_exact_multiples_of_their_period(
        count in 1i64..200,
        unit in select(&[("seconds", 1i64), ("minutes", 60), ("hours", 3600)][..]),
        zone_name in select(ZONES),
        start_seconds in 0i64..2_000_000_000,
        start_nanos in 0u32..1_000_000_000,
    ) {
        let (unit_name, unit_seconds) = unit;
        let period = count * unit_seconds;
        prop_assume!(period <= 7 * 24 * 3600);
        let when = When::parse(&format!("every {count} {unit_name}")).unwrap();
        let zone = ScheduleZone::parse("tz", zone_name).unwrap();
        let start = DateTime::from_timestamp(start_seconds, start_nanos).unwrap();
        let fires: Vec<_> = when.fire_times(zone, start).take(5).collect();
        prop_assert!(fires[0] > start && fires[0] - start <= TimeDelta::seconds(period));
        for fire in &fires {
            prop_assert_eq!(fire.timestamp() % period, 0);
            prop_assert_eq!(fire.nanosecond(), 0);
        }
        for pair in fires.windows(2) {
            prop_assert_eq!(pair[1] - pair[0], TimeDelta::seconds(period));
        }
    }
}
