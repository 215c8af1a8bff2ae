//! Fire times across DST transitions, checked by hand. Each test names the
//! transition; the expected instants follow from it and the rules in the
//! `schedule` module docs: a skipped time fires at the first instant after the
//! gap, a repeated one at its first occurrence, and a schedule whose hour
//! field is `*` or a step fires through both passes.

use crate::support::check_table;

/// America/New_York, 2025-03-09: at 02:00 EST (07:00Z) clocks go to 03:00
/// EDT, so 02:00–02:59 does not exist.
#[test]
fn new_york_spring_forward() {
    check_table(&[
        (
            "30 2 * * *",
            "America/New_York",
            "2025-03-08T12:00:00-05:00",
            &["2025-03-09T03:00:00-04:00", "2025-03-10T02:30:00-04:00", "2025-03-11T02:30:00-04:00"],
        ),
        ("daily at 02:30", "America/New_York", "2025-03-08T12:00:00-05:00", &["2025-03-09T03:00:00-04:00"]),
        // Four skipped times fire once, at the end of the gap.
        (
            "*/15 2 * * *",
            "America/New_York",
            "2025-03-09T00:00:00-05:00",
            &["2025-03-09T03:00:00-04:00", "2025-03-10T02:00:00-04:00", "2025-03-10T02:15:00-04:00"],
        ),
        // A wildcard hour loses nothing either: 02:30 fires at 03:00.
        (
            "30 * * * *",
            "America/New_York",
            "2025-03-09T00:00:00-05:00",
            &[
                "2025-03-09T00:30:00-05:00",
                "2025-03-09T01:30:00-05:00",
                "2025-03-09T03:00:00-04:00",
                "2025-03-09T03:30:00-04:00",
            ],
        ),
        // 02:00 is skipped and 03:00 is a slot of its own: one fire.
        (
            "0 * * * *",
            "America/New_York",
            "2025-03-09T00:30:00-05:00",
            &["2025-03-09T01:00:00-05:00", "2025-03-09T03:00:00-04:00", "2025-03-09T04:00:00-04:00"],
        ),
        // Starting exactly one second before the gap's end.
        ("30 2 * * *", "America/New_York", "2025-03-09T01:59:59-05:00", &["2025-03-09T03:00:00-04:00"]),
        // Starting at the gap's end: its fire is not after itself.
        ("30 2 * * *", "America/New_York", "2025-03-09T03:00:00-04:00", &["2025-03-10T02:30:00-04:00"]),
        // Intervals are real time: 06:00Z, 08:00Z, 10:00Z.
        (
            "every 2 hours",
            "America/New_York",
            "2025-03-09T00:30:00-05:00",
            &["2025-03-09T01:00:00-05:00", "2025-03-09T04:00:00-04:00", "2025-03-09T06:00:00-04:00"],
        ),
        // 06:45Z, 07:00Z, 07:15Z.
        (
            "every 15 minutes",
            "America/New_York",
            "2025-03-09T01:40:00-05:00",
            &["2025-03-09T01:45:00-05:00", "2025-03-09T03:00:00-04:00", "2025-03-09T03:15:00-04:00"],
        ),
        // A Monday schedule keeps 09:00 local across the change.
        (
            "mondays at 09:00",
            "America/New_York",
            "2025-03-01T00:00:00-05:00",
            &["2025-03-03T09:00:00-05:00", "2025-03-10T09:00:00-04:00"],
        ),
        ("at 2025-03-09T02:30", "America/New_York", "2025-01-01T00:00:00Z", &["2025-03-09T03:00:00-04:00"]),
    ]);
}

/// America/New_York, 2025-11-02: at 02:00 EDT (06:00Z) clocks go back to
/// 01:00 EST, so 01:00–01:59 happens twice: -04:00, then -05:00.
#[test]
fn new_york_fall_back() {
    check_table(&[
        (
            "30 1 * * *",
            "America/New_York",
            "2025-11-01T12:00:00-04:00",
            &["2025-11-02T01:30:00-04:00", "2025-11-03T01:30:00-05:00"],
        ),
        // A fixed hour with a minute step still fires only in the first pass.
        (
            "*/30 1 * * *",
            "America/New_York",
            "2025-11-02T00:00:00-04:00",
            &["2025-11-02T01:00:00-04:00", "2025-11-02T01:30:00-04:00", "2025-11-03T01:00:00-05:00"],
        ),
        // A wildcard hour fires through both passes.
        (
            "*/30 * * * *",
            "America/New_York",
            "2025-11-02T00:40:00-04:00",
            &[
                "2025-11-02T01:00:00-04:00",
                "2025-11-02T01:30:00-04:00",
                "2025-11-02T01:00:00-05:00",
                "2025-11-02T01:30:00-05:00",
                "2025-11-02T02:00:00-05:00",
            ],
        ),
        // So does a stepped hour (1 and 3).
        (
            "30 1-3/2 * * *",
            "America/New_York",
            "2025-11-02T00:00:00-04:00",
            &["2025-11-02T01:30:00-04:00", "2025-11-02T01:30:00-05:00", "2025-11-02T03:30:00-05:00"],
        ),
        (
            "0 * * * *",
            "America/New_York",
            "2025-11-02T00:30:00-04:00",
            &["2025-11-02T01:00:00-04:00", "2025-11-02T01:00:00-05:00", "2025-11-02T02:00:00-05:00"],
        ),
        // Starting in the first pass at 01:45 EDT (05:45Z): the second pass
        // (from 06:00Z) comes before 02:00 EST (07:00Z).
        (
            "*/20 * * * *",
            "America/New_York",
            "2025-11-02T01:45:00-04:00",
            &[
                "2025-11-02T01:00:00-05:00",
                "2025-11-02T01:20:00-05:00",
                "2025-11-02T01:40:00-05:00",
                "2025-11-02T02:00:00-05:00",
            ],
        ),
        // Starting in the second pass.
        (
            "*/20 * * * *",
            "America/New_York",
            "2025-11-02T01:25:00-05:00",
            &["2025-11-02T01:40:00-05:00", "2025-11-02T02:00:00-05:00", "2025-11-02T02:20:00-05:00"],
        ),
        // In the second pass, a fixed time already fired in the first.
        ("10 1 * * *", "America/New_York", "2025-11-02T01:05:00-05:00", &["2025-11-03T01:10:00-05:00"]),
        // Exactly at the change (06:00Z): the first pass is over.
        (
            "*/30 * * * *",
            "America/New_York",
            "2025-11-02T01:59:59-04:00",
            &["2025-11-02T01:00:00-05:00", "2025-11-02T01:30:00-05:00"],
        ),
        ("at 2025-11-02T01:30", "America/New_York", "2025-01-01T00:00:00Z", &["2025-11-02T01:30:00-04:00"]),
    ]);
}

/// Europe/London, 2025: 01:00 GMT → 02:00 BST on 30 March (01:00Z); 02:00
/// BST → 01:00 GMT on 26 October (01:00Z).
#[test]
fn london_transitions() {
    check_table(&[
        (
            "30 1 * * *",
            "Europe/London",
            "2025-03-29T12:00:00+00:00",
            &["2025-03-30T02:00:00+01:00", "2025-03-31T01:30:00+01:00"],
        ),
        (
            "30 1 * * *",
            "Europe/London",
            "2025-10-25T12:00:00+01:00",
            &["2025-10-26T01:30:00+01:00", "2025-10-27T01:30:00+00:00"],
        ),
        (
            "45 * * * *",
            "Europe/London",
            "2025-10-26T00:50:00+01:00",
            &["2025-10-26T01:45:00+01:00", "2025-10-26T01:45:00+00:00", "2025-10-26T02:45:00+00:00"],
        ),
        (
            "weekdays at 08:00",
            "Europe/London",
            "2025-03-28T09:00:00+00:00",
            &["2025-03-31T08:00:00+01:00", "2025-04-01T08:00:00+01:00"],
        ),
    ]);
}

/// Australia/Lord_Howe shifts by 30 minutes: on 2025-10-05 02:00 (+10:30,
/// 15:30Z the day before) becomes 02:30 (+11:00); on 2025-04-06 02:00
/// (+11:00, 15:00Z the day before) becomes 01:30 (+10:30), so 01:30–01:59
/// happens twice.
#[test]
fn lord_howe_half_hour_shifts() {
    check_table(&[
        (
            "15 2 * * *",
            "Australia/Lord_Howe",
            "2025-10-04T12:00:00+10:30",
            &["2025-10-05T02:30:00+11:00", "2025-10-06T02:15:00+11:00"],
        ),
        (
            "0,45 2 * * *",
            "Australia/Lord_Howe",
            "2025-10-05T00:00:00+10:30",
            &["2025-10-05T02:30:00+11:00", "2025-10-05T02:45:00+11:00", "2025-10-06T02:00:00+11:00"],
        ),
        (
            "45 1 * * *",
            "Australia/Lord_Howe",
            "2025-04-05T12:00:00+11:00",
            &["2025-04-06T01:45:00+11:00", "2025-04-07T01:45:00+10:30"],
        ),
        // 14:30Z, 14:45Z, 15:00Z, 15:15Z, 15:30Z: every 15 minutes of real time.
        (
            "*/15 * * * *",
            "Australia/Lord_Howe",
            "2025-04-06T01:20:00+11:00",
            &[
                "2025-04-06T01:30:00+11:00",
                "2025-04-06T01:45:00+11:00",
                "2025-04-06T01:30:00+10:30",
                "2025-04-06T01:45:00+10:30",
                "2025-04-06T02:00:00+10:30",
            ],
        ),
    ]);
}

/// America/Santiago changes at midnight: on 2025-09-07 00:00 (-04:00) becomes
/// 01:00 (-03:00), so that day has no midnight; on 2025-04-06 00:00 (-03:00,
/// 03:00Z) becomes 23:00 on the 5th (-04:00), so 23:00–23:59 on the 5th
/// happens twice and the 6th's midnight is -04:00.
#[test]
fn santiago_midnight_transitions() {
    check_table(&[
        (
            "@daily",
            "America/Santiago",
            "2025-09-06T12:00:00-04:00",
            &["2025-09-07T01:00:00-03:00", "2025-09-08T00:00:00-03:00"],
        ),
        ("30 0 * * *", "America/Santiago", "2025-09-06T12:00:00-04:00", &["2025-09-07T01:00:00-03:00"]),
        (
            "30 23 * * *",
            "America/Santiago",
            "2025-04-05T12:00:00-03:00",
            &["2025-04-05T23:30:00-03:00", "2025-04-06T23:30:00-04:00"],
        ),
        (
            "@daily",
            "America/Santiago",
            "2025-04-05T12:00:00-03:00",
            &["2025-04-06T00:00:00-04:00", "2025-04-07T00:00:00-04:00"],
        ),
        (
            "0 * * * *",
            "America/Santiago",
            "2025-04-05T22:30:00-03:00",
            &["2025-04-05T23:00:00-03:00", "2025-04-05T23:00:00-04:00", "2025-04-06T00:00:00-04:00"],
        ),
    ]);
}

/// Pacific/Apia skipped 30 December 2011: 23:59:59 on the 29th (-10:00) was
/// followed by 00:00 on the 31st (+14:00), at 10:00Z on the 30th.
#[test]
fn apia_skipped_day() {
    check_table(&[
        (
            "0 9 * * *",
            "Pacific/Apia",
            "2011-12-29T12:00:00-10:00",
            &["2011-12-31T00:00:00+14:00", "2011-12-31T09:00:00+14:00", "2012-01-01T09:00:00+14:00"],
        ),
        // A date that did not exist fires at the first instant after it.
        (
            "0 12 30 12 *",
            "Pacific/Apia",
            "2011-06-01T00:00:00-11:00",
            &["2011-12-31T00:00:00+14:00", "2012-12-30T12:00:00+14:00"],
        ),
        // The whole skipped day's half hours fire once.
        (
            "*/30 * * * *",
            "Pacific/Apia",
            "2011-12-29T23:00:00-10:00",
            &["2011-12-29T23:30:00-10:00", "2011-12-31T00:00:00+14:00", "2011-12-31T00:30:00+14:00"],
        ),
    ]);
}
