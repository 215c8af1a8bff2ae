//! Deterministic jitter: each slot of a schedule is moved by the same amount
//! on every node and after every restart, so spreading load never makes two
//! processes disagree about when a slot fires.

use chrono::{DateTime, TimeDelta, Utc};

use crate::ids::ScheduleId;

/// A delay in `[0, max_jitter]` derived from the schedule and the slot alone.
/// The hash (SplitMix64) is written out here rather than taken from `std`,
/// whose hashers may change between Rust releases: a stored slot must get the
/// same jitter from every version of Steward.
pub fn slot_jitter(schedule: ScheduleId, slot: DateTime<Utc>, max_jitter: TimeDelta) -> TimeDelta {
    let Ok(max_micros) = u64::try_from(max_jitter.num_microseconds().unwrap_or(i64::MAX)) else {
        return TimeDelta::zero();
    };
    if max_micros == 0 {
        return TimeDelta::zero();
    }
    // Two's-complement reinterpretation: only the bits matter to the hash.
    let hash = split_mix_64(split_mix_64(schedule.get() as u64) ^ slot.timestamp_micros() as u64);
    let micros = hash % max_micros.saturating_add(1);
    TimeDelta::microseconds(i64::try_from(micros).unwrap_or(i64::MAX))
}

/// SplitMix64's finaliser: a fast, well-mixed 64-bit permutation.
fn split_mix_64(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::TimeZone;

    use super::*;

    fn slot(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 1, 0, minute, 0).unwrap()
    }

    #[test]
    fn the_same_schedule_and_slot_always_get_the_same_jitter() {
        let max = TimeDelta::seconds(30);
        assert_eq!(slot_jitter(ScheduleId(7), slot(5), max), slot_jitter(ScheduleId(7), slot(5), max));
        // Pinned, so a change of the hash (which would move stored slots) fails here.
        assert_eq!(split_mix_64(0), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn jitter_stays_within_bounds_and_spreads_slots() {
        let max = TimeDelta::seconds(30);
        let mut seen = BTreeSet::new();
        for minute in 0..60 {
            for schedule in 1..20 {
                let jitter = slot_jitter(ScheduleId(schedule), slot(minute), max);
                assert!(jitter >= TimeDelta::zero() && jitter <= max, "{jitter}");
                seen.insert(jitter.num_seconds());
            }
        }
        assert!(seen.len() > 20, "1,140 slots should land on many of the 31 seconds: {seen:?}");
    }

    #[test]
    fn no_jitter_allowed_means_none() {
        assert_eq!(slot_jitter(ScheduleId(1), slot(1), TimeDelta::zero()), TimeDelta::zero());
        assert_eq!(slot_jitter(ScheduleId(1), slot(1), TimeDelta::seconds(-5)), TimeDelta::zero());
    }
}
