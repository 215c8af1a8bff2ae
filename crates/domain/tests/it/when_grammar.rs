//! The *when* grammar: what parses, its canonical text, how it serialises,
//! and the errors for what does not parse.

use steward_domain::schedule::{When, WhenKind};

use crate::support::when;

#[test]
fn inputs_become_canonical_text_that_parses_back_to_itself() {
    let cases = [
        ("  0   9 * *   mon-fri ", "0 9 * * MON-FRI", WhenKind::Calendar),
        ("0 0 l * ?", "0 0 L * ?", WhenKind::Calendar),
        ("30 0 9 * * 5#2", "30 0 9 * * 5#2", WhenKind::Calendar),
        ("@ANNUALLY", "@yearly", WhenKind::Calendar),
        ("@midnight", "@daily", WhenKind::Calendar),
        ("@hourly", "@hourly", WhenKind::Calendar),
        ("Daily At 8:00", "daily at 08:00", WhenKind::Calendar),
        ("every day at 8:00", "daily at 08:00", WhenKind::Calendar),
        ("weekdays at 17:30:15", "weekdays at 17:30:15", WhenKind::Calendar),
        ("every weekday at 08:00:00", "weekdays at 08:00", WhenKind::Calendar),
        ("MONDAYS AT 09:00", "mondays at 09:00", WhenKind::Calendar),
        ("every sunday at 23:59", "sundays at 23:59", WhenKind::Calendar),
        ("weekends at 10:00", "weekends at 10:00", WhenKind::Calendar),
        ("EVERY 15 MINUTES", "every 15 minutes", WhenKind::Interval),
        ("every 1 hours", "every hour", WhenKind::Interval),
        ("every 2 hour", "every 2 hours", WhenKind::Interval),
        ("every minute", "every minute", WhenKind::Interval),
        ("every 30 seconds", "every 30 seconds", WhenKind::Interval),
        ("at 2030-01-31t09:00", "at 2030-01-31T09:00", WhenKind::OneShot),
        ("at 2030-01-31T09:00:30", "at 2030-01-31T09:00:30", WhenKind::OneShot),
        ("at 2030-01-31 09:00", "at 2030-01-31T09:00", WhenKind::OneShot),
        ("at 2030-01-31T09:00:00+01:00", "at 2030-01-31T09:00:00+01:00", WhenKind::OneShot),
        ("at 2030-01-31T09:00+05:30", "at 2030-01-31T09:00:00+05:30", WhenKind::OneShot),
        ("at 2030-01-31 09:00:00z", "at 2030-01-31T09:00:00Z", WhenKind::OneShot),
        ("at 2030-01-31T09:00:00+00:00", "at 2030-01-31T09:00:00Z", WhenKind::OneShot),
    ];
    for (input, canonical, kind) in cases {
        let parsed = when(input);
        assert_eq!(parsed.as_str(), canonical, "{input:?}");
        assert_eq!(parsed.to_string(), canonical);
        assert_eq!(parsed.kind(), kind, "{input:?}");
        let again = when(canonical);
        assert_eq!(again.as_str(), canonical, "{canonical:?} must be its own canonical text");
        assert_eq!(again, parsed);
    }
}

#[test]
fn a_when_serialises_as_its_canonical_text() {
    let parsed = when(" weekdays  AT 8:00 ");
    assert_eq!(serde_json::to_string(&parsed).unwrap(), "\"weekdays at 08:00\"");
    let back: When = serde_json::from_str("\"weekdays at 08:00\"").unwrap();
    assert_eq!(back, parsed);
    let error = serde_json::from_str::<When>("\"0 0 * * 8\"").unwrap_err();
    assert!(error.to_string().contains("day-of-week field `8`"), "{error}");
}

/// The message of the error for `input`, which must name the field `when`.
fn error(input: &str) -> String {
    let error = When::parse(input).expect_err(input);
    assert_eq!(error.field, "when", "{input:?}");
    error.message
}

#[test]
fn cron_errors_point_at_the_bad_field_and_say_what_it_allows() {
    assert_eq!(
        error("0 0 * * 8"),
        "day-of-week field `8`: 8 is out of range; allowed 0–7 (0 and 7 are Sunday) or SUN–SAT, with `*`, `,`, `-` \
         and `/`, or `?`, `L` as in `5L` (the last Friday), `#` as in `1#2` (the second Monday)"
    );
    assert_eq!(error("61 * * * *"), "minute field `61`: 61 is out of range; allowed 0–59, with `*`, `,`, `-` and `/`");
    assert!(error("0 24 * * *").starts_with("hour field `24`: 24 is out of range; allowed 0–23"));
    assert!(error("0 0 32 * *").starts_with("day-of-month field `32`: 32 is out of range; allowed 1–31"));
    assert!(error("0 0 * 13 *").starts_with("month field `13`: 13 is out of range; allowed 1–12 or JAN–DEC"));
    assert!(error("0 0 * FOO *").starts_with("month field `FOO`: `FOO` is not a number or a month name"));
    assert!(error("60 0 0 * * *").starts_with("second field `60`: 60 is out of range; allowed 0–59"));
    assert!(error("0 0 * * SAT-MON").contains("the range `SAT-MON` runs backwards (ranges do not wrap around)"));
    assert!(error("*/0 * * * *").starts_with("minute field `*/0`: the step `/0` must be a whole number"));
    assert!(error("0 0 * * L").contains("`L` needs a weekday before it, as in `5L`"));
    assert!(error("0 ? * * *").starts_with("hour field `?`: `?` is only allowed in the day-of-month"));
    assert!(error("0 0 1,,2 * *").contains("a list has an empty item"));
}

#[test]
fn wrong_field_counts_are_refused() {
    assert_eq!(
        error("* * * *"),
        "a cron expression has 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; this \
         one has 4"
    );
    assert!(error("0 0 0 1 1 * 2030").ends_with("this one has 7"));
}

#[test]
fn expressions_that_never_fire_are_refused() {
    for never in ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 31 2 ?", "0 0 30W 2 *"] {
        assert!(error(never).contains("never fires"), "{never}: {}", error(never));
    }
    assert_eq!(
        error("0 0 30 2 *"),
        "`0 0 30 2 *` never fires: no date matches its day-of-month, month and day-of-week fields (checked over 400 \
         years, a whole cycle of the Gregorian calendar)"
    );
    // Rare is not never: the fifth Friday of February (2036, 2064, …).
    assert!(When::parse("0 0 * 2 5#5").is_ok());
    // Either day matches: 30 February never comes, but Mondays in February do.
    assert!(When::parse("0 0 30 2 MON").is_ok());
}

#[test]
fn friendly_form_errors_say_what_is_understood() {
    assert!(error("").starts_with("must not be empty; use a cron expression"));
    assert!(error("fortnightly").starts_with("not a form of *when* this understands; use a cron expression"));
    assert!(error("every 0 minutes").contains("the count must be a whole number of at least 1"));
    assert!(error("every 5 days").contains("the unit must be seconds, minutes or hours"));
    assert!(error("every 200 hours").contains("longer than a week"));
    assert!(error("daily at 25:00").contains("`25:00` is not a time of day"));
    assert!(error("daily at noon").contains("`noon` is not a time of day"));
    assert!(error("fridayz at 09:00").contains("the days must be daily, weekdays, weekends, or a weekday"));
    assert!(error("@reboot").contains("`@reboot` is not a known macro"));
    assert!(error("at 2030-02-30T09:00").contains("write the date and time as 2030-01-31T09:00"));
    assert!(error("at tomorrow").contains("write the date and time as"));
}

/// Words from the grammar, shuffled into phrases that are mostly wrong.
fn grammar_soup() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let word = proptest::sample::select(
        &[
            "*",
            "?",
            "0",
            "7",
            "15",
            "59",
            "*/5",
            "1-5",
            "L",
            "LW",
            "15W",
            "5L",
            "1#2",
            "MON",
            "FRI-SUN",
            "JAN",
            "@daily",
            "daily",
            "at",
            "08:00",
            "every",
            "15",
            "minutes",
            "hours",
            "mondays",
            "2030-01-31T09:00",
            "2030-01-31T09:00:00+01:00",
            ",",
            "/",
            "-",
            "#",
        ][..],
    );
    proptest::collection::vec(word, 0..8).prop_map(|words| words.join(" "))
}

proptest::proptest! {
    #[test]
    fn any_input_parses_or_fails_cleanly_and_what_parses_round_trips(
        text in proptest::prop_oneof![grammar_soup(), "[0-9A-Za-z*?,/#@:+ -]{0,40}"],
        after_seconds in -2_000_000_000i64..5_000_000_000,
    ) {
        if let Ok(parsed) = When::parse(&text) {
            let again = When::parse(parsed.as_str()).unwrap();
            proptest::prop_assert_eq!(again.as_str(), parsed.as_str());
            let zone = crate::support::zone("America/New_York");
            let after = chrono::DateTime::from_timestamp(after_seconds, 0).unwrap();
            if let Some(next) = parsed.next_after(zone, after) {
                proptest::prop_assert!(next > after);
            }
        }
    }
}
