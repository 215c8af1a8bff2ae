//! `steward calendar events` through the binary: a file in two zones, a
//! feed over HTTP answered 304 the second time (its ETag sent back), a feed
//! on loopback refused until `[calendar] allow` lists it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::support::{closed_port_url, steward};

const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n\
BEGIN:VEVENT\r\nUID:standup@example.com\r\nSUMMARY:Standup\r\nLOCATION:Zoom\r\n\
DTSTART;TZID=America/New_York:20240304T090000\r\nDTEND;TZID=America/New_York:20240304T093000\r\n\
RRULE:FREQ=DAILY;COUNT=10\r\nEXDATE;TZID=America/New_York:20240305T090000\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:offsite@example.com\r\nSUMMARY:Offsite\r\nDTSTART;VALUE=DATE:20240306\r\n\
DTEND;VALUE=DATE:20240307\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

#[test]
fn a_file_is_expanded_in_the_zone_asked_for() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("work.ics");
    std::fs::write(&file, ICS).unwrap();
    let home = folder.path().join("home");
    let path = file.to_str().unwrap();
    let home_arg = home.to_str().unwrap();
    let args = [
        "calendar",
        "events",
        path,
        "--from",
        "2024-03-04",
        "--to",
        "2024-03-06",
        "--tz",
        "Europe/Paris",
        "--home",
        home_arg,
        "--json",
    ];
    let found = steward(&closed_port_url(), &args).json();
    let rows: Vec<(String, String)> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["start"].as_str().unwrap().to_string(), i["summary"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        rows,
        [
            ("2024-03-04T15:00:00+01:00".to_string(), "Standup".to_string()),
            ("2024-03-06".to_string(), "Offsite".to_string()),
            ("2024-03-06T15:00:00+01:00".to_string(), "Standup".to_string()),
        ]
    );
    let first = &found[0];
    for key in ["uid", "summary", "start", "end", "all_day", "recurrence_id", "location"] {
        assert!(first.get(key).is_some(), "{key} in {first}");
    }
    assert_eq!((first["end"].as_str(), first["all_day"].as_bool()), (Some("2024-03-04T15:30:00+01:00"), Some(false)));
    assert_eq!(found[1]["all_day"], true);
    let table = steward(
        &closed_port_url(),
        &["calendar", "events", path, "--from", "2024-03-04", "--tz", "Asia/Tokyo", "--home", home_arg],
    );
    assert!(table.ok().contains("2024-03-04T23:00:00+09:00"), "{}", table.stdout);
    let backwards = steward(
        &closed_port_url(),
        &["calendar", "events", path, "--from", "2024-03-04", "--to", "2024-03-01", "--home", home_arg],
    );
    assert!(backwards.failed().contains("--to: 2024-03-01 is before --from 2024-03-04"), "{}", backwards.stderr);
}

/// Serves `ICS` with an ETag; answers 304 to a request that sends it back.
fn feed() -> (String, Arc<Mutex<Vec<u16>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/team.ics", listener.local_addr().unwrap());
    let answers = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&answers);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut revalidated = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                revalidated |= line.to_ascii_lowercase().starts_with("if-none-match: \"v1\"");
            }
            let mut stream = stream;
            let response = if revalidated {
                seen.lock().unwrap().push(304);
                "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n".to_string()
            } else {
                seen.lock().unwrap().push(200);
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nETag: \"v1\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{ICS}",
                    ICS.len()
                )
            };
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (url, answers)
}

#[test]
fn a_feed_is_fetched_on_the_policy_and_revalidated_with_its_etag() {
    let folder = tempfile::tempdir().unwrap();
    let home = folder.path();
    let (url, answers) = feed();
    let args = [
        "calendar",
        "events",
        url.as_str(),
        "--from",
        "2024-03-04",
        "--tz",
        "UTC",
        "--home",
        home.to_str().unwrap(),
        "--json",
    ];
    let refused = steward(&closed_port_url(), &args);
    refused.failed();
    assert!(refused.stdout.contains("calendar.allow"), "the --json error names the setting: {}", refused.stdout);
    assert!(answers.lock().unwrap().is_empty(), "nothing was fetched");

    std::fs::write(home.join("config.toml"), "[calendar]\nallow = [\"127.0.0.1\"]\n").unwrap();
    let first = steward(&closed_port_url(), &args).json();
    let second = steward(&closed_port_url(), &args).json();
    assert_eq!(first, second);
    assert_eq!(first[0]["start"], "2024-03-04T14:00:00+00:00");
    assert_eq!(*answers.lock().unwrap(), [200, 304], "the second fetch sent the ETag back");
}
