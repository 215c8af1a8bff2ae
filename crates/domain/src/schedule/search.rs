//! The next fire time of a calendar pattern in a time zone, under the DST
//! rules written in the module docs of `schedule`.
//!
//! Every matching wall-clock time gives fire instants:
//! - a wall-clock time that happens once fires then;
//! - one skipped by a spring-forward gap fires at the first instant after
//!   the gap (several skipped times fire once there);
//! - one repeated by a fall-back fold fires at its first occurrence, and, when
//!   the hour field is `*` or a step, at its second occurrence too.
//!
//! The first-occurrence instants (the "first pass") grow with the wall-clock
//! time, so the earliest is found by walking the wall clock from where the
//! search starts. Second occurrences lie inside the fold's later half; they
//! can come before the first pass's answer only when the search starts
//! inside a fold, which is checked separately.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::{GapInfo, Tz};

use super::calendar::{CalendarPattern, GREGORIAN_CYCLE_DAYS};

/// The earliest fire instant strictly after `after`.
pub(crate) fn next_fire_after(pattern: &CalendarPattern, zone: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    // Fire instants are whole seconds; the first candidate is the first whole
    // second after `after`.
    let earliest = after.with_nanosecond(0)?.checked_add_signed(TimeDelta::seconds(1))?;
    let first_pass = first_pass_fire(pattern, zone, earliest);
    let second_pass = if pattern.repeats_in_fold() { second_pass_fire(pattern, zone, earliest) } else { None };
    match (first_pass, second_pass) {
        (Some(first), Some(second)) => Some(first.min(second)),
        (first, second) => first.or(second),
    }
}

/// The earliest first-occurrence fire at or after `earliest`.
fn first_pass_fire(pattern: &CalendarPattern, zone: Tz, earliest: DateTime<Utc>) -> Option<DateTime<Utc>> {
    // The wall clock just after the previous second: at a spring-forward this
    // is the start of the gap (whose times fire at `earliest`), at a fall-back
    // the end of the fold's first pass.
    let previous = earliest.checked_sub_signed(TimeDelta::seconds(1))?;
    let mut start = wall_clock(zone, previous).checked_add_signed(TimeDelta::seconds(1))?;
    if let LocalResult::Ambiguous(first, _) = zone.from_local_datetime(&start)
        && first.with_timezone(&Utc) < earliest
    {
        // `earliest` is in the later half of a fold: the first occurrences of
        // the rest of the fold are all behind it.
        start = fold_around(zone, start)?.end_wall;
    }
    let until = start.checked_add_signed(TimeDelta::days(GREGORIAN_CYCLE_DAYS)).unwrap_or(NaiveDateTime::MAX);
    let wall = pattern.next_matching_wall(start, until)?;
    match zone.from_local_datetime(&wall) {
        LocalResult::Single(instant) | LocalResult::Ambiguous(instant, _) => Some(instant.with_timezone(&Utc)),
        LocalResult::None => first_instant_after_gap(zone, wall),
    }
}

/// The earliest second-occurrence fire at or after `earliest`, which exists
/// only if `earliest` lies inside a fold.
fn second_pass_fire(pattern: &CalendarPattern, zone: Tz, earliest: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let wall = wall_clock(zone, earliest);
    let fold = fold_around(zone, wall)?;
    // A wall-clock time's second occurrence is at or after `earliest` when
    // the time is at or after `earliest` read with the later offset.
    let from = fold.start_wall.max(earliest.naive_utc().checked_add_signed(fold.later_offset)?);
    let matched = pattern.next_matching_wall(from, fold.end_wall)?;
    match zone.from_local_datetime(&matched) {
        LocalResult::Ambiguous(_, second) => Some(second.with_timezone(&Utc)),
        _ => None,
    }
}

/// A fall-back: the wall-clock times from `start_wall` (inclusive) to
/// `end_wall` (exclusive) happen twice, first with the earlier offset and
/// then with `later_offset`.
struct Fold {
    start_wall: NaiveDateTime,
    end_wall: NaiveDateTime,
    later_offset: TimeDelta,
}

/// The fold that the repeated wall-clock time `wall` is in, or `None` if
/// `wall` happens only once.
fn fold_around(zone: Tz, wall: NaiveDateTime) -> Option<Fold> {
    let LocalResult::Ambiguous(first, second) = zone.from_local_datetime(&wall) else { return None };
    let earlier_offset = TimeDelta::seconds(i64::from(first.offset().fix().local_minus_utc()));
    let later_offset = TimeDelta::seconds(i64::from(second.offset().fix().local_minus_utc()));
    // The clock went back at some instant in (first, second]: the first one
    // that carries the later offset. Bisect to the second.
    let mut before = first.with_timezone(&Utc);
    let mut after = second.with_timezone(&Utc);
    while after - before > TimeDelta::seconds(1) {
        let middle = before + TimeDelta::seconds((after - before).num_seconds() / 2);
        if offset_at(zone, middle) == later_offset {
            after = middle;
        } else {
            before = middle;
        }
    }
    let transition = after.naive_utc();
    Some(Fold {
        start_wall: transition.checked_add_signed(later_offset)?,
        end_wall: transition.checked_add_signed(earlier_offset)?,
        later_offset,
    })
}

/// The first instant after the spring-forward gap that skips `wall`.
pub(crate) fn first_instant_after_gap(zone: Tz, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
    GapInfo::new(&wall, &zone)?.end.map(|end| end.with_timezone(&Utc))
}

/// The wall-clock time in `zone` at `instant`.
pub(crate) fn wall_clock(zone: Tz, instant: DateTime<Utc>) -> NaiveDateTime {
    instant.with_timezone(&zone).naive_local()
}

fn offset_at(zone: Tz, instant: DateTime<Utc>) -> TimeDelta {
    TimeDelta::seconds(i64::from(zone.offset_from_utc_datetime(&instant.naive_utc()).fix().local_minus_utc()))
}
