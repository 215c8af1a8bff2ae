//! Fire times away from DST, checked by hand: leap days, `L`, `W`, `#`,
//! Sunday as 0 and 7, the either-day rule, seconds, macros, friendly forms,
//! intervals and one-shots. (1 January 2025 is a Wednesday.)

use chrono::TimeDelta;
use steward_domain::schedule::WhenKind;

use crate::support::{check_table, instant, when, zone};

#[test]
fn leap_days() {
    check_table(&[
        ("0 0 29 2 *", "UTC", "2025-01-01T00:00:00Z", &["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"]),
        // 2100 is not a leap year: eight years between leap days.
        ("0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", &["2104-02-29T00:00:00+00:00"]),
        ("0 12 L 2 *", "UTC", "2027-01-01T00:00:00Z", &["2027-02-28T12:00:00+00:00", "2028-02-29T12:00:00+00:00"]),
        // The fifth Friday of February needs 29 February on a Friday: 2036,
        // then 28 years later.
        (
            "0 0 * 2 5#5",
            "UTC",
            "2025-01-01T00:00:00Z",
            &["2036-02-29T00:00:00+00:00", "2064-02-29T00:00:00+00:00", "2092-02-29T00:00:00+00:00"],
        ),
    ]);
}

#[test]
fn last_day_nearest_weekday_and_nth_weekday() {
    check_table(&[
        (
            "0 0 L * *",
            "UTC",
            "2025-01-15T00:00:00Z",
            &[
                "2025-01-31T00:00:00+00:00",
                "2025-02-28T00:00:00+00:00",
                "2025-03-31T00:00:00+00:00",
                "2025-04-30T00:00:00+00:00",
            ],
        ),
        // Last weekday: 31 May 2025 is a Saturday, 31 August a Sunday.
        (
            "0 0 LW * *",
            "UTC",
            "2025-05-01T00:00:00Z",
            &[
                "2025-05-30T00:00:00+00:00",
                "2025-06-30T00:00:00+00:00",
                "2025-07-31T00:00:00+00:00",
                "2025-08-29T00:00:00+00:00",
            ],
        ),
        // Nearest weekday to the 15th: Feb and Mar 15 are Saturdays, Jun 15 a Sunday.
        (
            "0 0 15W * *",
            "UTC",
            "2025-01-01T00:00:00Z",
            &[
                "2025-01-15T00:00:00+00:00",
                "2025-02-14T00:00:00+00:00",
                "2025-03-14T00:00:00+00:00",
                "2025-04-15T00:00:00+00:00",
                "2025-05-15T00:00:00+00:00",
                "2025-06-16T00:00:00+00:00",
            ],
        ),
        // 1W never leaves the month: 1 Feb and 1 Mar 2025 are Saturdays, 1 Jun a Sunday.
        (
            "0 0 1W * *",
            "UTC",
            "2025-01-31T00:00:00Z",
            &[
                "2025-02-03T00:00:00+00:00",
                "2025-03-03T00:00:00+00:00",
                "2025-04-01T00:00:00+00:00",
                "2025-05-01T00:00:00+00:00",
                "2025-06-02T00:00:00+00:00",
            ],
        ),
        (
            "0 9 * * 5#3",
            "UTC",
            "2025-01-01T00:00:00Z",
            &[
                "2025-01-17T09:00:00+00:00",
                "2025-02-21T09:00:00+00:00",
                "2025-03-21T09:00:00+00:00",
                "2025-04-18T09:00:00+00:00",
            ],
        ),
        (
            "0 9 * * 5L",
            "UTC",
            "2025-01-01T00:00:00Z",
            &[
                "2025-01-31T09:00:00+00:00",
                "2025-02-28T09:00:00+00:00",
                "2025-03-28T09:00:00+00:00",
                "2025-04-25T09:00:00+00:00",
            ],
        ),
        (
            "0 9 * * MON#L",
            "UTC",
            "2025-01-01T00:00:00Z",
            &[
                "2025-01-27T09:00:00+00:00",
                "2025-02-24T09:00:00+00:00",
                "2025-03-31T09:00:00+00:00",
                "2025-04-28T09:00:00+00:00",
            ],
        ),
    ]);
}

#[test]
fn sunday_is_zero_and_seven() {
    let sundays: &[&str] = &["2025-01-05T12:00:00+00:00", "2025-01-12T12:00:00+00:00"];
    let weekend: &[&str] = &[
        "2025-01-03T12:00:00+00:00",
        "2025-01-04T12:00:00+00:00",
        "2025-01-05T12:00:00+00:00",
        "2025-01-10T12:00:00+00:00",
    ];
    check_table(&[
        ("0 12 * * 0", "UTC", "2025-01-01T00:00:00Z", sundays),
        ("0 12 * * 7", "UTC", "2025-01-01T00:00:00Z", sundays),
        ("0 12 * * SUN", "UTC", "2025-01-01T00:00:00Z", sundays),
        ("0 12 * * FRI-SUN", "UTC", "2025-01-01T00:00:00Z", weekend),
        ("0 12 * * 5-7", "UTC", "2025-01-01T00:00:00Z", weekend),
    ]);
}

#[test]
fn either_day_matches_when_both_are_restricted() {
    check_table(&[
        (
            "0 0 13 * FRI",
            "UTC",
            "2025-01-01T00:00:00Z",
            &[
                "2025-01-03T00:00:00+00:00",
                "2025-01-10T00:00:00+00:00",
                "2025-01-13T00:00:00+00:00",
                "2025-01-17T00:00:00+00:00",
            ],
        ),
        ("0 0 13 * ?", "UTC", "2025-01-01T00:00:00Z", &["2025-01-13T00:00:00+00:00", "2025-02-13T00:00:00+00:00"]),
        ("0 0 ? * FRI", "UTC", "2025-01-01T00:00:00Z", &["2025-01-03T00:00:00+00:00", "2025-01-10T00:00:00+00:00"]),
    ]);
}

#[test]
fn seconds_macros_and_friendly_forms() {
    check_table(&[
        (
            "*/20 * * * * *",
            "UTC",
            "2025-01-01T00:00:00Z",
            &["2025-01-01T00:00:20+00:00", "2025-01-01T00:00:40+00:00", "2025-01-01T00:01:00+00:00"],
        ),
        (
            "30 0 9 * * MON-FRI",
            "UTC",
            "2025-01-01T00:00:00Z",
            &[
                "2025-01-01T09:00:30+00:00",
                "2025-01-02T09:00:30+00:00",
                "2025-01-03T09:00:30+00:00",
                "2025-01-06T09:00:30+00:00",
            ],
        ),
        ("@hourly", "UTC", "2025-01-01T00:00:00Z", &["2025-01-01T01:00:00+00:00", "2025-01-01T02:00:00+00:00"]),
        ("@weekly", "UTC", "2025-01-01T00:00:00Z", &["2025-01-05T00:00:00+00:00", "2025-01-12T00:00:00+00:00"]),
        ("@monthly", "UTC", "2025-01-01T00:00:00Z", &["2025-02-01T00:00:00+00:00", "2025-03-01T00:00:00+00:00"]),
        ("@yearly", "UTC", "2025-01-01T00:00:00Z", &["2026-01-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"]),
        (
            "weekends at 10:00",
            "UTC",
            "2025-01-01T00:00:00Z",
            &["2025-01-04T10:00:00+00:00", "2025-01-05T10:00:00+00:00", "2025-01-11T10:00:00+00:00"],
        ),
        (
            "daily at 08:00:30",
            "Asia/Kolkata",
            "2025-01-01T00:00:00Z",
            &["2025-01-01T08:00:30+05:30", "2025-01-02T08:00:30+05:30"],
        ),
    ]);
}

#[test]
fn intervals_count_from_the_epoch() {
    check_table(&[
        (
            "every 15 minutes",
            "UTC",
            "2025-01-01T00:07:30Z",
            &["2025-01-01T00:15:00+00:00", "2025-01-01T00:30:00+00:00"],
        ),
        ("every 7 minutes", "UTC", "1970-01-01T00:00:00Z", &["1970-01-01T00:07:00+00:00", "1970-01-01T00:14:00+00:00"]),
        // 2025-01-01T00:00Z is 1,735,689,600 s after the epoch; the next
        // multiple of 420 s is 1,735,689,900 s, 00:05Z.
        ("every 7 minutes", "UTC", "2025-01-01T00:00:00Z", &["2025-01-01T00:05:00+00:00", "2025-01-01T00:12:00+00:00"]),
        (
            "every 90 minutes",
            "UTC",
            "2025-01-01T00:00:00Z",
            &["2025-01-01T01:30:00+00:00", "2025-01-01T03:00:00+00:00"],
        ),
        ("every 30 seconds", "UTC", "2025-01-01T00:00:10.5Z", &["2025-01-01T00:00:30+00:00"]),
        ("every hour", "Asia/Kolkata", "2025-01-01T00:00:00Z", &["2025-01-01T06:30:00+05:30"]),
    ]);
}

#[test]
fn fire_times_are_strictly_after_the_start() {
    check_table(&[
        ("0 9 * * *", "UTC", "2025-01-01T09:00:00Z", &["2025-01-02T09:00:00+00:00"]),
        ("0 9 * * *", "UTC", "2025-01-01T08:59:59.999Z", &["2025-01-01T09:00:00+00:00"]),
        ("0 9 * * *", "UTC", "2025-01-01T09:00:00.001Z", &["2025-01-02T09:00:00+00:00"]),
        ("every 15 minutes", "UTC", "2025-01-01T00:15:00Z", &["2025-01-01T00:30:00+00:00"]),
    ]);
}

#[test]
fn one_shots_fire_once_in_their_zone_or_at_their_offset() {
    check_table(&[
        ("at 2030-01-31T09:00", "Europe/London", "2025-01-01T00:00:00Z", &["2030-01-31T09:00:00+00:00"]),
        ("at 2030-07-31T09:00", "Europe/London", "2025-01-01T00:00:00Z", &["2030-07-31T09:00:00+01:00"]),
        ("at 2030-01-31T09:00:00+01:00", "UTC", "2025-01-01T00:00:00Z", &["2030-01-31T08:00:00+00:00"]),
        ("at 2030-01-31T09:00:00Z", "Asia/Kolkata", "2025-01-01T00:00:00Z", &["2030-01-31T14:30:00+05:30"]),
    ]);
    let once = when("at 2030-01-31T09:00");
    assert_eq!(once.kind(), WhenKind::OneShot);
    let london = zone("Europe/London");
    let fires: Vec<_> = once.fire_times(london, instant("2025-01-01T00:00:00Z")).collect();
    assert_eq!(fires, [instant("2030-01-31T09:00:00Z")], "a one-shot fires exactly once");
    assert_eq!(once.next_after(london, instant("2030-01-31T09:00:00Z")), None);

    let error = once.check_fires_after(london, instant("2030-01-31T09:00:00Z")).unwrap_err();
    assert_eq!(error.field, "when");
    assert_eq!(
        error.message,
        "`at 2030-01-31T09:00` is in the past (2030-01-31T09:00:00+00:00 in Europe/London, and it is now \
         2030-01-31T09:00:00+00:00); a one-shot schedule must be in the future"
    );
    assert!(once.check_fires_after(london, instant("2030-01-31T08:59:59Z")).is_ok());
    assert!(when("0 0 29 2 *").check_fires_after(london, instant("2030-01-31T08:59:59Z")).is_ok());
}

#[test]
fn a_thousand_fire_times_of_a_dense_schedule_are_consecutive_seconds() {
    let every_second = when("* * * * * *");
    let utc = zone("UTC");
    let start = instant("2025-01-01T00:00:00Z");
    let fires: Vec<_> = every_second.fire_times(utc, start).take(1000).collect();
    for (index, fire) in fires.iter().enumerate() {
        assert_eq!(*fire, start + TimeDelta::seconds(index as i64 + 1));
    }
}
