//! A calendar pattern: the wall-clock times a cron-like schedule names, with
//! no time zone yet. Fields are checked by `cron_fields`, then parsed and
//! matched by croner (day-of-month and day-of-week with `L`, `W`, `#` and the
//! Vixie either-day rule); this module walks the calendar to the next
//! matching wall-clock time and knows whether a pattern can match at all.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};
use croner::Cron;
use croner::parser::{CronParser, Seconds};

use super::cron_fields::{CronField, FieldError, normalize_field};

/// The Gregorian calendar repeats every 400 years: 146,097 days, exactly
/// 20,871 weeks, so every combination of month, day of month and weekday
/// (leap days, `L`, `W`, `#`) that ever happens happens in any 400-year span.
/// A pattern with no matching date in one cycle never matches, and no two
/// consecutive matches of a pattern are further apart than this. (Eight years
/// covers a plain leap day, but not `0 0 * 2 5#5`, the fifth Friday of
/// February, which happens 28 or 40 years apart.)
pub(crate) const GREGORIAN_CYCLE_DAYS: i64 = 146_097;

/// Which wall-clock times are slots.
#[derive(Clone, Debug)]
pub(crate) struct CalendarPattern {
    cron: Cron,
    /// The hour field is `*` or has a step, so the schedule keeps firing
    /// through both passes of an hour repeated by a fall-back (cronie's rule).
    repeats_in_fold: bool,
}

impl CalendarPattern {
    /// Parses the fields of a cron expression (upper-cased, 5 fields or 6
    /// with seconds first). The error is the message for the user.
    pub(crate) fn from_fields(fields: &[&str]) -> Result<CalendarPattern, String> {
        let layout: &[CronField] = match fields.len() {
            5 => &CronField::FIVE,
            6 => &CronField::SIX,
            count => {
                return Err(format!(
                    "a cron expression has 5 fields (minute hour day-of-month month day-of-week), or 6 with \
                     seconds first; this one has {count}"
                ));
            }
        };
        let mut numeric = Vec::with_capacity(6);
        if fields.len() == 5 {
            numeric.push("0".to_string());
        }
        for (field, text) in layout.iter().zip(fields) {
            numeric.push(normalize_field(*field, text).map_err(|error| error.to_string())?);
        }
        let hour_text = fields[fields.len() - 4];
        let repeats_in_fold = hour_text.contains('*') || hour_text.contains('/');
        let cron = parse_numeric(&numeric, fields)?;
        let pattern = CalendarPattern { cron, repeats_in_fold };
        if !pattern.ever_matches() {
            return Err(format!(
                "`{}` never fires: no date matches its day-of-month, month and day-of-week fields (checked over \
                 400 years, a whole cycle of the Gregorian calendar)",
                fields.join(" ")
            ));
        }
        Ok(pattern)
    }

    pub(crate) fn repeats_in_fold(&self) -> bool {
        self.repeats_in_fold
    }

    /// Whether `wall` (whole seconds) is one of the pattern's wall-clock times.
    pub(crate) fn matches(&self, wall: NaiveDateTime) -> bool {
        let pattern = &self.cron.pattern;
        self.matches_date(wall.date())
            && pattern.hour_match(wall.hour()).unwrap_or(false)
            && pattern.minute_match(wall.minute()).unwrap_or(false)
            && pattern.second_match(wall.second()).unwrap_or(false)
    }

    /// The first matching wall-clock time at or after `from` and before
    /// `until`, walking the calendar a month or a day at a time.
    pub(crate) fn next_matching_wall(&self, from: NaiveDateTime, until: NaiveDateTime) -> Option<NaiveDateTime> {
        let mut date = from.date();
        let mut earliest_time = from.time().with_nanosecond(0).unwrap_or(from.time());
        loop {
            if date.and_time(NaiveTime::MIN) >= until {
                return None;
            }
            if !self.cron.pattern.month_match(date.month()).unwrap_or(false) {
                date = first_of_next_month(date)?;
                earliest_time = NaiveTime::MIN;
                continue;
            }
            if self.matches_date(date)
                && let Some(time) = self.first_time_at_or_after(earliest_time)
            {
                let wall = date.and_time(time);
                return (wall < until).then_some(wall);
            }
            date = date.succ_opt()?;
            earliest_time = NaiveTime::MIN;
        }
    }

    fn matches_date(&self, date: NaiveDate) -> bool {
        let pattern = &self.cron.pattern;
        let weekday = croner::Weekday::from_days_from_sunday(date.weekday().num_days_from_sunday());
        pattern.month_match(date.month()).unwrap_or(false)
            && pattern.day_match(date.year(), date.month(), date.day(), weekday).unwrap_or(false)
    }

    /// The first matching time of day at or after `earliest`, if any.
    fn first_time_at_or_after(&self, earliest: NaiveTime) -> Option<NaiveTime> {
        let pattern = &self.cron.pattern;
        for hour in earliest.hour()..24 {
            if !pattern.hour_match(hour).unwrap_or(false) {
                continue;
            }
            let first_minute = if hour == earliest.hour() { earliest.minute() } else { 0 };
            for minute in first_minute..60 {
                if !pattern.minute_match(minute).unwrap_or(false) {
                    continue;
                }
                let first_second =
                    if hour == earliest.hour() && minute == earliest.minute() { earliest.second() } else { 0 };
                if let Some(second) = (first_second..60).find(|second| pattern.second_match(*second).unwrap_or(false)) {
                    return NaiveTime::from_hms_opt(hour, minute, second);
                }
            }
        }
        None
    }

    /// Whether any date of a whole Gregorian cycle matches (the time fields
    /// always match something).
    fn ever_matches(&self) -> bool {
        let Some(start) = NaiveDate::from_ymd_opt(2000, 1, 1) else { return false };
        let Some(end) = start.checked_add_signed(TimeDelta::days(GREGORIAN_CYCLE_DAYS)) else { return false };
        let from = start.and_time(NaiveTime::MIN);
        self.next_matching_wall(from, end.and_time(NaiveTime::MIN)).is_some()
    }
}

/// Has croner parse the checked numeric fields. It should accept anything
/// `cron_fields` let through; if it does not, its complaint is reported
/// against the field it is about, found by parsing the fields one at a time.
fn parse_numeric(numeric: &[String], original: &[&str]) -> Result<Cron, String> {
    let parser = CronParser::builder().seconds(Seconds::Required).build();
    let error = match parser.parse(&numeric.join(" ")) {
        Ok(cron) => return Ok(cron),
        Err(error) => error,
    };
    let offset = 6 - original.len();
    for (index, field) in CronField::SIX.iter().enumerate().skip(offset) {
        let mut alone = ["0", "*", "*", "*", "*", "*"];
        alone[index] = &numeric[index];
        if let Err(field_error) = parser.parse(&alone.join(" ")) {
            let text = original[index - offset].to_string();
            return Err(FieldError { field: *field, text, problem: field_error.to_string() }.to_string());
        }
    }
    Err(format!("`{}` is not a valid cron expression: {error}", original.join(" ")))
}

fn first_of_next_month(date: NaiveDate) -> Option<NaiveDate> {
    if date.month() == 12 {
        NaiveDate::from_ymd_opt(date.year().checked_add(1)?, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
    }
}
