//! The rule behind a parsed *when*: how its fire times are computed. Below
//! both the parser of the friendly forms and `When`, which use it.

use chrono::{DateTime, FixedOffset, NaiveDateTime};

use super::calendar::CalendarPattern;

/// How fire times are computed.
#[derive(Clone, Debug)]
pub(crate) enum Rule {
    /// Wall-clock times in the schedule's zone (cron, macros, `daily at`).
    Calendar(Box<CalendarPattern>),
    /// Every `seconds`, at the instants whose count of seconds since
    /// 1970-01-01T00:00:00Z is a multiple of `seconds`.
    Interval { seconds: i64 },
    /// Once.
    Once(OneShot),
}

/// The instant of a one-shot: a wall-clock time in the schedule's zone, or
/// a time with its own offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OneShot {
    Local(NaiveDateTime),
    Fixed(DateTime<FixedOffset>),
}
