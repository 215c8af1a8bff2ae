//! `When`: a schedule's *when*, parsed once from the grammar accepted
//! everywhere (CLI, API, config), kept as its canonical text (what is stored
//! and serialised) and a rule that computes fire times.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::calendar::CalendarPattern;
use super::friendly::{FORMS, parse_friendly};
use super::rule::{OneShot, Rule};
use super::search::{first_instant_after_gap, next_fire_after};
use super::zone::ScheduleZone;
use crate::validation::ValidationError;

/// The field that *when* errors name.
const FIELD: &str = "when";

/// A parsed *when*. Two values are equal when their canonical texts are.
#[derive(Clone, Debug)]
pub struct When {
    canonical: String,
    rule: Rule,
}

/// What kind of *when* a value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenKind {
    /// Wall-clock times in the schedule's zone: cron, `@daily`, `daily at`.
    Calendar,
    /// A fixed interval in UTC: `every 15 minutes`.
    Interval,
    /// Once: `at 2030-01-31T09:00`.
    OneShot,
}

impl When {
    /// Parses a *when*: case-insensitive, surrounding and repeated spaces
    /// tolerated. The error names the field `when` and says what is wrong
    /// (for cron, in which field, and what that field allows).
    pub fn parse(text: &str) -> Result<When, ValidationError> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let Some(first) = words.first() else {
            return Err(ValidationError::new(FIELD, format!("must not be empty; use {FORMS}")));
        };
        let starts_like_cron = first.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '*' | '?' | ',' | '/'));
        let parsed = if starts_like_cron {
            let fields: Vec<String> = words.iter().map(|word| word.to_ascii_uppercase()).collect();
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            CalendarPattern::from_fields(&fields).map(|pattern| (fields.join(" "), Rule::Calendar(Box::new(pattern))))
        } else {
            let words: Vec<String> = words.iter().map(|word| word.to_lowercase()).collect();
            parse_friendly(&words)
        };
        let (canonical, rule) = parsed.map_err(|message| ValidationError::new(FIELD, message))?;
        Ok(When { canonical, rule })
    }

    /// The canonical text: what is stored, and what parses back to this value.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    pub fn kind(&self) -> WhenKind {
        match self.rule {
            Rule::Calendar(_) => WhenKind::Calendar,
            Rule::Interval { .. } => WhenKind::Interval,
            Rule::Once(_) => WhenKind::OneShot,
        }
    }

    pub fn is_one_shot(&self) -> bool {
        self.kind() == WhenKind::OneShot
    }

    /// The first fire time strictly after `after`, or `None` if there is none
    /// (a one-shot that is not after `after`). Pure: no clock is read.
    pub fn next_after(&self, zone: ScheduleZone, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.rule {
            Rule::Calendar(pattern) => next_fire_after(pattern, zone.tz(), after),
            Rule::Interval { seconds } => {
                let next = after.timestamp().div_euclid(*seconds).checked_add(1)?.checked_mul(*seconds)?;
                DateTime::from_timestamp(next, 0)
            }
            Rule::Once(one_shot) => one_shot_instant(*one_shot, zone).filter(|instant| *instant > after),
        }
    }

    /// The fire times after `after`, in order.
    pub fn fire_times(&self, zone: ScheduleZone, after: DateTime<Utc>) -> FireTimes<'_> {
        FireTimes { when: self, zone, cursor: Some(after) }
    }

    /// The instant a one-shot fires in `zone`; `None` for repeating schedules.
    pub fn one_shot_at(&self, zone: ScheduleZone) -> Option<DateTime<Utc>> {
        match self.rule {
            Rule::Once(one_shot) => one_shot_instant(one_shot, zone),
            _ => None,
        }
    }

    /// Refuses a *when* that would never fire after `now`: a one-shot in the
    /// past. Callers check this before creating or changing a schedule.
    pub fn check_fires_after(&self, zone: ScheduleZone, now: DateTime<Utc>) -> Result<(), ValidationError> {
        if self.next_after(zone, now).is_some() {
            return Ok(());
        }
        let message = match self.one_shot_at(zone) {
            Some(at) => format!(
                "`{}` is in the past ({} in {zone}, and it is now {}); a one-shot schedule must be in the future",
                self.canonical,
                at.with_timezone(&zone.tz()).to_rfc3339_opts(SecondsFormat::Secs, false),
                now.with_timezone(&zone.tz()).to_rfc3339_opts(SecondsFormat::Secs, false),
            ),
            None => {
                format!("`{}` never fires after {}", self.canonical, now.to_rfc3339_opts(SecondsFormat::Secs, true))
            }
        };
        Err(ValidationError::new(FIELD, message))
    }

    /// Whether a wall-clock time is one of a calendar schedule's slot times
    /// (before the DST rules place it on the time line); `None` for interval
    /// and one-shot schedules.
    pub fn matches_wall_clock(&self, wall: NaiveDateTime) -> Option<bool> {
        match &self.rule {
            Rule::Calendar(pattern) => Some(pattern.matches(wall)),
            _ => None,
        }
    }
}

/// A one-shot's instant: a local time skipped by a spring-forward fires at
/// the first instant after the gap; one repeated by a fall-back, at its first
/// occurrence.
fn one_shot_instant(one_shot: OneShot, zone: ScheduleZone) -> Option<DateTime<Utc>> {
    match one_shot {
        OneShot::Fixed(at) => Some(at.with_timezone(&Utc)),
        OneShot::Local(wall) => match zone.tz().from_local_datetime(&wall) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Some(at.with_timezone(&Utc)),
            LocalResult::None => first_instant_after_gap(zone.tz(), wall),
        },
    }
}

/// The fire times of a *when* after some instant, in order.
#[derive(Debug)]
pub struct FireTimes<'a> {
    when: &'a When,
    zone: ScheduleZone,
    cursor: Option<DateTime<Utc>>,
}

impl Iterator for FireTimes<'_> {
    type Item = DateTime<Utc>;

    fn next(&mut self) -> Option<DateTime<Utc>> {
        let next = self.when.next_after(self.zone, self.cursor?);
        self.cursor = next;
        next
    }
}

impl PartialEq for When {
    fn eq(&self, other: &Self) -> bool {
        self.canonical == other.canonical
    }
}

impl Eq for When {}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

impl FromStr for When {
    type Err = ValidationError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        When::parse(text)
    }
}

impl Serialize for When {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.canonical)
    }
}

impl<'de> Deserialize<'de> for When {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        When::parse(&text).map_err(serde::de::Error::custom)
    }
}
