//! A calendar's events as the instances a day or week holds, in the user's
//! zone: RRULE expanded (through the `rrule` crate that icalendar carries),
//! RDATE added, EXDATE removed, RECURRENCE-ID overrides (moved, renamed or
//! cancelled instances) put in place of what they replace, TZID (IANA,
//! Windows or prefixed names), UTC, floating (read in the user's zone) and
//! all-day dates honoured. Pure: the text in, the instances out.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use icalendar::{Calendar, Component, Event, Property};
use serde::{Serialize, Serializer};

use super::zones::zone_of;

/// When an instance starts or ends: a date (all-day) or a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    Date(NaiveDate),
    At(DateTime<Tz>),
}

impl std::fmt::Display for When {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            When::Date(date) => write!(f, "{}", date.format("%Y-%m-%d")),
            When::At(at) => write!(f, "{}", at.to_rfc3339()),
        }
    }
}

impl Serialize for When {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One occurrence of an event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Instance {
    pub uid: String,
    pub summary: String,
    /// RFC 3339 with the user's offset; all-day events as dates.
    pub start: When,
    /// Exclusive (an all-day event's end is the day after its last).
    pub end: When,
    pub all_day: bool,
    /// The instance's original start, for an instance of a recurring event.
    pub recurrence_id: Option<When>,
    pub location: Option<String>,
}

/// Why a calendar (or one of its events) cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("not an iCalendar file: {0}")]
    Parse(String),
    #[error("event {uid}: {problem}")]
    Event { uid: String, problem: String },
}

/// A date, a UTC moment, or a wall-clock time (in a TZID's zone, or floating).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Stamp {
    Date(NaiveDate),
    At(DateTime<Tz>),
}

impl Stamp {
    fn utc(self, zone: Tz) -> DateTime<Utc> {
        match self {
            Stamp::Date(date) => local(zone, date.and_time(NaiveTime::MIN)).with_timezone(&Utc),
            Stamp::At(at) => at.with_timezone(&Utc),
        }
    }
}

/// The wall-clock time in `zone`: the later reading when repeated, the
/// time after the gap when skipped (as calendar clients do).
fn local(zone: Tz, naive: NaiveDateTime) -> DateTime<Tz> {
    match zone.from_local_datetime(&naive) {
        chrono::LocalResult::Single(at) => at,
        chrono::LocalResult::Ambiguous(first, _) => first,
        chrono::LocalResult::None => local(zone, naive + Duration::hours(1)),
    }
}

fn stamps(property: &Property, zone: Tz) -> Result<Vec<Stamp>, String> {
    let tzid = property.get_param_as("TZID", |value| Some(value.to_string()));
    let event_zone = match &tzid {
        Some(name) => zone_of(name).ok_or_else(|| format!("unknown time zone {name:?}"))?,
        None => zone,
    };
    let is_date = property.get_param_as("VALUE", |value| Some(value.eq_ignore_ascii_case("DATE"))).unwrap_or(false);
    property
        .value()
        .split(',')
        .map(|text| {
            let text = text.trim();
            if is_date || text.len() == 8 {
                return NaiveDate::parse_from_str(text, "%Y%m%d")
                    .map(Stamp::Date)
                    .map_err(|_| format!("{}: {text:?} is not a date", property.key()));
            }
            let (naive, utc) = match text.strip_suffix('Z') {
                Some(rest) => (rest, true),
                None => (text, false),
            };
            let naive = NaiveDateTime::parse_from_str(naive, "%Y%m%dT%H%M%S")
                .map_err(|_| format!("{}: {text:?} is not a date-time", property.key()))?;
            Ok(Stamp::At(if utc {
                Utc.from_utc_datetime(&naive).with_timezone(&event_zone)
            } else {
                local(event_zone, naive)
            }))
        })
        .collect()
}

fn all<'a>(event: &'a Event, key: &str) -> Vec<&'a Property> {
    let single = event.properties().get(key).into_iter();
    single.chain(event.multi_properties().get(key).into_iter().flatten()).collect()
}

fn one(event: &Event, key: &str, zone: Tz) -> Result<Option<Stamp>, String> {
    match event.properties().get(key) {
        Some(property) => Ok(stamps(property, zone)?.into_iter().next()),
        None => Ok(None),
    }
}

/// ISO 8601 durations as calendars write them: `PT1H30M`, `P1D`, `P2W`.
fn duration(text: &str) -> Option<Duration> {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let mut total = Duration::zero();
    let mut number = String::new();
    for c in text.strip_prefix('P')?.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' => {}
            unit => {
                let n: i64 = number.parse().ok()?;
                number.clear();
                total += match unit {
                    'W' => Duration::weeks(n),
                    'D' => Duration::days(n),
                    'H' => Duration::hours(n),
                    'M' => Duration::minutes(n),
                    'S' => Duration::seconds(n),
                    _ => return None,
                };
            }
        }
    }
    Some(if negative { -total } else { total })
}

/// One event's parts, read once.
struct Series<'a> {
    event: &'a Event,
    uid: String,
    start: Stamp,
    length: Duration,
    all_day: bool,
}

impl<'a> Series<'a> {
    fn read(event: &'a Event, zone: Tz) -> Result<Series<'a>, CalendarError> {
        let uid = event.property_value("UID").unwrap_or("(no uid)").to_string();
        let fail = |problem: String| CalendarError::Event { uid: uid.clone(), problem };
        let start = one(event, "DTSTART", zone).map_err(fail)?.ok_or_else(|| fail("no DTSTART".into()))?;
        let all_day = matches!(start, Stamp::Date(_));
        let length = match (one(event, "DTEND", zone).map_err(fail)?, event.property_value("DURATION")) {
            (Some(end), _) => end.utc(zone) - start.utc(zone),
            (None, Some(text)) => duration(text).ok_or_else(|| fail(format!("DURATION {text:?} is not a duration")))?,
            (None, None) if all_day => Duration::days(1),
            (None, None) => Duration::zero(),
        };
        Ok(Series { event, uid, start, length, all_day })
    }

    fn cancelled(&self) -> bool {
        self.event.property_value("STATUS").is_some_and(|status| status.eq_ignore_ascii_case("CANCELLED"))
    }

    fn instance(&self, start: Stamp, zone: Tz, recurrence_id: Option<Stamp>) -> Instance {
        let text = |key: &str| {
            self.event
                .property_value(key)
                .map(|value| value.replace("\\,", ",").replace("\\;", ";").replace("\\n", "\n"))
        };
        let shown = |stamp: Stamp| match stamp {
            Stamp::Date(date) => When::Date(date),
            Stamp::At(at) => When::At(at.with_timezone(&zone)),
        };
        let end = match start {
            Stamp::Date(date) => Stamp::Date(date + Duration::days(self.length.num_days().max(1))),
            Stamp::At(at) => Stamp::At(at + self.length),
        };
        Instance {
            uid: self.uid.clone(),
            summary: text("SUMMARY").unwrap_or_default(),
            start: shown(start),
            end: shown(end),
            all_day: self.all_day,
            recurrence_id: recurrence_id.map(shown),
            location: text("LOCATION").filter(|location| !location.is_empty()),
        }
    }

    /// Starts of the series between `from` and `to` (UTC), RRULE and RDATE, less EXDATE.
    fn starts(&self, zone: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Stamp>, CalendarError> {
        let fail = |problem: String| CalendarError::Event { uid: self.uid.clone(), problem };
        let mut starts = Vec::new();
        let rules = all(self.event, "RRULE");
        if rules.is_empty() {
            starts.push(self.start);
        }
        for rule in rules {
            starts.extend(self.expand(rule.value(), zone, from, to).map_err(fail)?);
        }
        for property in all(self.event, "RDATE") {
            starts.extend(stamps(property, zone).map_err(fail)?);
        }
        let mut excluded = Vec::new();
        for property in all(self.event, "EXDATE") {
            excluded.extend(stamps(property, zone).map_err(fail)?.into_iter().map(|stamp| stamp.utc(zone)));
        }
        starts.retain(|start| !excluded.contains(&start.utc(zone)));
        starts.sort_by_key(|start| start.utc(zone));
        starts.dedup();
        Ok(starts)
    }

    fn expand(&self, rule: &str, zone: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Stamp>, String> {
        let (anchor, series_zone) = match self.start {
            Stamp::Date(date) => (local(zone, date.and_time(NaiveTime::MIN)), zone),
            Stamp::At(at) => (at, at.timezone()),
        };
        // rrule wants UNTIL in UTC when DTSTART has a zone; calendars also write dates and local times.
        let rule: Vec<String> = rule
            .split(';')
            .map(|part| match part.split_once('=') {
                Some((key, value)) if key.eq_ignore_ascii_case("UNTIL") => {
                    let until = if value.len() == 8 {
                        NaiveDate::parse_from_str(value, "%Y%m%d")
                            .map(|date| {
                                local(series_zone, date.and_hms_opt(23, 59, 59).unwrap_or_default()).with_timezone(&Utc)
                            })
                            .map_err(|_| format!("UNTIL {value:?} is not a date"))?
                    } else if let Some(utc) = value.strip_suffix('Z') {
                        NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S")
                            .map(|naive| Utc.from_utc_datetime(&naive))
                            .map_err(|_| format!("UNTIL {value:?} is not a date-time"))?
                    } else {
                        NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S")
                            .map(|naive| local(series_zone, naive).with_timezone(&Utc))
                            .map_err(|_| format!("UNTIL {value:?} is not a date-time"))?
                    };
                    Ok(format!("UNTIL={}", until.format("%Y%m%dT%H%M%SZ")))
                }
                _ => Ok(part.to_string()),
            })
            .collect::<Result<_, String>>()?;
        let text =
            format!("DTSTART;TZID={}:{}\nRRULE:{}", series_zone.name(), anchor.format("%Y%m%dT%H%M%S"), rule.join(";"));
        let set: icalendar::rrule::RRuleSet = text.parse().map_err(|error| format!("RRULE: {error}"))?;
        let rrule_zone: icalendar::rrule::Tz = series_zone.into();
        let after = (from - self.length - Duration::days(1)).with_timezone(&rrule_zone);
        let before = (to + Duration::days(1)).with_timezone(&rrule_zone);
        let result = set.after(after).before(before).all(u16::MAX);
        Ok(result
            .dates
            .into_iter()
            .map(|at| match self.start {
                Stamp::Date(_) => Stamp::Date(at.with_timezone(&series_zone).date_naive()),
                Stamp::At(_) => Stamp::At(at.with_timezone(&series_zone)),
            })
            .collect())
    }
}

/// Whether an instance overlaps `[from, to)`; a zero-length one counts at its start.
fn overlaps(start: DateTime<Utc>, end: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    start < to && (end > from || (end == start && start >= from))
}

/// The instances of `ics` on the days `first..=last` in `zone`, by start.
pub fn instances(ics: &str, first: NaiveDate, last: NaiveDate, zone: Tz) -> Result<Vec<Instance>, CalendarError> {
    let calendar: Calendar = ics.parse().map_err(CalendarError::Parse)?;
    let from = local(zone, first.and_time(NaiveTime::MIN)).with_timezone(&Utc);
    let to = local(zone, (last + Duration::days(1)).and_time(NaiveTime::MIN)).with_timezone(&Utc);
    let mut masters: Vec<Series> = Vec::new();
    let mut overrides: BTreeMap<String, Vec<(DateTime<Utc>, Series)>> = BTreeMap::new();
    for event in calendar.events() {
        let series = Series::read(event, zone)?;
        match event.properties().get("RECURRENCE-ID") {
            Some(property) => {
                let id = stamps(property, zone)
                    .map_err(|problem| CalendarError::Event { uid: series.uid.clone(), problem })?
                    .into_iter()
                    .next()
                    .ok_or_else(|| CalendarError::Event {
                        uid: series.uid.clone(),
                        problem: "empty RECURRENCE-ID".into(),
                    })?;
                overrides.entry(series.uid.clone()).or_default().push((id.utc(zone), series));
            }
            None => masters.push(series),
        }
    }
    let mut out = Vec::new();
    for master in masters.iter().filter(|master| !master.cancelled()) {
        let recurring = !all(master.event, "RRULE").is_empty() || !all(master.event, "RDATE").is_empty();
        let replaced: Vec<DateTime<Utc>> =
            overrides.get(&master.uid).map(|list| list.iter().map(|(id, _)| *id).collect()).unwrap_or_default();
        for start in master.starts(zone, from, to)? {
            let at = start.utc(zone);
            if replaced.contains(&at) || !overlaps(at, at + master.length, from, to) {
                continue;
            }
            out.push(master.instance(start, zone, recurring.then_some(start)));
        }
        for (id, moved) in overrides.get(&master.uid).into_iter().flatten() {
            let at = moved.start.utc(zone);
            if moved.cancelled() || !overlaps(at, at + moved.length, from, to) {
                continue;
            }
            let original = if master.all_day {
                Stamp::Date(id.with_timezone(&zone).date_naive())
            } else {
                Stamp::At(id.with_timezone(&zone))
            };
            out.push(moved.instance(moved.start, zone, Some(original)));
        }
    }
    out.sort_by(|a, b| sort_key(&a.start, zone).cmp(&sort_key(&b.start, zone)).then_with(|| a.summary.cmp(&b.summary)));
    Ok(out)
}

fn sort_key(when: &When, zone: Tz) -> DateTime<Utc> {
    match when {
        When::Date(date) => local(zone, date.and_time(NaiveTime::MIN)).with_timezone(&Utc),
        When::At(at) => at.with_timezone(&Utc),
    }
}
