//! When work asked for "at" a time or "after a delay" may start: the rule the
//! API's jobs, runs and scheduled actions share.

use std::time::Duration;

use chrono::{DateTime, Utc};
use steward_domain::ValidationError;

/// The longest `delay_ms` accepted: a year. Anything later is almost
/// certainly a unit mistake (seconds given as milliseconds the other way round).
pub const MAX_DELAY: Duration = Duration::from_secs(366 * 24 * 3600);

/// When a run or job may start: `at` (the request's field `at_field`), or
/// `delay_ms` after `now`, or `None` (now).
pub fn start_time(
    at_field: &str,
    at: Option<DateTime<Utc>>,
    delay_ms: Option<u64>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ValidationError> {
    match (at, delay_ms) {
        (Some(_), Some(_)) => Err(ValidationError::new("delay_ms", format!("give {at_field} or delay_ms, not both"))),
        (Some(at), None) => Ok(Some(at)),
        (None, Some(delay_ms)) => {
            let delay = Duration::from_millis(delay_ms);
            if delay > MAX_DELAY {
                return Err(ValidationError::new(
                    "delay_ms",
                    format!("is more than a year ({} ms); use {at_field} for a fixed time", MAX_DELAY.as_millis()),
                ));
            }
            // A year fits in a chrono duration, so this cannot fail.
            Ok(Some(now + chrono::Duration::from_std(delay).unwrap_or_default()))
        }
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_start_is_at_or_after_a_delay_but_not_both() {
        let now = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(start_time("at", None, None, now), Ok(None));
        assert_eq!(start_time("at", None, Some(1500), now), Ok(Some(now + chrono::Duration::milliseconds(1500))));
        assert_eq!(start_time("at", Some(now), None, now), Ok(Some(now)));
        assert_eq!(start_time("at", Some(now), Some(1), now).unwrap_err().field, "delay_ms");
        let year_and_more = u64::try_from(MAX_DELAY.as_millis()).unwrap() + 1;
        assert!(start_time("at", None, Some(year_and_more), now).unwrap_err().message.contains("more than a year"));
    }
}
