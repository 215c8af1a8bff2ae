//! Rate limits on authentication attempts: a key (a client address, a user
//! name) that failed too often in a window is refused until the window
//! ends, with the seconds to wait (`429` and `Retry-After`). Kept in
//! memory: a restart forgives, which is acceptable for a brute-force brake.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

#[derive(Debug)]
pub struct AttemptLimiter {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, (u32, DateTime<Utc>)>>,
}

impl AttemptLimiter {
    pub fn new(max_failures: u32, window: Duration) -> AttemptLimiter {
        AttemptLimiter { max_failures, window, failures: Mutex::new(HashMap::new()) }
    }

    /// `Err(seconds to wait)` while `key` is over its failures.
    pub fn check(&self, key: &str, now: DateTime<Utc>) -> Result<(), u64> {
        let failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match failures.get(key) {
            Some((count, since)) if *count >= self.max_failures && now < *since + self.window => {
                Err(u64::try_from((*since + self.window - now).num_seconds()).unwrap_or(0).max(1))
            }
            _ => Ok(()),
        }
    }

    pub fn failed(&self, key: &str, now: DateTime<Utc>) {
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if failures.len() > 100_000 {
            let window = self.window;
            failures.retain(|_, (_, since)| now < *since + window);
        }
        let entry = failures.entry(key.to_string()).or_insert((0, now));
        if now >= entry.1 + self.window {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    pub fn succeeded(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_key_over_its_failures_waits_for_the_window() {
        let limiter = AttemptLimiter::new(3, Duration::minutes(5));
        let start = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        for _ in 0..3 {
            assert_eq!(limiter.check("10.0.0.1", start), Ok(()));
            limiter.failed("10.0.0.1", start);
        }
        assert_eq!(limiter.check("10.0.0.1", start + Duration::seconds(60)), Err(240));
        assert_eq!(limiter.check("10.0.0.2", start), Ok(()), "other keys are not affected");
        assert_eq!(limiter.check("10.0.0.1", start + Duration::minutes(5)), Ok(()));
        limiter.failed("ada", start);
        limiter.succeeded("ada");
        assert_eq!(limiter.failures.lock().unwrap().get("ada"), None);
    }
}
