//! `steward schedule preview` run as the real binary: fire times as lines and
//! as JSON, and the errors for a bad expression, an unknown zone, a one-shot
//! in the past and a bad `--from`. No server is started.

use std::process::{Command, Output, Stdio};

use chrono::{DateTime, TimeDelta, Utc};
use steward_domain::{Clock, SystemClock};

use crate::support::STEWARD;

fn preview(arguments: &[&str]) -> Output {
    Command::new(STEWARD)
        .env_clear()
        .args(["schedule", "preview"])
        .args(arguments)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn fire_times_print_one_per_line_with_the_zones_offset() {
    // New York springs forward on 2025-03-09: 02:30 does not exist that day.
    let output = preview(&["30 2 * * *", "--tz", "America/New_York", "--from", "2025-03-08T12:00:00-05:00", "-n", "3"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout(&output), "2025-03-09T03:00:00-04:00\n2025-03-10T02:30:00-04:00\n2025-03-11T02:30:00-04:00\n");
    assert_eq!(stderr(&output), "");

    // --from may be a wall-clock time in --tz; the count defaults to 10.
    let output = preview(&["daily at 08:00", "--tz", "Europe/London", "--from", "2025-10-24T09:00"]);
    let lines: Vec<String> = stdout(&output).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 10, "{output:?}");
    assert_eq!(lines[..3], ["2025-10-25T08:00:00+01:00", "2025-10-26T08:00:00+00:00", "2025-10-27T08:00:00+00:00"]);
}

#[test]
fn json_output_names_the_canonical_when_the_zone_and_the_times() {
    let output = preview(&[
        "*/30 * * * *",
        "--tz",
        "america/new_york",
        "--from",
        "2025-11-02T00:40:00-04:00",
        "-n",
        "5",
        "--json",
    ]);
    assert!(output.status.success(), "{output:?}");
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "when": "*/30 * * * *",
            "time_zone": "America/New_York",
            "after": "2025-11-02T00:40:00-04:00",
            "fire_times": [
                "2025-11-02T01:00:00-04:00",
                "2025-11-02T01:30:00-04:00",
                "2025-11-02T01:00:00-05:00",
                "2025-11-02T01:30:00-05:00",
                "2025-11-02T02:00:00-05:00",
            ],
        })
    );
}

#[test]
fn without_from_the_times_follow_now() {
    // The binary reads the system clock, so the test does too.
    let before = SystemClock.now();
    let output = preview(&["every minute", "-n", "2"]);
    let after = SystemClock.now();
    assert!(output.status.success(), "{output:?}");
    let times: Vec<DateTime<Utc>> =
        stdout(&output).lines().map(|line| DateTime::parse_from_rfc3339(line).unwrap().with_timezone(&Utc)).collect();
    assert_eq!(times.len(), 2);
    assert_eq!(times[1] - times[0], TimeDelta::minutes(1));
    assert!(times[0] > before && times[0] <= after + TimeDelta::minutes(1), "{times:?} for a run in {before}..{after}");
}

#[test]
fn a_bad_expression_fails_naming_the_field_and_what_it_allows() {
    let output = preview(&["0 9 * * 8"]);
    assert!(!output.status.success());
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        "error: when: day-of-week field `8`: 8 is out of range; allowed 0–7 (0 and 7 are Sunday) or SUN–SAT, with \
         `*`, `,`, `-` and `/`, or `?`, `L` as in `5L` (the last Friday), `#` as in `1#2` (the second Monday)\n"
    );

    let output = preview(&["0 0 30 2 *"]);
    assert!(!output.status.success());
    assert!(stderr(&output).starts_with("error: when: `0 0 30 2 *` never fires"), "{output:?}");
}

#[test]
fn an_unknown_zone_fails_and_suggests_close_names() {
    let output = preview(&["@daily", "--tz", "Europe/Londn"]);
    assert!(!output.status.success());
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output).starts_with("error: --tz: unknown time zone `Europe/Londn`; did you mean Europe/London"),
        "{output:?}"
    );
}

#[test]
fn a_one_shot_in_the_past_and_a_bad_from_fail() {
    let output = preview(&["at 2025-01-01T09:00", "--tz", "Europe/Paris", "--from", "2025-06-01T00:00:00Z"]);
    assert!(!output.status.success());
    assert_eq!(
        stderr(&output),
        "error: when: `at 2025-01-01T09:00` is in the past (2025-01-01T09:00:00+01:00 in Europe/Paris, and it is now \
         2025-06-01T02:00:00+02:00); a one-shot schedule must be in the future\n"
    );

    let output = preview(&["at 2025-01-01T09:00", "--tz", "Europe/Paris", "--from", "2024-12-31T00:00:00Z"]);
    assert_eq!(stdout(&output), "2025-01-01T09:00:00+01:00\n", "{output:?}");

    let output = preview(&["@daily", "--from", "yesterday"]);
    assert!(!output.status.success());
    assert!(stderr(&output).starts_with("error: --from: `yesterday` is not a time"), "{output:?}");

    let output = preview(&["@daily", "--tz", "America/New_York", "--from", "2025-03-09T02:30"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("does not exist in America/New_York"), "{output:?}");
}
