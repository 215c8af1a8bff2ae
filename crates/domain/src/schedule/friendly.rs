//! The forms of *when* that are not a bare cron expression: the `@daily`
//! macros, `daily at 08:00` and its weekday kin, `every 15 minutes`, and the
//! one-shot `at 2030-01-31T09:00`. Each becomes a rule and a canonical text.

use chrono::{DateTime, FixedOffset, NaiveDateTime, NaiveTime, Offset, Timelike};

use super::calendar::CalendarPattern;
use super::rule::{OneShot, Rule};

/// The longest fixed interval: a week.
const MAX_INTERVAL_SECONDS: i64 = 7 * 24 * 3600;

const WEEKDAYS: [(&str, &str); 7] = [
    ("monday", "MON"),
    ("tuesday", "TUE"),
    ("wednesday", "WED"),
    ("thursday", "THU"),
    ("friday", "FRI"),
    ("saturday", "SAT"),
    ("sunday", "SUN"),
];

/// The forms, for the error that lists them.
pub(crate) const FORMS: &str = "a cron expression (5 fields, or 6 with seconds first), @yearly, @monthly, @weekly, \
    @daily, @hourly, `daily at 08:00`, `weekdays at 08:00`, `weekends at 10:00`, `mondays at 09:00`, \
    `every 15 minutes`, `every 2 hours`, or `at 2030-01-31T09:00` (one-shot)";

/// Parses lower-cased words into a canonical text and a rule.
pub(crate) fn parse_friendly(words: &[String]) -> Result<(String, Rule), String> {
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        [name] if name.starts_with('@') => parse_macro(name),
        ["every", rest @ ..] => parse_every(rest),
        ["at", date_time] => parse_one_shot(date_time),
        ["at", date, time] => parse_one_shot(&format!("{date}T{time}")),
        [days, "at", time] => parse_days_at(days, time),
        _ => Err(format!("not a form of *when* this understands; use {FORMS}")),
    }
}

fn parse_macro(name: &str) -> Result<(String, Rule), String> {
    let (canonical, fields): (&str, [&str; 5]) = match name {
        "@yearly" | "@annually" => ("@yearly", ["0", "0", "1", "1", "*"]),
        "@monthly" => ("@monthly", ["0", "0", "1", "*", "*"]),
        "@weekly" => ("@weekly", ["0", "0", "*", "*", "0"]),
        "@daily" | "@midnight" => ("@daily", ["0", "0", "*", "*", "*"]),
        "@hourly" => ("@hourly", ["0", "*", "*", "*", "*"]),
        _ => {
            return Err(format!(
                "`{name}` is not a known macro; use @yearly (@annually), @monthly, @weekly, @daily (@midnight) or \
                 @hourly"
            ));
        }
    };
    Ok((canonical.to_string(), Rule::Calendar(Box::new(CalendarPattern::from_fields(&fields)?))))
}

/// `every N minutes`, `every hour`, and the `every monday at 09:00` spelling
/// of `mondays at 09:00`.
fn parse_every(rest: &[&str]) -> Result<(String, Rule), String> {
    match rest {
        [day, "at", time] => parse_days_at(&format!("{day}s"), time),
        [unit] => interval(1, unit),
        [count, unit] => {
            let count = count
                .parse::<i64>()
                .ok()
                .filter(|count| *count >= 1)
                .ok_or_else(|| format!("`every {count} {unit}`: the count must be a whole number of at least 1"))?;
            interval(count, unit)
        }
        _ => Err(format!("not a form of *when* this understands; use {FORMS}")),
    }
}

fn interval(count: i64, unit: &str) -> Result<(String, Rule), String> {
    let (unit_seconds, singular) = match unit {
        "second" | "seconds" => (1, "second"),
        "minute" | "minutes" => (60, "minute"),
        "hour" | "hours" => (3600, "hour"),
        _ => return Err(format!("`every … {unit}`: the unit must be seconds, minutes or hours")),
    };
    let seconds = count.saturating_mul(unit_seconds);
    if seconds > MAX_INTERVAL_SECONDS {
        return Err(format!("`every {count} {unit}` is longer than a week; use a cron expression for rarer schedules"));
    }
    let canonical = if count == 1 { format!("every {singular}") } else { format!("every {count} {singular}s") };
    Ok((canonical, Rule::Interval { seconds }))
}

fn parse_days_at(days: &str, time: &str) -> Result<(String, Rule), String> {
    let (canonical_days, day_of_week) = match days {
        "daily" | "days" => ("daily".to_string(), "*"),
        "weekdays" => ("weekdays".to_string(), "MON-FRI"),
        "weekends" => ("weekends".to_string(), "SAT,SUN"),
        _ => match WEEKDAYS.iter().find(|(name, _)| days.strip_suffix('s') == Some(*name)) {
            Some((name, abbreviation)) => (format!("{name}s"), *abbreviation),
            None => {
                return Err(format!(
                    "`{days} at …`: the days must be daily, weekdays, weekends, or a weekday in the plural \
                     (mondays … sundays)"
                ));
            }
        },
    };
    let time = parse_time_of_day(time)?;
    let (hour, minute, second) = (time.hour().to_string(), time.minute().to_string(), time.second().to_string());
    let pattern = CalendarPattern::from_fields(&[&second, &minute, &hour, "*", "*", day_of_week])?;
    Ok((format!("{canonical_days} at {}", time_text(time)), Rule::Calendar(Box::new(pattern))))
}

/// `8:00`, `08:00` or `08:00:30`, on a 24-hour clock.
fn parse_time_of_day(text: &str) -> Result<NaiveTime, String> {
    let well_formed = text.split(':').count() >= 2 && text.split(':').all(|part| !part.is_empty() && part.len() <= 2);
    well_formed
        .then(|| NaiveTime::parse_from_str(text, "%H:%M:%S").or_else(|_| NaiveTime::parse_from_str(text, "%H:%M")).ok())
        .flatten()
        .ok_or_else(|| format!("`{text}` is not a time of day; write HH:MM on a 24-hour clock, as in 08:00 or 17:30"))
}

fn time_text(time: NaiveTime) -> String {
    if time.second() == 0 { time.format("%H:%M").to_string() } else { time.format("%H:%M:%S").to_string() }
}

/// `2030-01-31T09:00` (in the schedule's zone) or with an RFC 3339 offset,
/// `2030-01-31T09:00:00+01:00` or `…Z`. Whole seconds only.
fn parse_one_shot(text: &str) -> Result<(String, Rule), String> {
    let text = text.to_ascii_uppercase();
    let problem = || {
        format!(
            "`at {text}`: write the date and time as 2030-01-31T09:00 (in the schedule's time zone) or with an \
             offset, as 2030-01-31T09:00:00+01:00 or 2030-01-31T08:00:00Z"
        )
    };
    let local = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(&text, format).ok());
    if let Some(local) = local {
        let canonical = format!("at {}T{}", local.date().format("%Y-%m-%d"), time_text(local.time()));
        return Ok((canonical, Rule::Once(OneShot::Local(local))));
    }
    let with_offset = match text.strip_suffix('Z') {
        Some(utc) => format!("{utc}+00:00"),
        None => text.clone(),
    };
    let fixed = ["%Y-%m-%dT%H:%M:%S%:z", "%Y-%m-%dT%H:%M%:z"]
        .iter()
        .find_map(|format| DateTime::<FixedOffset>::parse_from_str(&with_offset, format).ok())
        .ok_or_else(problem)?;
    let offset = fixed.offset().fix();
    let offset_text = if offset.local_minus_utc() == 0 { "Z".to_string() } else { offset.to_string() };
    let local = fixed.naive_local();
    let canonical = format!("at {}T{}{offset_text}", local.date().format("%Y-%m-%d"), local.time().format("%H:%M:%S"));
    Ok((canonical, Rule::Once(OneShot::Fixed(fixed))))
}
