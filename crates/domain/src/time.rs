//! The clock as an injectable dependency: production reads the system time,
//! tests advance a manual clock instead of sleeping.

use std::sync::Mutex;

use chrono::{DateTime, Duration, DurationRound, NaiveTime, TimeDelta, Utc};

/// Where "now" comes from.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock, truncated to microseconds (the precision both
/// databases store), so a value read back equals the value written.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        truncate_to_micros(Utc::now())
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock { now: Mutex::new(truncate_to_micros(start)) }
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }

    pub fn set(&self, to: DateTime<Utc>) {
        let mut now = self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *now = truncate_to_micros(to);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Drops sub-microsecond precision.
pub fn truncate_to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    // Rounding a valid timestamp to a microsecond cannot overflow; if it ever
    // did, the untruncated value is still a correct timestamp.
    at.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(at)
}

/// Midnight UTC of the day of `now`: where "today" starts for an agent's
/// daily budget and spending.
pub fn start_of_utc_day(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive().and_time(NaiveTime::MIN).and_utc()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_day_starts_at_midnight_utc() {
        let late = Utc.with_ymd_and_hms(2026, 3, 9, 23, 59, 59).unwrap();
        assert_eq!(start_of_utc_day(late), Utc.with_ymd_and_hms(2026, 3, 9, 0, 0, 0).unwrap());
        let midnight = Utc.with_ymd_and_hms(2026, 3, 10, 0, 0, 0).unwrap();
        assert_eq!(start_of_utc_day(midnight), midnight);
    }
}
