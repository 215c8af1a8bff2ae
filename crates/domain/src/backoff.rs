//! Retry delays: exponential backoff (1 s, 2 s, 4 s, 8 s …) with jitter,
//! capped. Pure, so the randomness comes in as an argument.

use std::time::Duration;

/// The first retry waits about this long.
pub const BASE_DELAY: Duration = Duration::from_secs(1);
/// Default ceiling for a single delay.
pub const DEFAULT_CAP: Duration = Duration::from_secs(3600);
/// A delay is stretched by up to this fraction of itself, so jobs that failed
/// together do not all come back in the same instant.
pub const JITTER_SPREAD: f64 = 0.25;

/// The delay before the retry that follows failed attempt `attempt` (1-based).
///
/// `jitter` is a number in `[0, 1)`, usually random; the result lies in
/// `[base, base × 1.25)` where `base = 1 s × 2^(attempt-1)`, and never above `cap`.
pub fn retry_delay(attempt: u32, jitter: f64, cap: Duration) -> Duration {
    let exponent = attempt.saturating_sub(1).min(32);
    let base = BASE_DELAY.saturating_mul(1u32 << exponent.min(31));
    let jitter = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.0 };
    let stretched = base.mul_f64(1.0 + JITTER_SPREAD * jitter);
    stretched.min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn doubles_from_one_second() {
        let delays: Vec<u64> = (1..=5).map(|attempt| retry_delay(attempt, 0.0, DEFAULT_CAP).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16]);
    }

    #[test]
    fn capped() {
        assert_eq!(retry_delay(30, 0.99, Duration::from_secs(60)), Duration::from_secs(60));
        assert_eq!(retry_delay(u32::MAX, 0.5, DEFAULT_CAP), DEFAULT_CAP);
    }

    proptest! {
        #[test]
        fn stays_within_the_jitter_band(attempt in 1u32..20, jitter in 0.0f64..1.0) {
            let base = BASE_DELAY * (1u32 << (attempt - 1));
            let delay = retry_delay(attempt, jitter, Duration::MAX);
            prop_assert!(delay >= base);
            prop_assert!(delay <= base.mul_f64(1.0 + JITTER_SPREAD));
        }

        #[test]
        fn never_shrinks_as_attempts_grow(attempt in 1u32..40) {
            prop_assert!(retry_delay(attempt + 1, 0.0, DEFAULT_CAP) >= retry_delay(attempt, 0.0, DEFAULT_CAP));
        }
    }
}
