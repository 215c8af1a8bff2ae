//! The cron grammar, field by field: checks each field of a 5- or 6-field
//! expression, with an error that names the field, quotes it and says what
//! is allowed there, and rewrites it into the plain numeric form croner
//! parses (names to numbers, `?` to `*`, `N/S` to `N-max/S`).
//!
//! croner's own parser accepts more than our grammar (a year field, a `+`
//! prefix, empty list items, a lone `L` among weekdays that never matches)
//! and reports problems without saying which field they are in, so every
//! field is checked here first and croner only ever sees checked input.

use std::fmt;

/// One field of a cron expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CronField {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

const MONTH_NAMES: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl CronField {
    /// The fields of a 5-field expression, in order.
    pub(crate) const FIVE: [CronField; 5] =
        [CronField::Minute, CronField::Hour, CronField::DayOfMonth, CronField::Month, CronField::DayOfWeek];
    /// The fields of a 6-field expression (seconds first), in order.
    pub(crate) const SIX: [CronField; 6] = [
        CronField::Second,
        CronField::Minute,
        CronField::Hour,
        CronField::DayOfMonth,
        CronField::Month,
        CronField::DayOfWeek,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            CronField::Second => "second",
            CronField::Minute => "minute",
            CronField::Hour => "hour",
            CronField::DayOfMonth => "day-of-month",
            CronField::Month => "month",
            CronField::DayOfWeek => "day-of-week",
        }
    }

    fn range(self) -> (u32, u32) {
        match self {
            CronField::Second | CronField::Minute => (0, 59),
            CronField::Hour => (0, 23),
            CronField::DayOfMonth => (1, 31),
            CronField::Month => (1, 12),
            CronField::DayOfWeek => (0, 7),
        }
    }

    /// What the field accepts, for error messages.
    fn allowed(self) -> &'static str {
        match self {
            CronField::Second | CronField::Minute => "allowed 0–59, with `*`, `,`, `-` and `/`",
            CronField::Hour => "allowed 0–23, with `*`, `,`, `-` and `/`",
            CronField::DayOfMonth => {
                "allowed 1–31, with `*`, `,`, `-` and `/`, or `?`, `L` (the last day), `LW` (the last weekday), \
                 `15W` (the weekday nearest the 15th)"
            }
            CronField::Month => "allowed 1–12 or JAN–DEC, with `*`, `,`, `-` and `/`",
            CronField::DayOfWeek => {
                "allowed 0–7 (0 and 7 are Sunday) or SUN–SAT, with `*`, `,`, `-` and `/`, or `?`, `L` as in `5L` \
                 (the last Friday), `#` as in `1#2` (the second Monday)"
            }
        }
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            CronField::Month => &MONTH_NAMES,
            CronField::DayOfWeek => &WEEKDAY_NAMES,
            _ => &[],
        }
    }
}

/// A field that does not follow the grammar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub(crate) field: CronField,
    pub(crate) text: String,
    pub(crate) problem: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} field `{}`: {}; {}", self.field.name(), self.text, self.problem, self.field.allowed())
    }
}

/// Checks one field (already upper-cased) and returns its numeric form.
pub(crate) fn normalize_field(field: CronField, text: &str) -> Result<String, FieldError> {
    let fail = |problem: String| FieldError { field, text: text.to_string(), problem };
    if text == "?" {
        return match field {
            CronField::DayOfMonth | CronField::DayOfWeek => Ok("*".to_string()),
            _ => Err(fail("`?` is only allowed in the day-of-month and day-of-week fields".to_string())),
        };
    }
    if text.contains('?') {
        return Err(fail("`?` must be the whole field".to_string()));
    }
    let items: Result<Vec<String>, String> = text.split(',').map(|item| normalize_item(field, item)).collect();
    items.map(|items| items.join(",")).map_err(fail)
}

fn normalize_item(field: CronField, item: &str) -> Result<String, String> {
    if item.is_empty() {
        return Err("a list has an empty item".to_string());
    }
    let (base, step) = match item.split_once('/') {
        Some((base, step)) => (base, Some(parse_step(step)?)),
        None => (item, None),
    };
    if let Some(special) = special_day(field, base)? {
        if step.is_some() {
            return Err(format!("`{base}` cannot have a step"));
        }
        return Ok(special);
    }
    let (low, high) = field.range();
    let range = if base == "*" {
        None
    } else if let Some((start, end)) = base.split_once('-') {
        let start = parse_value(field, start, ValuePlace::Elsewhere)?;
        let end = parse_value(field, end, ValuePlace::RangeEnd)?;
        if start > end {
            return Err(format!("the range `{base}` runs backwards (ranges do not wrap around)"));
        }
        Some((start, end))
    } else {
        let value = parse_value(field, base, ValuePlace::Elsewhere)?;
        // `N/S` is the Quartz spelling of `N-max/S`.
        Some((value, if step.is_some() { high } else { value }))
    };
    let base = match range {
        None => "*".to_string(),
        Some((start, end)) if start == end => start.to_string(),
        Some((start, end)) => format!("{start}-{end}"),
    };
    Ok(match step {
        Some(step) if step > high - low + 1 => {
            return Err(format!("the step {step} is larger than the field's range"));
        }
        Some(step) if !base.contains('-') && base != "*" => format!("{base}-{base}/{step}"),
        Some(step) => format!("{base}/{step}"),
        None => base,
    })
}

/// The day fields' special items: `L`, `LW`, `15W` among days of the month,
/// `5L`, `5#2`, `5#L` among weekdays. `None` when `base` is not one of them.
fn special_day(field: CronField, base: &str) -> Result<Option<String>, String> {
    match field {
        CronField::DayOfMonth => {
            if base == "L" || base == "LW" {
                return Ok(Some(base.to_string()));
            }
            if let Some(day) = base.strip_suffix('W') {
                if day.is_empty() {
                    return Err("`W` needs a day before it, as in `15W`".to_string());
                }
                if day.contains('-') || day == "*" {
                    return Err(format!("`W` takes one day, as in `15W`, not `{base}`"));
                }
                return Ok(Some(format!("{}W", parse_value(field, day, ValuePlace::Elsewhere)?)));
            }
            if base.contains('L') {
                return Err(format!("`{base}` is not understood; `L` stands alone or as `LW`"));
            }
            Ok(None)
        }
        CronField::DayOfWeek => {
            if let Some((weekday, nth)) = base.split_once('#') {
                let weekday = parse_value(field, weekday, ValuePlace::Elsewhere)?;
                let nth = match nth {
                    "L" => "L".to_string(),
                    _ => match nth.parse::<u32>() {
                        Ok(nth @ 1..=5) => nth.to_string(),
                        _ => return Err(format!("`#{nth}` must be `#1` to `#5`, or `#L` for the last")),
                    },
                };
                return Ok(Some(format!("{weekday}#{nth}")));
            }
            if base == "L" {
                return Err("`L` needs a weekday before it, as in `5L` (the last Friday)".to_string());
            }
            if let Some(weekday) = base.strip_suffix('L') {
                return Ok(Some(format!("{}L", parse_value(field, weekday, ValuePlace::Elsewhere)?)));
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

fn parse_step(step: &str) -> Result<u32, String> {
    match step.parse::<u32>() {
        Ok(step) if step >= 1 => Ok(step),
        _ => Err(format!("the step `/{step}` must be a whole number of at least 1")),
    }
}

/// Where a value stands in its field: only the end of a range reads a
/// Sunday as 7.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValuePlace {
    RangeEnd,
    Elsewhere,
}

/// A number or, in the month and day-of-week fields, a name. Sunday ends a
/// weekday range as 7, so `FRI-SUN` is Friday to Sunday.
fn parse_value(field: CronField, text: &str, place: ValuePlace) -> Result<u32, String> {
    let (low, high) = field.range();
    if text.is_empty() {
        return Err("a range or step is missing a number".to_string());
    }
    if text.bytes().all(|byte| byte.is_ascii_digit()) {
        return match text.parse::<u32>() {
            Ok(value) if (low..=high).contains(&value) => Ok(value),
            _ => Err(format!("{text} is out of range")),
        };
    }
    if let Some(index) = field.names().iter().position(|name| *name == text) {
        let index = u32::try_from(index).unwrap_or(0);
        return Ok(match field {
            CronField::Month => index + 1,
            _ if place == ValuePlace::RangeEnd && index == 0 => 7,
            _ => index,
        });
    }
    Err(match field {
        CronField::Month => format!("`{text}` is not a number or a month name"),
        CronField::DayOfWeek => format!("`{text}` is not a number or a weekday name"),
        _ => format!("`{text}` is not a number"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal(field: CronField, text: &str) -> String {
        normalize_field(field, text).unwrap()
    }

    fn problem(field: CronField, text: &str) -> String {
        normalize_field(field, text).unwrap_err().to_string()
    }

    #[test]
    fn names_steps_and_question_marks_become_numbers() {
        assert_eq!(normal(CronField::DayOfWeek, "MON-FRI"), "1-5");
        assert_eq!(normal(CronField::DayOfWeek, "FRI-SUN"), "5-7");
        assert_eq!(normal(CronField::DayOfWeek, "SUN,7"), "0,7");
        assert_eq!(normal(CronField::Month, "JAN,MAR-MAY/2"), "1,3-5/2");
        assert_eq!(normal(CronField::Minute, "0/15"), "0-59/15");
        assert_eq!(normal(CronField::Minute, "*/15"), "*/15");
        assert_eq!(normal(CronField::DayOfMonth, "?"), "*");
        assert_eq!(normal(CronField::DayOfMonth, "L,LW,15W"), "L,LW,15W");
        assert_eq!(normal(CronField::DayOfWeek, "FRI#2,5L,MON#L"), "5#2,5L,1#L");
    }

    #[test]
    fn errors_name_the_field_quote_it_and_say_what_is_allowed() {
        assert_eq!(
            problem(CronField::DayOfWeek, "8"),
            "day-of-week field `8`: 8 is out of range; allowed 0–7 (0 and 7 are Sunday) or SUN–SAT, with `*`, `,`, \
             `-` and `/`, or `?`, `L` as in `5L` (the last Friday), `#` as in `1#2` (the second Monday)"
        );
        assert!(problem(CronField::Hour, "24").starts_with("hour field `24`: 24 is out of range; allowed 0–23"));
        assert!(problem(CronField::Minute, "5-3").contains("the range `5-3` runs backwards"));
        assert!(problem(CronField::Minute, "*/0").contains("the step `/0` must be a whole number of at least 1"));
        assert!(problem(CronField::Minute, "1,").contains("a list has an empty item"));
        assert!(problem(CronField::Month, "JANUARY").contains("`JANUARY` is not a number or a month name"));
        assert!(problem(CronField::DayOfWeek, "L").contains("`L` needs a weekday before it"));
        assert!(problem(CronField::DayOfWeek, "1#6").contains("`#6` must be `#1` to `#5`"));
        assert!(problem(CronField::Hour, "?").contains("`?` is only allowed in the day-of-month and day-of-week"));
        assert!(problem(CronField::DayOfMonth, "1-5W").contains("`W` takes one day"));
        assert!(problem(CronField::DayOfMonth, "0").contains("0 is out of range; allowed 1–31"));
        assert!(problem(CronField::Minute, "*/61").contains("larger than the field's range"));
    }
}
