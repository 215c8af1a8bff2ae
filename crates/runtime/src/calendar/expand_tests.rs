//! Calendars written the way Google, Outlook and Apple export them, with
//! their instances checked by hand (offsets from the tz database: New York
//! moves to EDT on 10 March 2024, London to BST on 31 March 2024).

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::expand::instances;

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn expand(ics: &str, first: &str, last: &str, zone: &str) -> Vec<Value> {
    let found = instances(ics, day(first), day(last), zone.parse().unwrap()).unwrap();
    found.iter().map(|instance| serde_json::to_value(instance).unwrap()).collect()
}

fn starts(found: &[Value]) -> Vec<(String, String)> {
    found
        .iter()
        .map(|i| (i["start"].as_str().unwrap().to_string(), i["summary"].as_str().unwrap().to_string()))
        .collect()
}

const GOOGLE: &str = "BEGIN:VCALENDAR\r
PRODID:-//Google Inc//Google Calendar 70.9054//EN\r
VERSION:2.0\r
CALSCALE:GREGORIAN\r
X-WR-TIMEZONE:Europe/London\r
BEGIN:VTIMEZONE\r
TZID:America/New_York\r
X-LIC-LOCATION:America/New_York\r
BEGIN:DAYLIGHT\r
TZOFFSETFROM:-0500\r
TZOFFSETTO:-0400\r
TZNAME:EDT\r
DTSTART:19700308T020000\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r
END:DAYLIGHT\r
BEGIN:STANDARD\r
TZOFFSETFROM:-0400\r
TZOFFSETTO:-0500\r
TZNAME:EST\r
DTSTART:19701101T020000\r
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r
END:STANDARD\r
END:VTIMEZONE\r
BEGIN:VEVENT\r
DTSTART;TZID=America/New_York:20240304T090000\r
DTEND;TZID=America/New_York:20240304T093000\r
RRULE:FREQ=WEEKLY;WKST=MO;UNTIL=20240329T130000Z;BYDAY=MO,WE,FR\r
EXDATE;TZID=America/New_York:20240306T090000\r
DTSTAMP:20240301T120000Z\r
UID:standup-ny@google.com\r
SUMMARY:Standup\\, New York\r
LOCATION:Zoom\r
STATUS:CONFIRMED\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART;TZID=America/New_York:20240308T110000\r
DTEND;TZID=America/New_York:20240308T113000\r
DTSTAMP:20240301T120000Z\r
UID:standup-ny@google.com\r
RECURRENCE-ID;TZID=America/New_York:20240308T090000\r
SUMMARY:Standup (moved)\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART;TZID=America/New_York:20240313T090000\r
DTEND;TZID=America/New_York:20240313T093000\r
DTSTAMP:20240301T120000Z\r
UID:standup-ny@google.com\r
RECURRENCE-ID;TZID=America/New_York:20240313T090000\r
STATUS:CANCELLED\r
SUMMARY:Standup\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART:20240311T170000Z\r
DTEND:20240311T180000Z\r
UID:lunch@google.com\r
SUMMARY:Lunch with Ana\r
END:VEVENT\r
END:VCALENDAR\r
";

#[test]
fn google_weekly_series_with_exdate_override_cancellation_and_dst() {
    let week = expand(GOOGLE, "2024-03-04", "2024-03-08", "Europe/London");
    assert_eq!(
        starts(&week),
        [
            ("2024-03-04T14:00:00+00:00".into(), "Standup, New York".into()),
            ("2024-03-08T16:00:00+00:00".into(), "Standup (moved)".into()),
        ],
        "Wednesday is excluded; Friday moved to 11:00 New York"
    );
    assert_eq!(week[0]["end"], "2024-03-04T14:30:00+00:00");
    assert_eq!((week[0]["location"].clone(), week[0]["all_day"].clone()), (json!("Zoom"), json!(false)));
    assert_eq!(week[0]["recurrence_id"], "2024-03-04T14:00:00+00:00");
    assert_eq!(week[1]["recurrence_id"], "2024-03-08T14:00:00+00:00", "the slot it replaced");
    // New York is on EDT from 10 March, London not yet: 09:00 New York is 13:00 in London.
    let monday = expand(GOOGLE, "2024-03-11", "2024-03-11", "Europe/London");
    assert_eq!(
        starts(&monday),
        [
            ("2024-03-11T13:00:00+00:00".into(), "Standup, New York".into()),
            ("2024-03-11T17:00:00+00:00".into(), "Lunch with Ana".into())
        ]
    );
    assert_eq!(monday[1]["recurrence_id"], Value::Null, "a single event");
    assert!(expand(GOOGLE, "2024-03-13", "2024-03-13", "Europe/London").is_empty(), "cancelled instance");
    // UNTIL is inclusive: Friday 29 March 09:00 EDT is 13:00Z exactly; nothing after.
    let end = expand(GOOGLE, "2024-03-29", "2024-04-05", "Europe/London");
    assert_eq!(starts(&end), [("2024-03-29T13:00:00+00:00".into(), "Standup, New York".into())]);
    // In New York's own zone the time stays 09:00 across the change.
    let local = expand(GOOGLE, "2024-03-08", "2024-03-11", "America/New_York");
    assert_eq!(local[0]["start"], "2024-03-08T11:00:00-05:00");
    assert_eq!(local[1]["start"], "2024-03-11T09:00:00-04:00");
}

const OUTLOOK: &str = "BEGIN:VCALENDAR\r
METHOD:PUBLISH\r
PRODID:Microsoft Exchange Server 2010\r
VERSION:2.0\r
BEGIN:VTIMEZONE\r
TZID:W. Europe Standard Time\r
BEGIN:STANDARD\r
DTSTART:16010101T030000\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r
END:STANDARD\r
BEGIN:DAYLIGHT\r
DTSTART:16010101T020000\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0200\r
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r
END:DAYLIGHT\r
END:VTIMEZONE\r
BEGIN:VEVENT\r
RRULE:FREQ=MONTHLY;COUNT=3;BYDAY=2TU\r
UID:040000008200E00074C5B7101A82E008000000001\r
SUMMARY:Steering committee\r
DTSTART;TZID=W. Europe Standard Time:20240109T100000\r
DTEND;TZID=W. Europe Standard Time:20240109T113000\r
LOCATION:Room 4\\, Berlin\r
END:VEVENT\r
BEGIN:VEVENT\r
RRULE:FREQ=MONTHLY;UNTIL=20240601T000000;BYDAY=-1FR\r
EXDATE;TZID=W. Europe Standard Time:20240426T160000,20240329T160000\r
UID:retro-outlook\r
SUMMARY:Retro\r
DTSTART;TZID=W. Europe Standard Time:20240126T160000\r
DURATION:PT45M\r
END:VEVENT\r
END:VCALENDAR\r
";

#[test]
fn outlook_windows_zone_ordinal_weekdays_count_until_and_exdate_lists() {
    let found = expand(OUTLOOK, "2024-01-01", "2024-06-30", "Europe/Berlin");
    assert_eq!(
        starts(&found),
        [
            ("2024-01-09T10:00:00+01:00".into(), "Steering committee".into()),
            ("2024-01-26T16:00:00+01:00".into(), "Retro".into()),
            ("2024-02-13T10:00:00+01:00".into(), "Steering committee".into()),
            ("2024-02-23T16:00:00+01:00".into(), "Retro".into()),
            ("2024-03-12T10:00:00+01:00".into(), "Steering committee".into()),
            ("2024-05-31T16:00:00+02:00".into(), "Retro".into()),
        ],
        "second Tuesdays, three times; last Fridays until June, less 29 March and 26 April"
    );
    assert_eq!(found[1]["end"], "2024-01-26T16:45:00+01:00");
    assert_eq!(found[0]["location"], "Room 4, Berlin");
    // Seen from New York: 10:00 Berlin is 04:00.
    let there = expand(OUTLOOK, "2024-02-13", "2024-02-13", "America/New_York");
    assert_eq!(there[0]["start"], "2024-02-13T04:00:00-05:00");
}

const APPLE: &str = "BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Apple Inc.//macOS 14.3//EN\r
CALSCALE:GREGORIAN\r
BEGIN:VEVENT\r
DTSTART;VALUE=DATE:20240311\r
DTEND;VALUE=DATE:20240313\r
SUMMARY:Offsite\r
UID:offsite@icloud.com\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART;VALUE=DATE:19900312\r
DTEND;VALUE=DATE:19900313\r
RRULE:FREQ=YEARLY\r
SUMMARY:Ana's birthday\r
UID:birthday@icloud.com\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART:20240312T080000\r
DTEND:20240312T083000\r
SUMMARY:Gym\r
UID:gym@icloud.com\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART;TZID=Europe/Paris:20240312T090000\r
DTEND;TZID=Europe/Paris:20240312T100000\r
RDATE;TZID=Europe/Paris:20240314T090000,20240315T090000\r
SUMMARY:Dentist\r
UID:dentist@icloud.com\r
END:VEVENT\r
END:VCALENDAR\r
";

#[test]
fn apple_all_day_yearly_floating_and_rdate() {
    let tuesday = expand(APPLE, "2024-03-12", "2024-03-12", "Europe/Paris");
    assert_eq!(
        starts(&tuesday),
        [
            ("2024-03-11".into(), "Offsite".into()),
            ("2024-03-12".into(), "Ana's birthday".into()),
            ("2024-03-12T08:00:00+01:00".into(), "Gym".into()),
            ("2024-03-12T09:00:00+01:00".into(), "Dentist".into()),
        ]
    );
    assert_eq!((tuesday[0]["end"].clone(), tuesday[0]["all_day"].clone()), (json!("2024-03-13"), json!(true)));
    assert_eq!(tuesday[1]["recurrence_id"], "2024-03-12");
    // A floating time is read in the user's zone, wherever that is.
    let tokyo = expand(APPLE, "2024-03-12", "2024-03-12", "Asia/Tokyo");
    assert!(starts(&tokyo).contains(&("2024-03-12T08:00:00+09:00".into(), "Gym".into())));
    // The offsite's end date is exclusive; the dentist comes back on its RDATEs.
    let later = expand(APPLE, "2024-03-13", "2024-03-15", "Europe/Paris");
    assert_eq!(
        starts(&later),
        [
            ("2024-03-14T09:00:00+01:00".into(), "Dentist".into()),
            ("2024-03-15T09:00:00+01:00".into(), "Dentist".into())
        ]
    );
}

#[test]
fn wall_clock_times_at_dst_changes_and_errors_name_the_event() {
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:early\r\nSUMMARY:Early\r\n\
DTSTART;TZID=America/New_York:20240309T023000\r\nDURATION:PT30M\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:fallback\r\nSUMMARY:Fall back\r\nDTSTART;TZID=America/New_York:20241103T013000\r\n\
DTEND;TZID=America/New_York:20241103T020000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let spring = expand(ics, "2024-03-09", "2024-03-11", "America/New_York");
    let times: Vec<&str> = spring.iter().map(|i| i["start"].as_str().unwrap()).collect();
    // 02:30 does not exist on 10 March; RFC 5545 reads it with the offset
    // before the change: 07:30Z, which is 03:30 EDT.
    assert_eq!(times, ["2024-03-09T02:30:00-05:00", "2024-03-10T03:30:00-04:00", "2024-03-11T02:30:00-04:00"]);
    let fall = expand(ics, "2024-11-03", "2024-11-03", "America/New_York");
    assert_eq!(fall[0]["start"], "2024-11-03T01:30:00-04:00", "the first pass of a repeated hour");

    let bad = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:odd\r\nDTSTART;TZID=Custom Zone:20240101T090000\r\n\
END:VEVENT\r\nEND:VCALENDAR\r\n";
    let error = instances(bad, day("2024-01-01"), day("2024-01-01"), chrono_tz::UTC).unwrap_err();
    assert_eq!(error.to_string(), "event odd: unknown time zone \"Custom Zone\"");
}
