//! When a scheduled run starts, as a person gives it (`--at now`, a local
//! time, RFC 3339) and as the CLI shows it back: in the user's time zone,
//! named, and in UTC.

use chrono::{DateTime, Local, Utc};
use steward_domain::schedule::ScheduleZone;

use crate::input::parse_time;
use crate::output::duration;

/// A start time given with `--at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartAt {
    Now,
    At(DateTime<Utc>),
}

/// `now`, or a time [`parse_time`] reads.
pub fn parse_start_at(text: &str) -> Result<StartAt, String> {
    if text.trim().eq_ignore_ascii_case("now") {
        return Ok(StartAt::Now);
    }
    parse_time(text).map(StartAt::At).map_err(|error| format!("{error}, or now"))
}

/// How far in the past a time may be and still count as "now": a minute
/// typed to the minute has begun a little while ago.
const PAST_TOLERANCE: chrono::Duration = chrono::Duration::seconds(60);

/// Refuses a time in the past (a run would start at once, which is seldom
/// what a person who typed a date meant) unless `allow_past`.
pub fn refuse_past(at: DateTime<Utc>, now: DateTime<Utc>, allow_past: bool) -> Result<(), String> {
    if allow_past || at + PAST_TOLERANCE >= now {
        return Ok(());
    }
    let ago = duration(u64::try_from((now - at).num_milliseconds()).unwrap_or(u64::MAX));
    Err(format!(
        "--at {} is in the past ({ago} ago), so the run would start at once; use --at now to start it now, \
         or --allow-past to schedule it anyway",
        zoned(at)
    ))
}

/// The user's IANA time zone: `TZ` when it names one, else the zone
/// `/etc/localtime` links to; `None` when neither says.
pub fn user_zone() -> Option<ScheduleZone> {
    let from_environment = std::env::var("TZ").ok().map(|name| name.trim_start_matches(':').to_string());
    if let Some(name) = from_environment.filter(|name| !name.is_empty()) {
        return ScheduleZone::parse("TZ", &name).ok();
    }
    let target = std::fs::read_link("/etc/localtime").ok()?;
    let target = target.to_string_lossy();
    let (_, name) = target.split_once("zoneinfo/")?;
    ScheduleZone::parse("/etc/localtime", name).ok()
}

/// `2030-01-31 09:00 Europe/London (2030-01-31 09:00 UTC)`; with an offset
/// for the zone when its name is unknown.
pub fn zoned(time: DateTime<Utc>) -> String {
    let utc = time.format("%Y-%m-%d %H:%M UTC");
    match user_zone() {
        Some(zone) if zone.name() == "UTC" => utc.to_string(),
        Some(zone) => format!("{} {} ({utc})", time.with_timezone(&zone.tz()).format("%Y-%m-%d %H:%M"), zone.name()),
        None => format!("{} ({utc})", time.with_timezone(&Local).format("%Y-%m-%d %H:%M UTC%:z")),
    }
}

/// `in 3 d 2 h` or `now`.
pub fn distance(time: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let milliseconds = (time - now).num_milliseconds();
    if milliseconds < 1000 { "now".to_string() } else { format!("in {}", duration(milliseconds.unsigned_abs())) }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn now_and_times_are_read() {
        assert_eq!(parse_start_at("now"), Ok(StartAt::Now));
        assert_eq!(parse_start_at(" NOW "), Ok(StartAt::Now));
        assert_eq!(parse_start_at("2030-01-31T09:00:00Z"), Ok(StartAt::At(at("2030-01-31T09:00:00Z"))));
        let error = parse_start_at("soon").unwrap_err();
        assert!(error.ends_with("or a local 2030-01-31 09:00, or now"), "{error}");
    }

    #[test]
    fn the_past_is_refused_unless_allowed() {
        let now = Utc.with_ymd_and_hms(2030, 1, 31, 9, 0, 30).unwrap();
        assert_eq!(refuse_past(at("2030-01-31T09:00:00Z"), now, false), Ok(()), "the current minute is now");
        assert_eq!(refuse_past(at("2030-02-01T09:00:00Z"), now, false), Ok(()));
        let error = refuse_past(at("2030-01-30T09:00:00Z"), now, false).unwrap_err();
        assert!(error.contains("is in the past (1 d ago)"), "{error}");
        assert!(error.contains("--at now") && error.contains("--allow-past"), "{error}");
        assert_eq!(refuse_past(at("2030-01-30T09:00:00Z"), now, true), Ok(()));
    }

    #[test]
    fn distances_read_naturally() {
        let now = at("2030-01-31T09:00:00Z");
        assert_eq!(distance(now, now), "now");
        assert_eq!(distance(at("2030-01-31T09:05:00Z"), now), "in 5 min");
    }
}
