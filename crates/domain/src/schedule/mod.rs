//! Schedules, the pure part: the *when* grammar, fire times in a time zone
//! with DST, and the policies that decide what happens to missed and
//! overlapping fires. No clock is read here: every function takes "now" or
//! "after" as an argument.
//!
//! # The *when* grammar
//!
//! Case-insensitive; surrounding and repeated spaces are ignored.
//! - Cron, 5 fields (`minute hour day-of-month month day-of-week`) or 6 with
//!   seconds first. Numbers, names (`JAN`–`DEC`, `SUN`–`SAT`), `*`, lists
//!   `a,b`, ranges `a-b`, steps `*/n`, `a-b/n` and `a/n` (= `a-max/n`); in
//!   day-of-month `?`, `L` (last day), `LW` (last weekday), `15W` (weekday
//!   nearest the 15th, within the month); in day-of-week `?`, `5L` (last
//!   Friday), `1#2` (second Monday), `1#L` (last Monday).
//! - Macros: `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily`
//!   (`@midnight`), `@hourly`.
//! - `daily at 08:00`, `weekdays at 08:00`, `weekends at 10:00`,
//!   `mondays at 09:00` (any weekday, plural; also `every monday at 09:00`),
//!   on a 24-hour clock, optionally with seconds.
//! - `every 15 minutes`, `every 2 hours`, `every 30 seconds`, `every hour`
//!   (at most a week).
//! - `at 2030-01-31T09:00`, a one-shot in the schedule's zone, or with an
//!   RFC 3339 offset (`at 2030-01-31T09:00:00+01:00`, `…Z`).
//!
//! Every value has a canonical text (`When::as_str`): cron fields upper-cased
//! and separated by one space, macro aliases resolved (`@annually` is
//! `@yearly`), friendly forms lower-cased with `HH:MM` times. It parses back
//! to the same value, and it is what a `When` serialises as.
//!
//! # Semantics
//!
//! - **Either day matches.** When both day-of-month and day-of-week are
//!   restricted (anything but `*` or `?`), a day matches if either matches,
//!   as in Vixie cron: `0 0 1 * MON` fires on the 1st and on every Monday.
//!   `?` means no restriction, exactly like `*`. (Vixie cron also treats a
//!   field that merely starts with `*`, like `*/2`, as unrestricted; here
//!   `*/2` is a restriction.)
//! - **Sunday** is both 0 and 7; `FRI-SUN` is Friday to Sunday. Ranges do not
//!   wrap around (`SAT-MON` is an error).
//! - **Never fires.** An expression that no date can match (`0 0 30 2 *`) is
//!   refused when parsed. The check walks one whole cycle of the Gregorian
//!   calendar, 400 years, which repeats exactly (146,097 days are 20,871
//!   weeks): a pattern that matches at all matches within it.
//! - **Calendar schedules and DST.** Cron, macros and `daily at` name
//!   wall-clock times in the schedule's zone:
//!   - a time skipped by a spring-forward fires once, at the first instant
//!     after the gap (New York, 2025-03-09: `30 2 * * *` fires at 03:00
//!     EDT; several skipped times, as `*/15 2 * * *` has, fire once there);
//!     this holds for every pattern, so a slot is never silently lost. A
//!     whole skipped day (Pacific/Apia, 2011-12-30) is a gap like any
//!     other: its slots fire at 00:00 on the 31st;
//!   - a time repeated by a fall-back fires once, at its first occurrence,
//!     unless the hour field is `*` or contains a step (`*/2`, `1-5/2`):
//!     such a schedule keeps firing through both passes (cronie's rule), so
//!     `*/15 * * * *` fires every 15 minutes of real time through the
//!     repeated hour, while `30 1 * * *` and `*/15 1 * * *` fire only in the
//!     first pass.
//! - **Intervals** (`every N seconds|minutes|hours`) are fixed intervals of
//!   real time, independent of the zone and of DST: they fire at the
//!   instants whose number of seconds since 1970-01-01T00:00:00Z is a
//!   multiple of the interval. So an interval that divides an hour fires at
//!   the top of every UTC hour (`every 15 minutes`: :00, :15, :30, :45 UTC),
//!   one that divides a day at 00:00 UTC every day (`every 2 hours`: 00:00,
//!   02:00, … UTC), and any other keeps its exact spacing across hours and
//!   days (`every 7 minutes` counts from the epoch).
//! - **One-shots** fire once, at their instant (a local time in a gap or a
//!   fold is placed by the calendar rules above). A one-shot at or before
//!   "now" never fires: `When::check_fires_after` says so, and callers
//!   refuse to create one.
//! - The tz database is chrono-tz's (compiled in, 2025b). It lists DST
//!   transitions through 2099; after that a zone keeps the offset of its
//!   last transition (New York stays on -05:00).

mod calendar;
mod cron_fields;
mod friendly;
pub mod jitter;
pub mod missed_runs;
pub mod overlap;
mod rule;
mod search;
pub mod spec;
mod when;
mod zone;

pub use jitter::slot_jitter;
pub use missed_runs::{
    DuePlan, DueSlots, FireReason, MissedReason, MissedRunPolicy, MissedRunSettings, NotFired, NotFiredSlot,
    PlannedFire, SlotCount, SlotSpan, plan_due_slots,
};
pub use overlap::{OverlapDecision, OverlapPolicy};
pub use spec::{
    FireOutcome, FireStatus, NewSchedule, Precondition, Schedule, ScheduleFire, SchedulePolicies, ScheduleTarget,
};
pub use when::{FireTimes, When, WhenKind};
pub use zone::ScheduleZone;
